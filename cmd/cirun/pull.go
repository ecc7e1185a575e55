package main

import (
	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) pullCommand() *cli.Command {
	return &cli.Command{
		Name:      "pull",
		Usage:     "pull service images",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "ignore-pull-failures", Usage: "pull what it can and ignore images with pull failures"},
			&cli.BoolFlag{Name: "include-deps", Usage: "also pull services declared as dependencies"},
			&cli.BoolFlag{Name: "ignore-buildable", Usage: "ignore images that can be built"},
			&cli.StringFlag{Name: "policy", Usage: "apply pull policy (missing|always)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "pull without printing progress information"},
			&cli.BoolFlag{Name: "parallel", Hidden: true, Usage: "deprecated, pulls are always parallel"},
			&cli.BoolFlag{Name: "no-parallel", Hidden: true, Usage: "deprecated, no effect"},
		},
		Action: func(c *cli.Context) error {
			switch c.String("policy") {
			case "", "missing", "always":
			default:
				return cli.Exit("invalid --policy option "+c.String("policy"), 1)
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
			return r.Pull(c.Context, p, runner.PullOptions{
				Services:        services,
				IncludeDeps:     c.Bool("include-deps"),
				IgnoreFailures:  c.Bool("ignore-pull-failures"),
				IgnoreBuildable: c.Bool("ignore-buildable"),
				Policy:          c.String("policy"),
				Quiet:           c.Bool("quiet"),
			})
		},
	}
}
