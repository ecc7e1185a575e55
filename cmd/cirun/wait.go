package main

import (
	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) waitCommand() *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "block until the services' containers stop; exits with the container's exit code",
		ArgsUsage: "SERVICE [SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "down-project", Usage: "drop the project when the containers have stopped"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return cli.Exit("wait: at least one SERVICE is required", 1)
			}
			sc, err := e.scope(c, c.Args().Slice())
			if err != nil {
				return err
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			code, err := r.Wait(c.Context, sc.Project, runner.WaitOptions{Services: sc.Services, DownProject: c.Bool("down-project")})
			if err != nil {
				return err
			}
			if code != 0 {
				return &runner.ExitError{Code: code}
			}
			return nil
		},
	}
}
