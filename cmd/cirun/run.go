package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
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
			&cli.GenericFlag{Name: "cap-add", Value: &multi{}, Usage: "add a Linux capability (repeatable)"},
			&cli.GenericFlag{Name: "cap-drop", Value: &multi{}, Usage: "drop a Linux capability (repeatable)"},
			&cli.GenericFlag{Name: "env-from-file", Value: &multi{}, Usage: "set environment variables from a file (repeatable; -e wins, then the first file)"},
			&cli.StringFlag{Name: "pull", Value: "policy", Usage: `pull the image before running ("always"|"missing"|"never"|"build"; default: each service's pull_policy)`},
			&cli.BoolFlag{Name: "quiet-pull", Usage: "pull without printing progress information (cirun never prints pull progress)"},
			&cli.BoolFlag{Name: "remove-orphans", Usage: "remove containers for services not defined in the compose file"},
			&cli.BoolFlag{Name: "use-aliases", Usage: "give the container the service's network aliases (its name and aliases)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "don't print anything to STDOUT (progress quiet, the container's stdout discarded)"},
			&cli.BoolFlag{Name: "quiet-build", Usage: "suppress the build's step output"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return cli.Exit("run: a service name is required", 1)
			}
			if c.Bool("quiet") {
				// as docker compose: progress quiet, stdout discarded
				_ = c.Set("progress", "quiet")
				e.stdout = io.Discard
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
// `-e KEY` takes KEY's value from projectEnv (COMPOSE_IGNORE_ORPHANS is
// read there too).
func runOptions(c *cli.Context, projectEnv map[string]string) (runner.RunOptions, error) {
	env := resolveEnv(multiOf(c, "env"), func(k string) (string, bool) {
		v, ok := projectEnv[k]
		return v, ok
	})
	env, err := envFromFiles(env, multiOf(c, "env-from-file"))
	if err != nil {
		return runner.RunOptions{}, cli.Exit("run: "+err.Error(), 1)
	}
	o := runner.RunOptions{
		Service:       c.Args().First(),
		Command:       c.Args().Tail(),
		Env:           env,
		CapAdd:        multiOf(c, "cap-add"),
		CapDrop:       multiOf(c, "cap-drop"),
		Pull:          c.String("pull"),
		UseAliases:    c.Bool("use-aliases"),
		RemoveOrphans: c.Bool("remove-orphans"),
		IgnoreOrphans: envBool(projectEnv["COMPOSE_IGNORE_ORPHANS"]),
		User:          c.String("user"),
		WorkingDir:    c.String("workdir"),
		Name:          c.String("name"),
		Remove:        c.Bool("rm"),
		NoDeps:        c.Bool("no-deps"),
		Build:         c.Bool("build"),
		NoBuild:       c.Bool("no-build"),
		NoRecreate:    c.Bool("no-recreate"),
		ServicePorts:  c.Bool("service-ports"),
		Publish:       multiOf(c, "publish"),
		Volumes:       multiOf(c, "volume"),
		Detach:        c.Bool("detach"),
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

// envFromFiles adds to env ("KEY=VALUE") the variables of the files
// (--env-from-file, dotenv syntax, read in order) it does not set yet, as
// docker compose does: -e wins, then the first file setting a variable.
// A file's ${VAR} refers to env.
func envFromFiles(env []string, files []string) ([]string, error) {
	set := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		set[k] = v
	}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("--env-from-file: %w", err)
		}
		vars, err := dotenv.ParseWithLookup(f, func(k string) (string, bool) {
			v, ok := set[k]
			return v, ok
		})
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("--env-from-file %s: %w", file, err)
		}
		for _, k := range slices.Sorted(maps.Keys(vars)) {
			if _, ok := set[k]; !ok {
				set[k] = vars[k]
				env = append(env, k+"="+vars[k])
			}
		}
	}
	return env, nil
}
