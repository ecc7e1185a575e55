package compose

import (
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
)

// TestProfile is the profile that marks a service as a test: `cirun test`
// runs the services carrying it unless told which to run.
const TestProfile = "test"

// ServiceNames returns the names of p's enabled services, sorted.
func ServiceNames(p *types.Project) []string {
	names := make([]string, 0, len(p.Services))
	for name := range p.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// TestServices returns, sorted, the services whose profiles include "test",
// enabled or not: `cirun test` runs these by default. Such services are
// disabled unless the test profile is active, so the caller loads the
// project again with them in Options.EnableServices (which also enables the
// services they require) before running them.
func TestServices(p *types.Project) []string {
	var names []string
	for name, s := range p.AllServices() {
		if slices.Contains(s.Profiles, TestProfile) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// ImageName is the image a service runs: its image:, or docker compose's
// default name for the image it builds, PROJECT-SERVICE.
func ImageName(project string, s types.ServiceConfig) string {
	if s.Image != "" {
		return s.Image
	}
	return project + "-" + s.Name
}
