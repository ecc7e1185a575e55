package buildah

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cirun-dev/cirun/imagebuild"
)

func TestUnsupportedFields(t *testing.T) {
	if err := checkSupported(imagebuild.Request{Service: "web", Platforms: []string{"plan9/mips"}}); !errors.Is(err, imagebuild.ErrUnsupported) {
		t.Errorf("foreign platform: %v", err)
	}
	if err := checkSupported(imagebuild.Request{Service: "web", ProgressMode: "plain"}); err != nil {
		t.Errorf("plain request: %v", err)
	}
	if err := checkSupported(imagebuild.Request{Service: "web", Dockerfile: "a", DockerfileInline: "FROM x"}); err == nil {
		t.Error("dockerfile and dockerfile_inline: no error")
	}
}

func TestResolveDockerfile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	resolve := func(req imagebuild.Request) (dockerfile, error) {
		req.Service, req.ContextDir = "web", dir
		return resolveDockerfile(req)
	}

	if _, err := resolve(imagebuild.Request{}); err == nil || !strings.Contains(err.Error(), "no Containerfile or Dockerfile") {
		t.Errorf("empty context: %v", err)
	}
	write("Dockerfile", "FROM a\nRUN b\n")
	df, err := resolve(imagebuild.Request{})
	if err != nil || df.display != "Dockerfile" || len(df.instrs) != 2 || df.instrs[1].line != 2 {
		t.Errorf("Dockerfile: %+v, %v", df, err)
	}
	write("Containerfile", "FROM a\n")
	if df, err := resolve(imagebuild.Request{}); err != nil || df.path != filepath.Join(dir, "Containerfile") {
		t.Errorf("Containerfile first: %+v, %v", df, err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("sub/Build.df", "FROM a\n")
	if df, err := resolve(imagebuild.Request{Dockerfile: "sub/Build.df"}); err != nil || df.path != filepath.Join(dir, "sub/Build.df") {
		t.Errorf("relative path: %+v, %v", df, err)
	}
	if _, err := resolve(imagebuild.Request{Dockerfile: "missing"}); err == nil {
		t.Error("missing Dockerfile: no error")
	}

	df, err = resolve(imagebuild.Request{DockerfileInline: "FROM a\nCMD x\n"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(df.path, dir) || df.display != "dockerfile_inline" || len(df.instrs) != 2 {
		t.Errorf("inline: %+v", df)
	}
	df.cleanup()
	if _, err := os.Stat(df.path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("inline Dockerfile %s not removed: %v", df.path, err)
	}

	if _, err := resolveDockerfile(imagebuild.Request{Service: "web", ContextDir: "rel"}); err == nil {
		t.Error("relative context: no error")
	}
}

func TestBuildArgs(t *testing.T) {
	t.Setenv("CIRUN_TEST_ARG", "from-env")
	v := "given"
	got := buildArgs(map[string]*string{"A": &v, "CIRUN_TEST_ARG": nil, "CIRUN_TEST_UNSET_ARG": nil})
	if len(got) != 2 || got["A"] != "given" || got["CIRUN_TEST_ARG"] != "from-env" {
		t.Errorf("buildArgs = %v", got)
	}
}

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{
		"app":                     "localhost/app:latest",
		"proj-app:1":              "localhost/proj-app:1",
		"localhost/x":             "localhost/x:latest",
		"registry.io:5000/a/b:v2": "registry.io:5000/a/b:v2",
		"cirun/busybox":           "localhost/cirun/busybox:latest",
	} {
		if got := normalizeName(in); got != want {
			t.Errorf("normalizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClampUlimits(t *testing.T) {
	got, err := clampUlimits([]string{"nofile=1:2", "nproc=-1:-1"})
	if err != nil {
		t.Fatal(err)
	}
	// nofile 1:2 is below any hard limit; unlimited nproc is clamped unless
	// this process has no nproc limit at all.
	for _, u := range got {
		if strings.HasPrefix(u, "nofile=") {
			t.Errorf("nofile clamped needlessly: %q", got)
		}
	}
	if _, err := clampUlimits([]string{"bogus=1"}); err == nil {
		t.Error("bad ulimit: no error")
	}
}
