package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) startCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "start existing containers (and those of their dependencies)",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "wait", Usage: "wait for services to be running|healthy"},
			&cli.IntFlag{Name: "wait-timeout", Usage: "maximum seconds to wait with --wait (0: no limit)"},
		},
		Action: func(c *cli.Context) error {
			sc, err := e.scope(c, c.Args().Slice())
			if err != nil {
				return err
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			return r.Start(c.Context, sc, runner.StartOptions{
				Wait:        c.Bool("wait"),
				WaitTimeout: time.Duration(c.Int("wait-timeout")) * time.Second,
			})
		},
	}
}
