package main

import (
	"bytes"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestRegistryFlags resolves --registry and --insecure-registry given
// before the verb, after it, or through CIRUN_REGISTRY, as the real app
// parses them.
func TestRegistryFlags(t *testing.T) {
	for _, c := range []struct {
		name     string
		env      string
		args     []string
		build    string // buildRegistry on `build`
		ls       string // the address `registry ls` talks to
		insecure bool
	}{
		{name: "none", args: []string{"build"}, build: "", ls: "127.0.0.1:5000"},
		{name: "global", args: []string{"--registry", "reg:5000", "build"}, build: "reg:5000", ls: "reg:5000"},
		{name: "environment", env: "env:5000", args: []string{"build"}, build: "env:5000", ls: "env:5000"},
		{name: "flag beats environment", env: "env:5000", args: []string{"--registry", "flag:5000", "build"}, build: "flag:5000", ls: "flag:5000"},
		{name: "insecure before the verb", args: []string{"--insecure-registry", "build"}, insecure: true, ls: "127.0.0.1:5000"},
		{name: "insecure after push", args: []string{"push", "--insecure-registry"}, insecure: true, ls: "127.0.0.1:5000"},
		{name: "ls flag after the verb", args: []string{"registry", "ls", "--registry", "sub:5000"}, build: "sub:5000", ls: "sub:5000"},
		{name: "ls global flag", args: []string{"--registry", "top:5000", "registry", "ls"}, build: "top:5000", ls: "top:5000"},
		{name: "ls environment", env: "env:5000", args: []string{"registry", "ls"}, build: "env:5000", ls: "env:5000"},
		{name: "ls flag beats environment", env: "env:5000", args: []string{"registry", "ls", "--registry", "sub:5000"}, build: "sub:5000", ls: "sub:5000"},
		{name: "ls insecure", args: []string{"registry", "rm", "--insecure-registry", "x:1"}, insecure: true, ls: "127.0.0.1:5000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("CIRUN_REGISTRY", c.env)
			if c.env == "" {
				t.Setenv("CIRUN_REGISTRY", "")
			}
			e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
			app := e.app()
			ran := false
			check := func(ctx *cli.Context) error {
				ran = true
				if got := buildRegistry(ctx); got != c.build {
					t.Errorf("buildRegistry = %q, want %q", got, c.build)
				}
				addr := buildRegistry(ctx)
				if addr == "" {
					addr = "127.0.0.1:5000"
				}
				if addr != c.ls {
					t.Errorf("registry address = %q, want %q", addr, c.ls)
				}
				if got := insecureRegistry(ctx); got != c.insecure {
					t.Errorf("insecureRegistry = %v, want %v", got, c.insecure)
				}
				return nil
			}
			// Replace the verbs' actions: only flag parsing is under test.
			var stub func(cmds []*cli.Command)
			stub = func(cmds []*cli.Command) {
				for _, cmd := range cmds {
					cmd.Action = check
					cmd.Before = nil
					stub(cmd.Subcommands)
				}
			}
			stub(app.Commands)
			app.Before = nil
			if err := app.Run(append([]string{"cirun"}, c.args...)); err != nil {
				t.Fatalf("running %v: %v", c.args, err)
			}
			if !ran {
				t.Fatal("the verb did not run")
			}
		})
	}
}
