package main

import (
	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) rmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Usage:     "remove stopped service containers",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "don't ask to confirm removal"},
			&cli.BoolFlag{Name: "stop", Aliases: []string{"s"}, Usage: "stop the containers, if required, before removing"},
			&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove any anonymous volumes attached to containers"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Hidden: true, Usage: "deprecated, no effect"},
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
			return r.Remove(c.Context, sc, runner.RemoveOptions{
				Force:   c.Bool("force"),
				Stop:    c.Bool("stop"),
				Volumes: c.Bool("volumes"),
				Confirm: confirm(e.stdin, e.stdout),
			})
		},
	}
}
