package fake

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cirun-dev/cirun/engine"
)

// extState is the fake's state for pushes, files and events.
type extState struct {
	files  map[string]map[string]*fnode // container ID -> clean path -> node
	events []engine.ContainerEvent
	// eventsChanged is closed and replaced when an event is appended.
	eventsChanged chan struct{}
}

// fnode is one file, directory or symlink in a fake container.
type fnode struct {
	mode fs.FileMode
	data []byte
	mod  time.Time
	link string
}

// PushImage succeeds for known local images (the fake has no registry) and
// records "push REF"; ErrNotFound otherwise.
func (e *Engine) PushImage(_ context.Context, ref string, _ engine.PushOptions) error {
	e.lock()
	defer e.mu.Unlock()
	e.record("push %s", ref)
	if e.image(ref) == nil {
		return fmt.Errorf("pushing %s: %w", ref, engine.ErrNotFound)
	}
	return nil
}

// TopContainer reports one process, the container's command, while it
// runs, with Podman's columns.
func (e *Engine) TopContainer(_ context.Context, id string, _ ...string) (engine.Processes, error) {
	e.lock()
	defer e.mu.Unlock()
	c, err := e.lookup(id)
	if err != nil {
		return engine.Processes{}, fmt.Errorf("listing processes: %w", err)
	}
	if !c.c.Running() {
		return engine.Processes{}, fmt.Errorf("listing processes of %s: %w", c.c.Name, engine.ErrNotRunning)
	}
	cmd := strings.Join(c.c.Command, " ")
	if cmd == "" {
		cmd = "-"
	}
	return engine.Processes{
		Titles: []string{"USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"},
		Rows:   [][]string{{"root", "1", "0", "0.000", e.now().Sub(c.c.StartedAt).String(), "?", "0s", cmd}},
	}, nil
}

// fsOf returns a container's file tree, created with /, /etc and /tmp on
// first use; callers hold e.mu.
func (e *Engine) fsOf(id string) map[string]*fnode {
	if e.ext.files == nil {
		e.ext.files = map[string]map[string]*fnode{}
	}
	t := e.ext.files[id]
	if t == nil {
		now := e.now()
		t = map[string]*fnode{}
		for _, d := range []string{"/", "/etc", "/tmp"} {
			t[d] = &fnode{mode: fs.ModeDir | 0o755, mod: now}
		}
		e.ext.files[id] = t
	}
	return t
}

func cleanPath(p string) string { return path.Clean("/" + p) }

// StatPath describes a path of the container's file tree.
func (e *Engine) StatPath(_ context.Context, id, p string) (engine.PathStat, error) {
	e.lock()
	defer e.mu.Unlock()
	c, err := e.lookup(id)
	if err != nil {
		return engine.PathStat{}, fmt.Errorf("stat %s: %w", p, err)
	}
	n := e.fsOf(c.c.ID)[cleanPath(p)]
	if n == nil {
		return engine.PathStat{}, fmt.Errorf("stat %s in %s: %w", p, c.c.Name, engine.ErrNotFound)
	}
	return engine.PathStat{Name: path.Base(cleanPath(p)), Size: int64(len(n.data)), Mode: n.mode, ModTime: n.mod, LinkTarget: n.link}, nil
}

// CopyFrom writes a tar archive of p and everything under it.
func (e *Engine) CopyFrom(_ context.Context, id, p string, w io.Writer) error {
	e.lock()
	c, err := e.lookup(id)
	if err != nil {
		e.mu.Unlock()
		return fmt.Errorf("copying %s: %w", p, err)
	}
	tree := e.fsOf(c.c.ID)
	root := cleanPath(p)
	if tree[root] == nil {
		e.mu.Unlock()
		return fmt.Errorf("copying %s from %s: %w", p, c.c.Name, engine.ErrNotFound)
	}
	var paths []string
	for q := range tree {
		if q == root || strings.HasPrefix(q, strings.TrimSuffix(root, "/")+"/") {
			paths = append(paths, q)
		}
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	base := path.Base(root)
	for _, q := range paths {
		n := tree[q]
		name := base + strings.TrimPrefix(q, root)
		if root == "/" {
			name = "." + q
			if q == "/" {
				name = "."
			}
		}
		h := &tar.Header{Name: name, Mode: int64(n.mode.Perm()), ModTime: n.mod}
		switch {
		case n.mode.IsDir():
			h.Typeflag, h.Name = tar.TypeDir, name+"/"
		case n.mode&fs.ModeSymlink != 0:
			h.Typeflag, h.Linkname = tar.TypeSymlink, n.link
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(n.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			e.mu.Unlock()
			return err
		}
		if h.Typeflag == tar.TypeReg {
			_, _ = tw.Write(n.data)
		}
	}
	e.mu.Unlock()
	if err := tw.Close(); err != nil {
		return err
	}
	_, err = io.Copy(w, &buf)
	return err
}

// CopyTo extracts a tar archive into dir, created if missing.
func (e *Engine) CopyTo(_ context.Context, id, dir string, r io.Reader) error {
	// Read the archive before locking: r may be slow.
	type entry struct {
		h    *tar.Header
		data []byte
	}
	var entries []entry
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("copying to %s: reading archive: %w", dir, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("copying to %s: reading archive: %w", dir, err)
		}
		entries = append(entries, entry{h, data})
	}
	e.lock()
	defer e.mu.Unlock()
	c, err := e.lookup(id)
	if err != nil {
		return fmt.Errorf("copying to %s: %w", dir, err)
	}
	tree := e.fsOf(c.c.ID)
	d := cleanPath(dir)
	now := e.now()
	if n := tree[d]; n != nil && !n.mode.IsDir() {
		return fmt.Errorf("copying to %s in %s: not a directory", dir, c.c.Name)
	}
	for p := d; tree[p] == nil; p = path.Dir(p) {
		tree[p] = &fnode{mode: fs.ModeDir | 0o755, mod: now}
	}
	for _, en := range entries {
		q := cleanPath(path.Join(d, en.h.Name))
		if q != d && !strings.HasPrefix(q, strings.TrimSuffix(d, "/")+"/") {
			return fmt.Errorf("copying to %s: entry %q escapes the directory", dir, en.h.Name)
		}
		for p := path.Dir(q); p != "/" && tree[p] == nil; p = path.Dir(p) {
			tree[p] = &fnode{mode: fs.ModeDir | 0o755, mod: now}
		}
		mod := en.h.ModTime
		if mod.IsZero() {
			mod = now
		}
		perm := fs.FileMode(en.h.Mode).Perm()
		switch en.h.Typeflag {
		case tar.TypeDir:
			tree[q] = &fnode{mode: fs.ModeDir | perm, mod: mod}
		case tar.TypeSymlink:
			tree[q] = &fnode{mode: fs.ModeSymlink | 0o777, link: en.h.Linkname, mod: mod}
		case tar.TypeReg:
			tree[q] = &fnode{mode: perm, data: en.data, mod: mod}
		default:
			return fmt.Errorf("copying to %s: entry %q: unsupported type %q", dir, en.h.Name, en.h.Typeflag)
		}
	}
	return nil
}

// WriteFile puts a file into a container's file tree (parents created), as
// if its process had written it.
func (e *Engine) WriteFile(nameOrID, p string, data []byte) error {
	e.lock()
	defer e.mu.Unlock()
	c, err := e.lookup(nameOrID)
	if err != nil {
		return err
	}
	tree := e.fsOf(c.c.ID)
	q := cleanPath(p)
	now := e.now()
	for d := path.Dir(q); d != "/" && tree[d] == nil; d = path.Dir(d) {
		tree[d] = &fnode{mode: fs.ModeDir | 0o755, mod: now}
	}
	tree[q] = &fnode{mode: 0o644, data: append([]byte(nil), data...), mod: now}
	return nil
}

// emit appends a container event; callers hold e.mu.
func (e *Engine) emit(c *container, action string) {
	attrs := copyMap(c.c.Labels)
	attrs["name"] = c.c.Name
	attrs["image"] = c.c.Image
	if action == "die" {
		attrs["exitCode"] = strconv.Itoa(c.c.ExitCode)
	}
	e.ext.events = append(e.ext.events, engine.ContainerEvent{
		Time: e.now(), Action: action, ID: c.c.ID, Name: c.c.Name, Image: c.c.Image, Attributes: attrs,
	})
	if e.ext.eventsChanged != nil {
		close(e.ext.eventsChanged)
	}
	e.ext.eventsChanged = make(chan struct{})
}

// ContainerEvents replays the recorded events from f.Since (none when it is
// zero) and follows new ones.
func (e *Engine) ContainerEvents(ctx context.Context, f engine.EventFilter, fn func(engine.ContainerEvent) error) error {
	e.lock()
	next := len(e.ext.events)
	if !f.Since.IsZero() {
		next = 0
	}
	e.mu.Unlock()
	var until <-chan time.Time
	if !f.Until.IsZero() {
		t := time.NewTimer(time.Until(f.Until))
		defer t.Stop()
		until = t.C
	}
	for {
		e.lock()
		if e.ext.eventsChanged == nil {
			e.ext.eventsChanged = make(chan struct{})
		}
		batch := append([]engine.ContainerEvent(nil), e.ext.events[next:]...)
		next = len(e.ext.events)
		changed := e.ext.eventsChanged
		e.mu.Unlock()
		for _, ev := range batch {
			if !f.Since.IsZero() && ev.Time.Before(f.Since) {
				continue
			}
			if !f.Until.IsZero() && ev.Time.After(f.Until) {
				return nil
			}
			if !engine.MatchLabels(ev.Attributes, f.Labels) {
				continue
			}
			ev.Attributes = copyMap(ev.Attributes)
			if err := fn(ev); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-until:
			return nil
		case <-changed:
		}
	}
}
