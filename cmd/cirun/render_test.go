package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

// withFlags runs fn with a context parsed from args against cirun's global
// flags (so COMPOSE_ANSI / COMPOSE_PROGRESS apply as in the real app).
func withFlags(t *testing.T, e *env, args []string, fn func(c *cli.Context)) {
	t.Helper()
	app := e.app()
	app.Commands = nil
	app.Action = func(c *cli.Context) error { fn(c); return nil }
	if err := app.Run(append([]string{"cirun"}, args...)); err != nil {
		t.Fatalf("parsing %v: %v", args, err)
	}
}

func TestProgressAndAnsiModes(t *testing.T) {
	for _, c := range []struct {
		name     string
		env      map[string]string
		args     []string
		progress string // resolved mode, or the error
		color    bool
	}{
		{name: "defaults off a terminal", progress: "plain"},
		{name: "tty", args: []string{"--progress", "tty"}, progress: "tty"},
		{name: "json", args: []string{"--progress", "json"}, progress: "json"},
		{name: "quiet", args: []string{"--progress", "quiet"}, progress: "quiet"},
		{name: "none is quiet", args: []string{"--progress", "none"}, progress: "quiet"},
		{name: "COMPOSE_PROGRESS", env: map[string]string{"COMPOSE_PROGRESS": "json"}, progress: "json"},
		{name: "flag beats COMPOSE_PROGRESS", env: map[string]string{"COMPOSE_PROGRESS": "json"}, args: []string{"--progress", "quiet"}, progress: "quiet"},
		{name: "bad progress", args: []string{"--progress", "fancy"}, progress: `unsupported --progress value "fancy"`},
		{name: "tty without ANSI", args: []string{"--ansi", "never", "--progress", "tty"}, progress: "can't use --progress tty while ANSI support is disabled"},
		{name: "plain with forced ANSI", args: []string{"--ansi", "always", "--progress", "plain"}, progress: "can't use --progress plain while ANSI support is forced", color: true},
		{name: "ansi always colors", args: []string{"--ansi", "always"}, progress: "plain", color: true},
		{name: "COMPOSE_ANSI", env: map[string]string{"COMPOSE_ANSI": "always"}, progress: "plain", color: true},
		{name: "NO_COLOR wins", env: map[string]string{"NO_COLOR": "1"}, args: []string{"--ansi", "always"}, progress: "plain"},
		{name: "bad ansi", args: []string{"--ansi", "sometimes"}, progress: `unsupported --ansi value "sometimes" (never, always, auto)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{"COMPOSE_PROGRESS", "COMPOSE_ANSI", "NO_COLOR"} {
				t.Setenv(k, c.env[k])
			}
			e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
			withFlags(t, e, c.args, func(ctx *cli.Context) {
				mode, err := e.progressMode(ctx)
				if err != nil {
					mode = err.Error()
				}
				if mode != c.progress {
					t.Errorf("progress = %q, want %q", mode, c.progress)
				}
				color, err := e.color(ctx)
				if err == nil && color != c.color {
					t.Errorf("color = %v, want %v", color, c.color)
				}
			})
		})
	}
}

func TestRenderers(t *testing.T) {
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	events := []runner.Event{
		{Kind: "Container", Name: "p-db-1", Status: "Started", Time: at},
		{Kind: "Image", Name: "p-app", Status: "Built", Detail: "1.2s", Time: at},
		{Kind: "Container", Name: "p-app-1", Status: "Error", Detail: "boom", Time: at},
	}
	for _, c := range []struct{ mode, want string }{
		{"plain", " Container p-db-1 Started\n Image p-app Built 1.2s\n Container p-app-1 Error: boom\n"},
		{"quiet", ""},
		{"json", `{"id":"Container p-db-1","status":"Done","text":"Started","time":"2024-05-01T12:00:00.000Z"}
{"id":"Image p-app","status":"Done","text":"Built","details":"1.2s","time":"2024-05-01T12:00:00.000Z"}
{"id":"Container p-app-1","status":"Error","text":"Error","details":"boom","time":"2024-05-01T12:00:00.000Z"}
`},
	} {
		var out bytes.Buffer
		r := newRenderer(&out, c.mode)
		for _, ev := range events {
			r(ev)
		}
		if out.String() != c.want {
			t.Errorf("%s:\ngot  %q\nwant %q", c.mode, out.String(), c.want)
		}
	}
}

func TestUpFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--detach", "--attach", "a"}, "--detach cannot be combined with"},
		{[]string{"--wait", "--abort-on-container-exit"}, "--wait cannot be combined with"},
		{[]string{"--exit-code-from", "a", "--abort-on-container-exit", "--abort-on-container-failure"}, "--abort-on-container-failure cannot be combined with --abort-on-container-exit"},
		{[]string{"--build", "--no-build"}, "--build and --no-build are incompatible"},
		{[]string{"--always-recreate-deps", "--no-recreate"}, "--always-recreate-deps and --no-recreate are incompatible"},
		{[]string{"-V", "--no-recreate"}, "--force-recreate and --no-recreate are incompatible"},
		{[]string{"--scale", "a=x"}, `invalid --scale option "a=x"`},
	} {
		e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
		cmd := e.upCommand()
		var got error
		cmd.Action = func(ctx *cli.Context) error { _, got = e.upOptions(ctx); return nil }
		app := &cli.App{Name: "cirun", Commands: []*cli.Command{cmd}, Flags: e.app().Flags}
		if err := app.Run(append([]string{"cirun", "up"}, c.args...)); err != nil {
			t.Fatal(err)
		}
		if got == nil || !strings.Contains(got.Error(), c.want) {
			t.Errorf("up %v: %v, want %q", c.args, got, c.want)
		}
	}
	// --exit-code-from with --abort-on-container-failure keeps the failure
	// cascade (docker compose: it implies abort-on-exit only alone).
	e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	cmd := e.upCommand()
	var o runner.UpOptions
	cmd.Action = func(ctx *cli.Context) error { o, _ = e.upOptions(ctx); return nil }
	app := &cli.App{Name: "cirun", Commands: []*cli.Command{cmd}, Flags: e.app().Flags}
	if err := app.Run([]string{"cirun", "up", "--exit-code-from", "a", "--abort-on-container-failure", "--scale", "a=2"}); err != nil {
		t.Fatal(err)
	}
	if o.OnExit != runner.CascadeFail || o.ExitCodeFrom != "a" || o.Scale["a"] != 2 {
		t.Errorf("options = %+v", o)
	}
}
