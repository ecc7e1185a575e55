package main

import (
	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) stopCommand() *cli.Command {
	return &cli.Command{
		Name:      "stop",
		Usage:     "stop running containers without removing them",
		ArgsUsage: "[SERVICE...]",
		Flags:     []cli.Flag{timeoutFlag()},
		Action: func(c *cli.Context) error {
			sc, err := e.scope(c, c.Args().Slice())
			if err != nil {
				return err
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			return r.Stop(c.Context, sc, runner.StopOptions{Timeout: timeoutOf(c)})
		},
	}
}
