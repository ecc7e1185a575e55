package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cirun-dev/cirun/compose"
	"github.com/cirun-dev/cirun/registry"
)

// runConfig runs `cirun -f fixtures/config/compose.yaml -p cfg config ARGS`
// with NAP set and returns stdout, stderr and the exit code.
func runConfig(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	t.Setenv("NAP", "1")
	file, err := filepath.Abs(filepath.Join("..", "..", "fixtures", "config", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(append([]string{"cirun", "-f", file, "-p", "cfg", "config"}, args...), nil, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestConfigNoInterpolate(t *testing.T) {
	out, errOut, code := runConfig(t, "--no-interpolate", "db")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "- ${PORT:-8080}:80\n") || !strings.Contains(out, "  app:\n") {
		t.Errorf("not the full model with its variables:\n%s", out)
	}
	if !strings.Contains(errOut, "WARN[0000] service filtering is not applied when --no-interpolate is set") {
		t.Errorf("stderr = %q", errOut)
	}
}

func TestConfigVariables(t *testing.T) {
	out, errOut, code := runConfig(t, "--variables", "--format", "json", "app")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "\"PORT\": {\n        \"Name\": \"PORT\",\n        \"DefaultValue\": \"8080\",") {
		t.Errorf("stdout:\n%s", out)
	}
	if !strings.Contains(errOut, "service filtering is not applied when --variables is set") {
		t.Errorf("stderr = %q", errOut)
	}
}

func TestConfigSelectsServices(t *testing.T) {
	out, errOut, code := runConfig(t, "db")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "  app:\n") || !strings.Contains(out, "  db:\n") {
		t.Errorf("config db rendered other services:\n%s", out)
	}
}

// TestConfigHash: `config --hash` prints compose.ServiceHash of the service
// as Load returns it, the value of the config-hash label of its containers.
func TestConfigHash(t *testing.T) {
	t.Setenv("NAP", "1")
	file, _ := filepath.Abs(filepath.Join("..", "..", "fixtures", "config", "compose.yaml"))
	p, err := compose.Load(context.Background(), compose.Options{Files: []string{file}, ProjectName: "cfg", Environ: []string{"NAP=1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "app " + compose.ServiceHash(p.Services["app"]) + "\ndb " + compose.ServiceHash(p.Services["db"]) + "\n"
	for _, spec := range []string{"*", "db,app"} {
		out, errOut, code := runConfig(t, "--hash", spec)
		if code != 0 || out != want {
			t.Errorf("--hash %s: exit %d, stdout %q, want %q (stderr %q)", spec, code, out, want, errOut)
		}
	}
	if _, _, code := runConfig(t, "--hash", "nope"); code == 0 {
		t.Error("--hash of an unknown service succeeded")
	}
}

func TestConfigQuietAndLists(t *testing.T) {
	if out, errOut, code := runConfig(t, "-q"); code != 0 || out != "" {
		t.Errorf("-q: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if out, _, _ := runConfig(t, "--services"); out != "app\ndb\n" {
		t.Errorf("--services = %q", out)
	}
	if out, _, _ := runConfig(t, "--images"); out != "localhost/cirun/config-app\nlocalhost/cirun/busybox\n" {
		t.Errorf("--images = %q", out)
	}
}

// config's loading switches, as docker compose's: --no-env-resolution keeps
// env_file, --no-path-resolution keeps paths relative, --no-normalize
// leaves out what normalization adds (default network, build dockerfile),
// --no-consistency lets two services share a container_name.
func TestConfigLoadingSwitches(t *testing.T) {
	out, errOut, code := runConfig(t)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, s := range []string{"GREETING: hello", "dockerfile: Dockerfile", "  default:\n    name: cfg_default", "context: /"} {
		mustContainT(t, "config", out, s)
	}
	for _, tc := range []struct {
		flag     string
		has, not []string
	}{
		{"--no-env-resolution", []string{"env_file:\n      - path: /", "app.env"}, []string{"GREETING"}},
		// (a relative env_file is then read from the current directory, as
		// in docker compose: not resolved here)
		{"--no-path-resolution --no-env-resolution", []string{"context: app\n", "path: app.env\n"}, []string{"context: /", "path: /"}},
		{"--no-normalize", []string{"image: localhost/cirun/config-app"}, []string{"dockerfile: Dockerfile", "cfg_default"}},
	} {
		out, errOut, code := runConfig(t, strings.Fields(tc.flag)...)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", tc.flag, code, errOut)
			continue
		}
		for _, s := range tc.has {
			mustContainT(t, tc.flag, out, s)
		}
		for _, s := range tc.not {
			if strings.Contains(out, s) {
				t.Errorf("%s: output has %q:\n%s", tc.flag, s, out)
			}
		}
	}

	file, _ := filepath.Abs(filepath.Join("..", "..", "fixtures", "container-name-conflict", "compose.yaml"))
	var o, e bytes.Buffer
	if code := run([]string{"cirun", "-f", file, "config"}, nil, &o, &e); code == 0 || !strings.Contains(e.String(), "already in use") {
		t.Errorf("config with a shared container_name: exit %d, stderr %q", code, e.String())
	}
	o.Reset()
	e.Reset()
	if code := run([]string{"cirun", "-f", file, "config", "--no-consistency"}, nil, &o, &e); code != 0 || strings.Count(o.String(), "container_name: cirun-fixture-fixed") != 2 {
		t.Errorf("config --no-consistency: exit %d, stdout %q, stderr %q", code, o.String(), e.String())
	}
}

// --models prints the models' names: none here (and cirun refuses a
// models section, like every key it does not run).
func TestConfigModels(t *testing.T) {
	if out, errOut, code := runConfig(t, "--models"); code != 0 || out != "" {
		t.Errorf("--models: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// --resolve-image-digests pins images to the digest their registry gives;
// --lock-image-digests prints only the pinned images; an unreachable
// registry is an error naming the image.
func TestConfigImageDigests(t *testing.T) {
	srv, err := registry.New(registry.Config{Addr: "127.0.0.1:0", Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(srv.Addr() + "/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()

	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	yaml := "services:\n  app:\n    image: " + srv.Addr() + "/app:1\n    command: [\"true\"]\n  built:\n    build: .\n"
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	config := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := run(append([]string{"cirun", "-f", file, "-p", "dig", "config"}, args...), nil, &out, &errOut)
		return out.String(), errOut.String(), code
	}
	pinned := "image: " + srv.Addr() + "/app:1@" + d.String() + "\n"
	out, errOut, code := config("--resolve-image-digests")
	if code != 0 || !strings.Contains(out, pinned) || !strings.Contains(out, "command:") {
		t.Errorf("--resolve-image-digests: exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
	out, errOut, code = config("--lock-image-digests")
	if want := "services:\n  app:\n    " + pinned + "  built: {}\n"; code != 0 || out != want {
		t.Errorf("--lock-image-digests: exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, errOut, out, want)
	}
	out, errOut, code = config("--no-interpolate", "--lock-image-digests")
	if want := "services:\n  app:\n    " + pinned + "  built: {}\n"; code != 0 || out != want {
		t.Errorf("--no-interpolate --lock-image-digests: exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, errOut, out, want)
	}
	cancel()
	<-done
	done <- nil
	_, errOut, code = config("--resolve-image-digests")
	if code == 0 || !strings.Contains(errOut, "failed to resolve digest for "+srv.Addr()+"/app:1") {
		t.Errorf("registry gone: exit %d, stderr %q", code, errOut)
	}
}

func mustContainT(t *testing.T, what, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%s: output lacks %q:\n%s", what, sub, s)
	}
}

// The name listings do not read env files, as docker compose: a missing
// env file fails `config` and `config -q`, not `config --services`.
func TestConfigListsIgnoreMissingEnvFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	yaml := "services:\n  app:\n    image: localhost/app\n    env_file: missing.env\n    profiles: [p]\n    volumes: [data:/d]\nvolumes:\n  data: {}\n"
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := run(append([]string{"cirun", "-f", file, "-p", "lists", "--profile", "p", "config"}, args...), nil, &out, &errOut)
		return out.String(), errOut.String(), code
	}
	for args, want := range map[string]string{
		"--services": "app\n", "--volumes": "data\n", "--profiles": "p\n", "--images": "localhost/app\n", "--networks": "default\n",
	} {
		if out, errOut, code := cfg(args); code != 0 || out != want {
			t.Errorf("config %s: exit %d, stdout %q, stderr %q; want %q", args, code, out, errOut, want)
		}
	}
	for _, args := range [][]string{nil, {"-q"}} {
		if _, errOut, code := cfg(args...); code != 1 || !strings.Contains(errOut, "env file "+filepath.Join(dir, "missing.env")+" not found") {
			t.Errorf("config %v: exit %d, stderr %q; want the missing env file", args, code, errOut)
		}
	}
}
