package podman

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/podman/rest"
	nettypes "github.com/containers/common/libnetwork/types"
	"github.com/containers/podman/v4/pkg/bindings/images"
	"github.com/containers/podman/v4/pkg/bindings/network"
	"github.com/containers/podman/v4/pkg/bindings/volumes"
	"github.com/containers/podman/v4/pkg/domain/entities"
)

// ImageExists reports whether ref resolves to a local image.
func (e *Engine) ImageExists(ctx context.Context, ref string) (bool, error) {
	ok, err := images.Exists(e.ctx(ctx), ref, nil)
	if err != nil {
		return false, fmt.Errorf("looking up image %s: %w", ref, mapErr(err, nil))
	}
	return ok, nil
}

// InspectImage returns a local image with its HEALTHCHECK, if any;
// ErrNotFound if missing.
func (e *Engine) InspectImage(ctx context.Context, ref string) (engine.Image, error) {
	r, err := images.GetImage(e.ctx(ctx), ref, nil)
	if err != nil {
		return engine.Image{}, fmt.Errorf("inspecting image %s: %w", ref, mapErr(err, nil))
	}
	img := engine.Image{ID: r.ID, Tags: r.RepoTags, Labels: r.Labels, Size: r.Size}
	if r.Created != nil {
		img.Created = *r.Created
	}
	if r.Config != nil {
		for v := range r.Config.Volumes {
			img.Volumes = append(img.Volumes, v)
		}
		sort.Strings(img.Volumes)
	}
	if hc := r.HealthCheck; hc != nil && len(hc.Test) > 0 {
		img.Healthcheck = &engine.Healthcheck{
			Test:        append([]string(nil), hc.Test...),
			Interval:    hc.Interval,
			Timeout:     hc.Timeout,
			StartPeriod: hc.StartPeriod,
			Retries:     hc.Retries,
		}
	}
	return img, nil
}

// PullImage pulls ref into local storage; progress lines go to
// opts.Progress.
func (e *Engine) PullImage(ctx context.Context, ref string, opts engine.PullOptions) error {
	o := new(images.PullOptions).WithQuiet(opts.Quiet || opts.Progress == nil)
	if opts.Progress != nil {
		o.WithProgressWriter(opts.Progress)
	} else {
		o.WithProgressWriter(io.Discard)
	}
	if opts.SkipTLSVerify {
		o.WithSkipTLSVerify(true)
	}
	if opts.Platform != "" {
		parts := strings.Split(opts.Platform, "/")
		if len(parts) < 2 || len(parts) > 3 {
			return fmt.Errorf("pulling %s: platform %q is not OS/ARCH[/VARIANT]", ref, opts.Platform)
		}
		o.WithOS(parts[0]).WithArch(parts[1])
		if len(parts) == 3 {
			o.WithVariant(parts[2])
		}
	}
	if _, err := images.Pull(e.ctx(ctx), ref, o); err != nil {
		return fmt.Errorf("pulling %s: %w", ref, mapErr(err, nil))
	}
	return nil
}

// RemoveImage removes a local image; ErrConflict while containers use it
// (unless force).
func (e *Engine) RemoveImage(ctx context.Context, ref string, force bool) error {
	_, errs := images.Remove(e.ctx(ctx), []string{ref}, new(images.RemoveOptions).WithForce(force))
	if len(errs) > 0 {
		return fmt.Errorf("removing image %s: %w", ref, mapErr(errors.Join(errs...), nil))
	}
	return nil
}

// CreateNetwork creates a bridge network with DNS enabled, so containers
// resolve each other's names and aliases (aardvark-dns). ErrConflict if
// the name is taken.
func (e *Engine) CreateNetwork(ctx context.Context, spec engine.NetworkSpec) error {
	n := &nettypes.Network{
		Name:        spec.Name,
		Driver:      spec.Driver,
		Labels:      spec.Labels,
		Internal:    spec.Internal,
		IPv6Enabled: spec.IPv6,
		DNSEnabled:  true,
		Options:     spec.Options,
	}
	if n.Driver == "" {
		n.Driver = "bridge"
	}
	for _, s := range spec.Subnets {
		sub, err := nettypes.ParseCIDR(s.Subnet)
		if err != nil {
			return fmt.Errorf("creating network %s: subnet %q: %w", spec.Name, s.Subnet, err)
		}
		ns := nettypes.Subnet{Subnet: sub}
		if s.Gateway != "" {
			if ns.Gateway = net.ParseIP(s.Gateway); ns.Gateway == nil {
				return fmt.Errorf("creating network %s: bad gateway %q", spec.Name, s.Gateway)
			}
		}
		if s.IPRange != "" {
			_, r, err := net.ParseCIDR(s.IPRange)
			if err != nil {
				return fmt.Errorf("creating network %s: ip_range %q: %w", spec.Name, s.IPRange, err)
			}
			ns.LeaseRange = &nettypes.LeaseRange{StartIP: r.IP, EndIP: lastIP(r)}
		}
		n.Subnets = append(n.Subnets, ns)
	}
	if _, err := network.Create(e.ctx(ctx), n); err != nil {
		return fmt.Errorf("creating network %s: %w", spec.Name, mapErr(err, nil))
	}
	return nil
}

// lastIP returns the last address of a CIDR range.
func lastIP(n *net.IPNet) net.IP {
	ip := make(net.IP, len(n.IP))
	for i := range n.IP {
		ip[i] = n.IP[i] | ^n.Mask[i]
	}
	return ip
}

// InspectNetwork returns a network; ErrNotFound if missing.
func (e *Engine) InspectNetwork(ctx context.Context, name string) (engine.Network, error) {
	n, err := network.Inspect(e.ctx(ctx), name, nil)
	if err != nil {
		return engine.Network{}, fmt.Errorf("inspecting network %s: %w", name, mapErr(err, nil))
	}
	return fromNetwork(n), nil
}

// ListNetworks returns the networks carrying every label in f.Labels.
func (e *Engine) ListNetworks(ctx context.Context, f engine.Filter) ([]engine.Network, error) {
	opts := new(network.ListOptions)
	if lf := rest.LabelFilters(f.Labels); len(lf) > 0 {
		opts.WithFilters(map[string][]string{"label": lf})
	}
	list, err := network.List(e.ctx(ctx), opts)
	if err != nil {
		return nil, fmt.Errorf("listing networks: %w", mapErr(err, nil))
	}
	var out []engine.Network
	for _, n := range list {
		if engine.MatchLabels(n.Labels, f.Labels) {
			out = append(out, fromNetwork(n))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func fromNetwork(n nettypes.Network) engine.Network {
	out := engine.Network{ID: n.ID, Name: n.Name, Driver: n.Driver, Labels: n.Labels, Internal: n.Internal}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	for _, s := range n.Subnets {
		sub := engine.Subnet{Subnet: s.Subnet.String()}
		if s.Gateway != nil {
			sub.Gateway = s.Gateway.String()
		}
		out.Subnets = append(out.Subnets, sub)
	}
	return out
}

// RemoveNetwork removes a network; ErrNotFound if missing, ErrConflict
// while containers use it.
func (e *Engine) RemoveNetwork(ctx context.Context, name string) error {
	reports, err := network.Remove(e.ctx(ctx), name, nil)
	if err != nil {
		return fmt.Errorf("removing network %s: %w", name, mapErr(err, nil))
	}
	for _, r := range reports {
		if r != nil && r.Err != nil {
			return fmt.Errorf("removing network %s: %w", name, mapErr(r.Err, nil))
		}
	}
	return nil
}

// CreateVolume creates a named volume; ErrConflict if it exists.
func (e *Engine) CreateVolume(ctx context.Context, spec engine.VolumeSpec) error {
	opts := entities.VolumeCreateOptions{Name: spec.Name, Driver: spec.Driver, Labels: spec.Labels, Options: spec.Options}
	if _, err := volumes.Create(e.ctx(ctx), opts, nil); err != nil {
		return fmt.Errorf("creating volume %s: %w", spec.Name, mapErr(err, nil))
	}
	return nil
}

// InspectVolume returns a volume; ErrNotFound if missing.
func (e *Engine) InspectVolume(ctx context.Context, name string) (engine.Volume, error) {
	v, err := volumes.Inspect(e.ctx(ctx), name, nil)
	if err != nil {
		return engine.Volume{}, fmt.Errorf("inspecting volume %s: %w", name, mapErr(err, nil))
	}
	return fromVolume(v), nil
}

// ListVolumes returns the volumes carrying every label in f.Labels.
func (e *Engine) ListVolumes(ctx context.Context, f engine.Filter) ([]engine.Volume, error) {
	opts := new(volumes.ListOptions)
	if lf := rest.LabelFilters(f.Labels); len(lf) > 0 {
		opts.WithFilters(map[string][]string{"label": lf})
	}
	list, err := volumes.List(e.ctx(ctx), opts)
	if err != nil {
		return nil, fmt.Errorf("listing volumes: %w", mapErr(err, nil))
	}
	var out []engine.Volume
	for _, v := range list {
		if v != nil && engine.MatchLabels(v.Labels, f.Labels) {
			out = append(out, fromVolume(&v.VolumeConfigResponse))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func fromVolume(v *entities.VolumeConfigResponse) engine.Volume {
	out := engine.Volume{Name: v.Name, Driver: v.Driver, Labels: v.Labels, Mountpoint: v.Mountpoint}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	return out
}

// RemoveVolume removes a volume; ErrConflict while containers use it
// (with force, Podman removes those containers too).
func (e *Engine) RemoveVolume(ctx context.Context, name string, force bool) error {
	if err := volumes.Remove(e.ctx(ctx), name, new(volumes.RemoveOptions).WithForce(force)); err != nil {
		return fmt.Errorf("removing volume %s: %w", name, mapErr(err, nil))
	}
	return nil
}
