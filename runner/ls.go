package runner

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cirun-dev/cirun/engine"
)

// Stack is one compose project found on the engine, as `ls` shows it.
type Stack struct {
	Name string
	// Status counts the containers by state, docker compose's way:
	// "exited(1), running(2)".
	Status string
	// ConfigFiles are the compose files the containers were created from,
	// comma-separated.
	ConfigFiles string
}

// LsOptions are `cirun ls`' options.
type LsOptions struct {
	// All includes projects whose containers are all stopped.
	All bool
	// Name keeps projects whose name matches this regular expression
	// (docker's --filter name=...); "" keeps all.
	Name string
}

// Ls lists the compose projects that have containers (running ones unless
// All), found by the project label with one engine call.
func (r *Runner) Ls(ctx context.Context, o LsOptions) ([]Stack, error) {
	return Ls(ctx, r.eng, o)
}

// Ls is Runner.Ls over any lister (cirun's front binary: engine/podman/rest).
func Ls(ctx context.Context, eng engine.ContainerLister, o LsOptions) ([]Stack, error) {
	var re *regexp.Regexp
	if o.Name != "" {
		var err error
		if re, err = regexp.Compile(o.Name); err != nil {
			return nil, fmt.Errorf("filter name=%s: %w", o.Name, err)
		}
	}
	cs, err := eng.ListContainers(ctx, engine.Filter{Labels: map[string]string{engine.LabelProject: ""}, All: o.All})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	type acc struct {
		states map[string]int
		files  []string
	}
	byProject := map[string]*acc{}
	for _, c := range cs {
		p := c.Labels[engine.LabelProject]
		if p == "" || (re != nil && !re.MatchString(p)) {
			continue
		}
		a := byProject[p]
		if a == nil {
			a = &acc{states: map[string]int{}}
			byProject[p] = a
		}
		a.states[c.State]++
		for _, f := range strings.Split(c.Labels[engine.LabelConfigFiles], ",") {
			if f != "" && !containsString(a.files, f) {
				a.files = append(a.files, f)
			}
		}
	}
	out := make([]Stack, 0, len(byProject))
	for name, a := range byProject {
		states := make([]string, 0, len(a.states))
		for s := range a.states {
			states = append(states, s)
		}
		sort.Strings(states)
		parts := make([]string, len(states))
		for i, s := range states {
			parts[i] = fmt.Sprintf("%s(%d)", s, a.states[s])
		}
		out = append(out, Stack{Name: name, Status: strings.Join(parts, ", "), ConfigFiles: strings.Join(a.files, ",")})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ImageSummary is one container's image, as `images` shows it.
type ImageSummary struct {
	ContainerName string
	Repository    string
	Tag           string
	ID            string
	Size          int64
	Created       time.Time
}

// Images lists the images of the project's containers (one-offs included)
// of the given services (all when empty), sorted by container name.
func (r *Runner) Images(ctx context.Context, project string, services []string) ([]ImageSummary, error) {
	l, err := r.list(ctx, Scope{Project: project})
	if err != nil {
		return nil, err
	}
	var cs []engine.Container
	for _, n := range l.targets(Scope{Project: project, Services: services}, true) {
		cs = append(cs, l.of(n, containerSel{oneoff: true})...)
	}
	images := map[string]engine.Image{}
	var mu sync.Mutex
	err = each(uniqueImages(cs), func(c engine.Container) error {
		ref := c.ImageID
		if ref == "" {
			ref = c.Image
		}
		img, err := r.eng.InspectImage(ctx, ref)
		if err != nil {
			return fmt.Errorf("inspecting image of %s: %w", c.Name, err)
		}
		mu.Lock()
		images[ref] = img
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]ImageSummary, 0, len(cs))
	for _, c := range cs {
		ref := c.ImageID
		if ref == "" {
			ref = c.Image
		}
		img := images[ref]
		repo, tag := splitRef(c.Image)
		if !containsString(img.Tags, c.Image) && len(img.Tags) > 0 {
			repo, tag = splitRef(img.Tags[0])
		}
		out = append(out, ImageSummary{
			ContainerName: c.Name, Repository: repo, Tag: tag,
			ID: strings.TrimPrefix(img.ID, "sha256:"), Size: img.Size, Created: img.Created,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ContainerName < out[j].ContainerName })
	return out, nil
}

// uniqueImages returns one container per image.
func uniqueImages(cs []engine.Container) []engine.Container {
	seen := map[string]bool{}
	var out []engine.Container
	for _, c := range cs {
		k := c.ImageID + "|" + c.Image
		if !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	return out
}

// splitRef splits "repo:tag" (the tag after the last colon that follows
// the last slash); a digest reference has no tag.
func splitRef(ref string) (repo, tag string) {
	if i := strings.Index(ref, "@"); i >= 0 {
		return ref[:i], ""
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i], ref[i+1:]
	}
	return ref, ""
}

// ContainerTop is the process table of one container, for `top`.
type ContainerTop struct {
	Name    string
	Service string
	Replica string // container number
	engine.Processes
}

// Top lists the processes of the project's running containers of the given
// services (all when empty), sorted by container name.
func (r *Runner) Top(ctx context.Context, project string, services []string) ([]ContainerTop, error) {
	l, err := r.list(ctx, Scope{Project: project})
	if err != nil {
		return nil, err
	}
	var cs []engine.Container
	for _, n := range l.targets(Scope{Project: project, Services: services}, true) {
		cs = append(cs, l.of(n, containerSel{oneoff: true, running: true})...)
	}
	out := make([]ContainerTop, len(cs))
	err = forEach(len(cs), func(i int) error {
		c := cs[i]
		p, err := r.eng.TopContainer(ctx, c.ID)
		if err != nil {
			return fmt.Errorf("listing processes of %s: %w", c.Name, err)
		}
		out[i] = ContainerTop{Name: c.Name, Service: c.Labels[engine.LabelService], Replica: c.Labels[engine.LabelContainerNumber], Processes: p}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// PortOptions select the mapping `port` prints.
type PortOptions struct {
	Protocol string // "tcp" (default) or "udp"
	// Index is the container number; 0 means the first container.
	Index int
}

// Port returns the host address ("0.0.0.0:32768") a running container of
// service publishes private port on.
func (r *Runner) Port(ctx context.Context, project, service string, port uint16, o PortOptions) (string, error) {
	proto := strings.ToLower(o.Protocol)
	if proto == "" {
		proto = "tcp"
	}
	c, err := r.target(ctx, project, service, o.Index, true)
	if err != nil {
		return "", fmt.Errorf("no container found for %s: %w", service, err)
	}
	full, err := r.eng.InspectContainer(ctx, c.ID)
	if err == nil {
		c = full
	}
	var have []string
	for _, p := range c.Ports {
		pp := p.Protocol
		if pp == "" {
			pp = "tcp"
		}
		if p.ContainerPort == port && pp == proto && p.HostPort != 0 {
			ip := p.HostIP
			if ip == "" {
				ip = "0.0.0.0"
			}
			return fmt.Sprintf("%s:%d", ip, p.HostPort), nil
		}
		have = append(have, fmt.Sprintf("%d/%s", p.ContainerPort, pp))
	}
	return "", fmt.Errorf("no port %d/%s for container %s: %s", port, proto, c.Name, strings.Join(have, ", "))
}
