package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/compose-spec/compose-go/v2/types"
)

// ServiceHash is the com.docker.compose.config-hash label of s's containers
// and what `cirun config --hash` prints: a SHA-256 of the service as Load
// returns it (env_file folded into environment), as docker compose's
// ServiceHash does, leaving out what does not recreate containers when it
// changes: build, pull policy, scale (deploy replicas count as 1),
// depends_on and profiles.
func ServiceHash(s types.ServiceConfig) string {
	s.Build = nil
	s.PullPolicy = ""
	s.Scale = nil
	if s.Deploy != nil {
		d := *s.Deploy
		one := 1
		d.Replicas = &one
		s.Deploy = &d
	}
	s.DependsOn = nil
	s.Profiles = nil
	// ServiceConfig holds only JSON-safe values (extensions are not
	// marshalled): the error cannot happen for a loaded project
	data, _ := json.Marshal(s)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
