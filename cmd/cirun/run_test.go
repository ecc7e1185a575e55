package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

// run's -p is --publish (the global -p comes before the command), -d
// detaches, and `-e KEY` comes from the project environment.
func TestRunOptions(t *testing.T) {
	e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	cmd := e.runCommand()
	var o runner.RunOptions
	var err error
	cmd.Action = func(c *cli.Context) error {
		o, err = runOptions(c, map[string]string{"FROM_PROJECT": "v"})
		return nil
	}
	app := &cli.App{Name: "cirun", Commands: []*cli.Command{cmd}, Flags: e.app().Flags}
	args := []string{"cirun", "-p", "proj", "run", "-p", "8081:80", "-p", "127.0.0.1:9090:90/udp", "-d", "--rm",
		"-e", "FROM_PROJECT", "-e", "EMPTY=hello", "back", "/bin/sh", "-c", "sleep 30"}
	if runErr := app.Run(args); runErr != nil || err != nil {
		t.Fatal(runErr, err)
	}
	want := runner.RunOptions{Service: "back", Command: []string{"/bin/sh", "-c", "sleep 30"},
		Env: []string{"FROM_PROJECT=v", "EMPTY=hello"}, Publish: []string{"8081:80", "127.0.0.1:9090:90/udp"},
		Detach: true, Remove: true, Pull: "policy"}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("options\n%+v\nwant\n%+v", o, want)
	}
}

// run's docker compose flags --cap-add, --cap-drop (repeatable, values not
// split on commas), --env-from-file (-e wins, then the first file; ${VAR}
// in a file refers to -e), --pull, --quiet-pull, --remove-orphans,
// --use-aliases (--quiet-build and -q parse; they act on the display);
// COMPOSE_IGNORE_ORPHANS from the project environment.
func TestRunComposeFlags(t *testing.T) {
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first.env"), filepath.Join(dir, "second.env")
	if err := os.WriteFile(first, []byte("FOO=BAR\nSET=from-file\n# comment\nREF=${SET}-ref\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(second, []byte("FOO=second\nONLY2=two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	cmd := e.runCommand()
	var o runner.RunOptions
	var err error
	cmd.Action = func(c *cli.Context) error {
		o, err = runOptions(c, map[string]string{"COMPOSE_IGNORE_ORPHANS": "true"})
		return nil
	}
	app := &cli.App{Name: "cirun", Commands: []*cli.Command{cmd}, Flags: e.app().Flags}
	args := []string{"cirun", "run", "--cap-add", "NET_ADMIN", "--cap-add=SYS_TIME", "--cap-drop", "MKNOD",
		"-e", "SET=from-e", "--env-from-file", first, "--env-from-file=" + second, "--pull", "always", "--quiet-pull",
		"--remove-orphans", "--use-aliases", "--quiet-build", "-q", "back"}
	if runErr := app.Run(args); runErr != nil || err != nil {
		t.Fatal(runErr, err)
	}
	want := runner.RunOptions{Service: "back", Command: []string{},
		Env:    []string{"SET=from-e", "FOO=BAR", "REF=from-e-ref", "ONLY2=two"},
		CapAdd: []string{"NET_ADMIN", "SYS_TIME"}, CapDrop: []string{"MKNOD"},
		Pull: "always", UseAliases: true, RemoveOrphans: true, IgnoreOrphans: true}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("options\n%+v\nwant\n%+v", o, want)
	}

	cmd.Action = func(c *cli.Context) error { _, err = runOptions(c, nil); return nil }
	if runErr := app.Run([]string{"cirun", "run", "--env-from-file", filepath.Join(dir, "missing.env"), "back"}); runErr != nil {
		t.Fatal(runErr)
	}
	if err == nil || !strings.Contains(err.Error(), "missing.env: no such file or directory") {
		t.Errorf("missing --env-from-file: %v", err)
	}
}

// A container_name two services share fails the commands that create
// containers of both, not those on existing containers (down, ps, logs).
func TestContainerNameConflictScope(t *testing.T) {
	file, _ := filepath.Abs(filepath.Join("..", "..", "fixtures", "container-name-conflict", "compose.yaml"))
	e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	withFlags(t, e, []string{"-f", file}, func(c *cli.Context) {
		if _, err := e.project(c); err == nil || !strings.Contains(err.Error(), `container name "cirun-fixture-fixed" is already in use`) {
			t.Errorf("project for up: %v, want the conflict", err)
		}
		if _, err := e.project(c, "test"); err != nil {
			t.Errorf("project for up test: %v", err)
		}
		if name, err := e.projectName(c); err != nil || name != "container-name-conflict" {
			t.Errorf("projectName (down, logs): %q, %v", name, err)
		}
	})
}
