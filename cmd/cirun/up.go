package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) upCommand() *cli.Command {
	return &cli.Command{
		Name:      "up",
		Usage:     "create and start containers",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run containers in the background"},
			&cli.BoolFlag{Name: "wait", Usage: "wait for services to be running|healthy (implies --detach)"},
			&cli.IntFlag{Name: "wait-timeout", Usage: "maximum seconds to wait with --wait (0: no limit)"},
			&cli.BoolFlag{Name: "build", Usage: "build images before starting containers"},
			&cli.BoolFlag{Name: "no-build", Usage: "do not build an image, even if it is missing"},
			&cli.BoolFlag{Name: "force-recreate", Usage: "recreate containers even if their configuration and image haven't changed"},
			&cli.BoolFlag{Name: "no-recreate", Usage: "if containers already exist, don't recreate them"},
			&cli.BoolFlag{Name: "always-recreate-deps", Usage: "recreate dependent containers; incompatible with --no-recreate"},
			&cli.BoolFlag{Name: "renew-anon-volumes", Aliases: []string{"V"}, Usage: "recreate anonymous volumes instead of retrieving data from the previous containers"},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: `assume "yes" as answer to all prompts (recreate a volume whose configuration changed)`},
			&cli.BoolFlag{Name: "no-deps", Usage: "don't start linked services"},
			&cli.BoolFlag{Name: "remove-orphans", EnvVars: []string{"COMPOSE_REMOVE_ORPHANS"}, Usage: "remove containers for services not defined in the compose file"},
			&cli.BoolFlag{Name: "no-start", Usage: "don't start the services after creating them"},
			&cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, Value: -1, Usage: "shutdown timeout in seconds (default: each service's stop_grace_period, else 10)"},
			&cli.StringSliceFlag{Name: "scale", Usage: "scale SERVICE to NUM instances (SERVICE=NUM, repeatable); overrides `scale` in the compose file"},
			&cli.BoolFlag{Name: "abort-on-container-exit", Usage: "stop all containers if any container was stopped; incompatible with -d"},
			&cli.BoolFlag{Name: "abort-on-container-failure", Usage: "stop all containers if any container exited with failure; incompatible with -d"},
			&cli.StringFlag{Name: "exit-code-from", Usage: "return the exit code of the selected service container (implies --abort-on-container-exit)"},
			&cli.StringSliceFlag{Name: "attach", Usage: "restrict attaching to the specified services (repeatable); incompatible with --attach-dependencies"},
			&cli.StringSliceFlag{Name: "no-attach", Usage: "do not attach (stream logs) to the specified services (repeatable)"},
			&cli.BoolFlag{Name: "attach-dependencies", Usage: "also attach to the log output of dependencies"},
			&cli.BoolFlag{Name: "timestamps", Usage: "show timestamps"},
			&cli.BoolFlag{Name: "no-log-prefix", Usage: "don't print the prefix in logs"},
			&cli.BoolFlag{Name: "no-color", Usage: "produce monochrome output"},
			&cli.BoolFlag{Name: "quiet-pull", Usage: "pull without printing progress information (cirun never prints pull progress)"},
			&cli.StringFlag{Name: "pull", Value: "policy", Usage: `pull images before starting ("always"|"missing"|"never"|"build"; default: each service's pull_policy)`},
			&cli.BoolFlag{Name: "menu", Usage: "accepted for docker compose compatibility; cirun has no interactive menu"},
		},
		Action: func(c *cli.Context) error {
			o, err := e.upOptions(c)
			if err != nil {
				return cli.Exit(err.Error(), 1)
			}
			if len(o.Attach) > 0 && o.AttachDependencies {
				return cli.Exit("cannot combine --attach and --attach-dependencies", 1)
			}
			p, err := e.project(c, o.Services...)
			if err != nil {
				return err
			}
			if err := orphanOptions(c, p, &o); err != nil {
				return cli.Exit(err.Error(), 1)
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			return r.Up(c.Context, p, o)
		},
	}
}

// upOptions turns `up`'s flags into options, rejecting the combinations
// docker compose rejects, with its messages.
func (e *env) upOptions(c *cli.Context) (runner.UpOptions, error) {
	o := runner.UpOptions{
		Services:           c.Args().Slice(),
		AllResources:       c.Bool("all-resources"),
		Detach:             c.Bool("detach"),
		Wait:               c.Bool("wait"),
		WaitTimeout:        time.Duration(c.Int("wait-timeout")) * time.Second,
		Build:              c.Bool("build"),
		NoBuild:            c.Bool("no-build"),
		ForceRecreate:      c.Bool("force-recreate") || c.Bool("renew-anon-volumes"),
		NoRecreate:         c.Bool("no-recreate"),
		RecreateDeps:       c.Bool("always-recreate-deps"),
		RenewAnonVolumes:   c.Bool("renew-anon-volumes"),
		AssumeYes:          c.Bool("yes"),
		NoDeps:             c.Bool("no-deps"),
		RemoveOrphans:      c.Bool("remove-orphans"),
		NoStart:            c.Bool("no-start"),
		ExitCodeFrom:       c.String("exit-code-from"),
		Attach:             c.StringSlice("attach"),
		NoAttach:           c.StringSlice("no-attach"),
		AttachDependencies: c.Bool("attach-dependencies"),
		Pull:               c.String("pull"),
	}
	if !o.AssumeYes && isTerminal(e.stdin) {
		o.Confirm = confirm(e.stdin, e.stdout)
	}
	if t := c.Int("timeout"); t >= 0 {
		d := time.Duration(t) * time.Second
		o.StopTimeout = &d
	}
	cascadeStop, cascadeFail := c.Bool("abort-on-container-exit"), c.Bool("abort-on-container-failure")
	if o.ExitCodeFrom != "" && !cascadeFail {
		cascadeStop = true
	}
	switch {
	case cascadeStop && cascadeFail:
		return o, errors.New("--abort-on-container-failure cannot be combined with --abort-on-container-exit")
	case cascadeStop:
		o.OnExit = runner.CascadeStop
	case cascadeFail:
		o.OnExit = runner.CascadeFail
	}
	if o.Wait {
		if o.AttachDependencies || cascadeStop || len(o.Attach) > 0 {
			return o, errors.New("--wait cannot be combined with --abort-on-container-exit, --attach or --attach-dependencies")
		}
		o.Detach = true
	}
	if o.Build && o.NoBuild {
		return o, errors.New("--build and --no-build are incompatible")
	}
	if o.Detach && (o.AttachDependencies || cascadeStop || cascadeFail || len(o.Attach) > 0) {
		return o, errors.New("--detach cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --attach, --attach-dependencies or --watch")
	}
	if o.ForceRecreate && o.NoRecreate {
		return o, errors.New("--force-recreate and --no-recreate are incompatible")
	}
	if o.RecreateDeps && o.NoRecreate {
		return o, errors.New("--always-recreate-deps and --no-recreate are incompatible")
	}
	scale, err := parseScale(c.StringSlice("scale"))
	if err != nil {
		return o, err
	}
	o.Scale = scale
	color, err := e.color(c)
	if err != nil {
		return o, err
	}
	o.Log = runner.LogFormat{
		NoPrefix:   c.Bool("no-log-prefix"),
		Color:      color && !c.Bool("no-color"),
		Timestamps: c.Bool("timestamps"),
	}
	return o, nil
}

// parseScale reads --scale SERVICE=NUM values.
func parseScale(values []string) (map[string]int, error) {
	if len(values) == 0 {
		return nil, nil
	}
	scale := map[string]int{}
	for _, v := range values {
		name, num, ok := strings.Cut(v, "=")
		if !ok || name == "" || num == "" {
			return nil, fmt.Errorf("invalid --scale option %q. Should be SERVICE=NUM", v)
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("invalid --scale option %q: %q is not a number of replicas", v, num)
		}
		scale[name] = n
	}
	return scale, nil
}

// orphanOptions applies COMPOSE_REMOVE_ORPHANS and COMPOSE_IGNORE_ORPHANS
// from the project's environment (the process environment and the
// project's .env), as docker compose's up does: --remove-orphans, when
// given, wins over COMPOSE_REMOVE_ORPHANS.
func orphanOptions(c *cli.Context, p *types.Project, o *runner.UpOptions) error {
	if !c.IsSet("remove-orphans") {
		o.RemoveOrphans = envBool(p.Environment["COMPOSE_REMOVE_ORPHANS"])
	}
	o.IgnoreOrphans = envBool(p.Environment["COMPOSE_IGNORE_ORPHANS"])
	if o.IgnoreOrphans && o.RemoveOrphans {
		return errors.New("cannot combine COMPOSE_IGNORE_ORPHANS and --remove-orphans")
	}
	return nil
}

// envBool reads a boolean variable as docker compose does (strconv's
// spellings; anything else is false).
func envBool(v string) bool {
	b, _ := strconv.ParseBool(v)
	return b
}
