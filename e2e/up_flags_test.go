//go:build e2e

package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// upFlags returns the compose file of fixture upflags-NAME.
func upFlags(name string) string {
	return filepath.Join(fixtures, "upflags-"+name, "compose.yaml")
}

// containerState is "STATUS EXITCODE" of a container, e.g. "exited 143".
func containerState(t *testing.T, name string) string {
	t.Helper()
	return podman(t, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name)
}

// down removes the project and checks that nothing is left.
func down(t *testing.T, f, p string) {
	t.Helper()
	if res := cirun(t, nil, "-f", f, "-p", p, "down", "-v", "-t", "0"); res.code != 0 {
		t.Errorf("down exited %d", res.code)
	}
	if left := leftovers(p); len(left) > 0 {
		t.Errorf("down left %v", left)
	}
}

// --abort-on-container-exit: the first exit stops the others (stopped,
// not removed) and is up's exit code.
func TestUpAbortOnContainerExit(t *testing.T) {
	p, f := project(t), upFlags("abort")
	res := cirun(t, nil, "-f", f, "-p", p, "up", "--abort-on-container-exit")
	if res.code != 3 {
		t.Errorf("up --abort-on-container-exit exited %d, want 3 (job's code)", res.code)
	}
	mustContain(t, "stdout", res.stdout, "Attaching to job-1, server-1\n")
	mustContain(t, "stdout", res.stdout, "server-1  | server up\n")
	mustContain(t, "stdout", res.stdout, "job-1     | job done\n")
	mustContain(t, "stdout", res.stdout, "job-1 exited with code 3\nAborting on container exit...\n")
	mustContain(t, "stderr", res.stderr, "Container "+p+"-server-1 Stopped")
	if got := containerState(t, p+"-server-1"); got != "exited 143" {
		t.Errorf("server after the abort: %q, want exited 143 (stopped and kept)", got)
	}
	down(t, f, p)
}

// --exit-code-from: the service's own code, also when the abort stopped
// it (143 = SIGTERM), as docker compose's TestUpExitCodeFromContainerKilled.
func TestUpExitCodeFromStoppedService(t *testing.T) {
	p, f := project(t), upFlags("exitcode")
	res := cirun(t, nil, "-f", f, "-p", p, "up", "--exit-code-from=tests")
	if res.code != 143 {
		t.Errorf("up --exit-code-from=tests exited %d, want 143", res.code)
	}
	mustContain(t, "stdout", res.stdout, "failure-1  | exiting with error\n")
	mustContain(t, "stdout", res.stdout, "failure-1 exited with code 42\n")
	mustContain(t, "stdout", res.stdout, "tests-1 exited with code 143\n")
	for _, svc := range []string{"safe", "tests"} {
		if got := containerState(t, p+"-"+svc+"-1"); got != "exited 143" {
			t.Errorf("%s: %q, want exited 143", svc, got)
		}
	}
	down(t, f, p)
}

// --abort-on-container-failure: a zero exit does not abort, a non-zero one
// does and is the exit code.
func TestUpAbortOnContainerFailure(t *testing.T) {
	p, f := project(t), upFlags("failure")
	res := cirun(t, nil, "-f", f, "-p", p, "up", "--abort-on-container-failure", "-t", "1")
	if res.code != 4 {
		t.Errorf("up --abort-on-container-failure exited %d, want 4", res.code)
	}
	ok, abort := strings.Index(res.stdout, "ok-1 exited with code 0"), strings.Index(res.stdout, "Aborting on container exit...")
	if ok < 0 || abort < 0 || ok > abort {
		t.Errorf("want ok's exit, then the abort after bad's:\n%s", res.stdout)
	}
	mustContain(t, "stdout", res.stdout, "bad-1 exited with code 4\nAborting on container exit...\n")
	if got := containerState(t, p+"-server-1"); !strings.HasPrefix(got, "exited ") {
		t.Errorf("server after the abort: %q, want exited", got)
	}
	down(t, f, p)
}

// Attach selection: --no-attach hides output; up waits for the services it
// shows and exits 0 when all exit by themselves.
func TestUpAttachSelection(t *testing.T) {
	p, f := project(t), upFlags("attach")
	res := cirun(t, nil, "-f", f, "-p", p, "up", "--no-attach", "back")
	if res.code != 0 {
		t.Errorf("up exited %d, want 0", res.code)
	}
	mustContain(t, "stdout", res.stdout, "Attaching to front-1\n")
	mustContain(t, "stdout", res.stdout, "front-1  | front line\n")
	if strings.Contains(res.stdout, "back line") {
		t.Errorf("stdout shows back's output:\n%s", res.stdout)
	}
	for _, svc := range []string{"front", "back"} {
		if got := containerState(t, p+"-"+svc+"-1"); got != "exited 0" {
			t.Errorf("%s: %q, want exited 0", svc, got)
		}
	}
	// --no-log-prefix and --timestamps on --attach back only.
	res = cirun(t, nil, "-f", f, "-p", p, "up", "--attach", "back", "--no-log-prefix", "--timestamps")
	mustContain(t, "stdout", res.stdout, "Attaching to back-1\n")
	if !regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\S* back line$`).MatchString(res.stdout) {
		t.Errorf("want a timestamped line without prefix:\n%s", res.stdout)
	}
	down(t, f, p)
}

// --scale sets the replicas; scaling down keeps the first replica.
func TestUpScale(t *testing.T) {
	p, f := project(t), upFlags("scale")
	running := func() []string {
		return strings.Fields(podman(t, "ps", "--format", "{{.Names}}", "--filter", "label=com.docker.compose.project="+p))
	}
	if res := cirun(t, nil, "-f", f, "-p", p, "up", "-d", "--scale", "web=3"); res.code != 0 {
		t.Fatalf("up --scale web=3 exited %d", res.code)
	}
	if got := running(); len(got) != 3 {
		t.Errorf("running after --scale web=3: %v", got)
	}
	first := podman(t, "inspect", "--format", "{{.Id}}", p+"-web-1")
	if res := cirun(t, nil, "-f", f, "-p", p, "up", "-d", "--scale", "web=1"); res.code != 0 {
		t.Errorf("up --scale web=1 exited %d", res.code)
	}
	if got := running(); len(got) != 1 || got[0] != p+"-web-1" {
		t.Errorf("running after --scale web=1: %v, want [%s-web-1]", got, p)
	}
	if id := podman(t, "inspect", "--format", "{{.Id}}", p+"-web-1"); id != first {
		t.Errorf("scaling down recreated web-1")
	}
	down(t, f, p)
}

// A restarted container is followed: every run's output and exit.
func TestUpFollowsRestarts(t *testing.T) {
	p, f := project(t), upFlags("restart")
	res := cirun(t, nil, "-f", f, "-p", p, "--ansi", "never", "up")
	if res.code != 0 {
		t.Errorf("up exited %d, want 0", res.code)
	}
	if n := strings.Count(res.stdout, "failing-1  | world\n"); n != 3 {
		t.Errorf("%d runs' output shown, want 3", n)
	}
	if n := strings.Count(res.stdout, "failing-1 exited with code 1\n"); n != 3 {
		t.Errorf("%d exit lines, want 3", n)
	}
	down(t, f, p)
}

// docker compose's incompatible-flag errors: exact message, exit 1, and
// nothing created.
func TestUpIncompatibleFlags(t *testing.T) {
	p, f := project(t), upFlags("abort")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-d", "--abort-on-container-exit"}, "--detach cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --attach, --attach-dependencies or --watch"},
		{[]string{"--abort-on-container-exit", "--abort-on-container-failure"}, "--abort-on-container-failure cannot be combined with --abort-on-container-exit"},
		{[]string{"--wait", "--exit-code-from", "job"}, "--wait cannot be combined with --abort-on-container-exit, --attach or --attach-dependencies"},
		{[]string{"--attach", "job", "--attach-dependencies"}, "cannot combine --attach and --attach-dependencies"},
		{[]string{"--attach", "nope"}, "cannot attach to services not included in up: nope"},
		{[]string{"--exit-code-from", "nope"}, "no such service: nope"},
		{[]string{"--scale", "web"}, `invalid --scale option "web". Should be SERVICE=NUM`},
	} {
		res := cirun(t, nil, append([]string{"-f", f, "-p", p, "up"}, c.args...)...)
		if res.code != 1 {
			t.Errorf("up %v exited %d, want 1", c.args, res.code)
		}
		mustContain(t, "stderr", res.stderr, c.want)
	}
	if left := leftovers(p); len(left) > 0 {
		t.Errorf("rejected flags created %v", left)
	}
}

// `attach: false` hides a service's output from an attached up, as
// --no-attach does; --attach names it back.
func TestUpAttachFalse(t *testing.T) {
	p, f := project(t), upFlags("attach-false")
	res := cirun(t, nil, "-f", f, "-p", p, "up")
	if res.code != 0 {
		t.Errorf("up exited %d, want 0", res.code)
	}
	mustContain(t, "stdout", res.stdout, "Attaching to front-1\n")
	mustContain(t, "stdout", res.stdout, "front-1  | front line\n")
	if strings.Contains(res.stdout, "back line") {
		t.Errorf("stdout shows back's output although attach: false:\n%s", res.stdout)
	}
	res = cirun(t, nil, "-f", f, "-p", p, "up", "--attach", "back")
	mustContain(t, "stdout", res.stdout, "back-1  | back line\n")
	down(t, f, p)
}

// --force-recreate recreates the services named, not the dependencies they
// pull in (docker compose's recreate vs dependencies strategies);
// --always-recreate-deps recreates those too.
func TestUpRecreateNamedAndDeps(t *testing.T) {
	p := project(t)
	c := in(t, fixture("dryrun"), p)
	defer c(0, "down", "-v", "-t", "0")
	id := func(name string) string {
		t.Helper()
		return podman(t, "inspect", "-f", "{{.Id}}", p+"-"+name+"-1")
	}
	c(0, "up", "-d", "--wait")
	web, worker := id("web"), id("worker")
	c(0, "up", "-d", "--wait", "--force-recreate", "worker")
	if id("web") != web || id("worker") == worker {
		t.Errorf("up --force-recreate worker: web recreated %v, worker recreated %v; want worker only", id("web") != web, id("worker") != worker)
	}
	web, worker = id("web"), id("worker")
	c(0, "up", "-d", "--wait", "--always-recreate-deps", "worker")
	if id("web") == web || id("worker") != worker {
		t.Errorf("up --always-recreate-deps worker: web recreated %v, worker recreated %v; want web only", id("web") != web, id("worker") != worker)
	}
}
