//go:build e2e

// Package e2e drives the real bin/cirun binary against real Podman, real
// MariaDB and real Buildah builds. Each test owns a project name, checks
// real state with the podman CLI, and asserts that nothing is left behind.
// Run with `make e2e` (after `make setup build`).
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cirun-dev/cirun/internal/syncbuf"
)

var (
	bin      string // absolute path of the cirun binary under test
	fixtures string // absolute path of fixtures/
)

func TestMain(m *testing.M) {
	root, _ := filepath.Abs("..")
	bin = os.Getenv("CIRUN_BIN")
	if bin == "" {
		bin = filepath.Join(root, "bin", "cirun")
	}
	fixtures = filepath.Join(root, "fixtures")
	if _, err := os.Stat(bin); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %s missing: run `make build` first\n", bin)
		os.Exit(1)
	}
	if _, err := exec.LookPath("podman"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: podman missing: run `make setup` first")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// result is one finished cirun invocation.
type result struct {
	code           int
	stdout, stderr string
}

// cirun runs the binary with args and extra environment, bounded by 5 min,
// and logs its output.
func cirun(t *testing.T, env []string, args ...string) result {
	t.Helper()
	res := runBin(t, env, args...)
	t.Logf("cirun %s -> %d\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	return res
}

// runBin runs the binary with args and extra environment, bounded by 5 min.
func runBin(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running cirun %v: %v", args, err)
	}
	return res
}

// project returns a unique project name and registers a cleanup that fails
// the test if anything of the project is left, then force-removes it.
func project(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("e2e%s%d", strings.ToLower(strings.NewReplacer("/", "", "_", "").Replace(t.Name())), time.Now().UnixNano()%100000)
	if len(name) > 40 {
		name = name[:40]
	}
	t.Cleanup(func() {
		if left := leftovers(name); len(left) > 0 {
			t.Errorf("left behind by project %s: %v", name, left)
			cirun(t, nil, "-p", name, "down", "-v", "-t", "0")
		}
	})
	return name
}

// podman runs the podman CLI (read-only queries) and returns trimmed stdout.
func podman(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("podman", args...).Output()
	if err != nil {
		t.Fatalf("podman %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// leftovers lists the containers, networks and volumes labelled with p.
func leftovers(p string) []string {
	var left []string
	label := "label=com.docker.compose.project=" + p
	for _, q := range [][]string{
		{"ps", "-a", "--format", "container:{{.Names}}", "--filter", label},
		{"network", "ls", "--format", "network:{{.Name}}", "--filter", label},
		{"volume", "ls", "--format", "volume:{{.Name}}", "--filter", label},
	} {
		out, _ := exec.Command("podman", q...).Output()
		for _, l := range strings.Fields(string(out)) {
			left = append(left, l)
		}
	}
	return left
}

func example() string { return filepath.Join(fixtures, "example", "compose.yaml") }

func mustContain(t *testing.T, what, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%s does not contain %q", what, sub)
	}
}

// The main job: `cirun test` on the example stack passes, streams the test
// output with docker compose's prefix and leaves nothing behind.
func TestExampleTestPasses(t *testing.T) {
	p := project(t)
	res := cirun(t, nil, "-f", example(), "-p", p, "test")
	if res.code != 0 {
		t.Fatalf("cirun test exited %d, want 0", res.code)
	}
	mustContain(t, "stdout", res.stdout, "tests-1  | tests: OK")
	mustContain(t, "stdout", res.stdout, "tests-1  | 42")
	mustContain(t, "stdout", res.stdout, "tests-1 exited with code 0")
	mustContain(t, "stderr", res.stderr, "Healthy")
	if left := leftovers(p); len(left) > 0 {
		t.Errorf("cirun test left %v", left)
	}
}

// A failing test: cirun exits with the test's code and prints every
// service's last log lines.
func TestExampleTestFailsWithItsExitCode(t *testing.T) {
	p := project(t)
	res := cirun(t, []string{"TESTS_EXIT=3"}, "-f", example(), "-p", p, "test")
	if res.code != 3 {
		t.Fatalf("cirun test exited %d, want 3", res.code)
	}
	mustContain(t, "stdout", res.stdout, "tests-1  | tests: TESTS_EXIT=3")
	mustContain(t, "stdout", res.stdout, "---- "+p+"-db-1")
	mustContain(t, "stdout", res.stdout, "---- "+p+"-app-1")
	if left := leftovers(p); len(left) > 0 {
		t.Errorf("cirun test left %v", left)
	}
}

// The pipeline form: up --wait, run --rm (exit code passes through), down.
func TestUpWaitRunDown(t *testing.T) {
	p := project(t)
	f := example()
	if res := cirun(t, nil, "-f", f, "-p", p, "up", "-d", "--wait", "db", "app"); res.code != 0 {
		t.Fatalf("up -d --wait exited %d", res.code)
	}
	for _, svc := range []string{"db", "app"} {
		got := podman(t, "inspect", "--format", "{{.State.Health.Status}}", p+"-"+svc+"-1")
		if got != "healthy" {
			t.Errorf("%s health = %q after up --wait, want healthy", svc, got)
		}
		lbl := podman(t, "inspect", "--format", `{{index .Config.Labels "com.docker.compose.service"}}`, p+"-"+svc+"-1")
		if lbl != svc {
			t.Errorf("%s service label = %q", svc, lbl)
		}
	}
	if res := cirun(t, nil, "-f", f, "-p", p, "run", "--rm", "tests"); res.code != 0 {
		t.Errorf("run --rm tests exited %d, want 0", res.code)
	} else {
		mustContain(t, "stdout", res.stdout, "tests: OK")
	}
	if res := cirun(t, []string{"TESTS_EXIT=3"}, "-f", f, "-p", p, "run", "--rm", "tests"); res.code != 3 {
		t.Errorf("run --rm tests with TESTS_EXIT=3 exited %d, want 3", res.code)
	}
	oneoffs := podman(t, "ps", "-a", "-q", "--filter", "label=com.docker.compose.project="+p, "--filter", "label=com.docker.compose.oneoff=True")
	if oneoffs != "" {
		t.Errorf("run --rm left one-off containers: %s", oneoffs)
	}
	// A second up on the unchanged, running stack keeps the containers.
	before := podman(t, "ps", "-q", "--no-trunc", "--filter", "label=com.docker.compose.project="+p)
	if res := cirun(t, nil, "-f", f, "-p", p, "up", "-d", "--wait", "db", "app"); res.code != 0 {
		t.Errorf("second up exited %d", res.code)
	}
	after := podman(t, "ps", "-q", "--no-trunc", "--filter", "label=com.docker.compose.project="+p)
	if before != after {
		t.Errorf("second up replaced containers:\nbefore %s\nafter  %s", before, after)
	}
	if res := cirun(t, nil, "-f", f, "-p", p, "down", "-v"); res.code != 0 {
		t.Errorf("down -v exited %d", res.code)
	}
	if left := leftovers(p); len(left) > 0 {
		t.Errorf("down -v left %v", left)
	}
}

// A dependency that never gets healthy fails fast (retries x interval, not
// the wait timeout), names the container and shows its logs.
func TestUnhealthyDependencyFailsFast(t *testing.T) {
	p := project(t)
	f := filepath.Join(fixtures, "unhealthy", "compose.yaml")
	res := cirun(t, nil, "-f", f, "-p", p, "up", "-d", "--wait", "--wait-timeout", "120", "app")
	if res.code != 1 {
		t.Errorf("up with an unhealthy dependency exited %d, want 1", res.code)
	}
	mustContain(t, "stderr", res.stderr, "container "+p+"-db-1 is unhealthy")
	mustContain(t, "stderr", res.stderr, "db: starting, but never ready")
	if app := podman(t, "ps", "-q", "--filter", "name=^"+p+"-app-1$"); app != "" {
		t.Errorf("app is running although its dependency is unhealthy")
	}
	res = cirun(t, nil, "-f", f, "-p", p, "test")
	if res.code != 1 {
		t.Errorf("test with an unhealthy dependency exited %d, want 1", res.code)
	}
	cirun(t, nil, "-f", f, "-p", p, "down", "-v")
}

// Ctrl-C during an attached `up app` stops app only, as docker compose:
// its dependency and the project's other containers keep running, nothing
// is removed, and up exits 130. `down` then removes everything.
func TestInterruptedUpStopsTargets(t *testing.T) {
	p := project(t)
	dir := filepath.Join(fixtures, "up-interrupt")
	compose, other := filepath.Join(dir, "compose.yaml"), filepath.Join(dir, "other.yaml")
	if res := cirun(t, nil, "-f", other, "-p", p, "up", "-d", "--wait"); res.code != 0 {
		t.Fatalf("up other exited %d", res.code)
	}
	cmd := exec.Command(bin, "-f", compose, "-p", p, "up", "app")
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(out.String(), "hello app") {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Fatalf("app never printed; output:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond) // polling real output, not synchronising on time
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	err := cmd.Wait()
	t.Logf("output:\n%s", out.String())
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("interrupted attached up: %v, want exit 130", err)
	}
	state := func(svc string) string {
		return podman(t, "inspect", "--format", "{{.State.Status}}", p+"-"+svc+"-1")
	}
	if s := state("app"); s != "exited" {
		t.Errorf("app is %q after the interrupt, want exited", s)
	}
	for _, svc := range []string{"dependency", "other"} {
		if s := state(svc); s != "running" {
			t.Errorf("%s is %q after the interrupt, want running", svc, s)
		}
	}
	cirun(t, nil, "-f", compose, "-p", p, "down", "-v", "-t", "0")
	if left := leftovers(p); len(left) > 0 {
		t.Errorf("down after the interrupt left %v", left)
	}
}

// Bad compose files: one line naming the file and the problem, exit 1.
func TestBadComposeFiles(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"yaml-error.yaml", "yaml"},
		{"unknown-dependency.yaml", "dbx"},
		{"unsupported-key.yaml", "services.app.external_links: not supported"},
	} {
		t.Run(c.file, func(t *testing.T) {
			f := filepath.Join(fixtures, "badfiles", c.file)
			res := cirun(t, nil, "-f", f, "-p", "e2ebad", "up", "-d")
			if res.code != 1 {
				t.Errorf("exit %d, want 1", res.code)
			}
			msg := strings.TrimSpace(res.stderr)
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			mustContain(t, "stderr", msg, c.file)
			mustContain(t, "stderr", msg, c.want)
			if strings.Contains(msg, "goroutine") || strings.Contains(msg, "panic") {
				t.Errorf("stack trace in the error: %q", msg)
			}
		})
	}
}

// `cirun doctor` passes on a machine set up by scripts/setup.sh.
func TestDoctor(t *testing.T) {
	res := cirun(t, nil, "doctor")
	if res.code != 0 {
		t.Errorf("doctor exited %d", res.code)
	}
	mustContain(t, "stdout", res.stdout, "OK")
}

// docker compose's orphans include exited one-off containers; the
// project's .env may set COMPOSE_REMOVE_ORPHANS.
func TestUpRemovesExitedOneOffs(t *testing.T) {
	p := project(t)
	f := filepath.Join(fixtures, "up-orphans", "compose.yaml")
	defer cirun(t, nil, "-f", f, "-p", p, "down", "-v", "-t", "0")
	oneoffs := func() int {
		return len(strings.Fields(podman(t, "ps", "-a", "-q", "--filter", "label=com.docker.compose.project="+p, "--filter", "label=com.docker.compose.oneoff=True")))
	}
	if res := cirun(t, nil, "-f", f, "-p", p, "run", "job"); res.code != 0 {
		t.Fatalf("run job exited %d", res.code)
	}
	if n := oneoffs(); n != 1 {
		t.Fatalf("%d one-off containers after run, want 1", n)
	}
	if res := cirun(t, nil, "-f", f, "-p", p, "up", "-d"); res.code != 0 {
		t.Fatalf("up exited %d", res.code)
	}
	if n := oneoffs(); n != 0 {
		t.Errorf("%d one-off containers after up with COMPOSE_REMOVE_ORPHANS=true in .env, want 0", n)
	}
}
