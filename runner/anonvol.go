package runner

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/cirun-dev/cirun/engine"
)

// A recreated container keeps its predecessor's anonymous volumes, as
// docker compose's does (`up --renew-anon-volumes` gives it new ones):
// the data in `- /app/node_modules` or an image's VOLUME survives a
// changed configuration or --force-recreate.

// anonymousVolumes returns the anonymous volumes of c, target -> volume
// name: its volume mounts whose volume is not one of the project's named
// (or external) volumes.
func (s *session) anonymousVolumes(ctx context.Context, c engine.Container) (map[string]string, error) {
	ic, err := s.r.eng.InspectContainer(ctx, c.ID)
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inspecting container %s: %w", c.Name, err)
	}
	named := map[string]bool{}
	for _, v := range s.project.Volumes {
		named[v.Name] = true
	}
	anon := map[string]string{}
	for _, m := range ic.Mounts {
		if m.Type == engine.MountVolume && m.Source != "" && !named[m.Source] {
			anon[m.Target] = m.Source
		}
	}
	return anon, nil
}

// inheritVolumes returns a spec override that mounts, at each anonymous
// volume mount of the spec and at each of the image's VOLUME paths no
// mount covers, the volume anon has for that target, and deletes those
// from anon (what is left was not inherited).
func inheritVolumes(anon map[string]string, img engine.Image) func(*engine.ContainerSpec) {
	if len(anon) == 0 {
		return nil
	}
	return func(spec *engine.ContainerSpec) {
		covered := map[string]bool{}
		for i, m := range spec.Mounts {
			covered[m.Target] = true
			if m.Type != engine.MountVolume || m.Source != "" {
				continue
			}
			if name, ok := anon[m.Target]; ok {
				spec.Mounts[i].Source = name
				delete(anon, m.Target)
			}
		}
		for _, target := range img.Volumes {
			name, ok := anon[target]
			if !ok || covered[target] || spec.Tmpfs[target] != "" {
				continue
			}
			spec.Mounts = append(spec.Mounts, engine.Mount{Type: engine.MountVolume, Source: name, Target: target})
			delete(anon, target)
		}
	}
}

// removeVolumes removes the anonymous volumes a recreated container did not
// inherit; one still in use (by volumes_from) stays.
func (s *session) removeVolumes(ctx context.Context, anon map[string]string) {
	names := make([]string, 0, len(anon))
	for _, n := range anon {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := s.r.eng.RemoveVolume(ctx, n, false); err != nil && !errors.Is(err, engine.ErrNotFound) && !errors.Is(err, engine.ErrConflict) {
			s.r.event("Volume", n, "Warning", "removing anonymous volume: "+err.Error())
		}
	}
}
