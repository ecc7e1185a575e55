package runner

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cirun-dev/cirun/engine"
)

// autoClock is a virtual clock: After advances time by d at once, so health
// loops run through minutes of schedule in microseconds, deterministically.
type autoClock struct {
	mu  sync.Mutex
	now time.Time
}

func newAutoClock() *autoClock { return &autoClock{now: time.Unix(1_700_000_000, 0)} }

func (c *autoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *autoClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	t := c.now
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- t
	return ch
}

// scriptedTarget is a container whose probes follow a script in virtual time.
type scriptedTarget struct {
	mu    sync.Mutex
	clock *autoClock
	start time.Time
	// readyAt: probes succeed from this offset after start on.
	readyAt time.Duration
	// exitAt: the container exits (code 1) at this offset; 0 = never.
	exitAt  time.Duration
	retries int

	execs, checks int
	healthyAt     time.Duration // first successful readiness probe
	streak        int
	status        string
	checkTimes    []time.Duration
}

func (s *scriptedTarget) ok() bool   { return s.clock.Now().Sub(s.start) >= s.readyAt }
func (s *scriptedTarget) dead() bool { return s.exitAt > 0 && s.clock.Now().Sub(s.start) >= s.exitAt }

func (s *scriptedTarget) RunHealthCheck(_ context.Context, _ string) (engine.HealthResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead() {
		return engine.HealthResult{}, engine.ErrNotRunning
	}
	s.checks++
	s.checkTimes = append(s.checkTimes, s.clock.Now().Sub(s.start))
	if s.status == "" {
		s.status = engine.HealthStarting
	}
	if s.ok() {
		s.streak, s.status = 0, engine.HealthHealthy
	} else if s.streak++; s.streak >= s.retries {
		s.status = engine.HealthUnhealthy
	}
	return engine.HealthResult{Status: s.status, FailingStreak: s.streak}, nil
}

func (s *scriptedTarget) Exec(_ context.Context, _ string, _ engine.ExecSpec) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead() {
		return 0, engine.ErrNotRunning
	}
	s.execs++
	if s.ok() {
		if s.healthyAt == 0 {
			s.healthyAt = s.clock.Now().Sub(s.start)
		}
		return 0, nil
	}
	return 1, nil
}

func (s *scriptedTarget) InspectContainer(_ context.Context, id string) (engine.Container, error) {
	if s.dead() {
		return engine.Container{ID: id, State: engine.StateExited, ExitCode: 1}, nil
	}
	return engine.Container{ID: id, State: engine.StateRunning}, nil
}

func runMonitor(t *testing.T, target *scriptedTarget, hc engine.Healthcheck) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := newMonitor(target, target.clock, "id", "p-db-1", hc, target.start, 100*time.Millisecond)
	mctx, stop := context.WithCancel(ctx)
	defer stop()
	go m.run(mctx)
	return m.waitHealthy(ctx)
}

func TestHealthReadinessProbesMakeHealthyBeforeTheInterval(t *testing.T) {
	clock := newAutoClock()
	target := &scriptedTarget{clock: clock, start: clock.Now(), readyAt: 1500 * time.Millisecond, retries: 3}
	err := runMonitor(t, target, engine.Healthcheck{Test: []string{"CMD", "true"}, Interval: 30 * time.Second})
	if err != nil {
		t.Fatalf("waitHealthy: %v", err)
	}
	// Healthy is known at the first readiness probe after 1.5 s, not at the
	// first 30 s interval tick.
	target.mu.Lock()
	defer target.mu.Unlock()
	if got := target.healthyAt; got > 2*time.Second {
		t.Errorf("healthy only after %s of virtual time, want about 1.5s", got)
	}
	if target.execs < 10 {
		t.Errorf("readiness probes = %d, want one per 100ms until ready", target.execs)
	}
}

func TestHealthReadinessFailuresDoNotCountAsRetries(t *testing.T) {
	clock := newAutoClock()
	// Ready after 50 s: with interval 10s and retries 3, docker declares it
	// unhealthy at the third recorded check (30 s), never earlier.
	target := &scriptedTarget{clock: clock, start: clock.Now(), readyAt: 50 * time.Second, retries: 3}
	err := runMonitor(t, target, engine.Healthcheck{Test: []string{"CMD", "true"}, Interval: 10 * time.Second, Retries: 3})
	var se *ServiceError
	if !errors.As(err, &se) || se.Reason != "is unhealthy" {
		t.Fatalf("waitHealthy = %v, want unhealthy", err)
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second}
	if len(target.checkTimes) != len(want) {
		t.Fatalf("recorded checks at %v, want %v", target.checkTimes, want)
	}
	for i, w := range want {
		if d := target.checkTimes[i] - w; d < 0 || d > 200*time.Millisecond {
			t.Errorf("recorded check %d at %s, want %s", i+1, target.checkTimes[i], w)
		}
	}
}

func TestHealthStartIntervalDuringStartPeriod(t *testing.T) {
	clock := newAutoClock()
	target := &scriptedTarget{clock: clock, start: clock.Now(), readyAt: time.Hour, retries: 1000}
	ctx, cancel := context.WithCancel(context.Background())
	m := newMonitor(target, clock, "id", "p-db-1", engine.Healthcheck{
		Test: []string{"CMD", "true"}, Interval: 30 * time.Second, StartPeriod: 10 * time.Second, StartInterval: 2 * time.Second,
	}, target.start, 100*time.Millisecond)
	done := make(chan struct{})
	go func() { m.run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		target.mu.Lock()
		n := len(target.checkTimes)
		target.mu.Unlock()
		if n >= 7 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond) // wall-clock poll of a virtual-time loop
	}
	cancel()
	<-done
	target.mu.Lock()
	defer target.mu.Unlock()
	// 2,4,6,8,10 s (start_interval inside start_period), then every 30 s.
	got := target.checkTimes
	if len(got) < 7 {
		t.Fatalf("only %d recorded checks: %v", len(got), got)
	}
	for i, w := range []time.Duration{2, 4, 6, 8, 10} {
		if d := got[i] - w*time.Second; d < 0 || d > 200*time.Millisecond {
			t.Errorf("check %d at %s, want %ds", i+1, got[i], w)
		}
	}
	if d := got[5] - got[4]; d < 29*time.Second {
		t.Errorf("after start_period the gap is %s, want the 30s interval", d)
	}
}

func TestHealthExitedContainerFailsFast(t *testing.T) {
	clock := newAutoClock()
	target := &scriptedTarget{clock: clock, start: clock.Now(), readyAt: time.Hour, exitAt: 3 * time.Second, retries: 100}
	err := runMonitor(t, target, engine.Healthcheck{Test: []string{"CMD", "true"}, Interval: time.Minute, Retries: 100})
	var se *ServiceError
	if !errors.As(err, &se) || se.Reason != "exited (1)" {
		t.Fatalf("waitHealthy = %v, want exited (1)", err)
	}
	if got := clock.Now().Sub(target.start); got > 4*time.Second {
		t.Errorf("exit noticed after %s, want right after 3s", got)
	}
}
