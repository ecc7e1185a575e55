package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/fake"
)

// runProject has one service, back, publishing 8082:80 and setting EMPTY
// with no value (unset in the project environment).
func runProject() *types.Project {
	back := types.ServiceConfig{Name: "back"}
	back.Image = "img"
	back.Command = types.ShellCommand{"sleep", "300"}
	back.Ports = []types.ServicePortConfig{{Target: 80, Published: "8082", Protocol: "tcp"}}
	back.Environment = types.MappingWithEquals{"EMPTY": nil}
	back.Networks = map[string]*types.ServiceNetworkConfig{"default": nil}
	return &types.Project{Name: "p", WorkingDir: "/tmp", Services: types.Services{"back": back},
		Networks: types.Networks{"default": {Name: "p_default"}}}
}

func specRunner(t *testing.T) (*Runner, *specRecorder, *bytes.Buffer) {
	t.Helper()
	eng := &specRecorder{Engine: fake.New(), specs: map[string]*engine.ContainerSpec{}}
	eng.AddImage("img", engine.Image{ID: "sha256:img"})
	var out bytes.Buffer
	r := New(eng, Options{Stdout: &out, RuntimeDir: t.TempDir(), Clock: newAutoClock(), FastPoll: time.Millisecond})
	return r, eng, &out
}

// run -d starts the one-off, prints its ID and returns while it runs;
// --publish replaces the service's ports, --service-ports uses them, and
// neither publishes nothing.
func TestRunDetachAndPorts(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		o    RunOptions
		want []engine.PortMapping
	}{
		{"publish", RunOptions{Publish: []string{"8081:80"}}, []engine.PortMapping{{HostPort: 8081, ContainerPort: 80, Protocol: "tcp"}}},
		{"publish wins", RunOptions{Publish: []string{"127.0.0.1:8083:80/udp"}, ServicePorts: true}, []engine.PortMapping{{HostIP: "127.0.0.1", HostPort: 8083, ContainerPort: 80, Protocol: "udp"}}},
		{"service-ports", RunOptions{ServicePorts: true}, []engine.PortMapping{{HostPort: 8082, ContainerPort: 80, Protocol: "tcp"}}},
		{"none", RunOptions{}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, eng, out := specRunner(t)
			o := tt.o
			o.Service, o.Name, o.Detach = "back", "p-back-run-x", true
			code, err := r.Run(ctx, runProject(), o)
			if err != nil || code != 0 {
				t.Fatalf("run -d: %d, %v", code, err)
			}
			c, err := eng.InspectContainer(ctx, "p-back-run-x")
			if err != nil {
				t.Fatal(err)
			}
			if !c.Running() {
				t.Errorf("one-off is %s after run -d, want running", c.State)
			}
			if got := strings.TrimSpace(out.String()); got != c.ID {
				t.Errorf("run -d printed %q, want the container ID %s", got, c.ID)
			}
			if got := eng.spec("p-back-run-x").Ports; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ports %+v, want %+v", got, tt.want)
			}
		})
	}
	r, _, _ := specRunner(t)
	_, err := r.Run(ctx, runProject(), RunOptions{Service: "back", Publish: []string{"80:x"}, Detach: true})
	if err == nil || !strings.Contains(err.Error(), `--publish "80:x"`) {
		t.Errorf("bad --publish: %v", err)
	}
}

// run -d --rm leaves the removal to the engine (AutoRemove); without -d,
// --rm is Run's own.
func TestRunDetachRemove(t *testing.T) {
	ctx := context.Background()
	r, eng, _ := specRunner(t)
	if _, err := r.Run(ctx, runProject(), RunOptions{Service: "back", Name: "d", Detach: true, Remove: true}); err != nil {
		t.Fatal(err)
	}
	if !eng.spec("d").AutoRemove {
		t.Errorf("run -d --rm: AutoRemove not set")
	}
	if err := eng.Exit("d", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.InspectContainer(ctx, "d"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("run -d --rm container after exit: %v, want it removed", err)
	}
	if _, err := r.Run(ctx, runProject(), RunOptions{Service: "back", Name: "a", Remove: true, Command: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if eng.spec("a").AutoRemove {
		t.Errorf("attached run --rm asks the engine to auto-remove")
	}
}

// `- EMPTY` with no value unsets the image's EMPTY; `run -e EMPTY=hello`
// sets it instead.
func TestRunUnsetEnv(t *testing.T) {
	ctx := context.Background()
	r, eng, _ := specRunner(t)
	if _, err := r.Run(ctx, runProject(), RunOptions{Service: "back", Name: "a", Detach: true}); err != nil {
		t.Fatal(err)
	}
	if s := eng.spec("a"); !reflect.DeepEqual(s.UnsetEnv, []string{"EMPTY"}) {
		t.Errorf("unset env %q, want [EMPTY]", s.UnsetEnv)
	}
	if _, err := r.Run(ctx, runProject(), RunOptions{Service: "back", Name: "b", Detach: true, Env: []string{"EMPTY=hello"}}); err != nil {
		t.Fatal(err)
	}
	if s := eng.spec("b"); len(s.UnsetEnv) != 0 || !slices.Contains(s.Env, "EMPTY=hello") {
		t.Errorf("with -e EMPTY=hello: unset %q env %q", s.UnsetEnv, s.Env)
	}
}

// run --volume adds binds to the service's mounts (a relative source from
// the current directory); a malformed one names the flag.
func TestRunVolumes(t *testing.T) {
	ctx := context.Background()
	r, eng, _ := specRunner(t)
	o := RunOptions{Service: "back", Name: "v", Detach: true, Volumes: []string{"/srv/data:/foo:ro", "./rel:/bar"}}
	if _, err := r.Run(ctx, runProject(), o); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	var got []string
	for _, m := range eng.spec("v").Mounts {
		got = append(got, fmt.Sprintf("%s %s:%s ro=%v", m.Type, m.Source, m.Target, m.ReadOnly))
	}
	want := []string{"bind /srv/data:/foo ro=true", "bind " + filepath.Join(wd, "rel") + ":/bar ro=false"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mounts %q, want %q", got, want)
	}
	if _, err := r.Run(ctx, runProject(), RunOptions{Service: "back", Volumes: []string{"/a:"}}); err == nil || !strings.Contains(err.Error(), "--volume") {
		t.Errorf("bad --volume: %v", err)
	}
}

// run --no-recreate keeps a dependency whose configuration changed; a plain
// run recreates it (docker compose's diverged policy).
func TestRunNoRecreate(t *testing.T) {
	ctx := context.Background()
	r, eng, _ := specRunner(t)
	project := func(tag string) *types.Project {
		p := runProject()
		dep := types.ServiceConfig{Name: "dep"}
		dep.Environment = types.NewMappingWithEquals([]string{"TAG=" + tag})
		dep.Image = "img"
		dep.Command = types.ShellCommand{"sleep", "300"}
		dep.Networks = map[string]*types.ServiceNetworkConfig{"default": nil}
		p.Services["dep"] = dep
		back := p.Services["back"]
		back.DependsOn = types.DependsOnConfig{"dep": {Condition: types.ServiceConditionStarted, Required: true}}
		p.Services["back"] = back
		return p
	}
	depID := func() string {
		c, err := eng.InspectContainer(ctx, "p-dep-1")
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	run := func(tag string, noRecreate bool) {
		t.Helper()
		if _, err := r.Run(ctx, project(tag), RunOptions{Service: "back", Detach: true, NoRecreate: noRecreate}); err != nil {
			t.Fatal(err)
		}
	}
	run("initial", false)
	first := depID()
	run("changed", true)
	if depID() != first {
		t.Errorf("run --no-recreate recreated the changed dependency")
	}
	run("changed", false)
	if depID() == first {
		t.Errorf("run without --no-recreate kept the changed dependency")
	}
}

// --cap-add and --cap-drop change the service's capabilities as docker
// compose does: an added one is no longer dropped and the reverse, and one
// given to both ends up dropped.
func TestRunCapabilities(t *testing.T) {
	ctx := context.Background()
	r, eng, _ := specRunner(t)
	p := runProject()
	back := p.Services["back"]
	back.CapAdd, back.CapDrop = []string{"NET_ADMIN", "SYS_PTRACE"}, []string{"MKNOD"}
	p.Services["back"] = back
	o := RunOptions{Service: "back", Name: "c", Detach: true,
		CapAdd: []string{"MKNOD", "SYS_TIME", "CHOWN"}, CapDrop: []string{"NET_ADMIN", "CHOWN"}}
	if _, err := r.Run(ctx, p, o); err != nil {
		t.Fatal(err)
	}
	spec := eng.spec("c")
	if want := []string{"SYS_PTRACE", "MKNOD", "SYS_TIME"}; !reflect.DeepEqual(spec.CapAdd, want) {
		t.Errorf("CapAdd = %q, want %q", spec.CapAdd, want)
	}
	if want := []string{"NET_ADMIN", "CHOWN"}; !reflect.DeepEqual(spec.CapDrop, want) {
		t.Errorf("CapDrop = %q, want %q", spec.CapDrop, want)
	}
	if !reflect.DeepEqual(p.Services["back"].CapAdd, []string{"NET_ADMIN", "SYS_PTRACE"}) {
		t.Errorf("the project's service was changed: %q", p.Services["back"].CapAdd)
	}
}

// A one-off answers to the service's name on its networks only with
// --use-aliases.
func TestRunUseAliases(t *testing.T) {
	ctx := context.Background()
	for _, use := range []bool{false, true} {
		r, eng, _ := specRunner(t)
		p := runProject()
		back := p.Services["back"]
		back.Networks = map[string]*types.ServiceNetworkConfig{"default": {Aliases: []string{"api"}}}
		p.Services["back"] = back
		if _, err := r.Run(ctx, p, RunOptions{Service: "back", Name: "a", Detach: true, UseAliases: use}); err != nil {
			t.Fatal(err)
		}
		var want []string
		if use {
			want = []string{"back", "api"}
		}
		nets := eng.spec("a").Networks
		if len(nets) != 1 || nets[0].Name != "p_default" || !reflect.DeepEqual(nets[0].Aliases, want) {
			t.Errorf("use-aliases %t: networks %+v, want p_default with aliases %q", use, nets, want)
		}
	}
}

// --pull replaces every service's pull_policy: always pulls an image that
// is present, never does not pull one that is missing; other values are
// refused with docker compose's message.
func TestRunPull(t *testing.T) {
	ctx := context.Background()
	r, eng, _ := specRunner(t)
	if _, err := r.Run(ctx, runProject(), RunOptions{Service: "back", Name: "a", Detach: true, Pull: "always"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(eng.Calls(), "pull img") {
		t.Errorf("--pull always did not pull: %q", eng.Calls())
	}
	eng.ResetCalls()
	if _, err := r.Run(ctx, runProject(), RunOptions{Service: "back", Name: "b", Detach: true, Pull: "policy"}); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(eng.Calls(), "pull img") {
		t.Errorf("--pull policy (pull_policy unset, image present) pulled: %q", eng.Calls())
	}
	p := runProject()
	back := p.Services["back"]
	back.Image = "missing"
	p.Services["back"] = back
	_, err := r.Run(ctx, p, RunOptions{Service: "back", Detach: true, Pull: "never"})
	if err == nil || !strings.Contains(err.Error(), "not found locally") || slices.Contains(eng.Calls(), "pull missing") {
		t.Errorf("--pull never with a missing image: %v (calls %q)", err, eng.Calls())
	}
	if _, err := r.Run(ctx, runProject(), RunOptions{Service: "back", Detach: true, Pull: "sometimes"}); err == nil || err.Error() != `invalid --pull option "sometimes"` {
		t.Errorf("--pull sometimes: %v", err)
	}
}

// run reports the project's orphans even when the service has no
// dependency (an exited one-off of an earlier run is one), removes them
// with RemoveOrphans and says nothing with IgnoreOrphans.
func TestRunOrphans(t *testing.T) {
	ctx := context.Background()
	r, eng, _ := specRunner(t)
	var events []Event
	r.opts.Events = func(e Event) { events = append(events, e) }
	warnings := func() (n int) {
		for _, e := range events {
			if e.Status == "Warning" && strings.Contains(e.Detail, "Found orphan containers ([p-back-run-1])") {
				n++
			}
		}
		return n
	}
	if _, err := r.Run(ctx, runProject(), RunOptions{Service: "back", Name: "p-back-run-1", Command: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if warnings() != 0 {
		t.Fatalf("first run warned about orphans: %+v", events)
	}
	if _, err := r.Run(ctx, runProject(), RunOptions{Service: "back", Name: "p-back-run-2", Remove: true, Command: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if warnings() != 1 {
		t.Errorf("second run: %d orphan warnings, want 1: %+v", warnings(), events)
	}
	if _, err := r.Run(ctx, runProject(), RunOptions{Service: "back", Name: "p-back-run-3", Remove: true, IgnoreOrphans: true, Command: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if warnings() != 1 {
		t.Errorf("IgnoreOrphans warned: %+v", events)
	}
	if _, err := r.Run(ctx, runProject(), RunOptions{Service: "back", Name: "p-back-run-4", Remove: true, RemoveOrphans: true, Command: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.InspectContainer(ctx, "p-back-run-1"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("RemoveOrphans left the exited one-off: %v", err)
	}
	if warnings() != 1 {
		t.Errorf("RemoveOrphans warned: %+v", events)
	}
}

// With dependencies to bring up, run passes IgnoreOrphans and
// RemoveOrphans on to them: the orphans are handled once, as docker
// compose's Create of the dependencies does.
func TestRunOrphansWithDependencies(t *testing.T) {
	ctx := context.Background()
	r, eng, _ := specRunner(t)
	var warnings int
	r.opts.Events = func(e Event) {
		if e.Status == "Warning" && strings.Contains(e.Detail, "Found orphan containers") {
			warnings++
		}
	}
	p := runProject()
	db := types.ServiceConfig{Name: "db"}
	db.Image, db.Command = "img", types.ShellCommand{"sleep", "300"}
	p.Services["db"] = db
	back := p.Services["back"]
	back.DependsOn = types.DependsOnConfig{"db": {Condition: types.ServiceConditionStarted, Required: true}}
	p.Services["back"] = back
	if _, err := r.Run(ctx, p, RunOptions{Service: "back", Name: "first", Command: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, p, RunOptions{Service: "back", Name: "second", Remove: true, IgnoreOrphans: true, Command: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if warnings != 0 {
		t.Errorf("IgnoreOrphans: %d warnings", warnings)
	}
	if _, err := r.Run(ctx, p, RunOptions{Service: "back", Name: "third", Remove: true, Command: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if warnings != 1 {
		t.Errorf("%d warnings about the exited one-off, want 1", warnings)
	}
	if _, err := r.Run(ctx, p, RunOptions{Service: "back", Name: "fourth", Remove: true, RemoveOrphans: true, Command: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.InspectContainer(ctx, "first"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("RemoveOrphans left the exited one-off: %v", err)
	}
	if c, err := eng.InspectContainer(ctx, "p-db-1"); err != nil || !c.Running() {
		t.Errorf("dependency db: %+v, %v; want it running", c, err)
	}
}

// up --pull (and create --pull) replace every service's pull_policy as
// run's does.
func TestUpPull(t *testing.T) {
	ctx := context.Background()
	r, eng, _ := specRunner(t)
	if err := r.Up(ctx, runProject(), UpOptions{Detach: true, Pull: "always"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(eng.Calls(), "pull img") {
		t.Errorf("up --pull always did not pull: %q", eng.Calls())
	}
	if err := r.Up(ctx, runProject(), UpOptions{Detach: true, Pull: "weekly"}); err == nil || err.Error() != `invalid --pull option "weekly"` {
		t.Errorf("up --pull weekly: %v", err)
	}
}
