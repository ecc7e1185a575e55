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
