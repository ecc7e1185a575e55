package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) killCommand() *cli.Command {
	return &cli.Command{
		Name:      "kill",
		Usage:     "force stop service containers",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "SIGKILL", Usage: "signal to send to the container"},
			&cli.BoolFlag{Name: "remove-orphans", EnvVars: []string{"COMPOSE_REMOVE_ORPHANS"}, Usage: "also kill containers of services not defined in the compose file"},
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
			err = r.Kill(c.Context, sc, runner.KillOptions{Signal: c.String("signal"), RemoveOrphans: c.Bool("remove-orphans")})
			if errors.Is(err, runner.ErrNoContainer) {
				fmt.Fprintln(e.stderr, err)
				return nil
			}
			return err
		},
	}
}
