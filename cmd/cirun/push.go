package main

import (
	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) pushCommand() *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "push the images of services that have a build section and an image name",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "ignore-push-failures", Usage: "push what it can and ignore images with push failures"},
			&cli.BoolFlag{Name: "include-deps", Usage: "also push images of services declared as dependencies"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "push without printing progress information"},
			insecureRegistryGlobalFlag(),
		},
		Action: func(c *cli.Context) error {
			services := c.Args().Slice()
			p, err := e.project(c, services...)
			if err != nil {
				return err
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			return r.Push(c.Context, p, runner.PushOptions{
				Services:         services,
				IncludeDeps:      c.Bool("include-deps"),
				IgnoreFailures:   c.Bool("ignore-push-failures"),
				Quiet:            c.Bool("quiet"),
				InsecureRegistry: insecureRegistry(c),
			})
		},
	}
}
