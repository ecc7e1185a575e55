//go:build e2e

package e2e

import (
	"path/filepath"
	"testing"
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
