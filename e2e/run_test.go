//go:build e2e

package e2e

import (
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// freePort returns a TCP port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// eventually polls cond every 100 ms until it holds or the deadline passes.
func eventually(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond) // poll interval, bounded by the deadline
	}
}

// run -d prints the one-off's ID and returns with it running; --publish
// replaces the service's ports, --service-ports publishes them; -d --rm
// leaves the removal to Podman.
func TestRunDetachPorts(t *testing.T) {
	p := project(t)
	f := filepath.Join(fixtures, "run-detach", "compose.yaml")
	backPort, pubPort := freePort(t), freePort(t)
	env := []string{"BACK_PORT=" + backPort}
	run := func(want int, args ...string) result {
		t.Helper()
		res := cirun(t, env, append([]string{"-f", f, "-p", p}, args...)...)
		if res.code != want {
			t.Fatalf("cirun %s exited %d, want %d", strings.Join(args, " "), res.code, want)
		}
		return res
	}
	defer run(0, "down", "-t", "0")

	id := strings.TrimSpace(run(0, "run", "--publish", pubPort+":80", "-d", "back").stdout)
	if got := inspect(t, "{{.State.Status}}", id); got != "running" {
		t.Errorf("run -d: one-off %s is %s, want running", id, got)
	}
	ports := podman(t, "port", id)
	mustContain(t, "ports of run --publish", ports, ":"+pubPort)
	if strings.Contains(ports, ":"+backPort) {
		t.Errorf("run --publish also published the service's port: %s", ports)
	}

	id = strings.TrimSpace(run(0, "run", "--service-ports", "-d", "back").stdout)
	mustContain(t, "ports of run --service-ports", podman(t, "port", id), ":"+backPort)

	id = strings.TrimSpace(run(0, "run", "-d", "--rm", "back", "true").stdout)
	eventually(t, "run -d --rm container removed after exit", 30*time.Second, func() bool {
		err := exec.Command("podman", "container", "exists", id).Run()
		var ee *exec.ExitError
		return errors.As(err, &ee) && ee.ExitCode() == 1
	})
}

// `- EMPTY` with no value in the environment unsets the image's ENV; a
// `run -e EMPTY=hello` sets it.
func TestRunUnsetEnv(t *testing.T) {
	p := project(t)
	id := e2eID(t)
	f := filepath.Join(fixtures, "run-unsetenv", "compose.yaml")
	removeBuilt(t, "localhost/cirun-e2e-unsetenv:"+id)
	env := []string{"E2E_ID=" + id}
	run := func(args ...string) string {
		t.Helper()
		res := cirun(t, env, append([]string{"-f", f, "-p", p}, args...)...)
		if res.code != 0 {
			t.Fatalf("cirun %s exited %d", strings.Join(args, " "), res.code)
		}
		return strings.TrimSpace(res.stdout)
	}
	defer run("down", "-t", "0")
	run("build")
	if got := run("run", "--rm", "empty"); got != "==" {
		t.Errorf("run: %q, want == (the image's EMPTY unset)", got)
	}
	if got := run("run", "--rm", "-e", "EMPTY=hello", "empty"); got != "=hello=" {
		t.Errorf("run -e EMPTY=hello: %q, want =hello=", got)
	}
}

// logs --index 2 hello shows the second replica's output only.
func TestLogsIndex(t *testing.T) {
	p := project(t)
	run := in(t, filepath.Join(fixtures, "logs-index", "compose.yaml"), p)
	defer run(0, "down", "-t", "0")
	run(0, "up", "-d")
	eventually(t, "both replicas' output in logs", 30*time.Second, func() bool {
		out := run(0, "logs", "hello").stdout
		return strings.Contains(out, "hello-1  | hello") && strings.Contains(out, "hello-2  | hello")
	})
	out := run(0, "logs", "--index", "2", "hello").stdout
	if out != "hello-2  | hello\n" {
		t.Errorf("logs --index 2 hello:\n%s", out)
	}
	res := run(1, "logs", "--index", "2")
	mustContain(t, "logs --index without a service", res.stderr, "exactly one service")
}

// logs --since/--until bound the lines by time, as docker's: relative
// ("1h": all of a fresh container's lines), a time before the container
// started (--until: none), a time after its output (--since: none).
func TestLogsSinceUntil(t *testing.T) {
	p := project(t)
	run := in(t, filepath.Join(fixtures, "logs-index", "compose.yaml"), p)
	defer run(0, "down", "-t", "0")
	before := time.Now().Add(-2 * time.Second).UTC().Format(time.RFC3339)
	run(0, "up", "-d")
	eventually(t, "both replicas' output in logs", 30*time.Second, func() bool {
		out := run(0, "logs", "hello").stdout
		return strings.Contains(out, "hello-1  | hello") && strings.Contains(out, "hello-2  | hello")
	})
	after := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339)
	if out := run(0, "logs", "--since", "1h", "--index", "1", "hello").stdout; out != "hello-1  | hello\n" {
		t.Errorf("logs --since 1h: %q", out)
	}
	if out := run(0, "logs", "--until", before, "hello").stdout; out != "" {
		t.Errorf("logs --until %s (before the start): %q, want nothing", before, out)
	}
	if out := run(0, "logs", "--since", after, "hello").stdout; out != "" {
		t.Errorf("logs --since %s (after the output): %q, want nothing", after, out)
	}
	res := run(1, "logs", "--since", "yesterday")
	mustContain(t, "logs --since yesterday", res.stderr, "invalid value for --since")
}
