package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/distribution/distribution/v3/registry/storage"
	// The filesystem driver also registers itself with distribution's driver factory.
	"github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

// DefaultAddr is the address the registry listens on when Config.Addr is empty.
const DefaultAddr = "127.0.0.1:5000"

// shutdownTimeout bounds how long Serve waits for in-flight requests once its
// context is done before closing their connections.
const shutdownTimeout = 10 * time.Second

// envPrefix is the prefix of environment variables that override
// distribution's configuration (e.g. CIRUNDISTRIBUTION_STORAGE_...).
// distribution's own prefix, REGISTRY_, is deliberately not honoured: CI
// environments commonly define REGISTRY_USER or REGISTRY_PASSWORD, which would
// otherwise change the embedded server or log warnings.
const envPrefix = "cirundistribution"

// ErrRootInUse is returned when another server or GC holds the storage root.
var ErrRootInUse = errors.New("registry storage root is in use by another cirun process")

// Config configures a Server.
type Config struct {
	// Addr is the TCP address to listen on; DefaultAddr when empty. Port 0
	// picks a free port (see Server.Addr).
	Addr string
	// Root is the storage directory; it is created if missing. Data written
	// there survives restarts.
	Root string
	// Log receives one line per request and server errors; nil discards them.
	Log io.Writer
	// Quiet drops the per-request lines; server errors (5xx) are still logged.
	Quiet bool
}

// Server is a running-or-ready embedded registry. New binds the listener and
// locks the storage root; Serve serves until its context is done, and Close
// releases everything when Serve is never called.
type Server struct {
	cfg     Config
	app     *handlers.App
	ln      net.Listener
	srv     *http.Server
	lock    *rootLock
	mu      sync.Mutex
	serving bool
	release sync.Once
}

// New validates cfg, locks the storage root, builds the distribution
// application and binds the listener, so that Addr is known on return.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if strings.TrimSpace(cfg.Root) == "" {
		return nil, errors.New("registry storage root is required")
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("invalid registry address %q: %w", cfg.Addr, err)
	}
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("resolving registry root %s: %w", cfg.Root, err)
	}
	cfg.Root = root
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("creating registry root: %w", err)
	}
	lock, err := lockRoot(root)
	if err != nil {
		return nil, err
	}
	dcfg, err := distributionConfig(root)
	if err != nil {
		lock.unlock()
		return nil, err
	}
	logs := newLogSink(cfg.Log)
	app, err := newApp(withLogger(context.Background(), logs.entry), dcfg)
	if err != nil {
		lock.unlock()
		return nil, err
	}
	ns, err := storage.NewRegistry(withLogger(context.Background(), logs.entry),
		filesystem.New(filesystem.DriverParameters{RootDirectory: root, MaxThreads: 100}))
	if err != nil {
		_ = app.Shutdown()
		lock.unlock()
		return nil, fmt.Errorf("opening registry storage: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		_ = app.Shutdown()
		lock.unlock()
		return nil, fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	s := &Server{cfg: cfg, app: app, ln: ln, lock: lock}
	s.srv = &http.Server{
		Handler:           accessLog(cfg.Log, cfg.Quiet, withRequestLogger(blobFiles{root: root, next: newReferrers(app, ns)}, logs.entry)),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(cfg.Log, "registry: ", 0),
	}
	return s, nil
}

// Addr returns the address the server listens on, with the actual port when
// Config.Addr asked for port 0.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Root returns the absolute storage directory.
func (s *Server) Root() string { return s.cfg.Root }

// Serve serves registry requests until ctx is done, then shuts down
// gracefully (in-flight requests get a few seconds) and releases the
// listener and the storage root. It returns nil after a shutdown caused by
// ctx, and the listener's error otherwise. A Server serves only once.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	if s.serving {
		s.mu.Unlock()
		return errors.New("registry server already served")
	}
	s.serving = true
	s.mu.Unlock()
	defer s.close()

	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serving registry on %s: %w", s.Addr(), err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := s.srv.Shutdown(sctx); err != nil {
			_ = s.srv.Close()
		}
		<-errc
		return nil
	}
}

// Close stops the server at once (dropping in-flight requests) and releases
// the listener and the storage root. It is safe to call more than once and
// after Serve returned.
func (s *Server) Close() error {
	err := s.srv.Close()
	s.close()
	return err
}

func (s *Server) close() {
	s.release.Do(func() {
		_ = s.ln.Close()
		_ = s.app.Shutdown()
		s.lock.unlock()
	})
}

// newApp builds the distribution application, turning its panics on bad
// configuration into errors.
func newApp(ctx context.Context, cfg *configuration.Configuration) (app *handlers.App, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("configuring registry: %v", r)
		}
	}()
	return handlers.NewApp(ctx, cfg), nil
}

// distributionConfig builds distribution's configuration from YAML (a struct
// literal would miss the defaults its parser fills in), without honouring
// distribution's REGISTRY_* environment variables.
func distributionConfig(root string) (*configuration.Configuration, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("generating registry upload secret: %w", err)
	}
	quotedRoot, err := json.Marshal(root) // a JSON string is a valid YAML scalar
	if err != nil {
		return nil, fmt.Errorf("encoding registry root: %w", err)
	}
	yml := fmt.Sprintf(`version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
  redirect:
    disable: true
http:
  secret: %q
validation:
  manifests:
    urls:
      allow: ["^https?://"]
catalog:
  maxentries: 1000
tags:
  maxtags: 1000
`, quotedRoot, hex.EncodeToString(secret))
	return parseConfig([]byte(yml))
}

func parseConfig(yml []byte) (*configuration.Configuration, error) {
	p := configuration.NewParser(envPrefix, []configuration.VersionedParseInfo{{
		Version: configuration.MajorMinorVersion(0, 1),
		ParseAs: reflect.TypeFor[configuration.Configuration](),
		ConversionFunc: func(c any) (any, error) {
			cfg, ok := c.(*configuration.Configuration)
			if !ok {
				return nil, fmt.Errorf("unexpected configuration type %T", c)
			}
			if cfg.Storage.Type() == "" {
				return nil, errors.New("no storage configured")
			}
			return cfg, nil
		},
	}})
	cfg := new(configuration.Configuration)
	if err := p.Parse(yml, cfg); err != nil {
		return nil, fmt.Errorf("parsing registry configuration: %w", err)
	}
	return cfg, nil
}
