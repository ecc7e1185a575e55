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

// An exited one-off of an earlier run is an orphan: the next run warns,
// COMPOSE_IGNORE_ORPHANS silences it, --remove-orphans removes it; the
// service has no dependency (docker compose checks orphans all the same).
func TestRunOrphanWarning(t *testing.T) {
	p := project(t)
	f := filepath.Join(fixtures, "run-orphans", "compose.yaml")
	run := in(t, f, p)
	defer run(0, "down", "-t", "0")
	res := run(0, "run", "back")
	if strings.Contains(res.stderr, "Found orphan") {
		t.Errorf("first run warned about orphans")
	}
	first := strings.Fields(podman(t, "ps", "-a", "-q", "--filter", "label=com.docker.compose.project="+p))
	if len(first) != 1 {
		t.Fatalf("containers after the first run: %q, want its one-off", first)
	}
	res = run(0, "run", "--rm", "back")
	mustContain(t, "second run's stderr", res.stderr, "Found orphan containers (["+p+"-back-run-")
	mustContain(t, "second run's stdout", res.stdout, "Hello there!!")
	if res := cirun(t, []string{"COMPOSE_IGNORE_ORPHANS=True"}, "-f", f, "-p", p, "run", "--rm", "back"); res.code != 0 || strings.Contains(res.stderr, "Found orphan") {
		t.Errorf("run with COMPOSE_IGNORE_ORPHANS=True: exit %d, stderr %q", res.code, res.stderr)
	}
	run(0, "run", "--rm", "--remove-orphans", "back")
	if left := podman(t, "ps", "-a", "-q", "--filter", "label=com.docker.compose.project="+p); left != "" {
		t.Errorf("run --remove-orphans left %q", left)
	}
}

// --cap-add and --cap-drop change the one-off's effective capabilities.
func TestRunCapAddDrop(t *testing.T) {
	p := project(t)
	run := in(t, filepath.Join(fixtures, "run-caps", "compose.yaml"), p)
	defer run(0, "down", "-t", "0")
	capEff := func(args ...string) uint64 {
		t.Helper()
		out := run(0, append(append([]string{"run", "--rm"}, args...), "caps")...).stdout
		hex, _ := strings.CutPrefix(strings.Join(strings.Fields(out), " "), "CapEff: ")
		v, err := strconv.ParseUint(hex, 16, 64)
		if err != nil {
			t.Fatalf("CapEff line %q: %v", out, err)
		}
		return v
	}
	const chown, netAdmin, netRaw = 1 << 0, 1 << 12, 1 << 13
	plain := capEff()
	if plain&chown == 0 || plain&netAdmin != 0 || plain&netRaw != 0 {
		t.Fatalf("service's CapEff %x: want CHOWN, no NET_ADMIN, no NET_RAW (cap_drop)", plain)
	}
	got := capEff("--cap-add", "NET_ADMIN", "--cap-add=NET_RAW", "--cap-drop", "CHOWN")
	if got&chown != 0 || got&netAdmin == 0 || got&netRaw == 0 {
		t.Errorf("--cap-add NET_ADMIN --cap-add NET_RAW --cap-drop CHOWN: CapEff %x", got)
	}
}

// A one-off answers to its service's name and aliases only with
// --use-aliases.
func TestRunUseAliases(t *testing.T) {
	p := project(t)
	run := in(t, filepath.Join(fixtures, "run-aliases", "compose.yaml"), p)
	defer run(0, "down", "-t", "0")
	run(0, "run", "-d", "back")
	if got := strings.TrimSpace(run(0, "run", "--rm", "ask").stdout); got != "back=no\napi=no" {
		t.Errorf("without --use-aliases: %q, want back=no api=no", got)
	}
	run(0, "run", "-d", "--use-aliases", "back")
	if got := strings.TrimSpace(run(0, "run", "--rm", "ask").stdout); got != "back=yes\napi=yes" {
		t.Errorf("with --use-aliases: %q, want back=yes api=yes", got)
	}
}

// --env-from-file sets the file's variables over the service's; -e wins.
func TestRunEnvFromFile(t *testing.T) {
	p := project(t)
	dir := filepath.Join(fixtures, "run-env-from-file")
	run := in(t, filepath.Join(dir, "compose.yaml"), p)
	defer run(0, "down", "-t", "0")
	envFile := filepath.Join(dir, "run.env")
	if got := strings.TrimSpace(run(0, "run", "--rm", "--env-from-file", envFile, "front").stdout); got != "FOO=BAR BAR=baz KEEP=kept" {
		t.Errorf("run --env-from-file: %q", got)
	}
	if got := strings.TrimSpace(run(0, "run", "--rm", "-e", "FOO=cli", "--env-from-file", envFile, "front").stdout); got != "FOO=cli BAR=baz KEEP=kept" {
		t.Errorf("run -e FOO=cli --env-from-file: %q", got)
	}
	res := run(1, "run", "--rm", "--env-from-file", filepath.Join(dir, "missing.env"), "front")
	mustContain(t, "missing --env-from-file", res.stderr, "missing.env: no such file or directory")
}

// run -q prints nothing on stdout, the container's stdout included, and
// no progress; the container's stderr still shows.
func TestRunQuiet(t *testing.T) {
	p := project(t)
	run := in(t, filepath.Join(fixtures, "run-quiet", "compose.yaml"), p)
	defer run(0, "down", "-t", "0")
	res := run(0, "run", "-q", "--rm", "talk")
	if res.stdout != "" {
		t.Errorf("run -q stdout = %q, want nothing", res.stdout)
	}
	if strings.TrimSpace(res.stderr) != "to-stderr" {
		t.Errorf("run -q stderr = %q, want the container's stderr only", res.stderr)
	}
	res = run(0, "run", "--rm", "talk")
	mustContain(t, "run stdout", res.stdout, "to-stdout")
}
