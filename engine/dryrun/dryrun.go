// Package dryrun is an engine.Engine for docker compose's --dry-run: reads
// go to the real engine; writes change nothing on it and are remembered, so
// that what the run reads afterwards (the containers it "created", the
// networks, the images it "pulled") looks as if they had happened. Like
// docker compose's dry-run client, a container it created is running and
// healthy as soon as it is started, exits with 0 at once, and runs no
// command; an exec runs nothing and exits 0.
package dryrun

import (
	"context"
	"errors"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/cirun-dev/cirun/engine"
)

// Engine wraps a real engine for a dry run. It is safe for concurrent use.
type Engine struct {
	engine.Engine // the real engine: every read not overridden below

	mu         sync.Mutex
	containers map[string]*engine.Container // created in this run, by ID
	gone       map[string]bool              // real containers, networks, volumes "removed"
	networks   map[string]engine.Network
	volumes    map[string]engine.Volume
	images     map[string]bool // pulled or built in this run
}

var _ engine.Engine = (*Engine)(nil)

// New wraps real.
func New(real engine.Engine) *Engine {
	return &Engine{
		Engine:     real,
		containers: map[string]*engine.Container{},
		gone:       map[string]bool{},
		networks:   map[string]engine.Network{},
		volumes:    map[string]engine.Volume{},
		images:     map[string]bool{},
	}
}

// fake returns the container created in this run with id, nil if none.
func (e *Engine) fake(id string) *engine.Container {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.containers[id]
}

// setState changes a container created in this run; false if id is not one.
func (e *Engine) setState(id, state string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.containers[id]
	if c == nil {
		return false
	}
	c.State = state
	switch state {
	case engine.StateRunning:
		c.StartedAt = time.Now()
		if c.Healthcheck != nil {
			c.Health = engine.HealthHealthy
		}
	case engine.StateExited:
		c.FinishedAt, c.ExitCode = time.Now(), 0
	}
	return true
}

// Images.

func (e *Engine) ImageExists(ctx context.Context, ref string) (bool, error) {
	e.mu.Lock()
	done := e.images[ref]
	e.mu.Unlock()
	if done {
		return true, nil
	}
	return e.Engine.ImageExists(ctx, ref)
}

func (e *Engine) InspectImage(ctx context.Context, ref string) (engine.Image, error) {
	img, err := e.Engine.InspectImage(ctx, ref)
	e.mu.Lock()
	done := e.images[ref]
	e.mu.Unlock()
	if err != nil && done && errors.Is(err, engine.ErrNotFound) {
		return engine.Image{ID: "dryRunId", Tags: []string{ref}}, nil
	}
	return img, err
}

// MarkImage records that the run produced ref (a build that did not run).
func (e *Engine) MarkImage(ref string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.images[ref] = true
}

func (e *Engine) PullImage(_ context.Context, ref string, _ engine.PullOptions) error {
	e.MarkImage(ref)
	return nil
}

func (e *Engine) RemoveImage(context.Context, string, bool) error             { return nil }
func (e *Engine) PushImage(context.Context, string, engine.PushOptions) error { return nil }

// Networks.

func (e *Engine) CreateNetwork(_ context.Context, spec engine.NetworkSpec) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.networks[spec.Name] = engine.Network{ID: spec.Name, Name: spec.Name, Driver: spec.Driver, Labels: spec.Labels, Internal: spec.Internal, Subnets: spec.Subnets}
	delete(e.gone, "network:"+spec.Name)
	return nil
}

func (e *Engine) InspectNetwork(ctx context.Context, name string) (engine.Network, error) {
	e.mu.Lock()
	n, ok := e.networks[name]
	gone := e.gone["network:"+name]
	e.mu.Unlock()
	switch {
	case ok:
		return n, nil
	case gone:
		return engine.Network{}, engine.ErrNotFound
	}
	return e.Engine.InspectNetwork(ctx, name)
}

func (e *Engine) ListNetworks(ctx context.Context, f engine.Filter) ([]engine.Network, error) {
	real, err := e.Engine.ListNetworks(ctx, f)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []engine.Network
	for _, n := range real {
		if _, ours := e.networks[n.Name]; !ours && !e.gone["network:"+n.Name] {
			out = append(out, n)
		}
	}
	for _, n := range e.networks {
		if engine.MatchLabels(n.Labels, f.Labels) {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (e *Engine) RemoveNetwork(_ context.Context, name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.networks, name)
	e.gone["network:"+name] = true
	return nil
}

// Volumes.

func (e *Engine) CreateVolume(_ context.Context, spec engine.VolumeSpec) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.volumes[spec.Name] = engine.Volume{Name: spec.Name, Driver: spec.Driver, Labels: spec.Labels}
	delete(e.gone, "volume:"+spec.Name)
	return nil
}

func (e *Engine) InspectVolume(ctx context.Context, name string) (engine.Volume, error) {
	e.mu.Lock()
	v, ok := e.volumes[name]
	gone := e.gone["volume:"+name]
	e.mu.Unlock()
	switch {
	case ok:
		return v, nil
	case gone:
		return engine.Volume{}, engine.ErrNotFound
	}
	return e.Engine.InspectVolume(ctx, name)
}

func (e *Engine) ListVolumes(ctx context.Context, f engine.Filter) ([]engine.Volume, error) {
	real, err := e.Engine.ListVolumes(ctx, f)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []engine.Volume
	for _, v := range real {
		if _, ours := e.volumes[v.Name]; !ours && !e.gone["volume:"+v.Name] {
			out = append(out, v)
		}
	}
	for _, v := range e.volumes {
		if engine.MatchLabels(v.Labels, f.Labels) {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (e *Engine) RemoveVolume(_ context.Context, name string, _ bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.volumes, name)
	e.gone["volume:"+name] = true
	return nil
}

// Containers.

func (e *Engine) CreateContainer(_ context.Context, spec *engine.ContainerSpec) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	labels := make(map[string]string, len(spec.Labels))
	for k, v := range spec.Labels {
		labels[k] = v
	}
	id := "dryrun-" + spec.Name
	e.containers[id] = &engine.Container{
		ID: id, Name: spec.Name, Image: spec.Image, Labels: labels, State: engine.StateCreated,
		Created: time.Now(), Command: spec.Command, Healthcheck: spec.Health, Ports: spec.Ports,
	}
	return id, nil
}

func (e *Engine) StartContainer(_ context.Context, id string) error {
	e.setState(id, engine.StateRunning)
	return nil
}

// StartAttached shows no output: the container runs nothing.
func (e *Engine) StartAttached(_ context.Context, id string, _ engine.Streams) error {
	e.setState(id, engine.StateRunning)
	return nil
}

func (e *Engine) StopContainer(_ context.Context, id string, _ time.Duration) error {
	e.setState(id, engine.StateExited)
	return nil
}

func (e *Engine) KillContainer(_ context.Context, id string, _ string) error {
	e.setState(id, engine.StateExited)
	return nil
}

func (e *Engine) PauseContainer(context.Context, string) error   { return nil }
func (e *Engine) UnpauseContainer(context.Context, string) error { return nil }

func (e *Engine) RemoveContainer(_ context.Context, id string, _ engine.RemoveOptions) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.containers[id]; ok {
		delete(e.containers, id)
		return nil
	}
	e.gone["container:"+id] = true
	return nil
}

func (e *Engine) ListContainers(ctx context.Context, f engine.Filter) ([]engine.Container, error) {
	real, err := e.Engine.ListContainers(ctx, f)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []engine.Container
	for _, c := range real {
		if !e.gone["container:"+c.ID] && !e.gone["container:"+c.Name] {
			out = append(out, c)
		}
	}
	for _, c := range e.containers {
		if (f.All || c.Running()) && engine.MatchLabels(c.Labels, f.Labels) {
			out = append(out, *c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (e *Engine) InspectContainer(ctx context.Context, id string) (engine.Container, error) {
	if c := e.fake(id); c != nil {
		e.mu.Lock()
		defer e.mu.Unlock()
		return *c, nil
	}
	return e.Engine.InspectContainer(ctx, id)
}

func (e *Engine) WaitContainer(ctx context.Context, id string) (int, error) {
	if e.setState(id, engine.StateExited) {
		return 0, nil
	}
	return e.Engine.WaitContainer(ctx, id)
}

func (e *Engine) ContainerLogs(ctx context.Context, id string, opts engine.LogOptions, stdout, stderr io.Writer) error {
	if e.fake(id) != nil {
		return nil
	}
	return e.Engine.ContainerLogs(ctx, id, opts, stdout, stderr)
}

func (e *Engine) RunHealthCheck(ctx context.Context, id string) (engine.HealthResult, error) {
	if e.fake(id) != nil {
		return engine.HealthResult{Status: engine.HealthHealthy}, nil
	}
	return e.Engine.RunHealthCheck(ctx, id)
}

// Exec runs nothing, in any container, and exits 0.
func (e *Engine) Exec(context.Context, string, engine.ExecSpec) (int, error) { return 0, nil }

func (e *Engine) TopContainer(ctx context.Context, id string, psArgs ...string) (engine.Processes, error) {
	if e.fake(id) != nil {
		return engine.Processes{}, nil
	}
	return e.Engine.TopContainer(ctx, id, psArgs...)
}

// Files.

func (e *Engine) StatPath(ctx context.Context, id, path string) (engine.PathStat, error) {
	if e.fake(id) != nil {
		return engine.PathStat{}, engine.ErrNotFound
	}
	return e.Engine.StatPath(ctx, id, path)
}

// CopyFrom copies nothing.
func (e *Engine) CopyFrom(ctx context.Context, id, path string, _ io.Writer) error {
	_, err := e.StatPath(ctx, id, path)
	return err
}

func (e *Engine) CopyTo(context.Context, string, string, io.Reader) error { return nil }
