package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/runner"
)

func (e *env) psCommand() *cli.Command {
	return &cli.Command{
		Name:      "ps",
		Usage:     "list the project's containers",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all containers, stopped ones too"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display IDs"},
			&cli.BoolFlag{Name: "services", Usage: "display services"},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table, json, or a Go template (\"table TEMPLATE\" adds a header)"},
			&cli.GenericFlag{Name: "status", Value: &multi{}, Usage: "filter services by status: " + strings.Join(psStatuses, ", ")},
			&cli.StringFlag{Name: "filter", Usage: "filter services by a property (status=STATUS)"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
			&cli.BoolFlag{Name: "orphans", Value: true, Usage: "include orphaned services"},
		},
		Action: func(c *cli.Context) error {
			statuses, err := psStatusFilter(multiOf(c, "status"), c.String("filter"))
			if err != nil {
				return err
			}
			sc, err := e.scope(c, c.Args().Slice())
			if err != nil {
				return err
			}
			l, err := e.containerLister(c)
			if err != nil {
				return err
			}
			cs, err := runner.Ps(c.Context, l, sc.Project, runner.PsOptions{Services: sc.Services, All: c.Bool("all") || len(statuses) > 0})
			if err != nil {
				return err
			}
			if len(statuses) > 0 {
				kept := cs[:0]
				for _, ct := range cs {
					if slices.Contains(statuses, psState(ct)) {
						kept = append(kept, ct)
					}
				}
				cs = kept
			}
			switch {
			case c.Bool("quiet"):
				for _, ct := range cs {
					fmt.Fprintln(e.stdout, ct.ID)
				}
			case c.Bool("services"):
				seen := map[string]bool{}
				for _, ct := range cs {
					if s := ct.Labels[engine.LabelService]; !seen[s] {
						seen[s] = true
						fmt.Fprintln(e.stdout, s)
					}
				}
			default:
				return writePs(e.stdout, cs, c.String("format"), !c.Bool("no-trunc"), time.Now())
			}
			return nil
		},
	}
}

// psStatuses are the values `ps --status` accepts, as docker compose.
var psStatuses = []string{"paused", "restarting", "removing", "running", "dead", "created", "exited"}

// psStatusFilter merges --status values and a --filter status=X.
func psStatusFilter(status []string, filter string) ([]string, error) {
	if filter != "" {
		k, v, ok := strings.Cut(filter, "=")
		if !ok {
			return nil, cli.Exit("arguments to --filter should be in form KEY=VAL", 1)
		}
		if k != "status" {
			return nil, cli.Exit(fmt.Sprintf("unknown filter %s", k), 1)
		}
		status = append(status, v)
	}
	for _, s := range status {
		if !slices.Contains(psStatuses, s) {
			return nil, cli.Exit(fmt.Sprintf("invalid status %q: must be one of %s", s, strings.Join(psStatuses, ", ")), 1)
		}
	}
	return status, nil
}

// psJSON is one line of `ps --format json`, with docker compose's keys.
func psJSON(c engine.Container, now time.Time) map[string]any {
	r := psRow{c: c, now: now}
	return map[string]any{
		"ID": c.ID, "Name": c.Name, "Names": c.Name, "Image": c.Image, "Command": strings.Join(c.Command, " "),
		"Project": r.Project(), "Service": r.Service(),
		"Created": c.Created.Unix(), "CreatedAt": r.CreatedAt(),
		"State": r.State(), "Status": r.Status(), "Health": c.Health, "ExitCode": c.ExitCode,
		"Labels": r.Labels(), "Networks": r.Networks(), "Ports": r.Ports(),
		"Publishers": r.Publishers(), "RunningFor": r.RunningFor(),
		"LocalVolumes": r.LocalVolumes(), "Mounts": r.Mounts(), "Size": r.Size(),
	}
}

// labelString joins labels as docker's formatter does, sorted (docker's
// order is the map's, random).
func labelString(l map[string]string) string {
	parts := make([]string, 0, len(l))
	for k, v := range l {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// ago is docker's "N seconds ago".
func ago(t time.Time) string { return humanDuration(time.Since(t)) + " ago" }

// truncate shortens s to n runes, the last one an ellipsis, as docker does.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
