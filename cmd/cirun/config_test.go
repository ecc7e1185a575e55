package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cirun-dev/cirun/compose"
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
