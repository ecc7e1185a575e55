package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

// follower is the attach state of one container.
type follower struct {
	c       engine.Container
	name    string // short name: "db-1"
	watched bool
	rule    restartRule
	out     *containerLog // nil: output not shown

	stream      *logStream
	streamSince time.Time // every stream of the container starts there
	stopLogs    context.CancelFunc
	logsDone    chan struct{} // closed when the current log stream ended

	restarts   int
	lastDie    time.Time
	exitedSeen time.Time // when a poll first found it exited without a die event
	pending    int       // > 0: exited, the engine is expected to restart it (a generation)
	ended      bool
}

// startLogs follows the container's output from since (zero: all of it).
func (f *follower) startLogs(ctx context.Context, eng engine.Engine, since time.Time) {
	if f.out == nil {
		return
	}
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	st := &logStream{log: f.out, passed: make(chan struct{})}
	f.stream, f.streamSince, f.stopLogs, f.logsDone = st, since, cancel, done
	go func() {
		defer close(done)
		_ = eng.ContainerLogs(lctx, f.c.ID, engine.LogOptions{Follow: true, Since: since, Timestamps: true}, st, st.stderr())
		st.flush()
	}()
}

// finishLogs ends the log stream of a container that exited at died once
// it has delivered that run's lines (it ended, went past died, or grace
// passed), then reads the run's logs once more without following, so that
// lines a slow stream had not delivered yet are shown too (each line still
// once): they all come before the exit line.
func (f *follower) finishLogs(ctx context.Context, eng engine.Engine, died time.Time, grace time.Duration) {
	if f.logsDone == nil {
		return
	}
	f.stream.cut(died)
	waitIdle(f.logsDone, f.stream.passed, &f.stream.writes, grace)
	f.stopLogs()
	<-f.logsDone
	f.logsDone = nil
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := &logStream{log: f.out, cutAt: died, passed: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = eng.ContainerLogs(cctx, f.c.ID, engine.LogOptions{Since: f.streamSince, Timestamps: true}, st, st.stderr())
	}()
	waitIdle(done, nil, &st.writes, grace)
	cancel()
	<-done
	st.flush()
}

// waitIdle returns when done or passed is closed, or when a stream that
// counts its writes in n received nothing for grace: a container that
// wrote a lot is given the time its stream needs to deliver it all.
func waitIdle(done, passed <-chan struct{}, n *atomic.Int64, grace time.Duration) {
	for {
		last := n.Load()
		select {
		case <-done:
			return
		case <-passed:
			return
		case <-time.After(grace):
			if n.Load() == last {
				return
			}
		}
	}
}

// containerLog is one container's output as an attached up shows it. Its
// lines come with the engine's timestamps from one log stream per run, each
// read from the same starting point (Podman's stream of a run may carry on
// into the next run after a restart, and its timestamps have only second
// precision): a stream shows a line only when it is past the lines already
// shown, counting repeated lines within one timestamp, so each line is
// shown once, in order.
type containerLog struct {
	mu    sync.Mutex
	w     *prefixWriter
	ew    *prefixWriter  // stderr lines; nil: w
	last  time.Time      // timestamp of the last line shown
	shown map[string]int // lines shown with timestamp last, by text
}

// logStream is one log stream of a container: it parses the timestamps,
// drops lines already shown and, once cut, lines after the cut.
type logStream struct {
	log    *containerLog
	buf    []byte
	ebuf   []byte         // the stderr side's partial line
	writes atomic.Int64   // writes received (see waitIdle)
	ts     time.Time      // timestamp of this stream's last line
	counts map[string]int // this stream's lines with timestamp ts
	cutAt  time.Time
	passed chan struct{} // closed when a line after cutAt arrived
}

func (st *logStream) Write(b []byte) (int, error) { return st.write(b, false) }

// stderr is the stream's writer for the container's stderr: its lines go
// through the same ordering and de-duplication, and out on stderr.
func (st *logStream) stderr() io.Writer { return stderrSide{st} }

type stderrSide struct{ st *logStream }

func (e stderrSide) Write(b []byte) (int, error) { return e.st.write(b, true) }

func (st *logStream) write(b []byte, toErr bool) (int, error) {
	st.writes.Add(1)
	l := st.log
	l.mu.Lock()
	defer l.mu.Unlock()
	buf := &st.buf
	if toErr {
		buf = &st.ebuf
	}
	*buf = append(*buf, b...)
	for {
		i := bytes.IndexByte(*buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := string((*buf)[:i])
		*buf = (*buf)[i+1:]
		st.line(line, toErr)
	}
}

// line handles one line "TIMESTAMP text"; l.mu is held.
func (st *logStream) line(line string, toErr bool) {
	l := st.log
	w := l.w
	if toErr && l.ew != nil {
		w = l.ew
	}
	stamp, text, _ := strings.Cut(line, " ")
	ts, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil { // no timestamp: show as is
		_, _ = io.WriteString(w, line+"\n")
		return
	}
	if !st.cutAt.IsZero() && ts.After(st.cutAt) {
		select {
		case <-st.passed:
		default:
			close(st.passed)
		}
		return
	}
	key := text // a line counts per stream: stdout's "x" is not stderr's
	if toErr {
		key = "\x00" + text
	}
	if !ts.Equal(st.ts) {
		st.ts, st.counts = ts, map[string]int{}
	}
	st.counts[key]++
	switch {
	case ts.Before(l.last):
		return
	case ts.After(l.last):
		l.last, l.shown = ts, map[string]int{}
	}
	if st.counts[key] <= l.shown[key] {
		return // another stream showed it
	}
	l.shown[key]++
	_, _ = io.WriteString(w, text+"\n")
}

// flush handles a last line without a newline once the stream ended.
func (st *logStream) flush() {
	st.log.mu.Lock()
	defer st.log.mu.Unlock()
	if len(st.buf) > 0 {
		st.line(string(st.buf), false)
		st.buf = nil
	}
	if len(st.ebuf) > 0 {
		st.line(string(st.ebuf), true)
		st.ebuf = nil
	}
}

// cut makes the stream drop the lines after t (the next run's).
func (st *logStream) cut(t time.Time) {
	st.log.mu.Lock()
	st.cutAt = t
	st.log.mu.Unlock()
}

// restartWait is how long an exited container whose restart policy says
// it restarts is given before the engine is asked whether it did (Podman
// restarts at once; its start event can lag). A variable for tests.
var restartWait = 5 * time.Second

// logGrace bounds how long an exited container's log stream may stay
// silent before it is taken as complete (and the same for the catch-up
// read after it); a stream still delivering is waited for. A variable for
// tests.
var logGrace = 2 * time.Second

// attach prints the output of the shown containers with docker compose's
// prefixes until every watched container has exited, applying the abort
// rules, and returns an *ExitError carrying docker compose's exit code
// (the aborting container's, or ExitCodeFrom's). Exits and restarts come
// from the engine's event stream (in order, with exit codes), as docker
// compose's monitor reads them. It returns ctx's error at once when ctx
// ends (the caller handles the interrupt). since is when this `up` began:
// events before it are ignored, and containers it did not create show
// only their output from then on.
func (s *session) attach(ctx context.Context, runs map[string]*svcRun, plan attachPlan, o UpOptions, since time.Time) error {
	fresh := map[string]bool{}
	s.mu.Lock()
	for _, it := range s.created {
		if it.kind == "container" {
			fresh[it.name] = true
		}
	}
	s.mu.Unlock()

	var fs []*follower
	var shown []string
	for _, run := range runs {
		for _, c := range run.containers {
			svc := c.Labels[engine.LabelService]
			if !plan.show[svc] && !plan.watched(svc) {
				continue
			}
			f := &follower{c: c, name: shortName(c), watched: plan.watched(svc), rule: restartRuleOf(s.project.Services[svc])}
			fs = append(fs, f)
			if plan.show[svc] {
				shown = append(shown, f.name)
			}
		}
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].name < fs[j].name })
	sort.Strings(shown)
	lf := newLogFormatter(s.r.opts.Stdout, s.r.opts.Stderr, shown, o.Log, s.r.opts.Clock)
	lf.println("Attaching to " + strings.Join(shown, ", "))
	s.mu.Lock()
	s.hookLog = func(c engine.Container) io.Writer { return lf.hookWriter(shortName(c)) }
	var pending []hookRun
	if s.hookOutput != nil {
		pending, s.hookOutput = *s.hookOutput, nil
	}
	s.mu.Unlock()
	for _, h := range pending { // the post_start hooks' output
		if h.out.Len() > 0 {
			w := lf.hookWriter(shortName(h.c))
			_, _ = w.Write(h.out.Bytes())
			w.Flush()
		}
	}

	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, evErr := s.containerEvents(fctx, since)
	byID := map[string]*follower{}
	remaining := 0
	for _, f := range fs {
		byID[f.c.ID] = f
		if plan.show[f.c.Labels[engine.LabelService]] {
			f.out = &containerLog{w: lf.writer(f.name), ew: lf.errWriter(f.name)}
			from := since
			if fresh[f.c.ID] {
				from = time.Time{}
			}
			f.startLogs(fctx, s.r.eng, from)
		}
		if f.watched {
			remaining++
		}
	}
	defer func() {
		for _, f := range fs {
			if f.logsDone != nil {
				f.stopLogs()
				<-f.logsDone
			}
			if f.out != nil {
				f.out.w.Flush()
			}
		}
	}()

	type restartTimeout struct {
		f   *follower
		gen int
	}
	timeouts := make(chan restartTimeout)
	restarted := func(f *follower) {
		f.pending = 0
		f.restarts++
		f.startLogs(fctx, s.r.eng, f.streamSince)
	}
	end := func(f *follower) {
		f.pending, f.ended = 0, true
		if f.watched {
			remaining--
		}
	}
	poll := time.NewTicker(exitPoll)
	defer poll.Stop()
	code, aborted, captured := 0, false, false
	var stopping bool
	var stopErr chan error
	for remaining > 0 {
		var ev engine.ContainerEvent
		select {
		case ev = <-events:
		case err := <-evErr:
			return fmt.Errorf("following the containers of project %s: %w", s.project.Name, err)
		case t := <-timeouts:
			if t.f.pending != t.gen || t.f.ended {
				continue
			}
			// No start event yet: ask the engine (events may lag).
			if c, err := s.r.eng.InspectContainer(ctx, t.f.c.ID); err == nil && c.StartedAt.After(t.f.lastDie) {
				restarted(t.f)
			} else {
				end(t.f) // the restart did not come
			}
			continue
		case <-poll.C:
			var missed bool
			if ev, missed = s.missedExit(ctx, fs, since); !missed {
				continue
			}
		case <-ctx.Done():
			return ctx.Err()
		}
		f := byID[ev.ID]
		if f == nil || f.ended || ev.Time.Before(since) {
			continue
		}
		switch ev.Action {
		case "start":
			if f.pending > 0 {
				restarted(f)
			}
			continue
		case "destroy":
			end(f) // removed under us (a concurrent down)
			continue
		case "die":
		default:
			continue
		}
		exit, err := strconv.Atoi(ev.Attributes["exitCode"])
		if err != nil {
			exit = -1
		}
		f.finishLogs(fctx, s.r.eng, ev.Time, logGrace)
		lf.status(f.name, fmt.Sprintf("exited with code %d", exit))
		f.lastDie = ev.Time
		if !stopping && f.rule.expect(exit, f.restarts) {
			f.pending++
			t := restartTimeout{f, f.pending}
			time.AfterFunc(restartWait, func() {
				select {
				case timeouts <- t:
				case <-fctx.Done():
				}
			})
		} else {
			end(f)
		}
		if !f.watched {
			continue
		}
		if o.OnExit != CascadeIgnore && !aborted && !(o.OnExit == CascadeFail && exit == 0) {
			aborted, stopping = true, true
			code = exit
			lf.println("Aborting on container exit...")
			stopErr = make(chan error, 1)
			go func() { stopErr <- s.stopServices(ctx, runs, plan.stop, o.StopTimeout) }()
		}
		if o.ExitCodeFrom != "" && !captured && f.c.Labels[engine.LabelService] == o.ExitCodeFrom {
			code = exit
			captured = true
		}
	}
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

// exitPoll is how often an attached up checks the containers it waits on
// for an exit the event stream did not report (an engine configured
// without events must not make `up` hang); eventGrace is how long such an
// exit is given to arrive as an event first. Variables for tests.
var (
	exitPoll   = 2 * time.Second
	eventGrace = 3 * time.Second
)

// missedExit returns a "die" event for a container that has been found
// exited for longer than eventGrace without its event, if any.
func (s *session) missedExit(ctx context.Context, fs []*follower, since time.Time) (engine.ContainerEvent, bool) {
	for _, f := range fs {
		if f.ended || f.pending > 0 {
			continue
		}
		c, err := s.r.eng.InspectContainer(ctx, f.c.ID)
		if err != nil || !c.Exited() {
			f.exitedSeen = time.Time{}
			continue
		}
		if f.exitedSeen.IsZero() {
			f.exitedSeen = time.Now()
			continue
		}
		if time.Since(f.exitedSeen) < eventGrace {
			continue
		}
		f.exitedSeen = time.Time{}
		at := c.FinishedAt
		if at.Before(since) {
			at = since
		}
		return engine.ContainerEvent{Time: at, Action: "die", ID: c.ID, Name: c.Name,
			Attributes: map[string]string{"exitCode": strconv.Itoa(c.ExitCode)}}, true
	}
	return engine.ContainerEvent{}, false
}

// containerEvents streams the project's container events from since. A
// stream that breaks is resumed after the last event delivered (three
// times at most; then the error is sent on the second channel).
func (s *session) containerEvents(ctx context.Context, since time.Time) (<-chan engine.ContainerEvent, <-chan error) {
	out := make(chan engine.ContainerEvent, 64)
	errc := make(chan error, 1)
	f := engine.EventFilter{Labels: map[string]string{engine.LabelProject: s.project.Name}, Since: since}
	go func() {
		last := time.Time{}
		for failures := 0; ; {
			err := s.r.eng.ContainerEvents(ctx, f, func(ev engine.ContainerEvent) error {
				if !last.IsZero() && !ev.Time.After(last) {
					return nil // seen before the stream was resumed
				}
				select {
				case out <- ev:
					last = ev.Time
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				if failures++; failures > 3 {
					errc <- err
					return
				}
			}
			if !last.IsZero() {
				f.Since = last
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return out, errc
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
	if svc, ok := s.project.Services[c.Labels[engine.LabelService]]; ok && len(svc.PreStop) > 0 && c.Labels[engine.LabelOneoff] != "True" {
		// pre_stop hooks run before the stop, as docker compose's stop;
		// an attached up shows their output ("db-1 ->  | ...")
		if cur, err := r.eng.InspectContainer(ctx, c.ID); err == nil {
			c.State = cur.State
		}
		var out io.Writer
		s.mu.Lock()
		if s.hookLog != nil {
			out = s.hookLog(c)
		}
		s.mu.Unlock()
		if err := r.preStop(ctx, c, svc, out); err != nil {
			r.event("Container", c.Name, "Error", err.Error())
			return err
		}
	}
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

// restartPolicy is the restart policy a service's containers are created
// with (runner/spec.go): restart, else deploy.restart_policy.
func restartPolicy(svc types.ServiceConfig) string {
	if svc.Restart == "" && svc.Deploy != nil && svc.Deploy.RestartPolicy != nil {
		if r, err := deployRestart(*svc.Deploy.RestartPolicy); err == nil {
			return r
		}
	}
	return svc.Restart
}
