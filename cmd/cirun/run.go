package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a one-off command on a service; exits with the command's exit code",
		ArgsUsage: "SERVICE [COMMAND] [ARGS...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "rm", Usage: "remove the container after it exits"},
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run the container in the background and print its ID"},
			&cli.GenericFlag{Name: "publish", Aliases: []string{"p"}, Value: &multi{}, Usage: "publish a container port on the host ([IP:][HOST:]CONTAINER[/PROTO]); replaces the service's ports"},
			&cli.BoolFlag{Name: "no-deps", Usage: "don't start linked services"},
			&cli.BoolFlag{Name: "build", Usage: "build the image before starting"},
			&cli.BoolFlag{Name: "no-build", Usage: "don't build the image"},
			&cli.BoolFlag{Name: "no-recreate", Usage: "don't recreate dependencies whose configuration changed"},
			&cli.StringFlag{Name: "name", Usage: "container name"},
			&cli.StringFlag{Name: "entrypoint", Usage: "override the entrypoint"},
			&cli.GenericFlag{Name: "env", Aliases: []string{"e"}, Value: &multi{}, Usage: "set an environment variable (KEY=VALUE, or KEY to pass it from here)"},
			&cli.GenericFlag{Name: "label", Aliases: []string{"l"}, Value: &multi{}, Usage: "add or override a label (KEY=VALUE)"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run as this user"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container"},
			&cli.GenericFlag{Name: "volume", Aliases: []string{"v", "volumes"}, Value: &multi{}, Usage: "bind mount a volume (SRC:DST[:ro])"},
			&cli.BoolFlag{Name: "service-ports", Aliases: []string{"P"}, Usage: "publish the service's ports"},
			&cli.BoolFlag{Name: "no-TTY", Aliases: []string{"T"}, Usage: "disable pseudo-TTY allocation (the default here)"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Value: true, Usage: "keep STDIN open"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return cli.Exit("run: a service name is required", 1)
			}
			svc := c.Args().First()
			p, err := e.project(c, svc)
			if err != nil {
				return err
			}
			o, err := runOptions(c, p.Environment)
			if err != nil {
				return err
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			code, err := r.Run(c.Context, p, o)
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

// runOptions turns run's flags and arguments into the runner's options;
// `-e KEY` takes KEY's value from projectEnv.
func runOptions(c *cli.Context, projectEnv map[string]string) (runner.RunOptions, error) {
	o := runner.RunOptions{
		Service: c.Args().First(),
		Command: c.Args().Tail(),
		Env: resolveEnv(multiOf(c, "env"), func(k string) (string, bool) {
			v, ok := projectEnv[k]
			return v, ok
		}),
		User:         c.String("user"),
		WorkingDir:   c.String("workdir"),
		Name:         c.String("name"),
		Remove:       c.Bool("rm"),
		NoDeps:       c.Bool("no-deps"),
		Build:        c.Bool("build"),
		NoBuild:      c.Bool("no-build"),
		NoRecreate:   c.Bool("no-recreate"),
		ServicePorts: c.Bool("service-ports"),
		Publish:      multiOf(c, "publish"),
		Volumes:      multiOf(c, "volume"),
		Detach:       c.Bool("detach"),
	}
	if c.IsSet("entrypoint") {
		o.Entrypoint = strings.Fields(c.String("entrypoint"))
	}
	for _, l := range multiOf(c, "label") {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return o, cli.Exit(fmt.Sprintf("run: label %q must be KEY=VALUE", l), 1)
		}
		if o.Labels == nil {
			o.Labels = map[string]string{}
		}
		o.Labels[k] = v
	}
	return o, nil
}
