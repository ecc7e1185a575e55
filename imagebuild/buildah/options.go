package buildah

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/containers/buildah/define"
	"github.com/containers/image/v5/docker/reference"
	units "github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/openshift/imagebuilder/dockerfile/parser"
	"golang.org/x/sys/unix"

	"github.com/cirun-dev/cirun/imagebuild"
)

// checkSupported rejects requests this builder cannot honour, naming the
// service and the compose key, rather than ignoring them.
func checkSupported(req imagebuild.Request) error {
	host := runtime.GOOS + "/" + runtime.GOARCH
	switch {
	case len(req.Platforms) > 1:
		return fmt.Errorf("building %s: build.platforms lists %d platforms (%s): cirun builds one image per service, for one platform; keep only %s: %w",
			req.Service, len(req.Platforms), strings.Join(req.Platforms, ", "), host, imagebuild.ErrUnsupported)
	case len(req.Platforms) == 1:
		if p := strings.TrimSuffix(req.Platforms[0], "/"); p != host {
			return fmt.Errorf("building %s: build.platforms %q (only the host platform %s; cross-building needs emulation cirun does not set up): %w", req.Service, p, host, imagebuild.ErrUnsupported)
		}
	}
	if req.DockerfileInline != "" && req.Dockerfile != "" {
		return fmt.Errorf("building %s: build.dockerfile and build.dockerfile_inline are mutually exclusive", req.Service)
	}
	switch req.ProgressMode {
	case "", "plain", "tty", "quiet":
	default:
		return fmt.Errorf("building %s: unknown progress mode %q", req.Service, req.ProgressMode)
	}
	return nil
}

// dockerfile is the file a build reads, with its instructions' lines.
type dockerfile struct {
	path    string // what buildah reads
	display string // how errors name it
	instrs  []instr
	cleanup func()
}

// resolveDockerfile finds the Dockerfile (relative to the context;
// Containerfile, then Dockerfile by default) or writes an inline one to a
// temporary file outside the context.
func resolveDockerfile(req imagebuild.Request) (dockerfile, error) {
	df := dockerfile{cleanup: func() {}}
	if !filepath.IsAbs(req.ContextDir) {
		return df, fmt.Errorf("building %s: build context %q is not an absolute path", req.Service, req.ContextDir)
	}
	if st, err := os.Stat(req.ContextDir); err != nil {
		return df, fmt.Errorf("building %s: build context: %w", req.Service, err)
	} else if !st.IsDir() {
		return df, fmt.Errorf("building %s: build context %s is not a directory", req.Service, req.ContextDir)
	}
	var content []byte
	switch {
	case req.DockerfileInline != "":
		f, err := os.CreateTemp("", "cirun-dockerfile-*")
		if err != nil {
			return df, fmt.Errorf("building %s: writing inline Dockerfile: %w", req.Service, err)
		}
		df.cleanup = func() { os.Remove(f.Name()) }
		content = []byte(req.DockerfileInline)
		_, err = f.Write(content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			df.cleanup()
			return df, fmt.Errorf("building %s: writing inline Dockerfile: %w", req.Service, err)
		}
		df.path, df.display = f.Name(), "dockerfile_inline"
	case req.Dockerfile != "":
		df.path = req.Dockerfile
		if !filepath.IsAbs(df.path) {
			df.path = filepath.Join(req.ContextDir, df.path)
		}
		df.display = req.Dockerfile
	default:
		for _, name := range []string{"Containerfile", "Dockerfile"} {
			p := filepath.Join(req.ContextDir, name)
			if _, err := os.Stat(p); err == nil {
				df.path, df.display = p, name
				break
			}
		}
		if df.path == "" {
			return df, fmt.Errorf("building %s: no Containerfile or Dockerfile in %s", req.Service, req.ContextDir)
		}
	}
	if content == nil {
		var err error
		if content, err = os.ReadFile(df.path); err != nil {
			return df, fmt.Errorf("building %s: reading Dockerfile: %w", req.Service, err)
		}
	}
	instrs, err := parseInstructions(bytes.NewReader(content))
	if err != nil {
		df.cleanup()
		return df, fmt.Errorf("building %s: parsing %s: %w", req.Service, df.display, err)
	}
	df.instrs = instrs
	return df, nil
}

// parseInstructions lists a Dockerfile's instructions with their lines,
// using the parser buildah uses, so the text matches its step log.
func parseInstructions(r io.Reader) ([]instr, error) {
	res, err := parser.Parse(r)
	if err != nil {
		return nil, err
	}
	var out []instr
	for _, n := range res.AST.Children {
		out = append(out, instr{text: n.Original, line: n.StartLine, from: strings.EqualFold(n.Value, "from")})
	}
	return out, nil
}

// buildOptions translates a Request into buildah's options. cleanup
// removes what it wrote (secret files); call it after the build.
func (b *Builder) buildOptions(req imagebuild.Request, p *progress, out, errOut io.Writer) (opts define.BuildOptions, cleanup func(), err error) {
	cleanup = func() {}
	secrets, secretsCleanup, err := secretOptions(req)
	if err != nil {
		return opts, cleanup, err
	}
	cleanup = secretsCleanup
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	contexts, err := additionalContexts(req)
	if err != nil {
		return opts, cleanup, err
	}
	cacheFrom, err := cacheRefs(req.Service, "cache_from", req.CacheFrom)
	if err != nil {
		return opts, cleanup, err
	}
	cacheTo, err := cacheRefs(req.Service, "cache_to", req.CacheTo)
	if err != nil {
		return opts, cleanup, err
	}
	if req.Registry != "" {
		shared, err := reference.ParseNormalizedNamed(strings.TrimSuffix(req.Registry, "/") + "/" + imagebuild.CacheRepo)
		if err != nil {
			return opts, cleanup, fmt.Errorf("building %s: registry %q: %w", req.Service, req.Registry, err)
		}
		cacheFrom = append(cacheFrom, shared)
		cacheTo = append(cacheTo, shared)
	}
	sc, err := b.systemContext(insecureHosts(req, cacheFrom, cacheTo))
	if err != nil {
		return opts, cleanup, fmt.Errorf("building %s: %w", req.Service, err)
	}
	common := &define.CommonBuildOptions{
		Secrets:    secrets,
		SSHSources: req.SSH,
		ShmSize:    b.shmSize,
		Ulimit:     b.ulimits,
	}
	if req.ShmSize > 0 {
		common.ShmSize = strconv.FormatInt(req.ShmSize, 10)
	}
	for _, h := range req.ExtraHosts {
		// compose accepts HOST:IP and HOST=IP; buildah wants HOST:IP.
		if name, ip, ok := strings.Cut(h, "="); ok {
			h = name + ":" + ip
		}
		common.AddHost = append(common.AddHost, h)
	}
	opts = define.BuildOptions{
		ContextDirectory:        req.ContextDir,
		AdditionalBuildContexts: contexts,
		CacheFrom:               cacheFrom,
		CacheTo:                 cacheTo,
		PullPolicy:              define.PullIfMissing,
		Isolation:               b.isolation,
		Runtime:                 b.runtime,
		Args:                    buildArgs(req.Args),
		Labels:                  labels(req.Labels),
		Target:                  req.Target,
		NoCache:                 req.NoCache,
		Layers:                  true,
		OutputFormat:            define.Dockerv2ImageManifest,
		RemoveIntermediateCtrs:  true,
		ForceRmIntermediateCtrs: true,
		CommonBuildOpts:         common,
		NetworkInterface:        b.network,
		SystemContext:           sc,
		Log:                     p.logf,
		Out:                     out,
		Err:                     errOut,
		ReportWriter:            errOut,
	}
	if req.Pull {
		opts.PullPolicy = define.PullAlways
	}
	if len(req.Tags) > 0 {
		opts.Output = req.Tags[0]
		opts.AdditionalTags = req.Tags[1:]
	}
	switch req.Network {
	case "", "default":
	case "host":
		opts.NamespaceOptions = define.NamespaceOptions{{Name: string(specs.NetworkNamespace), Host: true}}
		opts.ConfigureNetwork = define.NetworkEnabled
	case "none":
		opts.NamespaceOptions = define.NamespaceOptions{{Name: string(specs.NetworkNamespace)}}
		opts.ConfigureNetwork = define.NetworkDisabled
	default:
		// A network name: RUN steps join that (podman) network.
		opts.NamespaceOptions = define.NamespaceOptions{{Name: string(specs.NetworkNamespace), Path: req.Network}}
		opts.ConfigureNetwork = define.NetworkEnabled
	}
	return opts, cleanup, nil
}

// secretOptions turns the request's secrets into buildah's "id=,src=,type="
// entries. A secret given by value is written to a file only its owner can
// read, in a private directory on a tmpfs where possible (secretsBase), that
// cleanup removes. buildah copies each
// secret into the RUN step's run directory and bind-mounts it at
// /run/secrets/ID (or the mount's target) for that step only: it is never
// part of a layer nor of the history.
func secretOptions(req imagebuild.Request) (out []string, cleanup func(), err error) {
	cleanup = func() {}
	dir := ""
	for _, s := range req.Secrets {
		if s.ID == "" || strings.ContainsAny(s.ID, ",=") {
			cleanup()
			return nil, func() {}, fmt.Errorf("building %s: build.secrets: invalid secret id %q", req.Service, s.ID)
		}
		switch {
		case s.Value != nil:
			if dir == "" {
				if dir, err = os.MkdirTemp(secretsBase(), "cirun-secrets-"); err != nil {
					return nil, cleanup, fmt.Errorf("building %s: storing secret %s: %w", req.Service, s.ID, err)
				}
				d := dir
				cleanup = func() { os.RemoveAll(d) }
			}
			path := filepath.Join(dir, s.ID)
			if err := os.WriteFile(path, []byte(*s.Value), 0o600); err != nil {
				cleanup()
				return nil, func() {}, fmt.Errorf("building %s: storing secret %s: %w", req.Service, s.ID, err)
			}
			out = append(out, "id="+s.ID+",src="+path+",type=file")
		case s.File != "":
			if strings.Contains(s.File, ",") {
				cleanup()
				return nil, func() {}, fmt.Errorf("building %s: secret %s: file name %q contains a comma", req.Service, s.ID, s.File)
			}
			if _, err := os.Stat(s.File); err != nil {
				cleanup()
				return nil, func() {}, fmt.Errorf("building %s: secret %s: %w", req.Service, s.ID, err)
			}
			out = append(out, "id="+s.ID+",src="+s.File+",type=file")
		case s.EnvVar != "":
			if _, ok := os.LookupEnv(s.EnvVar); !ok {
				cleanup()
				return nil, func() {}, fmt.Errorf("building %s: secret %s: environment variable %s is not set", req.Service, s.ID, s.EnvVar)
			}
			out = append(out, "id="+s.ID+",env="+s.EnvVar+",type=env")
		default:
			cleanup()
			return nil, func() {}, fmt.Errorf("building %s: secret %s has no file, environment variable or value", req.Service, s.ID)
		}
	}
	return out, cleanup, nil
}

// secretsBase is where secret values are written for the build's duration:
// a tmpfs when there is one (the runtime directory), so that a killed build
// leaves no secret on disk; else the temporary directory.
func secretsBase() string {
	for _, d := range []string{os.Getenv("XDG_RUNTIME_DIR"), "/run/user/" + strconv.Itoa(os.Getuid()), "/dev/shm"} {
		if d == "" {
			continue
		}
		if st, err := os.Stat(d); err == nil && st.IsDir() && unix.Access(d, unix.W_OK) == nil {
			return d
		}
	}
	return os.TempDir()
}

// additionalContexts translates named build contexts: absolute directory
// paths, "docker-image://REF" (or "container-image://REF") images, and
// http(s) URLs of tar archives.
func additionalContexts(req imagebuild.Request) (map[string]*define.AdditionalBuildContext, error) {
	if len(req.AdditionalContexts) == 0 {
		return nil, nil
	}
	out := make(map[string]*define.AdditionalBuildContext, len(req.AdditionalContexts))
	for name, v := range req.AdditionalContexts {
		switch {
		case strings.HasPrefix(v, "docker-image://"), strings.HasPrefix(v, "container-image://"):
			_, ref, _ := strings.Cut(v, "://")
			out[name] = &define.AdditionalBuildContext{IsImage: true, Value: ref}
		case strings.HasPrefix(v, "http://"), strings.HasPrefix(v, "https://"):
			out[name] = &define.AdditionalBuildContext{IsURL: true, Value: v}
		case filepath.IsAbs(v):
			if st, err := os.Stat(v); err != nil {
				return nil, fmt.Errorf("building %s: build.additional_contexts.%s: %w", req.Service, name, err)
			} else if !st.IsDir() {
				return nil, fmt.Errorf("building %s: build.additional_contexts.%s: %s is not a directory", req.Service, name, v)
			}
			out[name] = &define.AdditionalBuildContext{Value: v}
		default:
			return nil, fmt.Errorf("building %s: build.additional_contexts.%s %q: want an absolute directory, docker-image://REF or an http(s) URL", req.Service, name, v)
		}
	}
	return out, nil
}

// buildArgs resolves compose build args: a nil value is taken from the
// environment, and left out (so the ARG default applies) when unset there.
func buildArgs(in map[string]*string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		if v != nil {
			out[k] = *v
		} else if env, ok := os.LookupEnv(k); ok {
			out[k] = env
		}
	}
	return out
}

func labels(in map[string]string) []string {
	out := make([]string, 0, len(in))
	for k, v := range in {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// clampUlimits returns overrides for the containers.conf default ulimits
// that exceed this process's hard limits. The OCI runtime cannot raise a
// hard limit without CAP_SYS_RESOURCE and fails the RUN step with
// "setrlimit ...: operation not permitted" (what Podman hits on this kind
// of host); buildah applies our overrides after the defaults.
func clampUlimits(defaults []string) ([]string, error) {
	var out []string
	for _, d := range defaults {
		ul, err := units.ParseUlimit(d)
		if err != nil {
			return nil, fmt.Errorf("ulimit %q: %w", d, err)
		}
		rl, err := ul.GetRlimit()
		if err != nil {
			return nil, fmt.Errorf("ulimit %q: %w", d, err)
		}
		var cur unix.Rlimit
		if err := unix.Getrlimit(rl.Type, &cur); err != nil {
			continue
		}
		hard, soft := uint64(ul.Hard), uint64(ul.Soft)
		if cur.Max == unix.RLIM_INFINITY || hard <= cur.Max {
			continue
		}
		hard = cur.Max
		if soft > hard {
			soft = hard
		}
		out = append(out, fmt.Sprintf("%s=%d:%d", ul.Name, soft, hard))
	}
	return out, nil
}

// normalizeName is how containers-storage names an image tagged name:
// unqualified names get "localhost/", untagged ones ":latest".
func normalizeName(name string) string {
	first, _, hasSlash := strings.Cut(name, "/")
	if !hasSlash || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		name = "localhost/" + name
	}
	last := name[strings.LastIndex(name, "/")+1:]
	if !strings.Contains(last, ":") && !strings.Contains(last, "@") {
		name += ":latest"
	}
	return name
}
