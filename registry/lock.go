package registry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockFile is the file in the storage root a server or GC holds an
// exclusive flock on, so that GC never sweeps under a running server.
const lockFile = ".cirun-registry.lock"

type rootLock struct{ f *os.File }

func lockRoot(root string) (*rootLock, error) {
	path := filepath.Join(root, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening registry lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("locking %s: %w", root, ErrRootInUse)
		}
		return nil, fmt.Errorf("locking %s: %w", root, err)
	}
	return &rootLock{f: f}, nil
}

func (l *rootLock) unlock() {
	if l == nil || l.f == nil {
		return
	}
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
	l.f = nil
}
