package main

import (
	"fmt"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
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
			&cli.GenericFlag{Name: "build-arg", Value: &multi{}, Usage: "set a build-time variable for the services (KEY=VALUE, or KEY from the environment; repeatable)"},
			&cli.StringFlag{Name: "ssh", Usage: "SSH authentications for the builds: 'default' or ID=PATH[,PATH]"},
			&cli.BoolFlag{Name: "push", Usage: "push the images once built"},
		},
		Action: func(c *cli.Context) error {
			services := c.Args().Slice()
			p, err := e.project(c, services...)
			if err != nil {
				return err
			}
			ssh, err := sshFlag(c.String("ssh"))
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
			for _, kv := range multiOf(c, "build-arg") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					args[k] = &v
				} else {
					args[kv] = nil // from the environment, else the ARG default
				}
			}
			err = r.Build(c.Context, p, runner.BuildOptions{Services: services, NoCache: c.Bool("no-cache"), Pull: c.Bool("pull"), WithDependencies: c.Bool("with-dependencies"), Args: args, SSH: ssh})
			if err != nil || !c.Bool("push") {
				return err
			}
			return r.Push(c.Context, p, runner.PushOptions{Services: services, Quiet: c.Bool("quiet"), InsecureRegistry: insecureRegistry(c)})
		},
	}
}

// sshFlag reads `build --ssh`: 'default' or ID=PATH.
func sshFlag(v string) ([]types.SSHKey, error) {
	if v == "" {
		return nil, nil
	}
	id, path, _ := strings.Cut(v, "=")
	if id == "" {
		return nil, cli.Exit(fmt.Sprintf("build: invalid --ssh %q: want 'default' or ID=PATH", v), 1)
	}
	return []types.SSHKey{{ID: id, Path: path}}, nil
}
