package compose

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/schema"
)

// The validation cache records a configuration the schema accepted (one
// file), answers for it again, and never records one it rejected: the
// rejected file fails the same way every time.
func TestCacheValidations(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "valid")
	CacheValidations(dir)
	t.Cleanup(func() { schema.ValidCache = nil })
	work := t.TempDir()
	good := filepath.Join(work, "good.yaml")
	writeFile(t, good, "services:\n  web:\n    image: busybox\n")
	bad := filepath.Join(work, "bad.yaml")
	writeFile(t, bad, "services:\n  web:\n    image: busybox\n    ports: 80\n")

	entries := func() int {
		list, _ := os.ReadDir(dir)
		return len(list)
	}
	for i := range 2 {
		if _, _, err := loadT(t, Options{Files: []string{good}}); err != nil {
			t.Fatalf("load %d of a valid file: %v", i+1, err)
		}
		if n := entries(); n != 1 {
			t.Fatalf("after load %d of a valid file: %d cache entries, want 1", i+1, n)
		}
	}
	for i := range 2 {
		_, _, err := loadT(t, Options{Files: []string{bad}})
		if err == nil || !strings.Contains(err.Error(), "ports") {
			t.Fatalf("load %d of an invalid file: %v, want the schema's error on ports", i+1, err)
		}
	}
	if n := entries(); n != 1 {
		t.Errorf("after loading an invalid file: %d cache entries, want 1 (failures are not recorded)", n)
	}
	// The cache is bounded: full, it is emptied before the next entry.
	c := validCache{dir: dir}
	for i := range maxValidEntries + 1 {
		c.Add(fmt.Sprintf("k%04d", i))
	}
	if n := entries(); n > maxValidEntries {
		t.Errorf("%d cache entries, want at most %d", n, maxValidEntries)
	}
	if !c.Has(fmt.Sprintf("k%04d", maxValidEntries)) {
		t.Error("the entry added after emptying the cache is missing")
	}
}
