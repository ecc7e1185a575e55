package podman

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cirun-dev/cirun/engine"
	"github.com/containers/podman/v4/libpod/define"
	"github.com/containers/podman/v4/pkg/api/handlers"
	"github.com/containers/podman/v4/pkg/bindings"
	"github.com/containers/podman/v4/pkg/bindings/containers"
	"github.com/containers/podman/v4/pkg/bindings/network"
	"github.com/containers/podman/v4/pkg/specgen"
	dockertypes "github.com/docker/docker/api/types"
	spec "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// waitInterval is how often the service polls a waited-for container's
// state (Podman's default is 250 ms, which adds up to that to every run).
const waitInterval = "50ms"

// createdPoll is how often WaitContainer looks whether a created container
// has been started.
const createdPoll = 50 * time.Millisecond

// CreateContainer creates a container from spec (see toSpecgen for the
// translation). A taken name gives ErrConflict, a missing image or network
// ErrNotFound.
func (e *Engine) CreateContainer(ctx context.Context, cs *engine.ContainerSpec) (string, error) {
	s, err := toSpecgen(cs)
	if err != nil {
		name := ""
		if cs != nil {
			name = cs.Name
		}
		return "", fmt.Errorf("creating container %s: %w", name, err)
	}
	if len(s.Rlimits) > 0 && strings.HasPrefix(e.endpoint, "unix://") {
		addHostRlimits(s)
	}
	if len(s.DNSServers) > 0 && len(cs.Networks) > 0 {
		e.keepNetworkDNS(ctx, s, cs.Networks)
	}
	resp, err := containers.CreateWithSpec(e.ctx(ctx), s, nil)
	if err != nil {
		return "", fmt.Errorf("creating container %s: %w", cs.Name, mapErr(err, nil))
	}
	return resp.ID, nil
}

// addHostRlimits completes the container's rlimits with this process's
// RLIMIT_NOFILE and RLIMIT_NPROC when the spec leaves them out: as soon as
// one ulimit is set, Podman 4.3 adds both at 1048576, which fails with EPERM
// where the hard limits are lower (containers, CI sandboxes). Only for a
// local service, whose limits are those of the host.
func addHostRlimits(s *specgen.SpecGenerator) {
	have := map[string]bool{}
	for _, r := range s.Rlimits {
		have[r.Type] = true
	}
	for name, res := range map[string]int{"nofile": unix.RLIMIT_NOFILE, "nproc": unix.RLIMIT_NPROC} {
		var lim unix.Rlimit
		if have[name] || unix.Getrlimit(res, &lim) != nil {
			continue
		}
		s.Rlimits = append(s.Rlimits, spec.POSIXRlimit{Type: name, Soft: lim.Cur, Hard: lim.Max})
	}
}

// keepNetworkDNS puts the networks' DNS servers (aardvark-dns, on each
// network's gateway) before the spec's own: with explicit DNS servers,
// Podman 4.3 writes only those into resolv.conf, and containers could no
// longer resolve each other by name as they do on docker.
func (e *Engine) keepNetworkDNS(ctx context.Context, s *specgen.SpecGenerator, nets []engine.NetworkAttachment) {
	var gws []net.IP
	for _, a := range nets {
		n, err := network.Inspect(e.ctx(ctx), a.Name, nil)
		if err != nil || !n.DNSEnabled {
			continue
		}
		for _, sub := range n.Subnets {
			if sub.Gateway != nil {
				gws = append(gws, sub.Gateway)
			}
		}
	}
	s.DNSServers = append(gws, s.DNSServers...)
}

// StartContainer starts a created or stopped container.
func (e *Engine) StartContainer(ctx context.Context, id string) error {
	if err := containers.Start(e.ctx(ctx), id, nil); err != nil {
		return fmt.Errorf("starting container %s: %w", id, mapErr(err, nil))
	}
	return nil
}

// StopContainer sends the container's stop signal and SIGKILL after
// timeout (0: at once; negative: the container's own stop timeout).
func (e *Engine) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	opts := new(containers.StopOptions)
	if timeout >= 0 {
		opts.WithTimeout(seconds(timeout))
	}
	if err := containers.Stop(e.ctx(ctx), id, opts); err != nil {
		return fmt.Errorf("stopping container %s: %w", id, mapErr(err, nil))
	}
	return nil
}

// KillContainer sends signal (a name like "SIGTERM"/"TERM" or a number;
// "" means SIGKILL). ErrNotRunning if the container is not running.
func (e *Engine) KillContainer(ctx context.Context, id string, sig string) error {
	if sig == "" {
		sig = "SIGKILL"
	}
	if _, err := signalNumber(sig); err != nil {
		return fmt.Errorf("killing container %s: %w", id, err)
	}
	if err := containers.Kill(e.ctx(ctx), id, new(containers.KillOptions).WithSignal(sig)); err != nil {
		return fmt.Errorf("killing container %s: %w", id, mapErr(err, engine.ErrNotRunning))
	}
	return nil
}

// PauseContainer freezes a running container.
func (e *Engine) PauseContainer(ctx context.Context, id string) error {
	if err := containers.Pause(e.ctx(ctx), id, nil); err != nil {
		return fmt.Errorf("pausing container %s: %w", id, mapErr(err, engine.ErrNotRunning))
	}
	return nil
}

// UnpauseContainer thaws a paused container.
func (e *Engine) UnpauseContainer(ctx context.Context, id string) error {
	if err := containers.Unpause(e.ctx(ctx), id, nil); err != nil {
		return fmt.Errorf("unpausing container %s: %w", id, mapErr(err, nil))
	}
	return nil
}

// RemoveContainer removes a container; ErrConflict if it runs and
// opts.Force is false.
func (e *Engine) RemoveContainer(ctx context.Context, id string, opts engine.RemoveOptions) error {
	o := new(containers.RemoveOptions).WithForce(opts.Force).WithVolumes(opts.Volumes)
	if opts.Force {
		o.WithTimeout(seconds(opts.Timeout))
	}
	reports, err := containers.Remove(e.ctx(ctx), id, o)
	if err != nil {
		return fmt.Errorf("removing container %s: %w", id, mapErr(err, nil))
	}
	for _, r := range reports {
		if r != nil && r.Err != nil {
			return fmt.Errorf("removing container %s: %w", id, mapErr(r.Err, nil))
		}
	}
	return nil
}

// ListContainers lists containers carrying every label in f.Labels
// (running ones only unless f.All), sorted by name (rest.Client).
func (e *Engine) ListContainers(ctx context.Context, f engine.Filter) ([]engine.Container, error) {
	return e.rest.ListContainers(e.ctx(ctx), f)
}

// InspectContainer returns a container's state; ErrNotFound if missing
// (rest.Client).
func (e *Engine) InspectContainer(ctx context.Context, id string) (engine.Container, error) {
	return e.rest.InspectContainer(e.ctx(ctx), id)
}

// WaitContainer blocks until the container has exited (it may not have been
// started yet) and returns its exit code. It waits for the "exited" and
// "stopped" conditions: Podman 4.3 reports 0 for "removed" whatever the
// container exited with.
func (e *Engine) WaitContainer(ctx context.Context, id string) (int, error) {
	// Podman takes a never-started container for an exited one and answers
	// at once with exit code 0: wait for the start by polling first.
	for {
		c, err := e.InspectContainer(ctx, id)
		if err != nil {
			return -1, fmt.Errorf("waiting for container %s: %w", id, errors.Unwrap(err))
		}
		if c.State != engine.StateCreated || !c.StartedAt.IsZero() {
			break
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("waiting for container %s: %w", id, ctx.Err())
		case <-time.After(createdPoll):
		}
	}
	opts := new(containers.WaitOptions).
		WithConditions([]string{string(define.ContainerStateExited.String()), define.ContainerStateStopped.String()}).
		WithInterval(waitInterval)
	code, err := containers.Wait(e.ctx(ctx), id, opts)
	if err != nil {
		if ctx.Err() != nil {
			return -1, fmt.Errorf("waiting for container %s: %w", id, ctx.Err())
		}
		return -1, fmt.Errorf("waiting for container %s: %w", id, mapErr(err, nil))
	}
	return int(code), nil
}

// ContainerLogs writes the container's logs, whole lines at a time.
func (e *Engine) ContainerLogs(ctx context.Context, id string, opts engine.LogOptions, stdout, stderr io.Writer) error {
	conn, err := bindings.GetClient(e.conn)
	if err != nil {
		return fmt.Errorf("reading logs of %s: %w", id, err)
	}
	params := url.Values{}
	params.Set("stdout", "true")
	params.Set("stderr", "true")
	params.Set("follow", strconv.FormatBool(opts.Follow))
	params.Set("timestamps", strconv.FormatBool(opts.Timestamps))
	if opts.Tail > 0 {
		params.Set("tail", strconv.Itoa(opts.Tail))
	}
	if !opts.Since.IsZero() {
		params.Set("since", strconv.FormatFloat(float64(opts.Since.UnixNano())/1e9, 'f', 9, 64))
	}
	if !opts.Until.IsZero() {
		params.Set("until", strconv.FormatFloat(float64(opts.Until.UnixNano())/1e9, 'f', 9, 64))
	}
	resp, err := conn.DoRequest(e.ctx(ctx), nil, "GET", "/containers/%s/logs", params, nil, id)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("reading logs of %s: %w", id, err)
	}
	defer resp.Body.Close()
	if !resp.IsSuccess() {
		return fmt.Errorf("reading logs of %s: %w", id, mapErr(resp.Process(nil), nil))
	}
	out, errOut := newLineWriter(stdout), newLineWriter(stderr)
	out.stamped, errOut.stamped = opts.Timestamps, opts.Timestamps
	err = demux(resp.Body, out, errOut)
	out.Flush()
	errOut.Flush()
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("reading logs of %s: %w", id, err)
	}
	return nil
}

// RunHealthCheck runs the container's check once through Podman, which
// records the result (status, failing streak, log), and reports the
// container's health after it.
func (e *Engine) RunHealthCheck(ctx context.Context, id string) (engine.HealthResult, error) {
	started := time.Now()
	_, runErr := containers.RunHealthCheck(e.ctx(ctx), id, nil)
	if runErr != nil {
		mapped := mapErr(runErr, engine.ErrNotRunning)
		if errors.Is(mapped, engine.ErrNotFound) || errors.Is(mapped, engine.ErrNotRunning) || errors.Is(mapped, engine.ErrConflict) {
			return engine.HealthResult{}, fmt.Errorf("running health check of %s: %w", id, mapped)
		}
		// Podman 4.3 answers a timed-out check with an error but records
		// it as a failure: report what it recorded.
	}
	d, err := containers.Inspect(e.ctx(ctx), id, new(containers.InspectOptions).WithSize(false))
	if err != nil {
		return engine.HealthResult{}, fmt.Errorf("running health check of %s: %w", id, mapErr(err, nil))
	}
	h := d.State.Health
	res := engine.HealthResult{Status: h.Status, FailingStreak: h.FailingStreak}
	if res.Status == "" {
		res.Status = engine.HealthStarting
	}
	if n := len(h.Log); n > 0 {
		last := h.Log[n-1]
		res.ExitCode, res.Output = last.ExitCode, last.Output
		if runErr != nil {
			if t, err := time.Parse(time.RFC3339Nano, last.Start); err != nil || t.Before(started.Add(-time.Second)) {
				return engine.HealthResult{}, fmt.Errorf("running health check of %s: %w", id, mapErr(runErr, nil))
			}
		}
	} else if runErr != nil {
		return engine.HealthResult{}, fmt.Errorf("running health check of %s: %w", id, mapErr(runErr, nil))
	}
	return res, nil
}

// Exec runs a command in a running container and returns its exit code;
// ErrNotRunning if the container is not running.
func (e *Engine) Exec(ctx context.Context, id string, spec engine.ExecSpec) (int, error) {
	if len(spec.Cmd) == 0 {
		return -1, fmt.Errorf("exec in %s: empty command", id)
	}
	cfg := &handlers.ExecCreateConfig{ExecConfig: dockertypes.ExecConfig{
		Cmd:          spec.Cmd,
		Env:          spec.Env,
		User:         spec.User,
		WorkingDir:   spec.WorkDir,
		Tty:          spec.Tty,
		Privileged:   spec.Privileged,
		AttachStdin:  spec.Streams.Stdin != nil && !spec.Detach,
		AttachStdout: true,
		AttachStderr: true,
	}}
	sid, err := containers.ExecCreate(e.ctx(ctx), id, cfg)
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", id, mapErr(err, engine.ErrNotRunning))
	}
	if spec.Detach {
		return e.execDetached(ctx, id, sid)
	}
	body := fmt.Sprintf(`{"Detach":false,"Tty":%t}`, spec.Tty)
	if err := e.attachStream(ctx, "/exec/"+url.PathEscape(sid)+"/start", body, spec.Tty, spec.Streams, nil); err != nil {
		return -1, fmt.Errorf("exec in %s: %w", id, mapErr(err, engine.ErrNotRunning))
	}
	// The session's exit code is recorded as its stream ends; poll briefly.
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := containers.ExecInspect(e.ctx(ctx), sid, nil)
		if err != nil {
			return -1, fmt.Errorf("exec in %s: reading exit code: %w", id, mapErr(err, nil))
		}
		if !info.Running {
			return info.ExitCode, nil
		}
		if time.Now().After(deadline) {
			return -1, fmt.Errorf("exec in %s: session %s still running after its output ended", id, sid)
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("exec in %s: %w", id, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// StartAttached attaches to the container, then starts it, and copies its
// output to s until the output ends. Attaching first loses no output.
func (e *Engine) StartAttached(ctx context.Context, id string, s engine.Streams) error {
	d, err := containers.Inspect(e.ctx(ctx), id, new(containers.InspectOptions).WithSize(false))
	if err != nil {
		return fmt.Errorf("attaching to %s: %w", id, mapErr(err, nil))
	}
	tty := d.Config != nil && d.Config.Tty
	q := "stream=true&stdout=true&stderr=true"
	if s.Stdin != nil {
		q += "&stdin=true"
	}
	start := func() error { return e.StartContainer(ctx, d.ID) }
	if err := e.attachStream(ctx, "/containers/"+d.ID+"/attach?"+q, "", tty, s, start); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("attached to %s: %w", id, ctx.Err())
		}
		return fmt.Errorf("attached to %s: %w", id, mapErr(err, nil))
	}
	return nil
}
