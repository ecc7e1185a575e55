package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

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
