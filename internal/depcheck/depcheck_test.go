package depcheck

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/cirun-dev/cirun"

// core packages and the dependencies they must never pull in.
var (
	core = []string{
		module + "/runner",
		module + "/compose",
		module + "/engine",
		module + "/imagebuild",
		module + "/engine/podman/rest",
		module + "/engine/dryrun",
	}
	forbidden = []string{
		"github.com/containers/podman",
		"github.com/containers/buildah",
		"github.com/containers/storage",
		"github.com/containers/image",
		"github.com/urfave/cli",
		module + "/engine/podman",
		module + "/imagebuild/buildah",
		module + "/cmd",
	}
)

func TestCoreImportsNoAdapter(t *testing.T) {
	for _, pkg := range core {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == pkg {
				continue
			}
			for _, bad := range forbidden {
				if dep == bad || strings.HasPrefix(dep, bad+"/") {
					t.Errorf("%s imports %s (forbidden: %s)", pkg, dep, bad)
				}
			}
		}
	}
}

func TestCoreBuildsWithoutCgo(t *testing.T) {
	cmd := exec.Command("go", append([]string{"build", "-o", os.DevNull}, core...)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("core packages do not build without cgo: %v\n%s", err, out)
	}
}

// frontForbidden are what the front binary (cmd/cirun with the cirun_front
// tag, bin/cirun) must not link: the packages whose initialisation made
// every command slower than 50 ms (docs/decisions.md).
var frontForbidden = []string{
	"github.com/containers/podman",
	"github.com/containers/buildah",
	"github.com/containers/storage",
	"github.com/containers/image",
	"github.com/distribution/distribution",
	"github.com/sigstore",
	"github.com/prometheus",
	module + "/engine/podman",
	module + "/imagebuild/buildah",
	module + "/registry",
}

func TestFrontBinaryLinksNoAdapter(t *testing.T) {
	tags := "cirun_front"
	for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
		if v, ok := strings.CutPrefix(f, "-tags="); ok {
			tags = v + "," + tags
		}
	}
	out, err := exec.Command("go", "list", "-deps", "-tags="+tags, module+"/cmd/cirun").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps -tags=%s ./cmd/cirun: %v\n%s", tags, err, out)
	}
	deps := strings.Fields(string(out))
	for _, dep := range deps {
		if dep == module+"/engine/podman/rest" {
			continue // the light REST client the front reads containers with
		}
		for _, bad := range frontForbidden {
			if dep == bad || strings.HasPrefix(dep, bad+"/") {
				t.Errorf("the front binary links %s (forbidden: %s)", dep, bad)
			}
		}
	}
	if len(deps) > 400 {
		t.Errorf("the front binary links %d packages, want at most 400", len(deps))
	}
}
