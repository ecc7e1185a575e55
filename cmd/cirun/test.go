package main

import (
	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/compose"
	"github.com/cirun-dev/cirun/runner"
)

func (e *env) testCommand() *cli.Command {
	return &cli.Command{
		Name:      "test",
		Usage:     "bring the test services' dependencies up, run the tests (profile \"test\" by default), exit with their verdict, tear down",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "keep", Usage: "leave the project up afterwards"},
			&cli.BoolFlag{Name: "build", Usage: "build images before starting"},
			&cli.BoolFlag{Name: "no-build", Usage: "don't build images"},
			&cli.IntFlag{Name: "log-lines", Value: 30, Usage: "log lines of every service printed when a test fails"},
		},
		Action: func(c *cli.Context) error {
			services := c.Args().Slice()
			if len(services) == 0 {
				e.extraProfiles = []string{compose.TestProfile}
			}
			p, err := e.project(c, services...)
			if err != nil {
				return err
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			return r.Test(c.Context, p, runner.TestOptions{
				Services: services,
				Keep:     c.Bool("keep"),
				Build:    c.Bool("build"),
				NoBuild:  c.Bool("no-build"),
				LogLines: c.Int("log-lines"),
			})
		},
	}
}
