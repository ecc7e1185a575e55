package fake

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cirun-dev/cirun/engine"
)

// lookup finds a container by ID, name or unique ID prefix; callers hold
// e.mu.
func (e *Engine) lookup(nameOrID string) (*container, error) {
	if nameOrID == "" {
		return nil, fmt.Errorf("container %q: %w", nameOrID, engine.ErrNotFound)
	}
	if c, ok := e.containers[nameOrID]; ok {
		return c, nil
	}
	var found *container
	for id, c := range e.containers {
		if c.c.Name == nameOrID {
			return c, nil
		}
		if strings.HasPrefix(id, nameOrID) {
			if found != nil {
				return nil, fmt.Errorf("container %q: ambiguous ID prefix", nameOrID)
			}
			found = c
		}
	}
	if found == nil {
		return nil, fmt.Errorf("container %s: %w", nameOrID, engine.ErrNotFound)
	}
	return found, nil
}

// notify wakes log followers; callers hold e.mu.
func (c *container) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// snapshot copies the container's public state; callers hold e.mu.
func (c *container) snapshot() engine.Container {
	out := c.c
	out.Labels = copyMap(c.c.Labels)
	out.Ports = append([]engine.PortMapping(nil), c.c.Ports...)
	out.Networks = append([]string(nil), c.c.Networks...)
	out.Command = append([]string(nil), c.c.Command...)
	if c.c.Healthcheck != nil {
		h := *c.c.Healthcheck
		h.Test = append([]string(nil), h.Test...)
		out.Healthcheck = &h
	}
	return out
}

// CreateContainer creates a container. A taken name gives ErrConflict, an
// unknown image, network or volume driver ErrNotFound.
func (e *Engine) CreateContainer(_ context.Context, spec *engine.ContainerSpec) (string, error) {
	if spec == nil {
		return "", fmt.Errorf("creating container: nil spec")
	}
	e.lock()
	defer e.mu.Unlock()
	e.record("create %s", spec.Name)
	name := spec.Name
	if name != "" {
		for _, c := range e.containers {
			if c.c.Name == name {
				return "", fmt.Errorf("creating container %s: name in use: %w", name, engine.ErrConflict)
			}
		}
	}
	img := e.image(spec.Image)
	if img == nil {
		return "", fmt.Errorf("creating container %s: image %s: %w", name, spec.Image, engine.ErrNotFound)
	}
	var nets []string
	for _, n := range spec.Networks {
		if _, ok := e.networks[n.Name]; !ok {
			return "", fmt.Errorf("creating container %s: network %s: %w", name, n.Name, engine.ErrNotFound)
		}
		nets = append(nets, n.Name)
	}
	for _, m := range spec.Mounts {
		switch m.Type {
		case engine.MountBind, engine.MountTmpfs:
		case engine.MountVolume:
			if m.Source != "" && e.volumes[m.Source] == nil {
				e.addVolume(engine.VolumeSpec{Name: m.Source})
			}
		default:
			return "", fmt.Errorf("creating container %s: mount %s: unknown type %q", name, m.Target, m.Type)
		}
	}
	id := e.newID()
	if name == "" {
		name = "fake_" + id[:12]
	}
	sp := *spec
	sp.Name = name
	c := &container{spec: sp, changed: make(chan struct{}), done: make(chan struct{})}
	c.c = engine.Container{
		ID: id, Name: name, Image: spec.Image, ImageID: img.ID,
		Labels: copyMap(spec.Labels), State: engine.StateCreated,
		Created: e.now(), Networks: nets,
		Command: append(append([]string(nil), spec.Entrypoint...), spec.Command...),
	}
	if !spec.Health.Disabled() {
		h := *spec.Health
		h.Test = append([]string(nil), h.Test...)
		c.c.Healthcheck = &h
	}
	for _, p := range spec.Ports {
		if p.Protocol == "" {
			p.Protocol = "tcp"
		}
		if p.HostPort == 0 {
			p.HostPort = uint16(32768 + e.seq%20000)
			e.seq++
		}
		c.c.Ports = append(c.c.Ports, p)
	}
	e.containers[id] = c
	e.emit(c, "create")
	return id, nil
}

// StartContainer runs the container's interpreted command: it exits at once
// when the command is made of echo/exit/true/false, and keeps running
// otherwise.
func (e *Engine) StartContainer(ctx context.Context, id string) error {
	_, err := e.start(ctx, id, "start")
	return err
}

// start starts a container and returns the channel closed when it exits.
func (e *Engine) start(_ context.Context, id, verb string) (<-chan struct{}, error) {
	e.lock()
	c, err := e.lookup(id)
	if err != nil {
		e.mu.Unlock()
		return nil, fmt.Errorf("starting container: %w", err)
	}
	e.record("%s %s", verb, c.c.Name)
	if c.c.Running() {
		done := c.done
		e.mu.Unlock()
		return done, nil // docker and podman: starting a running container is a no-op
	}
	snap := c.snapshot()
	e.mu.Unlock()

	if e.OnStart != nil {
		if err := e.OnStart(snap); err != nil {
			return nil, fmt.Errorf("starting container %s: %w", snap.Name, err)
		}
	}
	res := interpret(snap.Command, true)

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.containers[c.c.ID] != c {
		return nil, fmt.Errorf("starting container %s: %w", snap.Name, engine.ErrNotFound)
	}
	now := e.now()
	c.done = make(chan struct{})
	c.c.State = engine.StateRunning
	c.c.StartedAt = now
	c.c.FinishedAt = time.Time{}
	c.c.ExitCode = 0
	c.streak, c.started = 0, false
	if c.c.Healthcheck != nil {
		c.c.Health = engine.HealthStarting
	}
	for _, l := range res.out {
		c.logs = append(c.logs, logLine{at: now, stderr: l.stderr, text: l.text})
	}
	done := c.done
	e.emit(c, "start")
	if !res.blocked {
		e.exit(c, res.code)
	} else {
		c.notify()
	}
	return done, nil
}

// exit ends the container's current run with code; callers hold e.mu.
func (e *Engine) exit(c *container, code int) {
	if !c.c.Running() {
		return
	}
	c.c.State = engine.StateExited
	c.c.ExitCode = code
	c.c.FinishedAt = e.now()
	close(c.done)
	e.emit(c, "die")
	c.notify()
	if c.spec.AutoRemove {
		e.emit(c, "destroy")
		delete(e.containers, c.c.ID)
	}
}

// Exit makes a running container exit with code, as if its process ended
// (a crash or a finished job).
func (e *Engine) Exit(nameOrID string, code int) error {
	e.lock()
	defer e.mu.Unlock()
	c, err := e.lookup(nameOrID)
	if err != nil {
		return err
	}
	if !c.c.Running() {
		return fmt.Errorf("exiting container %s: %w", c.c.Name, engine.ErrNotRunning)
	}
	e.exit(c, code)
	return nil
}

// AppendLog adds a line to a container's output, as if its process had
// written it (stderr selects the stream).
func (e *Engine) AppendLog(nameOrID string, stderr bool, text string) error {
	e.lock()
	defer e.mu.Unlock()
	c, err := e.lookup(nameOrID)
	if err != nil {
		return err
	}
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		c.logs = append(c.logs, logLine{at: e.now(), stderr: stderr, text: l})
	}
	c.notify()
	return nil
}

// StartAttached starts the container and copies its output to s until it
// exits or ctx is done.
func (e *Engine) StartAttached(ctx context.Context, id string, s engine.Streams) error {
	e.lock()
	c, err := e.lookup(id)
	if err != nil {
		e.mu.Unlock()
		return fmt.Errorf("attaching to container: %w", err)
	}
	from := len(c.logs)
	e.mu.Unlock()
	done, err := e.start(ctx, id, "attach+start")
	if err != nil {
		return err
	}
	copied := from
	flush := func() {
		e.mu.Lock()
		lines := append([]logLine(nil), c.logs[min(copied, len(c.logs)):]...)
		copied = len(c.logs)
		e.mu.Unlock()
		for _, l := range lines {
			w := s.Stdout
			if l.stderr {
				w = s.Stderr
			}
			if w != nil {
				_, _ = io.WriteString(w, l.text+"\n")
			}
		}
	}
	for {
		e.mu.Lock()
		changed := c.changed
		e.mu.Unlock()
		flush()
		select {
		case <-done:
			flush()
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// StopContainer stops a running container (exit code StopExitCode, default
// 143); stopping a stopped container is a no-op.
func (e *Engine) StopContainer(_ context.Context, id string, _ time.Duration) error {
	e.lock()
	defer e.mu.Unlock()
	c, err := e.lookup(id)
	if err != nil {
		return fmt.Errorf("stopping container: %w", err)
	}
	e.record("stop %s", c.c.Name)
	code := e.StopExitCode
	if code == 0 {
		code = 143
	}
	e.exit(c, code)
	e.emit(c, "stop")
	return nil
}

// KillContainer sends a signal: the container exits with 128+signal.
func (e *Engine) KillContainer(_ context.Context, id string, signal string) error {
	e.lock()
	defer e.mu.Unlock()
	c, err := e.lookup(id)
	if err != nil {
		return fmt.Errorf("killing container: %w", err)
	}
	e.record("kill %s", c.c.Name)
	if !c.c.Running() {
		return fmt.Errorf("killing container %s: %w", c.c.Name, engine.ErrNotRunning)
	}
	e.emit(c, "kill")
	e.exit(c, 128+signalNumber(signal))
	return nil
}

func signalNumber(s string) int {
	s = strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return n
	}
	switch s {
	case "HUP":
		return 1
	case "INT":
		return 2
	case "QUIT":
		return 3
	case "USR1":
		return 10
	case "USR2":
		return 12
	case "TERM":
		return 15
	}
	return 9
}

// PauseContainer pauses a running container.
func (e *Engine) PauseContainer(_ context.Context, id string) error {
	return e.setPaused(id, true)
}

// UnpauseContainer resumes a paused container.
func (e *Engine) UnpauseContainer(_ context.Context, id string) error {
	return e.setPaused(id, false)
}

func (e *Engine) setPaused(id string, pause bool) error {
	e.lock()
	defer e.mu.Unlock()
	c, err := e.lookup(id)
	if err != nil {
		return err
	}
	from, to, verb := engine.StateRunning, engine.StatePaused, "pause"
	if !pause {
		from, to, verb = engine.StatePaused, engine.StateRunning, "unpause"
	}
	e.record("%s %s", verb, c.c.Name)
	if c.c.State != from {
		if !c.c.Running() {
			return fmt.Errorf("%s container %s: %w", verb, c.c.Name, engine.ErrNotRunning)
		}
		return fmt.Errorf("%s container %s: state %s: %w", verb, c.c.Name, c.c.State, engine.ErrConflict)
	}
	c.c.State = to
	e.emit(c, verb)
	c.notify()
	return nil
}

// RemoveContainer removes a container; a running one only with Force.
func (e *Engine) RemoveContainer(_ context.Context, id string, opts engine.RemoveOptions) error {
	e.lock()
	defer e.mu.Unlock()
	c, err := e.lookup(id)
	if err != nil {
		return fmt.Errorf("removing container: %w", err)
	}
	e.record("remove %s", c.c.Name)
	if c.c.Running() {
		if !opts.Force {
			return fmt.Errorf("removing container %s: it is running: %w", c.c.Name, engine.ErrConflict)
		}
		e.exit(c, 137)
	}
	e.emit(c, "destroy")
	delete(e.containers, c.c.ID)
	return nil
}

// ListContainers returns the containers matching f (running ones only
// unless f.All), sorted by name.
func (e *Engine) ListContainers(_ context.Context, f engine.Filter) ([]engine.Container, error) {
	e.lock()
	defer e.mu.Unlock()
	var out []engine.Container
	for _, c := range e.containers {
		if (f.All || c.c.Running()) && engine.MatchLabels(c.c.Labels, f.Labels) {
			out = append(out, c.snapshot())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// InspectContainer returns a container's state; ErrNotFound if missing.
func (e *Engine) InspectContainer(_ context.Context, id string) (engine.Container, error) {
	e.lock()
	defer e.mu.Unlock()
	c, err := e.lookup(id)
	if err != nil {
		return engine.Container{}, fmt.Errorf("inspecting container: %w", err)
	}
	out := c.snapshot()
	out.Mounts = append([]engine.Mount(nil), c.spec.Mounts...)
	return out, nil
}

// WaitContainer blocks until the container is not running (it may not have
// been started yet) and returns its exit code.
func (e *Engine) WaitContainer(ctx context.Context, id string) (int, error) {
	e.lock()
	if c, err := e.lookup(id); err == nil {
		e.record("wait %s", c.c.Name)
	}
	e.mu.Unlock()
	for {
		e.lock()
		c, err := e.lookup(id)
		if err != nil {
			e.mu.Unlock()
			return -1, fmt.Errorf("waiting for container: %w", err)
		}
		if c.c.Exited() {
			code := c.c.ExitCode
			e.mu.Unlock()
			return code, nil
		}
		changed := c.changed
		e.mu.Unlock()
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("waiting for container %s: %w", id, ctx.Err())
		case <-changed:
		}
	}
}

// ContainerLogs writes the container's output lines to stdout and stderr.
func (e *Engine) ContainerLogs(ctx context.Context, id string, opts engine.LogOptions, stdout, stderr io.Writer) error {
	e.lock()
	c, err := e.lookup(id)
	if err != nil {
		e.mu.Unlock()
		return fmt.Errorf("reading logs: %w", err)
	}
	lines := append([]logLine(nil), c.logs...)
	e.mu.Unlock()
	if !opts.Since.IsZero() || !opts.Until.IsZero() {
		var kept []logLine
		for _, l := range lines {
			if !l.at.Before(opts.Since) && (opts.Until.IsZero() || !l.at.After(opts.Until)) {
				kept = append(kept, l)
			}
		}
		lines = kept
	}
	if opts.Tail > 0 && len(lines) > opts.Tail {
		lines = lines[len(lines)-opts.Tail:]
	}
	write := func(ls []logLine) {
		for _, l := range ls {
			w := stdout
			if l.stderr {
				w = stderr
			}
			if w == nil {
				continue
			}
			text := l.text + "\n"
			if opts.Timestamps {
				text = l.at.UTC().Format(time.RFC3339Nano) + " " + text
			}
			_, _ = io.WriteString(w, text)
		}
	}
	write(lines)
	if !opts.Follow {
		return nil
	}
	e.mu.Lock()
	seen := len(c.logs)
	e.mu.Unlock()
	for {
		e.mu.Lock()
		more := append([]logLine(nil), c.logs[min(seen, len(c.logs)):]...)
		seen = len(c.logs)
		running := c.c.Running() && e.containers[c.c.ID] == c
		changed := c.changed
		e.mu.Unlock()
		write(more)
		if !running {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// RunHealthCheck runs the container's check once and updates its health as
// docker does: success makes it healthy; a failure counts towards Retries
// unless it falls in the start period before any success.
func (e *Engine) RunHealthCheck(_ context.Context, id string) (engine.HealthResult, error) {
	e.lock()
	c, err := e.lookup(id)
	if err != nil {
		e.mu.Unlock()
		return engine.HealthResult{}, fmt.Errorf("running health check: %w", err)
	}
	e.record("health %s", c.c.Name)
	if c.c.Healthcheck == nil {
		e.mu.Unlock()
		return engine.HealthResult{}, fmt.Errorf("running health check of %s: no healthcheck: %w", c.c.Name, engine.ErrConflict)
	}
	if c.c.State != engine.StateRunning {
		e.mu.Unlock()
		return engine.HealthResult{}, fmt.Errorf("running health check of %s: %w", c.c.Name, engine.ErrNotRunning)
	}
	snap := c.snapshot()
	e.mu.Unlock()

	cmd := snap.Healthcheck.Command()
	var code int
	var output string
	if e.OnHealth != nil {
		code = e.OnHealth(snap, cmd)
	} else {
		res := interpret(cmd, false)
		code = res.code
		for _, l := range res.out {
			output += l.text + "\n"
		}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.containers[snap.ID] != c || c.c.State != engine.StateRunning {
		return engine.HealthResult{}, fmt.Errorf("running health check of %s: %w", snap.Name, engine.ErrNotRunning)
	}
	h := c.c.Healthcheck.WithDefaults()
	switch {
	case code == 0:
		c.c.Health = engine.HealthHealthy
		c.streak = 0
		c.started = true
	case !c.started && e.now().Before(c.c.StartedAt.Add(h.StartPeriod)):
		// A failure in the start period does not count.
	default:
		c.streak++
		if c.streak >= h.Retries {
			c.c.Health = engine.HealthUnhealthy
		}
	}
	c.notify()
	return engine.HealthResult{Status: c.c.Health, FailingStreak: c.streak, ExitCode: code, Output: output}, nil
}

// Exec runs an interpreted command (or OnExec) in a running container.
func (e *Engine) Exec(_ context.Context, id string, spec engine.ExecSpec) (int, error) {
	e.lock()
	c, err := e.lookup(id)
	if err != nil {
		e.mu.Unlock()
		return -1, fmt.Errorf("exec: %w", err)
	}
	e.record("exec %s %s", c.c.Name, strings.Join(spec.Cmd, " "))
	if c.c.State != engine.StateRunning {
		e.mu.Unlock()
		return -1, fmt.Errorf("exec in %s: %w", c.c.Name, engine.ErrNotRunning)
	}
	snap := c.snapshot()
	e.mu.Unlock()
	if len(spec.Cmd) == 0 {
		return -1, fmt.Errorf("exec in %s: empty command", snap.Name)
	}
	if e.OnExec != nil {
		code := e.OnExec(snap, append([]string(nil), spec.Cmd...))
		if spec.Detach {
			return 0, nil
		}
		return code, nil
	}
	res := interpret(spec.Cmd, false)
	if spec.Detach {
		return 0, nil
	}
	writeLines(spec.Streams.Stdout, res.out, false)
	writeLines(spec.Streams.Stderr, res.out, true)
	return res.code, nil
}
