package engine

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"time"
)

// Sentinel errors. Adapters wrap their own errors so that callers can match
// these with errors.Is.
var (
	// ErrNotFound: the container, image, network or volume does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the name is already in use, or the object is in use.
	ErrConflict = errors.New("conflict")
	// ErrNotRunning: the operation needs a running container.
	ErrNotRunning = errors.New("container is not running")
)

// Engine is everything cirun asks of a container engine. The Podman adapter
// (engine/podman) implements it over Podman's REST API; engine/fake
// implements it in memory for unit tests. engine/enginetest holds the
// conformance suite both must pass.
type Engine interface {
	Images
	Networks
	Volumes
	Containers
	Files
	EventStream
	// Info describes the engine (for `cirun doctor` and `version`).
	Info(ctx context.Context) (Info, error)
}

// Info describes the engine the adapter talks to.
type Info struct {
	Name       string // "podman"
	Version    string // server version, e.g. "4.3.1"
	APIVersion string
	Rootless   bool
	Runtime    string // OCI runtime, e.g. "runc"
	Storage    string // graph driver, e.g. "overlay"
	Network    string // network backend, e.g. "netavark"
	Endpoint   string // URI cirun connected to
}

// Images manages images in the engine's local storage.
type Images interface {
	// ImageExists reports whether ref resolves to a local image.
	ImageExists(ctx context.Context, ref string) (bool, error)
	// InspectImage returns the local image ref; ErrNotFound if missing.
	InspectImage(ctx context.Context, ref string) (Image, error)
	// PullImage pulls ref into local storage.
	PullImage(ctx context.Context, ref string, opts PullOptions) error
	// RemoveImage removes a local image (by reference or ID).
	RemoveImage(ctx context.Context, ref string, force bool) error
	// PushImage pushes the local image ref to its registry; ErrNotFound if
	// there is no such local image.
	PushImage(ctx context.Context, ref string, opts PushOptions) error
}

// PushOptions tune PushImage.
type PushOptions struct {
	SkipTLSVerify bool
	Quiet         bool
	Progress      io.Writer // push progress lines, nil for none
}

// Image is a local image.
type Image struct {
	ID          string
	Tags        []string
	Labels      map[string]string
	Healthcheck *Healthcheck // HEALTHCHECK from the image config, nil if none
	Size        int64
	Created     time.Time
	// Volumes are the image's VOLUME paths, sorted.
	Volumes []string
}

// PullOptions tune PullImage.
type PullOptions struct {
	SkipTLSVerify bool
	Quiet         bool
	Platform      string
	Progress      io.Writer // pull progress lines, nil for none
}

// Networks manages networks.
type Networks interface {
	CreateNetwork(ctx context.Context, spec NetworkSpec) error
	// InspectNetwork returns the network name; ErrNotFound if missing.
	InspectNetwork(ctx context.Context, name string) (Network, error)
	// ListNetworks returns the networks carrying every label in f.Labels.
	ListNetworks(ctx context.Context, f Filter) ([]Network, error)
	// RemoveNetwork removes a network; ErrNotFound if missing.
	RemoveNetwork(ctx context.Context, name string) error
}

// NetworkSpec describes a network to create.
type NetworkSpec struct {
	Name     string
	Driver   string // "" = bridge
	Labels   map[string]string
	Internal bool
	IPv6     bool
	Subnets  []Subnet
	Options  map[string]string
}

// Subnet is one IPAM entry of a network.
type Subnet struct {
	Subnet  string // CIDR
	Gateway string
	IPRange string
}

// Network is an existing network.
type Network struct {
	ID       string
	Name     string
	Driver   string
	Labels   map[string]string
	Internal bool
	Subnets  []Subnet
}

// Volumes manages named volumes.
type Volumes interface {
	CreateVolume(ctx context.Context, spec VolumeSpec) error
	// InspectVolume returns the volume; ErrNotFound if missing.
	InspectVolume(ctx context.Context, name string) (Volume, error)
	ListVolumes(ctx context.Context, f Filter) ([]Volume, error)
	// RemoveVolume removes a volume; ErrNotFound if missing.
	RemoveVolume(ctx context.Context, name string, force bool) error
}

// VolumeSpec describes a named volume to create.
type VolumeSpec struct {
	Name    string
	Driver  string
	Labels  map[string]string
	Options map[string]string
}

// Volume is an existing named volume.
type Volume struct {
	Name       string
	Driver     string
	Labels     map[string]string
	Mountpoint string
}

// Filter selects objects by label; every label must match (a value of ""
// matches any value of that key).
type Filter struct {
	Labels map[string]string
	All    bool // containers: include stopped ones
}

// ContainerLister reads containers: all `ps` and `ls` need, which cirun's
// front binary serves without the Podman bindings (engine/podman/rest).
type ContainerLister interface {
	// ListContainers lists containers carrying every label in f.
	ListContainers(ctx context.Context, f Filter) ([]Container, error)
	// InspectContainer returns the container's current state.
	InspectContainer(ctx context.Context, id string) (Container, error)
}

// Containers manages containers.
type Containers interface {
	// CreateContainer creates (does not start) a container and returns its ID.
	// A name already in use gives ErrConflict; a missing image ErrNotFound.
	CreateContainer(ctx context.Context, spec *ContainerSpec) (string, error)
	StartContainer(ctx context.Context, id string) error
	// StartAttached attaches to a created container, starts it, and copies
	// its output to s until the output ends (the container exited or ctx is
	// done). It does not wait for or report the exit code: call WaitContainer.
	StartAttached(ctx context.Context, id string, s Streams) error
	// StopContainer sends the stop signal, then SIGKILL after timeout.
	StopContainer(ctx context.Context, id string, timeout time.Duration) error
	KillContainer(ctx context.Context, id string, signal string) error
	PauseContainer(ctx context.Context, id string) error
	UnpauseContainer(ctx context.Context, id string) error
	// RemoveContainer removes a container; with Force a running one too.
	RemoveContainer(ctx context.Context, id string, opts RemoveOptions) error
	ContainerLister
	// WaitContainer blocks until the container is no longer running and
	// returns its exit code.
	WaitContainer(ctx context.Context, id string) (int, error)
	// ContainerLogs writes the container's logs to stdout/stderr.
	ContainerLogs(ctx context.Context, id string, opts LogOptions, stdout, stderr io.Writer) error
	// RunHealthCheck runs the container's configured healthcheck once and
	// records the result in the engine (the engine's health status, failing
	// streak and log follow it).
	RunHealthCheck(ctx context.Context, id string) (HealthResult, error)
	// Exec runs a command in a running container and returns its exit code.
	// ErrNotRunning if the container is not running.
	Exec(ctx context.Context, id string, spec ExecSpec) (int, error)
	// TopContainer lists the processes of a running container, as `ps`
	// shows them (psArgs are ps options; none means the engine's default).
	// ErrNotRunning if the container is not running.
	TopContainer(ctx context.Context, id string, psArgs ...string) (Processes, error)
}

// Processes is the process table of a container: Titles are the column
// names ("UID", "PID", ..., "CMD"), each row has one cell per title.
type Processes struct {
	Titles []string
	Rows   [][]string
}

// Files copies files in and out of containers (running or not) as tar
// archives, as `docker cp` does.
type Files interface {
	// StatPath describes path in the container (symlinks not followed);
	// ErrNotFound if it does not exist.
	StatPath(ctx context.Context, id, path string) (PathStat, error)
	// CopyFrom writes a tar archive of path to w; its entries are named
	// after path's base name ("file.txt", "dir/", "dir/a", ...).
	// ErrNotFound if path does not exist.
	CopyFrom(ctx context.Context, id, path string, w io.Writer) error
	// CopyTo extracts the tar archive r into the directory dir of the
	// container, creating dir if it is missing (as Podman does).
	CopyTo(ctx context.Context, id, dir string, r io.Reader) error
}

// PathStat describes a path in a container.
type PathStat struct {
	Name       string
	Size       int64
	Mode       fs.FileMode // type bits included: Mode.IsDir()
	ModTime    time.Time
	LinkTarget string // for symlinks
}

// EventStream streams the engine's container events.
type EventStream interface {
	// ContainerEvents calls fn with each container event matching f, in
	// order, until ctx is done (then it returns nil), f.Until passes, or fn
	// returns an error (which it returns).
	ContainerEvents(ctx context.Context, f EventFilter, fn func(ContainerEvent) error) error
}

// EventFilter selects container events.
type EventFilter struct {
	// Labels every event's container must carry ("" matches any value).
	Labels map[string]string
	// Since replays past events from that time; zero means only new ones.
	Since time.Time
	// Until ends the stream at that time; zero means never.
	Until time.Time
}

// ContainerEvent is one state change of a container, in docker's terms.
type ContainerEvent struct {
	Time time.Time
	// Action is docker's word: create, start, die, stop, kill, pause,
	// unpause, restart, destroy, exec_create, health_status, ...
	Action string
	ID     string
	Name   string
	Image  string
	// Attributes are the container's labels plus "name" and "image" (and
	// "exitCode" on die), as docker's Actor.Attributes.
	Attributes map[string]string
}

// Streams are the standard streams of an attached container or exec.
type Streams struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// RemoveOptions tune RemoveContainer.
type RemoveOptions struct {
	Force   bool          // remove even if running (kill first)
	Volumes bool          // remove anonymous volumes too
	Timeout time.Duration // with Force: stop timeout before kill (0 = kill now)
}

// LogOptions tune ContainerLogs.
type LogOptions struct {
	Follow     bool
	Tail       int // last N lines; 0 = all
	Timestamps bool
	Since      time.Time // zero: from the start
	Until      time.Time // zero: to the end (or on, with Follow)
}

// ExecSpec is a command to run in a container.
type ExecSpec struct {
	Cmd        []string
	Env        []string
	User       string
	WorkDir    string
	Tty        bool
	Privileged bool
	// Detach starts the command and returns at once with exit code 0,
	// without streams.
	Detach  bool
	Streams Streams // nil writers discard output
}

// HealthResult is the outcome of one RunHealthCheck.
type HealthResult struct {
	Status        string // HealthStarting, HealthHealthy or HealthUnhealthy
	FailingStreak int
	ExitCode      int
	Output        string
}

// Health status values, as docker and podman spell them.
const (
	HealthStarting  = "starting"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
)

// Container states, as docker and podman spell them.
const (
	StateCreated    = "created"
	StateRunning    = "running"
	StatePaused     = "paused"
	StateExited     = "exited"
	StateStopped    = "stopped" // podman: stopped but not yet marked exited
	StateRemoving   = "removing"
	StateConfigured = "configured" // podman: created, storage not yet set up
)

// Container is an existing container.
type Container struct {
	ID       string
	Name     string
	Image    string // reference the container was created from
	ImageID  string
	Labels   map[string]string
	State    string // one of the State* values
	ExitCode int
	Health   string // "" when the container has no healthcheck
	// Healthcheck is the check the container was created with, nil if none.
	Healthcheck *Healthcheck
	Created     time.Time
	StartedAt   time.Time
	FinishedAt  time.Time
	Ports       []PortMapping
	Networks    []string
	Command     []string
	// IPs are the container's IPv4 addresses by network name, from
	// InspectContainer only.
	IPs map[string]string
	// Mounts are the container's mounts, from InspectContainer only (a
	// list leaves them nil): a volume's Source is its name, an anonymous
	// volume's too.
	Mounts []Mount
}

// Running reports whether the container's processes are running (a paused
// container counts as running, as docker reports it).
func (c Container) Running() bool {
	return c.State == StateRunning || c.State == StatePaused
}

// Exited reports whether the container ran and stopped.
func (c Container) Exited() bool {
	return c.State == StateExited || c.State == StateStopped
}
