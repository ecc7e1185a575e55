package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/compose"
)

func (e *env) configCommand() *cli.Command {
	return &cli.Command{
		Name:      "config",
		Aliases:   []string{"convert"},
		Usage:     "validate the compose files and print the normalized project",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Usage: "yaml or json (--variables: table, json or yaml)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to this file instead of stdout"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only validate, print nothing"},
			&cli.BoolFlag{Name: "no-interpolate", Usage: "print the model with its variables as written"},
			&cli.BoolFlag{Name: "variables", Usage: "print the variables the files use, with their defaults"},
			&cli.BoolFlag{Name: "environment", Usage: "print the environment used for interpolation"},
			&cli.StringFlag{Name: "hash", Usage: "print the config hash of these services (comma-separated, or '*'), one per line"},
			&cli.BoolFlag{Name: "services", Usage: "print the service names, one per line"},
			&cli.BoolFlag{Name: "volumes", Usage: "print the volume names, one per line"},
			&cli.BoolFlag{Name: "networks", Usage: "print the network names, one per line"},
			&cli.BoolFlag{Name: "profiles", Usage: "print the profile names, one per line"},
			&cli.BoolFlag{Name: "images", Usage: "print the image names, one per line"},
			&cli.BoolFlag{Name: "models", Usage: "print the model names, one per line"},
			&cli.BoolFlag{Name: "no-normalize", Usage: "don't normalize the compose model"},
			&cli.BoolFlag{Name: "no-path-resolution", Usage: "don't resolve file paths"},
			&cli.BoolFlag{Name: "no-consistency", Usage: "don't check model consistency - warning: may produce invalid Compose output"},
			&cli.BoolFlag{Name: "no-env-resolution", Usage: "don't resolve service env files"},
			&cli.BoolFlag{Name: "resolve-image-digests", Usage: "pin image tags to digests (asks each image's registry)"},
			&cli.BoolFlag{Name: "lock-image-digests", Usage: "produce an override file with image digests"},
		},
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if c.Bool("quiet") {
				e.stdout = io.Discard
			}
			switch {
			case c.Bool("models"):
				p, err := e.renderProject(c)
				if err != nil {
					return err
				}
				return e.printLines(modelNames(p))
			case c.Bool("services"), c.Bool("volumes"), c.Bool("networks"):
				p, err := e.listProject(c)
				if err != nil {
					return err
				}
				return e.printLines(configNames(p, c))
			case c.String("hash") != "":
				p, err := e.renderProject(c)
				if err != nil {
					return err
				}
				lines, err := configHashes(p, c.String("hash"))
				if err != nil {
					return err
				}
				return e.printLines(lines)
			case c.Bool("profiles"):
				p, err := e.listProject(c, args...)
				if err != nil {
					return err
				}
				return e.printLines(profileNames(p))
			case c.Bool("images"):
				p, err := e.selectedFrom(c, args, e.listProject)
				if err != nil {
					return err
				}
				var images []string
				for _, name := range compose.ServiceNames(p) {
					images = append(images, compose.ImageName(p.Name, p.Services[name]))
				}
				return e.printLines(images)
			case c.Bool("variables"):
				if len(args) > 0 {
					fmt.Fprintln(e.stderr, "WARN[0000] service filtering is not applied when --variables is set, variables from the full model will be rendered")
				}
				vars, err := compose.Variables(c.Context, e.composeOptions(c))
				if err != nil {
					return err
				}
				out, err := compose.RenderVariables(vars, c.String("format"))
				if err != nil {
					return err
				}
				_, err = e.stdout.Write(out)
				return err
			case c.Bool("environment"):
				p, err := e.renderProject(c, args...)
				if err != nil {
					return err
				}
				return e.printLines(p.Environment.Values())
			}

			format := c.String("format")
			if format == "" {
				format = "yaml"
			}
			lock := c.Bool("lock-image-digests")
			resolve := lock || c.Bool("resolve-image-digests")
			digest := func(ref string) (string, error) { return imageDigest(c.Context, ref, insecureRegistry(c)) }
			var out []byte
			if c.Bool("no-interpolate") {
				if len(args) > 0 {
					fmt.Fprintln(e.stderr, "WARN[0000] service filtering is not applied when --no-interpolate is set, the full model will be rendered")
				}
				m, err := compose.Model(c.Context, e.composeOptions(c))
				if err != nil {
					return err
				}
				if resolve {
					if err := compose.ResolveModelDigests(m, digest); err != nil {
						return err
					}
				}
				if lock {
					compose.LockModel(m)
				}
				if out, err = compose.RenderModel(m, format); err != nil {
					return err
				}
			} else {
				p, err := e.selected(c, args)
				if err != nil {
					return err
				}
				if resolve {
					if p, err = compose.ResolveDigests(p, digest); err != nil {
						return err
					}
				}
				if lock {
					p = compose.Lock(p)
				}
				if out, err = compose.Render(p, format); err != nil {
					return err
				}
			}
			if c.Bool("quiet") {
				return nil
			}
			if f := c.String("output"); f != "" && len(out) > 0 {
				return os.WriteFile(f, out, 0o666)
			}
			_, err := e.stdout.Write(out)
			return err
		},
	}
}

// selected loads the project restricted to the named services and the
// services they depend on (all services when names is empty), as docker
// compose config SERVICE... does.
func (e *env) selected(c *cli.Context, names []string) (*types.Project, error) {
	return e.selectedFrom(c, names, e.renderProject)
}

// selectedFrom is selected with the project loaded by load.
func (e *env) selectedFrom(c *cli.Context, names []string,
	load func(*cli.Context, ...string) (*types.Project, error)) (*types.Project, error) {
	p, err := load(c, names...)
	if err != nil || len(names) == 0 {
		return p, err
	}
	p, err = p.WithSelectedServices(names)
	if err != nil {
		return nil, err
	}
	return p.WithoutUnnecessaryResources(), nil
}

// configNames lists what --services, --volumes or --networks asks for.
func configNames(p *types.Project, c *cli.Context) []string {
	switch {
	case c.Bool("services"):
		return compose.ServiceNames(p)
	case c.Bool("volumes"):
		return p.VolumeNames()
	default:
		return p.NetworkNames()
	}
}

// configHashes returns "SERVICE HASH" for each service of spec (names,
// comma-separated, or "*" for all), sorted by name: the hash is the
// config-hash label cirun gives the service's containers.
func configHashes(p *types.Project, spec string) ([]string, error) {
	names := compose.ServiceNames(p)
	if spec != "*" {
		names = strings.Split(spec, ",")
		slices.Sort(names)
	}
	lines := make([]string, 0, len(names))
	for _, name := range names {
		s, err := p.GetService(name)
		if err != nil {
			return nil, err
		}
		lines = append(lines, name+" "+compose.ServiceHash(s))
	}
	return lines, nil
}

// profileNames returns the profiles any service declares, sorted.
func profileNames(p *types.Project) []string {
	var profiles []string
	for _, s := range p.AllServices() {
		profiles = append(profiles, s.Profiles...)
	}
	slices.Sort(profiles)
	return slices.Compact(profiles)
}

// modelNames returns the model: of every top-level model, in the models'
// order by name.
func modelNames(p *types.Project) []string {
	var names []string
	for _, key := range slices.Sorted(maps.Keys(p.Models)) {
		if m := p.Models[key].Model; m != "" {
			names = append(names, m)
		}
	}
	return names
}

// printLines writes lines to stdout, one per line.
func (e *env) printLines(lines []string) error {
	for _, l := range lines {
		if _, err := io.WriteString(e.stdout, l+"\n"); err != nil {
			return err
		}
	}
	return nil
}
