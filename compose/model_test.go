package compose

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/template"
)

func TestModelKeepsVariables(t *testing.T) {
	dir := configFixture(t)
	// NAP is required: a model load must not interpolate, so it must not fail
	m, err := Model(context.Background(), Options{Files: []string{filepath.Join(dir, "compose.yaml")}, ProjectName: "cfg", Environ: []string{"PWD=" + dir}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := RenderModel(m, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(string(b), dir, "DIR")
	// keys sorted as docker compose's yaml encoder of a map does; paths
	// resolved; variables as written, $ not escaped
	want := `name: cfg
networks:
  default:
    name: cfg_default
services:
  app:
    build:
      context: DIR/app
      dockerfile: Dockerfile
    depends_on:
      db:
        condition: service_started
        required: true
    env_file:
      - path: DIR/app.env
        required: true
    image: ${APP_IMAGE:-localhost/cirun/config-app}
    networks:
      default: null
    ports:
      - ${PORT:-8080}:80
  db:
    command:
      - sleep
      - ${NAP:?NAP must be set}
    environment:
      MODE: ${MODE:+on}
    image: localhost/cirun/busybox
    networks:
      default: null
`
	if got != want {
		t.Errorf("model yaml:\n%s\nwant:\n%s", got, want)
	}
	j, err := RenderModel(m, "json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(j), `"${PORT:-8080}:80"`) {
		t.Errorf("model json lacks the port as written:\n%s", j)
	}
	if _, err := RenderModel(m, "toml"); err == nil {
		t.Error("RenderModel accepted toml")
	}
}

func TestVariables(t *testing.T) {
	dir := configFixture(t)
	vars, err := Variables(context.Background(), Options{Files: []string{filepath.Join(dir, "compose.yaml")}, ProjectName: "cfg", Environ: []string{"PWD=" + dir}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]template.Variable{
		"APP_IMAGE": {Name: "APP_IMAGE", DefaultValue: "localhost/cirun/config-app"},
		"PORT":      {Name: "PORT", DefaultValue: "8080"},
		"NAP":       {Name: "NAP", Required: true},
		"MODE":      {Name: "MODE", PresenceValue: "on"},
	}
	if len(vars) != len(want) {
		t.Errorf("variables = %+v, want %+v", vars, want)
	}
	for name, w := range want {
		if g := vars[name]; g != w {
			t.Errorf("%s = %+v, want %+v", name, g, w)
		}
	}

	for _, c := range []struct{ format, want string }{
		// docker compose's exact shapes (pkg/e2e TestLocalComposeConfig)
		{"json", "{\n    \"PORT\": {\n        \"Name\": \"PORT\",\n        \"DefaultValue\": \"8080\",\n        \"PresenceValue\": \"\",\n        \"Required\": false\n    }\n}\n\n"},
		{"yaml", "PORT:\n    name: PORT\n    defaultvalue: \"8080\"\n    presencevalue: \"\"\n    required: false\n"},
		{"", "NAME                REQUIRED            DEFAULT VALUE       ALTERNATE VALUE\nPORT                false               8080                \n"},
	} {
		b, err := RenderVariables(map[string]template.Variable{"PORT": want["PORT"]}, c.format)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("format %q:\n%q\nwant\n%q", c.format, b, c.want)
		}
	}
	if _, err := RenderVariables(want, "toml"); err == nil {
		t.Error("RenderVariables accepted toml")
	}
}
