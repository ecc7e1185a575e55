package podman

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/enginetest"
	"github.com/cirun-dev/cirun/engine/podman/rest"
	"github.com/containers/podman/v4/pkg/bindings/images"
)

// testImage is the image the real-podman tests run (scripts/setup.sh
// builds it).
const testImage = "localhost/cirun/busybox:latest"

var (
	realOnce sync.Once
	realEng  *Engine
	realErr  error
)

// realEngine connects to Podman the way cirun does, or skips the test when
// podman or the test image is missing.
func realEngine(t *testing.T) *Engine {
	t.Helper()
	if testing.Short() {
		t.Skip("real podman: skipped in -short mode")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman is not installed")
	}
	realOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		realEng, realErr = New(ctx, Options{Logf: t.Logf})
	})
	if realErr != nil {
		t.Fatalf("connecting to podman: %v", realErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if ok, err := realEng.ImageExists(ctx, testImage); err != nil || !ok {
		t.Skipf("image %s missing (run scripts/setup.sh images): %v", testImage, err)
	}
	return realEng
}

func TestConformance(t *testing.T) {
	e := realEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	health := healthImage(ctx, t, e)
	enginetest.Run(t, func(*testing.T) engine.Engine { return e }, enginetest.Options{
		Image:       testImage,
		HealthImage: health,
	})
}

// healthImage makes a docker-format image with a HEALTHCHECK (with the
// buildah CLI: Podman 4.3's commit cannot set one), removed when the test
// ends. "" when buildah is missing.
func healthImage(ctx context.Context, t *testing.T, e *Engine) string {
	t.Helper()
	if _, err := exec.LookPath("buildah"); err != nil {
		t.Log("buildah missing: the image-healthcheck checks are skipped")
		return ""
	}
	ref := "localhost/" + randName("cirun-test-hc-") + ":latest"
	run := func(args ...string) string {
		out, err := exec.CommandContext(ctx, "buildah", args...).Output()
		if err != nil {
			t.Fatalf("buildah %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	ctr := run("from", "--pull-never", testImage)
	defer run("rm", ctr)
	run("config", "--healthcheck", "CMD true", "--healthcheck-interval", "5s", "--healthcheck-retries", "4", ctr)
	run("commit", "--format", "docker", "-q", ctr, ref)
	t.Cleanup(func() {
		if _, errs := images.Remove(e.ctx(context.Background()), []string{ref}, new(images.RemoveOptions).WithForce(true)); len(errs) > 0 {
			t.Errorf("removing %s: %v", ref, errs)
		}
	})
	return ref
}

func TestDoctor(t *testing.T) {
	realEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, c := range Doctor(ctx, Options{}) {
		t.Logf("%-24s ok=%v %s", c.Name, c.OK, c.Detail)
		if !c.OK {
			t.Errorf("doctor check %q failed: %s (fix: %s)", c.Name, c.Detail, c.Fix)
		}
	}
	e := realEngine(t)
	f := engine.Filter{Labels: map[string]string{labelDoctor: ""}, All: true}
	if cs, err := e.ListContainers(ctx, f); err != nil || len(cs) > 0 {
		t.Errorf("doctor left containers: %v %v", cs, err)
	}
	if ns, err := e.ListNetworks(ctx, f); err != nil || len(ns) > 0 {
		t.Errorf("doctor left networks: %v %v", ns, err)
	}
}

// TestOwnService starts cirun's own service in a private directory, checks
// that later connections reuse it (also concurrently), and that the engine
// restarts it after it exits idle.
func TestOwnService(t *testing.T) {
	realEngine(t)
	dir, err := os.MkdirTemp("", "cirun-svc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Setenv("CONTAINER_HOST", "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := Options{ServiceDir: dir, ServiceIdle: 2 * time.Second, Logf: t.Logf}

	start := time.Now()
	e1, err := New(ctx, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Logf("first New (starts the service): %v", time.Since(start))
	if e1.Source() != SourceOwn || e1.Endpoint() != "unix://"+dir+"/podman.sock" {
		t.Errorf("New: source %s endpoint %s, want own service in %s", e1.Source(), e1.Endpoint(), dir)
	}
	conf, err := os.ReadFile(dir + "/containers.conf")
	if err != nil || !strings.Contains(string(conf), "default_ulimits = []") || !strings.Contains(string(conf), "exit_command_delay = 10") {
		t.Errorf("containers.conf: %q, %v", conf, err)
	}
	checkExecCleanup(ctx, t, e1)

	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			e, err := New(ctx, opts)
			if err == nil {
				_, err = e.ListContainers(ctx, engine.Filter{})
				t.Logf("New + first call to the running service: %v", time.Since(t0))
				e.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent New: %v", err)
		}
	}

	// Let it idle out (watching its process, not asking it: a request would
	// keep it alive), then use the old engine: its dialer restarts it.
	e1.Close()
	waitExit := func() {
		t.Helper()
		pid := servicePID(dir)
		if pid <= 0 {
			t.Fatalf("no pid file in %s", dir)
		}
		deadline := time.Now().Add(60 * time.Second)
		for syscall.Kill(pid, 0) == nil {
			if time.Now().After(deadline) {
				t.Fatalf("service %d still runs 60s after its last request (idle exit 2s)", pid)
			}
			time.Sleep(100 * time.Millisecond) // polling a process, not synchronising
		}
	}
	waitExit()
	t0 := time.Now()
	if _, err := e1.ListContainers(ctx, engine.Filter{}); err != nil {
		t.Fatalf("call after the service exited: %v", err)
	}
	t.Logf("first call after idle exit (restarts the service): %v", time.Since(t0))
	e1.Close()
	waitExit() // do not leave it to outlive its directory
}

// TestLatency measures the engine operations on the critical path.
func TestLatency(t *testing.T) {
	e := realEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ms := func(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }

	t0 := time.Now()
	e2, err := New(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	connect := time.Since(t0)
	t0 = time.Now()
	if _, err := e2.ListContainers(ctx, engine.Filter{Labels: map[string]string{"dev.cirun.none": "x"}}); err != nil {
		t.Fatal(err)
	}
	first := time.Since(t0)
	e2.Close()

	name := randName("cirun-test-lat-")
	hc := &engine.Healthcheck{Test: []string{"CMD-SHELL", "exit 0"}}
	t0 = time.Now()
	id, err := e.CreateContainer(ctx, &engine.ContainerSpec{Name: name, Image: testImage, Command: []string{"sleep", "60"}, Health: hc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.RemoveContainer(context.Background(), id, engine.RemoveOptions{Force: true}) })
	create := time.Since(t0)
	t0 = time.Now()
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	start := time.Since(t0)
	t0 = time.Now()
	if r, err := e.RunHealthCheck(ctx, id); err != nil || r.Status != engine.HealthHealthy {
		t.Fatalf("health: %+v %v", r, err)
	}
	health := time.Since(t0)
	t0 = time.Now()
	if code, err := e.Exec(ctx, id, engine.ExecSpec{Cmd: []string{"true"}}); err != nil || code != 0 {
		t.Fatalf("exec: %d %v", code, err)
	}
	execT := time.Since(t0)
	t0 = time.Now()
	if _, err := e.InspectContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	inspect := time.Since(t0)

	t0 = time.Now()
	id2, err := e.CreateContainer(ctx, &engine.ContainerSpec{Name: name + "-x", Image: testImage, Command: []string{"sh", "-c", "exit 3"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.RemoveContainer(context.Background(), id2, engine.RemoveOptions{Force: true}) })
	if err := e.StartContainer(ctx, id2); err != nil {
		t.Fatal(err)
	}
	if code, err := e.WaitContainer(ctx, id2); err != nil || code != 3 {
		t.Fatalf("wait: %d %v", code, err)
	}
	runWait := time.Since(t0)
	t0 = time.Now()
	if err := e.RemoveContainer(ctx, id2, engine.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	rm := time.Since(t0)
	t.Logf("connect to running service %s, first call %s; create %s, start %s, health check %s, exec %s, inspect %s; create+start+wait one-shot %s, remove %s",
		ms(connect), ms(first), ms(create), ms(start), ms(health), ms(execT), ms(inspect), ms(runWait), ms(rm))
}

// TestServiceStaysUpDuringLongCalls checks that an own service with a short
// idle timeout does not exit under a long attach or wait (a CI test run
// can make no other request for minutes).
func TestServiceStaysUpDuringLongCalls(t *testing.T) {
	realEngine(t)
	dir, err := os.MkdirTemp("", "cirun-svc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := New(ctx, Options{ServiceDir: dir, ServiceIdle: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	pid := servicePID(dir)
	name := randName("cirun-test-long-")
	id, err := e.CreateContainer(ctx, &engine.ContainerSpec{Name: name, Image: testImage, Command: []string{"sh", "-c", "sleep 4; echo done"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.RemoveContainer(context.Background(), id, engine.RemoveOptions{Force: true}) }()
	var out strings.Builder
	if err := e.StartAttached(ctx, id, engine.Streams{Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "done\n" {
		t.Errorf("attached output %q", out.String())
	}
	if servicePID(dir) != pid {
		t.Errorf("service restarted during the attach (pid %d -> %d)", pid, servicePID(dir))
	}
	id2, err := e.CreateContainer(ctx, &engine.ContainerSpec{Name: name + "-w", Image: testImage, Command: []string{"sh", "-c", "sleep 4; exit 2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.RemoveContainer(context.Background(), id2, engine.RemoveOptions{Force: true}) }()
	if err := e.StartContainer(ctx, id2); err != nil {
		t.Fatal(err)
	}
	if code, err := e.WaitContainer(ctx, id2); err != nil || code != 2 {
		t.Errorf("wait: %d %v", code, err)
	}
	if servicePID(dir) != pid {
		t.Errorf("service restarted during the wait (pid %d -> %d)", pid, servicePID(dir))
	}
	e.Close()
	for syscall.Kill(pid, 0) == nil && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond) // polling a process, not synchronising
	}
}

// TestFrontClientMatchesEngine checks the REST client cirun's front binary
// answers `ps` and `ls` with (rest.Dial on the socket the front finds)
// against the engine: same containers, same inspected state, health and
// ports, and ErrNotFound for a missing one.
func TestFrontClientMatchesEngine(t *testing.T) {
	e := realEngine(t)
	sock, ok := strings.CutPrefix(e.Endpoint(), "unix://")
	if !ok {
		t.Skipf("engine endpoint %s is not a unix socket", e.Endpoint())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := rest.Probe(ctx, sock); err != nil {
		t.Fatalf("probe %s: %v", sock, err)
	}
	front, err := rest.Dial(e.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	run := randName("front-")
	labels := map[string]string{"dev.cirun.test.front": run}
	id, err := e.CreateContainer(ctx, &engine.ContainerSpec{
		Name: run, Image: testImage, Command: []string{"sleep", "60"}, Labels: labels,
		Health: &engine.Healthcheck{Test: []string{"CMD-SHELL", "exit 0"}, Interval: 2 * time.Second},
		Ports:  []engine.PortMapping{{ContainerPort: 80, Protocol: "tcp"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.RemoveContainer(context.Background(), id, engine.RemoveOptions{Force: true}) })
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.RunHealthCheck(ctx, id); err != nil {
		t.Fatal(err)
	}
	f := engine.Filter{Labels: labels, All: true}
	want, err := e.ListContainers(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := front.ListContainers(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != id || !reflect.DeepEqual(got, want) {
		t.Errorf("front list %+v\nengine list %+v", got, want)
	}
	wantC, err := e.InspectContainer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	gotC, err := front.InspectContainer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotC, wantC) {
		t.Errorf("front inspect %+v\nengine inspect %+v", gotC, wantC)
	}
	if gotC.Health != engine.HealthHealthy || gotC.Healthcheck == nil || gotC.Healthcheck.Interval != 2*time.Second || gotC.State != engine.StateRunning {
		t.Errorf("front inspect: health %q, check %+v, state %q; want healthy, 2s interval, running", gotC.Health, gotC.Healthcheck, gotC.State)
	}
	if _, err := front.InspectContainer(ctx, run+"-missing"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("front inspect of a missing container: %v, want ErrNotFound", err)
	}
}

// checkExecCleanup runs an exec in a container of e's own service, removes
// the container, and checks that the exec session's conmon processes exit
// within ExecCleanupDelay and a margin (with Podman's default, 300 s, they
// outlived the project by five minutes).
func checkExecCleanup(ctx context.Context, t *testing.T, e *Engine) {
	t.Helper()
	id, err := e.CreateContainer(ctx, &engine.ContainerSpec{Name: randName("cirun-test-exec-"), Image: testImage, Command: []string{"sleep", "60"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.RemoveContainer(context.Background(), id, engine.RemoveOptions{Force: true}) }()
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if code, err := e.Exec(ctx, id, engine.ExecSpec{Cmd: []string{"true"}}); err != nil || code != 0 {
		t.Fatalf("exec: %d %v", code, err)
	}
	if err := e.RemoveContainer(ctx, id, engine.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	limit := ExecCleanupDelay + 20*time.Second
	deadline := time.Now().Add(limit)
	for {
		out, _ := exec.Command("ps", "-C", "conmon", "-o", "args=").Output()
		left := 0
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "--exec-attach") && strings.Contains(l, id) {
				left++
			}
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d exec conmon processes of removed container %s still run %v after it was removed", left, id, limit)
		}
		time.Sleep(200 * time.Millisecond) // polling processes, not synchronising
	}
}
