package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
)

// containerName is docker compose's name for replica n of a service.
func containerName(project string, s types.ServiceConfig, n int) string {
	if s.ContainerName != "" {
		return s.ContainerName
	}
	return fmt.Sprintf("%s-%s-%d", project, s.Name, n)
}

// imageName is the image a service runs: its `image:` or docker compose's
// default name for a built image, PROJECT-SERVICE.
func imageName(project string, s types.ServiceConfig) string {
	if s.Image != "" {
		return s.Image
	}
	return project + "-" + s.Name
}

// replicas is the number of containers a service wants.
func replicas(s types.ServiceConfig) int {
	if s.Scale != nil {
		return *s.Scale
	}
	if s.Deploy != nil && s.Deploy.Replicas != nil {
		return *s.Deploy.Replicas
	}
	return 1
}

// configHash hashes what defines a service's containers, as docker compose's
// ServiceHash does: build, pull policy, scale, profiles and depends_on do not
// count (changing them does not recreate containers).
func configHash(s types.ServiceConfig) string {
	s.Build = nil
	s.PullPolicy = ""
	s.Scale = nil
	if s.Deploy != nil {
		d := *s.Deploy
		one := 1
		d.Replicas = &one
		s.Deploy = &d
	}
	s.DependsOn = nil
	s.Profiles = nil
	data, _ := json.Marshal(s)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// specInput is what spec needs beyond the service itself.
type specInput struct {
	Project    *types.Project
	Service    types.ServiceConfig
	Number     int
	Name       string // container name
	Oneoff     bool
	Image      string
	ImageID    string
	ImageCheck *engine.Healthcheck // the image's HEALTHCHECK
	Version    string
}

// containerSpec translates a compose service into an engine.ContainerSpec.
func containerSpec(in specInput) (*engine.ContainerSpec, error) {
	s := in.Service
	p := in.Project
	spec := &engine.ContainerSpec{
		Name:        in.Name,
		Image:       in.Image,
		Labels:      map[string]string{},
		Command:     nilIfEmpty(s.Command),
		User:        s.User,
		WorkingDir:  s.WorkingDir,
		Hostname:    s.Hostname,
		Domainname:  s.DomainName,
		Tty:         s.Tty,
		OpenStdin:   s.StdinOpen,
		MacAddress:  s.MacAddress,
		Privileged:  s.Privileged,
		ReadOnly:    s.ReadOnly,
		CapAdd:      s.CapAdd,
		CapDrop:     s.CapDrop,
		SecurityOpt: s.SecurityOpt,
		GroupAdd:    s.GroupAdd,
		ShmSize:     int64(s.ShmSize),
		StopSignal:  s.StopSignal,
		Restart:     s.Restart,
		Memory:      int64(s.MemLimit),
		MemoryRes:   int64(s.MemReservation),
		PidsLimit:   s.PidsLimit,
		Platform:    s.Platform,
		DNS:         s.DNS,
		DNSSearch:   s.DNSSearch,
		DNSOptions:  s.DNSOpts,
		PullPolicy:  s.PullPolicy,
	}
	if s.Entrypoint != nil {
		spec.Entrypoint = []string(s.Entrypoint)
	}
	if s.Init != nil {
		spec.Init = *s.Init
	}
	if s.StopGracePeriod != nil {
		d := time.Duration(*s.StopGracePeriod)
		spec.StopTimeout = &d
	}
	if s.Deploy != nil {
		if l := s.Deploy.Resources.Limits; l != nil {
			if l.MemoryBytes > 0 {
				spec.Memory = int64(l.MemoryBytes)
			}
			if l.NanoCPUs > 0 {
				spec.CPUs = float64(l.NanoCPUs)
			}
			if l.Pids > 0 {
				spec.PidsLimit = l.Pids
			}
		}
		if r := s.Deploy.Resources.Reservations; r != nil && r.MemoryBytes > 0 {
			spec.MemoryRes = int64(r.MemoryBytes)
		}
	}

	// Labels: the service's own, then docker compose's.
	for k, v := range s.Labels {
		spec.Labels[k] = v
	}
	deps := make([]string, 0, len(s.DependsOn))
	for name, d := range s.DependsOn {
		deps = append(deps, fmt.Sprintf("%s:%s:%t", name, d.Condition, d.Restart))
	}
	sort.Strings(deps)
	oneoff := "False"
	if in.Oneoff {
		oneoff = "True"
	}
	for k, v := range map[string]string{
		engine.LabelProject:         p.Name,
		engine.LabelService:         s.Name,
		engine.LabelContainerNumber: strconv.Itoa(in.Number),
		engine.LabelOneoff:          oneoff,
		engine.LabelConfigHash:      configHash(s),
		engine.LabelImage:           in.ImageID,
		engine.LabelDependsOn:       strings.Join(deps, ","),
		engine.LabelWorkingDir:      p.WorkingDir,
		engine.LabelConfigFiles:     strings.Join(p.ComposeFiles, ","),
		engine.LabelVersion:         in.Version,
		engine.LabelCirun:           in.Version,
	} {
		spec.Labels[k] = v
	}

	// Environment: variables with no value (unset on the host) are left out.
	keys := make([]string, 0, len(s.Environment))
	for k := range s.Environment {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := s.Environment[k]; v != nil {
			spec.Env = append(spec.Env, k+"="+*v)
		}
	}

	// Healthcheck: the service's, merged over the image's.
	spec.Health = healthcheck(s.HealthCheck, in.ImageCheck)

	// Networks.
	switch mode := s.NetworkMode; {
	case mode == "" || mode == "bridge":
		nets := make([]string, 0, len(s.Networks))
		for k := range s.Networks {
			nets = append(nets, k)
		}
		sort.Slice(nets, func(i, j int) bool {
			pi, pj := netPriority(s, nets[i]), netPriority(s, nets[j])
			if pi != pj {
				return pi > pj
			}
			return nets[i] < nets[j]
		})
		for _, k := range nets {
			nc, ok := p.Networks[k]
			if !ok {
				return nil, fmt.Errorf("service %s refers to undefined network %s", s.Name, k)
			}
			att := engine.NetworkAttachment{Name: nc.Name, Aliases: []string{s.Name}}
			if sn := s.Networks[k]; sn != nil {
				att.Aliases = append(att.Aliases, sn.Aliases...)
				att.IPv4 = sn.Ipv4Address
				att.IPv6 = sn.Ipv6Address
			}
			if in.Oneoff {
				att.Aliases = nil // one-off containers do not take the service's name
			}
			spec.Networks = append(spec.Networks, att)
		}
	case mode == "none" || mode == "host":
		spec.NetworkMode = mode
	default:
		return nil, fmt.Errorf("service %s: network_mode %q is not supported by cirun yet", s.Name, mode)
	}

	for _, port := range s.Ports {
		pm, err := portMappings(port)
		if err != nil {
			return nil, fmt.Errorf("service %s: ports: %w", s.Name, err)
		}
		if in.Oneoff {
			continue // `run` publishes no ports unless asked (--service-ports)
		}
		spec.Ports = append(spec.Ports, pm...)
	}
	spec.Expose = append(spec.Expose, s.Expose...)
	for host, ips := range s.ExtraHosts {
		for _, ip := range ips {
			spec.ExtraHosts = append(spec.ExtraHosts, host+":"+ip)
		}
	}
	sort.Strings(spec.ExtraHosts)

	for _, v := range s.Volumes {
		m, err := mount(p, s, v)
		if err != nil {
			return nil, err
		}
		spec.Mounts = append(spec.Mounts, m)
	}
	if len(s.Tmpfs) > 0 {
		spec.Tmpfs = map[string]string{}
		for _, t := range s.Tmpfs {
			path, opts, _ := strings.Cut(t, ":")
			spec.Tmpfs[path] = opts
		}
	}
	if len(s.Sysctls) > 0 {
		spec.Sysctls = map[string]string(s.Sysctls)
	}
	names := make([]string, 0, len(s.Ulimits))
	for n := range s.Ulimits {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		u := s.Ulimits[n]
		soft, hard := int64(u.Soft), int64(u.Hard)
		if u.Single != 0 {
			soft, hard = int64(u.Single), int64(u.Single)
		}
		spec.Ulimits = append(spec.Ulimits, engine.Ulimit{Name: n, Soft: soft, Hard: hard})
	}
	for _, d := range s.Devices {
		dev := d.Source
		if d.Target != "" {
			dev += ":" + d.Target
		}
		if d.Permissions != "" {
			dev += ":" + d.Permissions
		}
		spec.Devices = append(spec.Devices, dev)
	}
	if s.Logging != nil {
		spec.LogDriver = s.Logging.Driver
		spec.LogOptions = s.Logging.Options
	}
	return spec, nil
}

func netPriority(s types.ServiceConfig, k string) int {
	if sn := s.Networks[k]; sn != nil {
		return sn.Priority
	}
	return 0
}

func nilIfEmpty(c types.ShellCommand) []string {
	if len(c) == 0 {
		return nil
	}
	return []string(c)
}

// healthcheck merges a compose healthcheck over the image's, as docker does:
// fields the service leaves unset come from the image.
func healthcheck(h *types.HealthCheckConfig, image *engine.Healthcheck) *engine.Healthcheck {
	var out engine.Healthcheck
	if image != nil {
		out = *image
	}
	if h != nil {
		if h.Disable {
			return nil
		}
		if len(h.Test) > 0 {
			out.Test = []string(h.Test)
		}
		if h.Interval != nil {
			out.Interval = time.Duration(*h.Interval)
		}
		if h.Timeout != nil {
			out.Timeout = time.Duration(*h.Timeout)
		}
		if h.StartPeriod != nil {
			out.StartPeriod = time.Duration(*h.StartPeriod)
		}
		if h.StartInterval != nil {
			out.StartInterval = time.Duration(*h.StartInterval)
		}
		if h.Retries != nil {
			out.Retries = int(*h.Retries)
		}
	}
	if out.Disabled() {
		return nil
	}
	return &out
}

func portMappings(p types.ServicePortConfig) ([]engine.PortMapping, error) {
	proto := p.Protocol
	if proto == "" {
		proto = "tcp"
	}
	if p.Target == 0 || p.Target > 65535 {
		return nil, fmt.Errorf("invalid container port %d", p.Target)
	}
	pm := engine.PortMapping{HostIP: p.HostIP, ContainerPort: uint16(p.Target), Protocol: proto}
	if p.Published == "" {
		return []engine.PortMapping{pm}, nil
	}
	lo, hi, isRange := strings.Cut(p.Published, "-")
	first, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("invalid published port %q", p.Published)
	}
	if isRange && hi != lo {
		return nil, fmt.Errorf("published port range %q for one container port is not supported by cirun yet", p.Published)
	}
	pm.HostPort = uint16(first)
	return []engine.PortMapping{pm}, nil
}

func mount(p *types.Project, s types.ServiceConfig, v types.ServiceVolumeConfig) (engine.Mount, error) {
	m := engine.Mount{Target: v.Target, ReadOnly: v.ReadOnly}
	switch v.Type {
	case types.VolumeTypeBind:
		m.Type = engine.MountBind
		m.Source = v.Source
		if v.Bind != nil {
			if v.Bind.SELinux != "" {
				m.Options = append(m.Options, v.Bind.SELinux)
			}
			if v.Bind.Propagation != "" {
				m.Options = append(m.Options, v.Bind.Propagation)
			}
			if v.Bind.CreateHostPath {
				if _, err := os.Stat(v.Source); os.IsNotExist(err) {
					if err := os.MkdirAll(v.Source, 0o755); err != nil {
						return m, fmt.Errorf("service %s: creating bind mount source %s: %w", s.Name, v.Source, err)
					}
				}
			}
		}
	case types.VolumeTypeVolume:
		m.Type = engine.MountVolume
		if v.Source != "" {
			vc, ok := p.Volumes[v.Source]
			if !ok {
				return m, fmt.Errorf("service %s refers to undefined volume %s", s.Name, v.Source)
			}
			m.Source = vc.Name
		}
		if v.Volume != nil && v.Volume.NoCopy {
			m.Options = append(m.Options, "nocopy")
		}
	case types.VolumeTypeTmpfs:
		m.Type = engine.MountTmpfs
		if v.Tmpfs != nil && v.Tmpfs.Size > 0 {
			m.Options = append(m.Options, fmt.Sprintf("size=%d", int64(v.Tmpfs.Size)))
		}
	default:
		return m, fmt.Errorf("service %s: volume type %q is not supported by cirun yet", s.Name, v.Type)
	}
	return m, nil
}
