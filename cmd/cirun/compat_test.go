package main

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestCompatArgs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"docker-compose --version", "docker-compose version"},
		{"docker-compose -v", "docker-compose version"},
		{"docker-compose -f x.yml -v", "docker-compose -f x.yml version"},
		{"docker-compose --verbose -f x.yml up -d", "docker-compose -f x.yml up -d"},
		{"docker-compose -p p --verbose ps", "docker-compose -p p ps"},
		{"docker-compose -h", "docker-compose --help"},
		// After the command, arguments are the command's own.
		{"docker-compose exec web sh -c -v", "docker-compose exec web sh -c -v"},
		{"docker-compose run -v /a:/b web --verbose", "docker-compose run -v /a:/b web --verbose"},
		{"docker-compose -f -v up", "docker-compose -f -v up"},
		{"cirun --progress=plain up", "cirun --progress=plain up"},
	} {
		var notes bytes.Buffer
		got := compatArgs(strings.Fields(tc.in), false, &notes)
		if want := strings.Fields(tc.want); !reflect.DeepEqual(got, want) {
			t.Errorf("compatArgs(%q) = %q, want %q", tc.in, got, want)
		}
		if notes.Len() != 0 {
			t.Errorf("compatArgs(%q) wrote %q without debug", tc.in, notes.String())
		}
	}
	var notes bytes.Buffer
	compatArgs([]string{"docker-compose", "--verbose", "ps"}, true, &notes)
	if !strings.Contains(notes.String(), "--verbose") {
		t.Errorf("debug note = %q", notes.String())
	}
}

func TestResolveEnv(t *testing.T) {
	env := map[string]string{"FOO": "BAR", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	got := resolveEnv([]string{"FOO", "UNSET", "EMPTY", "X=1", "Y="}, lookup)
	want := []string{"FOO=BAR", "EMPTY=", "X=1", "Y="}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resolveEnv = %q, want %q", got, want)
	}
}

func TestParseTimestamp(t *testing.T) {
	for _, s := range []string{"1700000000", "1700000000.5", "2023-11-14T22:13:20Z", "2023-11-14", "10m"} {
		if ts, err := parseTimestamp(s); err != nil || ts.IsZero() {
			t.Errorf("parseTimestamp(%q) = %v, %v", s, ts, err)
		}
	}
	if ts, _ := parseTimestamp("1700000000"); ts.Unix() != 1700000000 {
		t.Errorf("unix seconds: %v", ts)
	}
	if _, err := parseTimestamp("yesterday"); err == nil {
		t.Errorf("parseTimestamp(yesterday): want an error")
	}
}

func TestInstallAlias(t *testing.T) {
	dir := t.TempDir()
	exe := dir + "/cirun"
	if err := writeExe(exe); err != nil {
		t.Fatal(err)
	}
	link, err := installAlias(exe, dir, false)
	if err != nil || link != dir+"/docker-compose" {
		t.Fatalf("installAlias = %q, %v", link, err)
	}
	if _, err := installAlias(exe, dir, false); err != nil {
		t.Errorf("installAlias again (same target) = %v, want nil", err)
	}
	other := dir + "/other"
	if err := writeExe(other); err != nil {
		t.Fatal(err)
	}
	if _, err := installAlias(other, dir, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("installAlias over another link = %v, want a --force hint", err)
	}
	if _, err := installAlias(other, dir, true); err != nil {
		t.Errorf("installAlias --force = %v", err)
	}
	if _, err := installAlias(exe, dir+"/missing", false); err == nil {
		t.Errorf("installAlias into a missing dir: want an error")
	}
}

func writeExe(p string) error { return os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755) }

// A multi flag given by its short name keeps its values: urfave copies
// it to the long name through the same Value after parsing.
func TestMultiFlagAliases(t *testing.T) {
	for _, args := range [][]string{{"-e", "A=1", "-e", "B=2,3"}, {"--env", "A=1", "--env", "B=2,3"}} {
		var got []string
		app := &cli.App{Name: "x", Flags: []cli.Flag{&cli.GenericFlag{Name: "env", Aliases: []string{"e"}, Value: &multi{}}},
			Action: func(c *cli.Context) error { got = multiOf(c, "env"); return nil }}
		if err := app.Run(append([]string{"x"}, args...)); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, []string{"A=1", "B=2,3"}) {
			t.Errorf("%q -> %q", args, got)
		}
	}
}

func TestPosixShorts(t *testing.T) {
	e := &env{}
	app := e.app()
	for _, tc := range []struct{ in, want, cmd string }{
		{"cirun -p x down -t0 --rmi=all", "cirun -p x down -t 0 --rmi=all", "down"},
		{"cirun -px -fa.yml ps", "cirun -p x -f a.yml ps", "ps"},
		{"cirun -p x rm -fsv", "cirun -p x rm -f -s -v", "rm"},
		{"cirun run --rm -eA=1 -T back sh -c -t0", "cirun run --rm -e A=1 -T back sh -c -t0", "run"},
		{"cirun exec -T svc ls -la", "cirun exec -T svc ls -la", "exec"},
		{"cirun stop -t 3 db", "cirun stop -t 3 db", "stop"},
		{"cirun --project-directory -t0 ps", "cirun --project-directory -t0 ps", "ps"},
		{"cirun up -d --wait", "cirun up -d --wait", "up"},
		{"cirun logs -ft", "cirun logs -f -t", "logs"},
		{"cirun ps -- -t0", "cirun ps -- -t0", "ps"},
		{"cirun -f a.yml --host unix:///x -- ps", "cirun -f a.yml --host unix:///x -- ps", ""},
		{"cirun nosuch ps", "cirun nosuch ps", ""},
		{"cirun --registry ps config", "cirun --registry ps config", "config"},
		// one flag under two names: the first name throughout
		{"cirun run -p 80:80 --publish 81:81 -p82:82 web", "cirun run -p 80:80 -p 81:81 -p 82:82 web", "run"},
		{"cirun run --publish=81:81 -Tp80 web", "cirun run --publish=81:81 -T --publish 80 web", "run"},
		{"cirun -p x --project-name y ps", "cirun -p x -p y ps", "ps"},
		{"cirun run --volumes /a:/a -v /b:/b --volume=/c:/c web", "cirun run --volumes /a:/a --volumes /b:/b --volumes=/c:/c web", "run"},
	} {
		got, cmd := posixShorts(app, strings.Fields(tc.in))
		if want := strings.Fields(tc.want); !reflect.DeepEqual(got, want) || cmd != tc.cmd {
			t.Errorf("posixShorts(%q) = %q, %q; want %q, %q", tc.in, got, cmd, want, tc.cmd)
		}
	}
}

// A repeatable flag given under both of its names keeps every value, in
// order (urfave alone refuses "Cannot use two forms of the same flag").
func TestBothSpellingsOfOneFlag(t *testing.T) {
	var got []string
	app := &cli.App{Name: "x", Commands: []*cli.Command{{Name: "run",
		Flags:  []cli.Flag{&cli.GenericFlag{Name: "publish", Aliases: []string{"p"}, Value: &multi{}}},
		Action: func(c *cli.Context) error { got = multiOf(c, "publish"); return nil }}}}
	args, _ := posixShorts(app, strings.Fields("x run -p 80:80 --publish 81:81 -p82:82 --publish=83:83"))
	if err := app.Run(args); err != nil {
		t.Fatal(err)
	}
	if want := []string{"80:80", "81:81", "82:82", "83:83"}; !reflect.DeepEqual(got, want) {
		t.Errorf("publish = %q, want %q", got, want)
	}
}
