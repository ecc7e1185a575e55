package main

import (
	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) buildCommand() *cli.Command {
	return &cli.Command{
		Name:      "build",
		Usage:     "build the services' images with the Buildah library",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-cache", Usage: "do not use the layer cache"},
			&cli.BoolFlag{Name: "pull", Usage: "always pull newer versions of base images"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
			&cli.BoolFlag{Name: "with-dependencies", Usage: "also build the services' dependencies (depends_on, transitively)"},
		},
		Action: func(c *cli.Context) error {
			services := c.Args().Slice()
			p, err := e.project(c, services...)
			if err != nil {
				return err
			}
			if c.Bool("quiet") {
				_ = c.Set("progress", "quiet")
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			return r.Build(c.Context, p, runner.BuildOptions{Services: services, NoCache: c.Bool("no-cache"), Pull: c.Bool("pull"), WithDependencies: c.Bool("with-dependencies")})
		},
	}
}
