package imagebuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Builder builds one image from a build context.
type Builder interface {
	Build(ctx context.Context, req Request) (Result, error)
}

// Request is one image build, in compose's `build:` terms.
type Request struct {
	// Service names the compose service (for progress prefixes and errors).
	Service string
	// ContextDir is the absolute path of the build context directory.
	ContextDir string
	// Dockerfile is the Dockerfile path (absolute, or relative to
	// ContextDir); "" means Containerfile or Dockerfile in ContextDir.
	Dockerfile string
	// DockerfileInline is the Dockerfile's content, used instead of Dockerfile.
	DockerfileInline string
	// Tags name the image; the first is the primary name.
	Tags   []string
	Args   map[string]*string // nil value: take from the environment / ARG default
	Target string
	Labels map[string]string
	// NoCache disables the layer cache; Pull always pulls base images.
	NoCache bool
	Pull    bool
	// Network mode for RUN steps: "" (default), "host", "none".
	Network    string
	ExtraHosts []string // "HOST:IP"
	ShmSize    int64
	// CacheFrom / CacheTo are registry repositories holding layer cache.
	CacheFrom []string
	CacheTo   []string
	Secrets   []Secret
	SSH       []string // "default" or "ID=path"
	// AdditionalContexts maps names (for COPY --from / FROM) to directories
	// or image references.
	AdditionalContexts map[string]string
	Platforms          []string
	// Progress is where step lines go (stderr in the CLI); nil discards.
	Progress io.Writer
	// ProgressMode is "plain" (step output streamed), "quiet" or "tty".
	ProgressMode string
}

// Secret is a build secret mounted by `RUN --mount=type=secret,id=ID`.
type Secret struct {
	ID     string
	File   string // host file holding the secret
	EnvVar string // or: environment variable holding it
}

// Result describes a finished build.
type Result struct {
	ImageID   string
	Steps     int
	CacheHits int
	Duration  time.Duration
	Size      int64
}

// ErrUnsupported is wrapped by errors for `build:` keys a Builder does not
// implement; the message names the service and the compose key.
var ErrUnsupported = errors.New("not supported")

// StepError is a build that failed in one Dockerfile instruction.
type StepError struct {
	Service     string
	Step        int    // step number as shown in progress lines (#N)
	Instruction string // e.g. "RUN make test"
	File        string // Dockerfile path, or "dockerfile_inline"
	Line        int    // 1-based line of the instruction; 0 if unknown
	Output      []string
	Err         error
}

// Error names the step, where it is in the Dockerfile and what it printed last.
func (e *StepError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "building %s: step #%d %s", e.Service, e.Step, e.Instruction)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (%s:%d)", e.File, e.Line)
	} else if e.File != "" {
		fmt.Fprintf(&b, " (%s)", e.File)
	}
	fmt.Fprintf(&b, " failed: %v", e.Err)
	if len(e.Output) > 0 {
		b.WriteString("\nlast output:")
		for _, l := range e.Output {
			b.WriteString("\n  | ")
			b.WriteString(l)
		}
	}
	return b.String()
}

// Unwrap returns the underlying build error.
func (e *StepError) Unwrap() error { return e.Err }
