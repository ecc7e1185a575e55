package compose

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and docs/compose-support.md")

func TestRenderRoundTrip(t *testing.T) {
	fixtures := []Options{
		{Files: []string{testdata(t, "supported", "compose.yaml")}},
		{Files: []string{testdata(t, "interpolation", "compose.yaml")}, Environ: []string{"SET=va$lue", "EMPTY="}},
		{Files: []string{testdata(t, "multi", "base.yaml"), testdata(t, "multi", "ci.yaml")}},
		{Files: []string{testdata(t, "envfile_optional", "compose.yaml")}},
		{Files: []string{testdata(t, "profiles", "compose.yaml")}, EnableServices: []string{"tests"}},
		{Files: []string{filepath.Join(configFixture(t), "compose.yaml")}, Environ: []string{"NAP=1"}},
	}
	for _, o := range fixtures {
		for _, format := range []string{"yaml", "json"} {
			t.Run(filepath.Base(filepath.Dir(o.Files[0]))+"/"+format, func(t *testing.T) {
				p, _ := mustLoad(t, o)
				first, err := Render(p, format)
				if err != nil {
					t.Fatal(err)
				}
				if format == "json" && !json.Valid(first) {
					t.Fatalf("invalid JSON:\n%s", first)
				}
				// the rendering is self-contained: load it back from stdin,
				// without environment, profiles or env files
				again, _ := mustLoad(t, Options{
					Files:      []string{"-"},
					Stdin:      bytes.NewReader(first),
					WorkingDir: p.WorkingDir,
					Profiles:   p.Profiles,
					Environ:    []string{"COMPOSE_DISABLE_ENV_FILE=1"},
				})
				second, err := Render(again, format)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(first, second) {
					t.Errorf("rendering changed after a round trip:\n--- first\n%s\n--- second\n%s", first, second)
				}
			})
		}
	}
}

func TestRenderGolden(t *testing.T) {
	o := Options{Files: []string{testdata(t, "interpolation", "compose.yaml")}, Environ: []string{"SET=value", "EMPTY="}}
	p, _ := mustLoad(t, o)
	for _, format := range []string{"yaml", "json"} {
		b, err := Render(p, format)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.ReplaceAll(string(b), testdataDir, "TESTDATA")
		golden := testdata(t, "interpolation", "config."+format)
		if *update {
			writeFile(t, golden, got)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("%s rendering differs from %s (go test -update to accept):\n%s", format, golden, got)
		}
	}
	if _, err := Render(p, "toml"); err == nil {
		t.Error("Render accepted format toml")
	}
}

// TestRenderServiceKeyOrder: docker compose prints a service's keys in its
// ServiceConfig order (build, command, depends_on, ..., image, ...,
// networks, ports), not in the order of the compose-go cirun uses.
func TestRenderServiceKeyOrder(t *testing.T) {
	dir := configFixture(t)
	p, _ := mustLoad(t, Options{Files: []string{filepath.Join(dir, "compose.yaml")}, ProjectName: "cfg", Environ: []string{"NAP=1"}})
	b, err := Render(p, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(string(b), dir, "DIR")
	want := `name: cfg
services:
  app:
    build:
      context: DIR/app
      dockerfile: Dockerfile
    depends_on:
      db:
        condition: service_started
        required: true
    environment:
      GREETING: hello
    image: localhost/cirun/config-app
    networks:
      default: null
    ports:
      - mode: ingress
        target: 80
        published: "8080"
        protocol: tcp
  db:
    command:
      - sleep
      - "1"
    environment:
      MODE: ""
    image: localhost/cirun/busybox
    networks:
      default: null
networks:
  default:
    name: cfg_default
`
	if got != want {
		t.Errorf("rendering:\n%s\nwant:\n%s", got, want)
	}
}
