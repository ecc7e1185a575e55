package main

import (
	"fmt"
	"os"
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
			if err := setBuildFlags(p, resolveEnv(multiOf(c, "build-arg"), os.LookupEnv), c.String("ssh")); err != nil {
				return err
			}
			if c.Bool("quiet") {
				_ = c.Set("progress", "quiet")
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			err = r.Build(c.Context, p, runner.BuildOptions{Services: services, NoCache: c.Bool("no-cache"), Pull: c.Bool("pull"), WithDependencies: c.Bool("with-dependencies")})
			if err != nil || !c.Bool("push") {
				return err
			}
			return r.Push(c.Context, p, runner.PushOptions{Services: services, Quiet: c.Bool("quiet"), InsecureRegistry: insecureRegistry(c)})
		},
	}
}

// setBuildFlags applies `build --build-arg` and `--ssh` to every service
// that builds, as docker compose does: a --build-arg wins over the
// service's own args (args are KEY=VALUE: resolveEnv dropped a KEY the
// environment does not set), --ssh adds to its ssh entries.
func setBuildFlags(p *types.Project, args []string, ssh string) error {
	var keys []types.SSHKey
	if ssh != "" {
		id, path, _ := strings.Cut(ssh, "=")
		if id == "" {
			return cli.Exit(fmt.Sprintf("build: invalid --ssh %q: want 'default' or ID=PATH", ssh), 1)
		}
		keys = append(keys, types.SSHKey{ID: id, Path: path})
	}
	for name, s := range p.Services {
		if s.Build == nil {
			continue
		}
		for _, a := range args {
			k, v, _ := strings.Cut(a, "=")
			if s.Build.Args == nil {
				s.Build.Args = types.MappingWithEquals{}
			}
			s.Build.Args[k] = &v
		}
		s.Build.SSH = append(s.Build.SSH, keys...)
		p.Services[name] = s
	}
	return nil
}
