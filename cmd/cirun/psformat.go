package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/cirun-dev/cirun/engine"
)

// psTableFormat is docker compose's default `ps` table.
const psTableFormat = "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}"

// psRow is one container as `ps --format TEMPLATE` sees it: the fields of
// docker's container formatter, as methods so a header row can share them.
type psRow struct {
	c     engine.Container
	trunc bool
	now   time.Time
}

func (r psRow) ID() string {
	if r.trunc && len(r.c.ID) > 12 {
		return r.c.ID[:12]
	}
	return r.c.ID
}
func (r psRow) Name() string    { return r.c.Name }
func (r psRow) Names() string   { return r.c.Name }
func (r psRow) Project() string { return r.c.Labels[engine.LabelProject] }
func (r psRow) Service() string { return r.c.Labels[engine.LabelService] }
func (r psRow) Image() string   { return r.c.Image }
func (r psRow) Command() string {
	cmd := strings.Join(r.c.Command, " ")
	if r.trunc {
		cmd = truncate(cmd, 20)
	}
	return strconv.Quote(cmd)
}
func (r psRow) CreatedAt() string  { return r.c.Created.Format("2006-01-02 15:04:05 -0700 MST") }
func (r psRow) RunningFor() string { return humanDuration(r.now.Sub(r.c.Created)) + " ago" }
func (r psRow) ExitCode() int      { return r.c.ExitCode }
func (r psRow) State() string      { return psState(r.c) }
func (r psRow) Status() string     { return statusAt(r.c, r.now) }
func (r psRow) Health() string     { return r.c.Health }
func (r psRow) Ports() string      { return displayPorts(r.c.Ports) }
func (r psRow) Publishers() []publisher {
	return publishers(r.c.Ports)
}
func (r psRow) Labels() string           { return labelString(r.c.Labels) }
func (r psRow) Label(name string) string { return r.c.Labels[name] }
func (r psRow) Networks() string         { return strings.Join(r.c.Networks, ",") }
func (r psRow) LocalVolumes() string     { return "0" }
func (r psRow) Mounts() string           { return "" }
func (r psRow) Size() string             { return "0B" }

// MarshalJSON makes `{{json .}}` print what `--format json` prints.
func (r psRow) MarshalJSON() ([]byte, error) { return json.Marshal(psJSON(r.c, r.now)) }

// psHeader has psRow's methods and returns the column titles docker prints.
type psHeader struct{}

func (psHeader) ID() string               { return "CONTAINER ID" }
func (psHeader) Name() string             { return "NAME" }
func (psHeader) Names() string            { return "NAMES" }
func (psHeader) Project() string          { return "PROJECT" }
func (psHeader) Service() string          { return "SERVICE" }
func (psHeader) Image() string            { return "IMAGE" }
func (psHeader) Command() string          { return "COMMAND" }
func (psHeader) CreatedAt() string        { return "CREATED AT" }
func (psHeader) RunningFor() string       { return "CREATED" }
func (psHeader) ExitCode() string         { return "EXIT CODE" }
func (psHeader) State() string            { return "STATE" }
func (psHeader) Status() string           { return "STATUS" }
func (psHeader) Health() string           { return "HEALTH" }
func (psHeader) Ports() string            { return "PORTS" }
func (psHeader) Publishers() string       { return "PUBLISHERS" }
func (psHeader) Labels() string           { return "LABELS" }
func (psHeader) Label(name string) string { return "LABEL" }
func (psHeader) Networks() string         { return "NETWORKS" }
func (psHeader) LocalVolumes() string     { return "LOCAL VOLUMES" }
func (psHeader) Mounts() string           { return "MOUNTS" }
func (psHeader) Size() string             { return "SIZE" }

// templateFuncs are the functions docker's --format templates offer.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"join":  strings.Join,
	"split": strings.Split,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"truncate": func(s string, n int) string {
		if len(s) > n {
			return s[:n]
		}
		return s
	},
	"pad": func(s string, before, after int) string {
		return strings.Repeat(" ", before) + s + strings.Repeat(" ", after)
	},
}

// writePs renders containers with a docker-style format: "table" (the
// default table), "json" (one object per line), "table TEMPLATE" (a header
// row, then aligned columns) or a bare Go TEMPLATE (one line per container).
func writePs(w io.Writer, cs []engine.Container, format string, trunc bool, now time.Time) error {
	switch format {
	case "", "table":
		format = psTableFormat
	case "json":
		enc := json.NewEncoder(w)
		for _, c := range cs {
			if err := enc.Encode(psJSON(c, now)); err != nil {
				return err
			}
		}
		return nil
	}
	rows := make([]any, len(cs))
	for i, c := range cs {
		rows[i] = psRow{c: c, trunc: trunc, now: now}
	}
	return writeTemplate[any](w, format, psHeader{}, rows)
}

// psState is the container's state as docker names it (podman's "stopped"
// is docker's "exited").
func psState(c engine.Container) string {
	if c.State == engine.StateStopped {
		return engine.StateExited
	}
	return c.State
}

// statusAt is docker's STATUS column: "Up 5 seconds (healthy)",
// "Exited (1) 2 minutes ago", "Created".
func statusAt(c engine.Container, now time.Time) string {
	switch {
	case c.Running():
		s := "Up " + humanDuration(now.Sub(c.StartedAt))
		switch {
		case c.State == engine.StatePaused:
			s += " (Paused)"
		case c.Health == engine.HealthStarting:
			s += " (health: starting)"
		case c.Health != "":
			s += " (" + c.Health + ")"
		}
		return s
	case c.Exited():
		return fmt.Sprintf("Exited (%d) %s ago", c.ExitCode, humanDuration(now.Sub(c.FinishedAt)))
	case c.State == "":
		return ""
	default:
		return strings.ToUpper(c.State[:1]) + c.State[1:]
	}
}

// humanDuration is docker's (go-units') rendering of a duration.
func humanDuration(d time.Duration) string {
	if seconds := int(d.Seconds()); seconds < 1 {
		return "Less than a second"
	} else if seconds == 1 {
		return "1 second"
	} else if seconds < 60 {
		return fmt.Sprintf("%d seconds", seconds)
	} else if minutes := int(d.Minutes()); minutes == 1 {
		return "About a minute"
	} else if minutes < 60 {
		return fmt.Sprintf("%d minutes", minutes)
	} else if hours := int(d.Hours() + 0.5); hours == 1 {
		return "About an hour"
	} else if hours < 48 {
		return fmt.Sprintf("%d hours", hours)
	} else if hours < 24*7*2 {
		return fmt.Sprintf("%d days", hours/24)
	} else if hours < 24*30*2 {
		return fmt.Sprintf("%d weeks", hours/24/7)
	} else if hours < 24*365*2 {
		return fmt.Sprintf("%d months", hours/24/30)
	}
	return fmt.Sprintf("%d years", int(d.Hours())/24/365)
}

// displayPorts is docker's PORTS column: published ports as
// "IP:HOST->PORT/PROTO", ports published on the same number and ports only
// exposed grouped into ranges ("80/tcp, 443/tcp", "0.0.0.0:8000-8001->8000-8001/tcp").
func displayPorts(ps []engine.PortMapping) string {
	type group struct{ first, last uint16 }
	ports := append([]engine.PortMapping(nil), ps...)
	sort.SliceStable(ports, func(i, j int) bool {
		a, b := ports[i], ports[j]
		if a.ContainerPort != b.ContainerPort {
			return a.ContainerPort < b.ContainerPort
		}
		if hostIP(a) != hostIP(b) {
			return hostIP(a) < hostIP(b)
		}
		if a.HostPort != b.HostPort {
			return a.HostPort < b.HostPort
		}
		return proto(a) < proto(b)
	})
	groups := map[string]*group{}
	var keys, result, mappings []string
	for _, p := range ports {
		key := proto(p)
		if p.HostPort != 0 {
			if p.HostPort != p.ContainerPort {
				mappings = append(mappings, fmt.Sprintf("%s->%d/%s",
					net.JoinHostPort(hostIP(p), strconv.Itoa(int(p.HostPort))), p.ContainerPort, proto(p)))
				continue
			}
			key = hostIP(p) + "/" + proto(p)
		}
		g := groups[key]
		if g == nil {
			groups[key] = &group{p.ContainerPort, p.ContainerPort}
			keys = append(keys, key)
			continue
		}
		if p.ContainerPort == g.last+1 {
			g.last = p.ContainerPort
			continue
		}
		result = append(result, portGroup(key, g.first, g.last))
		groups[key] = &group{p.ContainerPort, p.ContainerPort}
	}
	for _, k := range keys {
		result = append(result, portGroup(k, groups[k].first, groups[k].last))
	}
	return strings.Join(append(result, mappings...), ", ")
}

func portGroup(key string, first, last uint16) string {
	ip, typ, published := strings.Cut(key, "/")
	if !published {
		ip, typ = "", key
	}
	r := strconv.Itoa(int(first))
	if first != last {
		r += "-" + strconv.Itoa(int(last))
	}
	if published {
		r = fmt.Sprintf("%s->%s", net.JoinHostPort(ip, r), r)
	}
	return r + "/" + typ
}

func hostIP(p engine.PortMapping) string {
	if p.HostIP == "" {
		return "0.0.0.0"
	}
	return p.HostIP
}

func proto(p engine.PortMapping) string {
	if p.Protocol == "" {
		return "tcp"
	}
	return p.Protocol
}

// publisher is one entry of docker compose's `Publishers` (ps --format json).
type publisher struct {
	URL           string
	TargetPort    uint16
	PublishedPort uint16
	Protocol      string
}

// publishers lists ports as docker compose does: exposed-only ports with no
// URL and published port 0, sorted by target port.
func publishers(ps []engine.PortMapping) []publisher {
	out := []publisher{}
	for _, p := range ps {
		pub := publisher{TargetPort: p.ContainerPort, PublishedPort: p.HostPort, Protocol: proto(p)}
		if p.HostPort != 0 {
			pub.URL = hostIP(p)
		}
		out = append(out, pub)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].TargetPort != out[j].TargetPort {
			return out[i].TargetPort < out[j].TargetPort
		}
		return out[i].URL < out[j].URL
	})
	return out
}

// writeTemplate renders rows with a Go template, docker's way: "table
// TEMPLATE" writes header (rendered with the same template) first and
// aligns the columns.
func writeTemplate[T any](w io.Writer, format string, header T, rows []T) error {
	table := false
	if rest, ok := strings.CutPrefix(format, "table"); ok {
		table, format = true, strings.TrimLeft(rest, " ")
	}
	// Like docker, `\t` written in a flag means a tab.
	format = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(format)
	tmpl, err := template.New("format").Funcs(templateFuncs).Parse(format)
	if err != nil {
		return fmt.Errorf("template parsing error: %w", err)
	}
	out := w
	var tw *tabwriter.Writer
	if table {
		tw = tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		out = tw
		rows = append([]T{header}, rows...)
	}
	for _, r := range rows {
		if err := tmpl.Execute(out, r); err != nil {
			return fmt.Errorf("template: %w", err)
		}
		fmt.Fprintln(out)
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}
