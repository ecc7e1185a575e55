package runner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
)

// Scope is what a command on existing containers (start, stop, restart,
// kill, pause, unpause, rm, exec, ...) acts on. Containers are always found
// by the project label, so these commands work when the compose file has
// changed or is absent (`-p NAME` alone).
type Scope struct {
	// Project is the project's name.
	Project string
	// Compose is the loaded compose project, nil when only the name is
	// known. When set it gives the services and their dependencies (as
	// docker compose does); otherwise both come from the containers'
	// labels.
	Compose *types.Project
	// Services limits the command to these services; empty means all.
	Services []string
}

// CheckServices fails with docker compose's "no such service: NAME" for a
// service the compose project does not define (enabled or not).
func CheckServices(p *types.Project, names []string) error {
	if p == nil {
		return nil
	}
	all := p.AllServices()
	for _, n := range names {
		if _, ok := all[n]; !ok {
			return fmt.Errorf("no such service: %s", n)
		}
	}
	return nil
}

// listed are a project's containers with the dependency graph of their
// services.
type listed struct {
	all   []engine.Container
	graph *types.Project // services (with depends_on) known for the scope
}

// containerSel selects containers among a project's.
type containerSel struct {
	oneoff  bool // include one-off (`run`) containers
	running bool // running (or paused) containers only
}

// list lists the scope's project containers (every state) and builds the
// dependency graph: the compose project's services when loaded (with
// disabled services named in the scope enabled), plus the services found
// in the labels.
func (r *Runner) list(ctx context.Context, sc Scope) (listed, error) {
	cs, err := r.eng.ListContainers(ctx, engine.ProjectFilter(sc.Project))
	if err != nil {
		return listed{}, fmt.Errorf("listing containers of project %s: %w", sc.Project, err)
	}
	return listed{all: cs, graph: graphOf(sc, cs)}, nil
}

// graphOf returns a project holding every service of the scope: those of
// the compose file (the named disabled ones enabled) and those of the
// containers, with dependencies from the file or the depends_on label.
func graphOf(sc Scope, cs []engine.Container) *types.Project {
	g := &types.Project{Name: sc.Project, Services: types.Services{}}
	for _, c := range cs {
		svc := c.Labels[engine.LabelService]
		if svc == "" {
			continue
		}
		if _, ok := g.Services[svc]; ok {
			continue
		}
		s := types.ServiceConfig{Name: svc}
		s.DependsOn = dependsOnLabel(c.Labels[engine.LabelDependsOn])
		g.Services[svc] = s
	}
	if p := sc.Compose; p != nil {
		for n, s := range p.Services {
			g.Services[n] = s
		}
		for _, n := range sc.Services {
			if s, ok := p.DisabledServices[n]; ok {
				g.Services[n] = s
			}
		}
	}
	// Dependencies on services the graph does not know are not followed.
	for n, s := range g.Services {
		for d, dep := range s.DependsOn {
			if _, ok := g.Services[d]; !ok && dep.Required {
				deps := types.DependsOnConfig{}
				for k, v := range s.DependsOn {
					deps[k] = v
				}
				dep.Required = false
				deps[d] = dep
				s.DependsOn = deps
				g.Services[n] = s
			}
		}
	}
	return g
}

// dependsOnLabel parses the depends_on label ("db:service_healthy:false,...").
func dependsOnLabel(v string) types.DependsOnConfig {
	out := types.DependsOnConfig{}
	for _, part := range strings.Split(v, ",") {
		if part == "" {
			continue
		}
		f := strings.Split(part, ":")
		d := types.ServiceDependency{Condition: types.ServiceConditionStarted, Required: true}
		if len(f) > 1 && f[1] != "" {
			d.Condition = f[1]
		}
		if len(f) > 2 {
			d.Restart, _ = strconv.ParseBool(f[2])
		}
		out[f[0]] = d
	}
	return out
}

// targets are the services a command acts on: the scope's, else the
// compose project's (enabled) services, else every service with a
// container. withOrphans adds the services of every container.
func (l listed) targets(sc Scope, withOrphans bool) []string {
	if len(sc.Services) > 0 {
		return dedup(sc.Services)
	}
	set := map[string]bool{}
	if sc.Compose != nil {
		for n := range sc.Compose.Services {
			set[n] = true
		}
	}
	if sc.Compose == nil || withOrphans {
		for _, c := range l.all {
			if s := c.Labels[engine.LabelService]; s != "" {
				set[s] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// of returns the containers of service svc matching sel, sorted by
// container number.
func (l listed) of(svc string, sel containerSel) []engine.Container {
	var out []engine.Container
	for _, c := range l.all {
		if c.Labels[engine.LabelService] != svc {
			continue
		}
		if !sel.oneoff && c.Labels[engine.LabelOneoff] == "True" {
			continue
		}
		if sel.running && !c.Running() {
			continue
		}
		out = append(out, c)
	}
	sortByNumber(out)
	return out
}

// sortByNumber sorts containers by container number, then name.
func sortByNumber(cs []engine.Container) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, _ := strconv.Atoi(cs[i].Labels[engine.LabelContainerNumber])
		b, _ := strconv.Atoi(cs[j].Labels[engine.LabelContainerNumber])
		if a != b {
			return a < b
		}
		return cs[i].Name < cs[j].Name
	})
}

// walk runs fn for every service of names, concurrently, each after the
// services it depends on (reverse: after the services depending on it)
// among names have finished. A service whose predecessor failed is
// skipped; the first error in dependency order is returned.
func walk(ctx context.Context, g *types.Project, names []string, reverse bool, fn func(ctx context.Context, svc string) error) error {
	ordered, err := order(g, names)
	if err != nil {
		return err
	}
	in := map[string]bool{}
	for _, n := range names {
		in[n] = true
	}
	before := func(n string) []string {
		var out []string
		if reverse {
			for _, m := range names {
				if _, ok := g.Services[m].DependsOn[n]; ok && m != n {
					out = append(out, m)
				}
			}
			return out
		}
		for d := range g.Services[n].DependsOn {
			if in[d] && d != n {
				out = append(out, d)
			}
		}
		return out
	}
	done := map[string]chan struct{}{}
	errs := map[string]error{}
	var mu sync.Mutex
	for _, n := range names {
		done[n] = make(chan struct{})
	}
	var wg sync.WaitGroup
	for _, n := range dedup(names) {
		wg.Add(1)
		go func(n string) {
			defer wg.Done()
			defer close(done[n])
			for _, d := range before(n) {
				select {
				case <-done[d]:
				case <-ctx.Done():
					mu.Lock()
					errs[n] = ctx.Err()
					mu.Unlock()
					return
				}
				mu.Lock()
				failed := errs[d] != nil
				mu.Unlock()
				if failed {
					mu.Lock()
					errs[n] = errDepFailed
					mu.Unlock()
					return
				}
			}
			err := fn(ctx, n)
			mu.Lock()
			errs[n] = err
			mu.Unlock()
		}(n)
	}
	wg.Wait()
	if reverse {
		for i, j := 0, len(ordered)-1; i < j; i, j = i+1, j-1 {
			ordered[i], ordered[j] = ordered[j], ordered[i]
		}
	}
	for _, n := range ordered {
		if e := errs[n]; e != nil && !errors.Is(e, errDepFailed) {
			return e
		}
	}
	return nil
}

// each runs fn for every container concurrently and returns the errors
// joined.
func each(cs []engine.Container, fn func(c engine.Container) error) error {
	return forEach(len(cs), func(i int) error { return fn(cs[i]) })
}

// forEach runs fn(0..n-1) concurrently and returns the errors joined.
func forEach(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = fn(i)
		}(i)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// StartOptions are `cirun start`'s options.
type StartOptions struct {
	// Wait waits until the started containers are running, and healthy
	// where they have a healthcheck; WaitTimeout bounds it (0: no limit).
	Wait        bool
	WaitTimeout time.Duration
}

// Start starts the existing containers of the scope's services and of the
// services they depend on, in dependency order, waiting for each
// dependency's depends_on condition first, as docker compose does. A
// service of the compose project without a container is an error (create
// it with `create` or `up`).
func (r *Runner) Start(ctx context.Context, sc Scope, o StartOptions) error {
	l, err := r.list(ctx, sc)
	if err != nil {
		return err
	}
	names, err := closure(l.graph, l.targets(sc, false))
	if err != nil {
		return err
	}
	named := map[string]bool{}
	for _, n := range sc.Services {
		named[n] = true
	}
	s := r.newSession(l.graph)
	defer s.close()
	sel := containerSel{}
	err = walk(ctx, l.graph, names, false, func(ctx context.Context, svc string) error {
		cs := l.of(svc, sel)
		if len(cs) == 0 {
			// As docker compose: a service named, or defined by the compose
			// file with replicas, must have a container; services known
			// only from one-off containers are skipped.
			defined := false
			if sc.Compose != nil {
				_, defined = sc.Compose.Services[svc]
			}
			if named[svc] || (defined && replicas(l.graph.Services[svc]) > 0) {
				return fmt.Errorf("service %q has no container to start", svc)
			}
			return nil
		}
		for d, dep := range l.graph.Services[svc].DependsOn {
			if err := s.waitCondition(ctx, d, dep, l.of(d, sel)); err != nil {
				return err
			}
		}
		return each(cs, func(c engine.Container) error {
			if c.Running() {
				return nil
			}
			return s.startContainer(ctx, &c)
		})
	})
	if err != nil || !o.Wait {
		return err
	}
	wctx := ctx
	if o.WaitTimeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, o.WaitTimeout)
		defer cancel()
	}
	// As docker compose: a service others wait on with
	// service_completed_successfully must complete, the others run (and
	// are healthy when they have a healthcheck).
	oneShot := map[string]bool{}
	for _, svc := range l.graph.Services {
		for d, dep := range svc.DependsOn {
			if dep.Condition == types.ServiceConditionCompletedSuccessfully {
				oneShot[d] = true
			}
		}
	}
	var waitFor []engine.Container
	for _, n := range names {
		waitFor = append(waitFor, l.of(n, sel)...)
	}
	err = each(waitFor, func(c engine.Container) error {
		if oneShot[c.Labels[engine.LabelService]] {
			return s.waitCompleted(wctx, c)
		}
		full, err := r.eng.InspectContainer(wctx, c.ID)
		if err != nil {
			return fmt.Errorf("inspecting %s: %w", c.Name, err)
		}
		if full.Healthcheck != nil {
			return s.waitHealthy(wctx, full)
		}
		return s.checkRunning(wctx, full)
	})
	if err != nil && errors.Is(wctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("application not healthy after %s", o.WaitTimeout)
	}
	return err
}

// StopOptions are `cirun stop`'s options.
type StopOptions struct {
	// Timeout before SIGKILL; nil means each container's own stop timeout
	// (stop_grace_period, default 10 s).
	Timeout *time.Duration
}

// Stop stops the running containers (one-offs included) of the scope's
// services, or of every service of the project, dependents first.
func (r *Runner) Stop(ctx context.Context, sc Scope, o StopOptions) error {
	l, err := r.list(ctx, sc)
	if err != nil {
		return err
	}
	return r.stop(ctx, l, l.targets(sc, true), o.Timeout)
}

func (r *Runner) stop(ctx context.Context, l listed, names []string, timeout *time.Duration) error {
	t := time.Duration(-1)
	if timeout != nil {
		t = *timeout
	}
	return walk(ctx, l.graph, names, true, func(ctx context.Context, svc string) error {
		return each(l.of(svc, containerSel{oneoff: true, running: true}), func(c engine.Container) error {
			r.event("Container", c.Name, "Stopping", "")
			if err := r.preStop(ctx, c, l.graph.Services[svc], nil); err != nil {
				r.event("Container", c.Name, "Error", err.Error())
				return err
			}
			if err := r.eng.StopContainer(ctx, c.ID, t); err != nil && !errors.Is(err, engine.ErrNotFound) {
				r.event("Container", c.Name, "Error", err.Error())
				return fmt.Errorf("stopping %s: %w", c.Name, err)
			}
			r.event("Container", c.Name, "Stopped", "")
			return nil
		})
	})
}

// RestartOptions are `cirun restart`'s options.
type RestartOptions struct {
	// Timeout before SIGKILL when stopping; nil: the container's own.
	Timeout *time.Duration
	// NoDeps restarts only the named services, not the services depending
	// on them with `restart: true`.
	NoDeps bool
}

// Restart stops (when running) and starts again the containers of the
// scope's services, with the services that depend on them through a
// depends_on with `restart: true` (unless NoDeps), in dependency order.
// Containers keep their identity.
func (r *Runner) Restart(ctx context.Context, sc Scope, o RestartOptions) error {
	l, err := r.list(ctx, sc)
	if err != nil {
		return err
	}
	// Only depends_on relations with restart: true matter, as in docker
	// compose.
	g := &types.Project{Name: l.graph.Name, Services: types.Services{}}
	for n, s := range l.graph.Services {
		deps := types.DependsOnConfig{}
		for d, dep := range s.DependsOn {
			if dep.Restart {
				deps[d] = dep
			}
		}
		s.DependsOn = deps
		g.Services[n] = s
	}
	names := l.targets(sc, false)
	if len(sc.Services) > 0 && !o.NoDeps {
		names = withDependents(g, names)
	}
	t := time.Duration(-1)
	if o.Timeout != nil {
		t = *o.Timeout
	}
	s := r.newSession(l.graph)
	defer s.close()
	return walk(ctx, g, names, false, func(ctx context.Context, svc string) error {
		return each(l.of(svc, containerSel{}), func(c engine.Container) error {
			r.event("Container", c.Name, "Restarting", "")
			if c.Running() {
				if err := r.eng.StopContainer(ctx, c.ID, t); err != nil {
					r.event("Container", c.Name, "Error", err.Error())
					return fmt.Errorf("restarting %s: %w", c.Name, err)
				}
			}
			if err := r.eng.StartContainer(ctx, c.ID); err != nil {
				r.event("Container", c.Name, "Error", err.Error())
				return fmt.Errorf("restarting %s: %w", c.Name, err)
			}
			r.event("Container", c.Name, "Started", "")
			return nil
		})
	})
}

// withDependents adds to names every service depending on one of them,
// transitively.
func withDependents(g *types.Project, names []string) []string {
	set := map[string]bool{}
	queue := append([]string(nil), names...)
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if set[n] {
			continue
		}
		set[n] = true
		for m, s := range g.Services {
			if _, ok := s.DependsOn[n]; ok && !set[m] {
				queue = append(queue, m)
			}
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		if _, ok := g.Services[n]; ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// KillOptions are `cirun kill`'s options.
type KillOptions struct {
	Signal string // default SIGKILL
	// RemoveOrphans also kills containers of services the compose project
	// no longer defines.
	RemoveOrphans bool
}

// ErrNoContainer reports that a command found no container to act on;
// the CLI prints it and exits 0, as docker compose does for kill.
var ErrNoContainer = errors.New("no container")

// Kill sends a signal to the running containers (one-offs included) of the
// scope's services. It returns ErrNoContainer when none runs.
func (r *Runner) Kill(ctx context.Context, sc Scope, o KillOptions) error {
	l, err := r.list(ctx, sc)
	if err != nil {
		return err
	}
	sig := o.Signal
	if sig == "" {
		sig = "SIGKILL"
	}
	var cs []engine.Container
	for _, n := range l.targets(sc, o.RemoveOrphans) {
		cs = append(cs, l.of(n, containerSel{oneoff: true, running: true})...)
	}
	if len(cs) == 0 {
		return fmt.Errorf("%w to kill", ErrNoContainer)
	}
	return each(cs, func(c engine.Container) error {
		r.event("Container", c.Name, "Killing", "")
		if err := r.eng.KillContainer(ctx, c.ID, sig); err != nil {
			r.event("Container", c.Name, "Error", "Error while Killing")
			return fmt.Errorf("killing %s: %w", c.Name, err)
		}
		r.event("Container", c.Name, "Killed", "")
		return nil
	})
}

// Pause pauses the running containers of the scope's services.
func (r *Runner) Pause(ctx context.Context, sc Scope) error {
	return r.setPaused(ctx, sc, true)
}

// Unpause resumes the paused containers of the scope's services.
func (r *Runner) Unpause(ctx context.Context, sc Scope) error {
	return r.setPaused(ctx, sc, false)
}

func (r *Runner) setPaused(ctx context.Context, sc Scope, pause bool) error {
	l, err := r.list(ctx, sc)
	if err != nil {
		return err
	}
	var cs []engine.Container
	for _, n := range l.targets(sc, false) {
		cs = append(cs, l.of(n, containerSel{running: true})...)
	}
	return each(cs, func(c engine.Container) error {
		// As docker: pausing a paused container, or unpausing one that is
		// not, is an error (the engine would say it less clearly).
		if paused := c.State == engine.StatePaused; paused == pause {
			if paused {
				return fmt.Errorf("pausing %s: container %s is already paused", c.Name, c.Name)
			}
			return fmt.Errorf("unpausing %s: container %s is not paused", c.Name, c.Name)
		}
		if pause {
			if err := r.eng.PauseContainer(ctx, c.ID); err != nil {
				return fmt.Errorf("pausing %s: %w", c.Name, err)
			}
			r.event("Container", c.Name, "Paused", "")
			return nil
		}
		if err := r.eng.UnpauseContainer(ctx, c.ID); err != nil {
			return fmt.Errorf("unpausing %s: %w", c.Name, err)
		}
		r.event("Container", c.Name, "Unpaused", "")
		return nil
	})
}

// RemoveOptions are `cirun rm`'s options.
type RemoveOptions struct {
	// Force removes without asking; otherwise Confirm is asked.
	Force bool
	// Stop stops running containers first (they are skipped otherwise).
	Stop bool
	// Volumes removes the containers' anonymous volumes.
	Volumes bool
	// Confirm asks the user (message "Going to remove a, b"); nil means yes.
	Confirm func(msg string) (bool, error)
}

// Remove removes the stopped containers (not one-offs) of the scope's
// services, after Stop stopped the running ones when asked. With nothing
// to remove it says "No stopped containers" on Stderr.
func (r *Runner) Remove(ctx context.Context, sc Scope, o RemoveOptions) error {
	l, err := r.list(ctx, sc)
	if err != nil {
		return err
	}
	names := l.targets(sc, false)
	if o.Stop {
		if err := r.stop(ctx, l, names, nil); err != nil {
			return err
		}
		if l, err = r.list(ctx, sc); err != nil {
			return err
		}
	}
	var cs []engine.Container
	for _, n := range names {
		for _, c := range l.of(n, containerSel{}) {
			if !c.Running() {
				cs = append(cs, c)
			}
		}
	}
	if len(cs) == 0 {
		fmt.Fprintln(r.opts.Stderr, "No stopped containers")
		return nil
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	list := make([]string, len(cs))
	for i, c := range cs {
		list[i] = c.Name
	}
	msg := "Going to remove " + strings.Join(list, ", ")
	if o.Force || o.Confirm == nil {
		fmt.Fprintln(r.opts.Stdout, msg)
	} else {
		ok, err := o.Confirm(msg)
		if err != nil || !ok {
			return err
		}
	}
	return each(cs, func(c engine.Container) error {
		r.event("Container", c.Name, "Removing", "")
		err := r.eng.RemoveContainer(ctx, c.ID, engine.RemoveOptions{Force: o.Force, Volumes: o.Volumes})
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			r.event("Container", c.Name, "Error", err.Error())
			return fmt.Errorf("removing %s: %w", c.Name, err)
		}
		r.event("Container", c.Name, "Removed", "")
		return nil
	})
}

// dedup returns xs without repeats, in first-seen order.
func dedup(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
