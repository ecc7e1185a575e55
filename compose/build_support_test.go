package compose

import (
	"os"
	"path/filepath"
	"testing"
)

// TestBuildKeysAccepted loads a file with every `build:` key the Buildah
// builder implements beyond the basics (secrets, ssh, cache, contexts,
// platforms) and `x-cirun: {registry: ...}`: Check must accept them all.
func TestBuildKeysAccepted(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"compose.yaml": `x-cirun:
  registry: 127.0.0.1:5000
services:
  base:
    build: ./base
  app:
    build:
      context: .
      cache_from: [127.0.0.1:5000/app-cache, "type=registry,ref=127.0.0.1:5000/other"]
      cache_to: ["type=registry,ref=127.0.0.1:5000/app-cache"]
      secrets: [npmrc, {source: token, target: api_token}]
      ssh: [default, "deploy=./id_ed25519"]
      additional_contexts:
        assets: ./assets
        base: service:base
        tools: docker-image://localhost/cirun/busybox:latest
      platforms: [linux/amd64]
secrets:
  npmrc: {file: ./npmrc}
  token: {environment: CIRUN_TEST_TOKEN}
`,
		"Dockerfile":      "FROM scratch\n",
		"base/Dockerfile": "FROM scratch\n",
		"npmrc":           "x",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := mustLoad(t, Options{Files: []string{filepath.Join(dir, "compose.yaml")}, Environ: []string{"CIRUN_TEST_TOKEN=v"}})
	b := p.Services["app"].Build
	if len(b.Secrets) != 2 || p.Secrets["token"].Content != "v" || len(b.SSH) != 2 || b.AdditionalContexts["assets"] != filepath.Join(dir, "assets") || b.AdditionalContexts["base"] != "service:base" {
		t.Errorf("build section %+v", b)
	}
	if x, _ := p.Extensions["x-cirun"].(map[string]any); x["registry"] != "127.0.0.1:5000" {
		t.Errorf("x-cirun = %v", p.Extensions["x-cirun"])
	}
}
