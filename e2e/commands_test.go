//go:build e2e

package e2e

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The docker compose commands beyond up/down/run, each on its own fixture
// (fixtures/commands-*), checked against real state with the podman CLI.

func fixture(name string) string {
	return filepath.Join(fixtures, "commands-"+name, "compose.yaml")
}

// in returns a runner of cirun -f FIXTURE -p PROJECT ARGS... that fails
// the test unless the exit code is want.
func in(t *testing.T, f, p string) func(want int, args ...string) result {
	return func(want int, args ...string) result {
		t.Helper()
		res := cirun(t, nil, append([]string{"-f", f, "-p", p}, args...)...)
		if res.code != want {
			t.Fatalf("cirun %s exited %d, want %d", strings.Join(args, " "), res.code, want)
		}
		return res
	}
}

// cirunIn runs the binary with stdin.
func cirunIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running cirun %v: %v", args, err)
	}
	t.Logf("cirun %s <<< %q -> %d\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), stdin, res.code, res.stdout, res.stderr)
	return res
}

// status is a container's state as docker names it.
func status(t *testing.T, name string) string {
	t.Helper()
	s := podman(t, "inspect", "--format", "{{.State.Status}}", name)
	switch s {
	case "configured":
		return "created"
	case "stopped":
		return "exited"
	}
	return s
}

func wantStatus(t *testing.T, want string, names ...string) {
	t.Helper()
	for _, n := range names {
		if got := status(t, n); got != want {
			t.Errorf("%s is %s, want %s", n, got, want)
		}
	}
}

func inspect(t *testing.T, format, name string) string {
	t.Helper()
	return podman(t, "inspect", "--format", format, name)
}

func TestCmdLifecycle(t *testing.T) {
	p := project(t)
	run := in(t, fixture("lifecycle"), p)
	db, app, worker := p+"-db-1", p+"-app-1", p+"-worker-1"

	run(0, "create")
	wantStatus(t, "created", db, app, worker)
	run(0, "start", "app")
	wantStatus(t, "running", db, app)
	wantStatus(t, "created", worker)
	ids := map[string]string{}
	for _, n := range []string{db, app, worker} {
		ids[n] = inspect(t, "{{.Id}}", n)
	}

	run(0, "stop", "-t", "5")
	wantStatus(t, "exited", db, app)
	wantStatus(t, "created", worker) // never started: stop leaves it as is
	run(0, "start")
	wantStatus(t, "running", db, app, worker)
	for n, id := range ids {
		if got := inspect(t, "{{.Id}}", n); got != id {
			t.Errorf("start replaced %s", n)
		}
	}

	appStarted, workerStarted := inspect(t, "{{.State.StartedAt}}", app), inspect(t, "{{.State.StartedAt}}", worker)
	run(0, "restart", "db")
	if inspect(t, "{{.State.StartedAt}}", app) == appStarted {
		t.Errorf("restart db did not restart app (depends_on db with restart: true)")
	}
	if inspect(t, "{{.State.StartedAt}}", worker) != workerStarted {
		t.Errorf("restart db restarted worker")
	}
	wantStatus(t, "running", db, app)

	run(0, "pause", "worker")
	wantStatus(t, "paused", worker)
	run(0, "unpause", "worker")
	wantStatus(t, "running", worker)
	run(0, "kill", "-s", "SIGTERM", "worker")
	wantStatus(t, "exited", worker)
	if code := inspect(t, "{{.State.ExitCode}}", worker); code != "143" {
		t.Errorf("worker killed with SIGTERM exited %s, want 143", code)
	}
	res := run(0, "rm", "-f", "worker")
	mustContain(t, "rm stdout", res.stdout, "Going to remove "+worker)
	if exec.Command("podman", "container", "exists", worker).Run() == nil {
		t.Errorf("rm -f left %s", worker)
	}
	res = run(1, "pause", "nope")
	mustContain(t, "stderr", res.stderr, "no such service: nope")

	// With -p alone (no compose file in the working directory) the
	// commands find the project by its label.
	if res := cirun(t, nil, "-p", p, "stop"); res.code != 0 {
		t.Errorf("-p %s stop exited %d", p, res.code)
	}
	wantStatus(t, "exited", db, app)
	if res := cirun(t, nil, "-p", p, "rm", "-f"); res.code != 0 {
		t.Errorf("-p %s rm -f exited %d", p, res.code)
	}
	if left := leftovers(p); len(left) != 1 || !strings.HasPrefix(left[0], "network:") {
		t.Errorf("after rm -f: %v, want only the network", left)
	}
	run(0, "down")
}

func TestCmdExec(t *testing.T) {
	p := project(t)
	f := fixture("exec")
	run := in(t, f, p)
	run(0, "up", "-d")
	base := []string{"-f", f, "-p", p, "exec"}
	exe := func(env []string, args ...string) result {
		t.Helper()
		return cirun(t, env, append(base, args...)...)
	}

	if res := exe(nil, "shell", "sh", "-c", "exit 7"); res.code != 7 {
		t.Errorf("exec exit 7 exited %d", res.code)
	}
	res := exe([]string{"FOO=from-host"}, "-e", "FOO", "-e", "BAR=a,b", "shell", "env")
	mustContain(t, "exec env", res.stdout, "FOO=from-host\n")
	mustContain(t, "exec env", res.stdout, "BAR=a,b\n")
	if res := exe(nil, "-e", "UNSET_IN_CIRUN_E2E", "shell", "env"); strings.Contains(res.stdout, "UNSET_IN_CIRUN_E2E") {
		t.Errorf("exec -e of an unset variable set it")
	}
	if res := exe(nil, "shell", "pwd"); strings.TrimSpace(res.stdout) != "/tmp" {
		t.Errorf("exec pwd = %q, want the service's working_dir /tmp", res.stdout)
	}
	if res := exe(nil, "-w", "/etc", "shell", "pwd"); strings.TrimSpace(res.stdout) != "/etc" {
		t.Errorf("exec -w /etc pwd = %q", res.stdout)
	}
	if res := exe(nil, "-u", "65534", "shell", "id", "-u"); strings.TrimSpace(res.stdout) != "65534" {
		t.Errorf("exec -u 65534 id -u = %q", res.stdout)
	}
	if res := cirunIn(t, "piped in\n", append(base, "-T", "shell", "cat")...); res.stdout != "piped in\n" || res.code != 0 {
		t.Errorf("exec -T cat with stdin: %q, exit %d", res.stdout, res.code)
	}
	capEff := func(args ...string) string {
		res := exe(nil, append(args, "shell", "grep", "CapEff", "/proc/self/status")...)
		return strings.TrimSpace(res.stdout)
	}
	if plain, priv := capEff(), capEff("--privileged"); plain == priv || priv == "" {
		t.Errorf("exec --privileged capabilities %q, same as without (%q)", priv, plain)
	}
	h1 := strings.TrimSpace(exe(nil, "--index", "1", "replicated", "hostname").stdout)
	h2 := strings.TrimSpace(exe(nil, "--index", "2", "replicated", "hostname").stdout)
	if want := inspect(t, "{{.Config.Hostname}}", p+"-replicated-2"); h2 != want || h1 == h2 {
		t.Errorf("exec --index: hostnames %q and %q, want replica 2's %q", h1, h2, want)
	}
	if res := exe(nil, "-d", "shell", "sh", "-c", "echo detached > /tmp/d"); res.code != 0 {
		t.Errorf("exec -d exited %d", res.code)
	}
	deadline := time.Now().Add(20 * time.Second)
	for strings.TrimSpace(exe(nil, "shell", "cat", "/tmp/d").stdout) != "detached" {
		if time.Now().After(deadline) {
			t.Fatalf("exec -d: /tmp/d never written")
		}
		time.Sleep(200 * time.Millisecond) // polling real state
	}
	run(0, "stop", "shell")
	res = exe(nil, "shell", "true")
	if res.code != 1 {
		t.Errorf("exec in a stopped service exited %d, want 1", res.code)
	}
	mustContain(t, "stderr", res.stderr, `service "shell" is not running`)
	run(0, "down")
}

func TestCmdCp(t *testing.T) {
	p := project(t)
	f := fixture("cp")
	run := in(t, f, p)
	data := filepath.Join(filepath.Dir(f), "data")
	run(0, "up", "-d")

	run(0, "cp", filepath.Join(data, "hello.txt"), "box:/tmp/")
	if got := run(0, "exec", "box", "cat", "/tmp/hello.txt").stdout; got != "hello from the host\n" {
		t.Errorf("copied file reads %q", got)
	}
	run(0, "cp", data, "box:/tmp/data")
	if got := run(0, "exec", "box", "cat", "/tmp/data/sub/nested.txt").stdout; got != "nested\n" {
		t.Errorf("copied tree: sub/nested.txt reads %q", got)
	}
	out := t.TempDir()
	run(0, "cp", "box:/tmp/data", filepath.Join(out, "back"))
	if got, err := os.ReadFile(filepath.Join(out, "back", "sub", "nested.txt")); err != nil || string(got) != "nested\n" {
		t.Errorf("copied back: %q, %v", got, err)
	}
	run(0, "cp", "box:/tmp/hello.txt", filepath.Join(out, "renamed.txt"))
	if got, err := os.ReadFile(filepath.Join(out, "renamed.txt")); err != nil || string(got) != "hello from the host\n" {
		t.Errorf("copied back to a new name: %q, %v", got, err)
	}
	res := run(0, "cp", "box:/tmp/hello.txt", "-")
	h, err := tar.NewReader(strings.NewReader(res.stdout)).Next()
	if err != nil || h.Name != "hello.txt" {
		t.Errorf("cp to -: first entry %v, %v", h, err)
	}
	res = run(1, "cp", "box:/nope", out)
	mustContain(t, "stderr", res.stderr, "could not find the file /nope")
	run(0, "down")
}

func TestCmdPortImagesTop(t *testing.T) {
	p := project(t)
	run := in(t, fixture("inspect"), p)
	run(0, "up", "-d")
	web := p + "-web-1"

	addr := strings.TrimSpace(run(0, "port", "web", "80").stdout)
	if want := podman(t, "port", web, "80/tcp"); addr != want || !regexp.MustCompile(`^0\.0\.0\.0:\d+$`).MatchString(addr) {
		t.Errorf("port web 80 = %q, podman says %q", addr, want)
	}
	udp := strings.TrimSpace(run(0, "port", "--protocol", "udp", "web", "53").stdout)
	if want := podman(t, "port", web, "53/udp"); udp != want {
		t.Errorf("port --protocol udp web 53 = %q, podman says %q", udp, want)
	}
	res := run(1, "port", "web", "81")
	mustContain(t, "stderr", res.stderr, "no port 81/tcp for container "+web)

	res = run(0, "images")
	mustContain(t, "images", res.stdout, "CONTAINER")
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(web) + `\s+localhost/cirun/busybox\s+latest\s+[0-9a-f]{12}\s`).MatchString(res.stdout) {
		t.Errorf("images table %q: want a row for %s", res.stdout, web)
	}
	id := podman(t, "image", "inspect", "--format", "{{.Id}}", "localhost/cirun/busybox:latest")
	if got := strings.TrimSpace(run(0, "images", "-q").stdout); got != id {
		t.Errorf("images -q = %q, want %q", got, id)
	}
	var imgs []struct{ ID, ContainerName, Repository, Tag string }
	if err := json.Unmarshal([]byte(run(0, "images", "--format", "json").stdout), &imgs); err != nil || len(imgs) != 1 || imgs[0].ContainerName != web || imgs[0].ID != id {
		t.Errorf("images --format json = %+v, %v", imgs, err)
	}
	res = run(0, "top")
	mustContain(t, "top", res.stdout, "SERVICE")
	if !regexp.MustCompile(`(?m)^web\s+1\s.*sleep 300`).MatchString(res.stdout) {
		t.Errorf("top %q: want web's sleep 300", res.stdout)
	}
	run(0, "down")
}

func TestCmdWaitDownProject(t *testing.T) {
	p := project(t)
	run := in(t, fixture("wait"), p)
	run(0, "up", "-d")
	res := run(3, "wait", "--down-project", "short")
	mustContain(t, "wait stdout", res.stdout, "exited with status code 3")
	if left := leftovers(p); len(left) > 0 {
		t.Errorf("wait --down-project left %v", left)
	}
}

func TestCmdEvents(t *testing.T) {
	p := project(t)
	f := fixture("events")
	run := in(t, f, p)
	since := fmt.Sprint(time.Now().Add(-2 * time.Second).Unix())
	run(0, "up", "-d")
	cmd := exec.Command(bin, "-f", f, "-p", p, "events", "--json", "--since", since)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	run(0, "stop", "worker")
	run(0, "start", "worker")
	var actions []string
	deadline := time.After(30 * time.Second)
	for done := false; !done; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("events ended early; stderr %s", errb.String())
			}
			var ev map[string]any
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatalf("events line %q: %v", l, err)
			}
			for _, k := range []string{"time", "type", "action", "id", "service", "attributes"} {
				if _, ok := ev[k]; !ok {
					t.Errorf("event %s has no %q", l, k)
				}
			}
			if ev["type"] != "container" || ev["service"] != "worker" {
				t.Errorf("event %s: want type container, service worker", l)
			}
			a, _ := ev["action"].(string)
			actions = append(actions, a)
			// The replayed start of up, then stop's die, then start's
			// start (Podman reports no separate "stop" event).
			if a == "start" && strings.Contains(strings.Join(actions, " "), "die") {
				done = true
			}
		case <-deadline:
			t.Fatalf("events so far %q; want ... die ... start", actions)
		}
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Errorf("events after SIGINT: %v (stderr %s)", err, errb.String())
	}
	run(0, "down")
}

func TestCmdLs(t *testing.T) {
	p := project(t)
	f := fixture("ls")
	run := in(t, f, p)
	run(0, "up", "-d")
	type stack struct{ Name, Status, ConfigFiles string }
	find := func(args ...string) *stack {
		t.Helper()
		var list []stack
		res := cirun(t, nil, append([]string{"ls", "--format", "json"}, args...)...)
		if err := json.Unmarshal([]byte(res.stdout), &list); err != nil {
			t.Fatalf("ls --format json: %v in %q", err, res.stdout)
		}
		for _, s := range list {
			if s.Name == p {
				return &s
			}
		}
		return nil
	}
	if s := find(); s == nil || s.Status != "running(2)" || s.ConfigFiles != f {
		t.Errorf("ls: project %+v, want running(2) from %s", s, f)
	}
	if got := strings.TrimSpace(cirun(t, nil, "ls", "-q", "--filter", "name=^"+p+"$").stdout); got != p {
		t.Errorf("ls -q --filter name=^%s$ = %q", p, got)
	}
	run(0, "stop")
	if s := find(); s != nil {
		t.Errorf("ls lists the stopped project: %+v", s)
	}
	if s := find("-a"); s == nil || s.Status != "exited(2)" {
		t.Errorf("ls -a: project %+v, want exited(2)", s)
	}
	run(0, "down")
}

func TestCmdPullPush(t *testing.T) {
	p := project(t)
	f := fixture("registry")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := ln.Addr().String()
	ln.Close()
	srv := exec.Command(bin, "registry", "serve", "--addr", reg, "--root", t.TempDir(), "-q")
	var srvLog bytes.Buffer
	srv.Stdout, srv.Stderr = &srvLog, &srvLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		_ = srv.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + reg + "/v2/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry never answered: %v\n%s", err, srvLog.String())
		}
		time.Sleep(100 * time.Millisecond) // polling the registry's readiness
	}
	env := []string{"REGISTRY=" + reg}
	dc := func(want int, args ...string) result {
		t.Helper()
		res := cirun(t, env, append([]string{"-f", f, "-p", p}, args...)...)
		if res.code != want {
			t.Fatalf("cirun %s exited %d, want %d", strings.Join(args, " "), res.code, want)
		}
		return res
	}

	res := dc(0, "pull")
	if !regexp.MustCompile(`source-only\s+Skipped No image to be pulled`).MatchString(res.stderr) {
		t.Errorf("pull stderr %q: want source-only skipped", res.stderr)
	}
	mustContain(t, "pull stderr", res.stderr, "must be built from source")
	res = dc(1, "pull", "broken")
	mustContain(t, "pull broken stderr", res.stderr, "127.0.0.1:1/cirun-e2e/nope:v1")
	dc(0, "pull", "--ignore-pull-failures", "broken")

	// build --push pushes what it built.
	ref := reg + "/cirun-e2e/pushed:v1"
	t.Cleanup(func() { _ = exec.Command("podman", "rmi", ref).Run() })
	dc(0, "build", "--push", "built")
	res = cirun(t, nil, "registry", "ls", "--registry", reg)
	mustContain(t, "registry ls after build --push", res.stdout, "cirun-e2e/pushed")

	// push: only built has a build section and an image name.
	if out, err := exec.Command("podman", "tag", "localhost/cirun/busybox:latest", ref).CombinedOutput(); err != nil {
		t.Fatalf("podman tag: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("podman", "rmi", ref).Run() })
	dc(0, "push", "prebuilt", "source-only")
	dc(0, "push")
	res = cirun(t, nil, "registry", "ls", "--registry", reg)
	mustContain(t, "registry ls", res.stdout, "cirun-e2e/pushed")
	mustContain(t, "registry ls", res.stdout, "v1")
	if left := leftovers(p); len(left) > 0 {
		t.Errorf("pull/push left %v", left)
	}
}

func TestCmdDropIn(t *testing.T) {
	p := project(t)
	f := fixture("dropin")
	dir := t.TempDir()
	res := cirun(t, nil, "install-alias", dir)
	if res.code != 0 {
		t.Fatalf("install-alias exited %d", res.code)
	}
	link := filepath.Join(dir, "docker-compose")
	target, err := filepath.EvalSymlinks(link)
	realBin, _ := filepath.EvalSymlinks(bin)
	if err != nil || target != realBin {
		t.Fatalf("%s -> %q (%v), want %s", link, target, err, realBin)
	}
	dc := func(want int, args ...string) string {
		t.Helper()
		out, err := exec.Command(link, args...).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		t.Logf("docker-compose %s -> %d\n%s", strings.Join(args, " "), code, out)
		if code != want {
			t.Fatalf("docker-compose %s exited %d, want %d", strings.Join(args, " "), code, want)
		}
		return string(out)
	}
	version := strings.TrimSpace(cirun(t, nil, "version", "--short").stdout)
	if out := dc(0, "--version"); !strings.Contains(out, version) {
		t.Errorf("docker-compose --version = %q, want it to contain %q", out, version)
	}
	dc(0, "-f", f, "-p", p, "up", "-d")
	wantStatus(t, "running", p+"-web-1")
	if out := dc(0, "-p", p, "ps", "--format", "json"); !strings.Contains(out, p+"-web-1") {
		t.Errorf("docker-compose ps: %q", out)
	}
	dc(0, "--verbose", "-p", p, "down")
	if left := leftovers(p); len(left) > 0 {
		t.Errorf("docker-compose down left %v", left)
	}
}

func TestCmdVersion(t *testing.T) {
	short := cirun(t, nil, "version", "--short")
	v := strings.TrimSpace(short.stdout)
	if short.code != 0 || v == "" || strings.Contains(v, "\n") {
		t.Fatalf("version --short = %q, exit %d", short.stdout, short.code)
	}
	var j struct{ Version string }
	if err := json.Unmarshal([]byte(cirun(t, nil, "version", "--format", "json").stdout), &j); err != nil || j.Version != v {
		t.Errorf("version --format json: %+v, %v; want version %q", j, err, v)
	}
	for _, args := range [][]string{{"version"}, {"-v"}, {"--version"}} {
		if res := cirun(t, nil, args...); res.code != 0 || !strings.Contains(res.stdout, v) {
			t.Errorf("cirun %v = %q, exit %d", args, res.stdout, res.code)
		}
	}
}

// TestCmdConfigHash: `config --hash` prints, for each service, the
// com.docker.compose.config-hash label up gave its container, env_file
// variables (a required file, a missing optional one) included.
func TestCmdConfigHash(t *testing.T) {
	p := project(t)
	run := in(t, fixture("config"), p)
	run(0, "up", "-d")
	defer run(0, "down", "-v", "-t", "0")
	all := run(0, "config", "--hash", "*")
	var want strings.Builder
	for _, s := range []string{"optional-env", "plain", "with-env-file"} {
		label := inspect(t, `{{index .Config.Labels "com.docker.compose.config-hash"}}`, p+"-"+s+"-1")
		if label == "" {
			t.Fatalf("%s has no config-hash label", s)
		}
		fmt.Fprintf(&want, "%s %s\n", s, label)
		if one := run(0, "config", "--hash", s); one.stdout != s+" "+label+"\n" {
			t.Errorf("config --hash %s = %q, want the label %q", s, one.stdout, label)
		}
	}
	if all.stdout != want.String() {
		t.Errorf("config --hash '*' = %q, want %q", all.stdout, want.String())
	}
}

// post_start hooks run in the started container; a failing one fails up
// with docker compose's message; pre_stop runs before stop.
func TestLifecycleHooks(t *testing.T) {
	p := project(t)
	f := filepath.Join(fixtures, "hooks", "compose.yaml")
	defer cirun(t, nil, "-f", f, "-p", p, "--profile", "broken", "down", "-v", "-t", "0")
	if res := cirun(t, nil, "-f", f, "-p", p, "up", "-d"); res.code != 0 {
		t.Fatalf("up exited %d", res.code)
	}
	res := cirun(t, nil, "-f", f, "-p", p, "exec", "-T", "app", "cat", "/tmp/started")
	if res.code != 0 || strings.TrimSpace(res.stdout) != "post_start" {
		t.Errorf("post_start's file: %q (exit %d), want post_start", res.stdout, res.code)
	}
	if res := cirun(t, nil, "-f", f, "-p", p, "stop", "-t", "0"); res.code != 0 {
		t.Errorf("stop exited %d", res.code)
	}
	var out bytes.Buffer
	cp := exec.Command("podman", "cp", p+"-app-1:/tmp/stopped", "-")
	cp.Stdout = &out
	if err := cp.Run(); err != nil || !strings.Contains(out.String(), "stopping") {
		t.Errorf("pre_stop's file not in the stopped container: %v %q", err, out.String())
	}
	res = cirun(t, nil, "-f", f, "-p", p, "up", "-d", "broken")
	if res.code != 1 {
		t.Errorf("up with a failing post_start exited %d, want 1", res.code)
	}
	mustContain(t, "stderr", res.stderr, "broken hook exited with status 127")
	// down by project name alone (no compose file here: no hooks) works too.
	if res := cirun(t, nil, "-p", p, "down", "-t", "0"); res.code != 0 {
		t.Errorf("down -p without a compose file exited %d", res.code)
	}
}

// TestCmdPsFormats checks ps, pause and down the way docker compose's e2e
// tests read them (TestPs, TestPauseServiceAlreadyPaused,
// TestStartStopWithDependencies' ps --status).
func TestCmdPsFormats(t *testing.T) {
	p := project(t)
	run := in(t, fixture("ps"), p)
	run(0, "up", "-d")

	table := run(0, "ps").stdout
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("ps: want a header and 2 rows:\n%s", table)
	}
	for _, l := range lines[1:] {
		switch {
		case strings.HasPrefix(l, p+"-web-1"):
			mustContain(t, "web row", l, "80/tcp, 443/tcp")
			mustContain(t, "web row", l, `"sleep 300"`)
		case strings.HasPrefix(l, p+"-pub-1"):
			if !regexp.MustCompile(`127\.0\.0\.1:\d+->8000/tcp`).MatchString(l) {
				t.Errorf("pub row lacks its published port: %q", l)
			}
		}
	}
	var row struct {
		Name       string
		Publishers []struct {
			URL           string
			TargetPort    int
			PublishedPort int
		}
	}
	if err := json.Unmarshal([]byte(run(0, "ps", "--format", "json", "pub").stdout), &row); err != nil {
		t.Fatal(err)
	}
	if row.Name != p+"-pub-1" || len(row.Publishers) != 1 || row.Publishers[0].URL != "127.0.0.1" || row.Publishers[0].PublishedPort == 0 {
		t.Errorf("ps --format json pub: %+v", row)
	}
	res := run(1, "ps", "unknown")
	mustContain(t, "stderr", res.stderr, "no such service: unknown")

	run(0, "pause", "web")
	res = run(1, "pause", "web")
	mustContain(t, "stderr", res.stderr, "already paused")
	if got := run(0, "ps", "--status", "paused", "--format", "{{.Service}} {{.State}}").stdout; got != "web paused\n" {
		t.Errorf("ps --status paused: %q", got)
	}
	run(0, "unpause", "web")
	run(0, "stop", "-t0", "pub")
	if got := run(0, "ps", "--filter", "status=exited", "--services").stdout; got != "pub\n" {
		t.Errorf("ps --filter status=exited --services: %q", got)
	}
	run(0, "down", "-t0")
}

// bin/cirun is the front binary: it answers version, config, ps and ls
// itself (ps and ls over Podman's REST API) and execs bin/cirun-full for
// everything else (docs/decisions.md). With CIRUN_FULL pointing nowhere,
// the front's commands still work and the others fail naming what is
// missing; the full binary alone runs everything, ps included.
func TestFrontBinary(t *testing.T) {
	p := project(t)
	f := fixture("dropin")
	noFull := []string{"CIRUN_FULL=" + filepath.Join(t.TempDir(), "cirun-full")}
	full := filepath.Join(filepath.Dir(bin), "cirun-full")

	if res := cirun(t, noFull, "version", "--short"); res.code != 0 || strings.TrimSpace(res.stdout) == "" {
		t.Fatalf("front version without the full binary: exit %d", res.code)
	}
	if res := cirun(t, noFull, "-f", f, "-p", p, "config", "--services"); res.code != 0 || strings.TrimSpace(res.stdout) != "web" {
		t.Fatalf("front config without the full binary: exit %d, %q", res.code, res.stdout)
	}
	res := cirun(t, noFull, "-f", f, "-p", p, "up", "-d")
	if res.code != 1 || !strings.Contains(res.stderr, noFull[0][len("CIRUN_FULL="):]) {
		t.Fatalf("up without the full binary: exit %d, stderr %q; want 1 naming the missing binary", res.code, res.stderr)
	}
	if left := leftovers(p); len(left) > 0 {
		t.Fatalf("up without the full binary created %v", left)
	}

	if res := cirun(t, nil, "-f", f, "-p", p, "up", "-d"); res.code != 0 {
		t.Fatalf("up exited %d", res.code)
	}
	t.Cleanup(func() { cirun(t, nil, "-p", p, "down", "-t", "0") })
	// A service answers now (up used it): the front lists by itself.
	front := cirun(t, noFull, "-p", p, "ps", "--format", "json")
	if front.code != 0 || !strings.Contains(front.stdout, `"Name":"`+p+`-web-1"`) || !strings.Contains(front.stdout, `"State":"running"`) {
		t.Fatalf("front ps without the full binary: exit %d, %q", front.code, front.stdout)
	}
	if res := cirun(t, noFull, "ls", "--format", "json"); res.code != 0 || !strings.Contains(res.stdout, `"Name":"`+p+`"`) {
		t.Errorf("front ls without the full binary: exit %d, %q", res.code, res.stdout)
	}
	out, err := exec.Command(full, "-p", p, "ps", "--format", "json").Output()
	if err != nil {
		t.Fatalf("%s ps: %v", full, err)
	}
	// The same rows, whichever binary reads them (the running time aside).
	norm := regexp.MustCompile(`"(RunningFor|Status|CreatedAt)":"[^"]*"`)
	if a, b := norm.ReplaceAllString(front.stdout, ""), norm.ReplaceAllString(string(out), ""); a != b {
		t.Errorf("ps differs between the binaries:\nfront %s\nfull  %s", a, b)
	}
}

// --dry-run (docker compose's global flag): every progress line says
// DRY-RUN MODE, the exit code is the command's, and nothing changes: no
// project after a dry `up`, a running project still running after a dry
// `stop` and `down`.
func TestDryRun(t *testing.T) {
	p := project(t)
	f := fixture("dryrun")
	res := cirun(t, nil, "--dry-run", "-f", f, "-p", p, "up", "-d", "--wait")
	if res.code != 0 {
		t.Fatalf("dry up exited %d", res.code)
	}
	for _, want := range []string{"DRY-RUN MODE - Network " + p + "_default Created", "DRY-RUN MODE - Container " + p + "-web-1 Healthy", "DRY-RUN MODE - Container " + p + "-worker-1 Started"} {
		mustContain(t, "dry up stderr", res.stderr, want)
	}
	for _, l := range strings.Split(strings.TrimSpace(res.stderr), "\n") {
		if !strings.Contains(l, "DRY-RUN MODE - ") {
			t.Errorf("dry up progress line without the dry-run prefix: %q", l)
		}
	}
	if left := leftovers(p); len(left) > 0 {
		t.Fatalf("dry up created %v", left)
	}

	if res := cirun(t, nil, "-f", f, "-p", p, "up", "-d", "--wait"); res.code != 0 {
		t.Fatalf("up exited %d", res.code)
	}
	t.Cleanup(func() { cirun(t, nil, "-p", p, "down", "-v", "-t", "0") })
	for _, args := range [][]string{{"stop"}, {"down", "-v"}, {"rm", "-sf"}} {
		res := cirun(t, nil, append([]string{"--dry-run", "-f", f, "-p", p}, args...)...)
		if res.code != 0 {
			t.Errorf("dry %s exited %d", args[0], res.code)
		}
		mustContain(t, "dry "+args[0]+" stderr", res.stderr, "DRY-RUN MODE - Container "+p+"-web-1 Stop")
		wantStatus(t, "running", p+"-web-1", p+"-worker-1")
	}
	if out := podman(t, "volume", "ls", "--filter", "label=com.docker.compose.project="+p, "--format", "{{.Name}}"); out != p+"_data" {
		t.Errorf("volumes after the dry down -v: %q, want %s_data", out, p)
	}
}

// build --build-arg KEY=VALUE (and KEY, from the environment) wins over the
// service's build args, as docker compose's.
func TestCmdBuildArg(t *testing.T) {
	p := project(t)
	f := fixture("buildarg")
	t.Cleanup(func() { cirun(t, nil, "-f", f, "-p", p, "down", "--rmi", "local", "-t", "0") })
	greeting := func() string {
		t.Helper()
		res := cirun(t, nil, "-f", f, "-p", p, "run", "--rm", "--no-build", "app")
		if res.code != 0 {
			t.Fatalf("run exited %d", res.code)
		}
		return strings.TrimSpace(res.stdout)
	}
	for _, c := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, nil, "from-file"},
		{nil, []string{"--build-arg", "GREETING=from-flag"}, "from-flag"},
		{[]string{"GREETING=from-env"}, []string{"--build-arg", "GREETING"}, "from-env"},
	} {
		res := cirun(t, c.env, append([]string{"-f", f, "-p", p, "build"}, append(c.args, "app")...)...)
		if res.code != 0 {
			t.Fatalf("build %v exited %d", c.args, res.code)
		}
		if got := greeting(); got != c.want {
			t.Errorf("after build %v the image says %q, want %q", c.args, got, c.want)
		}
	}
}

// config --resolve-image-digests and --lock-image-digests run in cirun-full
// (the front links no registry client) and fail clearly, naming the image,
// when its registry does not answer.
func TestConfigResolveDigestsUnreachable(t *testing.T) {
	f := filepath.Join(fixtures, "config-digests", "compose.yaml")
	for _, flag := range []string{"--resolve-image-digests", "--lock-image-digests"} {
		res := cirun(t, nil, "-f", f, "config", flag)
		if res.code != 1 {
			t.Errorf("config %s exited %d, want 1", flag, res.code)
		}
		mustContain(t, "config "+flag+" stderr", res.stderr, "failed to resolve digest for 127.0.0.1:9/cirun/app:1")
		mustContain(t, "config "+flag+" stderr", res.stderr, "connection refused")
	}
}
