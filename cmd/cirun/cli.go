package main

import (
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
)

// app declares the command line: global flags as docker compose has them,
// one command per verb (each in its own file).
func (e *env) app() *cli.App {
	return &cli.App{
		Name:                   "cirun",
		Usage:                  "run docker compose projects in CI on Podman, without a Docker daemon",
		Version:                version,
		HideVersion:            true,
		Writer:                 e.stdout,
		ErrWriter:              e.stderr,
		UseShortOptionHandling: true,
		Suggest:                true,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "file", Aliases: []string{"f"}, Usage: "compose configuration file (repeatable, - for stdin)"},
			&cli.StringFlag{Name: "project-name", Aliases: []string{"p"}, Usage: "project name"},
			&cli.StringFlag{Name: "project-directory", Usage: "alternate working directory (default: the first file's directory)"},
			&cli.StringSliceFlag{Name: "profile", Usage: "profile to enable (repeatable)"},
			&cli.StringSliceFlag{Name: "env-file", Usage: "alternate environment file (repeatable)"},
			&cli.BoolFlag{Name: "all-resources", Usage: "include all resources, even those not used by services"},
			&cli.StringFlag{Name: "progress", Value: "auto", EnvVars: []string{"COMPOSE_PROGRESS"}, Usage: "progress output: auto, tty, plain, json, quiet"},
			&cli.StringFlag{Name: "ansi", Value: "auto", EnvVars: []string{"COMPOSE_ANSI"}, Usage: "control characters: never, always, auto"},
			&cli.IntFlag{Name: "parallel", Value: -1, EnvVars: []string{"COMPOSE_PARALLEL_LIMIT"}, Usage: "maximum parallelism, -1 for unlimited"},
			&cli.StringFlag{Name: "host", EnvVars: []string{"CONTAINER_HOST"}, Usage: "Podman service URI (default: a running socket, else cirun's own service)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "execute command in dry run mode: report what would change, change nothing"},
			registryGlobalFlag(),
			insecureRegistryGlobalFlag(),
		},
		Commands: []*cli.Command{
			e.upCommand(),
			e.scaleCommand(),
			e.downCommand(),
			e.runCommand(),
			e.testCommand(),
			e.psCommand(),
			e.logsCommand(),
			e.buildCommand(),
			e.configCommand(),
			e.doctorCommand(),
			e.versionCommand(),
			e.registryCommand(),
			e.execCommand(),
			e.startCommand(),
			e.stopCommand(),
			e.restartCommand(),
			e.rmCommand(),
			e.killCommand(),
			e.pauseCommand(),
			e.unpauseCommand(),
			e.portCommand(),
			e.imagesCommand(),
			e.topCommand(),
			e.waitCommand(),
			e.cpCommand(),
			e.eventsCommand(),
			e.lsCommand(),
			e.createCommand(),
			e.pullCommand(),
			e.pushCommand(),
			e.installAliasCommand(),
		},
		ExitErrHandler: func(*cli.Context, error) {}, // exit codes are mapped in run()
	}
}

// dataDir is where cirun keeps state across invocations: /var/lib/cirun for
// root, $XDG_DATA_HOME/cirun (~/.local/share/cirun) otherwise.
func dataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/cirun"
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "cirun")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "share", "cirun")
}

// registryGlobalFlag is the global --registry: the registry builds use as
// shared layer cache and push their images to.
func registryGlobalFlag() cli.Flag {
	return &cli.StringFlag{Name: "registry", EnvVars: []string{"CIRUN_REGISTRY"},
		Usage: "registry HOST:PORT that builds use as layer cache and push their images to (overrides x-cirun.registry)"}
}

// insecureRegistryGlobalFlag is the global --insecure-registry.
func insecureRegistryGlobalFlag() cli.Flag {
	return &cli.BoolFlag{Name: "insecure-registry", Usage: "allow plain HTTP and unverified TLS to non-loopback registries (loopback ones always may)"}
}

// buildRegistry is the registry of --registry (after the verb where the
// verb has the flag, else before it) or CIRUN_REGISTRY; "" when none.
// (urfave/cli's IsSet reports a parent's flag as set on the child too, so
// the first non-empty value up the lineage decides.)
func buildRegistry(c *cli.Context) string {
	for _, cc := range c.Lineage() {
		if v := cc.String("registry"); v != "" {
			return v
		}
	}
	return ""
}

// insecureRegistry reports whether --insecure-registry was given before or
// after the verb.
func insecureRegistry(c *cli.Context) bool {
	for _, cc := range c.Lineage() {
		if cc.Bool("insecure-registry") {
			return true
		}
	}
	return false
}
