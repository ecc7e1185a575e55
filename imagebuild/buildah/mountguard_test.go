package buildah

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containers/storage/pkg/lockfile"
	"github.com/containers/storage/pkg/mount"
)

// TestDeleteContainerWithLostMountRecord reproduces what a Podman 4.3
// process does to our build mounts (it rewrites the store's mount records
// without the mounts it cannot see) and checks that deleting the container
// through the store handed to buildah unmounts the layer first, instead of
// unlinking the image's files through the still-mounted overlay.
func TestDeleteContainerWithLostMountRecord(t *testing.T) {
	b, _ := builders(t)
	store := b.store
	img, err := store.Image(baseImage)
	if err != nil {
		t.Fatal(err)
	}
	ctr, err := store.CreateContainer("", []string{unique(t)}, img.ID, "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.DeleteContainer(ctr.ID) })
	mp, err := store.Mount(ctr.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if store.GraphDriverName() != "overlay" {
		t.Skipf("driver %s mounts nothing", store.GraphDriverName())
	}

	// What the other process leaves behind: no records, a new write token.
	dir := filepath.Join(store.RunRoot(), store.GraphDriverName()+"-layers")
	lock, err := lockfile.GetLockFile(filepath.Join(dir, "mountpoints.lock"))
	if err != nil {
		t.Fatal(err)
	}
	lock.Lock()
	err = os.WriteFile(filepath.Join(dir, "mountpoints.json"), []byte("[]"), 0o600)
	if err == nil {
		_, err = lock.RecordWrite()
	}
	lock.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := store.Mounted(ctr.LayerID); err != nil || n != 0 {
		t.Fatalf("record not lost: count %d, %v", n, err)
	}
	if m, _ := mount.Mounted(mp); !m {
		t.Fatalf("%s not mounted", mp)
	}

	if !releaseMount(store, ctr.ID) {
		t.Fatal("releaseMount did not find the mount")
	}
	if m, _ := mount.Mounted(mp); m {
		t.Fatalf("%s still mounted", mp)
	}
	// Nothing was deleted through the overlay: the upper directory holds
	// no whiteouts.
	upper := filepath.Join(filepath.Dir(mp), "diff")
	if ents, err := os.ReadDir(upper); err != nil || len(ents) != 0 {
		t.Fatalf("upper directory %s: %d entries, %v", upper, len(ents), err)
	}
	if err := (guardedStore{store}).DeleteContainer(ctr.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Container(ctr.ID); err == nil {
		t.Fatal("container still there")
	}
	if releaseMount(store, "no-such-container") {
		t.Fatal("releaseMount reported a mount for an unknown container")
	}
}
