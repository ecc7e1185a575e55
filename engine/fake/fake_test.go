package fake_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/enginetest"
	"github.com/cirun-dev/cirun/engine/fake"
	"github.com/cirun-dev/cirun/internal/syncbuf"
)

const testImage = "localhost/cirun/busybox:latest"

func newFake(t *testing.T) engine.Engine {
	e := fake.New()
	e.AddImage(testImage, engine.Image{})
	e.AddImage("localhost/cirun/health:latest", engine.Image{
		Healthcheck: &engine.Healthcheck{Test: []string{"CMD-SHELL", "true"}},
	})
	return e
}

func TestConformance(t *testing.T) {
	enginetest.Run(t, newFake, enginetest.Options{
		Image:       testImage,
		HealthImage: "localhost/cirun/health:latest",
	})
}

func newTestEngine(t *testing.T) (*fake.Engine, context.Context) {
	t.Helper()
	e := fake.New()
	e.AddImage(testImage, engine.Image{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return e, ctx
}

func mustCreate(t *testing.T, e *fake.Engine, ctx context.Context, s *engine.ContainerSpec) string {
	t.Helper()
	if s.Image == "" {
		s.Image = testImage
	}
	id, err := e.CreateContainer(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestCallLog(t *testing.T) {
	e, ctx := newTestEngine(t)
	if err := e.CreateNetwork(ctx, engine.NetworkSpec{Name: "p_default"}); err != nil {
		t.Fatal(err)
	}
	db := mustCreate(t, e, ctx, &engine.ContainerSpec{Name: "p-db-1", Command: []string{"mariadbd"}})
	if err := e.StartContainer(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Exec(ctx, "p-db-1", engine.ExecSpec{Cmd: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.StopContainer(ctx, db, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := e.RemoveContainer(ctx, db, engine.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"network create p_default", "create p-db-1", "start p-db-1", "exec p-db-1 true", "stop p-db-1", "remove p-db-1"}
	if got := e.Calls(); !reflect.DeepEqual(got, want) {
		t.Errorf("Calls() = %q\nwant %q", got, want)
	}
}

func TestProcessModel(t *testing.T) {
	e, ctx := newTestEngine(t)
	cases := []struct {
		cmd     []string
		running bool
		code    int
	}{
		{[]string{"true"}, false, 0},
		{[]string{"false"}, false, 1},
		{[]string{"exit", "7"}, false, 7},
		{[]string{"sh", "-c", "exit 9"}, false, 9},
		{[]string{"sh", "-c", "echo hi && exit 4"}, false, 4},
		{[]string{"sh", "-c", "false || exit 5"}, false, 5},
		{[]string{"sh", "-c", "true && false"}, false, 1},
		{[]string{"sleep", "300"}, true, 0},
		{[]string{"sh", "-c", "echo starting; exec mariadbd"}, true, 0},
		{nil, true, 0}, // the image's default command: a daemon
	}
	for i, c := range cases {
		id := mustCreate(t, e, ctx, &engine.ContainerSpec{Name: fmt.Sprintf("c%d", i), Command: c.cmd})
		if err := e.StartContainer(ctx, id); err != nil {
			t.Fatal(err)
		}
		got, _ := e.InspectContainer(ctx, id)
		if got.Running() != c.running || (!c.running && got.ExitCode != c.code) {
			t.Errorf("%q: state %s exit %d, want running=%v exit %d", c.cmd, got.State, got.ExitCode, c.running, c.code)
		}
	}
	id := mustCreate(t, e, ctx, &engine.ContainerSpec{Name: "killed", Command: []string{"sleep", "1"}})
	_ = e.StartContainer(ctx, id)
	if err := e.KillContainer(ctx, id, "SIGKILL"); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.InspectContainer(ctx, id); c.ExitCode != 137 {
		t.Errorf("kill: exit %d, want 137", c.ExitCode)
	}
	id = mustCreate(t, e, ctx, &engine.ContainerSpec{Name: "crash", Command: []string{"server"}})
	_ = e.StartContainer(ctx, id)
	done := make(chan int, 1)
	go func() {
		code, _ := e.WaitContainer(ctx, id)
		done <- code
	}()
	if err := e.Exit("crash", 42); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != 42 {
		t.Errorf("wait after Exit(42) = %d", code)
	}
}

func TestHealthStartPeriodAndRetries(t *testing.T) {
	e, ctx := newTestEngine(t)
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	e.Now = func() time.Time { return now }
	healthy := false
	e.OnHealth = func(c engine.Container, cmd []string) int {
		if healthy {
			return 0
		}
		return 1
	}
	id := mustCreate(t, e, ctx, &engine.ContainerSpec{Name: "db", Command: []string{"sleep", "300"},
		Health: &engine.Healthcheck{Test: []string{"CMD", "ping"}, StartPeriod: 10 * time.Second, Retries: 2}})
	_ = e.StartContainer(ctx, id)
	check := func(wantStatus string, wantStreak int) {
		t.Helper()
		r, err := e.RunHealthCheck(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != wantStatus || r.FailingStreak != wantStreak {
			t.Errorf("at +%v: %s/%d, want %s/%d", now.Sub(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)), r.Status, r.FailingStreak, wantStatus, wantStreak)
		}
	}
	check(engine.HealthStarting, 0) // failures in the start period do not count
	check(engine.HealthStarting, 0)
	now = now.Add(11 * time.Second)
	check(engine.HealthStarting, 1)
	check(engine.HealthUnhealthy, 2)
	healthy = true
	check(engine.HealthHealthy, 0)
	healthy = false
	check(engine.HealthHealthy, 1)
	check(engine.HealthUnhealthy, 2)

	// After one success, failures count even inside the start period.
	id2 := mustCreate(t, e, ctx, &engine.ContainerSpec{Name: "db2", Command: []string{"sleep", "300"},
		Health: &engine.Healthcheck{Test: []string{"CMD", "ping"}, StartPeriod: time.Hour, Retries: 1}})
	_ = e.StartContainer(ctx, id2)
	healthy = true
	if r, _ := e.RunHealthCheck(ctx, id2); r.Status != engine.HealthHealthy {
		t.Errorf("first success: %s", r.Status)
	}
	healthy = false
	if r, _ := e.RunHealthCheck(ctx, id2); r.Status != engine.HealthUnhealthy {
		t.Errorf("failure after success in start period: %s, want unhealthy", r.Status)
	}
}

func TestHooks(t *testing.T) {
	e, ctx := newTestEngine(t)
	boom := errors.New("boom")
	e.OnStart = func(c engine.Container) error {
		if c.Name == "bad" {
			return boom
		}
		return nil
	}
	var execd []string
	e.OnExec = func(c engine.Container, cmd []string) int {
		execd = append(execd, c.Name+":"+strings.Join(cmd, " "))
		return 3
	}
	bad := mustCreate(t, e, ctx, &engine.ContainerSpec{Name: "bad", Command: []string{"sleep", "1"}})
	if err := e.StartContainer(ctx, bad); !errors.Is(err, boom) {
		t.Errorf("OnStart error: %v", err)
	}
	if c, _ := e.InspectContainer(ctx, bad); c.State != engine.StateCreated {
		t.Errorf("after failed start: %s, want created", c.State)
	}
	ok := mustCreate(t, e, ctx, &engine.ContainerSpec{Name: "ok", Command: []string{"sleep", "1"}})
	_ = e.StartContainer(ctx, ok)
	if code, err := e.Exec(ctx, ok, engine.ExecSpec{Cmd: []string{"migrate", "up"}}); err != nil || code != 3 {
		t.Errorf("OnExec: %d %v", code, err)
	}
	if !reflect.DeepEqual(execd, []string{"ok:migrate up"}) {
		t.Errorf("OnExec saw %q", execd)
	}
}

func TestLogsFollow(t *testing.T) {
	e, ctx := newTestEngine(t)
	id := mustCreate(t, e, ctx, &engine.ContainerSpec{Name: "svc", Command: []string{"sh", "-c", "echo ready; serve"}})
	_ = e.StartContainer(ctx, id)
	var out syncbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- e.ContainerLogs(ctx, id, engine.LogOptions{Follow: true}, &out, nil) }()
	if err := e.AppendLog(id, false, "request 1"); err != nil {
		t.Fatal(err)
	}
	_ = e.Exit(id, 0)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if out.String() != "ready\nrequest 1\n" {
		t.Errorf("followed logs %q", out.String())
	}
}

func TestConcurrentUse(t *testing.T) {
	e, ctx := newTestEngine(t)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id, err := e.CreateContainer(ctx, &engine.ContainerSpec{Name: fmt.Sprintf("c%d", i), Image: testImage, Command: []string{"sh", "-c", "exit 1"}})
			if err != nil {
				t.Error(err)
				return
			}
			go func() { _ = e.StartContainer(ctx, id) }()
			if code, err := e.WaitContainer(ctx, id); err != nil || code != 1 {
				t.Errorf("wait %d: %d %v", i, code, err)
			}
			_, _ = e.ListContainers(ctx, engine.Filter{All: true})
		}(i)
	}
	wg.Wait()
	if n := len(e.Calls()); n != 60 {
		t.Errorf("%d calls logged, want 60", n)
	}
}
