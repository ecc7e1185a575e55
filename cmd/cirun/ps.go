package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
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
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json"},
		},
		Action: func(c *cli.Context) error {
			name, err := e.projectName(c)
			if err != nil {
				return err
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			cs, err := r.Ps(c.Context, name, runner.PsOptions{Services: c.Args().Slice(), All: c.Bool("all")})
			if err != nil {
				return err
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
			case c.String("format") == "json":
				enc := json.NewEncoder(e.stdout)
				for _, ct := range cs {
					if err := enc.Encode(psJSON(ct)); err != nil {
						return err
					}
				}
			default:
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 3, ' ', 0)
				fmt.Fprintln(tw, "NAME\tIMAGE\tCOMMAND\tSERVICE\tCREATED\tSTATUS\tPORTS")
				for _, ct := range cs {
					fmt.Fprintf(tw, "%s\t%s\t%q\t%s\t%s\t%s\t%s\n", ct.Name, ct.Image, truncate(strings.Join(ct.Command, " "), 20),
						ct.Labels[engine.LabelService], ago(ct.Created), status(ct), ports(ct.Ports))
				}
				return tw.Flush()
			}
			return nil
		},
	}
}

// psJSON is one line of `ps --format json`, with docker compose's keys.
func psJSON(c engine.Container) map[string]any {
	return map[string]any{
		"ID": c.ID, "Name": c.Name, "Names": c.Name, "Image": c.Image, "Command": strings.Join(c.Command, " "),
		"Project": c.Labels[engine.LabelProject], "Service": c.Labels[engine.LabelService],
		"Created": c.Created.Unix(), "CreatedAt": c.Created.Format("2006-01-02 15:04:05 -0700 MST"),
		"State": c.State, "Status": status(c), "Health": c.Health, "ExitCode": c.ExitCode,
		"Labels": labelString(c.Labels), "Networks": strings.Join(c.Networks, ","), "Ports": ports(c.Ports),
		"Publishers": publishers(c.Ports), "RunningFor": ago(c.Created),
	}
}

func publishers(ps []engine.PortMapping) []map[string]any {
	out := []map[string]any{}
	for _, p := range ps {
		out = append(out, map[string]any{"URL": p.HostIP, "TargetPort": p.ContainerPort, "PublishedPort": p.HostPort, "Protocol": p.Protocol})
	}
	return out
}

func labelString(l map[string]string) string {
	parts := make([]string, 0, len(l))
	for k, v := range l {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func status(c engine.Container) string {
	switch {
	case c.Running():
		s := "Up " + since(c.StartedAt)
		if c.State == engine.StatePaused {
			s += " (Paused)"
		}
		if c.Health != "" {
			s += " (" + c.Health + ")"
		}
		return s
	case c.Exited():
		return fmt.Sprintf("Exited (%d) %s ago", c.ExitCode, since(c.FinishedAt))
	default:
		return strings.ToUpper(c.State[:1]) + c.State[1:]
	}
}

func since(t time.Time) string {
	if t.IsZero() {
		return "less than a second"
	}
	d := time.Since(t).Round(time.Second)
	switch {
	case d < time.Second:
		return "less than a second"
	case d < time.Minute:
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	default:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
}

func ago(t time.Time) string { return since(t) + " ago" }

func ports(ps []engine.PortMapping) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		parts = append(parts, fmt.Sprintf("%s:%d->%d/%s", ip, p.HostPort, p.ContainerPort, p.Protocol))
	}
	return strings.Join(parts, ", ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
