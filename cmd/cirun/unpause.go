package main

import (
	"github.com/urfave/cli/v2"
)

func (e *env) unpauseCommand() *cli.Command {
	return &cli.Command{
		Name:      "unpause",
		Usage:     "unpause services",
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
			return r.Unpause(c.Context, sc)
		},
	}
}
