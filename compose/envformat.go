package compose

import (
	"fmt"
	"io"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/docker/cli/pkg/kvfile"
)

// The `raw` env_file format (`env_file: [{path: F, format: raw}]`) is not
// compose-go's: the docker compose CLI registers it. Values are taken as
// written, without quotes removed or variables interpolated, as
// `docker run --env-file` reads them; a bare KEY takes its value from the
// project environment.
func init() { dotenv.RegisterFormat("raw", rawEnvFile) }

func rawEnvFile(r io.Reader, filename string, vars map[string]string, lookup func(string) (string, bool)) error {
	lines, err := kvfile.ParseFromReader(r, lookup)
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", filename, err)
	}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, "=")
		vars[k] = v
	}
	return nil
}
