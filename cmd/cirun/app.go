package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/compose"
	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/dryrun"
	"github.com/cirun-dev/cirun/imagebuild"
	"github.com/cirun-dev/cirun/runner"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "0.1.0-dev"

// env holds what one invocation shares between flag parsing and the verbs.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// extraProfiles are enabled on top of --profile (`test` adds "test").
	extraProfiles []string

	mu      sync.Mutex
	eng     engine.Engine
	builder imagebuild.Builder
	closers []func() // run by close, last first
	// frontLister reads containers for the front binary's `ps` and `ls`
	// (front.go); nil in the full binary.
	frontLister engine.ContainerLister
}

// run is the whole program: it parses args, runs one verb and returns the
// exit code. Only main calls os.Exit.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	// containers/storage and buildah log routine notes at info level through
	// logrus' global logger; cirun's own progress is enough.
	logrus.SetLevel(logrus.WarnLevel)
	if dir, err := os.UserCacheDir(); err == nil {
		compose.CacheValidations(filepath.Join(dir, "cirun", "compose-valid"))
	}
	defer e.close()
	app := e.app()
	// Invoked as docker-compose (a symlink): same arguments; v1 spellings.
	if strings.HasPrefix(filepath.Base(args[0]), "docker-compose") {
		app.Name = "docker-compose"
	}
	orig := args
	args, cmd := posixShorts(app, v1Args(args))
	// The front binary runs its few commands itself and hands the rest to
	// cirun-full (front.go); the full binary runs everything.
	if err := e.handOff(orig, cmd, args); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}

	ctx, stop := signalContext(stderr)
	defer stop()
	err := app.RunContext(ctx, args)
	return exitCode(err, stderr)
}

// v1Args converts the docker-compose v1 spellings docker compose still
// accepts (see compat.go).
func v1Args(args []string) []string {
	return compatArgs(args, os.Getenv("CIRUN_DEBUG") != "", os.Stderr)
}

// signalContext is cancelled by the first SIGINT/SIGTERM (the verbs then
// stop what they started, as docker compose does; `test` and `run` remove
// what they created: docs/decisions.md); a second signal exits at once.
func signalContext(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		n := 0
		for sig := range ch {
			n++
			if n == 1 {
				fmt.Fprintf(stderr, "%s received: gracefully stopping... (again to force)\n", sig)
				cancel()
				continue
			}
			os.Exit(130)
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

// exitCode prints err (one line) and maps it to docker compose's codes.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *runner.ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(stderr, ee.Err)
		}
		return ee.Code
	}
	var ce cli.ExitCoder
	if errors.As(err, &ce) {
		if msg := ce.Error(); msg != "" {
			fmt.Fprintln(stderr, msg)
		}
		return ce.ExitCode()
	}
	if errors.Is(err, runner.ErrInterrupted) {
		return 130
	}
	fmt.Fprintln(stderr, err)
	var se *runner.ServiceError
	if errors.As(err, &se) && len(se.Logs) > 0 {
		fmt.Fprintf(stderr, "last %d log lines of %s:\n", len(se.Logs), se.Container)
		for _, l := range se.Logs {
			fmt.Fprintf(stderr, "  %s | %s\n", se.Container, l)
		}
	}
	return 1
}

func (e *env) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

// engine connects to Podman on first use.
func (e *env) engine(c *cli.Context) (engine.Engine, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.eng != nil {
		return e.eng, nil
	}
	eng, closeEngine, err := connectEngine(c.Context, c.String("host"), e.logf)
	if err != nil {
		return nil, fmt.Errorf("connecting to podman: %w (run `cirun doctor` for a diagnosis)", err)
	}
	e.closers = append(e.closers, closeEngine)
	if dryRun(c) {
		eng = dryrun.New(eng)
	}
	e.eng = eng
	return eng, nil
}

// dryRun reports whether the global --dry-run was given: engine writes are
// then only pretended (engine/dryrun), builds do not run, and every
// progress line starts with docker compose's "DRY-RUN MODE - ".
func dryRun(c *cli.Context) bool {
	for _, cc := range c.Lineage() {
		if cc.Bool("dry-run") {
			return true
		}
	}
	return false
}

// dryRunPrefix starts every progress line of a dry run, as docker compose's.
const dryRunPrefix = "DRY-RUN MODE - "

// dryRunBuilder pretends to build: the image is only recorded as existing
// in the dry-run engine.
type dryRunBuilder struct{ eng *dryrun.Engine }

func (b dryRunBuilder) Build(_ context.Context, req imagebuild.Request) (imagebuild.Result, error) {
	for _, t := range req.Tags {
		b.eng.MarkImage(t)
	}
	return imagebuild.Result{ImageID: "dryRunId"}, nil
}

// containerLister is what `ps` and `ls` read containers with: the engine
// in the full binary, Podman's REST API alone in the front one.
func (e *env) containerLister(c *cli.Context) (engine.ContainerLister, error) {
	if _, err := e.progressMode(c); err != nil {
		return nil, err
	}
	return e.lister(c)
}

// logf prints adapter messages worth a line on stderr (a started Podman
// service); routine ones (which socket was reused) only with CIRUN_DEBUG.
func (e *env) logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if strings.HasPrefix(msg, "podman: connected") && os.Getenv("CIRUN_DEBUG") == "" {
		return
	}
	fmt.Fprintln(e.stderr, msg)
}

// runner returns a Runner over the engine, with progress on stderr.
func (e *env) runner(c *cli.Context) (*runner.Runner, error) {
	progress, err := e.progressMode(c)
	if err != nil {
		return nil, err
	}
	eng, err := e.engine(c)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.builder == nil {
		var closeBuilder func()
		e.builder, closeBuilder = newBuilder()
		e.closers = append(e.closers, closeBuilder)
	}
	b := e.builder
	e.mu.Unlock()
	events, stdout, stderr := newDisplay(e.stdout, e.stderr, progress)
	keys := filepath.Join(dataDir(), "build-keys")
	if d, ok := eng.(*dryrun.Engine); ok {
		b, keys = dryRunBuilder{d}, ""
		show := events
		events = func(ev runner.Event) {
			ev.Kind = dryRunPrefix + ev.Kind
			show(ev)
		}
	}
	bp := buildProgress(progress)
	if c.Bool("quiet-build") { // run's flag
		bp = "quiet"
	}
	return runner.New(eng, runner.Options{
		Builder:          b,
		Events:           events,
		Stdout:           stdout,
		Stderr:           stderr,
		Version:          version,
		BuildProgress:    bp,
		Registry:         buildRegistry(c),
		InsecureRegistry: insecureRegistry(c),
		BuildKeyDir:      keys,
	}), nil
}

func buildProgress(p string) string {
	switch p {
	case "quiet":
		return "quiet"
	case "tty":
		return "tty"
	default:
		return "plain"
	}
}

// project loads the compose project named by the global flags, for a
// command that creates containers of the services enable names (all when
// empty).
func (e *env) project(c *cli.Context, enable ...string) (*types.Project, error) {
	return e.load(c, enable, nil)
}

// renderProject loads the compose project for `config`, which prints it:
// keys cirun cannot run are warnings there.
func (e *env) renderProject(c *cli.Context, enable ...string) (*types.Project, error) {
	return e.load(c, enable, func(o *compose.Options) { o.Render = true })
}

// listProject loads the compose project for `config --services`,
// `--volumes`, `--networks`, `--profiles` and `--images`, which print names
// only: as in docker compose, env files are not read (a missing one is no
// error).
func (e *env) listProject(c *cli.Context, enable ...string) (*types.Project, error) {
	return e.load(c, enable, func(o *compose.Options) { o.Render, o.KeepEnvFiles = true, true })
}

// existingProject loads the compose project for a command that acts on
// existing containers only.
func (e *env) existingProject(c *cli.Context) (*types.Project, error) {
	return e.load(c, nil, func(o *compose.Options) { o.NoCreate = true })
}

// load loads the project with the global flags' options, enabling the
// services enable names, as set adjusts them.
func (e *env) load(c *cli.Context, enable []string, set func(*compose.Options)) (*types.Project, error) {
	o := e.composeOptions(c)
	o.EnableServices = enable
	if set != nil {
		set(&o)
	}
	return compose.Load(c.Context, o)
}

// composeOptions are the compose loading options the global flags give.
func (e *env) composeOptions(c *cli.Context) compose.Options {
	return compose.Options{
		Files:         c.StringSlice("file"),
		WorkingDir:    c.String("project-directory"),
		ProjectName:   c.String("project-name"),
		Profiles:      c.StringSlice("profile"),
		ExtraProfiles: e.extraProfiles,
		EnvFiles:      c.StringSlice("env-file"),
		Environ:       os.Environ(),
		Stdin:         e.stdin,
		Warn:          e.stderr,
		// `config`'s own switches (no other command defines them)
		NoNormalize:    c.Bool("no-normalize"),
		NoResolvePaths: c.Bool("no-path-resolution"),
		NoConsistency:  c.Bool("no-consistency"),
		NoResolveEnv:   c.Bool("no-env-resolution"),
		AllResources:   c.Bool("all-resources"),
	}
}

// projectName is the project's name without needing a valid file when -p
// is given (down after the compose file changed or vanished).
func (e *env) projectName(c *cli.Context) (string, error) {
	if n := c.String("project-name"); n != "" {
		return n, nil
	}
	p, err := e.existingProject(c)
	if err != nil {
		return "", err
	}
	return p.Name, nil
}
