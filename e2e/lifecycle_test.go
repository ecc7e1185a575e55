//go:build e2e

package e2e

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cirun-dev/cirun/internal/syncbuf"
)

// docker compose's lifecycle e2e tests (events, wait, logs, up, down,
// hooks, cascade, scale) replayed against cirun where cirun differed; each
// test names the docker compose test it follows and owns fixtures/lifecycle-*.

func lifecycle(name string) string {
	return filepath.Join(fixtures, "lifecycle-"+name, "compose.yaml")
}

// TestDown: down on a project with nothing left says so on stderr, as
// docker compose's warning, and succeeds.
func TestDownNothingToRemove(t *testing.T) {
	p := project(t)
	res := cirun(t, nil, "-p", p, "down")
	if res.code != 0 {
		t.Errorf("down of an empty project exited %d, want 0", res.code)
	}
	mustContain(t, "stderr", res.stderr, `No resource found to remove for project "`+p+`"`)
}

// TestUpWithDependencyExit: a service_healthy dependency without a
// healthcheck that exited is reported as exited, not as lacking a
// healthcheck; the dependent is created, not started.
func TestUpDependencyExitedBeforeHealthy(t *testing.T) {
	p, f := project(t), lifecycle("dep-exit")
	res := cirun(t, nil, "-f", f, "-p", p, "up", "-d")
	if res.code != 1 {
		t.Errorf("up exited %d, want 1", res.code)
	}
	mustContain(t, "stderr", res.stderr, "dependency failed to start: container "+p+"-db-1 exited (1)")
	wantStatus(t, "created", p+"-web-1")
	down(t, f, p)
}

// TestUpWithDependencyNotRequired: an optional (required: false)
// dependency that fails its condition is a warning; the dependent starts
// and up succeeds.
func TestUpOptionalDependencyFails(t *testing.T) {
	p, f := project(t), lifecycle("optional-dep")
	res := cirun(t, nil, "-f", f, "-p", p, "--profile", "optional", "up", "-d")
	if res.code != 0 {
		t.Errorf("up exited %d, want 0", res.code)
	}
	mustContain(t, "stderr", res.stderr, `optional dependency "cache" failed to start: container `+p+"-cache-1 has no healthcheck configured")
	eventually(t, "app ran", 30*time.Second, func() bool { return status(t, p+"-app-1") == "exited" })
	if logs := cirun(t, nil, "-f", f, "-p", p, "logs", "app"); !strings.Contains(logs.stdout, "app ran") {
		t.Errorf("app did not run: logs %q", logs.stdout)
	}
	down(t, f, p)
}

// TestUpWaitTimeout: --wait-timeout expiring fails up --wait with docker
// compose's words and leaves the service running.
func TestUpWaitTimeout(t *testing.T) {
	p, f := project(t), lifecycle("wait-timeout")
	res := cirun(t, nil, "-f", f, "-p", p, "up", "--wait", "--wait-timeout", "3", "-d")
	if res.code != 1 {
		t.Errorf("up --wait exited %d, want 1", res.code)
	}
	mustContain(t, "stderr", res.stderr, "application not healthy after 3s")
	wantStatus(t, "running", p+"-app-1")
	down(t, f, p)
}

// TestStdoutStderr: a container's stdout and stderr stay apart, in an
// attached up and in logs, each line with its prefix.
func TestContainerStderrOnStderr(t *testing.T) {
	p, f := project(t), lifecycle("streams")
	res := cirun(t, nil, "-f", f, "-p", p, "up")
	if res.code != 0 {
		t.Fatalf("up exited %d", res.code)
	}
	mustContain(t, "up stdout", res.stdout, "talk-1  | log to stdout\n")
	mustContain(t, "up stderr", res.stderr, "talk-1  | log to stderr\n")
	if strings.Contains(res.stdout, "log to stderr") {
		t.Errorf("up: the container's stderr is on stdout")
	}
	res = cirun(t, nil, "-f", f, "-p", p, "logs")
	mustContain(t, "logs stdout", res.stdout, "talk-1  | log to stdout\n")
	mustContain(t, "logs stderr", res.stderr, "talk-1  | log to stderr\n")
	if strings.Contains(res.stdout, "log to stderr") {
		t.Errorf("logs: the container's stderr is on stdout")
	}
	down(t, f, p)
}

// TestUpStopWithLogsMixed: the abort of an attached up runs the pre_stop
// hooks of what it stops and shows their output under "NAME ->".
func TestUpAbortRunsPreStopHook(t *testing.T) {
	p, f := project(t), lifecycle("abort-hook")
	res := cirun(t, nil, "-f", f, "-p", p, "up", "--abort-on-container-exit")
	if res.code != 0 {
		t.Errorf("up --abort-on-container-exit exited %d, want 0 (quick's code)", res.code)
	}
	mustContain(t, "stdout", res.stdout, "pinger-1  | 64 bytes")
	mustContain(t, "stdout", res.stdout, "pinger-1 ->  | stop hook running...\n")
	mustContain(t, "stderr", res.stderr, "Container "+p+"-quick-1 Stopped")
	if got := containerState(t, p+"-pinger-1"); got != "exited 143" {
		t.Errorf("pinger after the abort: %q, want exited 143", got)
	}
	down(t, f, p)
}

// TestLocalComposeLogsFollow: logs -f follows the containers that start
// after it: a service brought up later, a new replica (prefixes padded
// to the longest name, as docker compose: "hello-1   | ").
func TestLogsFollowsNewContainers(t *testing.T) {
	p, f := project(t), lifecycle("logs-follow")
	if res := cirun(t, nil, "-f", f, "-p", p, "up", "-d", "pinger"); res.code != 0 {
		t.Fatalf("up pinger exited %d", res.code)
	}
	cmd := exec.Command(bin, "-f", f, "-p", p, "logs", "-f")
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Logf("logs -f output:\n%s", out.String())
	}()
	shows := func(s string) func() bool { return func() bool { return strings.Contains(out.String(), s) } }
	eventually(t, "logs -f shows pinger-1", 30*time.Second, shows("pinger-1  | "))
	if res := cirun(t, nil, "-f", f, "-p", p, "up", "-d"); res.code != 0 {
		t.Fatalf("up exited %d", res.code)
	}
	eventually(t, "logs -f shows hello-1, started after it", 30*time.Second, shows("hello-1   | hello"))
	if res := cirun(t, nil, "-f", f, "-p", p, "up", "-d", "--scale", "pinger=2", "pinger"); res.code != 0 {
		t.Fatalf("up --scale exited %d", res.code)
	}
	eventually(t, "logs -f shows pinger-2, scaled after it", 30*time.Second, shows("pinger-2 "))
	down(t, f, p)
}

// TestUpWithAllResources: --all-resources makes up create the volumes and
// networks no service uses; without it they are left out.
func TestUpAllResources(t *testing.T) {
	p, f := project(t), lifecycle("all-resources")
	res := cirun(t, nil, "-f", f, "-p", p, "up", "-d")
	if res.code != 0 {
		t.Fatalf("up exited %d", res.code)
	}
	if strings.Contains(res.stderr, "spare") {
		t.Errorf("up without --all-resources created the unused resources")
	}
	res = cirun(t, nil, "-f", f, "-p", p, "--all-resources", "up", "-d")
	if res.code != 0 {
		t.Fatalf("up --all-resources exited %d", res.code)
	}
	mustContain(t, "stderr", res.stderr, "Volume "+p+"_spare_vol Created")
	mustContain(t, "stderr", res.stderr, "Network "+p+"_spare_net Created")
	if got := podman(t, "volume", "ls", "-q", "--filter", "name="+p+"_spare_vol"); got != p+"_spare_vol" {
		t.Errorf("volume %s_spare_vol missing: %q", p, got)
	}
	if got := podman(t, "network", "ls", "--format", "{{.Name}}", "--filter", "name="+p+"_spare_net"); got != p+"_spare_net" {
		t.Errorf("network %s_spare_net missing: %q", p, got)
	}
	down(t, f, p)
}

// TestUpWithBuildDependencies: an image one service builds and another
// only uses is built, not pulled, before either container is created.
// (The services prepare their images concurrently, so this fails without
// the fix only when bar asks first; runner's
// TestImageOfAnotherServiceIsBuiltNotPulled pins the order.)
func TestUpBuildsSharedImage(t *testing.T) {
	p, f := project(t), lifecycle("shared-build")
	image := "localhost/" + p + "-built"
	removeBuilt(t, image)
	env := []string{"BUILT_IMAGE=" + image}
	res := cirun(t, env, "-f", f, "-p", p, "up", "-d")
	if res.code != 0 {
		t.Fatalf("up exited %d", res.code)
	}
	if strings.Contains(res.stderr, "Pulling") {
		t.Errorf("up tried to pull the image foo builds")
	}
	podman(t, "image", "exists", image)
	eventually(t, "bar ran the built image", 30*time.Second, func() bool {
		return strings.Contains(cirun(t, env, "-f", f, "-p", p, "logs", "bar").stdout, "bar-1  | built")
	})
	if res := cirun(t, env, "-f", f, "-p", p, "down", "-t", "0"); res.code != 0 {
		t.Errorf("down exited %d", res.code)
	}
}

// TestScaleDownNoRecreate: scaling down removes the out-of-date replicas
// first and keeps the up-to-date ones with their numbers.
func TestScaleDownKeepsUpToDateReplicas(t *testing.T) {
	p, f := project(t), lifecycle("scale-down")
	image := "localhost/" + p + "-app"
	removeBuilt(t, image)
	env := []string{"SCALE_IMAGE=" + image}
	run := func(args ...string) {
		t.Helper()
		if res := cirun(t, env, append([]string{"-f", f, "-p", p}, args...)...); res.code != 0 {
			t.Fatalf("%v exited %d", args, res.code)
		}
	}
	names := func() string {
		t.Helper()
		return strings.TrimSpace(cirun(t, env, "-f", f, "-p", p, "ps", "--format", "{{.Name}}", "app").stdout)
	}
	run("build", "--build-arg", "FOO=one")
	run("up", "-d", "--scale", "app=2")
	run("build", "--build-arg", "FOO=two")
	run("up", "-d", "--scale", "app=4", "--no-recreate")
	if got, want := names(), p+"-app-1\n"+p+"-app-2\n"+p+"-app-3\n"+p+"-app-4"; got != want {
		t.Fatalf("after --no-recreate scale up: %q, want %q", got, want)
	}
	run("up", "-d", "--scale", "app=2")
	if got, want := names(), p+"-app-3\n"+p+"-app-4"; got != want {
		t.Errorf("after scaling down: %q, want %q (the up-to-date replicas)", got, want)
	}
	if res := cirun(t, env, "-f", f, "-p", p, "down", "-t", "0"); res.code != 0 {
		t.Errorf("down exited %d", res.code)
	}
}

// TestPostStartHookSuccess, attached: the hook's output is shown under
// "NAME ->" once up has attached, the service's own output after it.
func TestUpShowsPostStartOutput(t *testing.T) {
	p, f := project(t), lifecycle("post-start-output")
	res := cirun(t, nil, "-f", f, "-p", p, "up")
	if res.code != 0 {
		t.Fatalf("up exited %d", res.code)
	}
	mustContain(t, "stdout", res.stdout, "Attaching to web-1\nweb-1 ->  | post_start ran\n")
	mustContain(t, "stdout", res.stdout, "web-1     | main done\n")
	down(t, f, p)
}

// TestLocalComposeLargeLogs: a container that writes faster than the log
// stream delivers still has all its lines shown, before its exit line.
// (Podman's follow stream sometimes drops the head of a line split in two
// frames; its tail then shows as a line of its own, so only presence is
// checked.)
func TestUpShowsAllOfALargeOutput(t *testing.T) {
	p, f := project(t), lifecycle("large-logs")
	res := cirunQuiet(t, "-f", f, "-p", p, "up", "--abort-on-container-exit")
	if res.code != 0 {
		t.Fatalf("up exited %d", res.code)
	}
	body, _, ok := strings.Cut(res.stdout, "talker-1 exited with code 0\n")
	if !ok {
		t.Fatalf("no exit line")
	}
	seen := map[string]bool{}
	for _, l := range strings.Split(body, "\n") {
		if _, n, ok := strings.Cut(l, "| This is line "); ok {
			seen[n] = true
		}
	}
	missing := 0
	for n := 1; n <= 100000; n++ {
		if !seen[strconv.Itoa(n)] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of the 100000 lines missing before the exit line", missing)
	}
	down(t, f, p)
}

// cirunQuiet is cirun without logging the output (too large for the log).
func cirunQuiet(t *testing.T, args ...string) result {
	t.Helper()
	res := runBin(t, nil, args...)
	t.Logf("cirun %s -> %d (%d bytes of stdout)\n--- stderr\n%s", strings.Join(args, " "), res.code, len(res.stdout), res.stderr)
	return res
}
