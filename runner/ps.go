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
	f := engine.ProjectFilter(project)
	cs, err := r.eng.ListContainers(ctx, f)
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
			if full, err := r.eng.InspectContainer(ctx, out[i].ID); err == nil {
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
			w := &prefixWriter{mu: &mu, out: r.opts.Stdout, prefix: prefix}
			err := r.eng.ContainerLogs(ctx, c.ID, engine.LogOptions{Follow: o.Follow, Tail: o.Tail, Timestamps: o.Timestamps}, w, w)
			w.Flush()
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
}

// Build builds the images of the services that have a build section,
// independent services in parallel.
func (r *Runner) Build(ctx context.Context, p *types.Project, o BuildOptions) error {
	s := r.newSession(p)
	defer s.close()
	names := o.Services
	if len(names) == 0 {
		names = p.ServiceNames()
	}
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, n := range names {
		svc, ok := p.Services[n]
		if !ok {
			return fmt.Errorf("no such service: %s", n)
		}
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
		go func(i int, svc types.ServiceConfig) {
			defer wg.Done()
			errs[i] = s.build(ctx, svc, imageName(p.Name, svc))
		}(i, svc)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
