package main

import (
	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) createCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create containers for services without starting them",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "build", Usage: "build images before creating containers"},
			&cli.BoolFlag{Name: "no-build", Usage: "don't build an image, even if it is missing"},
			&cli.BoolFlag{Name: "force-recreate", Usage: "recreate containers even if their configuration and image haven't changed"},
			&cli.BoolFlag{Name: "no-recreate", Usage: "if containers already exist, don't recreate them"},
			&cli.BoolFlag{Name: "remove-orphans", EnvVars: []string{"COMPOSE_REMOVE_ORPHANS"}, Usage: "remove containers for services not defined in the compose file"},
			&cli.StringFlag{Name: "pull", Value: "policy", Usage: `pull images before creating ("always"|"missing"|"never"|"build"; default: each service's pull_policy)`},
			&cli.BoolFlag{Name: "quiet-pull", Usage: "pull without printing progress information (cirun never prints pull progress)"},
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
				Detach:        true,
				NoStart:       true,
				Build:         c.Bool("build"),
				NoBuild:       c.Bool("no-build"),
				ForceRecreate: c.Bool("force-recreate"),
				NoRecreate:    c.Bool("no-recreate"),
				RemoveOrphans: c.Bool("remove-orphans"),
				Pull:          c.String("pull"),
			}
			if err := orphanOptions(c, p, &o); err != nil {
				return cli.Exit(err.Error(), 1)
			}
			return r.Up(c.Context, p, o)
		},
	}
}
