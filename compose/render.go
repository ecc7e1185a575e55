package compose

import (
	"bytes"
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"
)

// Render returns p as `docker compose config` prints it: format is "yaml"
// (the default when empty) or "json"; every $ is escaped as $$, so the
// output loads again to the same project. YAML lists each service's keys in
// docker compose's order. (Load has already folded env_file entries into
// environment, unless Options.NoResolveEnv kept them.)
func Render(p *types.Project, format string) ([]byte, error) {
	out := *p
	var (
		b   []byte
		err error
	)
	switch format {
	case "", "yaml":
		if b, err = out.MarshalYAML(); err == nil {
			b, err = orderServices(b)
		}
	case "json":
		b, err = out.MarshalJSON() // no final newline, as docker compose
	default:
		return nil, fmt.Errorf("unsupported format %q (yaml or json)", format)
	}
	if err != nil {
		return nil, fmt.Errorf("rendering project %s as %s: %w", p.Name, format, err)
	}
	return bytes.ReplaceAll(b, []byte("$"), []byte("$$")), nil
}
