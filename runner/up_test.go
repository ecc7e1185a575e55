package runner

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/fake"
)

// stack is db (healthcheck) <- app (service_healthy) <- tests (profile test).
func stack(dbHealth string, testsCmd string) *types.Project {
	retries := uint64(2)
	iv := types.Duration(time.Second)
	db := types.ServiceConfig{Name: "db"}
	db.Image = "localhost/db"
	db.Command = types.ShellCommand{"sleep", "300"}
	db.HealthCheck = &types.HealthCheckConfig{Test: types.HealthCheckTest{"CMD-SHELL", dbHealth}, Interval: &iv, Retries: &retries}
	db.Networks = map[string]*types.ServiceNetworkConfig{"default": nil}
	app := types.ServiceConfig{Name: "app"}
	app.Image = "localhost/app"
	app.Command = types.ShellCommand{"sleep", "300"}
	app.DependsOn = types.DependsOnConfig{"db": {Condition: types.ServiceConditionHealthy, Required: true}}
	app.Networks = map[string]*types.ServiceNetworkConfig{"default": nil}
	tests := types.ServiceConfig{Name: "tests", Profiles: []string{"test"}}
	tests.Image = "localhost/app"
	tests.Command = types.ShellCommand{"sh", "-c", testsCmd}
	tests.DependsOn = types.DependsOnConfig{"app": {Condition: types.ServiceConditionStarted, Required: true}}
	tests.Networks = map[string]*types.ServiceNetworkConfig{"default": nil}
	return &types.Project{
		Name:       "p",
		WorkingDir: "/tmp",
		Services:   types.Services{"db": db, "app": app, "tests": tests},
		Networks:   types.Networks{"default": types.NetworkConfig{Name: "p_default"}},
	}
}

func fakeRunner(t *testing.T) (*Runner, *fake.Engine, *bytes.Buffer) {
	t.Helper()
	eng := fake.New()
	eng.AddImage("localhost/db", engine.Image{ID: "sha256:db"})
	eng.AddImage("localhost/app", engine.Image{ID: "sha256:app"})
	var out bytes.Buffer
	r := New(eng, Options{Stdout: &out, FastPoll: time.Millisecond, Clock: newAutoClock()})
	return r, eng, &out
}

func indexOf(calls []string, call string) int {
	for i, c := range calls {
		if c == call {
			return i
		}
	}
	return -1
}

func TestUpStartsDependentAfterDependencyIsHealthy(t *testing.T) {
	r, eng, _ := fakeRunner(t)
	p := stack("exit 0", "exit 0")
	if err := r.Up(context.Background(), p, UpOptions{Services: []string{"app"}, Detach: true, Wait: true}); err != nil {
		t.Fatalf("up: %v", err)
	}
	calls := eng.Calls()
	startDB, probeDB, startApp := indexOf(calls, "start p-db-1"), -1, indexOf(calls, "start p-app-1")
	for i, c := range calls {
		if strings.HasPrefix(c, "exec p-db-1") && probeDB < 0 {
			probeDB = i
		}
	}
	if startDB < 0 || probeDB < 0 || startApp < 0 || !(startDB < probeDB && probeDB < startApp) {
		t.Errorf("want start db, probe db, then start app; calls:\n%s", strings.Join(calls, "\n"))
	}
	if indexOf(calls, "network create p_default") > startDB {
		t.Errorf("network created after the first container started:\n%s", strings.Join(calls, "\n"))
	}
	if db, _ := eng.InspectContainer(context.Background(), "p-db-1"); db.Health != engine.HealthHealthy {
		t.Errorf("engine shows db %q after up --wait, want healthy (the recorded check must have run)", db.Health)
	}
	c, err := eng.InspectContainer(context.Background(), "p-app-1")
	if err != nil || c.Labels[engine.LabelProject] != "p" || c.Labels[engine.LabelService] != "app" || c.Labels[engine.LabelContainerNumber] != "1" || c.Labels[engine.LabelOneoff] != "False" {
		t.Errorf("app labels = %v (%v)", c.Labels, err)
	}
}

func TestUpUnhealthyDependencyStopsDependents(t *testing.T) {
	r, eng, _ := fakeRunner(t)
	p := stack("exit 1", "exit 0")
	err := r.Up(context.Background(), p, UpOptions{Services: []string{"app"}, Detach: true})
	var se *ServiceError
	if !errors.As(err, &se) || se.Container != "p-db-1" || se.Reason != "is unhealthy" || !se.Dependency {
		t.Fatalf("up = %v, want dependency failed: p-db-1 is unhealthy", err)
	}
	if !strings.Contains(err.Error(), "dependency failed to start: container p-db-1 is unhealthy") {
		t.Errorf("message = %q", err)
	}
	// As with docker compose, app's container exists (created while db
	// started) but was never started.
	if indexOf(eng.Calls(), "start p-app-1") >= 0 {
		t.Errorf("app was started although db is unhealthy")
	}
}

func TestUpSecondRunKeepsUnchangedContainers(t *testing.T) {
	r, eng, _ := fakeRunner(t)
	p := stack("exit 0", "exit 0")
	ctx := context.Background()
	if err := r.Up(ctx, p, UpOptions{Services: []string{"app"}, Detach: true}); err != nil {
		t.Fatal(err)
	}
	eng.ResetCalls()
	if err := r.Up(ctx, p, UpOptions{Services: []string{"app"}, Detach: true}); err != nil {
		t.Fatal(err)
	}
	for _, c := range eng.Calls() {
		if strings.HasPrefix(c, "create ") || strings.HasPrefix(c, "remove ") || strings.HasPrefix(c, "start ") {
			t.Errorf("second up on an unchanged stack did %q", c)
		}
	}
	// A changed service is recreated.
	db := p.Services["db"]
	db.Environment = types.MappingWithEquals{"X": strPtr("1")}
	p.Services["db"] = db
	eng.ResetCalls()
	if err := r.Up(ctx, p, UpOptions{Services: []string{"app"}, Detach: true}); err != nil {
		t.Fatal(err)
	}
	if indexOf(eng.Calls(), "remove p-db-1") < 0 || indexOf(eng.Calls(), "create p-db-1") < 0 {
		t.Errorf("changed db not recreated:\n%s", strings.Join(eng.Calls(), "\n"))
	}
}

func strPtr(s string) *string { return &s }

// --force-recreate recreates the named services only, as docker compose's;
// --always-recreate-deps recreates their dependencies too; --no-recreate
// recreates nothing.
func TestUpRecreatePolicies(t *testing.T) {
	r, eng, _ := fakeRunner(t)
	p := stack("exit 0", "exit 0")
	ctx := context.Background()
	if err := r.Up(ctx, p, UpOptions{Services: []string{"app"}, Detach: true}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		o          UpOptions
		app, db    bool // recreated
		optionName string
	}{
		{UpOptions{ForceRecreate: true}, true, false, "--force-recreate app"},
		{UpOptions{ForceRecreate: true, RecreateDeps: true}, true, true, "--force-recreate --always-recreate-deps app"},
		{UpOptions{RecreateDeps: true}, false, true, "--always-recreate-deps app"},
		{UpOptions{NoRecreate: true, ForceRecreate: false}, false, false, "--no-recreate app"},
	} {
		c.o.Services, c.o.Detach = []string{"app"}, true
		eng.ResetCalls()
		if err := r.Up(ctx, p, c.o); err != nil {
			t.Fatal(err)
		}
		calls := eng.Calls()
		if got := indexOf(calls, "create p-app-1") >= 0; got != c.app {
			t.Errorf("up %s: app recreated %v, want %v\n%s", c.optionName, got, c.app, strings.Join(calls, "\n"))
		}
		if got := indexOf(calls, "create p-db-1") >= 0; got != c.db {
			t.Errorf("up %s: db recreated %v, want %v\n%s", c.optionName, got, c.db, strings.Join(calls, "\n"))
		}
	}
	// With no service named, every service is named.
	eng.ResetCalls()
	if err := r.Up(ctx, p, UpOptions{Detach: true, ForceRecreate: true}); err != nil {
		t.Fatal(err)
	}
	if indexOf(eng.Calls(), "create p-db-1") < 0 {
		t.Errorf("up --force-recreate (all services) did not recreate db")
	}
}

func TestTestReturnsTheTestsExitCodeAndTearsDown(t *testing.T) {
	r, eng, out := fakeRunner(t)
	p := stack("exit 0", "exit 3")
	err := r.Test(context.Background(), p, TestOptions{})
	if code, ok := IsExit(err); !ok || code != 3 {
		t.Fatalf("test = %v, want exit code 3", err)
	}
	if !strings.Contains(out.String(), "tests-1 exited with code 3") {
		t.Errorf("stdout lacks the exit line:\n%s", out)
	}
	if !strings.Contains(out.String(), "---- p-db-1") {
		t.Errorf("stdout lacks the logs of db after a failure:\n%s", out)
	}
	cs, _ := eng.ListContainers(context.Background(), engine.ProjectFilter("p"))
	ns, _ := eng.ListNetworks(context.Background(), engine.ProjectFilter("p"))
	if len(cs) != 0 || len(ns) != 0 {
		t.Errorf("left after test: %d containers, %d networks", len(cs), len(ns))
	}
}

func TestTestPasses(t *testing.T) {
	r, _, out := fakeRunner(t)
	p := stack("exit 0", "echo all good")
	if err := r.Test(context.Background(), p, TestOptions{}); err != nil {
		t.Fatalf("test = %v", err)
	}
	if !strings.Contains(out.String(), "tests-1  | all good") {
		t.Errorf("test output not prefixed like docker compose:\n%s", out)
	}
}

// interruptedStack is the example stack whose db never becomes healthy, so
// up and test block on it, and a context cancelled by db's first health
// probe: the interrupt arrives while the run waits.
func interruptedStack(t *testing.T) (*Runner, *fake.Engine, *types.Project, context.Context) {
	r, eng, _ := fakeRunner(t)
	p := stack("exit 1", "exit 0")
	db := p.Services["db"]
	retries := uint64(1_000_000)
	db.HealthCheck.Retries = &retries
	p.Services["db"] = db
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	eng.OnExec = func(engine.Container, []string) int { cancel(); return 1 }
	return r, eng, p, ctx
}

// An interrupted detached up stops what it created and removes nothing
// (docs/decisions.md; `down` removes it).
func TestInterruptedUpStopsWhatItCreated(t *testing.T) {
	r, eng, p, ctx := interruptedStack(t)
	err := r.Up(ctx, p, UpOptions{Services: []string{"app"}, Detach: true})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("up = %v, want ErrInterrupted", err)
	}
	cs, _ := eng.ListContainers(context.Background(), engine.Filter{All: true, Labels: map[string]string{engine.LabelProject: "p"}})
	if len(cs) == 0 {
		t.Fatalf("the interrupt removed the containers")
	}
	for _, c := range cs {
		if c.Running() {
			t.Errorf("%s still running after the interrupt", c.Name)
		}
	}
	if err := r.Down(context.Background(), "p", DownOptions{Volumes: true}); err != nil {
		t.Fatal(err)
	}
	cs, _ = eng.ListContainers(context.Background(), engine.Filter{All: true, Labels: map[string]string{engine.LabelProject: "p"}})
	ns, _ := eng.ListNetworks(context.Background(), engine.ProjectFilter("p"))
	if len(cs) != 0 || len(ns) != 0 {
		t.Errorf("left after down: %d containers, %d networks", len(cs), len(ns))
	}
}

// As docker compose: exited one-off containers are orphans, whatever their
// service; up warns about them, and removes them with RemoveOrphans.
func TestUpExitedOneOffsAreOrphans(t *testing.T) {
	r, eng, _ := attachRunner(t)
	var events []Event
	var mu sync.Mutex
	r.opts.Events = func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	p := upProject(map[string]string{"test": "sleep 300", "job": "echo hello"})
	ctx := context.Background()
	if _, err := r.Run(ctx, p, RunOptions{Service: "job"}); err != nil {
		t.Fatal(err)
	}
	oneoffs := func() int {
		cs, _ := eng.ListContainers(ctx, engine.Filter{All: true, Labels: map[string]string{engine.LabelOneoff: "True"}})
		return len(cs)
	}
	if oneoffs() != 1 {
		t.Fatalf("run left %d one-off containers, want 1", oneoffs())
	}
	if err := r.Up(ctx, p, UpOptions{Services: []string{"test"}, Detach: true}); err != nil {
		t.Fatal(err)
	}
	warned := false
	for _, e := range events {
		warned = warned || (e.Status == "Warning" && strings.Contains(e.Detail, "p-job-run-"))
	}
	if oneoffs() != 1 || !warned {
		t.Errorf("up without RemoveOrphans: %d one-offs left (want 1), warned %v (want true)", oneoffs(), warned)
	}
	if err := r.Up(ctx, p, UpOptions{Services: []string{"test"}, Detach: true, RemoveOrphans: true}); err != nil {
		t.Fatal(err)
	}
	if n := oneoffs(); n != 0 {
		t.Errorf("up with RemoveOrphans left %d exited one-off containers", n)
	}
	if c := containerState(t, eng, "p-test-1"); !c.Running() {
		t.Errorf("test not running")
	}
}

// As docker compose: start_interval without start_period is refused when
// the service's container would be created, before anything is created;
// other services of the file are not concerned.
func TestUpStartIntervalNeedsStartPeriod(t *testing.T) {
	r, eng, _ := attachRunner(t)
	p := upProject(map[string]string{"error": "sleep 300", "test": "sleep 300"})
	si, sp := types.Duration(time.Second), types.Duration(10*time.Second)
	for _, n := range []string{"error", "test"} {
		svc := p.Services[n]
		svc.HealthCheck = &types.HealthCheckConfig{Test: types.HealthCheckTest{"CMD", "true"}, StartInterval: &si}
		if n == "test" {
			svc.HealthCheck.StartPeriod = &sp
		}
		p.Services[n] = svc
	}
	ctx := context.Background()
	err := r.Up(ctx, p, UpOptions{Services: []string{"error"}, Detach: true})
	if err == nil || err.Error() != "healthcheck.start_interval requires healthcheck.start_period to be set" {
		t.Fatalf("up error = %v", err)
	}
	cs, _ := eng.ListContainers(ctx, engine.ProjectFilter("p"))
	ns, _ := eng.ListNetworks(ctx, engine.ProjectFilter("p"))
	if len(cs)+len(ns) != 0 {
		t.Errorf("refused up created %d containers, %d networks", len(cs), len(ns))
	}
	if err := r.Up(ctx, p, UpOptions{Services: []string{"test"}, Detach: true, Wait: true}); err != nil {
		t.Errorf("up test: %v", err)
	}
}

// Unlike up, an interrupted `test` still removes what it created: it owns
// its project's whole life (docs/decisions.md).
func TestInterruptedTestRemovesWhatItCreated(t *testing.T) {
	r, eng, p, ctx := interruptedStack(t)
	if err := r.Test(ctx, p, TestOptions{}); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("test = %v, want ErrInterrupted", err)
	}
	cs, _ := eng.ListContainers(context.Background(), engine.ProjectFilter("p"))
	ns, _ := eng.ListNetworks(context.Background(), engine.ProjectFilter("p"))
	if len(cs) != 0 || len(ns) != 0 {
		t.Errorf("left after an interrupted test: %d containers, %d networks", len(cs), len(ns))
	}
}
