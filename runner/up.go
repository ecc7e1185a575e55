package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/compose"
	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/imagebuild"
)

// UpOptions are `cirun up`'s options.
type UpOptions struct {
	// Services to bring up; empty means every (enabled) service.
	Services []string
	Detach   bool
	// Wait blocks until every target is running, and healthy when it has a
	// healthcheck; WaitTimeout bounds it (0 = no limit).
	Wait        bool
	WaitTimeout time.Duration
	Build       bool // --build: build images before starting
	NoBuild     bool // --no-build: never build, fail on a missing image
	// ForceRecreate / NoRecreate: --force-recreate / --no-recreate. As in
	// docker compose, ForceRecreate concerns the services named in
	// Services (all when none is named), not the dependencies they pull in;
	// NoRecreate concerns both.
	ForceRecreate bool
	NoRecreate    bool
	// RecreateDeps (--always-recreate-deps) recreates those dependencies
	// too.
	RecreateDeps bool
	// RenewAnonVolumes (--renew-anon-volumes) gives recreated containers
	// new anonymous volumes instead of their predecessors'.
	RenewAnonVolumes bool
	// A project volume whose configuration changed since it was created
	// is recreated (with the containers using it; its data is lost) when
	// AssumeYes (-y) is set or Confirm says yes; otherwise it is kept, with
	// a warning, as docker compose does without an answer.
	AssumeYes bool
	Confirm   func(question string) (bool, error)
	NoDeps    bool
	// RemoveOrphans removes, IgnoreOrphans neither removes nor reports, the
	// orphans: containers of services not in the project (disabled ones
	// aside) and exited one-off containers, as docker compose.
	RemoveOrphans bool
	IgnoreOrphans bool
	NoStart       bool
	// StopTimeout is used when containers are stopped (recreate, abort,
	// Ctrl-C); nil means each service's stop_grace_period (default 10 s).
	StopTimeout *time.Duration
	// Scale overrides the number of replicas of services (--scale).
	Scale map[string]int
	// Pull replaces every service's pull_policy (--pull, as RunOptions.Pull).
	Pull string

	// The rest applies to an attached up (Detach false).

	// OnExit: docker compose's --abort-on-container-exit / -failure.
	OnExit Cascade
	// ExitCodeFrom names the service whose exit code `up` returns
	// (--exit-code-from; the CLI also sets OnExit to CascadeStop).
	ExitCodeFrom string
	// Attach restricts the output shown to these services (--attach);
	// NoAttach hides services (--no-attach); AttachDependencies shows the
	// dependencies' output too (--attach-dependencies).
	Attach             []string
	NoAttach           []string
	AttachDependencies bool
	// Log is how container output is written.
	Log LogFormat
	// AllResources creates every network and volume of the project, used
	// by a service or not (--all-resources).
	AllResources bool
}

// svcRun is one service's progress within a session.
type svcRun struct {
	name       string
	done       chan struct{}
	err        error
	containers []engine.Container
}

// Up creates and starts the services, as `docker compose up` does.
// Attached (Detach false), it then prints the output of the services until
// they have exited and returns nil, or an *ExitError with docker compose's
// exit code when OnExit or ExitCodeFrom decide one. When ctx ends (a
// signal), it stops containers as docker compose does (see interrupted)
// and returns ErrInterrupted.
func (r *Runner) Up(ctx context.Context, p *types.Project, o UpOptions) error {
	p, err := scaled(p, o.Scale)
	if err != nil {
		return err
	}
	if p, err = withPullPolicy(p, o.Pull); err != nil {
		return err
	}
	if o.ExitCodeFrom != "" {
		if _, err := p.GetService(o.ExitCodeFrom); err != nil {
			return err
		}
	}
	targets := o.Services
	if len(targets) == 0 {
		targets = p.ServiceNames()
	}
	attached := !o.Detach && !o.NoStart
	var plan attachPlan
	if attached {
		names := targets
		if !o.NoDeps {
			if names, err = closure(p, targets); err != nil {
				return err
			}
		}
		if plan, err = planAttach(p, names, o); err != nil {
			return err
		}
	}
	s := r.newSession(p)
	defer s.close()
	if attached {
		s.hookOutput = &[]hookRun{} // shown once attached, as docker compose does
	}
	since := r.opts.Clock.Now()
	runs, err := s.up(ctx, targets, o)
	if err == nil && o.Wait && !o.NoStart {
		err = s.waitReady(ctx, runs, targets, o.WaitTimeout)
	}
	if err == nil && attached {
		err = s.attach(ctx, runs, plan, o, since)
	}
	if ctx.Err() != nil {
		s.interrupted(attached, plan, o.StopTimeout)
		return ErrInterrupted
	}
	return err
}

// interrupted stops containers after a signal ended an `up`, as docker
// compose does, without removing anything (docs/decisions.md): attached,
// the containers of the services named on the command line (every service
// of the run when none is named) — dependencies and other containers of
// the project keep running; detached (interrupted while starting), the
// containers this run created. `down` removes them.
func (s *session) interrupted(attached bool, plan attachPlan, timeout *time.Duration) {
	s.cancel() // stop the health monitors
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs, err := s.r.eng.ListContainers(ctx, engine.ProjectFilter(s.project.Name))
	if err != nil {
		return
	}
	byService := map[string][]engine.Container{}
	var seq []string
	if attached {
		seq = plan.stop
		for _, c := range cs {
			if c.Labels[engine.LabelOneoff] != "True" && c.Running() {
				svc := c.Labels[engine.LabelService]
				byService[svc] = append(byService[svc], c)
			}
		}
	} else {
		mine := map[string]bool{}
		s.mu.Lock()
		for _, it := range s.created {
			if it.kind == "container" {
				mine[it.name] = true
			}
		}
		s.mu.Unlock()
		for _, c := range cs {
			if mine[c.ID] && c.Running() {
				svc := c.Labels[engine.LabelService]
				byService[svc] = append(byService[svc], c)
			}
		}
		names := make([]string, 0, len(byService))
		for n := range byService {
			names = append(names, n)
		}
		ordered, err := order(s.project, names)
		if err != nil {
			ordered = names
		}
		for i := len(ordered) - 1; i >= 0; i-- {
			seq = append(seq, ordered[i])
		}
	}
	runs := map[string]*svcRun{}
	for svc, list := range byService {
		runs[svc] = &svcRun{name: svc, containers: list}
	}
	_ = s.stopServices(ctx, runs, seq, timeout)
}

// scaled returns p with the replica counts of scale applied (a copy: p is
// not changed).
func scaled(p *types.Project, scale map[string]int) (*types.Project, error) {
	if len(scale) == 0 {
		return p, nil
	}
	names := make([]string, 0, len(scale))
	for n := range scale {
		names = append(names, n)
	}
	sort.Strings(names)
	cp := *p
	cp.Services = maps.Clone(p.Services)
	for _, n := range names {
		svc, err := cp.GetService(n)
		if err != nil {
			return nil, err
		}
		if scale[n] < 0 {
			return nil, fmt.Errorf("invalid scale %d for service %s: must not be negative", scale[n], n)
		}
		svc.SetScale(scale[n])
		cp.Services[n] = svc
	}
	return &cp, nil
}

// up converges the networks, volumes and containers of targets (and their
// dependencies unless NoDeps) and returns the per-service results.
func (s *session) up(ctx context.Context, targets []string, o UpOptions) (map[string]*svcRun, error) {
	p := s.project
	names := targets
	var err error
	if !o.NoDeps {
		if names, err = closure(p, targets); err != nil {
			return nil, err
		}
	} else {
		for _, n := range names {
			if _, ok := p.Services[n]; !ok {
				return nil, fmt.Errorf("no such service: %s", n)
			}
		}
	}
	if _, err := order(p, names); err != nil {
		return nil, err
	}
	for _, n := range names { // before anything is created
		if err := checkHealthcheck(p.Services[n].HealthCheck); err != nil {
			return nil, err
		}
	}
	existing, err := s.r.eng.ListContainers(ctx, engine.ProjectFilter(p.Name))
	if err != nil {
		return nil, fmt.Errorf("listing containers of project %s: %w", p.Name, err)
	}
	byService := map[string][]engine.Container{}
	for _, c := range existing {
		if svc := c.Labels[engine.LabelService]; c.Labels[engine.LabelOneoff] != "True" {
			byService[svc] = append(byService[svc], c)
		}
	}
	if !o.IgnoreOrphans {
		if err := s.handleOrphans(ctx, orphans(p, existing), o.RemoveOrphans); err != nil {
			return nil, err
		}
	}
	s.allResources = o.AllResources
	if err := s.ensureNetworks(ctx, names); err != nil {
		return nil, err
	}
	if err := s.recreateVolumes(ctx, names, byService, o); err != nil {
		return nil, err
	}
	if err := s.ensureVolumes(ctx, names); err != nil {
		return nil, err
	}

	runs := map[string]*svcRun{}
	for _, n := range names {
		runs[n] = &svcRun{name: n, done: make(chan struct{})}
	}
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Add(1)
		go func(run *svcRun) {
			defer wg.Done()
			defer close(run.done)
			run.containers, run.err = s.upService(ctx, run.name, runs, byService[run.name], o)
		}(runs[n])
	}
	wg.Wait()
	ordered, _ := order(p, names)
	var first error
	for _, n := range ordered {
		if e := runs[n].err; e != nil && !errors.Is(e, errDepFailed) && first == nil {
			first = e
		}
	}
	if ctx.Err() != nil {
		return runs, ctx.Err()
	}
	return runs, first
}

// errDepFailed marks a service skipped because a dependency failed (the
// dependency's own error is the one reported).
var errDepFailed = errors.New("dependency failed")

func (s *session) upService(ctx context.Context, name string, runs map[string]*svcRun, existing []engine.Container, o UpOptions) ([]engine.Container, error) {
	svc := s.project.Services[name]
	// As docker compose does, containers are created (or recreated) as soon
	// as their image is there, while dependencies start; they are started
	// once the dependencies' conditions hold.
	var containers []engine.Container
	var steps []Action
	img, err := s.ensureImage(ctx, svc, o.Build, o.NoBuild)
	if err == nil {
		err = s.awaitShared(ctx, svc, runs) // network_mode: service:..., volumes_from
	}
	if err == nil {
		err = s.awaitLinks(ctx, svc, runs)
	}
	if err == nil {
		policy := recreateDiverged
		named := len(o.Services) == 0 || slices.Contains(o.Services, name)
		switch {
		case o.NoRecreate:
			policy = recreateNever
		case named && o.ForceRecreate, !named && o.RecreateDeps:
			policy = recreateForce
		}
		want := desired{Service: name, Replicas: replicas(svc), Hash: compose.ServiceHash(svc), ImageID: img.ID, Volumes: volumesKey(s.project, svc)}
		containers, steps, err = s.prepare(ctx, svc, img, decide(want, existing, policy), o)
	}
	deps := make([]string, 0, len(svc.DependsOn))
	for d := range svc.DependsOn {
		if runs[d] != nil {
			deps = append(deps, d)
		}
	}
	sort.Strings(deps)
	for _, d := range deps {
		select {
		case <-runs[d].done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if runs[d].err != nil {
			return nil, errDepFailed
		}
		if o.NoStart {
			continue
		}
		if err := s.waitCondition(ctx, d, svc.DependsOn[d], runs[d].containers); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	if o.NoStart {
		return containers, nil
	}
	for i := range containers {
		if steps[i].Kind == ActKeep {
			continue
		}
		if err := s.startContainer(ctx, &containers[i]); err != nil {
			return nil, err
		}
	}
	return containers, nil
}

// prepare executes the removing and creating part of a service's plan and
// returns its containers (not yet started) with the action for each.
func (s *session) prepare(ctx context.Context, svc types.ServiceConfig, img engine.Image, plan Plan, o UpOptions) ([]engine.Container, []Action, error) {
	r := s.r
	var out []engine.Container
	var steps []Action
	for _, a := range plan {
		name := containerName(s.project.Name, svc, a.Number)
		switch a.Kind {
		case ActRemove:
			if err := s.removeContainer(ctx, *a.Existing, o.StopTimeout); err != nil {
				return nil, nil, err
			}
			continue
		case ActRecreate:
			r.event("Container", a.Existing.Name, "Recreate", a.Reason)
			var anon map[string]string
			if !o.RenewAnonVolumes {
				var err error
				if anon, err = s.anonymousVolumes(ctx, *a.Existing); err != nil {
					return nil, nil, err
				}
			}
			t := stopTimeout(svc, o.StopTimeout)
			if err := s.removeContainerKeep(ctx, *a.Existing, &t, len(anon) > 0); err != nil {
				return nil, nil, err
			}
			c, err := s.createContainer(ctx, svc, img, a.Number, name, false, inheritVolumes(anon, img))
			if err != nil {
				return nil, nil, err
			}
			s.removeVolumes(ctx, anon)
			a.Existing = &c
		case ActCreate:
			c, err := s.createContainer(ctx, svc, img, a.Number, name, false, nil)
			if err != nil {
				return nil, nil, err
			}
			a.Existing = &c
		case ActKeep:
			r.event("Container", a.Existing.Name, "Running", "")
		}
		out = append(out, *a.Existing)
		steps = append(steps, a)
	}
	return out, steps, nil
}

func stopTimeout(svc types.ServiceConfig, override *time.Duration) time.Duration {
	if override != nil {
		return *override
	}
	if svc.StopGracePeriod != nil {
		return time.Duration(*svc.StopGracePeriod)
	}
	return 10 * time.Second
}

// createContainer creates one container of svc. cmd overrides the command
// (one-off runs).
func (s *session) createContainer(ctx context.Context, svc types.ServiceConfig, img engine.Image, number int, name string, oneoff bool, override func(*engine.ContainerSpec)) (engine.Container, error) {
	r := s.r
	spec, err := s.containerSpec(ctx, specInput{
		Project: s.project, Service: svc, Number: number, Name: name, Oneoff: oneoff,
		Image: imageName(s.project.Name, svc), ImageID: img.ID, ImageCheck: img.Healthcheck, Version: r.opts.Version,
	})
	if err != nil {
		return engine.Container{}, err
	}
	if override != nil {
		override(spec)
	}
	r.event("Container", name, "Creating", "")
	id, err := r.eng.CreateContainer(ctx, spec)
	if err != nil {
		r.event("Container", name, "Error", err.Error())
		if errors.Is(err, engine.ErrConflict) {
			return engine.Container{}, fmt.Errorf("creating container %s: the name is already in use by a container that is not part of project %s (remove it, or set container_name): %w", name, s.project.Name, err)
		}
		return engine.Container{}, fmt.Errorf("creating container %s: %w", name, err)
	}
	s.track("container", id)
	r.event("Container", name, "Created", "")
	return engine.Container{ID: id, Name: name, Labels: spec.Labels, State: engine.StateCreated, Healthcheck: spec.Health}, nil
}

// startContainer starts c, begins its health monitoring and runs its
// service's post_start hooks.
func (s *session) startContainer(ctx context.Context, c *engine.Container) error {
	r := s.r
	r.event("Container", c.Name, "Starting", "")
	if err := r.eng.StartContainer(ctx, c.ID); err != nil {
		r.event("Container", c.Name, "Error", err.Error())
		return fmt.Errorf("starting container %s: %w", c.Name, err)
	}
	c.State = engine.StateRunning
	c.StartedAt = r.opts.Clock.Now()
	if c.Healthcheck != nil {
		c.Health = engine.HealthStarting
		s.startMonitor(*c)
	}
	r.event("Container", c.Name, "Started", "")
	if svc, ok := s.project.Services[c.Labels[engine.LabelService]]; ok && c.Labels[engine.LabelOneoff] != "True" {
		if err := r.runHooks(ctx, *c, svc, svc.PostStart, s.hookWriter(*c)); err != nil {
			r.event("Container", c.Name, "Error", err.Error())
			return err
		}
	}
	return nil
}

// startMonitor starts health monitoring of c unless it is already running.
func (s *session) startMonitor(c engine.Container) *monitor {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.monitors[c.ID]; m != nil {
		return m
	}
	started := c.StartedAt
	if started.IsZero() {
		started = s.r.opts.Clock.Now()
	}
	m := newMonitor(s.r.eng, s.r.opts.Clock, c.ID, c.Name, *c.Healthcheck, started, s.r.opts.FastPoll)
	s.monitors[c.ID] = m
	go m.run(s.mctx)
	return m
}

// waitCondition waits until dependency dep satisfies cond.
func (s *session) waitCondition(ctx context.Context, dep string, d types.ServiceDependency, containers []engine.Container) error {
	cond := d.Condition
	if cond == "" {
		cond = types.ServiceConditionStarted
	}
	for _, c := range containers {
		var err error
		switch cond {
		case types.ServiceConditionStarted:
			continue
		case types.ServiceConditionHealthy:
			err = s.waitHealthy(ctx, c)
		case types.ServiceConditionCompletedSuccessfully:
			err = s.waitCompleted(ctx, c)
		default:
			return fmt.Errorf("service %s: depends_on condition %q is not supported", dep, cond)
		}
		if err != nil {
			var se *ServiceError
			if errors.As(err, &se) && !d.Required {
				// docker compose goes on without an optional dependency
				msg := fmt.Sprintf("optional dependency %q failed to start: %s", dep, err)
				if rest, ok := strings.CutPrefix(se.Reason, "didn't complete"); ok {
					msg = fmt.Sprintf("optional dependency %q didn't complete%s", dep, rest)
				}
				s.r.event("Container", c.Name, "Warning", msg)
				return nil
			}
			if se != nil {
				se.Service = dep
				se.Dependency = true
				se.Logs = s.tail(c.ID, 20)
			}
			return err
		}
	}
	return nil
}

// waitHealthy waits until c is healthy, running its healthchecks.
func (s *session) waitHealthy(ctx context.Context, c engine.Container) error {
	r := s.r
	if c.Healthcheck == nil {
		full, err := r.eng.InspectContainer(ctx, c.ID)
		if err != nil {
			return fmt.Errorf("inspecting %s: %w", c.Name, err)
		}
		c = full
	}
	if c.Healthcheck == nil {
		return s.noHealthcheck(ctx, c)
	}
	if c.Health == engine.HealthHealthy && c.Running() {
		return nil
	}
	r.event("Container", c.Name, "Waiting", "")
	m := s.startMonitor(c)
	if err := m.waitHealthy(ctx); err != nil {
		if ctx.Err() == nil {
			r.event("Container", c.Name, "Error", err.Error())
		}
		return err
	}
	r.event("Container", c.Name, "Healthy", "")
	return nil
}

// noHealthcheck is the error for a service_healthy dependency without a
// healthcheck. docker compose looks at the container on its first tick, half
// a second after the start, and reports a container that exited by then as
// "exited (N)" rather than as lacking a healthcheck; so does this.
func (s *session) noHealthcheck(ctx context.Context, c engine.Container) error {
	if c.Running() {
		wctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_, _ = s.r.eng.WaitContainer(wctx, c.ID)
		cancel()
		if got, err := s.r.eng.InspectContainer(ctx, c.ID); err == nil {
			c = got
		}
	}
	if !c.Running() && c.State != engine.StateCreated {
		return &ServiceError{Container: c.Name, Reason: fmt.Sprintf("exited (%d)", c.ExitCode)}
	}
	return &ServiceError{Container: c.Name, Reason: "has no healthcheck configured"}
}

// waitCompleted waits until c exited, and fails unless it exited 0.
func (s *session) waitCompleted(ctx context.Context, c engine.Container) error {
	r := s.r
	r.event("Container", c.Name, "Waiting", "")
	code, err := r.eng.WaitContainer(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("waiting for %s: %w", c.Name, err)
	}
	if code != 0 {
		return &ServiceError{Container: c.Name, Reason: fmt.Sprintf("didn't complete successfully: exit %d", code)}
	}
	r.event("Container", c.Name, "Exited", "")
	return nil
}

// oneShot reports whether a service is a dependency with condition
// service_completed_successfully: docker compose's --wait waits for such a
// service to complete instead of to run.
func oneShot(p *types.Project, svc string) bool {
	for _, other := range p.Services {
		if d, ok := other.DependsOn[svc]; ok && d.Condition == types.ServiceConditionCompletedSuccessfully {
			return true
		}
	}
	return false
}

// waitReady implements --wait: every container of the targets running, and
// healthy when it has a healthcheck; one-shot dependencies completed.
func (s *session) waitReady(ctx context.Context, runs map[string]*svcRun, targets []string, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	errc := make(chan error, 64)
	var wg sync.WaitGroup
	for _, t := range targets {
		for _, c := range runs[t].containers {
			wg.Add(1)
			go func(svc string, c engine.Container) {
				defer wg.Done()
				var err error
				switch {
				case oneShot(s.project, svc):
					err = s.waitCompleted(ctx, c)
				case c.Healthcheck != nil:
					err = s.waitHealthy(ctx, c)
				default:
					err = s.checkRunning(ctx, c)
				}
				var se *ServiceError
				if errors.As(err, &se) {
					se.Service = svc
					se.Logs = s.tail(c.ID, 20)
				}
				if err != nil {
					errc <- err
				}
			}(t, c)
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("application not healthy after %s", timeout)
		}
		return err
	}
	return nil
}

func (s *session) checkRunning(ctx context.Context, c engine.Container) error {
	got, err := s.r.eng.InspectContainer(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("inspecting %s: %w", c.Name, err)
	}
	if !got.Running() {
		return &ServiceError{Container: c.Name, Reason: fmt.Sprintf("exited (%d)", got.ExitCode)}
	}
	return nil
}

// ensureImage makes the service's image available locally: built when it
// has a build section and the policy says so, pulled otherwise.
func (s *session) ensureImage(ctx context.Context, svc types.ServiceConfig, forceBuild, noBuild bool) (engine.Image, error) {
	ref := imageName(s.project.Name, svc)
	if svc.Build == nil {
		// an image another service builds is built, not pulled (docker
		// compose pulls only images no service builds)
		if b, ok := s.builderOf(ref); ok {
			svc = b
		}
	}
	s.mu.Lock()
	o := s.images[ref]
	if o == nil {
		o = &imageOnce{ref: ref}
		s.images[ref] = o
	}
	s.mu.Unlock()
	o.once.Do(func() { o.img, o.err = s.resolveImage(ctx, svc, ref, forceBuild, noBuild) })
	return o.img, o.err
}

// builderOf returns the service of the project that builds image ref.
func (s *session) builderOf(ref string) (types.ServiceConfig, bool) {
	for _, name := range s.project.ServiceNames() {
		if b := s.project.Services[name]; b.Build != nil && imageName(s.project.Name, b) == ref {
			return b, true
		}
	}
	return types.ServiceConfig{}, false
}

func (s *session) resolveImage(ctx context.Context, svc types.ServiceConfig, ref string, forceBuild, noBuild bool) (engine.Image, error) {
	r := s.r
	policy := svc.PullPolicy
	build := false
	if svc.Build != nil && !noBuild {
		switch {
		case forceBuild:
			build = true
		case policy == types.PullPolicyBuild:
			build = !s.skipBuild(ctx, svc, ref)
		default:
			ok, err := r.eng.ImageExists(ctx, ref)
			if err != nil {
				return engine.Image{}, fmt.Errorf("looking up image %s: %w", ref, err)
			}
			build = !ok
		}
	}
	if build {
		if err := s.build(ctx, svc, ref); err != nil {
			return engine.Image{}, err
		}
	} else if svc.Build == nil || noBuild {
		if err := s.pull(ctx, svc, ref, policy); err != nil {
			return engine.Image{}, err
		}
	}
	img, err := r.eng.InspectImage(ctx, ref)
	if errors.Is(err, engine.ErrNotFound) {
		return img, fmt.Errorf("service %s: image %s not found locally (pull_policy %q)", svc.Name, ref, policy)
	}
	if err != nil {
		return img, fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	return img, nil
}

func (s *session) pull(ctx context.Context, svc types.ServiceConfig, ref, policy string) error {
	r := s.r
	switch policy {
	case types.PullPolicyNever, types.PullPolicyBuild:
		return nil
	case types.PullPolicyAlways:
	default: // missing, if_not_present, ""
		ok, err := r.eng.ImageExists(ctx, ref)
		if err != nil {
			return fmt.Errorf("looking up image %s: %w", ref, err)
		}
		if ok {
			return nil
		}
	}
	r.event("Image", ref, "Pulling", "")
	if err := r.eng.PullImage(ctx, ref, engine.PullOptions{Quiet: true, Platform: svc.Platform}); err != nil {
		r.event("Image", ref, "Error", err.Error())
		return fmt.Errorf("service %s: pulling image %s: %w", svc.Name, ref, err)
	}
	r.event("Image", ref, "Pulled", "")
	return nil
}

// build builds the service's image once per session, whoever asks first:
// `cirun build` for every service, ensureImage, or another service whose
// additional_contexts names it with "service:".
func (s *session) build(ctx context.Context, svc types.ServiceConfig, ref string) error {
	s.mu.Lock()
	o := s.images["build "+ref]
	if o == nil {
		o = &imageOnce{ref: ref}
		s.images["build "+ref] = o
	}
	s.mu.Unlock()
	o.once.Do(func() { o.err = s.buildNow(ctx, svc, ref) })
	return o.err
}

func (s *session) buildNow(ctx context.Context, svc types.ServiceConfig, ref string) error {
	r := s.r
	if r.opts.Builder == nil {
		return fmt.Errorf("service %s has a build section but no image builder is available", svc.Name)
	}
	req := s.buildRequest(svc, ref)
	req.Progress = r.opts.Stderr
	req.ProgressMode = r.opts.BuildProgress
	// additional_contexts "service:NAME": that service's image, built first
	// (or pulled when it has no build section).
	if err := contextCycle(s.project, svc.Name, nil); err != nil {
		return err
	}
	for name, v := range req.AdditionalContexts {
		dep, ok := strings.CutPrefix(v, types.ServicePrefix)
		if !ok {
			continue
		}
		depSvc, ok := s.project.Services[dep]
		if !ok {
			return fmt.Errorf("service %s: build.additional_contexts.%s: no such service %q", svc.Name, name, dep)
		}
		depRef := imageName(s.project.Name, depSvc)
		var err error
		if depSvc.Build != nil {
			err = s.build(ctx, depSvc, depRef)
		} else {
			_, err = s.ensureImage(ctx, depSvc, false, false)
		}
		if err != nil {
			return fmt.Errorf("service %s: building additional context %s (service %s): %w", svc.Name, name, dep, err)
		}
		req.AdditionalContexts[name] = "docker-image://" + depRef
	}
	r.event("Image", ref, "Building", "")
	res, err := r.opts.Builder.Build(ctx, req)
	if err != nil {
		r.event("Image", ref, "Error", err.Error())
		return fmt.Errorf("building service %s: %w", svc.Name, err)
	}
	r.event("Image", ref, "Built", res.Duration.Round(time.Millisecond).String())
	s.recordBuild(ctx, req, ref)
	return nil
}

// contextCycle fails when additional_contexts "service:" references lead
// from service back to itself.
func contextCycle(p *types.Project, service string, seen []string) error {
	if slices.Contains(seen, service) {
		return fmt.Errorf("build.additional_contexts: services refer to each other in a cycle: %s", strings.Join(append(seen, service), " -> "))
	}
	svc, ok := p.Services[service]
	if !ok || svc.Build == nil {
		return nil
	}
	seen = append(seen, service)
	for _, k := range slices.Sorted(maps.Keys(svc.Build.AdditionalContexts)) {
		if dep, ok := strings.CutPrefix(svc.Build.AdditionalContexts[k], types.ServicePrefix); ok {
			if err := contextCycle(p, dep, seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// buildRequest is the request buildNow runs for svc: buildRequest's
// translation plus the runner's registry options (--registry wins over the
// compose file's x-cirun registry).
func (s *session) buildRequest(svc types.ServiceConfig, ref string) imagebuild.Request {
	req := buildRequest(s.project, svc, ref)
	if s.r.opts.Registry != "" {
		req.Registry = s.r.opts.Registry
	}
	req.InsecureRegistry = s.r.opts.InsecureRegistry
	return req
}

// buildRequest translates a service's build section. A registry named by
// the compose file (`x-cirun: {registry: HOST:PORT}`) is the build's cache
// and image exchange unless the runner's options name one.
func buildRequest(p *types.Project, svc types.ServiceConfig, ref string) imagebuild.Request {
	b := svc.Build
	req := imagebuild.Request{
		Service:          svc.Name,
		ContextDir:       b.Context,
		Dockerfile:       b.Dockerfile,
		DockerfileInline: b.DockerfileInline,
		Tags:             append([]string{ref}, b.Tags...),
		Args:             map[string]*string(b.Args),
		Target:           b.Target,
		Labels:           map[string]string(b.Labels),
		NoCache:          b.NoCache,
		Pull:             b.Pull,
		Network:          b.Network,
		ShmSize:          int64(b.ShmSize),
		CacheFrom:        b.CacheFrom,
		CacheTo:          b.CacheTo,
		Platforms:        b.Platforms,
		Registry:         projectRegistry(p),
	}
	if req.ContextDir == "" {
		req.ContextDir = p.WorkingDir
	}
	req.Dockerfile = dockerfile(req.ContextDir, req.Dockerfile)
	for host, ips := range b.ExtraHosts {
		for _, ip := range ips {
			req.ExtraHosts = append(req.ExtraHosts, host+":"+ip)
		}
	}
	sort.Strings(req.ExtraHosts)
	// Build secrets, as docker compose: the id is the target when given,
	// else the secret's name; file and environment sources (the loader
	// resolved the variable from the project's environment).
	for _, bs := range b.Secrets {
		sec := imagebuild.Secret{ID: bs.Source}
		if bs.Target != "" {
			sec.ID = bs.Target
		}
		if def, ok := p.Secrets[bs.Source]; ok {
			switch {
			case def.File != "":
				sec.File = def.File
			case def.Environment != "":
				// compose-go stores the variable's value, from the project's
				// environment (.env included), in Content.
				sec.EnvVar = def.Environment
				if def.Content != "" {
					v := def.Content
					sec.Value = &v
				} else if v, ok := def.Extensions[types.SecretConfigXValue].(string); ok {
					sec.Value = &v
				}
			case def.Content != "":
				v := def.Content
				sec.Value = &v
			}
		}
		req.Secrets = append(req.Secrets, sec)
	}
	for _, k := range b.SSH {
		if k.Path == "" {
			req.SSH = append(req.SSH, k.ID)
		} else {
			req.SSH = append(req.SSH, k.ID+"="+k.Path)
		}
	}
	if len(b.AdditionalContexts) > 0 {
		req.AdditionalContexts = make(map[string]string, len(b.AdditionalContexts))
		for k, v := range b.AdditionalContexts {
			req.AdditionalContexts[k] = v
		}
	}
	return req
}

// projectRegistry is `x-cirun: {registry: HOST:PORT}` of the compose file.
func projectRegistry(p *types.Project) string {
	x, _ := p.Extensions["x-cirun"].(map[string]any)
	reg, _ := x["registry"].(string)
	return reg
}

// dockerfile resolves the Dockerfile path. compose-go fills in "Dockerfile"
// when the file names none; like podman-compose and buildah, cirun then
// takes Containerfile when only that exists.
func dockerfile(contextDir, name string) string {
	if name != "" && name != "Dockerfile" {
		return name
	}
	if _, err := os.Stat(filepath.Join(contextDir, "Dockerfile")); err == nil {
		return "Dockerfile"
	}
	if _, err := os.Stat(filepath.Join(contextDir, "Containerfile")); err == nil {
		return "Containerfile"
	}
	return name
}

// ensureNetworks creates the project networks the services use.
func (s *session) ensureNetworks(ctx context.Context, names []string) error {
	r := s.r
	p := s.project
	used := map[string]bool{}
	if s.allResources {
		for k := range p.Networks {
			used[k] = true
		}
	}
	for _, n := range names {
		svc := p.Services[n]
		if svc.NetworkMode != "" && svc.NetworkMode != "bridge" {
			continue
		}
		for k := range svc.Networks {
			used[k] = true
		}
	}
	keys := make([]string, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		nc, ok := p.Networks[k]
		if !ok {
			return fmt.Errorf("network %s is used by a service but not declared", k)
		}
		existing, err := r.eng.InspectNetwork(ctx, nc.Name)
		if err == nil {
			if nc.External {
				continue
			}
			// docker compose's checks on a network it did not create
			switch owner, ok := existing.Labels[engine.LabelProject]; {
			case !ok:
				r.event("Network", nc.Name, "Warning", fmt.Sprintf("a network with name %s exists but was not created by compose. Set `external: true` to use an existing network", nc.Name))
			case owner != p.Name:
				r.event("Network", nc.Name, "Warning", fmt.Sprintf("a network with name %s exists but was not created for project %q. Set `external: true` to use an existing network", nc.Name, p.Name))
			}
			if got := existing.Labels[engine.LabelNetwork]; got != k {
				return fmt.Errorf("network %s was found but has incorrect label %s set to %q (expected: %q)", nc.Name, engine.LabelNetwork, got, k)
			}
			continue
		}
		if !errors.Is(err, engine.ErrNotFound) {
			return fmt.Errorf("inspecting network %s: %w", nc.Name, err)
		}
		if nc.External {
			return fmt.Errorf("network %s declared as external, but could not be found", nc.Name)
		}
		spec := engine.NetworkSpec{
			Name: nc.Name, Driver: nc.Driver, Internal: nc.Internal, Options: bridgeOptions(nc.DriverOpts),
			Labels: map[string]string{engine.LabelProject: p.Name, engine.LabelNetwork: k, engine.LabelVersion: r.opts.Version},
		}
		for lk, lv := range nc.Labels {
			spec.Labels[lk] = lv
		}
		if nc.EnableIPv6 != nil {
			spec.IPv6 = *nc.EnableIPv6
		}
		for _, pool := range nc.Ipam.Config {
			if pool != nil {
				spec.Subnets = append(spec.Subnets, engine.Subnet{Subnet: pool.Subnet, Gateway: pool.Gateway, IPRange: pool.IPRange})
			}
		}
		r.event("Network", nc.Name, "Creating", "")
		if err := r.eng.CreateNetwork(ctx, spec); err != nil && !errors.Is(err, engine.ErrConflict) {
			r.event("Network", nc.Name, "Error", err.Error())
			if len(spec.Options) > 0 {
				return fmt.Errorf("creating network %s (networks.%s.driver_opts: Podman's bridge takes mtu, vlan and isolate): %w", nc.Name, k, err)
			}
			return fmt.Errorf("creating network %s: %w", nc.Name, err)
		} else if err == nil {
			s.track("network", nc.Name)
		}
		r.event("Network", nc.Name, "Created", "")
	}
	return nil
}

// ensureVolumes creates the project's named volumes the services use.
func (s *session) ensureVolumes(ctx context.Context, names []string) error {
	r := s.r
	p := s.project
	for _, k := range usedVolumes(p, names, s.allResources) {
		vc, ok := p.Volumes[k]
		if !ok {
			return fmt.Errorf("volume %s is used by a service but not declared", k)
		}
		existing, err := r.eng.InspectVolume(ctx, vc.Name)
		if err == nil {
			if vc.External {
				continue
			}
			// docker compose's checks on a volume it did not create
			switch owner, ok := existing.Labels[engine.LabelProject]; {
			case !ok:
				r.event("Volume", vc.Name, "Warning", fmt.Sprintf("volume %q already exists but was not created by Docker Compose. Use `external: true` to use an existing volume", vc.Name))
			case owner != p.Name:
				r.event("Volume", vc.Name, "Warning", fmt.Sprintf("volume %q already exists but was created for project %q (expected %q). Use `external: true` to use an existing volume", vc.Name, owner, p.Name))
			}
			continue
		}
		if !errors.Is(err, engine.ErrNotFound) {
			return fmt.Errorf("inspecting volume %s: %w", vc.Name, err)
		}
		if vc.External {
			return fmt.Errorf("external volume %q not found", vc.Name)
		}
		spec := engine.VolumeSpec{
			Name: vc.Name, Driver: vc.Driver, Options: map[string]string(vc.DriverOpts),
			Labels: map[string]string{engine.LabelProject: p.Name, engine.LabelVolume: k, engine.LabelVersion: r.opts.Version,
				engine.LabelConfigHash: volumeHash(vc)},
		}
		for lk, lv := range vc.Labels {
			spec.Labels[lk] = lv
		}
		r.event("Volume", vc.Name, "Creating", "")
		if err := r.eng.CreateVolume(ctx, spec); err != nil && !errors.Is(err, engine.ErrConflict) {
			r.event("Volume", vc.Name, "Error", err.Error())
			if strings.Contains(vc.DriverOpts["o"], "size=") {
				// Podman 4.3 reads size= in o as a storage quota, even for tmpfs
				return fmt.Errorf("creating volume %s (driver_opts o: size= needs a Podman newer than 4.3; use a tmpfs mount with size instead): %w", vc.Name, err)
			}
			return fmt.Errorf("creating volume %s: %w", vc.Name, err)
		} else if err == nil {
			s.track("volume", vc.Name)
		}
		r.event("Volume", vc.Name, "Created", "")
	}
	return nil
}

// orphans are, among a project's containers, those of services not in p
// (disabled ones aside) and the exited one-off containers (`run` without
// --rm), whatever their service, as docker compose counts them.
func orphans(p *types.Project, containers []engine.Container) []engine.Container {
	var out []engine.Container
	for _, c := range containers {
		if c.Labels[engine.LabelOneoff] == "True" {
			if c.Exited() {
				out = append(out, c)
			}
			continue
		}
		svc := c.Labels[engine.LabelService]
		_, enabled := p.Services[svc]
		_, disabled := p.DisabledServices[svc]
		if !enabled && !disabled {
			out = append(out, c)
		}
	}
	return out
}

// handleOrphans warns about (or removes) containers of services no longer
// in the project, with docker compose's wording.
func (s *session) handleOrphans(ctx context.Context, orphans []engine.Container, remove bool) error {
	if len(orphans) == 0 {
		return nil
	}
	if !remove {
		names := make([]string, len(orphans))
		for i, c := range orphans {
			names[i] = c.Name
		}
		sort.Strings(names)
		s.r.event("Project", s.project.Name, "Warning", fmt.Sprintf("Found orphan containers ([%s]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.", strings.Join(names, " ")))
		return nil
	}
	for _, c := range orphans {
		if err := s.removeContainer(ctx, c, nil); err != nil {
			return err
		}
	}
	return nil
}

// removeContainer stops (with timeout) and removes one container with its
// anonymous volumes.
func (s *session) removeContainer(ctx context.Context, c engine.Container, timeout *time.Duration) error {
	return s.removeContainerKeep(ctx, c, timeout, false)
}

// removeContainerKeep is removeContainer; keepVolumes leaves the anonymous
// volumes in place (a recreated container inherits them).
func (s *session) removeContainerKeep(ctx context.Context, c engine.Container, timeout *time.Duration, keepVolumes bool) error {
	r := s.r
	t := 10 * time.Second
	if timeout != nil {
		t = *timeout
	}
	if c.Running() {
		r.event("Container", c.Name, "Stopping", "")
	}
	r.event("Container", c.Name, "Removing", "")
	err := r.eng.RemoveContainer(ctx, c.ID, engine.RemoveOptions{Force: true, Volumes: !keepVolumes, Timeout: t})
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		r.event("Container", c.Name, "Error", err.Error())
		return fmt.Errorf("removing container %s: %w", c.Name, err)
	}
	r.event("Container", c.Name, "Removed", "")
	return nil
}

// rollback removes what this session created (after an interrupt), newest
// first, with a fresh context so it runs even though the command's ended.
func (s *session) rollback(timeout *time.Duration) {
	s.cancel() // stop the monitors; nothing to settle

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s.mu.Lock()
	items := append([]created(nil), s.created...)
	s.mu.Unlock()
	t := time.Duration(0)
	if timeout != nil {
		t = *timeout
	}
	var wg sync.WaitGroup
	for _, it := range items {
		if it.kind == "container" {
			wg.Add(1)
			go func(id string) {
				defer wg.Done()
				_ = s.r.eng.RemoveContainer(ctx, id, engine.RemoveOptions{Force: true, Volumes: true, Timeout: t})
			}(it.name)
		}
	}
	wg.Wait()
	for i := len(items) - 1; i >= 0; i-- {
		switch it := items[i]; it.kind {
		case "network":
			_ = s.r.eng.RemoveNetwork(ctx, it.name)
			s.r.event("Network", it.name, "Removed", "")
		case "volume":
			_ = s.r.eng.RemoveVolume(ctx, it.name, true)
			s.r.event("Volume", it.name, "Removed", "")
		}
	}
}
