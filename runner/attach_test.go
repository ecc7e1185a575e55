package runner

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/fake"
	"github.com/cirun-dev/cirun/internal/syncbuf"
)

// project builds a project of services given as name -> shell command;
// deps are "service:dependency" pairs (condition service_started).
func upProject(cmds map[string]string, deps ...string) *types.Project {
	p := &types.Project{
		Name:       "p",
		WorkingDir: "/tmp",
		Services:   types.Services{},
		Networks:   types.Networks{"default": types.NetworkConfig{Name: "p_default"}},
	}
	for name, cmd := range cmds {
		s := types.ServiceConfig{Name: name}
		s.Image = "localhost/app"
		s.Command = types.ShellCommand{"sh", "-c", cmd}
		s.Networks = map[string]*types.ServiceNetworkConfig{"default": nil}
		p.Services[name] = s
	}
	for _, d := range deps {
		svc, dep, _ := strings.Cut(d, ":")
		s := p.Services[svc]
		if s.DependsOn == nil {
			s.DependsOn = types.DependsOnConfig{}
		}
		s.DependsOn[dep] = types.ServiceDependency{Condition: types.ServiceConditionStarted, Required: true}
		p.Services[svc] = s
	}
	return p
}

func attachRunner(t *testing.T) (*Runner, *fake.Engine, *syncbuf.Buffer) {
	t.Helper()
	eng := fake.New()
	eng.AddImage("localhost/app", engine.Image{ID: "sha256:app"})
	out := &syncbuf.Buffer{}
	r := New(eng, Options{Stdout: out, FastPoll: time.Millisecond, Clock: newAutoClock()})
	return r, eng, out
}

// upAsync runs an attached up in the background; the returned function
// waits for its result (bounded, so a hang fails the test).
func upAsync(t *testing.T, r *Runner, ctx context.Context, p *types.Project, o UpOptions) func() error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.Up(ctx, p, o) }()
	return func() error {
		t.Helper()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("up did not return")
			return nil
		}
	}
}

// waitFor polls cond until it holds (deadline 10 s).
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func containerState(t *testing.T, eng *fake.Engine, name string) engine.Container {
	t.Helper()
	c, err := eng.InspectContainer(context.Background(), name)
	if err != nil {
		t.Fatalf("inspect %s: %v", name, err)
	}
	return c
}

func exitCodeOf(err error) int {
	if err == nil {
		return 0
	}
	if code, ok := IsExit(err); ok {
		return code
	}
	return -1
}

func TestUpAttachedReturnsZeroWhenAllExitByThemselves(t *testing.T) {
	r, _, out := attachRunner(t)
	p := upProject(map[string]string{"a": "echo one; exit 0", "b": "echo two; exit 3"})
	err := r.Up(context.Background(), p, UpOptions{})
	if err != nil {
		t.Fatalf("up = %v, want nil (docker compose: 0 without abort flags)", err)
	}
	for _, want := range []string{"Attaching to a-1, b-1\n", "a-1  | one\n", "b-1  | two\n", "a-1 exited with code 0\n", "b-1 exited with code 3\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out.String(), "Aborting") {
		t.Errorf("aborted without an abort flag:\n%s", out)
	}
}

func TestUpAbortOnContainerExit(t *testing.T) {
	r, eng, out := attachRunner(t)
	p := upProject(map[string]string{"job": "echo done; exit 3", "db": "sleep 300", "app": "sleep 300"}, "app:db")
	err := r.Up(context.Background(), p, UpOptions{OnExit: CascadeStop})
	if exitCodeOf(err) != 3 {
		t.Fatalf("up = %v, want exit code 3 (the container that triggered the abort)", err)
	}
	for _, name := range []string{"p-db-1", "p-app-1"} {
		if c := containerState(t, eng, name); !c.Exited() {
			t.Errorf("%s is %s after the abort, want stopped and kept", name, c.State)
		}
	}
	calls := eng.Calls()
	if indexOf(calls, "stop p-app-1") < 0 || indexOf(calls, "stop p-app-1") > indexOf(calls, "stop p-db-1") {
		t.Errorf("want app stopped before its dependency db:\n%s", strings.Join(calls, "\n"))
	}
	o := out.String()
	if i, j := strings.Index(o, "job-1 exited with code 3"), strings.Index(o, "Aborting on container exit..."); i < 0 || j < i {
		t.Errorf("want the exit line, then Aborting:\n%s", o)
	}
	if !strings.Contains(o, "app-1 exited with code 143") {
		t.Errorf("stopped containers' exits not shown:\n%s", o)
	}
}

func TestUpAbortUsesTheFirstExitInTimeOrder(t *testing.T) {
	// Both exit before attaching; the exit that happened first decides.
	r, _, _ := attachRunner(t)
	p := upProject(map[string]string{"first": "exit 0", "second": "exit 111", "run": "sleep 300"}, "second:first")
	err := r.Up(context.Background(), p, UpOptions{OnExit: CascadeStop})
	if err != nil {
		t.Fatalf("up = %v, want nil: first exited 0 before second exited 111", err)
	}
}

func TestUpAbortOnContainerFailure(t *testing.T) {
	r, eng, out := attachRunner(t)
	p := upProject(map[string]string{"ok": "exit 0", "svc": "sleep 300", "other": "sleep 300"})
	wait := upAsync(t, r, context.Background(), p, UpOptions{OnExit: CascadeFail})
	pollUntil(t, "ok-1's exit line", func() bool { return strings.Contains(out.String(), "ok-1 exited with code 0") })
	if strings.Contains(out.String(), "Aborting") {
		t.Fatalf("a zero exit aborted with --abort-on-container-failure:\n%s", out)
	}
	if err := eng.Exit("p-svc-1", 5); err != nil {
		t.Fatal(err)
	}
	if err := wait(); exitCodeOf(err) != 5 {
		t.Fatalf("up = %v, want exit code 5", err)
	}
	if c := containerState(t, eng, "p-other-1"); !c.Exited() || c.ExitCode != 143 {
		t.Errorf("other = %s (%d), want stopped", c.State, c.ExitCode)
	}
}

func TestUpExitCodeFromStoppedService(t *testing.T) {
	// docker compose's TestUpExitCodeFromContainerKilled: failure aborts,
	// test is stopped, up returns test's code (143: SIGTERM).
	r, _, out := attachRunner(t)
	p := upProject(map[string]string{"safe": "sleep 300", "failure": "echo exiting with error; exit 42", "test": "sleep 99999"}, "test:safe")
	err := r.Up(context.Background(), p, UpOptions{OnExit: CascadeStop, ExitCodeFrom: "test"})
	if exitCodeOf(err) != 143 {
		t.Fatalf("up = %v, want 143 from test", err)
	}
	if !strings.Contains(out.String(), "failure-1  | exiting with error") {
		t.Errorf("output:\n%s", out)
	}
}

func TestUpExitCodeFromItsOwnExit(t *testing.T) {
	r, _, _ := attachRunner(t)
	p := upProject(map[string]string{"db": "sleep 300", "tests": "exit 7"}, "tests:db")
	err := r.Up(context.Background(), p, UpOptions{OnExit: CascadeStop, ExitCodeFrom: "tests"})
	if exitCodeOf(err) != 7 {
		t.Fatalf("up = %v, want 7", err)
	}
}

func TestUpExitCodeFromUnknownService(t *testing.T) {
	r, eng, _ := attachRunner(t)
	p := upProject(map[string]string{"a": "exit 0"})
	err := r.Up(context.Background(), p, UpOptions{OnExit: CascadeStop, ExitCodeFrom: "nope"})
	if err == nil || !strings.Contains(err.Error(), "no such service: nope") {
		t.Fatalf("up = %v, want no such service", err)
	}
	if len(eng.Calls()) != 0 {
		t.Errorf("engine used before the options were checked: %v", eng.Calls())
	}
}

func TestUpNamedServiceWatchesOnlyIt(t *testing.T) {
	// `up app`: app's exit ends up; its dependency keeps running and is
	// neither shown nor stopped.
	r, eng, out := attachRunner(t)
	p := upProject(map[string]string{"db": "echo db-line; sleep 300", "app": "echo app-line; exit 0"}, "app:db")
	if err := r.Up(context.Background(), p, UpOptions{Services: []string{"app"}, OnExit: CascadeStop}); err != nil {
		t.Fatalf("up = %v", err)
	}
	if c := containerState(t, eng, "p-db-1"); !c.Running() {
		t.Errorf("dependency db is %s, want running", c.State)
	}
	o := out.String()
	if !strings.Contains(o, "Attaching to app-1\n") || strings.Contains(o, "db-line") || !strings.Contains(o, "app-1  | app-line") {
		t.Errorf("want only app attached:\n%s", o)
	}
}

func TestUpAttachSelectionOutput(t *testing.T) {
	r, _, out := attachRunner(t)
	p := upProject(map[string]string{"db": "echo db-line; exit 0", "app": "echo app-line; exit 0", "side": "echo side-line; exit 0"}, "app:db")
	if err := r.Up(context.Background(), p, UpOptions{NoAttach: []string{"side"}}); err != nil {
		t.Fatal(err)
	}
	o := out.String()
	if !strings.Contains(o, "Attaching to app-1, db-1\n") || strings.Contains(o, "side-line") || !strings.Contains(o, "db-1   | db-line") {
		t.Errorf("--no-attach side:\n%s", o)
	}
}

func TestPlanAttach(t *testing.T) {
	no := false
	p := upProject(map[string]string{"db": "x", "cache": "x", "app": "x", "worker": "x", "quiet": "x"}, "app:db", "app:cache", "worker:app")
	q := p.Services["quiet"]
	q.Attach = &no
	p.Services["quiet"] = q
	all := p.ServiceNames()
	for _, c := range []struct {
		name                    string
		names                   []string
		o                       UpOptions
		show, watch, stop, fail string
	}{
		{name: "all", names: all, o: UpOptions{},
			show: "app cache db worker", watch: "app cache db worker", stop: "worker quiet app db cache"},
		{name: "named", names: []string{"app", "cache", "db"}, o: UpOptions{Services: []string{"app"}},
			show: "app", watch: "app", stop: "app"},
		{name: "named with dependencies", names: []string{"app", "cache", "db"}, o: UpOptions{Services: []string{"app"}, AttachDependencies: true},
			show: "app cache db", watch: "app", stop: "app"},
		{name: "--attach", names: all, o: UpOptions{Attach: []string{"db", "quiet"}},
			show: "db quiet", watch: "db quiet", stop: "worker quiet app db cache"},
		{name: "--no-attach", names: all, o: UpOptions{NoAttach: []string{"db", "worker"}},
			show: "app cache", watch: "app cache", stop: "worker quiet app db cache"},
		{name: "--attach outside up", names: []string{"app", "cache", "db"}, o: UpOptions{Services: []string{"app"}, Attach: []string{"worker", "quiet"}},
			fail: "cannot attach to services not included in up: quiet, worker"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := planAttach(p, c.names, c.o)
			if c.fail != "" {
				if err == nil || err.Error() != c.fail {
					t.Fatalf("err = %v, want %q", err, c.fail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := keySet(a.show); got != c.show {
				t.Errorf("show = %q, want %q", got, c.show)
			}
			if got := keySet(a.watch); got != c.watch {
				t.Errorf("watch = %q, want %q", got, c.watch)
			}
			if got := strings.Join(a.stop, " "); got != c.stop {
				t.Errorf("stop = %q, want %q", got, c.stop)
			}
		})
	}
}

func keySet(m map[string]bool) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestUpScale(t *testing.T) {
	r, eng, _ := attachRunner(t)
	p := upProject(map[string]string{"web": "sleep 300"})
	ctx := context.Background()
	if err := r.Up(ctx, p, UpOptions{Detach: true, Scale: map[string]int{"web": 3}}); err != nil {
		t.Fatal(err)
	}
	if n := countService(t, eng, "web"); n != 3 {
		t.Fatalf("%d web containers after --scale web=3", n)
	}
	if _, ok := p.Services["web"]; !ok || p.Services["web"].Scale != nil {
		t.Errorf("--scale changed the caller's project")
	}
	first := containerState(t, eng, "p-web-1").ID
	if err := r.Up(ctx, p, UpOptions{Detach: true, Scale: map[string]int{"web": 1}}); err != nil {
		t.Fatal(err)
	}
	if n := countService(t, eng, "web"); n != 1 {
		t.Errorf("%d web containers after --scale web=1", n)
	}
	if containerState(t, eng, "p-web-1").ID != first {
		t.Errorf("scaling down recreated web-1")
	}
	err := r.Up(ctx, p, UpOptions{Detach: true, Scale: map[string]int{"nope": 2}})
	if err == nil || !strings.Contains(err.Error(), "no such service: nope") {
		t.Errorf("--scale nope=2: %v", err)
	}
}

func countService(t *testing.T, eng *fake.Engine, svc string) int {
	t.Helper()
	cs, err := eng.ListContainers(context.Background(), engine.Filter{All: true, Labels: map[string]string{engine.LabelService: svc}})
	if err != nil {
		t.Fatal(err)
	}
	return len(cs)
}

// As docker compose: Ctrl-C on an attached `up app` stops app only; its
// dependency and the project's other containers keep running, nothing is
// removed, and up reports the interrupt (exit 130).
func TestUpAttachedInterruptStopsTargetsOnly(t *testing.T) {
	r, eng, out := attachRunner(t)
	other := upProject(map[string]string{"orphan": "sleep 300"})
	if err := r.Up(context.Background(), other, UpOptions{Detach: true}); err != nil {
		t.Fatal(err)
	}
	p := upProject(map[string]string{"db": "sleep 300", "app": "sleep 300"}, "app:db")
	ctx, cancel := context.WithCancel(context.Background())
	wait := upAsync(t, r, ctx, p, UpOptions{Services: []string{"app"}})
	pollUntil(t, "attach", func() bool { return strings.Contains(out.String(), "Attaching to") })
	cancel()
	if err := wait(); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupted attached up = %v, want ErrInterrupted (exit 130)", err)
	}
	if c := containerState(t, eng, "p-app-1"); c.Running() {
		t.Errorf("app still running after the interrupt")
	}
	for _, n := range []string{"p-db-1", "p-orphan-1"} {
		if c := containerState(t, eng, n); !c.Running() {
			t.Errorf("%s stopped by the interrupt (state %s), want it left running", n, c.State)
		}
	}
	ns, _ := eng.ListNetworks(context.Background(), engine.ProjectFilter("p"))
	if len(ns) == 0 {
		t.Errorf("the interrupt removed the project network")
	}
}

// Without services named, Ctrl-C stops every service of the run.
func TestUpAttachedInterruptStopsEveryService(t *testing.T) {
	r, eng, out := attachRunner(t)
	p := upProject(map[string]string{"db": "sleep 300", "app": "sleep 300"}, "app:db")
	ctx, cancel := context.WithCancel(context.Background())
	wait := upAsync(t, r, ctx, p, UpOptions{OnExit: CascadeStop})
	pollUntil(t, "attach", func() bool { return strings.Contains(out.String(), "Attaching to") })
	cancel()
	if err := wait(); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupted attached up = %v, want ErrInterrupted", err)
	}
	for _, n := range []string{"p-db-1", "p-app-1"} {
		if c := containerState(t, eng, n); c.Running() {
			t.Errorf("%s still running after the interrupt", n)
		}
	}
}

func TestUpAttachedShowsOnlyNewOutputOfKeptContainers(t *testing.T) {
	r, eng, out := attachRunner(t)
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	eng.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(time.Second); return now }
	r.opts.Clock = clockFunc(eng.Now)
	p := upProject(map[string]string{"svc": "echo old; sleep 300"})
	ctx := context.Background()
	if err := r.Up(ctx, p, UpOptions{Detach: true}); err != nil {
		t.Fatal(err)
	}
	wait := upAsync(t, r, ctx, p, UpOptions{})
	pollUntil(t, "attach", func() bool { return strings.Contains(out.String(), "Attaching to") })
	if err := eng.AppendLog("p-svc-1", false, "new"); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "the new line", func() bool { return strings.Contains(out.String(), "svc-1  | new") })
	if err := eng.Exit("p-svc-1", 0); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "old") {
		t.Errorf("output of the earlier run replayed:\n%s", out)
	}
}

// clockFunc is a Clock whose Now is f (After is real).
type clockFunc func() time.Time

func (f clockFunc) Now() time.Time                         { return f() }
func (f clockFunc) After(d time.Duration) <-chan time.Time { return time.After(d) }

func TestLogFormatter(t *testing.T) {
	clock := clockFunc(func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 5, time.UTC) })
	for _, c := range []struct {
		name string
		f    LogFormat
		want string
	}{
		{"plain", LogFormat{}, "db-1    | hello\nweb-10  | hi\ndb-1 exited with code 0\n"},
		{"no prefix", LogFormat{NoPrefix: true}, "hello\nhi\ndb-1 exited with code 0\n"},
		{"timestamps", LogFormat{Timestamps: true}, "db-1    | 2024-05-01T12:00:00.000000005Z hello\nweb-10  | 2024-05-01T12:00:00.000000005Z hi\ndb-1 exited with code 0\n"},
		{"color", LogFormat{Color: true}, "\033[36mdb-1    | \033[0mhello\n\033[33mweb-10  | \033[0mhi\n\033[36mdb-1 exited with code 0\033[0m\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			lf := newLogFormatter(&out, nil, []string{"web-10", "db-1"}, c.f, clock)
			w := lf.writer("db-1")
			_, _ = w.Write([]byte("hel"))
			_, _ = w.Write([]byte("lo\n"))
			w2 := lf.writer("web-10")
			_, _ = w2.Write([]byte("hi"))
			w2.Flush()
			lf.status("db-1", "exited with code 0")
			if out.String() != c.want {
				t.Errorf("got\n%q\nwant\n%q", out.String(), c.want)
			}
		})
	}
}

func TestUpAttachedFollowsRestarts(t *testing.T) {
	// docker compose's attach-restart fixture: on-failure with 2 attempts
	// gives three runs; each one's output and exit is shown. The fake does
	// not restart containers: the test does it as the engine would.
	r, eng, out := attachRunner(t)
	p := upProject(map[string]string{"failing": "echo world; exit 1"})
	svc := p.Services["failing"]
	svc.Restart = "on-failure:2"
	p.Services["failing"] = svc
	wait := upAsync(t, r, context.Background(), p, UpOptions{})
	for run := 1; run <= 2; run++ {
		pollUntil(t, "exit line", func() bool { return strings.Count(out.String(), "failing-1 exited with code 1") == run })
		if err := eng.StartContainer(context.Background(), "p-failing-1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := wait(); err != nil {
		t.Fatalf("up = %v", err)
	}
	if n := strings.Count(out.String(), "failing-1  | world\n"); n != 3 {
		t.Errorf("%d runs' output shown, want 3:\n%s", n, out)
	}
	if n := strings.Count(out.String(), "failing-1 exited with code 1\n"); n != 3 {
		t.Errorf("%d exit lines, want 3:\n%s", n, out)
	}
}

func TestLogStreamsShowEachLineOnce(t *testing.T) {
	// After a restart Podman's stream of run 1 may carry on into run 2,
	// and the stream of run 2 replays from the same start: each line is
	// shown once.
	var out bytes.Buffer
	var mu sync.Mutex
	l := &containerLog{w: &prefixWriter{mu: &mu, out: &out, prefix: "a-1  | "}}
	ts := func(s int) string { return time.Unix(1_700_000_000+int64(s), 0).UTC().Format(time.RFC3339Nano) }
	old := &logStream{log: l, passed: make(chan struct{})}
	_, _ = old.Write([]byte(ts(1) + " start\n" + ts(2) + " x\n" + ts(2) + " x\n" + ts(3) + " world\n"))
	_, _ = old.Write([]byte(ts(5) + " start\n")) // run 2, before the cut
	old.cut(time.Unix(1_700_000_004, 0))
	_, _ = old.Write([]byte(ts(6) + " world\n")) // run 2, after the cut
	select {
	case <-old.passed:
	default:
		t.Error("stream not marked as past the cut")
	}
	next := &logStream{log: l, passed: make(chan struct{})}
	_, _ = next.Write([]byte(ts(1) + " start\n" + ts(2) + " x\n" + ts(2) + " x\n" + ts(3) + " world\n" + ts(5) + " start\n" + ts(6) + " world\n" + ts(7) + " partial"))
	next.flush()
	want := "a-1  | start\na-1  | x\na-1  | x\na-1  | world\na-1  | start\na-1  | world\na-1  | partial\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestLogStreamsWithinOneSecond(t *testing.T) {
	// Podman's timestamps have second precision: three runs' identical
	// lines in one second are still three lines.
	var out bytes.Buffer
	var mu sync.Mutex
	l := &containerLog{w: &prefixWriter{mu: &mu, out: &out}}
	w := time.Unix(1_700_000_000, 0).UTC().Format(time.RFC3339Nano) + " world\n"
	for run := 1; run <= 3; run++ {
		st := &logStream{log: l, passed: make(chan struct{})}
		_, _ = st.Write([]byte(strings.Repeat(w, run))) // each stream replays from the start
		st.flush()
	}
	if out.String() != "world\nworld\nworld\n" {
		t.Errorf("got %q", out.String())
	}
}

// noStartEvents is an engine whose event stream drops "start" events (as
// if they lagged behind).
type noStartEvents struct{ *fake.Engine }

func (e noStartEvents) ContainerEvents(ctx context.Context, f engine.EventFilter, fn func(engine.ContainerEvent) error) error {
	return e.Engine.ContainerEvents(ctx, f, func(ev engine.ContainerEvent) error {
		if ev.Action == "start" {
			return nil
		}
		return fn(ev)
	})
}

func TestUpAttachedFollowsRestartsWithoutStartEvents(t *testing.T) {
	defer func(w time.Duration) { restartWait = w }(restartWait)
	restartWait = 200 * time.Millisecond
	eng := fake.New()
	eng.AddImage("localhost/app", engine.Image{ID: "sha256:app"})
	out := &syncbuf.Buffer{}
	r := New(noStartEvents{eng}, Options{Stdout: out, FastPoll: time.Millisecond, Clock: newAutoClock()})
	p := upProject(map[string]string{"failing": "echo world; sleep 300"})
	svc := p.Services["failing"]
	svc.Restart = "on-failure:1"
	p.Services["failing"] = svc
	wait := upAsync(t, r, context.Background(), p, UpOptions{})
	pollUntil(t, "first run", func() bool { return strings.Contains(out.String(), "failing-1  | world") })
	if err := eng.Exit("p-failing-1", 1); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "first exit", func() bool { return strings.Contains(out.String(), "exited with code 1") })
	if err := eng.StartContainer(context.Background(), "p-failing-1"); err != nil { // the engine's restart
		t.Fatal(err)
	}
	// Without its start event, the restart is found by asking the engine.
	pollUntil(t, "second run's output", func() bool { return strings.Count(out.String(), "failing-1  | world") == 2 })
	if err := eng.Exit("p-failing-1", 1); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatalf("up = %v", err)
	}
	if n := strings.Count(out.String(), "failing-1 exited with code 1\n"); n != 2 {
		t.Errorf("%d exit lines, want 2:\n%s", n, out)
	}
}

// stuckLogs is an engine whose followed log streams deliver nothing.
type stuckLogs struct{ *fake.Engine }

func (e stuckLogs) ContainerLogs(ctx context.Context, id string, o engine.LogOptions, stdout, stderr io.Writer) error {
	if o.Follow {
		<-ctx.Done()
		return nil
	}
	return e.Engine.ContainerLogs(ctx, id, o, stdout, stderr)
}

func TestUpAttachedCatchesUpOnASlowLogStream(t *testing.T) {
	defer func(g time.Duration) { logGrace = g }(logGrace)
	logGrace = 20 * time.Millisecond
	eng := fake.New()
	eng.AddImage("localhost/app", engine.Image{ID: "sha256:app"})
	out := &syncbuf.Buffer{}
	r := New(stuckLogs{eng}, Options{Stdout: out, FastPoll: time.Millisecond, Clock: newAutoClock()})
	p := upProject(map[string]string{"job": "echo one; echo two; exit 0"})
	if err := upAsync(t, r, context.Background(), p, UpOptions{})(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "job-1  | one\njob-1  | two\njob-1 exited with code 0\n") {
		t.Errorf("lines the stream missed not shown before the exit line:\n%s", out)
	}
}

// silentEngine is an engine whose event stream never reports anything.
type silentEngine struct{ *fake.Engine }

func (silentEngine) ContainerEvents(ctx context.Context, _ engine.EventFilter, _ func(engine.ContainerEvent) error) error {
	<-ctx.Done()
	return nil
}

func TestUpAttachedNoticesExitsWithoutEvents(t *testing.T) {
	defer func(p, g time.Duration) { exitPoll, eventGrace = p, g }(exitPoll, eventGrace)
	exitPoll, eventGrace = 5*time.Millisecond, 20*time.Millisecond
	eng := fake.New()
	eng.AddImage("localhost/app", engine.Image{ID: "sha256:app"})
	out := &syncbuf.Buffer{}
	r := New(silentEngine{eng}, Options{Stdout: out, FastPoll: time.Millisecond, Clock: newAutoClock()})
	p := upProject(map[string]string{"job": "echo hi; exit 2", "svc": "sleep 300"})
	err := upAsync(t, r, context.Background(), p, UpOptions{OnExit: CascadeStop})()
	if exitCodeOf(err) != 2 {
		t.Fatalf("up = %v, want exit code 2", err)
	}
	if !strings.Contains(out.String(), "job-1 exited with code 2") {
		t.Errorf("output:\n%s", out)
	}
}

func TestRestartRule(t *testing.T) {
	two := uint64(2)
	deploy := types.ServiceConfig{Deploy: &types.DeployConfig{RestartPolicy: &types.RestartPolicy{Condition: "on-failure", MaxAttempts: &two}}}
	if got := restartPolicy(deploy); got != "on-failure:2" {
		t.Errorf("deploy.restart_policy = %q, want on-failure:2", got)
	}
	r := restartRuleOf(deploy)
	for _, c := range []struct {
		code, restarts int
		want           bool
	}{{1, 0, true}, {1, 1, true}, {1, 2, false}, {0, 0, false}} {
		if got := r.expect(c.code, c.restarts); got != c.want {
			t.Errorf("on-failure:2 expect(code %d, restarts %d) = %v", c.code, c.restarts, got)
		}
	}
	if restartRuleOf(types.ServiceConfig{Restart: "unless-stopped"}).expect(0, 9) != true {
		t.Errorf("unless-stopped does not restart")
	}
	if restartRuleOf(types.ServiceConfig{}).expect(1, 0) {
		t.Errorf("no policy restarts")
	}
	if got := restartPolicy(types.ServiceConfig{Deploy: &types.DeployConfig{RestartPolicy: &types.RestartPolicy{Condition: "any"}}}); got != "always" {
		t.Errorf("condition any = %q", got)
	}
}
