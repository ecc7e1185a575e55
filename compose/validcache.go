package compose

import (
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/schema"
)

// CacheValidations makes compose-go remember, as one empty file per
// configuration under dir, the configurations its JSON schema accepted, so
// that loading one seen before skips compiling the schema (~12 ms, most of
// `cirun config`'s time). The key is a hash of the schema and of the
// configuration as validated, so a hit is exactly a configuration that
// validated before; a failed validation is never recorded. Errors
// (unwritable dir) only mean no caching. See third_party/compose-go/PATCHES.md.
func CacheValidations(dir string) {
	schema.ValidCache = validCache{dir: dir}
}

// maxValidEntries bounds the cache: when full, it is emptied and refilled.
const maxValidEntries = 512

type validCache struct{ dir string }

func (c validCache) Has(key string) bool {
	_, err := os.Stat(filepath.Join(c.dir, key))
	return err == nil
}

func (c validCache) Add(key string) {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return
	}
	if entries, err := os.ReadDir(c.dir); err == nil && len(entries) >= maxValidEntries {
		for _, e := range entries {
			_ = os.Remove(filepath.Join(c.dir, e.Name()))
		}
	}
	if f, err := os.OpenFile(filepath.Join(c.dir, key), os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		_ = f.Close()
	}
}
