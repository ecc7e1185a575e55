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
	// CacheFrom / CacheTo are registry repositories holding layer cache:
	// "HOST/REPO" or compose's "type=registry,ref=HOST/REPO" (a tag is
	// ignored: the cache's tags are the steps' cache keys).
	CacheFrom []string
	CacheTo   []string
	Secrets   []Secret
	SSH       []string // "default" or "ID=path[,path...]"
	// AdditionalContexts maps names (for COPY --from / FROM / RUN
	// --mount=from=) to absolute directory paths, or to images as
	// "docker-image://REF" (the runner turns compose's "service:NAME" into
	// that service's image).
	AdditionalContexts map[string]string
	Platforms          []string
	// Registry is a registry "HOST[:PORT]" used as shared build cache and
	// image exchange ("" for none): the layer cache is read from and written
	// to its CacheRepo repository, and the built image is pushed there
	// under each tag's repository path (RegistryRef).
	Registry string
	// InsecureRegistry allows plain HTTP and unverified TLS for Registry
	// and cache repositories that are not on a loopback address (loopback
	// ones always may).
	InsecureRegistry bool
	// Progress is where step lines go (stderr in the CLI); nil discards.
	Progress io.Writer
	// ProgressMode is "plain" (step output streamed), "quiet" or "tty".
	ProgressMode string
}

// Secret is a build secret mounted by `RUN --mount=type=secret,id=ID`.
// Exactly one source is set.
type Secret struct {
	ID     string
	File   string // host file holding the secret
	EnvVar string // or: environment variable holding it
	// Value is the secret itself (compose's `environment:` source, which
	// the loader resolves from the project's environment).
	Value *string
}

// CacheRepo is the repository of a registry used as shared build cache:
// one repository for every image, tagged by content-derived cache keys,
// so agents reuse layers whatever the project or image is called.
const CacheRepo = "cirun/cache"

// RegistryRef is where a build with Registry pushes the image tagged tag:
// the tag's repository path (without its registry) under registry.
// "localhost/proj-app:latest" on "127.0.0.1:5000" is
// "127.0.0.1:5000/proj-app:latest".
func RegistryRef(registry, tag string) string {
	name := tag
	if first, rest, ok := strings.Cut(tag, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		name = rest
	}
	last := name[strings.LastIndex(name, "/")+1:]
	if !strings.Contains(last, ":") && !strings.Contains(last, "@") {
		name += ":latest"
	}
	return strings.TrimSuffix(registry, "/") + "/" + name
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
