package main

import (
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "view output from containers",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "follow log output"},
			&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "number of lines from the end of the logs"},
			&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "show timestamps"},
			&cli.BoolFlag{Name: "no-log-prefix", Usage: "don't print a prefix in logs"},
			&cli.BoolFlag{Name: "no-color", Usage: "produce monochrome output (always, for now)"},
			&cli.IntFlag{Name: "index", Usage: "index of the container if the service has several replicas (needs one SERVICE)"},
		},
		Action: func(c *cli.Context) error {
			name, err := e.projectName(c)
			if err != nil {
				return err
			}
			tail := 0
			if t := c.String("tail"); t != "all" && t != "" {
				if tail, err = strconv.Atoi(t); err != nil || tail < 0 {
					return cli.Exit("logs: --tail must be a number or \"all\"", 1)
				}
			}
			if c.Int("index") < 0 {
				return cli.Exit("logs: --index must be a container number (1 or more)", 1)
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			return r.Logs(c.Context, name, runner.LogsOptions{
				Services: c.Args().Slice(), Follow: c.Bool("follow"), Tail: tail,
				Timestamps: c.Bool("timestamps"), NoPrefix: c.Bool("no-log-prefix"),
				Index: c.Int("index"),
			})
		},
	}
}
