package runner

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"

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
	// Index, when > 0, selects the service's container of that number
	// (--index); it needs exactly one service.
	Index int
}

// Logs writes the logs of the project's containers to Stdout, prefixed by
// container ("db-1  | ") unless NoPrefix.
func (r *Runner) Logs(ctx context.Context, project string, o LogsOptions) error {
	if o.Index > 0 && len(o.Services) != 1 {
		return fmt.Errorf("logs --index %d: name exactly one service", o.Index)
	}
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
	prefixes := logPrefixes(names)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errc := make(chan error, len(cs))
	for _, c := range cs {
		wg.Add(1)
		go func(c engine.Container) {
			defer wg.Done()
			prefix := prefixes[shortName(c)]
			if o.NoPrefix {
				prefix = ""
			}
			// the container's stderr on stderr, as docker compose
			w := &prefixWriter{mu: &mu, out: r.opts.Stdout, prefix: prefix}
			ew := &prefixWriter{mu: &mu, out: r.opts.Stderr, prefix: prefix}
			err := r.eng.ContainerLogs(ctx, c.ID, engine.LogOptions{Follow: o.Follow, Tail: o.Tail, Timestamps: o.Timestamps}, w, ew)
			w.Flush()
			ew.Flush()
			if err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("logs of %s: %w", c.Name, err)
			}
		}(c)
	}
	wg.Wait()
	close(errc)
	return <-errc
}

// BuildOptions are `cirun build`'s options.
type BuildOptions struct {
	Services []string
	NoCache  bool
	Pull     bool
	// WithDependencies builds the services' depends_on closure too.
	WithDependencies bool
}

// Build builds the images of the services that have a build section, in
// dependency order as docker compose does (a service whose Containerfile
// says `FROM <another service's image>` depends_on it): a build starts once
// the builds of its dependencies in the set are done; independent services
// build in parallel.
func (r *Runner) Build(ctx context.Context, p *types.Project, o BuildOptions) error {
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
