package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cirun-dev/cirun/engine"
)

// Health checks. Podman 4 schedules healthchecks with systemd timers; in a CI
// pod there is no systemd, so health would never change. cirun runs them.
//
// Two kinds of probe:
//   - recorded checks (engine.RunHealthCheck) at docker's schedule: first one
//     `interval` after start (`start_interval` while in `start_period`), then
//     every `interval`. The engine records them and applies `retries` and
//     `start_period`, so its health status is docker's, and it is what
//     `podman ps`/`inspect` and later cirun invocations see.
//   - readiness probes (engine.Exec of the same test) every fastPoll while
//     the container is still starting. A success makes the container healthy
//     at once (and triggers a recorded check so the engine agrees); a failure
//     counts for nothing. This is what makes `up --wait` return as soon as a
//     service is ready instead of on the next interval tick, without ever
//     declaring a container unhealthy earlier than docker would.

// defaultFastPoll is the pause between readiness probes.
const defaultFastPoll = 100 * time.Millisecond

// healthEngine is the part of engine.Engine health monitoring uses.
type healthEngine interface {
	RunHealthCheck(ctx context.Context, id string) (engine.HealthResult, error)
	Exec(ctx context.Context, id string, spec engine.ExecSpec) (int, error)
	InspectContainer(ctx context.Context, id string) (engine.Container, error)
}

// healthState is what a monitor publishes.
type healthState struct {
	Status string // engine.Health* or "" before the first result
	// Recorded is the status of the last recorded check (what the engine
	// shows); it trails Status after a readiness probe succeeded.
	Recorded string
	Exited   bool
	ExitCode int
	Err      error // monitoring itself failed (engine unreachable, ...)
}

// monitor runs one container's healthchecks until its context ends.
type monitor struct {
	eng      healthEngine
	clock    Clock
	id       string
	name     string
	hc       engine.Healthcheck
	started  time.Time
	fastPoll time.Duration

	mu      sync.Mutex
	state   healthState
	changed chan struct{} // closed and replaced on every change
}

func newMonitor(eng healthEngine, clock Clock, id, name string, hc engine.Healthcheck, started time.Time, fastPoll time.Duration) *monitor {
	if fastPoll <= 0 {
		fastPoll = defaultFastPoll
	}
	return &monitor{
		eng: eng, clock: clock, id: id, name: name, hc: hc.WithDefaults(),
		started: started, fastPoll: fastPoll,
		state:   healthState{Status: engine.HealthStarting},
		changed: make(chan struct{}),
	}
}

func (m *monitor) publish(st healthState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st == m.state {
		return
	}
	m.state = st
	close(m.changed)
	m.changed = make(chan struct{})
}

// current returns the state and a channel closed on the next change.
func (m *monitor) current() (healthState, <-chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state, m.changed
}

// run probes until ctx is done or the container is gone.
func (m *monitor) run(ctx context.Context) {
	next := m.started.Add(m.gap(m.started, false))
	status := engine.HealthStarting
	recorded := ""
	for ctx.Err() == nil {
		now := m.clock.Now()
		switch {
		case !now.Before(next):
			res, err := m.eng.RunHealthCheck(ctx, m.id)
			if err != nil {
				if m.gone(ctx, err) {
					return
				}
			} else if res.Status != "" {
				status, recorded = res.Status, res.Status
			}
			next = m.clock.Now().Add(m.gap(m.clock.Now(), status == engine.HealthHealthy))
		case status != engine.HealthHealthy:
			pctx, cancel := context.WithTimeout(ctx, m.hc.Timeout)
			code, err := m.eng.Exec(pctx, m.id, engine.ExecSpec{Cmd: m.hc.Command()})
			cancel()
			if err != nil && ctx.Err() == nil && m.gone(ctx, err) {
				return
			}
			if err == nil && code == 0 {
				status = engine.HealthHealthy
				next = m.clock.Now() // record it in the engine right away
			}
		}
		m.publish(healthState{Status: status, Recorded: recorded})
		if status == engine.HealthUnhealthy {
			// Waiters fail on unhealthy (docker compose does); nothing in
			// this process needs the container's health after that.
			return
		}
		wait := next.Sub(m.clock.Now())
		if status != engine.HealthHealthy && wait > m.fastPoll {
			wait = m.fastPoll
		}
		if wait <= 0 {
			continue
		}
		select {
		case <-ctx.Done():
		case <-m.clock.After(wait):
		}
	}
}

// gap is the time to the next recorded check.
func (m *monitor) gap(now time.Time, healthy bool) time.Duration {
	if !healthy && m.hc.StartPeriod > 0 && now.Sub(m.started) < m.hc.StartPeriod {
		return m.hc.StartInterval
	}
	return m.hc.Interval
}

// gone inspects the container after a failed probe: it publishes and
// returns true when the container stopped (or monitoring cannot go on).
func (m *monitor) gone(ctx context.Context, probeErr error) bool {
	c, err := m.eng.InspectContainer(ctx, m.id)
	if err != nil {
		if ctx.Err() != nil {
			return true
		}
		m.publish(healthState{Status: m.snapshot().Status, Err: fmt.Errorf("health check of %s: %w", m.name, errors.Join(probeErr, err))})
		return true
	}
	if !c.Running() {
		m.publish(healthState{Status: m.snapshot().Status, Exited: true, ExitCode: c.ExitCode})
		return true
	}
	return false
}

func (m *monitor) snapshot() healthState {
	st, _ := m.current()
	return st
}

// waitRecorded blocks until the engine has recorded the healthy status the
// monitor reports (or the monitor says otherwise, or ctx ends), so a command
// that returns after `--wait` leaves `podman ps` showing "healthy".
func (m *monitor) waitRecorded(ctx context.Context) {
	for {
		st, ch := m.current()
		if st.Status != engine.HealthHealthy || st.Recorded == engine.HealthHealthy || st.Exited || st.Err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
	}
}

// waitHealthy blocks until the monitor reports healthy (nil), unhealthy or
// exited (a *ServiceError without logs), or ctx ends.
func (m *monitor) waitHealthy(ctx context.Context) error {
	for {
		st, ch := m.current()
		switch {
		case st.Err != nil:
			return st.Err
		case st.Exited:
			return &ServiceError{Container: m.name, Reason: fmt.Sprintf("exited (%d)", st.ExitCode)}
		case st.Status == engine.HealthHealthy:
			return nil
		case st.Status == engine.HealthUnhealthy:
			return &ServiceError{Container: m.name, Reason: "is unhealthy"}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}
