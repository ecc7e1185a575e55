package engine

// Labels docker compose puts on containers, networks and volumes. cirun sets
// the same keys so tools that read them keep working, and finds everything it
// created by them (teardown works after a crash).
const (
	LabelProject         = "com.docker.compose.project"
	LabelService         = "com.docker.compose.service"
	LabelContainerNumber = "com.docker.compose.container-number"
	LabelOneoff          = "com.docker.compose.oneoff"
	LabelConfigHash      = "com.docker.compose.config-hash"
	LabelImage           = "com.docker.compose.image"
	LabelDependsOn       = "com.docker.compose.depends_on"
	LabelWorkingDir      = "com.docker.compose.project.working_dir"
	LabelConfigFiles     = "com.docker.compose.project.config_files"
	LabelEnvFile         = "com.docker.compose.project.environment_file"
	LabelVersion         = "com.docker.compose.version"
	LabelNetwork         = "com.docker.compose.network"
	LabelVolume          = "com.docker.compose.volume"
	LabelSlug            = "com.docker.compose.slug"
	// LabelCirun marks objects created by cirun (value: cirun's version).
	LabelCirun = "dev.cirun.version"
	// LabelVolumes is a digest of the named volumes a container mounts
	// (runner compares it to recreate a container whose volumes changed).
	LabelVolumes = "dev.cirun.volumes"
)

// ProjectFilter selects everything of one project.
func ProjectFilter(project string) Filter {
	return Filter{Labels: map[string]string{LabelProject: project}, All: true}
}

// MatchLabels reports whether have carries every label in want ("" matches
// any value): what a Filter's Labels select.
func MatchLabels(have, want map[string]string) bool {
	for k, v := range want {
		got, ok := have[k]
		if !ok || (v != "" && got != v) {
			return false
		}
	}
	return true
}
