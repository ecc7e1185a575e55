package podman

import (
	"fmt"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/podman/rest"
	nettypes "github.com/containers/common/libnetwork/types"
	"github.com/containers/common/pkg/signal"
	"github.com/containers/image/v5/manifest"
	"github.com/containers/podman/v4/pkg/specgen"
	spec "github.com/opencontainers/runtime-spec/specs-go"
)

// Labels the adapter keeps on containers to restore what Podman's config
// cannot hold: the health interval (Podman gets 0, "disabled", so that it
// schedules nothing).
const (
	labelHealthInterval      = rest.LabelHealthInterval
	labelHealthStartInterval = rest.LabelHealthStartInterval
)

// DefaultLogDriver is the log driver containers get when the spec names
// none: k8s-file works without journald.
const DefaultLogDriver = "k8s-file"

// toSpecgen translates a ContainerSpec into Podman's SpecGenerator. Every
// set field is translated, or an error names the field.
func toSpecgen(cs *engine.ContainerSpec) (*specgen.SpecGenerator, error) {
	if cs == nil {
		return nil, fmt.Errorf("nil container spec")
	}
	if cs.Image == "" {
		return nil, fmt.Errorf("image: empty")
	}
	s := specgen.NewSpecGenerator(cs.Image, false)
	s.Name = cs.Name
	s.Labels = map[string]string{}
	for k, v := range cs.Labels {
		s.Labels[k] = v
	}

	// Process.
	if cs.Entrypoint != nil {
		if len(cs.Entrypoint) == 0 {
			s.Entrypoint = []string{""} // Podman's "reset the image's entrypoint"
		} else {
			s.Entrypoint = append([]string(nil), cs.Entrypoint...)
		}
	}
	if cs.Command != nil {
		s.Command = append([]string(nil), cs.Command...)
	}
	if len(cs.Env) > 0 {
		s.Env = map[string]string{}
		for _, kv := range cs.Env {
			k, v, ok := strings.Cut(kv, "=")
			if k == "" {
				return nil, fmt.Errorf("environment: bad entry %q", kv)
			}
			if !ok {
				// docker: "KEY" alone passes the caller's value, if any.
				if v, ok = os.LookupEnv(k); !ok {
					continue
				}
			}
			s.Env[k] = v
		}
	}
	for _, k := range cs.UnsetEnv {
		if k == "" || strings.Contains(k, "=") {
			return nil, fmt.Errorf("environment: bad variable name to unset %q", k)
		}
		if _, set := s.Env[k]; !set {
			s.UnsetEnv = append(s.UnsetEnv, k)
		}
	}
	s.Remove = cs.AutoRemove
	s.User = cs.User
	s.WorkDir = cs.WorkingDir
	s.Hostname = cs.Hostname
	if cs.Domainname != "" {
		return nil, fmt.Errorf("domainname: not supported by podman")
	}
	s.Terminal = cs.Tty
	s.Stdin = cs.OpenStdin

	if err := setNetwork(s, cs); err != nil {
		return nil, err
	}
	if err := setMounts(s, cs); err != nil {
		return nil, err
	}
	setHealth(s, cs.Health)

	// Security.
	s.Init = cs.Init
	s.Privileged = cs.Privileged
	s.ReadOnlyFilesystem = cs.ReadOnly
	s.CapAdd = append([]string(nil), cs.CapAdd...)
	s.CapDrop = append([]string(nil), cs.CapDrop...)
	for _, opt := range cs.SecurityOpt {
		if err := setSecurityOpt(s, opt); err != nil {
			return nil, err
		}
	}
	s.Groups = append([]string(nil), cs.GroupAdd...)
	for _, d := range cs.Devices {
		// "HOST[:CONTAINER[:PERMS]]", parsed by the service as the CLI does.
		s.Devices = append(s.Devices, spec.LinuxDevice{Path: d})
	}

	// Resources.
	if cs.ShmSize < 0 {
		return nil, fmt.Errorf("shm_size: negative")
	}
	if cs.ShmSize > 0 {
		v := cs.ShmSize
		s.ShmSize = &v
	}
	if len(cs.Sysctls) > 0 {
		s.Sysctl = map[string]string{}
		for k, v := range cs.Sysctls {
			s.Sysctl[k] = v
		}
	}
	for _, u := range cs.Ulimits {
		// Podman prefixes "RLIMIT_" and upper-cases itself.
		name := strings.TrimPrefix(strings.ToLower(u.Name), "rlimit_")
		if name == "" || u.Soft < 0 || u.Hard < 0 {
			return nil, fmt.Errorf("ulimits: bad entry %+v", u)
		}
		soft, hard := u.Soft, u.Hard
		if hard == 0 {
			hard = soft
		}
		s.Rlimits = append(s.Rlimits, spec.POSIXRlimit{Type: name, Soft: uint64(soft), Hard: uint64(hard)})
	}
	if err := setResources(s, cs); err != nil {
		return nil, err
	}

	// Lifecycle.
	if cs.StopSignal != "" {
		sig, err := signal.ParseSignalNameOrNumber(cs.StopSignal)
		if err != nil {
			return nil, fmt.Errorf("stop_signal: %w", err)
		}
		s.StopSignal = &sig
	}
	if cs.StopTimeout != nil {
		if *cs.StopTimeout < 0 {
			return nil, fmt.Errorf("stop_grace_period: negative")
		}
		t := seconds(*cs.StopTimeout)
		s.StopTimeout = &t
	}
	if err := setRestart(s, cs.Restart); err != nil {
		return nil, err
	}
	if cs.Platform != "" {
		parts := strings.Split(cs.Platform, "/")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("platform: %q is not OS/ARCH[/VARIANT]", cs.Platform)
		}
		s.ImageOS, s.ImageArch = parts[0], parts[1]
		if len(parts) == 3 {
			s.ImageVariant = parts[2]
		}
	}
	s.OCIRuntime = cs.Runtime
	if err := setLog(s, cs); err != nil {
		return nil, err
	}
	// cs.PullPolicy is the caller's business: Podman's create never pulls.
	return s, nil
}

func setNetwork(s *specgen.SpecGenerator, cs *engine.ContainerSpec) error {
	mode := cs.NetworkMode
	switch {
	case mode == "" || mode == "bridge" || mode == "default":
		if len(cs.Networks) > 0 {
			s.NetNS = specgen.Namespace{NSMode: specgen.Bridge}
			s.Networks = map[string]nettypes.PerNetworkOptions{}
			for i, n := range cs.Networks {
				if n.Name == "" {
					return fmt.Errorf("networks: entry %d has no name", i)
				}
				o := nettypes.PerNetworkOptions{Aliases: append([]string(nil), n.Aliases...)}
				for _, ip := range []string{n.IPv4, n.IPv6} {
					if ip == "" {
						continue
					}
					p := net.ParseIP(ip)
					if p == nil {
						return fmt.Errorf("networks: %s: bad address %q", n.Name, ip)
					}
					o.StaticIPs = append(o.StaticIPs, p)
				}
				mac := n.MAC
				if i == 0 && mac == "" {
					mac = cs.MacAddress
				}
				if mac != "" {
					hw, err := net.ParseMAC(mac)
					if err != nil {
						return fmt.Errorf("networks: %s: mac_address: %w", n.Name, err)
					}
					o.StaticMAC = nettypes.HardwareAddr(hw)
				}
				o.InterfaceName = n.Interface
				s.Networks[n.Name] = o
			}
		} else if cs.MacAddress != "" {
			return fmt.Errorf("mac_address: needs a network")
		}
	case mode == "none":
		s.NetNS = specgen.Namespace{NSMode: specgen.NoNetwork}
	case mode == "host":
		s.NetNS = specgen.Namespace{NSMode: specgen.Host}
	case strings.HasPrefix(mode, "container:"):
		s.NetNS = specgen.Namespace{NSMode: specgen.FromContainer, Value: strings.TrimPrefix(mode, "container:")}
	default:
		return fmt.Errorf("network_mode: %q not supported", mode)
	}
	if mode != "" && mode != "bridge" && mode != "default" && len(cs.Networks) > 0 {
		return fmt.Errorf("networks: cannot be combined with network_mode %q", mode)
	}
	var err error
	if s.IpcNS, err = sharedNamespace("ipc", cs.IPCMode, true); err != nil {
		return err
	}
	if s.PidNS, err = sharedNamespace("pid", cs.PIDMode, false); err != nil {
		return err
	}

	for _, p := range cs.Ports {
		if p.ContainerPort == 0 {
			return fmt.Errorf("ports: container port 0")
		}
		proto := strings.ToLower(p.Protocol)
		if proto == "" {
			proto = "tcp"
		}
		s.PortMappings = append(s.PortMappings, nettypes.PortMapping{
			HostIP: p.HostIP, HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: proto, Range: 1,
		})
	}
	for _, e := range cs.Expose {
		ports, proto, _ := strings.Cut(e, "/")
		if proto == "" {
			proto = "tcp"
		}
		lo, hi, isRange := strings.Cut(ports, "-")
		first, err := strconv.ParseUint(lo, 10, 16)
		if err != nil || first == 0 {
			return fmt.Errorf("expose: bad port %q", e)
		}
		last := first
		if isRange {
			if last, err = strconv.ParseUint(hi, 10, 16); err != nil || last < first {
				return fmt.Errorf("expose: bad port range %q", e)
			}
		}
		if s.Expose == nil {
			s.Expose = map[uint16]string{}
		}
		for p := first; p <= last; p++ {
			s.Expose[uint16(p)] = proto
		}
	}
	s.HostAdd = append([]string(nil), cs.ExtraHosts...)
	for _, d := range cs.DNS {
		ip := net.ParseIP(d)
		if ip == nil {
			return fmt.Errorf("dns: bad address %q", d)
		}
		s.DNSServers = append(s.DNSServers, ip)
	}
	s.DNSSearch = append([]string(nil), cs.DNSSearch...)
	s.DNSOptions = append([]string(nil), cs.DNSOptions...)
	return nil
}

// sharedNamespace translates an IPC or PID mode; the zero Namespace lets
// Podman pick its default.
func sharedNamespace(key, mode string, shareable bool) (specgen.Namespace, error) {
	switch {
	case mode == "":
		return specgen.Namespace{}, nil
	case mode == "host":
		return specgen.Namespace{NSMode: specgen.Host}, nil
	case mode == "private":
		return specgen.Namespace{NSMode: specgen.Private}, nil
	case mode == "shareable" && shareable:
		return specgen.Namespace{NSMode: specgen.Shareable}, nil
	case strings.HasPrefix(mode, "container:") && len(mode) > len("container:"):
		return specgen.Namespace{NSMode: specgen.FromContainer, Value: strings.TrimPrefix(mode, "container:")}, nil
	}
	return specgen.Namespace{}, fmt.Errorf("%s: %q not supported", key, mode)
}

func setMounts(s *specgen.SpecGenerator, cs *engine.ContainerSpec) error {
	for _, v := range cs.VolumesFrom {
		if name, _, _ := strings.Cut(v, ":"); name == "" {
			return fmt.Errorf("volumes_from: bad entry %q", v)
		}
		s.VolumesFrom = append(s.VolumesFrom, v)
	}
	for _, m := range cs.Mounts {
		if !path.IsAbs(m.Target) {
			return fmt.Errorf("volumes: target %q is not an absolute path", m.Target)
		}
		opts := append([]string(nil), m.Options...)
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		switch m.Type {
		case engine.MountBind:
			if !path.IsAbs(m.Source) {
				return fmt.Errorf("volumes: bind source %q is not an absolute path", m.Source)
			}
			if !hasAny(opts, "bind", "rbind") {
				opts = append(opts, "rbind")
			}
			s.Mounts = append(s.Mounts, spec.Mount{Type: "bind", Source: m.Source, Destination: m.Target, Options: opts})
		case engine.MountVolume:
			// An empty name makes Podman create an anonymous volume.
			s.Volumes = append(s.Volumes, &specgen.NamedVolume{Name: m.Source, Dest: m.Target, Options: opts})
		case engine.MountTmpfs:
			s.Mounts = append(s.Mounts, spec.Mount{Type: "tmpfs", Source: "tmpfs", Destination: m.Target, Options: opts})
		default:
			return fmt.Errorf("volumes: %s: mount type %q not supported", m.Target, m.Type)
		}
	}
	for target, o := range cs.Tmpfs {
		if !path.IsAbs(target) {
			return fmt.Errorf("tmpfs: target %q is not an absolute path", target)
		}
		var opts []string
		if o != "" {
			opts = strings.Split(o, ",")
		}
		s.Mounts = append(s.Mounts, spec.Mount{Type: "tmpfs", Source: "tmpfs", Destination: target, Options: opts})
	}
	return nil
}

func hasAny(list []string, want ...string) bool {
	for _, x := range list {
		for _, w := range want {
			if x == w {
				return true
			}
		}
	}
	return false
}

// setHealth records the check with Podman's schedule disabled (interval 0:
// no systemd timer, no "unable to get systemd connection" noise), or
// disables any image healthcheck when h is nil or NONE.
func setHealth(s *specgen.SpecGenerator, h *engine.Healthcheck) {
	if h.Disabled() {
		s.HealthConfig = &manifest.Schema2HealthConfig{Test: []string{"NONE"}}
		return
	}
	d := h.WithDefaults()
	test := append([]string(nil), d.Test...)
	switch strings.ToUpper(test[0]) {
	case "CMD", "CMD-SHELL":
		test[0] = strings.ToUpper(test[0])
	default:
		test = []string{"CMD-SHELL", strings.Join(test, " ")}
	}
	s.HealthConfig = &manifest.Schema2HealthConfig{
		Test:        test,
		Interval:    0,
		Timeout:     d.Timeout, // Podman 4.3 enforces it: 0 fails every check
		StartPeriod: d.StartPeriod,
		Retries:     d.Retries,
	}
	s.Labels[labelHealthInterval] = d.Interval.String()
	if h.StartInterval > 0 {
		s.Labels[labelHealthStartInterval] = h.StartInterval.String()
	}
}

// fromHealthConfig turns Podman's recorded check back into engine's form,
// nil for none.
func fromHealthConfig(hc *manifest.Schema2HealthConfig, labels map[string]string) *engine.Healthcheck {
	return (*rest.HealthConfig)(hc).Engine(labels)
}

func setSecurityOpt(s *specgen.SpecGenerator, opt string) error {
	k, v, _ := strings.Cut(opt, "=")
	if v == "" {
		k, v, _ = strings.Cut(opt, ":") // docker's legacy "seccomp:unconfined"
	}
	switch k {
	case "no-new-privileges":
		s.NoNewPrivileges = v == "" || v == "true"
	case "seccomp":
		s.SeccompProfilePath = v
	case "apparmor":
		s.ApparmorProfile = v
	case "label":
		s.SelinuxOpts = append(s.SelinuxOpts, v)
	case "mask":
		s.Mask = append(s.Mask, strings.Split(v, ":")...)
	case "unmask":
		s.Unmask = append(s.Unmask, strings.Split(v, ":")...)
	default:
		return fmt.Errorf("security_opt: %q not supported", opt)
	}
	return nil
}

func setResources(s *specgen.SpecGenerator, cs *engine.ContainerSpec) error {
	if cs.Memory < 0 || cs.MemoryRes < 0 || cs.MemorySwap < -1 || cs.CPUs < 0 || cs.CPUShares < 0 || cs.PidsLimit < -1 {
		return fmt.Errorf("resources: negative limit")
	}
	if cs.Memory == 0 && cs.MemoryRes == 0 && cs.MemorySwap == 0 && cs.CPUs == 0 && cs.CPUShares == 0 && cs.CPUSet == "" && cs.PidsLimit == 0 {
		return nil
	}
	r := &spec.LinuxResources{}
	if cs.Memory > 0 || cs.MemoryRes > 0 || cs.MemorySwap != 0 {
		r.Memory = &spec.LinuxMemory{}
		if cs.Memory > 0 {
			v := cs.Memory
			r.Memory.Limit = &v
		}
		if cs.MemoryRes > 0 {
			v := cs.MemoryRes
			r.Memory.Reservation = &v
		}
		if cs.MemorySwap != 0 {
			if cs.MemorySwap > 0 && cs.MemorySwap < cs.Memory {
				return fmt.Errorf("memswap_limit: %d is below the memory limit %d", cs.MemorySwap, cs.Memory)
			}
			if cs.Memory == 0 {
				return fmt.Errorf("memswap_limit: needs a memory limit")
			}
			v := cs.MemorySwap
			r.Memory.Swap = &v
		}
	}
	if cs.CPUs > 0 || cs.CPUShares > 0 || cs.CPUSet != "" {
		r.CPU = &spec.LinuxCPU{Cpus: cs.CPUSet}
		if cs.CPUs > 0 {
			period := uint64(100000)
			quota := int64(cs.CPUs * float64(period))
			r.CPU.Period, r.CPU.Quota = &period, &quota
		}
		if cs.CPUShares > 0 {
			v := uint64(cs.CPUShares)
			r.CPU.Shares = &v
		}
	}
	if cs.PidsLimit != 0 {
		r.Pids = &spec.LinuxPids{Limit: cs.PidsLimit}
	}
	s.ResourceLimits = r
	return nil
}

func setRestart(s *specgen.SpecGenerator, restart string) error {
	policy, n, hasN := strings.Cut(restart, ":")
	switch policy {
	case "":
		return nil
	case "no", "always", "unless-stopped":
		if hasN {
			return fmt.Errorf("restart: %q takes no count", restart)
		}
	case "on-failure":
		if hasN {
			v, err := strconv.ParseUint(n, 10, 32)
			if err != nil {
				return fmt.Errorf("restart: bad count in %q", restart)
			}
			u := uint(v)
			s.RestartRetries = &u
		}
	default:
		return fmt.Errorf("restart: %q not supported", restart)
	}
	s.RestartPolicy = policy
	return nil
}

func setLog(s *specgen.SpecGenerator, cs *engine.ContainerSpec) error {
	driver := cs.LogDriver
	switch driver {
	case "", "json-file", "local":
		driver = DefaultLogDriver // same role: a file the engine reads back
	case "k8s-file", "journald", "none", "passthrough":
	default:
		return fmt.Errorf("logging.driver: %q not supported by podman", cs.LogDriver)
	}
	lc := &specgen.LogConfig{Driver: driver}
	for k, v := range cs.LogOptions {
		switch k {
		case "max-size":
			n, err := parseSize(v)
			if err != nil {
				return fmt.Errorf("logging.options.max-size: %w", err)
			}
			lc.Size = n
		case "path":
			lc.Path = v
		case "max-file", "compress", "mode", "max-buffer-size":
			// Rotation and delivery knobs of docker's drivers: k8s-file
			// has no equivalent and keeps one file of at most max-size.
		default:
			if lc.Options == nil {
				lc.Options = map[string]string{}
			}
			lc.Options[k] = v
		}
	}
	s.LogConfiguration = lc
	return nil
}

// parseSize parses docker's sizes: "100", "10k", "64m", "1g" (binary units).
func parseSize(v string) (int64, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	v = strings.TrimSuffix(strings.TrimSuffix(v, "b"), "i")
	mult := int64(1)
	if n := len(v); n > 0 {
		switch v[n-1] {
		case 'k':
			mult, v = 1<<10, v[:n-1]
		case 'm':
			mult, v = 1<<20, v[:n-1]
		case 'g':
			mult, v = 1<<30, v[:n-1]
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", v)
	}
	return n * mult, nil
}

// signalNumber is used by KillContainer to validate signal names.
func signalNumber(s string) (syscall.Signal, error) {
	return signal.ParseSignalNameOrNumber(s)
}
