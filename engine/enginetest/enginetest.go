package enginetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/internal/syncbuf"
)

// Options configure the suite.
type Options struct {
	// Image is a local image with busybox-like `sh`, `echo` and `sleep`,
	// e.g. localhost/cirun/busybox:latest. Required.
	Image string
	// HealthImage, when set, is a local image whose config has a
	// HEALTHCHECK; the suite then checks that InspectImage reports it and
	// that a container created from it with Health == nil has none.
	HealthImage string
	// Timeout bounds each subtest; 0 means 60 s.
	Timeout time.Duration
}

// LabelRun is the label key the suite puts on everything it creates; its
// value is unique per subtest.
const LabelRun = "dev.cirun.enginetest"

// Run runs the conformance suite. newEngine returns the engine under test
// (it may return the same engine for every call).
func Run(t *testing.T, newEngine func(t *testing.T) engine.Engine, opts Options) {
	if opts.Image == "" {
		t.Fatal("enginetest: Options.Image is required")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	tests := []struct {
		name string
		fn   func(*env)
	}{
		{"Lifecycle", testLifecycle},
		{"NotFound", testNotFound},
		{"NameConflict", testNameConflict},
		{"WaitExitCode", testWaitExitCode},
		{"AutoRemove", testAutoRemove},
		{"WaitBeforeStart", testWaitBeforeStart},
		{"StopSleep", testStopSleep},
		{"HealthHealthy", testHealthHealthy},
		{"HealthUnhealthy", testHealthUnhealthy},
		{"HealthNone", testHealthNone},
		{"Exec", testExec},
		{"Logs", testLogs},
		{"StartAttached", testStartAttached},
		{"Networks", testNetworks},
		{"Volumes", testVolumes},
		{"Images", testImages},
		{"Top", testTop},
		{"Files", testFiles},
		{"Events", testEvents},
		{"PushMissing", testPushMissing},
		{"ExecPrivilegedDetach", testExecPrivilegedDetach},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, newEngine(t), opts)
			tc.fn(e)
		})
	}
}

// env is one subtest's world: the engine, a deadline and unique names.
type env struct {
	t    *testing.T
	eng  engine.Engine
	ctx  context.Context
	opts Options
	run  string // unique per subtest; value of LabelRun
}

func newEnv(t *testing.T, eng engine.Engine, opts Options) *env {
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	t.Cleanup(cancel)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	e := &env{t: t, eng: eng, ctx: ctx, opts: opts, run: "cirun-et-" + hex.EncodeToString(b)}
	t.Cleanup(e.cleanup)
	return e
}

// name returns a unique object name.
func (e *env) name(suffix string) string { return e.run + "-" + suffix }

func (e *env) labels(extra ...string) map[string]string {
	m := map[string]string{LabelRun: e.run}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

// cleanup removes everything carrying this subtest's label.
func (e *env) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f := engine.Filter{Labels: map[string]string{LabelRun: e.run}, All: true}
	cs, err := e.eng.ListContainers(ctx, f)
	if err != nil {
		e.t.Errorf("cleanup: listing containers: %v", err)
	}
	for _, c := range cs {
		if err := e.eng.RemoveContainer(ctx, c.ID, engine.RemoveOptions{Force: true, Volumes: true}); err != nil && !errors.Is(err, engine.ErrNotFound) {
			e.t.Errorf("cleanup: removing container %s: %v", c.Name, err)
		}
	}
	ns, err := e.eng.ListNetworks(ctx, f)
	if err != nil {
		e.t.Errorf("cleanup: listing networks: %v", err)
	}
	for _, n := range ns {
		if err := e.eng.RemoveNetwork(ctx, n.Name); err != nil && !errors.Is(err, engine.ErrNotFound) {
			e.t.Errorf("cleanup: removing network %s: %v", n.Name, err)
		}
	}
	vs, err := e.eng.ListVolumes(ctx, f)
	if err != nil {
		e.t.Errorf("cleanup: listing volumes: %v", err)
	}
	for _, v := range vs {
		if err := e.eng.RemoveVolume(ctx, v.Name, true); err != nil && !errors.Is(err, engine.ErrNotFound) {
			e.t.Errorf("cleanup: removing volume %s: %v", v.Name, err)
		}
	}
}

// spec returns a container spec running cmd under a unique name.
func (e *env) spec(suffix string, cmd ...string) *engine.ContainerSpec {
	return &engine.ContainerSpec{
		Name:    e.name(suffix),
		Image:   e.opts.Image,
		Labels:  e.labels(),
		Command: cmd,
	}
}

func (e *env) create(s *engine.ContainerSpec) string {
	e.t.Helper()
	id, err := e.eng.CreateContainer(e.ctx, s)
	if err != nil {
		e.t.Fatalf("CreateContainer(%s): %v", s.Name, err)
	}
	if id == "" {
		e.t.Fatalf("CreateContainer(%s) returned an empty ID", s.Name)
	}
	return id
}

func (e *env) start(id string) {
	e.t.Helper()
	if err := e.eng.StartContainer(e.ctx, id); err != nil {
		e.t.Fatalf("StartContainer(%s): %v", id, err)
	}
}

func (e *env) inspect(id string) engine.Container {
	e.t.Helper()
	c, err := e.eng.InspectContainer(e.ctx, id)
	if err != nil {
		e.t.Fatalf("InspectContainer(%s): %v", id, err)
	}
	return c
}

func (e *env) wait(id string) int {
	e.t.Helper()
	code, err := e.eng.WaitContainer(e.ctx, id)
	if err != nil {
		e.t.Fatalf("WaitContainer(%s): %v", id, err)
	}
	return code
}

// running creates and starts a long-running container.
func (e *env) running(suffix string) string {
	e.t.Helper()
	id := e.create(e.spec(suffix, "sleep", "300"))
	e.start(id)
	return id
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

func containsID(cs []engine.Container, id string) bool {
	for _, c := range cs {
		if c.ID == id {
			return true
		}
	}
	return false
}

func testLifecycle(e *env) {
	t := e.t
	s := e.spec("life", "sleep", "300")
	s.Labels["dev.cirun.role"] = "a"
	id := e.create(s)

	c := e.inspect(id)
	if c.ID != id || c.Name != s.Name {
		t.Errorf("inspect: ID/Name = %q/%q, want %q/%q", c.ID, c.Name, id, s.Name)
	}
	if c.State != engine.StateCreated {
		t.Errorf("inspect after create: State = %q, want %q", c.State, engine.StateCreated)
	}
	if c.Labels[LabelRun] != e.run || c.Labels["dev.cirun.role"] != "a" {
		t.Errorf("inspect: labels %v lack %s=%s, dev.cirun.role=a", c.Labels, LabelRun, e.run)
	}
	if img, err := e.eng.InspectImage(e.ctx, e.opts.Image); err != nil {
		t.Errorf("InspectImage(%s): %v", e.opts.Image, err)
	} else if c.ImageID != img.ID {
		t.Errorf("container ImageID = %q, want the image's ID %q", c.ImageID, img.ID)
	}
	if c2 := e.inspect(s.Name); c2.ID != id {
		t.Errorf("inspect by name gave ID %q, want %q", c2.ID, id)
	}

	e.start(id)
	c = e.inspect(id)
	if c.State != engine.StateRunning || !c.Running() {
		t.Errorf("inspect after start: State = %q, want %q", c.State, engine.StateRunning)
	}
	if c.StartedAt.IsZero() {
		t.Errorf("inspect after start: StartedAt is zero")
	}

	list, err := e.eng.ListContainers(e.ctx, engine.Filter{Labels: map[string]string{LabelRun: e.run, "dev.cirun.role": "a"}})
	if err != nil {
		t.Fatalf("ListContainers: %v", err)
	}
	if len(list) != 1 || list[0].ID != id {
		t.Errorf("ListContainers(role=a) = %d containers, want just %s", len(list), s.Name)
	}
	list, err = e.eng.ListContainers(e.ctx, engine.Filter{Labels: map[string]string{LabelRun: e.run, "dev.cirun.role": "b"}, All: true})
	if err != nil {
		t.Fatalf("ListContainers: %v", err)
	}
	if len(list) != 0 {
		t.Errorf("ListContainers(role=b) = %d containers, want none", len(list))
	}
	list, err = e.eng.ListContainers(e.ctx, engine.Filter{Labels: map[string]string{LabelRun: ""}, All: true})
	if err != nil {
		t.Fatalf("ListContainers: %v", err)
	}
	if !containsID(list, id) {
		t.Errorf("ListContainers(%s=<any>) does not list %s", LabelRun, s.Name)
	}

	if err := e.eng.StopContainer(e.ctx, id, time.Second); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	c = e.inspect(id)
	if !c.Exited() || c.Running() {
		t.Errorf("inspect after stop: State = %q, want exited", c.State)
	}
	list, err = e.eng.ListContainers(e.ctx, engine.Filter{Labels: e.labels()})
	if err != nil {
		t.Fatalf("ListContainers: %v", err)
	}
	if containsID(list, id) {
		t.Errorf("ListContainers without All lists the stopped container")
	}
	list, err = e.eng.ListContainers(e.ctx, engine.Filter{Labels: e.labels(), All: true})
	if err != nil {
		t.Fatalf("ListContainers: %v", err)
	}
	if !containsID(list, id) {
		t.Errorf("ListContainers with All does not list the stopped container")
	}

	if err := e.eng.RemoveContainer(e.ctx, id, engine.RemoveOptions{}); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}
	_, err = e.eng.InspectContainer(e.ctx, id)
	wantErr(t, "InspectContainer after remove", err, engine.ErrNotFound)
	err = e.eng.RemoveContainer(e.ctx, id, engine.RemoveOptions{})
	wantErr(t, "RemoveContainer twice", err, engine.ErrNotFound)
}

func testNotFound(e *env) {
	t, ctx := e.t, e.ctx
	missing := e.name("missing")
	_, err := e.eng.InspectContainer(ctx, missing)
	wantErr(t, "InspectContainer", err, engine.ErrNotFound)
	wantErr(t, "StartContainer", e.eng.StartContainer(ctx, missing), engine.ErrNotFound)
	wantErr(t, "StopContainer", e.eng.StopContainer(ctx, missing, time.Second), engine.ErrNotFound)
	wantErr(t, "RemoveContainer", e.eng.RemoveContainer(ctx, missing, engine.RemoveOptions{Force: true}), engine.ErrNotFound)
	_, err = e.eng.WaitContainer(ctx, missing)
	wantErr(t, "WaitContainer", err, engine.ErrNotFound)
	_, err = e.eng.Exec(ctx, missing, engine.ExecSpec{Cmd: []string{"true"}})
	wantErr(t, "Exec", err, engine.ErrNotFound)

	img := "localhost/" + missing + ":none"
	_, err = e.eng.InspectImage(ctx, img)
	wantErr(t, "InspectImage", err, engine.ErrNotFound)
	if ok, err := e.eng.ImageExists(ctx, img); err != nil || ok {
		t.Errorf("ImageExists(missing) = %v, %v; want false, nil", ok, err)
	}
	s := e.spec("noimage", "true")
	s.Image = img
	_, err = e.eng.CreateContainer(ctx, s)
	wantErr(t, "CreateContainer with a missing image", err, engine.ErrNotFound)

	_, err = e.eng.InspectNetwork(ctx, missing)
	wantErr(t, "InspectNetwork", err, engine.ErrNotFound)
	wantErr(t, "RemoveNetwork", e.eng.RemoveNetwork(ctx, missing), engine.ErrNotFound)
	_, err = e.eng.InspectVolume(ctx, missing)
	wantErr(t, "InspectVolume", err, engine.ErrNotFound)
	wantErr(t, "RemoveVolume", e.eng.RemoveVolume(ctx, missing, false), engine.ErrNotFound)
}

func testNameConflict(e *env) {
	s := e.spec("dup", "sleep", "300")
	e.create(s)
	_, err := e.eng.CreateContainer(e.ctx, e.spec("dup", "sleep", "300"))
	wantErr(e.t, "CreateContainer with a taken name", err, engine.ErrConflict)
}

// testAutoRemove: a container created with AutoRemove is gone once it has
// exited (the engine removes it in the background: poll to the deadline).
func testAutoRemove(e *env) {
	s := e.spec("autorm", "sh", "-c", "exit 0")
	s.AutoRemove = true
	id := e.create(s)
	e.start(id)
	for {
		_, err := e.eng.InspectContainer(e.ctx, id)
		if errors.Is(err, engine.ErrNotFound) {
			return
		}
		if e.ctx.Err() != nil {
			e.t.Fatalf("AutoRemove container still there at the deadline (last inspect: %v)", err)
		}
		select {
		case <-e.ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func testWaitExitCode(e *env) {
	id := e.create(e.spec("exit3", "sh", "-c", "exit 3"))
	e.start(id)
	if code := e.wait(id); code != 3 {
		e.t.Errorf("WaitContainer = %d, want 3", code)
	}
	c := e.inspect(id)
	if !c.Exited() || c.ExitCode != 3 {
		e.t.Errorf("inspect after exit: State %q ExitCode %d, want exited 3", c.State, c.ExitCode)
	}
	if c.FinishedAt.IsZero() {
		e.t.Errorf("inspect after exit: FinishedAt is zero")
	}
	// Waiting again on an exited container returns at once.
	if code := e.wait(id); code != 3 {
		e.t.Errorf("second WaitContainer = %d, want 3", code)
	}
}

func testWaitBeforeStart(e *env) {
	id := e.create(e.spec("early", "sh", "-c", "exit 4"))
	type result struct {
		code int
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		code, err := e.eng.WaitContainer(e.ctx, id)
		ch <- result{code, err}
	}()
	e.start(id)
	r := <-ch
	if r.err != nil || r.code != 4 {
		e.t.Errorf("WaitContainer started before StartContainer = %d, %v; want 4, nil", r.code, r.err)
	}
}

func testStopSleep(e *env) {
	id := e.running("stop")
	if err := e.eng.StopContainer(e.ctx, id, time.Second); err != nil {
		e.t.Fatalf("StopContainer: %v", err)
	}
	code := e.wait(id)
	c := e.inspect(id)
	if !c.Exited() {
		e.t.Errorf("after stop: State = %q, want exited", c.State)
	}
	if code == 0 || c.ExitCode != code {
		e.t.Errorf("after stop: wait = %d, inspect ExitCode = %d; want equal and non-zero", code, c.ExitCode)
	}
	// Stopping a stopped container is not an error.
	if err := e.eng.StopContainer(e.ctx, id, time.Second); err != nil {
		e.t.Errorf("StopContainer on a stopped container: %v", err)
	}
}

func (e *env) healthContainer(suffix, check string, retries int) string {
	s := e.spec(suffix, "sleep", "300")
	s.Health = &engine.Healthcheck{
		Test:     []string{"CMD-SHELL", check},
		Interval: 30 * time.Second,
		Timeout:  10 * time.Second,
		Retries:  retries,
	}
	id := e.create(s)
	c := e.inspect(id)
	if c.Healthcheck == nil {
		e.t.Fatalf("inspect: Healthcheck is nil, want %v", s.Health.Test)
	}
	if !reflect.DeepEqual(c.Healthcheck.Test, s.Health.Test) {
		e.t.Errorf("inspect: Healthcheck.Test = %q, want %q", c.Healthcheck.Test, s.Health.Test)
	}
	if c.Healthcheck.Retries != retries {
		e.t.Errorf("inspect: Healthcheck.Retries = %d, want %d", c.Healthcheck.Retries, retries)
	}
	e.start(id)
	if c := e.inspect(id); c.Health != engine.HealthStarting {
		e.t.Errorf("inspect after start: Health = %q, want %q", c.Health, engine.HealthStarting)
	}
	return id
}

func (e *env) check(id string) engine.HealthResult {
	e.t.Helper()
	r, err := e.eng.RunHealthCheck(e.ctx, id)
	if err != nil {
		e.t.Fatalf("RunHealthCheck: %v", err)
	}
	return r
}

func testHealthHealthy(e *env) {
	id := e.healthContainer("healthy", "exit 0", 2)
	r := e.check(id)
	if r.Status != engine.HealthHealthy || r.FailingStreak != 0 || r.ExitCode != 0 {
		e.t.Errorf("RunHealthCheck = %+v, want healthy, streak 0, exit 0", r)
	}
	if c := e.inspect(id); c.Health != engine.HealthHealthy {
		e.t.Errorf("inspect: Health = %q, want healthy", c.Health)
	}
}

func testHealthUnhealthy(e *env) {
	id := e.healthContainer("unhealthy", "echo failing; exit 1", 2)
	r := e.check(id)
	if r.Status == engine.HealthHealthy || r.FailingStreak != 1 || r.ExitCode != 1 {
		e.t.Errorf("first RunHealthCheck = %+v, want not healthy, streak 1, exit 1", r)
	}
	if !strings.Contains(r.Output, "failing") {
		e.t.Errorf("first RunHealthCheck output = %q, want it to contain %q", r.Output, "failing")
	}
	r = e.check(id)
	if r.Status != engine.HealthUnhealthy || r.FailingStreak != 2 {
		e.t.Errorf("second RunHealthCheck = %+v, want unhealthy, streak 2", r)
	}
	if c := e.inspect(id); c.Health != engine.HealthUnhealthy {
		e.t.Errorf("inspect: Health = %q, want unhealthy", c.Health)
	}
	if err := e.eng.StopContainer(e.ctx, id, time.Second); err != nil {
		e.t.Fatalf("StopContainer: %v", err)
	}
	_, err := e.eng.RunHealthCheck(e.ctx, id)
	wantErr(e.t, "RunHealthCheck on a stopped container", err, engine.ErrNotRunning)
}

func testHealthNone(e *env) {
	id := e.create(e.spec("nohealth", "sleep", "300"))
	if c := e.inspect(id); c.Healthcheck != nil || c.Health != "" {
		e.t.Errorf("container without health: Healthcheck %v, Health %q; want nil, \"\"", c.Healthcheck, c.Health)
	}
	s := e.spec("disabled", "sleep", "300")
	s.Health = &engine.Healthcheck{Test: []string{"NONE"}}
	id = e.create(s)
	e.start(id)
	if c := e.inspect(id); c.Healthcheck != nil || c.Health != "" {
		e.t.Errorf("container with NONE health: Healthcheck %v, Health %q; want nil, \"\"", c.Healthcheck, c.Health)
	}
	if e.opts.HealthImage == "" {
		return
	}
	img, err := e.eng.InspectImage(e.ctx, e.opts.HealthImage)
	if err != nil {
		e.t.Fatalf("InspectImage(%s): %v", e.opts.HealthImage, err)
	}
	if img.Healthcheck == nil || img.Healthcheck.Disabled() {
		e.t.Errorf("InspectImage(%s).Healthcheck = %v, want the image's HEALTHCHECK", e.opts.HealthImage, img.Healthcheck)
	}
	s = e.spec("imagehealth", "sleep", "300")
	s.Image = e.opts.HealthImage
	id = e.create(s)
	e.start(id)
	if c := e.inspect(id); c.Healthcheck != nil || c.Health != "" {
		e.t.Errorf("container from %s with Health nil: Healthcheck %v, Health %q; want none", e.opts.HealthImage, c.Healthcheck, c.Health)
	}
}

func testExec(e *env) {
	t, ctx := e.t, e.ctx
	created := e.create(e.spec("exec-created", "sleep", "300"))
	_, err := e.eng.Exec(ctx, created, engine.ExecSpec{Cmd: []string{"true"}})
	wantErr(t, "Exec in a created container", err, engine.ErrNotRunning)

	id := e.running("exec")
	code, err := e.eng.Exec(ctx, id, engine.ExecSpec{Cmd: []string{"sh", "-c", "exit 5"}})
	if err != nil || code != 5 {
		t.Errorf("Exec(exit 5) = %d, %v; want 5, nil", code, err)
	}
	var out, errOut syncbuf.Buffer
	code, err = e.eng.Exec(ctx, id, engine.ExecSpec{
		Cmd:     []string{"sh", "-c", "echo hello; echo oops >&2"},
		Streams: engine.Streams{Stdout: &out, Stderr: &errOut},
	})
	if err != nil || code != 0 {
		t.Errorf("Exec(echo) = %d, %v; want 0, nil", code, err)
	}
	if out.String() != "hello\n" || errOut.String() != "oops\n" {
		t.Errorf("Exec output: stdout %q stderr %q, want %q %q", out.String(), errOut.String(), "hello\n", "oops\n")
	}
	if err := e.eng.StopContainer(ctx, id, time.Second); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	_, err = e.eng.Exec(ctx, id, engine.ExecSpec{Cmd: []string{"true"}})
	wantErr(t, "Exec in a stopped container", err, engine.ErrNotRunning)
}

func testLogs(e *env) {
	t, ctx := e.t, e.ctx
	id := e.create(e.spec("logs", "sh", "-c", "echo one; echo two; echo three >&2"))
	e.start(id)
	if code := e.wait(id); code != 0 {
		t.Fatalf("WaitContainer = %d, want 0", code)
	}
	var out, errOut syncbuf.Buffer
	if err := e.eng.ContainerLogs(ctx, id, engine.LogOptions{}, &out, &errOut); err != nil {
		t.Fatalf("ContainerLogs: %v", err)
	}
	if out.String() != "one\ntwo\n" || errOut.String() != "three\n" {
		t.Errorf("logs: stdout %q stderr %q, want %q %q", out.String(), errOut.String(), "one\ntwo\n", "three\n")
	}

	var tailOut, tailErr syncbuf.Buffer
	if err := e.eng.ContainerLogs(ctx, id, engine.LogOptions{Tail: 2}, &tailOut, &tailErr); err != nil {
		t.Fatalf("ContainerLogs(tail 2): %v", err)
	}
	if tailOut.String() != "two\n" || tailErr.String() != "three\n" {
		t.Errorf("logs tail 2: stdout %q stderr %q, want %q %q", tailOut.String(), tailErr.String(), "two\n", "three\n")
	}

	var ts syncbuf.Buffer
	fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := e.eng.ContainerLogs(fctx, id, engine.LogOptions{Follow: true, Timestamps: true}, &ts, nil); err != nil {
		t.Fatalf("ContainerLogs(follow, timestamps): %v", err)
	}
	if fctx.Err() != nil {
		t.Errorf("ContainerLogs(follow) of an exited container did not return by itself")
	}
	lines := strings.Split(strings.TrimSuffix(ts.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("logs with timestamps: %q, want 2 stdout lines", ts.String())
	}
	for i, l := range lines {
		stamp, text, _ := strings.Cut(l, " ")
		if _, err := time.Parse(time.RFC3339Nano, stamp); err != nil {
			t.Errorf("logs with timestamps: line %q: bad timestamp: %v", l, err)
		}
		if want := []string{"one", "two"}[i]; text != want {
			t.Errorf("logs with timestamps: line %q, want text %q", l, want)
		}
	}
}

func testStartAttached(e *env) {
	id := e.create(e.spec("attached", "sh", "-c", "echo out; echo err >&2; exit 2"))
	var out, errOut syncbuf.Buffer
	if err := e.eng.StartAttached(e.ctx, id, engine.Streams{Stdout: &out, Stderr: &errOut}); err != nil {
		e.t.Fatalf("StartAttached: %v", err)
	}
	if out.String() != "out\n" || errOut.String() != "err\n" {
		e.t.Errorf("StartAttached output: stdout %q stderr %q, want %q %q", out.String(), errOut.String(), "out\n", "err\n")
	}
	if code := e.wait(id); code != 2 {
		e.t.Errorf("WaitContainer after StartAttached = %d, want 2", code)
	}
}

func testNetworks(e *env) {
	t, ctx := e.t, e.ctx
	name := e.name("net")
	spec := engine.NetworkSpec{Name: name, Labels: e.labels("dev.cirun.kind", "net")}
	if err := e.eng.CreateNetwork(ctx, spec); err != nil {
		t.Fatalf("CreateNetwork: %v", err)
	}
	wantErr(t, "CreateNetwork twice", e.eng.CreateNetwork(ctx, spec), engine.ErrConflict)
	n, err := e.eng.InspectNetwork(ctx, name)
	if err != nil {
		t.Fatalf("InspectNetwork: %v", err)
	}
	if n.Name != name || n.Labels["dev.cirun.kind"] != "net" || n.ID == "" {
		t.Errorf("InspectNetwork = %+v, want name %s, label dev.cirun.kind=net and an ID", n, name)
	}
	list, err := e.eng.ListNetworks(ctx, engine.Filter{Labels: e.labels("dev.cirun.kind", "net")})
	if err != nil {
		t.Fatalf("ListNetworks: %v", err)
	}
	if len(list) != 1 || list[0].Name != name {
		t.Errorf("ListNetworks by label = %v, want just %s", list, name)
	}
	list, err = e.eng.ListNetworks(ctx, engine.Filter{Labels: e.labels("dev.cirun.kind", "other")})
	if err != nil {
		t.Fatalf("ListNetworks: %v", err)
	}
	if len(list) != 0 {
		t.Errorf("ListNetworks by another label value = %v, want none", list)
	}

	s := e.spec("on-net", "sleep", "300")
	s.Networks = []engine.NetworkAttachment{{Name: name, Aliases: []string{"svc"}}}
	id := e.create(s)
	if c := e.inspect(id); len(c.Networks) != 1 || c.Networks[0] != name {
		t.Errorf("container networks = %v, want [%s]", c.Networks, name)
	}
	if err := e.eng.RemoveContainer(ctx, id, engine.RemoveOptions{Force: true}); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}

	if err := e.eng.RemoveNetwork(ctx, name); err != nil {
		t.Fatalf("RemoveNetwork: %v", err)
	}
	_, err = e.eng.InspectNetwork(ctx, name)
	wantErr(t, "InspectNetwork after remove", err, engine.ErrNotFound)
}

func testVolumes(e *env) {
	t, ctx := e.t, e.ctx
	name := e.name("vol")
	spec := engine.VolumeSpec{Name: name, Labels: e.labels("dev.cirun.kind", "vol")}
	if err := e.eng.CreateVolume(ctx, spec); err != nil {
		t.Fatalf("CreateVolume: %v", err)
	}
	wantErr(t, "CreateVolume twice", e.eng.CreateVolume(ctx, spec), engine.ErrConflict)
	v, err := e.eng.InspectVolume(ctx, name)
	if err != nil {
		t.Fatalf("InspectVolume: %v", err)
	}
	if v.Name != name || v.Labels["dev.cirun.kind"] != "vol" {
		t.Errorf("InspectVolume = %+v, want name %s and label dev.cirun.kind=vol", v, name)
	}
	list, err := e.eng.ListVolumes(ctx, engine.Filter{Labels: e.labels("dev.cirun.kind", "vol")})
	if err != nil {
		t.Fatalf("ListVolumes: %v", err)
	}
	if len(list) != 1 || list[0].Name != name {
		t.Errorf("ListVolumes by label = %v, want just %s", list, name)
	}

	// A container writes to the volume; a second one reads it back.
	w := e.spec("vol-writer", "sh", "-c", "echo persisted > /data/f")
	w.Mounts = []engine.Mount{{Type: engine.MountVolume, Source: name, Target: "/data"}}
	wid := e.create(w)
	e.start(wid)
	if code := e.wait(wid); code != 0 {
		t.Errorf("volume writer exited %d", code)
	}
	wantErr(t, "RemoveVolume in use", e.eng.RemoveVolume(ctx, name, false), engine.ErrConflict)
	if err := e.eng.RemoveContainer(ctx, wid, engine.RemoveOptions{}); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}

	if err := e.eng.RemoveVolume(ctx, name, false); err != nil {
		t.Fatalf("RemoveVolume: %v", err)
	}
	_, err = e.eng.InspectVolume(ctx, name)
	wantErr(t, "InspectVolume after remove", err, engine.ErrNotFound)
}

func testImages(e *env) {
	ok, err := e.eng.ImageExists(e.ctx, e.opts.Image)
	if err != nil || !ok {
		e.t.Errorf("ImageExists(%s) = %v, %v; want true, nil", e.opts.Image, ok, err)
	}
	img, err := e.eng.InspectImage(e.ctx, e.opts.Image)
	if err != nil {
		e.t.Fatalf("InspectImage(%s): %v", e.opts.Image, err)
	}
	if img.ID == "" {
		e.t.Errorf("InspectImage(%s): empty ID", e.opts.Image)
	}
	if info, err := e.eng.Info(e.ctx); err != nil || info.Name == "" {
		e.t.Errorf("Info() = %+v, %v; want a name", info, err)
	}
}
