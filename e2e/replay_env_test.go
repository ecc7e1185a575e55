//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// docker compose's e2e tests on networks, volumes and environment
// (pkg/e2e/networks_test.go, volumes_test.go, compose_environment_test.go,
// env_file_test.go, interpolation_test.go, configs_test.go,
// secrets_test.go), replayed on cirun's own fixtures (fixtures/replay-*)
// with what those tests assert. This file: environment, configs, secrets.

func replayDir(name string) string { return filepath.Join(fixtures, "replay-"+name) }

// Where `run -e WHEREAMI` takes its value from (docker compose's
// TestEnvPriority): the shell first, then --env-file, COMPOSE_ENV_FILES or
// .env; the -e value wins over environment and env_file; the image's ENV
// when nothing sets it.
func TestEnvPriority(t *testing.T) {
	p := project(t)
	id := e2eID(t)
	dir := replayDir("env-priority")
	removeBuilt(t, "localhost/cirun-e2e-envprio:"+id)
	run := func(env []string, file string, args ...string) string {
		t.Helper()
		res := cirun(t, append([]string{"E2E_ID=" + id}, env...), append([]string{"-f", filepath.Join(dir, file), "-p", p}, args...)...)
		if res.code != 0 {
			t.Fatalf("cirun %s exited %d", strings.Join(args, " "), res.code)
		}
		return strings.TrimSpace(res.stdout)
	}
	defer run(nil, "compose.yaml", "down", "-t", "0")
	run(nil, "compose-with-env.yaml", "up", "-d", "--build")
	override := "--env-file=" + filepath.Join(dir, ".env.override")
	withDefault := filepath.Join(dir, ".env.override.with.default")
	for _, c := range []struct {
		name string
		env  []string
		file string
		args []string
		want string
	}{
		{"shell beats compose environment", []string{"WHEREAMI=shell"}, "compose-with-env.yaml", []string{override, "run", "--rm", "-e", "WHEREAMI", "where"}, "shell"},
		{"-e value beats compose environment", nil, "compose-with-env.yaml", []string{override, "run", "--rm", "-e", "WHEREAMI=shell", "where"}, "shell"},
		{"shell beats --env-file", []string{"WHEREAMI=shell"}, "compose.yaml", []string{override, "run", "--rm", "-e", "WHEREAMI", "where"}, "shell"},
		{"shell beats an env file's default", []string{"WHEREAMI=shell"}, "compose.yaml", []string{"--env-file", withDefault, "run", "--rm", "-e", "WHEREAMI", "where"}, "shell"},
		{"an env file's default", nil, "compose.yaml", []string{"--env-file", withDefault, "run", "--rm", "-e", "WHEREAMI", "where"}, "EnvFileDefaultValue"},
		{"COMPOSE_ENV_FILES", []string{"COMPOSE_ENV_FILES=" + withDefault}, "compose.yaml", []string{"run", "--rm", "-e", "WHEREAMI", "where"}, "EnvFileDefaultValue"},
		{"-e value", nil, "compose.yaml", []string{override, "run", "--rm", "-e", "WHEREAMI=shell-run", "where"}, "shell-run"},
		{".env beats env_file through -e", nil, "compose-with-env-file.yaml", []string{"run", "--rm", "-e", "WHEREAMI", "where"}, "Env File"},
		{"--env-file", nil, "compose.yaml", []string{override, "run", "--rm", "-e", "WHEREAMI", "where"}, "override"},
		{".env", nil, "compose.yaml", []string{"run", "--rm", "-e", "WHEREAMI", "where"}, "Env File"},
		{"the image's ENV", nil, "compose.yaml", []string{"--env-file", filepath.Join(dir, ".env.empty"), "run", "--rm", "-e", "WHEREAMI", "where"}, "Dockerfile"},
	} {
		if got := run(c.env, c.file, c.args...); got != c.want {
			t.Errorf("%s: printed %q, want %q", c.name, got, c.want)
		}
	}
}

// An env_file with `format: raw` gives its values as written, quotes
// included (docker compose's TestRawEnvFile).
func TestRawEnvFile(t *testing.T) {
	p := project(t)
	c := specIn(t, filepath.Join(replayDir("env-file-raw"), "compose.yaml"), p)
	defer c(0, "down", "-t", "0")
	if got := strings.TrimSpace(c(0, "run", "--rm", "show").stdout); got != `'{"json": true}'` {
		t.Errorf("run printed %q, want the raw value with its quotes", got)
	}
}

// In .env, ` #` starts a comment and a `#` inside a value does not; `run
// -e KEY` passes the .env value (docker compose's TestCommentsInEnvFile).
func TestEnvFileComments(t *testing.T) {
	p := project(t)
	c := specIn(t, filepath.Join(replayDir("env-file-comments"), "compose.yaml"), p)
	defer c(0, "down", "-t", "0")
	out := c(0, "run", "--rm", "-e", "WITH_COMMENT", "-e", "HASH_INSIDE", "show").stdout
	mustContain(t, "stdout", out, "WITH_COMMENT=42\n")
	mustContain(t, "stdout", out, "HASH_INSIDE=42#43\n")
}

// An env_file's ${VAR} reads .env, the shell, --env-file and the service's
// own environment; `run -e` overrides the result (docker compose's
// Test_interpolation and TestInterpolationInEnvFile, provider aside).
func TestEnvFileInterpolation(t *testing.T) {
	p := project(t)
	dir := replayDir("interpolation")
	f := filepath.Join(dir, "compose.yaml")
	res := specIn(t, f, p, "FROM_SHELL=shell")(0, "up")
	for _, want := range []string{
		"test-1  | FOO=FOO-from-dot-env", "test-1  | BAR=bar_from_environment",
		"test-1  | ZOT=FOO-from-dot-env", "test-1  | QIX=some FOO-from-dot-env value",
		"test-1  | BAR_FROM_ENV_FILE=bar_from_environment", "test-1  | BY_SHELL=shell",
		"test-1  | BY_CMD=cmd-default", "test-1  | BY_DOT_ENV=dot-env-value",
	} {
		mustContain(t, "up's output", res.stdout, want+"\n")
	}
	c := specIn(t, f, p)
	res = c(0, "--env-file", filepath.Join(dir, "explicit.env"), "run", "--rm", "-e", "BY_CMD=from-run", "test")
	for _, want := range []string{"FOO=FOO-from-explicit", "ZOT=FOO-from-explicit", "BY_EXPLICIT_ENV_FILE=explicit-value", "BY_CMD=from-run"} {
		mustContain(t, "run's output", res.stdout, want+"\n")
	}
	c(0, "down", "-t", "0")
}

// Configs from a file, an environment variable and inline content, at the
// default path and at a custom target (docker compose's TestConfigFromEnv).
func TestReplayConfigs(t *testing.T) {
	p := project(t)
	c := specIn(t, filepath.Join(replayDir("configs"), "compose.yaml"), p, "REPLAY_CONFIG=value-of-the-variable")
	defer c(0, "down", "-t", "0")
	for svc, want := range map[string]string{
		"from_file": "content of app.conf",
		"from_env":  "value-of-the-variable",
		"inlined":   "inline content with value-of-the-variable",
		"target":    "inline content with value-of-the-variable",
	} {
		if got := strings.TrimSpace(c(0, "run", "--rm", svc).stdout); got != want {
			t.Errorf("run %s printed %q, want %q", svc, got, want)
		}
	}
}

// A secret from an environment variable with a relative target, uid, gid
// and mode; a secret of an included file whose variable comes from the
// include's env_file (docker compose's TestSecretFromEnv and
// TestSecretFromInclude; the image has /run but no /var/run).
func TestReplaySecrets(t *testing.T) {
	p := project(t)
	c := specIn(t, filepath.Join(replayDir("secrets"), "compose.yaml"), p, "REPLAY_SECRET=BAR")
	defer c(0, "down", "-t", "0")
	if got := strings.TrimSpace(c(0, "run", "--rm", "reader").stdout); got != "BAR" {
		t.Errorf("run reader printed %q, want BAR", got)
	}
	ls := c(0, "run", "--rm", "reader", "ls", "-aln", "/run/secrets/tok").stdout
	mustContain(t, "ls -aln", ls, "-r--r-----    1 1005     1005")
	if got := strings.TrimSpace(c(0, "run", "--rm", "included").stdout); got != "from-the-include" {
		t.Errorf("run included printed %q, want from-the-include", got)
	}
}

// A .env variable interpolating the shell's, with a default (docker
// compose's TestEnvInterpolation).
func TestEnvInterpolation(t *testing.T) {
	f := filepath.Join(replayDir("env-interpolation"), "compose.yaml")
	mustContain(t, "config", cirun(t, []string{"WHEREAMI=shell"}, "-f", f, "config").stdout, "IMAGE: default_env:shell\n")
	mustContain(t, "config", cirun(t, nil, "-f", f, "config").stdout, "IMAGE: default_env:EnvFileDefaultValue\n")
}

// The same env_file interpolated through an include with its own env_file,
// and through extends from another directory with its own .env (docker
// compose's Test_interpolationWithInclude and Test_interpolationWithExtends).
func TestEnvFileInterpolationIncludeExtends(t *testing.T) {
	for dir, wants := range map[string][]string{
		"include": {"FOO=FOO-from-include", "ZOT=FOO-from-include", "QIX=some FOO-from-include value", "BAR=bar_from_environment"},
		"extends": {"FOO=FOO-from-extends", "ZOT=FOO-from-extends", "QIX=some FOO-from-extends value", "BAR=BAR-from-extends", "BAR_FROM_ENV_FILE=BAR-from-extends"},
	} {
		p := project(t)
		c := specIn(t, filepath.Join(replayDir("interpolation"), dir, "compose.yaml"), p)
		out := c(0, "up").stdout
		c(0, "down", "-t", "0")
		for _, want := range wants {
			mustContain(t, dir+": up's output", out, "test-1  | "+want+"\n")
		}
	}
}
