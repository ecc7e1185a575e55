package imagebuild

import (
	"context"
	"io"
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
