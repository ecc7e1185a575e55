package main

import (
	"strings"

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
			&cli.StringSliceFlag{Name: "build-arg", Usage: "set a build-time variable, KEY=VALUE or KEY (from the environment) (repeatable)"},
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
			args := map[string]*string{}
			for _, kv := range c.StringSlice("build-arg") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					args[k] = &v
				} else {
					args[kv] = nil
				}
			}
			return r.Build(c.Context, p, runner.BuildOptions{Services: services, NoCache: c.Bool("no-cache"), Pull: c.Bool("pull"), WithDependencies: c.Bool("with-dependencies"), Args: args})
		},
	}
}
