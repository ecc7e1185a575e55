package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cirun-dev/cirun/engine"
)

// listedContainer is the part of Podman's container list entry
// (entities.ListContainer) cirun reads.
type listedContainer struct {
	ID        string            `json:"Id"`
	Image     string            `json:"Image"`
	ImageID   string            `json:"ImageID"`
	Labels    map[string]string `json:"Labels"`
	Names     []string          `json:"Names"`
	Networks  []string          `json:"Networks"`
	Command   []string          `json:"Command"`
	State     string            `json:"State"`
	Status    string            `json:"Status"`
	ExitCode  int32             `json:"ExitCode"`
	Created   time.Time         `json:"Created"`
	StartedAt int64             `json:"StartedAt"`
	ExitedAt  int64             `json:"ExitedAt"`
	Ports     []struct {
		HostIP        string `json:"host_ip"`
		ContainerPort uint16 `json:"container_port"`
		HostPort      uint16 `json:"host_port"`
		Range         uint16 `json:"range"`
		Protocol      string `json:"protocol"`
	} `json:"Ports"`
}

// HealthConfig is the healthcheck Podman records on a container (Docker's
// schema2 HealthConfig; durations in nanoseconds).
type HealthConfig struct {
	Test        []string      `json:",omitempty"`
	StartPeriod time.Duration `json:",omitempty"`
	Interval    time.Duration `json:",omitempty"`
	Timeout     time.Duration `json:",omitempty"`
	Retries     int           `json:",omitempty"`
}

// inspectedContainer is the part of Podman's container inspect answer
// (define.InspectContainerData) cirun reads.
type inspectedContainer struct {
	ID        string    `json:"Id"`
	Name      string    `json:"Name"`
	Image     string    `json:"Image"`
	ImageName string    `json:"ImageName"`
	Created   time.Time `json:"Created"`
	Path      string    `json:"Path"`
	Args      []string  `json:"Args"`
	Config    *struct {
		Labels      map[string]string `json:"Labels"`
		Healthcheck *HealthConfig     `json:"Healthcheck"`
	} `json:"Config"`
	State *struct {
		Status     string    `json:"Status"`
		ExitCode   int32     `json:"ExitCode"`
		StartedAt  time.Time `json:"StartedAt"`
		FinishedAt time.Time `json:"FinishedAt"`
		Health     struct {
			Status string `json:"Status"`
		} `json:"Health"`
	} `json:"State"`
	Mounts []struct {
		Type        string `json:"Type"`
		Name        string `json:"Name"`
		Source      string `json:"Source"`
		Destination string `json:"Destination"`
		RW          bool   `json:"RW"`
	} `json:"Mounts"`
	NetworkSettings *struct {
		Networks map[string]json.RawMessage `json:"Networks"`
		Ports    map[string][]struct {
			HostIP   string `json:"HostIp"`
			HostPort string `json:"HostPort"`
		} `json:"Ports"`
	} `json:"NetworkSettings"`
}

// ListContainers lists containers carrying every label in f.Labels
// (running ones only unless f.All), sorted by name. Podman 4.3's list
// carries no health check: listed containers have Healthcheck nil and the
// Health their status line shows (InspectContainer has both).
func (c *Client) ListContainers(ctx context.Context, f engine.Filter) ([]engine.Container, error) {
	q := url.Values{}
	if f.All {
		q.Set("all", "true")
	}
	if lf := LabelFilters(f.Labels); len(lf) > 0 {
		b, _ := json.Marshal(map[string][]string{"label": lf})
		q.Set("filters", string(b))
	}
	var list []listedContainer
	if err := c.get(ctx, "/containers/json", q, &list); err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	out := make([]engine.Container, 0, len(list))
	for _, lc := range list {
		if !engine.MatchLabels(lc.Labels, f.Labels) {
			continue
		}
		out = append(out, lc.container())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// InspectContainer returns a container's state; ErrNotFound if missing.
func (c *Client) InspectContainer(ctx context.Context, id string) (engine.Container, error) {
	var d inspectedContainer
	if err := c.get(ctx, "/containers/"+url.PathEscape(id)+"/json", url.Values{"size": {"false"}}, &d); err != nil {
		return engine.Container{}, fmt.Errorf("inspecting container %s: %w", id, err)
	}
	return d.container(), nil
}

// LabelFilters renders labels as Podman's label filters.
func LabelFilters(labels map[string]string) []string {
	var out []string
	for k, v := range labels {
		if v == "" {
			out = append(out, k)
		} else {
			out = append(out, k+"="+v)
		}
	}
	sort.Strings(out)
	return out
}

func (lc listedContainer) container() engine.Container {
	out := engine.Container{
		ID:       lc.ID,
		Image:    lc.Image,
		ImageID:  lc.ImageID,
		Labels:   lc.Labels,
		State:    State(lc.State),
		ExitCode: int(lc.ExitCode),
		Created:  lc.Created,
		Networks: append([]string(nil), lc.Networks...),
		Command:  lc.Command,
	}
	if len(lc.Names) > 0 {
		out.Name = lc.Names[0]
	}
	if lc.StartedAt > 0 {
		out.StartedAt = time.Unix(lc.StartedAt, 0)
	}
	if lc.ExitedAt > 0 && out.Exited() {
		out.FinishedAt = time.Unix(lc.ExitedAt, 0)
	}
	for _, h := range []string{engine.HealthHealthy, engine.HealthUnhealthy, engine.HealthStarting} {
		if strings.Contains(lc.Status, "("+h+")") {
			out.Health = h
		}
	}
	for _, p := range lc.Ports {
		for i := uint16(0); i < max(p.Range, 1); i++ {
			out.Ports = append(out.Ports, engine.PortMapping{
				HostIP: p.HostIP, HostPort: p.HostPort + i, ContainerPort: p.ContainerPort + i, Protocol: p.Protocol,
			})
		}
	}
	sort.Strings(out.Networks)
	return out
}

// State maps Podman's state names to engine's.
func State(s string) string {
	switch s {
	case "configured", "initialized", "created":
		return engine.StateCreated
	case "stopping":
		return engine.StateRunning
	}
	return s
}

// podmanInit is where Podman mounts its init for `init: true` containers.
const podmanInit = "/run/podman-init"

func (d inspectedContainer) container() engine.Container {
	c := engine.Container{
		ID:      d.ID,
		Name:    d.Name,
		Image:   d.ImageName,
		ImageID: d.Image,
		Created: d.Created,
	}
	if d.Path != "" {
		c.Command = append([]string{d.Path}, d.Args...)
		// With `init: true` Podman runs the command under its init; docker
		// reports the command without its own init, so do the same.
		if d.Path == podmanInit && len(d.Args) > 0 && d.Args[0] == "--" {
			c.Command = append([]string(nil), d.Args[1:]...)
		}
	}
	if d.Config != nil {
		c.Labels = d.Config.Labels
		c.Healthcheck = d.Config.Healthcheck.Engine(d.Config.Labels)
	}
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	if st := d.State; st != nil {
		c.State = State(st.Status)
		c.ExitCode = int(st.ExitCode)
		c.StartedAt = st.StartedAt
		c.FinishedAt = st.FinishedAt
		if c.Healthcheck != nil {
			c.Health = st.Health.Status
			if c.Health == "" {
				c.Health = engine.HealthStarting
			}
		}
	}
	for _, m := range d.Mounts {
		em := engine.Mount{Type: m.Type, Source: m.Source, Target: m.Destination, ReadOnly: !m.RW}
		if m.Type == engine.MountVolume {
			em.Source = m.Name
		}
		c.Mounts = append(c.Mounts, em)
	}
	if ns := d.NetworkSettings; ns != nil {
		for name, raw := range ns.Networks {
			c.Networks = append(c.Networks, name)
			var n struct {
				IPAddress string `json:"IPAddress"`
			}
			if json.Unmarshal(raw, &n) == nil && n.IPAddress != "" {
				if c.IPs == nil {
					c.IPs = map[string]string{}
				}
				c.IPs[name] = n.IPAddress
			}
		}
		sort.Strings(c.Networks)
		for key, binds := range ns.Ports {
			portStr, proto, _ := strings.Cut(key, "/")
			cport, err := strconv.ParseUint(portStr, 10, 16)
			if err != nil {
				continue
			}
			if len(binds) == 0 { // exposed, not published
				c.Ports = append(c.Ports, engine.PortMapping{ContainerPort: uint16(cport), Protocol: proto})
			}
			for _, b := range binds {
				hport, _ := strconv.ParseUint(b.HostPort, 10, 16)
				c.Ports = append(c.Ports, engine.PortMapping{
					HostIP: b.HostIP, HostPort: uint16(hport), ContainerPort: uint16(cport), Protocol: proto,
				})
			}
		}
		sort.Slice(c.Ports, func(i, j int) bool { return c.Ports[i].ContainerPort < c.Ports[j].ContainerPort })
	}
	return c
}

// Engine turns Podman's recorded check back into engine's form, with the
// interval and start interval from cirun's labels (Podman 4.3 keeps whole
// seconds only). nil, or a NONE test, is no healthcheck.
func (hc *HealthConfig) Engine(labels map[string]string) *engine.Healthcheck {
	if hc == nil || len(hc.Test) == 0 || strings.EqualFold(hc.Test[0], "NONE") {
		return nil
	}
	h := &engine.Healthcheck{
		Test:        append([]string(nil), hc.Test...),
		Interval:    hc.Interval,
		Timeout:     hc.Timeout,
		StartPeriod: hc.StartPeriod,
		Retries:     hc.Retries,
	}
	if d, err := time.ParseDuration(labels[LabelHealthInterval]); err == nil {
		h.Interval = d
	}
	if d, err := time.ParseDuration(labels[LabelHealthStartInterval]); err == nil {
		h.StartInterval = d
	}
	return h
}
