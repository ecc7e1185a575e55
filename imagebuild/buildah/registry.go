package buildah

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	libbuildah "github.com/containers/buildah"
	"github.com/containers/image/v5/docker"
	"github.com/containers/image/v5/docker/reference"
	"github.com/containers/image/v5/types"

	"github.com/cirun-dev/cirun/imagebuild"
)

// cacheRefs turns compose cache_from/cache_to entries into the registry
// repositories buildah reads and writes layer cache in. Accepted: a plain
// reference ("HOST/REPO[:TAG]") and "type=registry,ref=HOST/REPO[:TAG]";
// the tag is dropped (buildah tags cache images with the steps' cache
// keys). Other cache types (local, gha, s3, inline) are BuildKit's.
func cacheRefs(service, key string, entries []string) ([]reference.Named, error) {
	var out []reference.Named
	for _, e := range entries {
		ref := e
		if strings.Contains(e, "=") {
			ref = ""
			typ := "registry"
			for _, kv := range strings.Split(e, ",") {
				k, v, _ := strings.Cut(kv, "=")
				switch strings.TrimSpace(k) {
				case "type":
					typ = v
				case "ref":
					ref = v
				}
			}
			if typ != "registry" {
				return nil, fmt.Errorf("building %s: build.%s %q: cache type %q is %w (only registry references)", service, key, e, typ, imagebuild.ErrUnsupported)
			}
			if ref == "" {
				return nil, fmt.Errorf("building %s: build.%s %q: no ref=", service, key, e)
			}
		}
		named, err := reference.ParseNormalizedNamed(ref)
		if err != nil {
			return nil, fmt.Errorf("building %s: build.%s %q: %w", service, key, e, err)
		}
		out = append(out, reference.TrimNamed(named))
	}
	return out, nil
}

// registryHost is the registry part of a reference.
func registryHost(ref reference.Named) string { return reference.Domain(ref) }

// isLoopback reports whether host (with or without port) names this machine.
func isLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// registriesConf makes registries.conf drop-in directories that mark some
// hosts insecure (plain HTTP or unverified TLS allowed) for the build's
// cache pulls and pushes, on top of the system's and the user's drop-ins.
// containers/image decides TLS per registry from registries.conf only (the
// SystemContext switch would apply to every registry, base images
// included), so each set of hosts gets its own directory, kept until Close.
type registriesConf struct {
	mu   sync.Mutex
	dirs map[string]string // sorted hosts joined by "," -> directory
}

// dir returns the drop-in directory for hosts ("" when hosts is empty).
func (r *registriesConf) dir(hosts []string) (string, error) {
	if len(hosts) == 0 {
		return "", nil
	}
	hosts = append([]string(nil), hosts...)
	sort.Strings(hosts)
	key := strings.Join(hosts, ",")
	r.mu.Lock()
	defer r.mu.Unlock()
	if d, ok := r.dirs[key]; ok {
		return d, nil
	}
	d, err := os.MkdirTemp("", "cirun-registries.d-")
	if err != nil {
		return "", fmt.Errorf("creating registries.conf.d: %w", err)
	}
	// The drop-ins an explicit directory replaces, linked in name order
	// (system first, then the user's, as containers/image reads them).
	n := 0
	for _, src := range []string{"/etc/containers/registries.conf.d", userRegistriesDir()} {
		entries, err := os.ReadDir(src)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".conf") {
				continue
			}
			n++
			link := filepath.Join(d, fmt.Sprintf("%03d-%s", n, e.Name()))
			if err := os.Symlink(filepath.Join(src, e.Name()), link); err != nil {
				os.RemoveAll(d)
				return "", fmt.Errorf("preparing registries.conf.d: %w", err)
			}
		}
	}
	var b strings.Builder
	b.WriteString("# written by cirun: registries it may reach without verified TLS\n")
	for _, h := range hosts {
		fmt.Fprintf(&b, "[[registry]]\nlocation = %q\ninsecure = true\n\n", h)
	}
	if err := os.WriteFile(filepath.Join(d, "999-cirun-insecure.conf"), []byte(b.String()), 0o644); err != nil {
		os.RemoveAll(d)
		return "", fmt.Errorf("writing registries.conf.d: %w", err)
	}
	if r.dirs == nil {
		r.dirs = map[string]string{}
	}
	r.dirs[key] = d
	return d, nil
}

// close removes the directories.
func (r *registriesConf) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range r.dirs {
		os.RemoveAll(d)
	}
	r.dirs = nil
}

func userRegistriesDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".config", "containers", "registries.conf.d")
}

// systemContext is the build's containers/image context: credentials from
// REGISTRY_AUTH_FILE when set (else containers/image's defaults:
// $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json,
// $DOCKER_CONFIG/config.json or ~/.docker/config.json), and the registries
// in insecure allowed without verified TLS.
func (b *Builder) systemContext(insecure []string) (*types.SystemContext, error) {
	sc := &types.SystemContext{AuthFilePath: os.Getenv("REGISTRY_AUTH_FILE")}
	dir, err := b.registries.dir(insecure)
	if err != nil {
		return nil, err
	}
	sc.SystemRegistriesConfDirPath = dir
	return sc, nil
}

// insecureHosts lists the registries of refs (and registry, if set) that
// may be reached without verified TLS: loopback ones always, others when
// the request allows it.
func insecureHosts(req imagebuild.Request, refs ...[]reference.Named) []string {
	seen := map[string]bool{}
	var out []string
	add := func(h string) {
		if h == "" || seen[h] || !(req.InsecureRegistry || isLoopback(h)) {
			return
		}
		seen[h] = true
		out = append(out, h)
	}
	add(req.Registry)
	for _, rs := range refs {
		for _, r := range rs {
			add(registryHost(r))
		}
	}
	return out
}

// push copies the built image to dest (a docker reference), reporting one
// progress line. Pushes to a loopback registry, or any registry when the
// request allows it, skip TLS verification (and fall back to plain HTTP).
func (b *Builder) push(ctx context.Context, req imagebuild.Request, p *progress, id, dest string) error {
	start := time.Now()
	named, err := reference.ParseNormalizedNamed(dest)
	if err != nil {
		return fmt.Errorf("building %s: pushing to %q: %w", req.Service, dest, err)
	}
	ref, err := docker.NewReference(reference.TagNameOnly(named))
	if err != nil {
		return fmt.Errorf("building %s: pushing to %q: %w", req.Service, dest, err)
	}
	sc := &types.SystemContext{AuthFilePath: os.Getenv("REGISTRY_AUTH_FILE")}
	if req.InsecureRegistry || isLoopback(reference.Domain(named)) {
		sc.DockerInsecureSkipTLSVerify = types.OptionalBoolTrue
	}
	_, digest, err := libbuildah.Push(ctx, id, ref, libbuildah.PushOptions{
		Store:         b.store,
		SystemContext: sc,
		ReportWriter:  io.Discard,
		MaxRetries:    2,
		RetryDelay:    200 * time.Millisecond,
	})
	if err != nil {
		return fmt.Errorf("building %s: pushing %s: %w", req.Service, dest, err)
	}
	p.pushed(reference.TagNameOnly(named).String(), digest.String(), time.Since(start))
	return nil
}
