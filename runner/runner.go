package runner

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/imagebuild"
)

// Options configure a Runner.
type Options struct {
	// Builder builds `build:` sections; nil means services with a build
	// section fail with a clear error.
	Builder imagebuild.Builder
	// Events receives progress; nil discards it.
	Events Events
	// Stdout gets container output and results; Stderr build progress.
	Stdout, Stderr io.Writer
	// Clock defaults to the real clock.
	Clock Clock
	// Version is cirun's version, written into labels.
	Version string
	// FastPoll is the pause between readiness probes (default 100 ms).
	FastPoll time.Duration
	// BuildProgress is "plain", "quiet" or "tty" for image builds.
	BuildProgress string
	// Registry is a registry "HOST[:PORT]" builds use as shared layer
	// cache and push their images to (`--registry`, CIRUN_REGISTRY); it
	// overrides the compose file's `x-cirun: {registry: ...}`. "" for none.
	Registry string
	// InsecureRegistry allows plain HTTP and unverified TLS to a
	// non-loopback Registry (loopback ones always may).
	InsecureRegistry bool
	// BuildKeyDir holds build keys (see buildkey.go); "" disables skipping
	// unchanged implicit rebuilds.
	BuildKeyDir string
	// RuntimeDir holds the files cirun mounts into containers (secrets
	// and configs), under projects/PROJECT/; `down` removes them. Default:
	// DefaultRuntimeDir().
	RuntimeDir string
}

// Runner orchestrates compose projects on an engine.
type Runner struct {
	eng  engine.Engine
	opts Options
}

// New returns a Runner over eng.
func New(eng engine.Engine, opts Options) *Runner {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Events == nil {
		opts.Events = func(Event) {}
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.RuntimeDir == "" {
		opts.RuntimeDir = DefaultRuntimeDir()
	}
	return &Runner{eng: eng, opts: opts}
}

func (r *Runner) event(kind, name, status, detail string) {
	r.opts.Events(Event{Kind: kind, Name: name, Status: status, Detail: detail, Time: r.opts.Clock.Now()})
}

// session is the state of one command on one project: what it created (so
// an interrupted run removes exactly that) and the health monitors it runs.
type session struct {
	r       *Runner
	project *types.Project

	mu       sync.Mutex
	created  []created
	monitors map[string]*monitor // by container ID
	images   map[string]*imageOnce
	cancel   context.CancelFunc // stops the monitors
	mctx     context.Context
	// hookLog, set by an attached up, is where a container's hook output
	// goes (nil: discarded).
	hookLog func(engine.Container) io.Writer
	// hookOutput, when an attached up will show hook output but has not
	// attached yet, keeps the post_start hooks' output until it does.
	hookOutput *[]hookRun
	// allResources: up creates every network and volume of the project
	allResources bool
}

type created struct {
	kind string // "container", "network", "volume"
	name string // container ID, network or volume name
}

type imageOnce struct {
	once sync.Once
	ref  string
	img  engine.Image
	err  error
}

func (r *Runner) newSession(p *types.Project) *session {
	ctx, cancel := context.WithCancel(context.Background())
	return &session{r: r, project: p, monitors: map[string]*monitor{}, images: map[string]*imageOnce{}, mctx: ctx, cancel: cancel}
}

func (s *session) track(kind, name string) {
	s.mu.Lock()
	s.created = append(s.created, created{kind, name})
	s.mu.Unlock()
}

// settle waits (a few seconds at most) until the engine has recorded every
// healthy status the session's monitors found by readiness probes.
func (s *session) settle() {
	ctx, cancel := context.WithTimeout(s.mctx, 5*time.Second)
	defer cancel()
	s.mu.Lock()
	ms := make([]*monitor, 0, len(s.monitors))
	for _, m := range s.monitors {
		ms = append(ms, m)
	}
	s.mu.Unlock()
	for _, m := range ms {
		m.waitRecorded(ctx)
	}
}

// close stops the health monitors.
func (s *session) close() {
	s.settle()
	s.cancel()
}
