package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
)

// volumeHash is the com.docker.compose.config-hash label of a project
// volume: what `up` compares to tell that its definition changed.
func volumeHash(vc types.VolumeConfig) string {
	driver := vc.Driver
	if driver == "" {
		driver = "local"
	}
	b, _ := json.Marshal(struct {
		Driver     string
		DriverOpts map[string]string
		Labels     map[string]string
	}{driver, vc.DriverOpts, vc.Labels})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// volumesKey is the dev.cirun.volumes label of a service's containers: the
// named volumes its mounts resolve to. A container whose label differs
// mounts other volumes (an external volume's name changed, say) and is
// recreated, as docker compose does on a mount mismatch.
func volumesKey(p *types.Project, svc types.ServiceConfig) string {
	var parts []string
	for _, v := range svc.Volumes {
		if v.Type != types.VolumeTypeVolume || v.Source == "" {
			continue
		}
		name := v.Source
		if vc, ok := p.Volumes[v.Source]; ok {
			name = vc.Name
		}
		parts = append(parts, v.Target+"="+name)
	}
	sort.Strings(parts)
	sum := sha256.Sum256([]byte(strings.Join(parts, "\n")))
	return hex.EncodeToString(sum[:8])
}

// recreateVolumes finds the project volumes used by names whose definition
// changed since they were created (their config-hash label differs) and,
// when o says yes, removes them with the containers that use them (those
// are dropped from byService, so they are created anew); ensureVolumes then
// creates them from the current definition.
func (s *session) recreateVolumes(ctx context.Context, names []string, byService map[string][]engine.Container, o UpOptions) error {
	r := s.r
	p := s.project
	for _, k := range usedVolumes(p, names, false) {
		vc, ok := p.Volumes[k]
		if !ok || bool(vc.External) {
			continue
		}
		existing, err := r.eng.InspectVolume(ctx, vc.Name)
		if err != nil {
			continue // ensureVolumes reports it
		}
		have := existing.Labels[engine.LabelConfigHash]
		if existing.Labels[engine.LabelProject] != p.Name || have == "" || have == volumeHash(vc) {
			continue
		}
		question := fmt.Sprintf("Volume %q exists but doesn't match configuration in compose file. Recreate (data will be lost)?", vc.Name)
		yes := o.AssumeYes
		if !yes && o.Confirm != nil {
			if yes, err = o.Confirm(question); err != nil {
				return err
			}
		}
		if !yes {
			r.event("Volume", vc.Name, "Warning", question+" Kept: run `up -y` to recreate it")
			continue
		}
		for svc, cs := range byService {
			if !usesVolume(p.Services[svc], k) {
				continue
			}
			for _, c := range cs {
				if err := s.removeContainer(ctx, c, o.StopTimeout); err != nil {
					return err
				}
			}
			delete(byService, svc)
		}
		r.event("Volume", vc.Name, "Removing", "")
		// force: one-off containers still using it go too
		if err := r.eng.RemoveVolume(ctx, vc.Name, true); err != nil && !errors.Is(err, engine.ErrNotFound) {
			r.event("Volume", vc.Name, "Error", err.Error())
			return fmt.Errorf("removing volume %s: %w", vc.Name, err)
		}
		r.event("Volume", vc.Name, "Removed", "")
	}
	return nil
}

func usesVolume(svc types.ServiceConfig, key string) bool {
	for _, v := range svc.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Source == key {
			return true
		}
	}
	return false
}

// usedVolumes are the project volumes (keys of p.Volumes, sorted) the
// services names mount, or all of them with all (--all-resources).
func usedVolumes(p *types.Project, names []string, all bool) []string {
	used := map[string]bool{}
	if all {
		for k := range p.Volumes {
			used[k] = true
		}
	}
	for _, n := range names {
		for _, v := range p.Services[n].Volumes {
			if v.Type == types.VolumeTypeVolume && v.Source != "" {
				used[v.Source] = true
			}
		}
	}
	keys := make([]string, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
