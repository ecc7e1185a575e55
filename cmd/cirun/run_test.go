package main

import (
	"bytes"
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
		Detach: true, Remove: true}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("options\n%+v\nwant\n%+v", o, want)
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
