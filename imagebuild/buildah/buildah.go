package buildah

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	libbuildah "github.com/containers/buildah"
	"github.com/containers/buildah/define"
	"github.com/containers/buildah/imagebuildah"
	"github.com/containers/buildah/pkg/parse"
	nettypes "github.com/containers/common/libnetwork/types"
	"github.com/containers/common/pkg/config"
	"github.com/containers/storage"
	"github.com/containers/storage/pkg/unshare"

	"github.com/cirun-dev/cirun/imagebuild"
)

// Reexec must be the first call in main: `if buildah.Reexec() { return }`.
// It returns true when this process was started by buildah as a helper (to
// copy layers and the like) and has done its work. For a non-root user it
// also re-executes the program in a user namespace, as podman and buildah do.
func Reexec() bool {
	if libbuildah.InitReexec() {
		return true
	}
	if os.Geteuid() != 0 {
		unshare.MaybeReexecUsingUserNamespace(false)
	}
	return false
}

// Options configure a Builder.
type Options struct {
	// GraphRoot, RunRoot and GraphDriver select the containers-storage
	// store (set GraphRoot and RunRoot together). All empty, the default,
	// means the current user's default store, the one Podman uses, so
	// Podman sees built images at once.
	GraphRoot   string
	RunRoot     string
	GraphDriver string
	// Runtime is the OCI runtime for RUN steps. Empty picks runc from PATH
	// when installed (crun fails on hosts with hybrid cgroups), else the
	// containers.conf default.
	Runtime string
	// Logf receives debug messages (store location, per-step timings),
	// from concurrent builds at once; nil discards them.
	Logf func(format string, args ...any)
}

var _ imagebuild.Builder = (*Builder)(nil)

// Builder builds images with the Buildah library on one store. It is safe
// for concurrent use; Close it when done.
type Builder struct {
	store     storage.Store
	logf      func(format string, args ...any)
	runtime   string
	isolation define.Isolation
	ulimits   []string
	shmSize   string
	network   nettypes.ContainerNetwork
	// registries holds registries.conf drop-ins for insecure cache hosts.
	registries registriesConf

	mu     sync.RWMutex // Build holds it for reading, Close for writing
	closed bool
}

// New opens the store and prepares build settings.
func New(opts Options) (*Builder, error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	start := time.Now()
	storeOpts, err := storage.DefaultStoreOptionsAutoDetectUID()
	if err != nil {
		return nil, fmt.Errorf("reading containers-storage defaults: %w", err)
	}
	if opts.GraphRoot != "" {
		storeOpts.GraphRoot = opts.GraphRoot
	}
	if opts.RunRoot != "" {
		storeOpts.RunRoot = opts.RunRoot
	}
	if opts.GraphDriver != "" {
		storeOpts.GraphDriverName = opts.GraphDriver
	}
	store, err := storage.GetStore(storeOpts)
	if err != nil {
		return nil, fmt.Errorf("opening image store %s: %w", storeOpts.GraphRoot, err)
	}
	logf("opened store %s (run root %s, driver %s) in %s; private mount namespace: %v",
		store.GraphRoot(), store.RunRoot(), store.GraphDriverName(), time.Since(start), PrivateMountNamespace())

	isolation, err := parse.IsolationOption("")
	if err != nil {
		store.Shutdown(false) //nolint:errcheck // already failing
		return nil, fmt.Errorf("choosing build isolation: %w", err)
	}
	conf, err := config.Default()
	if err != nil {
		store.Shutdown(false) //nolint:errcheck // already failing
		return nil, fmt.Errorf("reading containers.conf: %w", err)
	}
	runtime := opts.Runtime
	if runtime == "" {
		if path, err := exec.LookPath("runc"); err == nil {
			runtime = path
		}
	}
	ulimits, err := clampUlimits(conf.Containers.DefaultUlimits.Get())
	if err != nil {
		store.Shutdown(false) //nolint:errcheck // already failing
		return nil, fmt.Errorf("reading default ulimits: %w", err)
	}
	netInt, err := networkInterface(store, conf)
	if err != nil {
		store.Shutdown(false) //nolint:errcheck // already failing
		return nil, fmt.Errorf("setting up the network backend for RUN steps: %w", err)
	}
	return &Builder{
		store:     store,
		logf:      logf,
		runtime:   runtime,
		isolation: isolation,
		ulimits:   ulimits,
		shmSize:   conf.Containers.ShmSize,
		network:   netInt,
	}, nil
}

// Close waits for running builds, then shuts the store down. Layers
// mounted by others (Podman's running containers share the store) are left
// alone; the builder's own build containers are gone by then.
func (b *Builder) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	b.registries.close()
	mounted, err := b.store.Shutdown(false)
	if errors.Is(err, storage.ErrLayerUsedByContainer) {
		b.logf("store shut down; %d layers stay mounted by other users", len(mounted))
		return nil
	}
	if err != nil {
		return fmt.Errorf("shutting down image store: %w", err)
	}
	return nil
}

// Build builds one image and tags it with every req.Tags.
func (b *Builder) Build(ctx context.Context, req imagebuild.Request) (imagebuild.Result, error) {
	start := time.Now()
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return imagebuild.Result{}, fmt.Errorf("building %s: builder is closed", req.Service)
	}
	if err := checkSupported(req); err != nil {
		return imagebuild.Result{}, err
	}
	df, err := resolveDockerfile(req)
	if err != nil {
		return imagebuild.Result{}, err
	}
	defer df.cleanup()

	p := newProgress(req.Service, req.ProgressMode, req.Progress, df.display, df.instrs)
	p.debugf = b.logf
	out, errOut := p.writer(), p.writer()
	opts, cleanup, err := b.buildOptions(req, p, out, errOut)
	if err != nil {
		return imagebuild.Result{}, err
	}
	defer cleanup()
	// With an ID file buildah neither prints "--> <id>" after each step nor
	// the final ID on the output stream, which would read as step output.
	// The ID comes back from BuildDockerfiles anyway.
	opts.IIDFile = os.DevNull
	b.logf("%s: preparing the build took %s", req.Service, time.Since(start))
	id, _, err := imagebuildah.BuildDockerfiles(ctx, guardedStore{b.store}, opts, df.path)
	out.flush()
	errOut.flush()
	if err != nil {
		err = p.fail(err, ctx.Err() != nil)
		if ctx.Err() != nil {
			// buildah notices cancellation only between steps or while
			// committing; report the cancellation, not its side effects.
			return imagebuild.Result{}, fmt.Errorf("building %s: %w", req.Service, ctx.Err())
		}
		return imagebuild.Result{}, err
	}
	p.done()
	b.logf("%s: buildah finished %s after the start", req.Service, time.Since(start))

	res := imagebuild.Result{ImageID: id}
	res.Steps, res.CacheHits = p.counts()
	if size, err := b.store.ImageSize(id); err == nil {
		res.Size = size
	} else {
		b.logf("%s: size of image %s: %v", req.Service, id, err)
	}
	if req.Registry != "" {
		for _, tag := range req.Tags {
			if err := b.push(ctx, req, p, id, imagebuild.RegistryRef(req.Registry, normalizeName(tag))); err != nil {
				return res, err
			}
		}
	}
	res.Duration = time.Since(start)
	name := ""
	if len(req.Tags) > 0 {
		name = normalizeName(req.Tags[0])
	}
	p.summary(name, res)
	return res, nil
}
