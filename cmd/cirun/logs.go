package main

import (
	"fmt"
	"strconv"
	"time"

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
			&cli.StringFlag{Name: "since", Usage: "show logs since a timestamp (2013-01-02T13:23:37Z) or relative (42m for 42 minutes)"},
			&cli.StringFlag{Name: "until", Usage: "show logs before a timestamp (2013-01-02T13:23:37Z) or relative (42m for 42 minutes)"},
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
			now := time.Now()
			since, err := logTime("since", c.String("since"), now)
			if err != nil {
				return err
			}
			until, err := logTime("until", c.String("until"), now)
			if err != nil {
				return err
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			return r.Logs(c.Context, name, runner.LogsOptions{
				Services: c.Args().Slice(), Follow: c.Bool("follow"), Tail: tail,
				Timestamps: c.Bool("timestamps"), NoPrefix: c.Bool("no-log-prefix"),
				Index: c.Int("index"), Since: since, Until: until,
			})
		},
	}
}

// logTime reads a --since/--until value as docker does: a Go duration
// before now ("42m", "1h30m"), an RFC 3339 time with or without fraction
// and zone ("2013-01-02T13:23:37Z", "2013-01-02T13:23:37", "2013-01-02"),
// or Unix seconds ("1360000000.5"). "" is no bound.
func logTime(flag, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Unix(0, int64(secs*1e9)), nil
	}
	return time.Time{}, cli.Exit(fmt.Sprintf("logs: invalid value for --%s: %q (a timestamp such as 2013-01-02T13:23:37Z, or relative: 42m)", flag, v), 1)
}
