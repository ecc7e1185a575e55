package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/format"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
)

// RunOptions are `cirun run`'s options.
type RunOptions struct {
	Service string
	// Command replaces the service's command when non-empty.
	Command    []string
	Entrypoint []string // non-nil replaces the entrypoint
	Env        []string // extra KEY=VALUE
	User       string
	WorkingDir string
	Name       string // container name; default PROJECT-SERVICE-run-<12 hex>
	Remove     bool   // --rm
	NoDeps     bool
	Build      bool
	NoBuild    bool
	// NoRecreate keeps the dependencies' existing containers even when
	// their configuration changed (--no-recreate).
	NoRecreate bool
	// ServicePorts publishes the service's ports (--service-ports).
	ServicePorts bool
	// Publish are `--publish` ports ("[IP:][HOST:]CONTAINER[/PROTO]"); when
	// set they replace the service's ports, as docker compose does.
	Publish []string
	// Detach starts the container and returns at once; Run then writes
	// the container's ID on Stdout, as docker compose does. With Remove,
	// the engine removes the container when it exits.
	Detach bool
	Labels map[string]string
	// Volumes are `--volume` mounts ("SRC:DST[:MODE]", docker's short
	// syntax) added to the service's; a relative bind source is taken
	// from the current directory.
	Volumes []string
	// CapAdd and CapDrop add capabilities to the service's, or drop them
	// (--cap-add, --cap-drop): one added is no longer dropped, one dropped
	// no longer added, as docker compose does.
	CapAdd  []string
	CapDrop []string
	// Pull replaces every service's pull_policy (--pull: always, missing,
	// never, build, if_not_present); "" or "policy" keeps them.
	Pull string
	// UseAliases gives the one-off the service's network aliases (its name
	// and the aliases its networks list), so that other containers reach
	// it by the service's name (--use-aliases).
	UseAliases bool
	// RemoveOrphans removes, IgnoreOrphans neither removes nor reports,
	// the project's orphan containers (see UpOptions).
	RemoveOrphans bool
	IgnoreOrphans bool
}

// pullPolicies are the values --pull takes, as docker compose.
var pullPolicies = []string{types.PullPolicyAlways, types.PullPolicyNever, types.PullPolicyBuild,
	types.PullPolicyMissing, types.PullPolicyIfNotPresent}

// withPullPolicy returns p with every service's pull_policy set to policy
// (--pull); "" and "policy" return p unchanged.
func withPullPolicy(p *types.Project, policy string) (*types.Project, error) {
	if policy == "" || policy == "policy" {
		return p, nil
	}
	if !slices.Contains(pullPolicies, policy) {
		return nil, fmt.Errorf("invalid --pull option %q", policy)
	}
	out := *p
	out.Services = types.Services{}
	for name, s := range p.Services {
		s.PullPolicy = policy
		out.Services[name] = s
	}
	return &out, nil
}

// runCaps returns the one-off's capabilities to add and to drop, as docker
// compose computes them: --cap-add ones are added (and no longer dropped),
// then --cap-drop ones dropped (and no longer added), so a capability
// given to both ends up dropped.
func runCaps(svc types.ServiceConfig, o RunOptions) (add, drop []string) {
	add = appendNew(slices.Clone(svc.CapAdd), o.CapAdd)
	drop = without(slices.Clone(svc.CapDrop), o.CapAdd)
	drop = appendNew(drop, o.CapDrop)
	add = without(add, o.CapDrop)
	return add, drop
}

// appendNew appends to list the items it does not have yet.
func appendNew(list, items []string) []string {
	for _, c := range items {
		if !slices.Contains(list, c) {
			list = append(list, c)
		}
	}
	return list
}

// without removes items from list.
func without(list, items []string) []string {
	return slices.DeleteFunc(list, func(c string) bool { return slices.Contains(items, c) })
}

// Run runs a one-off container of a service, after bringing up its
// dependencies, with its output on Stdout. It returns the container's exit
// code.
func (r *Runner) Run(ctx context.Context, p *types.Project, o RunOptions) (int, error) {
	p, err := withPullPolicy(p, o.Pull)
	if err != nil {
		return 1, err
	}
	svc, ok := p.Services[o.Service]
	if !ok {
		return 1, fmt.Errorf("no such service: %s", o.Service)
	}
	ports, err := runPorts(svc, o)
	if err != nil {
		return 1, err
	}
	s := r.newSession(p)
	defer s.close()

	imgc := make(chan error, 1)
	var img engine.Image
	go func() {
		var err error
		img, err = s.ensureImage(ctx, svc, o.Build, o.NoBuild)
		imgc <- err
	}()
	if err := s.upDependencies(ctx, svc, o); err != nil {
		<-imgc
		if ctx.Err() != nil {
			s.rollback(nil)
			return 130, ErrInterrupted
		}
		return 1, err
	}
	if err := <-imgc; err != nil {
		return 1, err
	}
	// the one-off's own networks and volumes (its dependencies' are up)
	if err := s.ensureNetworks(ctx, []string{svc.Name}); err != nil {
		return 1, err
	}
	if err := s.ensureVolumes(ctx, []string{svc.Name}); err != nil {
		return 1, err
	}

	name := o.Name
	if name == "" {
		name = fmt.Sprintf("%s-%s-run-%s", p.Name, svc.Name, randomHex(6))
	}
	run := svc
	run.ContainerName = ""
	vols, err := runVolumes(o.Volumes)
	if err != nil {
		return 1, err
	}
	run.Volumes = append(append([]types.ServiceVolumeConfig(nil), svc.Volumes...), vols...)
	run.CapAdd, run.CapDrop = runCaps(svc, o)
	c, err := s.createContainer(ctx, run, img, 1, name, true, func(spec *engine.ContainerSpec) {
		if len(o.Command) > 0 {
			spec.Command = o.Command
		}
		if o.Entrypoint != nil {
			spec.Entrypoint = o.Entrypoint
		}
		spec.Env = append(spec.Env, o.Env...)
		spec.UnsetEnv = withoutKeys(spec.UnsetEnv, o.Env)
		if o.User != "" {
			spec.User = o.User
		}
		if o.WorkingDir != "" {
			spec.WorkingDir = o.WorkingDir
		}
		for k, v := range o.Labels {
			spec.Labels[k] = v
		}
		spec.Restart = ""
		spec.Ports = ports
		if o.UseAliases {
			for i, att := range spec.Networks {
				for k := range run.Networks {
					if nc, ok := p.Networks[k]; ok && nc.Name == att.Name {
						spec.Networks[i].Aliases = networkAliases(run, k)
					}
				}
			}
		}
		// detached, --rm is the engine's to do once the command exits
		spec.AutoRemove = o.Detach && o.Remove
	})
	if err != nil {
		return 1, err
	}
	if o.Detach {
		if err := r.eng.StartContainer(ctx, c.ID); err != nil {
			return 1, fmt.Errorf("starting %s: %w", c.Name, err)
		}
		fmt.Fprintln(r.opts.Stdout, c.ID)
		return 0, nil
	}
	code, err := s.runAttached(ctx, c, engine.Streams{Stdout: r.opts.Stdout, Stderr: r.opts.Stderr})
	if o.Remove || ctx.Err() != nil {
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = r.eng.RemoveContainer(rctx, c.ID, engine.RemoveOptions{Force: true, Volumes: true})
		cancel()
	}
	if ctx.Err() != nil {
		s.rollback(nil)
		return 130, ErrInterrupted
	}
	if err != nil {
		return 1, err
	}
	return code, nil
}

// runPorts returns the one-off's published ports: none by default, the
// service's with ServicePorts, the --publish ones instead when given.
func runPorts(svc types.ServiceConfig, o RunOptions) ([]engine.PortMapping, error) {
	var cfgs []types.ServicePortConfig
	switch {
	case len(o.Publish) > 0:
		for _, p := range o.Publish {
			c, err := types.ParsePortConfig(p)
			if err != nil {
				return nil, fmt.Errorf("run --publish %q: %w", p, err)
			}
			cfgs = append(cfgs, c...)
		}
	case o.ServicePorts:
		cfgs = svc.Ports
	}
	var out []engine.PortMapping
	for _, c := range cfgs {
		pm, err := portMappings(c)
		if err != nil {
			return nil, fmt.Errorf("run: service %s: ports: %w", svc.Name, err)
		}
		out = append(out, pm...)
	}
	return out, nil
}

// withoutKeys returns names without the keys that env ("KEY=VALUE") sets.
func withoutKeys(names, env []string) []string {
	set := map[string]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		set[k] = true
	}
	var out []string
	for _, n := range names {
		if !set[n] {
			out = append(out, n)
		}
	}
	return out
}

// upDependencies brings up the services svc depends on and waits for their
// conditions, as `run` and `test` need.
// Orphans are reported (or removed) first, as docker compose's `run` does
// even when there is no dependency to bring up.
func (s *session) upDependencies(ctx context.Context, svc types.ServiceConfig, o RunOptions) error {
	var deps []string
	if !o.NoDeps {
		for d, dep := range svc.DependsOn {
			if _, ok := s.project.Services[d]; ok || dep.Required {
				deps = append(deps, d)
			}
		}
	}
	if len(deps) == 0 {
		if o.IgnoreOrphans {
			return nil
		}
		existing, err := s.r.eng.ListContainers(ctx, engine.ProjectFilter(s.project.Name))
		if err != nil {
			return fmt.Errorf("listing containers of project %s: %w", s.project.Name, err)
		}
		return s.handleOrphans(ctx, orphans(s.project, existing), o.RemoveOrphans)
	}
	runs, err := s.up(ctx, deps, UpOptions{Detach: true, Build: o.Build, NoBuild: o.NoBuild, NoRecreate: o.NoRecreate,
		RemoveOrphans: o.RemoveOrphans, IgnoreOrphans: o.IgnoreOrphans})
	if err != nil {
		return err
	}
	for _, d := range deps {
		if err := s.waitCondition(ctx, d, svc.DependsOn[d], runs[d].containers); err != nil {
			return err
		}
	}
	return nil
}

// runAttached starts a created container with its output on streams and
// returns its exit code.
func (s *session) runAttached(ctx context.Context, c engine.Container, streams engine.Streams) (int, error) {
	r := s.r
	if err := r.eng.StartAttached(ctx, c.ID, streams); err != nil {
		return 1, fmt.Errorf("running %s: %w", c.Name, err)
	}
	code, err := r.eng.WaitContainer(ctx, c.ID)
	if err != nil {
		return 1, fmt.Errorf("waiting for %s: %w", c.Name, err)
	}
	return code, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// runVolumes parses `run --volume` values.
func runVolumes(specs []string) ([]types.ServiceVolumeConfig, error) {
	var out []types.ServiceVolumeConfig
	for _, v := range specs {
		vol, err := format.ParseVolume(v)
		if err != nil {
			return nil, fmt.Errorf("invalid --volume %q: %w", v, err)
		}
		if vol.Type == types.VolumeTypeBind {
			if !filepath.IsAbs(vol.Source) {
				if vol.Source, err = filepath.Abs(vol.Source); err != nil {
					return nil, err
				}
			}
			vol.Bind = &types.ServiceVolumeBind{CreateHostPath: true}
		}
		out = append(out, vol)
	}
	return out, nil
}
