package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
)

// Where docker compose mounts secrets and configs whose target is not an
// absolute path.
const (
	secretsDir = "/run/secrets"
	configsDir = "/"
)

// Default owner and mode of a secret or config written by cirun, as docker
// compose writes them (root, 0444).
const defaultFileMode = 0o444

// DefaultRuntimeDir is where cirun keeps the files it mounts into
// containers when Options.RuntimeDir is empty: /run/cirun for root,
// $XDG_RUNTIME_DIR/cirun rootless, else a directory under the temp dir.
func DefaultRuntimeDir() string {
	if os.Geteuid() == 0 {
		return "/run/cirun"
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "cirun")
	}
	return filepath.Join(os.TempDir(), "cirun-"+strconv.Itoa(os.Getuid()))
}

// projectFilesDir is the directory of one project's secret and config
// files, "" when the project name could escape the runtime directory.
func projectFilesDir(runtimeDir, project string) string {
	if runtimeDir == "" || project == "" || project == "." || project == ".." || strings.ContainsAny(project, `/\`) {
		return ""
	}
	return filepath.Join(runtimeDir, "projects", project)
}

// removeProjectFiles removes the secret and config files of a project.
func (r *Runner) removeProjectFiles(project string) error {
	dir := projectFilesDir(r.opts.RuntimeDir, project)
	if dir == "" {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing the secret and config files of project %s: %w", project, err)
	}
	return nil
}

// fileRef is a service's reference to a secret or a config, with what the
// project declares for it.
type fileRef struct {
	kind string // "secrets" or "configs"
	ref  types.FileReferenceConfig
	def  types.FileObjectConfig
}

// fileMounts returns the read-only bind mounts that give a service its
// secrets and configs, as docker compose places them: secrets at
// /run/secrets/NAME (or target, relative to /run/secrets), configs at
// /NAME (or target). A `file:` source is mounted as it is, unless uid, gid
// or mode is set; `environment:` and `content:` sources, and files with
// uid, gid or mode, are written under dir (the project's files directory)
// with that owner (default root) and mode (default 0444), and the copy is
// mounted.
func fileMounts(p *types.Project, s types.ServiceConfig, dir string) ([]engine.Mount, error) {
	var refs []fileRef
	for _, r := range s.Secrets {
		def, ok := p.Secrets[r.Source]
		if !ok {
			return nil, fmt.Errorf("service %s refers to undefined secret %s", s.Name, r.Source)
		}
		refs = append(refs, fileRef{kind: "secrets", ref: types.FileReferenceConfig(r), def: types.FileObjectConfig(def)})
	}
	for _, r := range s.Configs {
		def, ok := p.Configs[r.Source]
		if !ok {
			return nil, fmt.Errorf("service %s refers to undefined config %s", s.Name, r.Source)
		}
		refs = append(refs, fileRef{kind: "configs", ref: types.FileReferenceConfig(r), def: types.FileObjectConfig(def)})
	}
	var mounts []engine.Mount
	for i, f := range refs {
		m, err := f.mount(p, s.Name, dir, i)
		if err != nil {
			return nil, fmt.Errorf("service %s: %s.%s: %w", s.Name, f.kind, f.ref.Source, err)
		}
		mounts = append(mounts, m)
	}
	return mounts, nil
}

// target is where the file goes in the container.
func (f fileRef) target() string {
	base := secretsDir
	if f.kind == "configs" {
		base = configsDir
	}
	t := f.ref.Target
	if t == "" {
		t = f.ref.Source
	}
	if !path.IsAbs(t) {
		t = path.Join(base, t)
	}
	return t
}

func (f fileRef) mount(p *types.Project, service, dir string, i int) (engine.Mount, error) {
	m := engine.Mount{Type: engine.MountBind, Target: f.target(), ReadOnly: true}
	if f.def.External {
		return m, fmt.Errorf("external %s are swarm objects, not supported by cirun", f.kind)
	}
	owned := f.ref.UID != "" || f.ref.GID != "" || f.ref.Mode != nil
	var content []byte
	switch {
	case f.def.Content != "":
		// configs' content, or the value compose-go found for an
		// `environment:` source in the declaring file's environment (an
		// included file's env_file counts)
		content = []byte(f.def.Content)
	case f.def.Environment != "":
		v, ok := p.Environment[f.def.Environment]
		if !ok {
			return m, fmt.Errorf("environment variable %q required by %s %q is not set", f.def.Environment, strings.TrimSuffix(f.kind, "s"), f.ref.Source)
		}
		content = []byte(v)
	case f.def.File != "":
		st, err := os.Stat(f.def.File)
		if err != nil {
			return m, fmt.Errorf("file %s: %w", f.def.File, err)
		}
		if !owned {
			m.Source = f.def.File // live, as docker compose mounts it
			return m, nil
		}
		if !st.Mode().IsRegular() {
			return m, fmt.Errorf("file %s: uid, gid and mode need a regular file", f.def.File)
		}
		if content, err = os.ReadFile(f.def.File); err != nil {
			return m, fmt.Errorf("reading %s: %w", f.def.File, err)
		}
	default:
		return m, fmt.Errorf("declares no file, environment or content")
	}
	if dir == "" {
		return m, fmt.Errorf("no directory to write it to (project name %q)", p.Name)
	}
	uid, err := fileID("uid", f.ref.UID)
	if err != nil {
		return m, err
	}
	gid, err := fileID("gid", f.ref.GID)
	if err != nil {
		return m, err
	}
	mode := fs.FileMode(defaultFileMode)
	if f.ref.Mode != nil {
		if *f.ref.Mode < 0 || *f.ref.Mode > 0o7777 {
			return m, fmt.Errorf("mode: %o is not a file mode", *f.ref.Mode)
		}
		mode = fs.FileMode(*f.ref.Mode).Perm() | unixModeBits(int64(*f.ref.Mode))
	}
	name := fmt.Sprintf("%s-%d-%s", f.kind, i, f.ref.Source)
	m.Source = filepath.Join(dir, service, name)
	chown := f.ref.UID != "" || f.ref.GID != ""
	if err := writeOwned(m.Source, content, chown, uid, gid, mode); err != nil {
		return m, err
	}
	return m, nil
}

// unixModeBits turns the setuid, setgid and sticky bits of a numeric mode
// into fs.FileMode's.
func unixModeBits(mode int64) fs.FileMode {
	var m fs.FileMode
	if mode&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if mode&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if mode&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// fileID parses a uid or gid; "" is root (0), as docker compose does.
func fileID(key, v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: %q is not a numeric id", key, v)
	}
	return n, nil
}

// writeOwned writes content to file atomically (a running container keeps
// the file it mounted) with the given mode, and owner when chown is set
// (else cirun's own user: root, or the user a rootless container's root
// maps to). Giving a file away needs root: rootless, it is an error.
func writeOwned(file string, content []byte, chown bool, uid, gid int, mode fs.FileMode) error {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", file, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	if chown {
		if err := os.Lchown(tmp.Name(), uid, gid); err != nil {
			if errors.Is(err, syscall.EPERM) {
				return fmt.Errorf("uid/gid %d:%d: cirun cannot give a file away when not running as root: %w", uid, gid, err)
			}
			return fmt.Errorf("uid/gid %d:%d: %w", uid, gid, err)
		}
	}
	// after chown, which clears setuid/setgid
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return fmt.Errorf("mode %o: %w", mode, err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	return nil
}
