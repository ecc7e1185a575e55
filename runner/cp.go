package runner

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/cirun-dev/cirun/engine"
)

// CopyOptions are `cirun cp`'s options. One of Source and Destination is
// SERVICE:PATH, the other a local path or "-" (a tar archive on Stdin or
// Stdout), as in docker compose.
type CopyOptions struct {
	Source, Destination string
	// Index is the container number; 0 copies from the service's first
	// container, or to all of its containers.
	Index int
	// FollowLink follows a symbolic link given as the source.
	FollowLink bool
	// Archive keeps the files' owners (uid/gid); otherwise they belong to
	// the receiving side's user (root in the container).
	Archive bool
	// Stdin is the archive read for a Source of "-".
	Stdin io.Reader
}

// splitCopyArg splits "SERVICE:PATH"; a path that starts with "/" or "."
// is local even if it contains a colon, as in docker compose.
func splitCopyArg(arg string) (service, p string) {
	if filepath.IsAbs(arg) || strings.HasPrefix(arg, ".") {
		return "", arg
	}
	svc, rest, ok := strings.Cut(arg, ":")
	if !ok {
		return "", arg
	}
	return svc, rest
}

// Copy copies files between a service's container(s) and the local
// filesystem with docker cp's rules: into an existing directory under the
// source's name (only its contents for a source ending in "/."), else to
// the destination's name.
func (r *Runner) Copy(ctx context.Context, project string, o CopyOptions) error {
	srcSvc, src := splitCopyArg(o.Source)
	dstSvc, dst := splitCopyArg(o.Destination)
	switch {
	case srcSvc != "" && dstSvc != "":
		return fmt.Errorf("copying between services is not supported")
	case srcSvc == "" && dstSvc == "":
		return fmt.Errorf("unknown copy direction: one of %q and %q must be SERVICE:PATH", o.Source, o.Destination)
	case srcSvc != "":
		c, err := r.target(ctx, project, srcSvc, o.Index, false)
		if err != nil {
			return err
		}
		return r.copyFrom(ctx, c, src, dst, o)
	}
	l, err := r.list(ctx, Scope{Project: project})
	if err != nil {
		return err
	}
	var targets []engine.Container
	for _, c := range l.of(dstSvc, containerSel{}) {
		if o.Index == 0 || c.Labels[engine.LabelContainerNumber] == fmt.Sprint(o.Index) {
			targets = append(targets, c)
		}
	}
	if len(targets) == 0 {
		if o.Index > 0 {
			return fmt.Errorf("service %q has no container #%d", dstSvc, o.Index)
		}
		return fmt.Errorf("no container found for service %q", dstSvc)
	}
	if src == "-" {
		// One archive from stdin can feed one container only.
		data, err := io.ReadAll(o.Stdin)
		if err != nil {
			return fmt.Errorf("reading the archive from stdin: %w", err)
		}
		return each(targets, func(c engine.Container) error {
			st, err := r.eng.StatPath(ctx, c.ID, dst)
			if err != nil || !st.Mode.IsDir() {
				return fmt.Errorf("destination %s in container %s must be a directory", dst, c.Name)
			}
			return r.eng.CopyTo(ctx, c.ID, dst, bytes.NewReader(data))
		})
	}
	return each(targets, func(c engine.Container) error { return r.copyTo(ctx, c, src, dst, o) })
}

// contentsOnly reports whether p ends in "/." (copy the contents) and
// returns p without it.
func contentsOnly(p string) (string, bool) {
	if p == "." || strings.HasSuffix(p, "/.") {
		q := strings.TrimSuffix(strings.TrimSuffix(p, "."), "/")
		if q == "" && strings.HasPrefix(p, "/") {
			q = "/"
		} else if q == "" {
			q = "."
		}
		return q, true
	}
	return p, false
}

func (r *Runner) copyFrom(ctx context.Context, c engine.Container, src, dst string, o CopyOptions) error {
	src, contents := contentsOnly(src)
	st, err := r.eng.StatPath(ctx, c.ID, src)
	if errors.Is(err, engine.ErrNotFound) {
		return fmt.Errorf("could not find the file %s in container %s", src, c.Name)
	}
	if err != nil {
		return err
	}
	r.event("Container", c.Name, "Copying", fmt.Sprintf("from %s to %s", src, dst))
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(r.eng.CopyFrom(ctx, c.ID, src, pw)) }()
	defer pr.Close()
	if dst == "-" {
		if _, err := io.Copy(r.opts.Stdout, pr); err != nil {
			return fmt.Errorf("copying %s from %s: %w", src, c.Name, err)
		}
		r.event("Container", c.Name, "Copied", "")
		return nil
	}
	srcDir := st.Mode.IsDir()
	var dir, root string
	info, err := os.Stat(dst)
	switch {
	case err == nil && info.IsDir():
		dir, root = dst, path.Base(src)
		if contents {
			root = ""
		}
	case err == nil:
		if srcDir {
			return fmt.Errorf("cannot overwrite non-directory %s with directory %s", dst, src)
		}
		dir, root = filepath.Dir(dst), filepath.Base(dst)
	case errors.Is(err, fs.ErrNotExist):
		if !srcDir && strings.HasSuffix(dst, "/") {
			return fmt.Errorf("destination directory %s does not exist", dst)
		}
		dir, root = filepath.Dir(filepath.Clean(dst)), filepath.Base(filepath.Clean(dst))
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("copying to %s: %w", dst, err)
		}
	default:
		return fmt.Errorf("copying to %s: %w", dst, err)
	}
	if err := extract(pr, dir, root, o.Archive); err != nil {
		return fmt.Errorf("copying %s from %s to %s: %w", src, c.Name, dst, err)
	}
	r.event("Container", c.Name, "Copied", "")
	return nil
}

func (r *Runner) copyTo(ctx context.Context, c engine.Container, src, dst string, o CopyOptions) error {
	src, contents := contentsOnly(src)
	stat := os.Lstat
	if o.FollowLink {
		stat = os.Stat
	}
	info, err := stat(src)
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	walkFrom := src
	if o.FollowLink {
		// The link's target is copied under the link's name.
		if walkFrom, err = filepath.EvalSymlinks(src); err != nil {
			return fmt.Errorf("copying %s: %w", src, err)
		}
	}
	var dir, root string
	st, err := r.eng.StatPath(ctx, c.ID, dst)
	switch {
	case err == nil && st.Mode.IsDir():
		dir, root = dst, filepath.Base(src)
		if contents {
			root = ""
		}
	case err == nil:
		if info.IsDir() {
			return fmt.Errorf("cannot overwrite non-directory %s with directory %s", dst, src)
		}
		dir, root = path.Dir(dst), path.Base(dst)
	case errors.Is(err, engine.ErrNotFound):
		if !info.IsDir() && strings.HasSuffix(dst, "/") {
			return fmt.Errorf("destination directory %s does not exist in container %s", dst, c.Name)
		}
		clean := path.Clean(dst)
		dir, root = path.Dir(clean), path.Base(clean)
		if _, err := r.eng.StatPath(ctx, c.ID, dir); err != nil {
			return fmt.Errorf("could not find the file %s in container %s", dir, c.Name)
		}
	default:
		return err
	}
	r.event("Container", c.Name, "Copying", fmt.Sprintf("from %s to %s", src, dst))
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(archive(pw, walkFrom, root, o.Archive)) }()
	err = r.eng.CopyTo(ctx, c.ID, dir, pr)
	pr.CloseWithError(err)
	if err != nil {
		return fmt.Errorf("copying %s to %s:%s: %w", src, c.Name, dst, err)
	}
	r.event("Container", c.Name, "Copied", "")
	return nil
}

// archive writes a tar of src to w: src itself is named root and its
// descendants root/...; with root "" only the descendants, relative. Owners
// are kept only with keepOwner.
func archive(w io.Writer, src, root string, keepOwner bool) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(filepath.Join(root, rel))
		if root == "" && rel == "." {
			return nil // the directory itself: only its contents
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		h.Name = name
		if info.IsDir() {
			h.Name += "/"
		}
		if !keepOwner {
			h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// extract unpacks a tar into dir: each entry's first path component is
// replaced by root (dropped when root is ""). Entries may not escape dir.
func extract(r io.Reader, dir, root string, keepOwner bool) error {
	tr := tar.NewReader(r)
	// Absolute, so that the containment check below also holds for a
	// relative destination such as "." (cp SVC:/f ./f).
	base, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "/"))
		if name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("archive entry %q is outside %s", h.Name, dir)
		}
		_, rest, _ := strings.Cut(name, "/")
		mapped := path.Join(root, rest)
		if mapped == "" || mapped == "." {
			if root == "" {
				continue // the source directory itself
			}
		}
		target := filepath.Join(base, filepath.FromSlash(mapped))
		if target != base && !strings.HasPrefix(target, base+string(filepath.Separator)) {
			return fmt.Errorf("archive entry %q is outside %s", h.Name, dir)
		}
		mode := fs.FileMode(h.Mode).Perm()
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			if err := os.Chmod(target, mode); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if err := os.Chmod(target, mode); err != nil {
				return err
			}
			_ = os.Chtimes(target, h.ModTime, h.ModTime)
		case tar.TypeSymlink:
			_ = os.Remove(target)
			if err := os.Symlink(h.Linkname, target); err != nil {
				return err
			}
		case tar.TypeLink:
			_, lrest, _ := strings.Cut(path.Clean(h.Linkname), "/")
			old := filepath.Join(base, filepath.FromSlash(path.Join(root, lrest)))
			if !strings.HasPrefix(old, base+string(filepath.Separator)) {
				return fmt.Errorf("archive link %q is outside %s", h.Linkname, dir)
			}
			_ = os.Remove(target)
			if err := os.Link(old, target); err != nil {
				return err
			}
		default:
			continue // devices, fifos: not copied
		}
		if keepOwner {
			_ = os.Lchown(target, h.Uid, h.Gid)
		}
	}
}
