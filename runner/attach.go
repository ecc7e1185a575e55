package runner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
)

// Cascade is what an attached `up` does when a watched container exits.
type Cascade int

// Cascade values: docker compose's --abort-on-container-exit and
// --abort-on-container-failure.
const (
	// CascadeIgnore: run until every watched container has exited.
	CascadeIgnore Cascade = iota
	// CascadeStop: the first exit stops everything (--abort-on-container-exit).
	CascadeStop
	// CascadeFail: the first non-zero exit stops everything
	// (--abort-on-container-failure).
	CascadeFail
)

// attachPlan says which services an attached `up` shows, watches and stops.
type attachPlan struct {
	// show: services whose output is printed (--attach, --no-attach,
	// --attach-dependencies, `attach: false`).
	show map[string]bool
	// watch: services whose exits count (abort, exit code, end of `up`);
	// empty means every container of the run, as docker compose's monitor.
	watch map[string]bool
	// stop: services stopped on abort, dependents first.
	stop []string
}

func (a attachPlan) watched(svc string) bool { return len(a.watch) == 0 || a.watch[svc] }

// planAttach applies docker compose's rules: the named services (all when
// none is named) are shown, their dependencies too with
// AttachDependencies, minus `attach: false` and NoAttach; --attach replaces
// the set. The named services are watched (the shown ones when none is
// named); abort stops the named services (every service of the run when
// none is named).
func planAttach(p *types.Project, names []string, o UpOptions) (attachPlan, error) {
	a := attachPlan{show: map[string]bool{}, watch: map[string]bool{}}
	in := map[string]bool{}
	for _, n := range names {
		in[n] = true
	}
	targets := o.Services
	if len(targets) == 0 {
		targets = p.ServiceNames()
	}
	if len(o.Attach) > 0 {
		var unknown []string
		for _, s := range o.Attach {
			if in[s] {
				a.show[s] = true
			} else {
				unknown = append(unknown, s)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return a, fmt.Errorf("cannot attach to services not included in up: %s", strings.Join(unknown, ", "))
		}
	} else {
		shown := targets
		if o.AttachDependencies {
			shown = names
		}
		for _, s := range shown {
			if svc, ok := p.Services[s]; ok && (svc.Attach == nil || *svc.Attach) {
				a.show[s] = true
			}
		}
	}
	for _, s := range o.NoAttach {
		delete(a.show, s)
	}
	if len(o.Services) > 0 {
		for _, s := range o.Services {
			a.watch[s] = true
		}
	} else {
		for s := range a.show {
			a.watch[s] = true
		}
	}
	stop := names
	if len(o.Services) > 0 {
		stop = o.Services
	}
	ordered, err := order(p, stop)
	if err != nil {
		return a, err
	}
	for i := len(ordered) - 1; i >= 0; i-- {
		a.stop = append(a.stop, ordered[i])
	}
	return a, nil
}

// exitEvent is one exit of a followed container.
type exitEvent struct {
	c    engine.Container
	code int
	// restarting: the engine restarts the container (its restart policy);
	// a later event ends it.
	restarting bool
	// silent: the end of a container already reported (a restart that did
	// not come, a container removed under us): count it, print nothing.
	silent bool
}

// attach prints the output of the shown containers with docker compose's
// prefixes until every watched container has exited, applying the abort
// rules, and returns an *ExitError carrying docker compose's exit code
// (the aborting container's, or ExitCodeFrom's). It returns at once when
// ctx ends (the caller handles the interrupt). since is when this `up`
// began: containers it did not create show only output from then on.
func (s *session) attach(ctx context.Context, runs map[string]*svcRun, plan attachPlan, o UpOptions, since time.Time) error {
	var cs []engine.Container
	var shown []string
	for _, run := range runs {
		for _, c := range run.containers {
			svc := c.Labels[engine.LabelService]
			if plan.show[svc] || plan.watched(svc) {
				cs = append(cs, c)
			}
			if plan.show[svc] {
				shown = append(shown, shortName(c))
			}
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	sort.Strings(shown)
	lf := newLogFormatter(s.r.opts.Stdout, shown, o.Log, s.r.opts.Clock)
	lf.println("Attaching to " + strings.Join(shown, ", "))

	fresh := map[string]bool{}
	s.mu.Lock()
	for _, it := range s.created {
		if it.kind == "container" {
			fresh[it.name] = true
		}
	}
	s.mu.Unlock()

	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	exits := make(chan exitEvent)
	var stopping atomic.Bool
	var wg sync.WaitGroup
	remaining := 0
	for _, c := range cs {
		svc := c.Labels[engine.LabelService]
		if plan.watched(svc) {
			remaining++
		}
		var w *prefixWriter
		if plan.show[svc] {
			w = lf.writer(shortName(c))
		}
		from := since
		if fresh[c.ID] {
			from = time.Time{}
		}
		rule := restartRuleOf(s.project.Services[svc])
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.follow(fctx, c, w, from, rule, &stopping, exits)
		}()
	}

	// Containers that exited before the followers started report in any
	// order: handle their exits in the order they happened.
	seq := &exitSequencer{first: s.exitedOrder(ctx, cs), held: map[string]exitEvent{}}
	code, aborted, captured := 0, false, false
	var stopErr chan error
	for remaining > 0 {
		ev, ok := seq.next()
		for !ok {
			select {
			case e := <-exits:
				seq.add(e)
			case <-ctx.Done():
				cancel()
				wg.Wait()
				return ctx.Err()
			}
			ev, ok = seq.next()
		}
		svc := ev.c.Labels[engine.LabelService]
		if !ev.silent {
			lf.status(shortName(ev.c), fmt.Sprintf("exited with code %d", ev.code))
		}
		if !plan.watched(svc) {
			continue
		}
		if !ev.restarting {
			remaining--
		}
		if ev.silent {
			continue
		}
		if o.OnExit != CascadeIgnore && !aborted && !(o.OnExit == CascadeFail && ev.code == 0) {
			aborted = true
			code = ev.code
			lf.println("Aborting on container exit...")
			stopping.Store(true)
			stopErr = make(chan error, 1)
			go func() { stopErr <- s.stopServices(ctx, runs, plan.stop, o.StopTimeout) }()
		}
		if o.ExitCodeFrom != "" && !captured && svc == o.ExitCodeFrom {
			code = ev.code
			captured = true
		}
	}
	cancel()
	wg.Wait()
	var err error
	if stopErr != nil {
		err = <-stopErr
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if code != 0 {
		return &ExitError{Code: code, Err: err}
	}
	return err
}

// exitedOrder returns the IDs of the containers in cs that have already
// exited, in the order they exited.
func (s *session) exitedOrder(ctx context.Context, cs []engine.Container) []string {
	got := make([]engine.Container, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ic, err := s.r.eng.InspectContainer(ctx, c.ID); err == nil {
				got[i] = ic
			}
		}()
	}
	wg.Wait()
	var exited []engine.Container
	for _, c := range got {
		if c.ID != "" && c.Exited() {
			exited = append(exited, c)
		}
	}
	sort.SliceStable(exited, func(i, j int) bool { return exited[i].FinishedAt.Before(exited[j].FinishedAt) })
	ids := make([]string, len(exited))
	for i, c := range exited {
		ids[i] = c.ID
	}
	return ids
}

// exitSequencer hands out exit events: first those of the containers in
// first, in that order, then the others as they arrive.
type exitSequencer struct {
	first []string             // IDs still expected, in order
	held  map[string]exitEvent // early arrivals of containers in first
	later []exitEvent          // arrivals of other containers, held until first is done
}

func (q *exitSequencer) add(ev exitEvent) {
	for _, id := range q.first {
		if _, dup := q.held[id]; id == ev.c.ID && !dup {
			q.held[id] = ev
			return
		}
	}
	q.later = append(q.later, ev)
}

// next returns the next event to handle, if one is ready.
func (q *exitSequencer) next() (exitEvent, bool) {
	if len(q.first) > 0 {
		ev, ok := q.held[q.first[0]]
		if !ok {
			return exitEvent{}, false
		}
		delete(q.held, q.first[0])
		q.first = q.first[1:]
		return ev, true
	}
	if len(q.later) > 0 {
		ev := q.later[0]
		q.later = q.later[1:]
		return ev, true
	}
	return exitEvent{}, false
}

// follow streams one container's output to w (nil: not shown) and reports
// each of its exits on exits, following it again when the engine restarts
// it, until it has ended for good or ctx ends.
func (s *session) follow(ctx context.Context, c engine.Container, w *prefixWriter, since time.Time, rule restartRule, stopping *atomic.Bool, exits chan<- exitEvent) {
	eng := s.r.eng
	send := func(ev exitEvent) bool {
		select {
		case exits <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var prev time.Time // start of the run being followed, in the engine's time
	if got, err := eng.InspectContainer(ctx, c.ID); err == nil {
		prev = got.StartedAt
	}
	for restarts := 0; ; restarts++ {
		done := make(chan struct{})
		lctx, stopLogs := context.WithCancel(ctx)
		if w != nil {
			go func() {
				defer close(done)
				_ = eng.ContainerLogs(lctx, c.ID, engine.LogOptions{Follow: true, Since: since}, w, w)
			}()
		} else {
			close(done)
		}
		code, err := eng.WaitContainer(ctx, c.ID)
		if err == nil {
			// The log stream ends by itself once the container exited.
			select {
			case <-done:
			case <-time.After(2 * time.Second):
			}
		}
		stopLogs()
		<-done
		if w != nil {
			w.Flush()
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			// Removed under us (a concurrent down): it ended, unreported.
			send(exitEvent{c: c, silent: true})
			return
		}
		restarting := !stopping.Load() && rule.expect(code, restarts)
		if !send(exitEvent{c: c, code: code, restarting: restarting}) || !restarting {
			return
		}
		started, ok := s.awaitRestart(ctx, c.ID, prev, stopping)
		if !ok {
			send(exitEvent{c: c, silent: true})
			return
		}
		prev, since = started, started
	}
}

// restartWait bounds how long an exited container with a restart policy
// is given to come back (Podman restarts at once).
const restartWait = 5 * time.Second

// awaitRestart waits until the engine has started container id again
// (a start later than prev) and returns the new start time; false when it
// did not restart in time, is gone, or we are stopping it.
func (s *session) awaitRestart(ctx context.Context, id string, prev time.Time, stopping *atomic.Bool) (time.Time, bool) {
	deadline := time.Now().Add(restartWait)
	for {
		got, err := s.r.eng.InspectContainer(ctx, id)
		if err != nil || stopping.Load() {
			return time.Time{}, false
		}
		if got.StartedAt.After(prev) {
			return got.StartedAt, true
		}
		if time.Now().After(deadline) {
			return time.Time{}, false
		}
		select {
		case <-ctx.Done():
			return time.Time{}, false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stopServices stops the containers of services in the given order (as
// docker compose's stop: dependents first), each with its stop timeout.
func (s *session) stopServices(ctx context.Context, runs map[string]*svcRun, services []string, override *time.Duration) error {
	var errs []error
	for _, name := range services {
		run := runs[name]
		if run == nil {
			continue
		}
		t := stopTimeout(s.project.Services[name], override)
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, c := range run.containers {
			wg.Add(1)
			go func(c engine.Container) {
				defer wg.Done()
				if err := s.stopContainer(ctx, c, t); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}(c)
		}
		wg.Wait()
	}
	return errors.Join(errs...)
}

// stopContainer stops one container (a no-op when it is not running).
func (s *session) stopContainer(ctx context.Context, c engine.Container, timeout time.Duration) error {
	r := s.r
	r.event("Container", c.Name, "Stopping", "")
	err := r.eng.StopContainer(ctx, c.ID, timeout)
	if err != nil && !errors.Is(err, engine.ErrNotFound) && !errors.Is(err, engine.ErrNotRunning) {
		r.event("Container", c.Name, "Error", err.Error())
		return fmt.Errorf("stopping container %s: %w", c.Name, err)
	}
	r.event("Container", c.Name, "Stopped", "")
	return nil
}

// restartRule is a service's restart policy, as far as an attached `up`
// needs it: will the engine restart a container that exited with code?
type restartRule struct {
	policy string // "", "no", "always", "unless-stopped", "on-failure"
	max    int    // on-failure: maximum restarts, 0 = unlimited
}

func restartRuleOf(svc types.ServiceConfig) restartRule {
	policy, n, _ := strings.Cut(restartPolicy(svc), ":")
	max, _ := strconv.Atoi(n)
	return restartRule{policy: policy, max: max}
}

// expect reports whether the engine restarts the container after its
// (restarts+1)th run ended with code.
func (r restartRule) expect(code, restarts int) bool {
	switch r.policy {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return code != 0 && (r.max == 0 || restarts < r.max)
	}
	return false
}

// restartPolicy is a service's restart policy in the engine's terms
// ("no", "always", "unless-stopped", "on-failure[:N]"), as docker compose
// derives it: deploy.restart_policy (condition none/on-failure/any,
// max_attempts) overrides restart.
func restartPolicy(svc types.ServiceConfig) string {
	if svc.Deploy != nil && svc.Deploy.RestartPolicy != nil {
		rp := svc.Deploy.RestartPolicy
		switch rp.Condition {
		case "none", "no":
			return "no"
		case "on-failure":
			if rp.MaxAttempts != nil && *rp.MaxAttempts > 0 {
				return fmt.Sprintf("on-failure:%d", *rp.MaxAttempts)
			}
			return "on-failure"
		case "unless-stopped":
			return "unless-stopped"
		default: // "any", "always", ""
			return "always"
		}
	}
	return svc.Restart
}
