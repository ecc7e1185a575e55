package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) downCommand() *cli.Command {
	return &cli.Command{
		Name:  "down",
		Usage: "stop and remove the project's containers and networks (and volumes with -v)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove named volumes declared in the volumes section and anonymous volumes"},
			&cli.BoolFlag{Name: "remove-orphans", EnvVars: []string{"COMPOSE_REMOVE_ORPHANS"}, Usage: "accepted for compatibility: cirun always removes every container of the project"},
			&cli.StringFlag{Name: "rmi", Usage: `remove images used by services: "local" (built ones without an image name) or "all"`},
			&cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, Value: -1, Usage: "shutdown timeout in seconds"},
		},
		Action: func(c *cli.Context) error {
			// The compose file is optional with -p (down after it changed or
			// vanished); when it loads, its pre_stop hooks run.
			if v := c.String("rmi"); v != "" && v != "local" && v != "all" {
				return fmt.Errorf("invalid value for --rmi: %q (want local or all)", v)
			}
			name := c.String("project-name")
			p, perr := e.existingProject(c)
			if perr != nil && name == "" {
				return perr
			}
			if perr == nil && name == "" {
				name = p.Name
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			o := runner.DownOptions{Volumes: c.Bool("volumes"), RemoveOrphans: c.Bool("remove-orphans"), RemoveImages: c.String("rmi")}
			if perr == nil && p.Name == name {
				o.Compose = p
			}
			if t := c.Int("timeout"); t >= 0 {
				d := time.Duration(t) * time.Second
				o.Timeout = &d
			}
			return r.Down(c.Context, name, o)
		},
	}
}
