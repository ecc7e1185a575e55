package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
)

// PullOptions are `cirun pull`'s options.
type PullOptions struct {
	Services []string // empty: every enabled service
	// IncludeDeps also pulls the images of the services' dependencies.
	IncludeDeps bool
	// IgnoreFailures reports failed pulls but exits 0.
	IgnoreFailures bool
	// IgnoreBuildable skips services that have a build section.
	IgnoreBuildable bool
	// Policy overrides the services' pull_policy ("missing", "always").
	Policy string
	// Quiet pulls without progress.
	Quiet bool
}

// Pull pulls the services' images as docker compose does: services without
// an image name, or with pull_policy never or build, are skipped; a failed
// pull of a service that can be built is a warning. Pulls of distinct
// images run in parallel.
func (r *Runner) Pull(ctx context.Context, p *types.Project, o PullOptions) error {
	names, err := selected(p, o.Services, o.IncludeDeps)
	if err != nil {
		return err
	}
	event := r.event
	if o.Quiet {
		event = func(string, string, string, string) {}
	}
	var (
		mu        sync.Mutex
		wg        sync.WaitGroup
		mustBuild []string
		errs      = make([]error, len(names))
		pulling   = map[string]string{} // image -> service
	)
	for i, name := range names {
		svc := p.Services[name]
		policy := svc.PullPolicy
		if o.Policy != "" {
			policy = o.Policy
		}
		switch {
		case svc.Image == "":
			event("Service", name, "Skipped", "No image to be pulled")
			continue
		case policy == types.PullPolicyNever || policy == types.PullPolicyBuild:
			event("Service", name, "Skipped", "")
			continue
		case (policy == types.PullPolicyMissing || policy == types.PullPolicyIfNotPresent) && r.presentTagged(ctx, svc.Image):
			event("Service", name, "Skipped", "Image is already present locally")
			continue
		case svc.Build != nil && o.IgnoreBuildable:
			event("Service", name, "Skipped", "Image can be built")
			continue
		}
		if other, ok := pulling[svc.Image]; ok {
			event("Service", name, "Skipped", "Image is already being pulled by "+other)
			continue
		}
		pulling[svc.Image] = name
		wg.Add(1)
		go func(i int, svc types.ServiceConfig) {
			defer wg.Done()
			event("Service", svc.Name, "Pulling", "")
			err := r.eng.PullImage(ctx, svc.Image, engine.PullOptions{
				Quiet: true, Platform: svc.Platform, SkipTLSVerify: insecureRegistry(svc.Image),
			})
			if err == nil {
				event("Service", svc.Name, "Pulled", "")
				return
			}
			if svc.Build != nil {
				event("Service", svc.Name, "Warning", err.Error())
				mu.Lock()
				mustBuild = append(mustBuild, svc.Name)
				mu.Unlock()
				return
			}
			event("Service", svc.Name, "Error", err.Error())
			errs[i] = fmt.Errorf("service %s: %w", svc.Name, err)
		}(i, svc)
	}
	wg.Wait()
	if len(mustBuild) > 0 {
		sort.Strings(mustBuild)
		fmt.Fprintf(r.opts.Stderr, "WARNING: Some service image(s) must be built from source by running:\n    cirun build %s\n", strings.Join(mustBuild, " "))
	}
	if o.IgnoreFailures {
		return nil
	}
	return errors.Join(errs...)
}

// presentTagged reports whether ref is a local image with an explicit tag
// other than latest (docker compose pulls "latest" again under
// pull_policy missing).
func (r *Runner) presentTagged(ctx context.Context, ref string) bool {
	_, tag := splitRef(ref)
	if tag == "" || tag == "latest" {
		return false
	}
	ok, err := r.eng.ImageExists(ctx, ref)
	return err == nil && ok
}

// PushOptions are `cirun push`'s options.
type PushOptions struct {
	Services       []string
	IncludeDeps    bool
	IgnoreFailures bool
	Quiet          bool
	// InsecureRegistry allows plain HTTP and unverified TLS to any
	// registry; without it only loopback registries may go without TLS.
	InsecureRegistry bool
}

// Push pushes the images of the services that have both a build section
// and an image name (and their build tags), as docker compose does; other
// services are skipped.
func (r *Runner) Push(ctx context.Context, p *types.Project, o PushOptions) error {
	names, err := selected(p, o.Services, o.IncludeDeps)
	if err != nil {
		return err
	}
	event := r.event
	if o.Quiet {
		event = func(string, string, string, string) {}
	}
	type job struct{ service, ref string }
	var jobs []job
	for _, name := range names {
		svc := p.Services[name]
		if svc.Build == nil || svc.Image == "" {
			event("Service", name, "Skipped", "")
			continue
		}
		jobs = append(jobs, job{name, svc.Image})
		for _, t := range svc.Build.Tags {
			jobs = append(jobs, job{name, t})
		}
	}
	var mu sync.Mutex
	return forEach(len(jobs), func(i int) error {
		j := jobs[i]
		event("Image", j.ref, "Pushing", "")
		err := r.eng.PushImage(ctx, j.ref, engine.PushOptions{Quiet: true, SkipTLSVerify: o.InsecureRegistry || insecureRegistry(j.ref)})
		if err == nil {
			event("Image", j.ref, "Pushed", "")
			return nil
		}
		event("Image", j.ref, "Error", err.Error())
		if o.IgnoreFailures {
			mu.Lock()
			fmt.Fprintf(r.opts.Stderr, "Pushing %s: %v\n", j.service, err)
			mu.Unlock()
			return nil
		}
		return fmt.Errorf("service %s: %w", j.service, err)
	})
}

// selected returns the named services (all enabled ones when none), with
// their dependencies when deps is set, sorted.
func selected(p *types.Project, names []string, deps bool) ([]string, error) {
	if err := CheckServices(p, names); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		names = p.ServiceNames()
	}
	if deps {
		return closure(p, names)
	}
	out := dedup(names)
	sort.Strings(out)
	return out, nil
}

// insecureRegistry reports whether ref's registry is on a loopback
// address, which docker treats as insecure (plain HTTP allowed).
func insecureRegistry(ref string) bool {
	host, _, ok := strings.Cut(ref, "/")
	if !ok || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return false
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
