package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
)

// DownOptions are `cirun down`'s options.
type DownOptions struct {
	// Volumes removes the project's named volumes too (-v).
	Volumes bool
	// RemoveOrphans is accepted for docker compose compatibility: cirun finds
	// everything of the project by label, so orphans are always removed.
	RemoveOrphans bool
	// Timeout is the stop timeout before SIGKILL (default 10 s).
	Timeout *time.Duration
	// Compose, when the compose file could be loaded, gives the services'
	// pre_stop hooks, run in their running containers before removal.
	Compose *types.Project
	// RemoveImages is --rmi: "local" removes the images of services that
	// have a build section and no image name (the ones compose names
	// PROJECT-SERVICE), "all" the images of every service; "" none. Without
	// Compose, "all" removes the images the project's containers ran.
	RemoveImages string
}

// Down stops and removes every container of the project (found by label,
// so it works after a crash or with a changed compose file), then its
// networks, and with Volumes its volumes.
func (r *Runner) Down(ctx context.Context, project string, o DownOptions) error {
	cs, err := r.eng.ListContainers(ctx, engine.ProjectFilter(project))
	if err != nil {
		return fmt.Errorf("listing containers of project %s: %w", project, err)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	t := 10 * time.Second
	if o.Timeout != nil {
		t = *o.Timeout
	}
	var wg sync.WaitGroup
	errc := make(chan error, len(cs))
	for _, wave := range sharersFirst(cs) { // Podman keeps a container others share
		for _, c := range wave {
			wg.Add(1)
			go func(c engine.Container) {
				defer wg.Done()
				if c.Running() {
					r.event("Container", c.Name, "Stopping", "")
					if o.Compose != nil && c.Labels[engine.LabelOneoff] != "True" {
						// A failing hook is reported; the container is
						// removed all the same (down leaves nothing).
						if err := r.preStop(ctx, c, o.Compose.Services[c.Labels[engine.LabelService]], nil); err != nil {
							r.event("Container", c.Name, "Error", err.Error())
							errc <- err
						}
					}
				}
				r.event("Container", c.Name, "Removing", "")
				err := r.eng.RemoveContainer(ctx, c.ID, engine.RemoveOptions{Force: true, Volumes: true, Timeout: t})
				if err != nil && !errors.Is(err, engine.ErrNotFound) {
					r.event("Container", c.Name, "Error", err.Error())
					errc <- fmt.Errorf("removing container %s: %w", c.Name, err)
					return
				}
				r.event("Container", c.Name, "Removed", "")
			}(c)
		}
		wg.Wait()
	}
	close(errc)
	var errs []error
	for e := range errc {
		errs = append(errs, e)
	}
	nets, err := r.eng.ListNetworks(ctx, engine.ProjectFilter(project))
	if err != nil {
		errs = append(errs, fmt.Errorf("listing networks of project %s: %w", project, err))
	}
	for _, n := range nets {
		r.event("Network", n.Name, "Removing", "")
		if err := r.eng.RemoveNetwork(ctx, n.Name); err != nil && !errors.Is(err, engine.ErrNotFound) {
			errs = append(errs, fmt.Errorf("removing network %s: %w", n.Name, err))
			continue
		}
		r.event("Network", n.Name, "Removed", "")
	}
	hadVolumes := false
	if o.Volumes {
		vols, err := r.eng.ListVolumes(ctx, engine.ProjectFilter(project))
		hadVolumes = len(vols) > 0
		if err != nil {
			errs = append(errs, fmt.Errorf("listing volumes of project %s: %w", project, err))
		}
		for _, v := range vols {
			r.event("Volume", v.Name, "Removing", "")
			if err := r.eng.RemoveVolume(ctx, v.Name, true); err != nil && !errors.Is(err, engine.ErrNotFound) {
				errs = append(errs, fmt.Errorf("removing volume %s: %w", v.Name, err))
				continue
			}
			r.event("Volume", v.Name, "Removed", "")
		}
	}
	if len(cs) == 0 && len(nets) == 0 && !hadVolumes && o.RemoveImages == "" {
		// docker compose's words when the project has nothing left
		r.event("Project", project, "Warning", fmt.Sprintf("Warning: No resource found to remove for project %q.", project))
	}
	errs = append(errs, r.removeImages(ctx, project, o, cs)...)
	if err := r.removeProjectFiles(project); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeImages is down --rmi: an image already gone is no error.
func (r *Runner) removeImages(ctx context.Context, project string, o DownOptions, cs []engine.Container) []error {
	var refs []string
	switch o.RemoveImages {
	case "":
		return nil
	case "local", "all":
	default:
		return []error{fmt.Errorf("invalid value for --rmi: %q (want local or all)", o.RemoveImages)}
	}
	if o.Compose != nil {
		for _, name := range o.Compose.ServiceNames() {
			svc := o.Compose.Services[name]
			if o.RemoveImages == "local" && (svc.Build == nil || svc.Image != "") {
				continue
			}
			refs = append(refs, imageName(project, svc))
		}
	} else if o.RemoveImages == "all" {
		for _, c := range cs {
			refs = append(refs, c.Image)
		}
	}
	sort.Strings(refs)
	refs = slices.Compact(refs)
	var errs []error
	for _, ref := range refs {
		r.event("Image", ref, "Removing", "")
		if err := r.eng.RemoveImage(ctx, ref, false); err != nil {
			if errors.Is(err, engine.ErrNotFound) {
				continue
			}
			r.event("Image", ref, "Error", err.Error())
			errs = append(errs, fmt.Errorf("removing image %s: %w", ref, err))
			continue
		}
		r.event("Image", ref, "Removed", "")
	}
	return errs
}
