package runner

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
)

// PsOptions select containers for `cirun ps`.
type PsOptions struct {
	Services []string
	All      bool // include stopped containers
}

// Ps lists the project's containers, sorted by name, inspected (state,
// health, exit code, ports).
func (r *Runner) Ps(ctx context.Context, project string, o PsOptions) ([]engine.Container, error) {
	return Ps(ctx, r.eng, project, o)
}

// Ps is Runner.Ps over any lister: cirun's front binary answers `ps` with
// Podman's REST API alone (engine/podman/rest).
func Ps(ctx context.Context, eng engine.ContainerLister, project string, o PsOptions) ([]engine.Container, error) {
	f := engine.ProjectFilter(project)
	cs, err := eng.ListContainers(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("listing containers of project %s: %w", project, err)
	}
	want := map[string]bool{}
	for _, s := range o.Services {
		want[s] = true
	}
	var out []engine.Container
	for _, c := range cs {
		if len(want) > 0 && !want[c.Labels[engine.LabelService]] {
			continue
		}
		if !o.All && !c.Running() {
			continue
		}
		out = append(out, c)
	}
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if full, err := eng.InspectContainer(ctx, out[i].ID); err == nil {
				out[i] = full
			}
		}(i)
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// LogsOptions are `cirun logs`' options.
type LogsOptions struct {
	Services   []string
	Follow     bool
	Tail       int
	Timestamps bool
	NoPrefix   bool
	// Since and Until bound the lines shown by time (zero: unbounded).
	Since, Until time.Time
	// Index, when > 0, selects the service's container of that number
	// (--index); it needs exactly one service.
	Index int
}

// Logs writes the logs of the project's containers to Stdout (their
// stderr to Stderr), prefixed by container ("db-1  | ") unless NoPrefix.
// With Follow it also follows the containers of the selected services that
// start meanwhile (a new replica, a service brought up later), as docker
// compose, and returns once every container it follows has stopped.
func (r *Runner) Logs(ctx context.Context, project string, o LogsOptions) error {
	if o.Index > 0 && len(o.Services) != 1 {
		return fmt.Errorf("logs --index %d: name exactly one service", o.Index)
	}
	begin := r.opts.Clock.Now()
	cs, err := r.Ps(ctx, project, PsOptions{Services: o.Services, All: true})
	if err != nil {
		return err
	}
	if o.Index > 0 {
		cs = slices.DeleteFunc(cs, func(c engine.Container) bool {
			return c.Labels[engine.LabelContainerNumber] != strconv.Itoa(o.Index) || c.Labels[engine.LabelOneoff] == "True"
		})
		if len(cs) == 0 {
			return fmt.Errorf("service %q has no container #%d", o.Services[0], o.Index)
		}
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = shortName(c)
	}
	l := &logFollow{r: r, o: o, prefixes: logPrefixes(names), active: map[string]bool{}, from: map[string]time.Time{}, errc: make(chan error, 1)}
	for _, n := range names {
		l.width = max(l.width, len(n))
	}
	ectx, stopEvents := context.WithCancel(ctx)
	defer stopEvents()
	listed := r.opts.Clock.Now() // a start seen before is in cs
	for _, c := range cs {
		l.follow(ctx, c, time.Time{}, listed)
	}
	if o.Follow && o.Index == 0 {
		go l.watch(ectx, project, begin)
	}
	l.wg.Wait()
	stopEvents()
	select {
	case err := <-l.errc:
		return err
	default:
		return nil
	}
}

// logFollow is one `logs` command: the containers whose logs it writes.
type logFollow struct {
	r        *Runner
	o        LogsOptions
	mu       sync.Mutex // lines whole; the maps below
	wg       sync.WaitGroup
	prefixes map[string]string
	width    int
	active   map[string]bool      // by container ID: its stream is open
	from     map[string]time.Time // by container ID: followed since then
	errc     chan error
}

// follow writes c's logs from since (zero: all) on their own goroutine.
func (l *logFollow) follow(ctx context.Context, c engine.Container, since, at time.Time) {
	name := shortName(c)
	l.mu.Lock()
	if l.active[c.ID] || at.Before(l.from[c.ID]) {
		l.mu.Unlock()
		return
	}
	if _, known := l.from[c.ID]; !known {
		since = time.Time{} // a new container: all its output is of this run
	}
	l.active[c.ID], l.from[c.ID] = true, at
	prefix, ok := l.prefixes[name]
	if !ok { // a container that started meanwhile: docker compose's padding
		l.width = max(l.width, len(name))
		prefix = fmt.Sprintf("%-*s | ", l.width+1, name)
		l.prefixes[name] = prefix
	}
	if l.o.NoPrefix {
		prefix = ""
	}
	l.wg.Add(1)
	l.mu.Unlock()
	go func() {
		defer l.wg.Done()
		w := &prefixWriter{mu: &l.mu, out: l.r.opts.Stdout, prefix: prefix}
		ew := &prefixWriter{mu: &l.mu, out: l.r.opts.Stderr, prefix: prefix}
		from := since
		if l.o.Since.After(from) { // --since
			from = l.o.Since
		}
		err := l.r.eng.ContainerLogs(ctx, c.ID, engine.LogOptions{Follow: l.o.Follow, Tail: l.o.Tail, Timestamps: l.o.Timestamps, Since: from, Until: l.o.Until}, w, ew)
		w.Flush()
		ew.Flush()
		l.mu.Lock()
		delete(l.active, c.ID)
		l.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			select {
			case l.errc <- fmt.Errorf("logs of %s: %w", c.Name, err):
			default:
			}
		}
	}()
}

// watch follows the containers of the selected services that start from
// since on, until ctx ends.
func (l *logFollow) watch(ctx context.Context, project string, since time.Time) {
	want := map[string]bool{}
	for _, s := range l.o.Services {
		want[s] = true
	}
	f := engine.EventFilter{Labels: map[string]string{engine.LabelProject: project}, Since: since}
	_ = l.r.eng.ContainerEvents(ctx, f, func(ev engine.ContainerEvent) error {
		svc := ev.Attributes[engine.LabelService]
		if ev.Action != "start" || (len(want) > 0 && !want[svc]) {
			return nil
		}
		c := engine.Container{ID: ev.ID, Name: ev.Name, Labels: ev.Attributes}
		l.follow(ctx, c, ev.Time, ev.Time)
		return nil
	})
}

// BuildOptions are `cirun build`'s options.
type BuildOptions struct {
	Services []string
	NoCache  bool
	Pull     bool
	// WithDependencies builds the services' depends_on closure too.
	WithDependencies bool
	// Args override the services' build args (--build-arg KEY=VALUE; a
	// nil value takes KEY from the project's environment).
	Args map[string]*string
	// SSH is added to the services' build ssh entries (--ssh).
	SSH []types.SSHKey
}

// Build builds the images of the services that have a build section, in
// dependency order as docker compose does (a service whose Containerfile
// says `FROM <another service's image>` depends_on it): a build starts once
// the builds of its dependencies in the set are done; independent services
// build in parallel.
func (r *Runner) Build(ctx context.Context, p *types.Project, o BuildOptions) error {
	p = withBuildFlags(p, o.Args, o.SSH)
	s := r.newSession(p)
	defer s.close()
	names := o.Services
	if len(names) == 0 {
		names = p.ServiceNames()
	}
	for _, n := range names {
		if _, ok := p.Services[n]; !ok {
			return fmt.Errorf("no such service: %s", n)
		}
	}
	if o.WithDependencies {
		var err error
		if names, err = closure(p, names); err != nil {
			return err
		}
	}
	names, err := order(p, names)
	if err != nil {
		return err
	}
	done := map[string]chan struct{}{}
	errs := map[string]error{}
	var mu sync.Mutex
	for _, n := range names {
		if p.Services[n].Build != nil {
			done[n] = make(chan struct{})
		}
	}
	var wg sync.WaitGroup
	for _, n := range names {
		svc := p.Services[n]
		if svc.Build == nil {
			continue
		}
		if o.NoCache || o.Pull {
			b := *svc.Build
			b.NoCache = b.NoCache || o.NoCache
			b.Pull = b.Pull || o.Pull
			svc.Build = &b
		}
		wg.Add(1)
		go func(svc types.ServiceConfig) {
			defer wg.Done()
			defer close(done[svc.Name])
			var err error
			for _, dep := range sortedDeps(svc) {
				ch, ok := done[dep]
				if !ok {
					continue
				}
				select {
				case <-ch:
				case <-ctx.Done():
					err = ctx.Err()
				}
				mu.Lock()
				if errs[dep] != nil && err == nil {
					err = fmt.Errorf("service %s not built: its dependency %s failed to build", svc.Name, dep)
				}
				mu.Unlock()
				if err != nil {
					break
				}
			}
			if err == nil {
				err = s.build(ctx, svc, imageName(p.Name, svc))
			}
			mu.Lock()
			errs[svc.Name] = err
			mu.Unlock()
		}(svc)
	}
	wg.Wait()
	for _, n := range names {
		if errs[n] != nil {
			return errs[n]
		}
	}
	return nil
}

// sortedDeps are the service's depends_on names, sorted.
func sortedDeps(svc types.ServiceConfig) []string {
	deps := make([]string, 0, len(svc.DependsOn))
	for d := range svc.DependsOn {
		deps = append(deps, d)
	}
	sort.Strings(deps)
	return deps
}

// withBuildFlags returns p with args set and ssh added in every build
// section (a copy when there are any: p is not changed).
func withBuildFlags(p *types.Project, args map[string]*string, ssh []types.SSHKey) *types.Project {
	if len(args) == 0 && len(ssh) == 0 {
		return p
	}
	cp := *p
	cp.Services = types.Services{}
	for name, svc := range p.Services {
		if svc.Build != nil {
			b := *svc.Build
			b.Args = types.MappingWithEquals{}
			for k, v := range svc.Build.Args {
				b.Args[k] = v
			}
			for k, v := range args {
				if v == nil {
					if env, ok := p.Environment[k]; ok {
						v = &env
					}
				}
				b.Args[k] = v
			}
			b.SSH = append(slices.Clone(svc.Build.SSH), ssh...)
			svc.Build = &b
		}
		cp.Services[name] = svc
	}
	return &cp
}
