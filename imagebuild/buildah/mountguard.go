package buildah

import (
	"path/filepath"

	"github.com/containers/storage"
	"github.com/containers/storage/pkg/mount"
	"golang.org/x/sys/unix"
)

// guardedStore is the store handed to buildah. Its DeleteContainer first
// unmounts the container's layer when it is still mounted in this process's
// mount namespace, whatever the store's mount records say.
//
// Why: the records (runroot overlay-layers/mountpoints.json) are shared by
// every process using the store, and Podman 4.3 processes (seen: the
// `podman container cleanup` that conmon runs after `podman run --rm`)
// rewrite them without the entries of mounts they cannot see. Our build
// mounts live in a private mount namespace (mountns_linux.go), so any such
// process running during a build drops them. c/storage then deletes the
// working container's layer as if unmounted: os.RemoveAll walks into the
// still-mounted merged directory and unlinks the whole image root
// filesystem through overlayfs (15,000–36,000 unlinkat calls for the
// bench fixture's Debian images, 1–3 s of mostly system time) before it
// falls back to unmounting. A fully cached rebuild deletes one working
// container per step, so it paid this whenever Podman was busy.
type guardedStore struct {
	storage.Store
}

func (s guardedStore) DeleteContainer(id string) error {
	releaseMount(s.Store, id)
	return s.Store.DeleteContainer(id)
}

// releaseMount unmounts the layer of container id if it is mounted in this
// mount namespace, and reports whether it was.
func releaseMount(store storage.Store, id string) bool {
	c, err := store.Container(id)
	if err != nil {
		return false
	}
	// Where the overlay driver mounts a layer; other drivers (vfs) mount
	// nothing, so the check finds no mount.
	mp := filepath.Join(store.GraphRoot(), store.GraphDriverName(), c.LayerID, "merged")
	if mounted, err := mount.Mounted(mp); err != nil || !mounted {
		return false
	}
	// The store's own unmount keeps its records and the driver's counters
	// right; when the records were lost it may leave the mount in place.
	_, _ = store.Unmount(id, true)
	if mounted, err := mount.Mounted(mp); err == nil && mounted {
		_ = unix.Unmount(mp, unix.MNT_DETACH)
	}
	return true
}
