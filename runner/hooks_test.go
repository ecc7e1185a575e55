package runner

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/fake"
)

// hookProject is one service "test" with the given hooks.
func hookProject(post, pre []types.ServiceHook) *types.Project {
	p := upProject(map[string]string{"test": "sleep 300"})
	svc := p.Services["test"]
	svc.PostStart, svc.PreStop = post, pre
	p.Services["test"] = svc
	return p
}

// recordExecs makes every exec succeed and returns what ran so far, as
// "STATE:COMMAND" lines in the order they ran.
func recordExecs(eng *fake.Engine) func() []string {
	var mu sync.Mutex
	var calls []string
	eng.OnExec = func(c engine.Container, cmd []string) int {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, c.State+":"+strings.Join(cmd, " "))
		return 0
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(calls)
	}
}

func TestUpRunsPostStartHooks(t *testing.T) {
	r, eng, _ := attachRunner(t)
	calls := recordExecs(eng)
	p := hookProject([]types.ServiceHook{{Command: types.ShellCommand{"echo", "one"}}, {Command: types.ShellCommand{"echo", "two"}}}, nil)
	if err := r.Up(context.Background(), p, UpOptions{Detach: true}); err != nil {
		t.Fatal(err)
	}
	want := []string{"running:echo one", "running:echo two"}
	if !slices.Equal(calls(), want) {
		t.Errorf("hooks run = %q, want %q (in order, in the running container)", calls(), want)
	}
}

// As docker compose: a failing post_start hook fails up with
// "SERVICE hook exited with status N"; later hooks do not run.
func TestUpPostStartHookFailure(t *testing.T) {
	r, eng, _ := attachRunner(t)
	ran := 0
	eng.OnExec = func(_ engine.Container, cmd []string) int {
		ran++
		if slices.Contains(cmd, "command in error") {
			return 127
		}
		return 0
	}
	p := hookProject([]types.ServiceHook{{Command: types.ShellCommand{"sh", "-c", "command in error"}}, {Command: types.ShellCommand{"true"}}}, nil)
	err := r.Up(context.Background(), p, UpOptions{Detach: true})
	if err == nil || err.Error() != "test hook exited with status 127" {
		t.Fatalf("up = %v, want the hook's error", err)
	}
	if ran != 1 {
		t.Errorf("%d hooks ran, want 1 (the failing one)", ran)
	}
}

// pre_stop hooks run in the running container before stop and down stop
// it.
func TestPreStopHooks(t *testing.T) {
	r, eng, _ := attachRunner(t)
	calls := recordExecs(eng)
	p := hookProject(nil, []types.ServiceHook{{Command: types.ShellCommand{"echo", "bye"}, Environment: types.NewMappingWithEquals([]string{"A=1"})}})
	ctx := context.Background()
	if err := r.Up(ctx, p, UpOptions{Detach: true}); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(ctx, Scope{Project: "p", Compose: p}, StopOptions{}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"running:echo bye"}; !slices.Equal(calls(), want) {
		t.Errorf("stop: hooks run = %q, want %q", calls(), want)
	}
	if c := containerState(t, eng, "p-test-1"); c.Running() {
		t.Errorf("test still running after stop")
	}
	if err := r.Start(ctx, Scope{Project: "p", Compose: p}, StartOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Down(ctx, "p", DownOptions{Compose: p}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"running:echo bye", "running:echo bye"}; !slices.Equal(calls(), want) {
		t.Errorf("down: hooks run = %q, want %q", calls(), want)
	}
}
