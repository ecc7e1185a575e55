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
