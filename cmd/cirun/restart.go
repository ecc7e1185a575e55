package main

import (
	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) restartCommand() *cli.Command {
	return &cli.Command{
		Name:      "restart",
		Usage:     "restart service containers",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			timeoutFlag(),
			&cli.BoolFlag{Name: "no-deps", Usage: "don't restart dependent services"},
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
			return r.Restart(c.Context, sc, runner.RestartOptions{Timeout: timeoutOf(c), NoDeps: c.Bool("no-deps")})
		},
	}
}
