package main

import (
	"github.com/urfave/cli/v2"
)

func (e *env) pauseCommand() *cli.Command {
	return &cli.Command{
		Name:      "pause",
		Usage:     "pause services",
		ArgsUsage: "[SERVICE...]",
		Action: func(c *cli.Context) error {
			sc, err := e.scope(c, c.Args().Slice())
			if err != nil {
				return err
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			return r.Pause(c.Context, sc)
		},
	}
}
