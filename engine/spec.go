package engine

import (
	"strings"
	"time"
)

// ContainerSpec is everything cirun can ask for when creating a container.
// Adapters must turn every set field into the engine's equivalent or return
// an error naming the field: nothing is silently dropped.
type ContainerSpec struct {
	Name   string
	Image  string
	Labels map[string]string

	// Command and Entrypoint replace the image's when non-nil; an empty,
	// non-nil Entrypoint resets the image's entrypoint.
	Command    []string
	Entrypoint []string
	Env        []string // KEY=VALUE
	// UnsetEnv names variables of the image's ENV (and the engine's
	// defaults) the container must not get: a compose `environment` entry
	// with no value that the project environment does not set either
	// (docker passes a bare "KEY", which the daemon takes as "unset").
	// Env wins over UnsetEnv for the same key.
	UnsetEnv   []string
	User       string
	WorkingDir string
	Hostname   string
	Domainname string
	Tty        bool
	OpenStdin  bool

	Networks    []NetworkAttachment // first is the primary network
	NetworkMode string              // "", "none", "host", "container:ID"
	Ports       []PortMapping
	Expose      []string // "PORT[/PROTO]"
	ExtraHosts  []string // "HOST:IP"
	DNS         []string
	DNSSearch   []string
	DNSOptions  []string
	MacAddress  string

	// IPCMode and PIDMode share namespaces: "" (engine default), "host",
	// "private", "shareable" (IPC only) or "container:ID".
	IPCMode string
	PIDMode string

	Mounts []Mount
	// VolumesFrom mounts every volume of other containers:
	// "CONTAINER[:ro|:rw]".
	VolumesFrom []string

	// Health is the healthcheck to record on the container. cirun runs the
	// checks itself, so adapters must create it without any engine-side
	// schedule (Podman: interval disabled, no systemd timer).
	Health *Healthcheck

	Init        bool
	Privileged  bool
	ReadOnly    bool
	CapAdd      []string
	CapDrop     []string
	SecurityOpt []string
	GroupAdd    []string
	ShmSize     int64 // bytes
	Sysctls     map[string]string
	Ulimits     []Ulimit
	Tmpfs       map[string]string // path -> options
	Devices     []string
	StopSignal  string
	StopTimeout *time.Duration
	Restart     string // "", "no", "always", "on-failure[:N]", "unless-stopped"
	// AutoRemove has the engine remove the container (and its anonymous
	// volumes) once it exits (`run -d --rm`).
	AutoRemove bool
	Memory     int64 // bytes
	MemoryRes  int64 // bytes
	MemorySwap int64 // bytes, memory plus swap; -1 unlimited
	CPUs       float64
	CPUShares  int64
	CPUSet     string // "0-2,4"
	PidsLimit  int64
	Platform   string
	Runtime    string // OCI runtime override, "" = engine default
	LogDriver  string
	LogOptions map[string]string
	PullPolicy string
}

// NetworkAttachment connects a container to a network.
type NetworkAttachment struct {
	Name      string
	Aliases   []string
	IPv4      string
	IPv6      string
	MAC       string // static MAC address on this network
	Interface string // interface name in the container ("" = ethN)
}

// PortMapping publishes a container port on the host.
type PortMapping struct {
	HostIP        string
	HostPort      uint16 // 0 = engine picks; in a Container: exposed, not published
	ContainerPort uint16
	Protocol      string // "tcp" (default), "udp", "sctp"
}

// Mount is a bind, named-volume or tmpfs mount.
type Mount struct {
	Type     string // MountBind, MountVolume, MountTmpfs
	Source   string // host path (bind), volume name (volume; "" = anonymous)
	Target   string
	ReadOnly bool
	Options  []string // e.g. "z", "Z", "rprivate", "nocopy", "size=64m"
}

// Mount types.
const (
	MountBind   = "bind"
	MountVolume = "volume"
	MountTmpfs  = "tmpfs"
)

// Ulimit is one resource limit.
type Ulimit struct {
	Name string // "nofile", "nproc", ...
	Soft int64
	Hard int64
}

// Healthcheck is a container healthcheck, in docker's terms.
type Healthcheck struct {
	// Test is docker's form: ["CMD", args...], ["CMD-SHELL", cmd] or ["NONE"].
	Test          []string
	Interval      time.Duration
	Timeout       time.Duration
	StartPeriod   time.Duration
	StartInterval time.Duration
	Retries       int
}

// Docker's healthcheck defaults, applied where a field is zero.
const (
	DefaultHealthInterval      = 30 * time.Second
	DefaultHealthTimeout       = 30 * time.Second
	DefaultHealthStartInterval = 5 * time.Second
	DefaultHealthRetries       = 3
)

// Disabled reports whether the check is "NONE" (healthcheck disabled).
func (h *Healthcheck) Disabled() bool {
	return h == nil || len(h.Test) == 0 || strings.EqualFold(h.Test[0], "NONE")
}

// WithDefaults returns a copy with docker's defaults in the zero fields.
func (h Healthcheck) WithDefaults() Healthcheck {
	if h.Interval <= 0 {
		h.Interval = DefaultHealthInterval
	}
	if h.Timeout <= 0 {
		h.Timeout = DefaultHealthTimeout
	}
	if h.StartInterval <= 0 {
		h.StartInterval = DefaultHealthStartInterval
	}
	if h.Retries <= 0 {
		h.Retries = DefaultHealthRetries
	}
	return h
}

// Command returns the argv that runs the check in the container:
// ["CMD", a, b] -> [a, b]; ["CMD-SHELL", s] -> ["/bin/sh", "-c", s]; a bare
// string list is treated as CMD-SHELL joined by spaces, as docker does.
func (h *Healthcheck) Command() []string {
	if h.Disabled() {
		return nil
	}
	switch strings.ToUpper(h.Test[0]) {
	case "CMD":
		return append([]string(nil), h.Test[1:]...)
	case "CMD-SHELL":
		return []string{"/bin/sh", "-c", strings.Join(h.Test[1:], " ")}
	default:
		return []string{"/bin/sh", "-c", strings.Join(h.Test, " ")}
	}
}
