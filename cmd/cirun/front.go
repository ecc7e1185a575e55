//go:build cirun_front

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/podman/rest"
	"github.com/cirun-dev/cirun/imagebuild"
)

// The front binary (bin/cirun, built with the cirun_front tag) links
// neither Podman's bindings nor Buildah nor the registry: their ~900
// packages' initialisation alone takes longer than a command like `ps` may
// (docs/decisions.md). It runs the commands that need none of them and
// hands every other one, with its arguments untouched, to the full binary
// (bin/cirun-full) by exec.

// frontCommands run in the front binary. ps and ls read containers through
// Podman's REST API (engine/podman/rest) when a service already answers.
var frontCommands = []string{"config", "version", "ps", "ls", "install-alias"}

// fullBinary is the full binary's name, next to the front one.
const fullBinary = "cirun-full"

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// handOff returns nil when the front binary runs cmd itself, and otherwise
// execs the full binary with orig (returning only when that fails). args
// are the arguments as parsed (for --host). `ps` starts listing the
// containers here, so that the list comes while the project loads.
func (e *env) handOff(orig []string, cmd string, args []string) error {
	if !slices.Contains(frontCommands, cmd) || (cmd == "config" && digestFlags(args)) {
		return execFull(orig)
	}
	if cmd != "ps" && cmd != "ls" {
		return nil
	}
	uri, conn := runningService(globalValue(args, "host"))
	if conn == nil {
		return execFull(orig)
	}
	c, err := rest.DialConn(uri, conn)
	if err != nil {
		return execFull(orig)
	}
	e.frontLister = c
	if cmd == "ps" {
		// Every project's containers, listed while the project loads; ps
		// keeps its project's (runner.Ps asks with All).
		e.frontLister = prefetch(c, engine.Filter{Labels: map[string]string{engine.LabelProject: ""}, All: true})
	}
	return nil
}

// digestFlags reports whether args (parsed, the command's included) ask
// `config` to resolve image digests: that needs a registry client, which
// only the full binary links.
func digestFlags(args []string) bool {
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		if name == "--resolve-image-digests" || name == "--lock-image-digests" {
			return true
		}
	}
	return false
}

// execFull replaces this process with the full binary. argv[0] is kept,
// so the full binary knows it was invoked as docker-compose.
func execFull(args []string) error {
	path, err := fullPath()
	if err != nil {
		return err
	}
	return fmt.Errorf("cirun: running %s: %w", path, syscall.Exec(path, args, os.Environ()))
}

// fullPath finds the full binary: $CIRUN_FULL, else cirun-full next to
// this one (symlinks such as a docker-compose alias resolved).
func fullPath() (string, error) {
	if p := os.Getenv("CIRUN_FULL"); p != "" {
		return p, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cirun: locating %s: %w", fullBinary, err)
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	p := filepath.Join(filepath.Dir(exe), fullBinary)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("cirun: this command needs %s next to %s (make build installs both; or set CIRUN_FULL): %w", fullBinary, exe, err)
	}
	return p, nil
}

// globalValue is the value of the flag --name among args, else of
// CONTAINER_HOST, the variable the only flag asked (--host) defaults to.
func globalValue(args []string, name string) string {
	for i := 1; i < len(args); i++ {
		a := args[i]
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return os.Getenv("CONTAINER_HOST")
}

// runningService returns the unix:// URI of a Podman service that accepts
// a connection now, and that connection, looked for as the full binary does
// (--host or CONTAINER_HOST, the system socket, cirun's own service); nil
// when none does: the full binary then starts one, or reports why it
// cannot. Any other URI (tcp://, ssh://) is the full binary's too.
func runningService(host string) (string, net.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	socks := []string{rest.SystemSocket(), rest.ServiceSocket()}
	if host != "" {
		sock, ok := strings.CutPrefix(host, "unix://")
		if !ok {
			return "", nil
		}
		socks = []string{sock}
	}
	for _, sock := range socks {
		if sock == "" {
			continue
		}
		if conn, err := rest.Connect(ctx, sock); err == nil {
			return "unix://" + sock, conn
		}
	}
	return "", nil
}

// lister reads containers over the service handOff found.
func (e *env) lister(*cli.Context) (engine.ContainerLister, error) {
	if e.frontLister == nil {
		return nil, errFullOnly
	}
	return e.frontLister, nil
}

// prefetched is a lister whose list was asked for ahead of time, with f.
type prefetched struct {
	*rest.Client
	f    engine.Filter
	done chan struct{}
	list []engine.Container
	err  error
}

func prefetch(c *rest.Client, f engine.Filter) *prefetched {
	p := &prefetched{Client: c, f: f, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.list, p.err = c.ListContainers(context.Background(), f)
	}()
	return p
}

// ListContainers keeps, of the prefetched list, the containers f selects.
// f must ask for no more than the prefetch did.
func (p *prefetched) ListContainers(ctx context.Context, f engine.Filter) ([]engine.Container, error) {
	if !f.All || !engine.MatchLabels(f.Labels, p.f.Labels) {
		return p.Client.ListContainers(ctx, f)
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if p.err != nil {
		return nil, p.err
	}
	var out []engine.Container
	for _, c := range p.list {
		if engine.MatchLabels(c.Labels, f.Labels) {
			out = append(out, c)
		}
	}
	return out, nil
}

// errFullOnly is what the front binary's stand-ins for the full binary's
// parts return; handOff keeps the commands that would reach them away.
var errFullOnly = errors.New("cirun: internal error: the front binary cannot run this command (cirun-full can)")

func connectEngine(context.Context, string, func(string, ...any)) (engine.Engine, func(), error) {
	return nil, nil, errFullOnly
}

func newBuilder() (imagebuild.Builder, func()) { return fullOnlyBuilder{}, func() {} }

type fullOnlyBuilder struct{}

func (fullOnlyBuilder) Build(context.Context, imagebuild.Request) (imagebuild.Result, error) {
	return imagebuild.Result{}, errFullOnly
}

// doctorCommand and registryCommand are listed by `cirun help` (which the
// full binary answers); here they only hand off.
func (e *env) doctorCommand() *cli.Command   { return handOffCommand("doctor") }
func (e *env) registryCommand() *cli.Command { return handOffCommand("registry") }

func handOffCommand(name string) *cli.Command {
	return &cli.Command{Name: name, SkipFlagParsing: true, Action: func(*cli.Context) error { return execFull(os.Args) }}
}
