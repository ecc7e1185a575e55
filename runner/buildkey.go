package runner

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/imagebuild"
)

// Build keys: `pull_policy: build` rebuilds an image on every `up`, `run`
// and `test`. When nothing that goes into the build changed since cirun last
// built the image now tagged, the layer cache would only reproduce the same
// image, step by step. A build key records a digest of everything a build
// reads (Dockerfile, every file of the context, args, target, labels, base
// image IDs) next to the image ID it produced; an implicit rebuild whose key
// matches, while the tag still points at that image, is skipped. It is
// conservative: files .dockerignore would exclude still count, and builds
// with secrets, SSH, extra contexts, no_cache, pull, or a FROM that uses a
// variable are always run. So are builds with a registry (--registry,
// CIRUN_REGISTRY, x-cirun registry, cache_from/cache_to): their job includes
// exporting the layer cache to the registry and pushing the image there,
// which the local tag being up to date says nothing about (the registry may
// be new, or emptied by gc); the fully cached rebuild does both. Explicit
// `cirun build` and `--build` always build.

// maxKeyFiles / maxKeyBytes bound the context a key is computed for.
const (
	maxKeyFiles = 5000
	maxKeyBytes = 256 << 20
)

// buildKey returns the key of a build request, or "" when the request is
// not eligible.
func (s *session) buildKey(ctx context.Context, req imagebuild.Request) string {
	if s.r.opts.BuildKeyDir == "" || req.Registry != "" || req.NoCache || req.Pull || len(req.Secrets) > 0 || len(req.SSH) > 0 ||
		len(req.AdditionalContexts) > 0 || len(req.CacheFrom) > 0 || len(req.CacheTo) > 0 || len(req.Platforms) > 1 {
		return ""
	}
	h := sha256.New()
	dockerfile := []byte(req.DockerfileInline)
	if req.DockerfileInline == "" {
		path := req.Dockerfile
		if path == "" {
			path = "Dockerfile"
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(req.ContextDir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return ""
		}
		dockerfile = b
	}
	fmt.Fprintf(h, "dockerfile %d\n", len(dockerfile))
	h.Write(dockerfile)
	bases, ok := fromImages(dockerfile)
	if !ok {
		return ""
	}
	for _, b := range bases {
		img, err := s.r.eng.InspectImage(ctx, b)
		if err != nil {
			return ""
		}
		fmt.Fprintf(h, "from %s %s\n", b, img.ID)
	}
	fmt.Fprintf(h, "target %q\n", req.Target)
	for _, k := range keysOf(req.Args) {
		v := "<nil>"
		if p := req.Args[k]; p != nil {
			v = *p
		}
		fmt.Fprintf(h, "arg %q=%q\n", k, v)
	}
	for _, k := range keysOf(req.Labels) {
		fmt.Fprintf(h, "label %q=%q\n", k, req.Labels[k])
	}
	fmt.Fprintf(h, "tags %q network %q hosts %q shm %d\n", req.Tags, req.Network, req.ExtraHosts, req.ShmSize)
	if err := hashTree(h, req.ContextDir); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

func keysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fromImages returns the external images a Dockerfile's FROM lines name (not
// earlier stages, not scratch); ok is false when one uses a variable.
func fromImages(dockerfile []byte) ([]string, bool) {
	stages := map[string]bool{}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(dockerfile))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || !strings.EqualFold(f[0], "FROM") {
			continue
		}
		args := f[1:]
		for len(args) > 0 && strings.HasPrefix(args[0], "--") {
			args = args[1:]
		}
		if len(args) == 0 {
			return nil, false
		}
		img := args[0]
		if strings.Contains(img, "$") {
			return nil, false
		}
		if img != "scratch" && !stages[strings.ToLower(img)] {
			out = append(out, img)
		}
		if len(args) >= 3 && strings.EqualFold(args[1], "AS") {
			stages[strings.ToLower(args[2])] = true
		}
	}
	return out, sc.Err() == nil
}

// hashTree writes every path, mode, link target and file content under dir.
func hashTree(h io.Writer, dir string) error {
	files, total := 0, int64(0)
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if files++; files > maxKeyFiles {
			return fmt.Errorf("context too large for a build key")
		}
		fmt.Fprintf(h, "%q %o", rel, info.Mode())
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, " -> %q\n", target)
		case info.Mode().IsRegular():
			if total += info.Size(); total > maxKeyBytes {
				return fmt.Errorf("context too large for a build key")
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, " %d\n", info.Size())
			_, err = io.Copy(h, f)
			f.Close()
			return err
		default:
			fmt.Fprintln(h)
		}
		return nil
	})
}

func (s *session) keyFile(ref string) string {
	sum := sha256.Sum256([]byte(ref))
	return filepath.Join(s.r.opts.BuildKeyDir, hex.EncodeToString(sum[:16]))
}

// upToDate reports whether ref is the image cirun built from exactly req.
func (s *session) upToDate(ctx context.Context, req imagebuild.Request, ref string) bool {
	key := s.buildKey(ctx, req)
	if key == "" {
		return false
	}
	b, err := os.ReadFile(s.keyFile(ref))
	if err != nil {
		return false
	}
	storedKey, storedID, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	if storedKey != key {
		return false
	}
	img, err := s.r.eng.InspectImage(ctx, ref)
	return err == nil && img.ID == storedID
}

// recordBuild stores the key of a finished build with the image it made.
func (s *session) recordBuild(ctx context.Context, req imagebuild.Request, ref string) {
	key := s.buildKey(ctx, req)
	if key == "" {
		return
	}
	img, err := s.r.eng.InspectImage(ctx, ref)
	if err != nil {
		return
	}
	if err := os.MkdirAll(s.r.opts.BuildKeyDir, 0o700); err != nil {
		return
	}
	tmp := s.keyFile(ref) + ".tmp"
	if os.WriteFile(tmp, []byte(key+" "+img.ID+"\n"), 0o600) == nil {
		_ = os.Rename(tmp, s.keyFile(ref))
	}
}

// skipBuild is the up/run/test path: an implicit rebuild (pull_policy:
// build) of an unchanged build is skipped.
func (s *session) skipBuild(ctx context.Context, svc types.ServiceConfig, ref string) bool {
	req := s.buildRequest(svc, ref)
	if !s.upToDate(ctx, req, ref) {
		return false
	}
	s.r.event("Image", ref, "Built", "up to date (build inputs unchanged)")
	return true
}
