package podman

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containers/podman/v4/pkg/bindings"

	"github.com/cirun-dev/cirun/engine/podman/rest"
)

// Options configure New.
type Options struct {
	// Host is the service URI (unix:///path, tcp://host:port, ssh://...).
	// Empty: CONTAINER_HOST, then a running system socket, then cirun's own
	// service.
	Host string
	// ServiceIdle is how long cirun's own service lingers without requests
	// before it exits (podman system service --time). 0 means
	// DefaultServiceIdle; a negative value means it never exits.
	ServiceIdle time.Duration
	// ServiceDir is where cirun's own service keeps its socket,
	// containers.conf, lock and log; empty means rest.ServiceDir(). When set,
	// New does not look for a system socket.
	ServiceDir string
	// Logf, when set, receives progress messages (which endpoint was chosen,
	// service start-up). cirun's engine is silent otherwise.
	Logf func(format string, args ...any)
}

// DefaultServiceIdle is how long cirun's own service lingers by default.
const DefaultServiceIdle = 120 * time.Second

// serviceStartTimeout bounds the wait for a freshly started service's socket.
const serviceStartTimeout = 30 * time.Second

func (o Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// New connects to a Podman service, starting cirun's own when none runs
// (see the package documentation for the order).
func New(ctx context.Context, opts Options) (*Engine, error) {
	uri, source := opts.Host, SourceOption
	if uri == "" {
		if v := os.Getenv("CONTAINER_HOST"); v != "" {
			uri, source = v, SourceEnv
		}
	}
	if uri != "" {
		return connect(ctx, uri, source, opts, nil)
	}
	if sock := rest.SystemSocket(); opts.ServiceDir == "" && sock != "" && rest.Probe(ctx, sock) == nil {
		return connect(ctx, "unix://"+sock, SourceSystem, opts, nil)
	}
	svc, err := newService(opts)
	if err != nil {
		return nil, err
	}
	if err := svc.ensure(ctx); err != nil {
		return nil, err
	}
	return connect(ctx, "unix://"+svc.sock, SourceOwn, opts, svc)
}

// connect opens a bindings connection to uri. With svc, dials that fail
// because the service went away (idle exit) restart it.
func connect(ctx context.Context, uri, source string, opts Options, svc *service) (*Engine, error) {
	conn, err := bindings.NewConnection(ctx, uri)
	if err != nil {
		return nil, fmt.Errorf("connecting to podman at %s (%s): %w", uri, source, err)
	}
	c, err := bindings.GetClient(conn)
	if err != nil {
		return nil, fmt.Errorf("connecting to podman at %s (%s): %w", uri, source, err)
	}
	if svc != nil {
		c.Client.Transport = &http.Transport{DialContext: svc.dial, DisableCompression: true}
	}
	opts.logf("podman: connected to %s (%s)", uri, source)
	return &Engine{conn: conn, endpoint: uri, source: source, opts: opts, svc: svc, rest: rest.New(c.Client, c.URI)}, nil
}

// service is cirun's own `podman system service`.
type service struct {
	dir, sock, conf, lock, log, pid string
	idle                            time.Duration
	opts                            Options

	mu sync.Mutex // serialises ensure within this process
}

func newService(opts Options) (*service, error) {
	dir := opts.ServiceDir
	if dir == "" {
		dir = rest.ServiceDir()
	}
	idle := opts.ServiceIdle
	if idle == 0 {
		idle = DefaultServiceIdle
	}
	return &service{
		dir:  dir,
		sock: filepath.Join(dir, "podman.sock"),
		conf: filepath.Join(dir, "containers.conf"),
		lock: filepath.Join(dir, "service.lock"),
		log:  filepath.Join(dir, "podman.log"),
		pid:  filepath.Join(dir, "podman.pid"),
		idle: idle,
		opts: opts,
	}, nil
}

// dial is the connection's dialer: when the socket is gone or refuses (the
// service exited after idling), it starts the service again and redials.
func (s *service) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", s.sock)
	if err == nil || !(errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)) {
		return c, err
	}
	if err := s.ensure(ctx); err != nil {
		return nil, err
	}
	return d.DialContext(ctx, "unix", s.sock)
}

// ensure makes sure the service answers, starting it if needed. A lock
// file keeps two cirun processes from starting it at once.
func (s *service) ensure(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rest.Probe(ctx, s.sock) == nil {
		return nil
	}
	if err := s.prepareDir(); err != nil {
		return err
	}
	unlock, err := lockFile(ctx, s.lock, serviceStartTimeout)
	if err != nil {
		return fmt.Errorf("locking %s: %w", s.lock, err)
	}
	defer unlock()
	// Another cirun may have started it while we waited for the lock.
	if rest.Probe(ctx, s.sock) == nil {
		return nil
	}
	return s.start(ctx)
}

// prepareDir creates the service directory, private to the user.
func (s *service) prepareDir() error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("creating podman service directory: %w", err)
	}
	fi, err := os.Lstat(s.dir)
	if err != nil {
		return fmt.Errorf("checking podman service directory: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || (ok && int(st.Uid) != os.Geteuid()) {
		return fmt.Errorf("podman service directory %s is not a directory owned by uid %d", s.dir, os.Geteuid())
	}
	return nil
}

// ContainersConf returns the containers.conf cirun's own service runs
// with: no default ulimits (podman's defaults fail with EPERM in some
// containers and CI sandboxes), the k8s-file log driver (logs work without
// journald), runc when installed (crun fails on hybrid cgroups), and a
// short exit_command_delay (see ExecCleanupDelay).
func ContainersConf() string {
	var b strings.Builder
	b.WriteString("# Written by cirun for its own podman service; rewritten at each start.\n")
	b.WriteString("[containers]\ndefault_ulimits = []\nlog_driver = \"k8s-file\"\n")
	b.WriteString("\n[engine]\n")
	fmt.Fprintf(&b, "exit_command_delay = %d\n", int(ExecCleanupDelay/time.Second))
	if p := runcPath(); p != "" {
		b.WriteString("runtime = \"runc\"\n")
	}
	return b.String()
}

// ExecCleanupDelay is how long the conmon of a finished exec session (a
// readiness probe, `cirun exec`) waits before it removes the session and
// exits. Podman's default, 300 s, kept two conmon processes per probe
// alive for five minutes after their project was gone; cirun reads an exec's
// exit code as soon as its output ends, so a few seconds suffice.
const ExecCleanupDelay = 10 * time.Second

// runcPath returns where runc is installed, "" if it is not.
func runcPath() string {
	for _, p := range []string{"/usr/bin/runc", "/usr/sbin/runc", "/usr/local/bin/runc", "/usr/local/sbin/runc", "/sbin/runc", "/bin/runc"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath("runc"); err == nil {
		return p
	}
	return ""
}

// start launches the service detached and waits for its socket.
func (s *service) start(ctx context.Context) error {
	podman, err := exec.LookPath("podman")
	if err != nil {
		return fmt.Errorf("starting a podman service: podman is not installed (apt-get install podman): %w", err)
	}
	if err := writeFileAtomic(s.conf, []byte(ContainersConf()), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", s.conf, err)
	}
	if err := os.Remove(s.sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing stale socket %s: %w", s.sock, err)
	}
	logFile, err := openLog(s.log)
	if err != nil {
		return err
	}
	defer logFile.Close()

	idle := "0"
	if s.idle > 0 {
		idle = strconv.FormatUint(uint64(seconds(s.idle)), 10)
	}
	cmd := exec.Command(podman, "system", "service", "--time="+idle, "unix://"+s.sock)
	if f := hostMountNS(); f != nil {
		// This cirun runs in a private mount namespace (imagebuild/buildah
		// moves root processes there for safe builds). The service must not
		// inherit it: the network namespaces and mounts of its containers
		// would be invisible to the host (`podman ps` fails, "unknown FS
		// magic" on /run/netns). nsenter puts it back in the host's.
		if nsenter, err := exec.LookPath("nsenter"); err == nil {
			cmd = exec.Command(nsenter, append([]string{"--mount=/proc/self/fd/3", "--", podman}, cmd.Args[1:]...)...)
			cmd.ExtraFiles = []*os.File{f}
		}
	}
	cmd.Env = append(filterEnv(os.Environ(), "CONTAINERS_CONF", "CONTAINER_HOST", "CONTAINER_CONNECTION", "_CIRUN_MOUNT_NS", hostMountNSEnv), "CONTAINERS_CONF="+s.conf)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own session: Ctrl-C to cirun's process group must not stop it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s system service: %w", podman, err)
	}
	_ = os.WriteFile(s.pid, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reaps it if it exits while cirun runs

	deadline := time.NewTimer(serviceStartTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if rest.Probe(ctx, s.sock) == nil {
			s.opts.logf("podman: started service %s (pid %d, idle exit %ss, log %s) in %v",
				s.sock, cmd.Process.Pid, idle, s.log, time.Since(started).Round(time.Millisecond))
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("podman system service exited at start (%v); its log %s ends: %s", err, s.log, logTail(s.log, 5))
		case <-deadline.C:
			return fmt.Errorf("podman system service did not answer on %s within %v; see %s", s.sock, serviceStartTimeout, s.log)
		case <-ctx.Done():
			return fmt.Errorf("waiting for podman system service: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// servicePID returns the PID recorded for the own service in dir, 0 if
// none.
func servicePID(dir string) int {
	data, err := os.ReadFile(filepath.Join(dir, "podman.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid
}

// lockFile takes an exclusive flock on path, polling until timeout.
func lockFile(ctx context.Context, path string, timeout time.Duration) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("still held by another process after %v", timeout)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// openLog opens the service log for appending, starting afresh when it has
// grown past 1 MiB.
func openLog(path string) (*os.File, error) {
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if fi, err := os.Stat(path); err == nil && fi.Size() > 1<<20 {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening podman service log: %w", err)
	}
	fmt.Fprintf(f, "--- cirun starts podman system service at %s\n", time.Now().Format(time.RFC3339))
	return f, nil
}

func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// filterEnv drops the named variables from env.
func filterEnv(env []string, names ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			if k == n {
				drop = true
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// hostMountNSEnv is imagebuild/buildah's HostMountNSEnv (this package must not
// import the build adapter): the descriptor of the host's mount namespace.
const hostMountNSEnv = "_CIRUN_HOST_MNTNS_FD"

var (
	hostNSOnce sync.Once
	hostNSFile *os.File
)

// hostMountNS returns the host's mount namespace when this process runs in a
// private one, else nil. The file is kept open for the process's life.
func hostMountNS() *os.File {
	hostNSOnce.Do(func() {
		fd, err := strconv.Atoi(os.Getenv(hostMountNSEnv))
		if err != nil || fd < 0 {
			return
		}
		hostNSFile = os.NewFile(uintptr(fd), "host-mount-ns")
	})
	return hostNSFile
}
