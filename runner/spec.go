package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/compose"
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
	return compose.ImageName(project, s)
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
	// FilesDir is where secrets and configs are written (the project's
	// directory under Options.RuntimeDir).
	FilesDir string
	// Shared maps the services whose namespaces or volumes this one shares
	// (network_mode, ipc, pid service:NAME; volumes_from) to the ID of
	// their first container.
	Shared map[string]string
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
		MemorySwap:  int64(s.MemSwapLimit),
		CPUs:        float64(s.CPUS),
		CPUShares:   s.CPUShares,
		CPUSet:      s.CPUSet,
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
		if rp := s.Deploy.RestartPolicy; rp != nil && s.Restart == "" {
			restart, err := deployRestart(*rp)
			if err != nil {
				return nil, fmt.Errorf("service %s: deploy.restart_policy: %w", s.Name, err)
			}
			spec.Restart = restart
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
		engine.LabelConfigHash:      compose.ServiceHash(s),
		engine.LabelImage:           in.ImageID,
		engine.LabelDependsOn:       strings.Join(deps, ","),
		engine.LabelWorkingDir:      p.WorkingDir,
		engine.LabelConfigFiles:     strings.Join(p.ComposeFiles, ","),
		engine.LabelVersion:         in.Version,
		engine.LabelCirun:           in.Version,
		engine.LabelVolumes:         volumesKey(p, s),
	} {
		spec.Labels[k] = v
	}

	// Environment: a variable with no value (`- KEY` that the project
	// environment does not set) unsets the image's, as docker does.
	keys := make([]string, 0, len(s.Environment))
	for k := range s.Environment {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := s.Environment[k]; v != nil {
			spec.Env = append(spec.Env, k+"="+*v)
		} else {
			spec.UnsetEnv = append(spec.UnsetEnv, k)
		}
	}

	// Healthcheck: the service's, merged over the image's.
	if err := checkHealthcheck(s.HealthCheck); err != nil {
		return nil, err
	}
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
			att := engine.NetworkAttachment{Name: nc.Name, Aliases: networkAliases(s, k)}
			if sn := s.Networks[k]; sn != nil {
				att.IPv4 = sn.Ipv4Address
				att.IPv6 = sn.Ipv6Address
				att.MAC = sn.MacAddress
				att.Interface = sn.InterfaceName
			}
			if in.Oneoff {
				att.Aliases = nil // one-off containers do not take the service's name
			}
			spec.Networks = append(spec.Networks, att)
		}
	case mode == "none" || mode == "host" || strings.HasPrefix(mode, types.ContainerPrefix):
		spec.NetworkMode = mode
	case strings.HasPrefix(mode, types.ServicePrefix):
		id, err := in.shared(mode, "network namespace")
		if err != nil {
			return nil, err
		}
		spec.NetworkMode = types.ContainerPrefix + id
	default:
		return nil, fmt.Errorf("service %s: network_mode %q is not supported by cirun yet", s.Name, mode)
	}
	if key := compose.JoinedNetworkConflict(s); key != "" { // compose.Check rejects it first
		return nil, fmt.Errorf("service %s: %s cannot be set with network_mode %q: the network namespace is the other container's", s.Name, key, s.NetworkMode)
	}
	var err error
	if spec.IPCMode, err = in.sharedMode(s.Ipc, "IPC namespace"); err != nil {
		return nil, err
	}
	if spec.PIDMode, err = in.sharedMode(s.Pid, "PID namespace"); err != nil {
		return nil, err
	}
	for _, v := range s.VolumesFrom {
		from, err := in.volumesFrom(v)
		if err != nil {
			return nil, err
		}
		spec.VolumesFrom = append(spec.VolumesFrom, from)
	}
	if refs := sharedServices(s); len(refs) > 0 {
		names := make([]string, 0, len(refs))
		for _, r := range refs {
			names = append(names, r.service)
		}
		sort.Strings(names)
		spec.Labels[labelShares] = strings.Join(slices.Compact(names), ",")
	}
	if strings.HasPrefix(spec.NetworkMode, types.ContainerPrefix) || strings.HasPrefix(spec.IPCMode, types.ContainerPrefix) ||
		strings.HasPrefix(spec.PIDMode, types.ContainerPrefix) || len(spec.VolumesFrom) > 0 {
		if spec.Labels[labelShares] == "" {
			spec.Labels[labelShares] = "container"
		}
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
	files, err := fileMounts(p, s, in.FilesDir)
	if err != nil {
		return nil, err
	}
	spec.Mounts = append(spec.Mounts, files...)
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

// shared returns the container a `service:NAME` reference points to.
func (in specInput) shared(ref, what string) (string, error) {
	name := strings.TrimPrefix(ref, types.ServicePrefix)
	if id := in.Shared[name]; id != "" {
		return id, nil
	}
	return "", fmt.Errorf("service %s: cannot share %s with service %s: container missing", in.Service.Name, what, name)
}

// sharedMode translates an ipc or pid mode: service:NAME becomes
// container:ID, other values pass as they are.
func (in specInput) sharedMode(mode, what string) (string, error) {
	if !strings.HasPrefix(mode, types.ServicePrefix) {
		return mode, nil
	}
	id, err := in.shared(mode, what)
	if err != nil {
		return "", err
	}
	return types.ContainerPrefix + id, nil
}

// volumesFrom translates a volumes_from entry, SERVICE[:MODE] or
// container:NAME[:MODE], into the engine's CONTAINER[:MODE].
func (in specInput) volumesFrom(v string) (string, error) {
	if rest, ok := strings.CutPrefix(v, types.ContainerPrefix); ok {
		if rest == "" {
			return "", fmt.Errorf("service %s: volumes_from: %q names no container", in.Service.Name, v)
		}
		return rest, nil
	}
	name, mode, hasMode := strings.Cut(v, ":")
	id, err := in.shared(name, "volume")
	if err != nil {
		return "", err
	}
	if hasMode {
		if mode != "ro" && mode != "rw" {
			return "", fmt.Errorf("service %s: volumes_from: %q: mode must be ro or rw", in.Service.Name, v)
		}
		id += ":" + mode
	}
	return id, nil
}

// labelShares marks a container that shares another container's
// namespaces or volumes (value: the services it shares with). Podman
// refuses to remove a container others share until they are gone, so
// `down` removes the containers carrying it first.
const labelShares = "dev.cirun.shares"

// sharersFirst splits containers into those that share other containers'
// namespaces or volumes, to remove first, and the rest (empty waves are
// left out).
func sharersFirst(cs []engine.Container) [][]engine.Container {
	var sharers, rest []engine.Container
	for _, c := range cs {
		if c.Labels[labelShares] != "" {
			sharers = append(sharers, c)
		} else {
			rest = append(rest, c)
		}
	}
	var waves [][]engine.Container
	for _, w := range [][]engine.Container{sharers, rest} {
		if len(w) > 0 {
			waves = append(waves, w)
		}
	}
	return waves
}

// sharedRef is a service whose container another one shares something with.
type sharedRef struct {
	service string
	what    string // for docker compose's error: "volume", "network namespace", ...
}

// sharedServices lists the services whose containers s needs: network_mode,
// ipc and pid `service:NAME`, and volumes_from entries naming a service.
func sharedServices(s types.ServiceConfig) []sharedRef {
	var refs []sharedRef
	for _, v := range s.VolumesFrom {
		if !strings.HasPrefix(v, types.ContainerPrefix) {
			name, _, _ := strings.Cut(v, ":")
			refs = append(refs, sharedRef{name, "volume"})
		}
	}
	for _, m := range []struct{ mode, what string }{
		{s.NetworkMode, "network namespace"}, {s.Ipc, "IPC namespace"}, {s.Pid, "PID namespace"},
	} {
		if name, ok := strings.CutPrefix(m.mode, types.ServicePrefix); ok {
			refs = append(refs, sharedRef{name, m.what})
		}
	}
	return refs
}

// bridgeOptions translates the bridge driver_opts docker spells
// differently from Podman; the others go as they are (Podman rejects those
// it does not know).
func bridgeOptions(opts types.Options) map[string]string {
	if len(opts) == 0 {
		return nil
	}
	out := make(map[string]string, len(opts))
	for k, v := range opts {
		if k == "com.docker.network.driver.mtu" {
			k = "mtu"
		}
		out[k] = v
	}
	return out
}

// deployRestart translates deploy.restart_policy as docker compose does
// when `restart` is not set.
func deployRestart(rp types.RestartPolicy) (string, error) {
	switch rp.Condition {
	case "none":
		return "no", nil
	case "any", "":
		return "always", nil
	case "on-failure":
		if rp.MaxAttempts != nil && *rp.MaxAttempts > 0 {
			return fmt.Sprintf("on-failure:%d", *rp.MaxAttempts), nil
		}
		return "on-failure", nil
	}
	return "", fmt.Errorf("condition %q is not none, on-failure or any", rp.Condition)
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

// checkHealthcheck applies docker compose's rule on a service's
// healthcheck (checked when a container is created, not by `config`).
func checkHealthcheck(h *types.HealthCheckConfig) error {
	if h != nil && !h.Disable && h.StartInterval != nil && h.StartPeriod == nil {
		return errors.New("healthcheck.start_interval requires healthcheck.start_period to be set")
	}
	return nil
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

// networkAliases are the names s answers to on its network k: its own,
// then the aliases its networks entry lists.
func networkAliases(s types.ServiceConfig, k string) []string {
	aliases := []string{s.Name}
	if sn := s.Networks[k]; sn != nil {
		aliases = append(aliases, sn.Aliases...)
	}
	return aliases
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
	pm.HostPort = uint16(first)
	if isRange && hi != lo {
		// docker: the engine takes any free port of the range
		last, err := strconv.ParseUint(hi, 10, 16)
		if err != nil || last < first {
			return nil, fmt.Errorf("invalid published port range %q", p.Published)
		}
		if pm.HostPort, err = freeHostPort(pm.HostIP, proto, uint16(first), uint16(last)); err != nil {
			return nil, fmt.Errorf("published port range %q: %w", p.Published, err)
		}
	}
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
		if v.Tmpfs != nil && v.Tmpfs.Mode != 0 {
			m.Options = append(m.Options, fmt.Sprintf("mode=%o", v.Tmpfs.Mode))
		}
	default:
		return m, fmt.Errorf("service %s: volume type %q is not supported by cirun yet", s.Name, v.Type)
	}
	return m, nil
}

// containerSpec resolves what a service's spec needs beyond the compose
// model (the containers it shares namespaces or volumes with, the
// directory for its secrets and configs), then translates it.
func (s *session) containerSpec(ctx context.Context, in specInput) (*engine.ContainerSpec, error) {
	in.FilesDir = projectFilesDir(s.r.opts.RuntimeDir, s.project.Name)
	shared, err := s.sharedContainers(ctx, in.Service)
	if err != nil {
		return nil, err
	}
	in.Shared = shared
	spec, err := containerSpec(in)
	if err != nil {
		return nil, err
	}
	hosts, err := s.linkHosts(ctx, in.Service, spec)
	if err != nil {
		return nil, err
	}
	spec.ExtraHosts = append(spec.ExtraHosts, hosts...)
	return spec, nil
}

// sharedContainers maps the services svc shares namespaces or volumes with
// to their first container's ID. A service without a container is docker
// compose's error: "cannot share volume with service db: container missing".
func (s *session) sharedContainers(ctx context.Context, svc types.ServiceConfig) (map[string]string, error) {
	refs := sharedServices(svc)
	if len(refs) == 0 {
		return nil, nil
	}
	ids := map[string]string{}
	for _, ref := range refs {
		if ids[ref.service] != "" {
			continue
		}
		f := engine.ProjectFilter(s.project.Name)
		f.Labels[engine.LabelService] = ref.service
		f.Labels[engine.LabelOneoff] = "False"
		cs, err := s.r.eng.ListContainers(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("listing containers of service %s: %w", ref.service, err)
		}
		if len(cs) == 0 {
			return nil, fmt.Errorf("service %s: cannot share %s with service %s: container missing", svc.Name, ref.what, ref.service)
		}
		sort.Slice(cs, func(i, j int) bool {
			ni, _ := strconv.Atoi(cs[i].Labels[engine.LabelContainerNumber])
			nj, _ := strconv.Atoi(cs[j].Labels[engine.LabelContainerNumber])
			if ni != nj {
				return ni < nj
			}
			return cs[i].Name < cs[j].Name
		})
		ids[ref.service] = cs[0].ID
	}
	return ids, nil
}

// awaitShared waits until the services whose containers svc shares are
// up, when this command brings them up (runs), then checks that they have
// a container, as docker compose does before converging a service.
func (s *session) awaitShared(ctx context.Context, svc types.ServiceConfig, runs map[string]*svcRun) error {
	refs := sharedServices(svc)
	services := make([]string, len(refs))
	for i, ref := range refs {
		services[i] = ref.service
	}
	if err := awaitRuns(ctx, services, runs); err != nil {
		return err
	}
	if len(refs) == 0 {
		return nil
	}
	_, err := s.sharedContainers(ctx, svc)
	return err
}
