package runner

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/fake"
)

// cmdProject is db <- app <- web (web restarts with app), plus worker (no
// dependencies), all long-running, on one network.
func cmdProject() *types.Project {
	svc := func(name string, deps map[string]bool) types.ServiceConfig {
		s := types.ServiceConfig{Name: name}
		s.Image = "localhost/cmd"
		s.Command = types.ShellCommand{"sleep", "300"}
		s.Networks = map[string]*types.ServiceNetworkConfig{"default": nil}
		if len(deps) > 0 {
			s.DependsOn = types.DependsOnConfig{}
			for d, restart := range deps {
				s.DependsOn[d] = types.ServiceDependency{Condition: types.ServiceConditionStarted, Required: true, Restart: restart}
			}
		}
		return s
	}
	return &types.Project{
		Name:         "p",
		WorkingDir:   "/tmp",
		ComposeFiles: []string{"/tmp/compose.yaml"},
		Services: types.Services{
			"db":     svc("db", nil),
			"app":    svc("app", map[string]bool{"db": false}),
			"web":    svc("web", map[string]bool{"app": true}),
			"worker": svc("worker", nil),
		},
		Networks: types.Networks{"default": types.NetworkConfig{Name: "p_default"}},
	}
}

type cmdEnv struct {
	r        *Runner
	eng      *fake.Engine
	out, err *bytes.Buffer
	ctx      context.Context
	p        *types.Project
}

// upCmd brings cmdProject up on a fake engine and clears the call log.
func upCmd(t *testing.T) cmdEnv {
	t.Helper()
	eng := fake.New()
	eng.AddImage("localhost/cmd", engine.Image{ID: "sha256:cmd", Tags: []string{"localhost/cmd:latest"}, Size: 1234567})
	var out, errb bytes.Buffer
	r := New(eng, Options{Stdout: &out, Stderr: &errb, FastPoll: time.Millisecond, Clock: newAutoClock()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	p := cmdProject()
	if err := r.Up(ctx, p, UpOptions{Detach: true}); err != nil {
		t.Fatalf("up: %v", err)
	}
	eng.ResetCalls()
	return cmdEnv{r: r, eng: eng, out: &out, err: &errb, ctx: ctx, p: p}
}

// states returns "name=state" for every container of project p.
func (c cmdEnv) states(t *testing.T) []string {
	t.Helper()
	cs, err := c.eng.ListContainers(c.ctx, engine.ProjectFilter("p"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ct := range cs {
		out = append(out, ct.Name+"="+ct.State)
	}
	sort.Strings(out)
	return out
}

func (c cmdEnv) ids(t *testing.T) []string {
	t.Helper()
	cs, _ := c.eng.ListContainers(c.ctx, engine.ProjectFilter("p"))
	var out []string
	for _, ct := range cs {
		out = append(out, ct.ID)
	}
	return out
}

func before(t *testing.T, calls []string, a, b string) {
	t.Helper()
	i, j := indexOfCall(calls, a), indexOfCall(calls, b)
	if i < 0 || j < 0 || i > j {
		t.Errorf("calls %q: want %q before %q", calls, a, b)
	}
}

func indexOfCall(calls []string, call string) int {
	for i, c := range calls {
		if c == call {
			return i
		}
	}
	return -1
}

func TestStopStopsDependentsFirstAndStartRestoresTheSameContainers(t *testing.T) {
	c := upCmd(t)
	ids := c.ids(t)
	sc := Scope{Project: "p", Compose: c.p}
	if err := c.r.Stop(c.ctx, sc, StopOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"p-app-1=exited", "p-db-1=exited", "p-web-1=exited", "p-worker-1=exited"}
	if got := c.states(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after stop: %q, want %q", got, want)
	}
	calls := c.eng.Calls()
	before(t, calls, "stop p-web-1", "stop p-app-1")
	before(t, calls, "stop p-app-1", "stop p-db-1")

	c.eng.ResetCalls()
	if err := c.r.Start(c.ctx, Scope{Project: "p", Compose: c.p, Services: []string{"app"}}, StartOptions{}); err != nil {
		t.Fatal(err)
	}
	want = []string{"p-app-1=running", "p-db-1=running", "p-web-1=exited", "p-worker-1=exited"}
	if got := c.states(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after start app: %q, want %q", got, want)
	}
	before(t, c.eng.Calls(), "start p-db-1", "start p-app-1")
	if got := c.ids(t); !reflect.DeepEqual(got, ids) {
		t.Errorf("start replaced containers: %q, want %q", got, ids)
	}
}

func TestStartWithoutComposeFileFollowsTheDependsOnLabel(t *testing.T) {
	c := upCmd(t)
	if err := c.r.Stop(c.ctx, Scope{Project: "p"}, StopOptions{}); err != nil {
		t.Fatal(err)
	}
	c.eng.ResetCalls()
	if err := c.r.Start(c.ctx, Scope{Project: "p", Services: []string{"web"}}, StartOptions{}); err != nil {
		t.Fatal(err)
	}
	calls := c.eng.Calls()
	before(t, calls, "start p-db-1", "start p-app-1")
	before(t, calls, "start p-app-1", "start p-web-1")
	if indexOfCall(calls, "start p-worker-1") >= 0 {
		t.Errorf("start web started worker: %q", calls)
	}
}

func TestStartOfAServiceWithoutContainerFails(t *testing.T) {
	c := upCmd(t)
	p := cmdProject()
	extra := p.Services["worker"]
	extra.Name = "extra"
	p.Services["extra"] = extra
	err := c.r.Start(c.ctx, Scope{Project: "p", Compose: p, Services: []string{"extra"}}, StartOptions{})
	if err == nil || err.Error() != `service "extra" has no container to start` {
		t.Errorf("start of a never-created service: %v", err)
	}
}

func TestStartWithoutComposeFileSkipsOneOffOnlyServices(t *testing.T) {
	c := upCmd(t)
	p := cmdProject()
	job := p.Services["worker"]
	job.Name = "job"
	p.Services["job"] = job
	if _, err := c.r.Run(c.ctx, p, RunOptions{Service: "job", Command: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.r.Stop(c.ctx, Scope{Project: "p"}, StopOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.r.Start(c.ctx, Scope{Project: "p"}, StartOptions{}); err != nil {
		t.Errorf("start with a one-off-only service: %v", err)
	}
	if err := c.r.Start(c.ctx, Scope{Project: "p", Services: []string{"job"}}, StartOptions{}); err == nil {
		t.Errorf("start job (one-off containers only): want an error")
	}
}

func TestStartWaitFailsForAContainerThatExits(t *testing.T) {
	c := upCmd(t)
	// worker's command now exits at once (the fake runs it at each start).
	p := cmdProject()
	w := p.Services["worker"]
	w.Command = types.ShellCommand{"sh", "-c", "exit 2"}
	p.Services["worker"] = w
	if err := c.r.Up(c.ctx, p, UpOptions{Detach: true, Services: []string{"worker"}}); err != nil {
		t.Fatal(err)
	}
	err := c.r.Start(c.ctx, Scope{Project: "p", Compose: p, Services: []string{"worker"}}, StartOptions{Wait: true})
	var se *ServiceError
	if !errors.As(err, &se) || se.Reason != "exited (2)" {
		t.Errorf("start --wait of an exiting container = %v, want a ServiceError \"exited (2)\"", err)
	}
}

func TestRestartIncludesRestartDependents(t *testing.T) {
	c := upCmd(t)
	ids := c.ids(t)
	if err := c.r.Restart(c.ctx, Scope{Project: "p", Compose: c.p, Services: []string{"app"}}, RestartOptions{}); err != nil {
		t.Fatal(err)
	}
	calls := c.eng.Calls()
	before(t, calls, "start p-app-1", "stop p-web-1")
	for _, n := range []string{"p-db-1", "p-worker-1"} {
		if indexOfCall(calls, "stop "+n) >= 0 {
			t.Errorf("restart app touched %s: %q", n, calls)
		}
	}
	if got := c.ids(t); !reflect.DeepEqual(got, ids) {
		t.Errorf("restart replaced containers")
	}
	c.eng.ResetCalls()
	if err := c.r.Restart(c.ctx, Scope{Project: "p", Compose: c.p, Services: []string{"app"}}, RestartOptions{NoDeps: true}); err != nil {
		t.Fatal(err)
	}
	if indexOfCall(c.eng.Calls(), "stop p-web-1") >= 0 {
		t.Errorf("restart --no-deps app restarted web: %q", c.eng.Calls())
	}
}

func TestKillPauseUnpause(t *testing.T) {
	c := upCmd(t)
	sc := Scope{Project: "p", Services: []string{"worker"}}
	if err := c.r.Pause(c.ctx, sc); err != nil {
		t.Fatal(err)
	}
	if got := c.states(t); !contains(got, "p-worker-1=paused") {
		t.Errorf("after pause: %q", got)
	}
	// docker compose (TestPauseServiceAlreadyPaused): a second pause fails.
	if err := c.r.Pause(c.ctx, sc); err == nil || !strings.Contains(err.Error(), "already paused") {
		t.Errorf("pause of a paused container = %v, want an \"already paused\" error", err)
	}
	if err := c.r.Unpause(c.ctx, sc); err != nil {
		t.Fatal(err)
	}
	if err := c.r.Unpause(c.ctx, sc); err == nil || !strings.Contains(err.Error(), "is not paused") {
		t.Errorf("unpause of a running container = %v, want an \"is not paused\" error", err)
	}
	// Nothing running: nothing to pause, no error (TestPauseServiceNotRunning).
	if err := c.r.Pause(c.ctx, Scope{Project: "p", Services: []string{"nothing"}}); err != nil {
		t.Errorf("pause with no container = %v, want nil", err)
	}
	if err := c.r.Kill(c.ctx, sc, KillOptions{Signal: "SIGTERM"}); err != nil {
		t.Fatal(err)
	}
	ct, _ := c.eng.InspectContainer(c.ctx, "p-worker-1")
	if ct.State != engine.StateExited || ct.ExitCode != 143 {
		t.Errorf("after kill -s SIGTERM: %s (%d), want exited (143)", ct.State, ct.ExitCode)
	}
	err := c.r.Kill(c.ctx, sc, KillOptions{})
	if !errors.Is(err, ErrNoContainer) || err.Error() != "no container to kill" {
		t.Errorf("kill with nothing running = %v, want ErrNoContainer", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestRemoveAsksAndSkipsRunningContainers(t *testing.T) {
	c := upCmd(t)
	sc := Scope{Project: "p", Compose: c.p}
	if err := c.r.Remove(c.ctx, sc, RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.err.String(), "No stopped containers") {
		t.Errorf("rm with all running: stderr %q", c.err.String())
	}
	if err := c.r.Stop(c.ctx, Scope{Project: "p", Services: []string{"worker", "web"}}, StopOptions{}); err != nil {
		t.Fatal(err)
	}
	var asked string
	no := func(msg string) (bool, error) { asked = msg; return false, nil }
	if err := c.r.Remove(c.ctx, sc, RemoveOptions{Confirm: no}); err != nil {
		t.Fatal(err)
	}
	if asked != "Going to remove p-web-1, p-worker-1" || len(c.states(t)) != 4 {
		t.Errorf("declined rm: asked %q, containers %q", asked, c.states(t))
	}
	if err := c.r.Remove(c.ctx, sc, RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	want := []string{"p-app-1=running", "p-db-1=running"}
	if got := c.states(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after rm -f: %q, want %q", got, want)
	}
	if !strings.Contains(c.out.String(), "Going to remove p-web-1, p-worker-1\n") {
		t.Errorf("rm -f stdout %q", c.out.String())
	}
	if err := c.r.Remove(c.ctx, Scope{Project: "p", Services: []string{"db"}}, RemoveOptions{Force: true, Stop: true}); err != nil {
		t.Fatal(err)
	}
	if got := c.states(t); !reflect.DeepEqual(got, []string{"p-app-1=running"}) {
		t.Errorf("after rm -fs db: %q", got)
	}
}

func TestExecReturnsTheExitCodeAndNeedsARunningContainer(t *testing.T) {
	c := upCmd(t)
	code, err := c.r.Exec(c.ctx, "p", ExecOptions{Service: "app", Command: []string{"sh", "-c", "echo hi; exit 3"}, Env: []string{"A=1"}})
	if err != nil || code != 3 {
		t.Errorf("exec = %d, %v; want 3", code, err)
	}
	if c.out.String() != "hi\n" {
		t.Errorf("exec stdout %q", c.out.String())
	}
	if _, err := c.r.Exec(c.ctx, "p", ExecOptions{Service: "app", Index: 2, Command: []string{"true"}}); err == nil || err.Error() != `service "app" is not running container #2` {
		t.Errorf("exec --index 2: %v", err)
	}
	_ = c.r.Stop(c.ctx, Scope{Project: "p", Services: []string{"app"}}, StopOptions{})
	if _, err := c.r.Exec(c.ctx, "p", ExecOptions{Service: "app", Command: []string{"true"}}); err == nil || err.Error() != `service "app" is not running` {
		t.Errorf("exec in a stopped service: %v", err)
	}
	code, err = c.r.Exec(c.ctx, "p", ExecOptions{Service: "db", Command: []string{"false"}, Detach: true})
	if err != nil || code != 0 {
		t.Errorf("exec -d = %d, %v; want 0", code, err)
	}
}

func TestWaitReturnsTheExitCodeAndDownsTheProject(t *testing.T) {
	c := upCmd(t)
	go func() {
		// worker ends on its own once Wait waits for it (polled, with a
		// deadline).
		deadline := time.Now().Add(5 * time.Second)
		for indexOfCall(c.eng.Calls(), "wait p-worker-1") < 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		_ = c.eng.Exit("p-worker-1", 3)
	}()
	code, err := c.r.Wait(c.ctx, "p", WaitOptions{Services: []string{"worker"}, DownProject: true})
	if err != nil || code != 3 {
		t.Errorf("wait = %d, %v; want 3", code, err)
	}
	if !strings.Contains(c.out.String(), "exited with status code 3") {
		t.Errorf("wait stdout %q", c.out.String())
	}
	if got := c.states(t); len(got) != 0 {
		t.Errorf("wait --down-project left %q", got)
	}
	if _, err := c.r.Wait(c.ctx, "p", WaitOptions{Services: []string{"worker"}}); err == nil {
		t.Errorf("wait with no container: want an error")
	}
}

func TestLsGroupsContainersByProject(t *testing.T) {
	c := upCmd(t)
	q := cmdProject()
	q.Name = "q"
	q.Networks = types.Networks{"default": types.NetworkConfig{Name: "q_default"}}
	if err := c.r.Up(c.ctx, q, UpOptions{Detach: true, Services: []string{"worker"}}); err != nil {
		t.Fatal(err)
	}
	_ = c.r.Stop(c.ctx, Scope{Project: "q"}, StopOptions{})
	_ = c.r.Stop(c.ctx, Scope{Project: "p", Services: []string{"web"}}, StopOptions{})
	got, err := c.r.Ls(c.ctx, LsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Stack{{Name: "p", Status: "running(3)", ConfigFiles: "/tmp/compose.yaml"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ls = %+v, want %+v", got, want)
	}
	got, _ = c.r.Ls(c.ctx, LsOptions{All: true})
	want = []Stack{{Name: "p", Status: "exited(1), running(3)", ConfigFiles: "/tmp/compose.yaml"}, {Name: "q", Status: "exited(1)", ConfigFiles: "/tmp/compose.yaml"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ls -a = %+v, want %+v", got, want)
	}
	got, _ = c.r.Ls(c.ctx, LsOptions{All: true, Name: "^q$"})
	if len(got) != 1 || got[0].Name != "q" {
		t.Errorf("ls -a --filter name=^q$ = %+v", got)
	}
}

func TestImagesTopPort(t *testing.T) {
	eng := fake.New()
	eng.AddImage("localhost/cmd", engine.Image{ID: "sha256:cmd", Size: 1234567})
	var out bytes.Buffer
	r := New(eng, Options{Stdout: &out, FastPoll: time.Millisecond, Clock: newAutoClock()})
	ctx := context.Background()
	p := cmdProject()
	web := p.Services["web"]
	web.Ports = []types.ServicePortConfig{{Target: 80, Protocol: "tcp"}, {Target: 53, Published: "5353", Protocol: "udp"}}
	p.Services["web"] = web
	if err := r.Up(ctx, p, UpOptions{Detach: true}); err != nil {
		t.Fatal(err)
	}
	imgs, err := r.Images(ctx, "p", []string{"web", "db"})
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 2 || imgs[0].ContainerName != "p-db-1" || imgs[0].Repository != "localhost/cmd" || imgs[0].Tag != "latest" || imgs[0].ID != "cmd" || imgs[0].Size != 1234567 {
		t.Errorf("images = %+v", imgs)
	}
	tops, err := r.Top(ctx, "p", []string{"web"})
	if err != nil || len(tops) != 1 || tops[0].Service != "web" || tops[0].Replica != "1" || !strings.Contains(strings.Join(tops[0].Rows[0], " "), "sleep 300") {
		t.Errorf("top = %+v, %v", tops, err)
	}
	addr, err := r.Port(ctx, "p", "web", 53, PortOptions{Protocol: "udp"})
	if err != nil || addr != "0.0.0.0:5353" {
		t.Errorf("port web 53/udp = %q, %v", addr, err)
	}
	if addr, err := r.Port(ctx, "p", "web", 80, PortOptions{}); err != nil || !strings.HasPrefix(addr, "0.0.0.0:") || addr == "0.0.0.0:0" {
		t.Errorf("port web 80 = %q, %v", addr, err)
	}
	if _, err := r.Port(ctx, "p", "web", 81, PortOptions{}); err == nil || !strings.Contains(err.Error(), "no port 81/tcp for container p-web-1") {
		t.Errorf("port web 81: %v", err)
	}
}

func TestEventsOfTheProjectOnly(t *testing.T) {
	c := upCmd(t)
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	got := make(chan ServiceEvent, 100)
	done := make(chan error, 1)
	go func() {
		done <- c.r.Events(ctx, "p", EventsOptions{Services: []string{"worker"}, Since: time.Now().Add(-time.Hour)}, func(ev ServiceEvent) error {
			got <- ev
			return nil
		})
	}()
	if err := c.r.Stop(c.ctx, Scope{Project: "p", Services: []string{"worker", "db"}}, StopOptions{}); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for len(actions) < 4 {
		select {
		case ev := <-got:
			if ev.Service != "worker" || ev.Attributes["name"] != "p-worker-1" {
				t.Errorf("event %+v: want only worker's", ev)
			}
			for k := range ev.Attributes {
				if strings.HasPrefix(k, "com.docker.compose.") {
					t.Errorf("event attribute %s is compose's own", k)
				}
			}
			actions = append(actions, ev.Action)
		case <-time.After(5 * time.Second):
			t.Fatalf("events so far %q, want create start die stop ...", actions)
		}
	}
	if want := []string{"create", "start", "die", "stop"}; !reflect.DeepEqual(actions, want) {
		t.Errorf("worker events %q, want %q", actions, want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("events after cancel: %v", err)
	}
}

func TestDependsOnLabel(t *testing.T) {
	got := dependsOnLabel("db:service_healthy:true,cache:service_started:false,")
	want := types.DependsOnConfig{
		"db":    {Condition: types.ServiceConditionHealthy, Restart: true, Required: true},
		"cache": {Condition: types.ServiceConditionStarted, Required: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dependsOnLabel = %+v, want %+v", got, want)
	}
}

func TestCheckServices(t *testing.T) {
	p := cmdProject()
	if err := CheckServices(p, []string{"db", "web"}); err != nil {
		t.Error(err)
	}
	if err := CheckServices(p, []string{"does_not_exist"}); err == nil || err.Error() != "no such service: does_not_exist" {
		t.Errorf("CheckServices(does_not_exist) = %v", err)
	}
	if err := CheckServices(nil, []string{"x"}); err != nil {
		t.Errorf("CheckServices without a project = %v", err)
	}
}

// down --rmi local removes the images compose named PROJECT-SERVICE (a
// build section, no image:); --rmi all every service's image; an image
// already gone is no error.
func TestDownRemoveImages(t *testing.T) {
	dir := t.TempDir()
	p := &types.Project{Name: "p", WorkingDir: dir, Services: types.Services{
		"built":  service("built", "", &types.BuildConfig{Context: dir}),
		"named":  service("named", "localhost/named:1", &types.BuildConfig{Context: dir}),
		"pulled": service("pulled", "localhost/pulled", nil),
	}}
	for _, tc := range []struct {
		rmi  string
		gone []string
	}{
		{"local", []string{"p-built"}},
		{"all", []string{"p-built", "localhost/named:1", "localhost/pulled"}},
	} {
		eng := fake.New()
		all := []string{"p-built", "localhost/named:1", "localhost/pulled"}
		for _, ref := range all {
			eng.AddImage(ref, engine.Image{ID: "sha256:" + ref})
		}
		r := New(eng, Options{Clock: newAutoClock()})
		if err := r.Down(context.Background(), "p", DownOptions{Compose: p, RemoveImages: tc.rmi}); err != nil {
			t.Fatalf("down --rmi %s: %v", tc.rmi, err)
		}
		for _, ref := range all {
			ok, _ := eng.ImageExists(context.Background(), ref)
			if want := !slices.Contains(tc.gone, ref); ok != want {
				t.Errorf("down --rmi %s: image %s exists=%v, want %v", tc.rmi, ref, ok, want)
			}
		}
		if err := r.Down(context.Background(), "p", DownOptions{Compose: p, RemoveImages: tc.rmi}); err != nil {
			t.Errorf("second down --rmi %s (images gone): %v", tc.rmi, err)
		}
	}
}
