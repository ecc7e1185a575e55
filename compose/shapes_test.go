package compose

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorShapes pins how compose-go's errors come out of Load, so that a
// compose-go upgrade that rewords one is noticed. F is the compose file.
func TestErrorShapes(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"services: {app: {image: a, networks: [nope]}}", `F: services.app.networks: service "app" refers to undefined network nope`},
		{"services: {app: {image: a, volumes: ['nope:/x']}}", `F: services.app.volumes: service "app" refers to undefined volume nope`},
		{"include: [missing.yaml]\nservices: {app: {image: a}}", "D/missing.yaml: no such file or directory"},
		{"services: {app: {extends: nope}}", `F: cannot extend service "app" in F: service "nope" not found`},
		{"services: {app: {command: x}}", `F: services.app: service "app" has neither an image nor a build context specified`},
		{"services: {app: {image: '${X'}}", "F: invalid interpolation format for services.app.image. You may need to escape any $ with another $. ${X"},
		{"services: {app: {image: a, deploy: {replicas: -1}}}", "F: services.app.deploy.replicas: must be greater than or equal to 0"},
		{"services: {app: {image: a, scale: 2, deploy: {replicas: 3}}}", "F: services.app: can't set distinct values on 'scale' and 'deploy.replicas'"},
		{"services: {app: {image: a, privileged: maybe}}", "F: services.app.privileged: failed to cast to expected type: invalid boolean: maybe"},
		{"services: {app: {image: a, foo: 1}}", "F: services.app additional properties 'foo' not allowed"},
		{"foo: 1\nservices: {app: {image: a}}", "F: additional properties 'foo' not allowed"},
		{"services: {app: {image: a, depends_on: {b: {condition: nope}}}, b: {image: b}}",
			"F: services.app.depends_on.b.condition value must be one of 'service_started', 'service_healthy', 'service_completed_successfully'"},
		{"services: {app: {image: a, depends_on: [b]}, b: {image: b, depends_on: [app]}}", "F: dependency cycle detected: app -> b -> app"},
		{"services: {app: {image: a, environment: {A: [1]}}}", "F: services.app.environment.A must be a boolean, null, number or string"},
		{"services: [a]", "F: services must be a mapping"},
		{"- a", "F: top-level object must be a mapping"},
		{"", "F: empty compose file"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "compose.yaml")
			writeFile(t, file, tt.yaml)
			_, _, err := loadT(t, Options{Files: []string{file}})
			want := strings.ReplaceAll(strings.ReplaceAll(tt.want, "F", file), "D/", dir+"/")
			if err == nil || err.Error() != want {
				t.Errorf("%q\nerr = %v\nwant  %s", tt.yaml, err, want)
			}
		})
	}
}

func TestObsoleteVersionWarning(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	writeFile(t, file, "version: '3'\nservices: {app: {image: a}}")
	_, warn, err := loadT(t, Options{Files: []string{file}})
	if err != nil {
		t.Fatal(err)
	}
	want := "WARN[0000] " + file + ": the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion\n"
	if warn != want {
		t.Errorf("warn = %q, want %q", warn, want)
	}
}
