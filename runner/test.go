package runner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/compose"
	"github.com/cirun-dev/cirun/engine"
)

// TestOptions are `cirun test`'s options.
type TestOptions struct {
	// Services are the test services; empty means those in profile "test".
	Services []string
	// Keep leaves the project up afterwards (default: torn down, volumes too).
	Keep    bool
	Build   bool
	NoBuild bool
	// LogLines is how many log lines of every service are printed when a
	// test fails (default 30).
	LogLines int
}

// Test brings the test services' dependencies up (healthy where asked),
// runs the test services with their output prefixed on Stdout, and returns
// nil when all exit 0 or an *ExitError with the first failing test's code.
// On failure it prints the last log lines of every service. Unless Keep, it
// tears the project down (containers, networks, volumes) afterwards.
func (r *Runner) Test(ctx context.Context, p *types.Project, o TestOptions) error {
	tests := o.Services
	if len(tests) == 0 {
		for _, t := range compose.TestServices(p) {
			if _, enabled := p.Services[t]; enabled {
				tests = append(tests, t)
			}
		}
	}
	if len(tests) == 0 {
		return fmt.Errorf("no test services: name them (cirun test SERVICE...) or put them in profile %q", compose.TestProfile)
	}
	for _, t := range tests {
		if _, ok := p.Services[t]; !ok {
			return fmt.Errorf("no such service: %s", t)
		}
	}
	if o.LogLines <= 0 {
		o.LogLines = 30
	}
	s := r.newSession(p)
	defer s.close()
	err := s.test(ctx, tests, o)
	if ctx.Err() != nil {
		s.rollback(nil)
		return ErrInterrupted
	}
	if err != nil {
		s.dumpLogs(o.LogLines)
	}
	if !o.Keep {
		dctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		zero := time.Duration(0)
		if derr := r.Down(dctx, p.Name, DownOptions{Volumes: true, Timeout: &zero}); derr != nil && err == nil {
			err = derr
		}
	}
	return err
}

func (s *session) test(ctx context.Context, tests []string, o TestOptions) error {
	p := s.project
	// Test services others depend on (e.g. migrations) are dependencies;
	// the rest are the runners whose exit codes count.
	isTest := map[string]bool{}
	for _, t := range tests {
		isTest[t] = true
	}
	var runners, deps []string
	for _, t := range tests {
		depended := false
		for _, u := range tests {
			if _, ok := p.Services[u].DependsOn[t]; ok {
				depended = true
			}
		}
		if depended {
			deps = append(deps, t)
		} else {
			runners = append(runners, t)
		}
		for d := range p.Services[t].DependsOn {
			if !isTest[d] {
				deps = append(deps, d)
			}
		}
	}
	// Images of the runners resolve while the dependencies come up.
	type imgRes struct {
		img engine.Image
		err error
	}
	imgs := map[string]chan imgRes{}
	for _, t := range runners {
		ch := make(chan imgRes, 1)
		imgs[t] = ch
		go func(t string) {
			img, err := s.ensureImage(ctx, p.Services[t], o.Build, o.NoBuild)
			ch <- imgRes{img, err}
		}(t)
	}
	var runs map[string]*svcRun
	if len(deps) > 0 {
		var err error
		runs, err = s.up(ctx, uniq(deps), UpOptions{Detach: true, Build: o.Build, NoBuild: o.NoBuild})
		if err != nil {
			return err
		}
	}

	names := make([]string, len(runners))
	for i, t := range runners {
		names[i] = t + "-1"
	}
	prefixes := logPrefixes(names)
	var mu sync.Mutex
	type result struct {
		service string
		code    int
		err     error
	}
	results := make(chan result, len(runners))
	for _, t := range runners {
		go func(t string) {
			svc := p.Services[t]
			res := <-imgs[t]
			if res.err != nil {
				results <- result{t, 1, res.err}
				return
			}
			for d, dep := range svc.DependsOn {
				if runs[d] == nil {
					continue
				}
				if err := s.waitCondition(ctx, d, dep, runs[d].containers); err != nil {
					results <- result{t, 1, err}
					return
				}
			}
			c, err := s.replaceAndCreate(ctx, svc, res.img)
			if err != nil {
				results <- result{t, 1, err}
				return
			}
			w := &prefixWriter{mu: &mu, out: s.r.opts.Stdout, prefix: prefixes[t+"-1"]}
			code, err := s.runAttached(ctx, c, engine.Streams{Stdout: w, Stderr: w})
			w.Flush()
			if err == nil {
				mu.Lock()
				fmt.Fprintf(s.r.opts.Stdout, "%s exited with code %d\n", shortName(c), code)
				mu.Unlock()
			}
			results <- result{t, code, err}
		}(t)
	}
	var first error
	for range runners {
		res := <-results
		switch {
		case res.err != nil && first == nil:
			first = res.err
		case res.code != 0 && first == nil:
			first = &ExitError{Code: res.code, Err: fmt.Errorf("test service %s failed with exit code %d", res.service, res.code)}
		}
	}
	return first
}

// replaceAndCreate removes a previous container of a test service and
// creates a fresh one (a test always runs from scratch).
func (s *session) replaceAndCreate(ctx context.Context, svc types.ServiceConfig, img engine.Image) (engine.Container, error) {
	name := containerName(s.project.Name, svc, 1)
	old, err := s.r.eng.ListContainers(ctx, engine.Filter{All: true, Labels: map[string]string{
		engine.LabelProject: s.project.Name, engine.LabelService: svc.Name, engine.LabelOneoff: "False"}})
	if err != nil {
		return engine.Container{}, fmt.Errorf("listing containers of %s: %w", svc.Name, err)
	}
	for _, c := range old {
		zero := time.Duration(0)
		if err := s.removeContainer(ctx, c, &zero); err != nil {
			return engine.Container{}, err
		}
	}
	return s.createContainer(ctx, svc, img, 1, name, false, nil)
}

// dumpLogs prints the last lines of every container of the project.
func (s *session) dumpLogs(n int) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := s.r.eng.ListContainers(ctx, engine.ProjectFilter(s.project.Name))
	if err != nil {
		return
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = shortName(c)
	}
	prefixes := logPrefixes(names)
	out := s.r.opts.Stdout
	for _, c := range cs {
		lines := s.tail(c.ID, n)
		state := c.State
		if c.Exited() {
			state = fmt.Sprintf("exited (%d)", c.ExitCode)
		} else if c.Health != "" {
			state += " (" + c.Health + ")"
		}
		fmt.Fprintf(out, "---- %s: %s, last %d log lines ----\n", c.Name, state, len(lines))
		for _, l := range lines {
			fmt.Fprintf(out, "%s%s\n", prefixes[shortName(c)], l)
		}
	}
}

func uniq(xs []string) []string {
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

// IsExit reports the exit code carried by err, if any.
func IsExit(err error) (int, bool) {
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code, true
	}
	return 0, false
}
