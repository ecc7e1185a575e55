package compose

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// supportDoc renders the Supported table as docs/compose-support.md.
func supportDoc() string {
	var b strings.Builder
	b.WriteString("# Compose keys cirun supports\n\n")
	b.WriteString("Generated from `compose/support.go` by `go test ./compose -run TestSupportDoc -update`; do not edit.\n\n")
	b.WriteString("cirun loads compose files with compose-go v2, like docker compose, then rejects every key it\n")
	b.WriteString("does not implement yet with an error such as\n")
	b.WriteString("`compose.yaml: services.app.build.entitlements: not supported by cirun yet`, instead of ignoring it.\n")
	b.WriteString("A key is supported when its path is listed below or lies under a listed path (`*` is any\n")
	b.WriteString("name, `[]` any list element). `x-*` extensions are always accepted and kept. Services of\n")
	b.WriteString("inactive profiles are not checked, nor networks and volumes no enabled service uses (they\n")
	b.WriteString("are dropped, as docker compose does). The commands that create containers (`up`, `run`,\n")
	b.WriteString("`create`, `test`, `build`, `scale`...) refuse such a key; `config`, which only prints the\n")
	b.WriteString("model, prints it with a warning naming the key, and commands on existing containers (`down`,\n")
	b.WriteString("`ps`, `logs`, `stop`...) do not check.\n\n")
	b.WriteString("| Key | Accepted values | Note |\n|---|---|---|\n")
	for _, r := range Supported {
		if r.Internal {
			continue
		}
		values := "any"
		if len(r.Values) > 0 {
			values = "`" + strings.Join(r.Values, "`, `") + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", r.Path, values, r.Note)
	}
	b.WriteString("\n## Not supported yet (rejected)\n\nAnything not listed above, notably:\n\n")
	for _, n := range NotYet {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	return b.String()
}

func TestSupportDoc(t *testing.T) {
	doc := filepath.Join("..", "docs", "compose-support.md")
	if *update {
		writeFile(t, doc, supportDoc())
	}
	got, err := os.ReadFile(doc)
	if err != nil {
		t.Fatalf("%v (go test ./compose -run TestSupportDoc -update writes it)", err)
	}
	if string(got) != supportDoc() {
		t.Errorf("%s is out of date with compose/support.go: go test ./compose -run TestSupportDoc -update", doc)
	}
}

func TestSupportTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Supported {
		if seen[r.Path] {
			t.Errorf("duplicate row %s", r.Path)
		}
		seen[r.Path] = true
		for _, c := range strings.Split(r.Path, ".") {
			if c == "" {
				t.Errorf("row %q has an empty component", r.Path)
			}
		}
	}
}
