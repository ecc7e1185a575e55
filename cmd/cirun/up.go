package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) upCommand() *cli.Command {
	return &cli.Command{
		Name:      "up",
		Usage:     "create and start containers",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run containers in the background"},
			&cli.BoolFlag{Name: "wait", Usage: "wait for services to be running|healthy (implies --detach)"},
			&cli.IntFlag{Name: "wait-timeout", Usage: "maximum seconds to wait with --wait (0: no limit)"},
			&cli.BoolFlag{Name: "build", Usage: "build images before starting containers"},
			&cli.BoolFlag{Name: "no-build", Usage: "do not build an image, even if it is missing"},
			&cli.BoolFlag{Name: "force-recreate", Usage: "recreate containers even if their configuration and image haven't changed"},
			&cli.BoolFlag{Name: "no-recreate", Usage: "if containers already exist, don't recreate them"},
			&cli.BoolFlag{Name: "no-deps", Usage: "don't start linked services"},
			&cli.BoolFlag{Name: "remove-orphans", EnvVars: []string{"COMPOSE_REMOVE_ORPHANS"}, Usage: "remove containers for services not defined in the compose file"},
			&cli.BoolFlag{Name: "no-start", Usage: "don't start the services after creating them"},
			&cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, Value: -1, Usage: "shutdown timeout in seconds"},
		},
		Action: func(c *cli.Context) error {
			if c.Bool("build") && c.Bool("no-build") {
				return cli.Exit("--build and --no-build are incompatible", 1)
			}
			if c.Bool("force-recreate") && c.Bool("no-recreate") {
				return cli.Exit("--force-recreate and --no-recreate are incompatible", 1)
			}
			services := c.Args().Slice()
			p, err := e.project(c, services...)
			if err != nil {
				return err
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			o := runner.UpOptions{
				Services:      services,
				Detach:        c.Bool("detach") || c.Bool("wait"),
				Wait:          c.Bool("wait"),
				WaitTimeout:   time.Duration(c.Int("wait-timeout")) * time.Second,
				Build:         c.Bool("build"),
				NoBuild:       c.Bool("no-build"),
				ForceRecreate: c.Bool("force-recreate"),
				NoRecreate:    c.Bool("no-recreate"),
				NoDeps:        c.Bool("no-deps"),
				RemoveOrphans: c.Bool("remove-orphans"),
				NoStart:       c.Bool("no-start"),
			}
			if t := c.Int("timeout"); t >= 0 {
				d := time.Duration(t) * time.Second
				o.StopTimeout = &d
			}
			return r.Up(c.Context, p, o)
		},
	}
}
