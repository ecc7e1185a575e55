package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) eventsCommand() *cli.Command {
	return &cli.Command{
		Name:      "events",
		Usage:     "receive real time events from containers",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "output events as a stream of json objects"},
			&cli.StringFlag{Name: "since", Usage: "show all events created since timestamp (RFC 3339, unix seconds or a duration like 10m)"},
			&cli.StringFlag{Name: "until", Usage: "stream events until this timestamp"},
		},
		Action: func(c *cli.Context) error {
			sc, err := e.scope(c, c.Args().Slice())
			if err != nil {
				return err
			}
			var o runner.EventsOptions
			o.Services = sc.Services
			if o.Since, err = parseTimestamp(c.String("since")); err != nil {
				return cli.Exit("events: --since: "+err.Error(), 1)
			}
			if o.Until, err = parseTimestamp(c.String("until")); err != nil {
				return cli.Exit("events: --until: "+err.Error(), 1)
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			asJSON := c.Bool("json")
			return r.Events(c.Context, sc.Project, o, func(ev runner.ServiceEvent) error {
				if !asJSON {
					_, err := fmt.Fprintln(e.stdout, ev)
					return err
				}
				data, err := json.Marshal(map[string]any{
					"time": ev.Time, "type": "container", "service": ev.Service,
					"id": ev.Container, "action": ev.Action, "attributes": ev.Attributes,
				})
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(e.stdout, string(data))
				return err
			})
		},
	}
}

// parseTimestamp reads docker's timestamp forms: RFC 3339 (with or without
// zone or time), unix seconds (with fractions), or a duration before now.
func parseTimestamp(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	if sec, frac, ok := strings.Cut(s, "."); ok || !strings.ContainsAny(s, "-:T") {
		if n, err := strconv.ParseInt(sec, 10, 64); err == nil {
			ns := int64(0)
			if frac != "" {
				f, err := strconv.ParseFloat("0."+frac, 64)
				if err != nil {
					return time.Time{}, fmt.Errorf("bad timestamp %q", s)
				}
				ns = int64(f * 1e9)
			}
			return time.Unix(n, ns), nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad timestamp %q (RFC 3339, unix seconds or a duration)", s)
}
