package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cirun-dev/cirun/engine"
)

// Engine is an in-memory engine.Engine. The zero value is ready to use; New
// is a shorthand. Set the hook fields before the engine is used: they are
// read without locking.
type Engine struct {
	// Now is the clock for timestamps and health-check start periods; nil
	// means time.Now.
	Now func() time.Time
	// OnStart, when set, runs as a container starts; an error fails
	// StartContainer (the container stays created).
	OnStart func(c engine.Container) error
	// OnExec, when set, decides the exit code of every Exec instead of the
	// interpreter.
	OnExec func(c engine.Container, cmd []string) int
	// OnHealth, when set, decides the exit code of every health check
	// (cmd is the check's argv) instead of the interpreter.
	OnHealth func(c engine.Container, cmd []string) int
	// StopExitCode is the exit code a running container gets from
	// StopContainer; 0 means 143 (killed by SIGTERM).
	StopExitCode int

	mu         sync.Mutex
	seq        int
	calls      []string
	images     map[string]*engine.Image // by reference and by ID
	containers map[string]*container    // by ID
	networks   map[string]*engine.Network
	volumes    map[string]*engine.Volume
	ext        extState // pushes, files and events (extra.go)
}

// container is the fake's state of one container.
type container struct {
	spec    engine.ContainerSpec
	c       engine.Container
	logs    []logLine
	done    chan struct{} // closed when the current run ends
	changed chan struct{} // closed and replaced on every state or log change
	streak  int
	started bool // a health check succeeded since start (start period over)
}

type logLine struct {
	at     time.Time
	stderr bool
	text   string
}

var _ engine.Engine = (*Engine)(nil)

// New returns an empty fake engine.
func New() *Engine { return &Engine{} }

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// init lazily creates the maps; callers hold e.mu.
func (e *Engine) init() {
	if e.containers == nil {
		e.images = map[string]*engine.Image{}
		e.containers = map[string]*container{}
		e.networks = map[string]*engine.Network{}
		e.volumes = map[string]*engine.Volume{}
	}
}

func (e *Engine) lock() {
	e.mu.Lock()
	e.init()
}

// record appends to the call log; callers hold e.mu.
func (e *Engine) record(format string, args ...any) {
	e.calls = append(e.calls, fmt.Sprintf(format, args...))
}

// Calls returns the ordered call log, e.g. ["create p-db-1", "start p-db-1"].
// Entries are "VERB NAME": create, start, attach+start, stop, kill, pause,
// unpause, remove, wait, health, "exec NAME CMD...", "network create NAME",
// "network remove NAME", "volume create NAME", "volume remove NAME",
// "pull REF" and "rmi REF". Reads (inspect, list, logs) are not logged.
func (e *Engine) Calls() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.calls...)
}

// ResetCalls empties the call log.
func (e *Engine) ResetCalls() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = nil
}

func (e *Engine) newID() string {
	e.seq++
	sum := sha256.Sum256([]byte("fake-" + strconv.Itoa(e.seq)))
	return hex.EncodeToString(sum[:])
}

// normRef adds ":latest" to a reference without tag or digest.
func normRef(ref string) string {
	if strings.Contains(ref, "@") {
		return ref
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref
	}
	return ref + ":latest"
}

// AddImage makes ref a known local image. img.ID is generated when empty;
// ref is added to img.Tags.
func (e *Engine) AddImage(ref string, img engine.Image) {
	e.lock()
	defer e.mu.Unlock()
	if img.ID == "" {
		img.ID = e.newID()
	}
	if old, ok := e.images[img.ID]; ok {
		img.Tags = append(append([]string(nil), old.Tags...), img.Tags...)
	}
	img.Tags = appendUnique(img.Tags, normRef(ref))
	if img.Created.IsZero() {
		img.Created = e.now()
	}
	p := &img
	e.images[img.ID] = p
	for _, t := range img.Tags {
		e.images[normRef(t)] = p
	}
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// image finds a local image; callers hold e.mu.
func (e *Engine) image(ref string) *engine.Image {
	if img, ok := e.images[ref]; ok {
		return img
	}
	return e.images[normRef(ref)]
}

// ImageExists reports whether ref is a known image.
func (e *Engine) ImageExists(_ context.Context, ref string) (bool, error) {
	e.lock()
	defer e.mu.Unlock()
	return e.image(ref) != nil, nil
}

// InspectImage returns a known image; ErrNotFound otherwise.
func (e *Engine) InspectImage(_ context.Context, ref string) (engine.Image, error) {
	e.lock()
	defer e.mu.Unlock()
	img := e.image(ref)
	if img == nil {
		return engine.Image{}, fmt.Errorf("inspecting image %s: %w", ref, engine.ErrNotFound)
	}
	out := *img
	out.Tags = append([]string(nil), img.Tags...)
	return out, nil
}

// PullImage succeeds for known images and fails with ErrNotFound otherwise
// (the fake has no registry).
func (e *Engine) PullImage(_ context.Context, ref string, _ engine.PullOptions) error {
	e.lock()
	defer e.mu.Unlock()
	e.record("pull %s", ref)
	if e.image(ref) == nil {
		return fmt.Errorf("pulling %s: %w", ref, engine.ErrNotFound)
	}
	return nil
}

// RemoveImage forgets an image; ErrConflict while a container uses it
// (unless force).
func (e *Engine) RemoveImage(_ context.Context, ref string, force bool) error {
	e.lock()
	defer e.mu.Unlock()
	e.record("rmi %s", ref)
	img := e.image(ref)
	if img == nil {
		return fmt.Errorf("removing image %s: %w", ref, engine.ErrNotFound)
	}
	if !force {
		for _, c := range e.containers {
			if c.c.ImageID == img.ID {
				return fmt.Errorf("removing image %s: used by container %s: %w", ref, c.c.Name, engine.ErrConflict)
			}
		}
	}
	for k, v := range e.images {
		if v == img {
			delete(e.images, k)
		}
	}
	return nil
}

// CreateNetwork creates a network; ErrConflict if the name is taken.
func (e *Engine) CreateNetwork(_ context.Context, spec engine.NetworkSpec) error {
	e.lock()
	defer e.mu.Unlock()
	e.record("network create %s", spec.Name)
	if spec.Name == "" {
		return fmt.Errorf("creating network: empty name")
	}
	if _, ok := e.networks[spec.Name]; ok {
		return fmt.Errorf("creating network %s: %w", spec.Name, engine.ErrConflict)
	}
	driver := spec.Driver
	if driver == "" {
		driver = "bridge"
	}
	e.networks[spec.Name] = &engine.Network{
		ID: e.newID(), Name: spec.Name, Driver: driver, Labels: copyMap(spec.Labels),
		Internal: spec.Internal, Subnets: append([]engine.Subnet(nil), spec.Subnets...),
	}
	return nil
}

// InspectNetwork returns a network; ErrNotFound if missing.
func (e *Engine) InspectNetwork(_ context.Context, name string) (engine.Network, error) {
	e.lock()
	defer e.mu.Unlock()
	n, ok := e.networks[name]
	if !ok {
		return engine.Network{}, fmt.Errorf("inspecting network %s: %w", name, engine.ErrNotFound)
	}
	return copyNetwork(n), nil
}

// ListNetworks returns the networks matching f, sorted by name.
func (e *Engine) ListNetworks(_ context.Context, f engine.Filter) ([]engine.Network, error) {
	e.lock()
	defer e.mu.Unlock()
	var out []engine.Network
	for _, n := range e.networks {
		if engine.MatchLabels(n.Labels, f.Labels) {
			out = append(out, copyNetwork(n))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemoveNetwork removes a network; ErrConflict while a container uses it.
func (e *Engine) RemoveNetwork(_ context.Context, name string) error {
	e.lock()
	defer e.mu.Unlock()
	e.record("network remove %s", name)
	if _, ok := e.networks[name]; !ok {
		return fmt.Errorf("removing network %s: %w", name, engine.ErrNotFound)
	}
	for _, c := range e.containers {
		for _, n := range c.c.Networks {
			if n == name {
				return fmt.Errorf("removing network %s: used by container %s: %w", name, c.c.Name, engine.ErrConflict)
			}
		}
	}
	delete(e.networks, name)
	return nil
}

func copyNetwork(n *engine.Network) engine.Network {
	out := *n
	out.Labels = copyMap(n.Labels)
	out.Subnets = append([]engine.Subnet(nil), n.Subnets...)
	return out
}

// CreateVolume creates a named volume; ErrConflict if it exists.
func (e *Engine) CreateVolume(_ context.Context, spec engine.VolumeSpec) error {
	e.lock()
	defer e.mu.Unlock()
	e.record("volume create %s", spec.Name)
	if spec.Name == "" {
		return fmt.Errorf("creating volume: empty name")
	}
	if _, ok := e.volumes[spec.Name]; ok {
		return fmt.Errorf("creating volume %s: %w", spec.Name, engine.ErrConflict)
	}
	e.addVolume(spec)
	return nil
}

// addVolume stores a volume; callers hold e.mu.
func (e *Engine) addVolume(spec engine.VolumeSpec) {
	driver := spec.Driver
	if driver == "" {
		driver = "local"
	}
	e.volumes[spec.Name] = &engine.Volume{
		Name: spec.Name, Driver: driver, Labels: copyMap(spec.Labels),
		Mountpoint: "/fake/volumes/" + spec.Name + "/_data",
	}
}

// InspectVolume returns a volume; ErrNotFound if missing.
func (e *Engine) InspectVolume(_ context.Context, name string) (engine.Volume, error) {
	e.lock()
	defer e.mu.Unlock()
	v, ok := e.volumes[name]
	if !ok {
		return engine.Volume{}, fmt.Errorf("inspecting volume %s: %w", name, engine.ErrNotFound)
	}
	out := *v
	out.Labels = copyMap(v.Labels)
	return out, nil
}

// ListVolumes returns the volumes matching f, sorted by name.
func (e *Engine) ListVolumes(_ context.Context, f engine.Filter) ([]engine.Volume, error) {
	e.lock()
	defer e.mu.Unlock()
	var out []engine.Volume
	for _, v := range e.volumes {
		if engine.MatchLabels(v.Labels, f.Labels) {
			c := *v
			c.Labels = copyMap(v.Labels)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemoveVolume removes a volume; ErrConflict while a container uses it
// (unless force, which removes those containers as Podman does).
func (e *Engine) RemoveVolume(_ context.Context, name string, force bool) error {
	e.lock()
	defer e.mu.Unlock()
	e.record("volume remove %s", name)
	if _, ok := e.volumes[name]; !ok {
		return fmt.Errorf("removing volume %s: %w", name, engine.ErrNotFound)
	}
	for id, c := range e.containers {
		for _, m := range c.spec.Mounts {
			if m.Type == engine.MountVolume && m.Source == name {
				if !force {
					return fmt.Errorf("removing volume %s: used by container %s: %w", name, c.c.Name, engine.ErrConflict)
				}
				e.exit(c, 137)
				e.emit(c, "destroy")
				delete(e.containers, id)
			}
		}
	}
	delete(e.volumes, name)
	return nil
}

// Info describes the fake.
func (e *Engine) Info(context.Context) (engine.Info, error) {
	return engine.Info{Name: "fake", Version: "0", APIVersion: "0", Runtime: "fake", Storage: "memory", Network: "fake", Endpoint: "fake://"}, nil
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// writeLines writes lines to w (nil discards).
func writeLines(w io.Writer, lines []outLine, stderr bool) {
	if w == nil {
		return
	}
	for _, l := range lines {
		if l.stderr == stderr {
			_, _ = io.WriteString(w, l.text+"\n")
		}
	}
}
