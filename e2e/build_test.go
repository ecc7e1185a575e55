//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Image builds through `cirun build`/`up` with the Buildah library, on
// Podman's store. Each test names its images after its own project, passes a
// unique E2E_ID build arg so nothing comes from an earlier run's cache, reads
// the result back with `podman save`, and removes the images it built (with
// their intermediate layer-cache images where Podman lets it).

// buildFixture is fixtures/build-NAME/compose.yaml.
func buildFixture(name string) string {
	return filepath.Join(fixtures, "build-"+name, "compose.yaml")
}

// buildIn returns a runner of `cirun -f F -p P ARGS...` with env that fails
// the test unless cirun exits with want.
func buildIn(t *testing.T, f, p string, env []string) func(want int, args ...string) result {
	return func(want int, args ...string) result {
		t.Helper()
		res := cirun(t, env, append([]string{"-f", f, "-p", p}, args...)...)
		if res.code != want {
			t.Fatalf("cirun %s exited %d, want %d", strings.Join(args, " "), res.code, want)
		}
		return res
	}
}

func e2eID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// removeBuilt untags refs at the end of the test and removes the images
// left without any tag, with the untagged images below them (buildah's
// per-step layer cache) down to the first tagged one (a base image). An
// image that still has another name, or that others use, is left alone.
func removeBuilt(t *testing.T, refs ...string) {
	t.Helper()
	t.Cleanup(func() {
		tags := func(id string) int {
			out, err := exec.Command("podman", "image", "inspect", "--format", "{{len .RepoTags}}", id).Output()
			if err != nil {
				return -1 // gone
			}
			n := 0
			fmt.Sscan(strings.TrimSpace(string(out)), &n)
			return n
		}
		for _, ref := range refs {
			out, err := exec.Command("podman", "image", "inspect", "--format", "{{.Id}}", ref).Output()
			if err != nil {
				continue
			}
			chain := []string{strings.TrimSpace(string(out))}
			for {
				out, err := exec.Command("podman", "image", "inspect", "--format", "{{.Parent}}", chain[len(chain)-1]).Output()
				parent := strings.TrimSpace(string(out))
				if err != nil || parent == "" || tags(parent) != 0 {
					break
				}
				chain = append(chain, parent)
			}
			if out, err := exec.Command("podman", "untag", chain[0], ref).CombinedOutput(); err != nil {
				t.Logf("podman untag %s: %v %s", ref, err, out)
			}
			for _, id := range chain {
				if tags(id) != 0 {
					break // named by someone else (or gone): keep it and what is below
				}
				_ = exec.Command("podman", "rmi", id).Run()
			}
		}
	})
}

// savedImage is an image as `podman save --format docker-archive` writes it.
type savedImage struct {
	config []byte            // the config blob (history included)
	layers [][]byte          // every layer tarball, base first
	files  map[string][]byte // the merged file system: path -> content
	dirs   map[string]bool
}

// saveImage saves ref (with extra podman flags first, e.g. --root) and
// reads every layer.
func saveImage(t *testing.T, ref string, podmanFlags ...string) savedImage {
	t.Helper()
	archive := filepath.Join(t.TempDir(), "image.tar")
	args := append(append([]string{}, podmanFlags...), "save", "--format", "docker-archive", "-o", archive, ref)
	if out, err := exec.Command("podman", args...).CombinedOutput(); err != nil {
		t.Fatalf("podman save %s: %v\n%s", ref, err, out)
	}
	entries := map[string][]byte{}
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading %s: %v", archive, err)
		}
		if h.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			entries[h.Name] = data
		}
	}
	var manifest []struct {
		Config string
		Layers []string
	}
	if err := json.Unmarshal(entries["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("manifest.json of %s: %v (%d entries)", ref, err, len(manifest))
	}
	img := savedImage{config: entries[manifest[0].Config], files: map[string][]byte{}, dirs: map[string]bool{}}
	for _, l := range manifest[0].Layers {
		data, ok := entries[l]
		if !ok {
			t.Fatalf("layer %s missing from the archive", l)
		}
		img.layers = append(img.layers, data)
		lr := tar.NewReader(bytes.NewReader(data))
		for {
			h, err := lr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("reading layer %s: %v", l, err)
			}
			name := "/" + strings.TrimPrefix(path.Clean("/"+h.Name), "/")
			if base := path.Base(name); strings.HasPrefix(base, ".wh.") {
				delete(img.files, path.Join(path.Dir(name), strings.TrimPrefix(base, ".wh.")))
				continue
			}
			switch h.Typeflag {
			case tar.TypeDir:
				img.dirs[name] = true
			case tar.TypeReg:
				content, err := io.ReadAll(lr)
				if err != nil {
					t.Fatal(err)
				}
				img.files[name] = content
			default:
				img.files[name] = nil
			}
		}
	}
	return img
}

// file returns a file's content, failing the test when it is missing.
func (img savedImage) file(t *testing.T, name string) string {
	t.Helper()
	c, ok := img.files[name]
	if !ok {
		t.Errorf("%s missing from the image", name)
	}
	return string(c)
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveRegistry runs `cirun registry serve` on addr with root until stop
// (also called at cleanup) and waits until it answers.
func serveRegistry(t *testing.T, addr, root string) (stop func()) {
	t.Helper()
	srv := exec.Command(bin, "registry", "serve", "--addr", addr, "--root", root, "-q")
	var log bytes.Buffer
	srv.Stdout, srv.Stderr = &log, &log
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		_ = srv.Process.Signal(syscall.SIGTERM)
		_ = srv.Wait()
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry on %s never answered: %v\n%s", addr, err, log.String())
		}
		time.Sleep(50 * time.Millisecond) // polling the registry's readiness
	}
}

func TestBuildDockerfileFeatures(t *testing.T) {
	p, id := project(t), e2eID(t)
	run := buildIn(t, buildFixture("features"), p, []string{"E2E_ID=" + id})
	app, base := "localhost/"+p+"-app:latest", "localhost/"+p+"-base:latest"
	removeBuilt(t, app, base)
	t.Cleanup(func() {
		tmp := os.Getenv("TMPDIR")
		if tmp == "" {
			tmp = "/var/tmp"
		}
		cache := filepath.Join(tmp, fmt.Sprintf("buildah-cache-%d", os.Getuid()))
		os.RemoveAll(filepath.Join(cache, "cirun-e2e-"+id))
		os.RemoveAll(filepath.Join(cache, "buildah-cache-lockfiles", "cirun-e2e-"+id))
	})

	res := run(0, "build", "app")
	img := saveImage(t, app)
	for name, want := range map[string]string{
		"/id":                  id + "\n",
		"/heredoc.txt":         "heredoc from localhost/cirun/busybox:latest\nsecond line\n",
		"/inline.txt":          "inline file\n",
		"/cache-runs.txt":      "1\n",
		"/from-bind.txt":       "kept\n",
		"/logo.txt":            "logo\n",
		"/base.txt":            "base " + id + "\n",
		"/copied/kept.txt":     "kept\n",
		"/copied/sub/keep.txt": "sub\n",
	} {
		if got := img.file(t, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, excluded := range []string{"/copied/excluded.txt", "/copied/secret.env", "/bin/busybox", "/bin/sh"} {
		if _, ok := img.files[excluded]; ok {
			t.Errorf("%s is in the image (.containerignore or FROM scratch ignored)", excluded)
		}
	}
	if len(img.layers) != 2 {
		t.Errorf("the FROM scratch target has %d layers, want 2", len(img.layers))
	}
	if strings.Contains(res.stderr, "the target stops before this stage") {
		t.Error("the stage after the target ran")
	}
	// service:base is built first, once.
	baseBuilt, appFrom := strings.Index(res.stderr, "base  built "), strings.Index(res.stderr, "app  FROM ")
	if baseBuilt < 0 || appFrom < 0 || baseBuilt > appFrom || strings.Count(res.stderr, "base  built ") != 1 {
		t.Errorf("service base was not built once before app (base built at %d, app's FROM at %d)", baseBuilt, appFrom)
	}
	if !regexp.MustCompile(`app  #\d+ RUN <<EOF \d+\.\ds`).MatchString(res.stderr) {
		t.Error("no timed progress line for the heredoc RUN step")
	}
}

func TestBuildSecretsNeverInImage(t *testing.T) {
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen not installed")
	}
	p, id := project(t), e2eID(t)
	dir := t.TempDir()
	fileSecret, envSecret := "npm-file-secret-"+id, "api-env-secret-"+id
	tokenFile := filepath.Join(dir, "npm-token")
	if err := os.WriteFile(tokenFile, []byte(fileSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	keyData, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	keyLine := strings.Split(string(keyData), "\n")[1] // base64 of the private key
	// API_TOKEN comes from an --env-file only, not from cirun's environment.
	envFile := filepath.Join(dir, "ci.env")
	if err := os.WriteFile(envFile, []byte("API_TOKEN="+envSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := buildIn(t, buildFixture("secrets"), p, []string{"E2E_ID=" + id, "NPM_TOKEN_FILE=" + tokenFile, "SSH_KEY=" + key})
	ref := "localhost/" + p + "-app:latest"
	removeBuilt(t, ref)

	res := run(0, "--env-file", envFile, "build")
	img := saveImage(t, ref)
	if got := strings.TrimSpace(img.file(t, "/npmrc.sum")); got != sha256hex(fileSecret) {
		t.Errorf("the file secret did not reach its RUN step: /npmrc.sum = %q", got)
	}
	if got := strings.TrimSpace(img.file(t, "/token.sum")); got != sha256hex(envSecret) {
		t.Errorf("the environment secret did not reach its RUN step: /token.sum = %q", got)
	}
	if got := img.file(t, "/agent.txt"); got != "type 12 keys 1\n" {
		t.Errorf("the SSH agent answered %q, want one identity", got)
	}
	mustContain(t, "build output", res.stderr, "no secret outside its step")

	history, err := exec.Command("podman", "history", "--no-trunc", "--format", "json", ref).Output()
	if err != nil {
		t.Fatal(err)
	}
	inspect, err := exec.Command("podman", "image", "inspect", ref).Output()
	if err != nil {
		t.Fatal(err)
	}
	if len(img.layers) < 2 {
		t.Fatalf("image has %d layers", len(img.layers))
	}
	for what, secret := range map[string]string{"file secret": fileSecret, "environment secret": envSecret, "SSH private key": keyLine} {
		for i, l := range img.layers {
			if bytes.Contains(l, []byte(secret)) {
				t.Errorf("%s found in layer %d of %d", what, i, len(img.layers))
			}
		}
		for name, blob := range map[string][]byte{"config": img.config, "history": history, "inspect": inspect, "stdout": []byte(res.stdout), "stderr": []byte(res.stderr)} {
			if bytes.Contains(blob, []byte(secret)) {
				t.Errorf("%s found in the image's %s", what, name)
			}
		}
	}
	t.Logf("checked %d layer tarballs, the config, history and output", len(img.layers))
}

func TestBuildImageHealthcheck(t *testing.T) {
	p, id := project(t), e2eID(t)
	run := buildIn(t, buildFixture("healthcheck"), p, []string{"E2E_ID=" + id})
	ref := "localhost/" + p + "-web:latest"
	removeBuilt(t, ref)
	t.Cleanup(func() { cirun(t, nil, "-p", p, "down", "-v", "-t", "0") })

	run(0, "up", "-d", "--wait")
	if got := podman(t, "inspect", "--format", "{{.State.Health.Status}}", p+"-web-1"); got != "healthy" {
		t.Errorf("web health = %q, want healthy (from the image's HEALTHCHECK)", got)
	}
	if got := podman(t, "inspect", "--format", "{{.State.Status}}", p+"-client-1"); got != "running" {
		t.Errorf("client = %q, want running (started once web was healthy)", got)
	}
	var cfg struct {
		Config struct {
			Healthcheck struct{ Test []string }
			Shell       []string
			OnBuild     []string
		} `json:"config"`
	}
	img := saveImage(t, ref)
	if err := json.Unmarshal(img.config, &cfg); err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	if !slices.Equal(c.Healthcheck.Test, []string{"CMD-SHELL", "test -e /tmp/ready"}) || !slices.Equal(c.Shell, []string{"/bin/sh", "-ec"}) || !slices.Equal(c.OnBuild, []string{"RUN echo built on top"}) {
		t.Errorf("image config lost HEALTHCHECK, SHELL or ONBUILD: %+v", c)
	}
	run(0, "down", "-v", "-t", "0")
}

func TestBuildsRunInParallel(t *testing.T) {
	p, id := project(t), e2eID(t)
	_, port, _ := net.SplitHostPort(freeAddr(t))
	run := buildIn(t, buildFixture("parallel"), p, []string{"E2E_ID=" + id, "RENDEZVOUS_PORT=" + port})
	removeBuilt(t, "localhost/"+p+"-left:latest", "localhost/"+p+"-right:latest")
	// left's RUN step waits (60 s at most) for right's to connect: built one
	// after the other, the build would fail.
	res := run(0, "build")
	mustContain(t, "build output", res.stderr, "left  #3 | met "+id)
}

func TestBuildContextsNeverMix(t *testing.T) {
	p, id := project(t), e2eID(t)
	run := buildIn(t, buildFixture("isolation"), p, []string{"E2E_ID=" + id})
	one, two := "localhost/"+p+"-one:latest", "localhost/"+p+"-two:latest"
	removeBuilt(t, one, two)
	run(0, "build", "one")
	run(0, "build", "two")
	for ref, want := range map[string][2]string{
		one: {"/ctx/only-one.txt\n/ctx/shared.txt\n", "from one\n"},
		two: {"/ctx/only-two.txt\n/ctx/shared.txt\n", "from two\n"},
	} {
		img := saveImage(t, ref)
		if got := img.file(t, "/listing.txt"); got != want[0] {
			t.Errorf("%s holds %q, want exactly %q", ref, got, want[0])
		}
		if got := img.file(t, "/ctx/shared.txt"); got != want[1] {
			t.Errorf("%s: /ctx/shared.txt = %q, want %q", ref, got, want[1])
		}
	}
}

func TestBuildMountedPaths(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bind mounts need root")
	}
	p, id := project(t), e2eID(t)
	mount := func(src, dst string) {
		t.Helper()
		if out, err := exec.Command("mount", "--bind", src, dst).CombinedOutput(); err != nil {
			t.Fatalf("mount --bind %s %s: %v %s", src, dst, err, out)
		}
		t.Cleanup(func() {
			if out, err := exec.Command("umount", dst).CombinedOutput(); err != nil {
				t.Errorf("umount %s: %v %s", dst, err, out)
			}
		})
	}
	// A mount point inside the build context: its files must be in the image.
	inCtx := t.TempDir()
	if err := os.WriteFile(filepath.Join(inCtx, "in-mount.txt"), []byte("from the mount "+id+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mount(inCtx, filepath.Join(fixtures, "build-mounts", "ctx", "mounted"))
	// A mount point on the agent at a path the build writes to.
	mountPath := "/tmp/cirun-e2e-mnt-" + id
	if err := os.Mkdir(mountPath, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(mountPath) })
	agentDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(agentDir, "agent-only.txt"), []byte("agent"), 0o644); err != nil {
		t.Fatal(err)
	}
	mount(agentDir, mountPath)

	run := buildIn(t, buildFixture("mounts"), p, []string{"E2E_ID=" + id, "MOUNT_PATH=" + mountPath})
	ref := "localhost/" + p + "-app:latest"
	removeBuilt(t, ref)
	run(0, "build")
	img := saveImage(t, ref)
	for name, want := range map[string]string{
		"/ctx/mounted/in-mount.txt": "from the mount " + id + "\n",
		mountPath + "/copied.txt":   "from the mount " + id + "\n",
		mountPath + "/written.txt":  "written\n",
		"/mount-listing.txt":        ". .. copied.txt written.txt ",
	} {
		if got := img.file(t, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for name := range img.files {
		if strings.Contains(name, "agent-only") {
			t.Errorf("the agent's mounted file leaked into the image as %s", name)
		}
	}
}

// TestBuildRegistryCache: builds push layer cache and image to `cirun
// registry serve`; after a registry restart the tags are still there, a
// build in a fresh storage root takes every step from the registry cache
// and yields the same image, and podman pulls the pushed image.
func TestBuildRegistryCache(t *testing.T) {
	p, id := project(t), e2eID(t)
	reg, root := freeAddr(t), t.TempDir()
	stop := serveRegistry(t, reg, root)
	baseRef := reg + "/cirun/busybox:latest"
	if out, err := exec.Command("podman", "push", "--tls-verify=false", "localhost/cirun/busybox:latest", baseRef).CombinedOutput(); err != nil {
		t.Fatalf("pushing the base image: %v %s", err, out)
	}
	ref, pushed := "localhost/"+p+"-app:latest", reg+"/"+p+"-app:latest"
	removeBuilt(t, ref, baseRef, pushed)
	f := buildFixture("cache")
	env := []string{"E2E_ID=" + id, "REGISTRY=" + reg}
	summary := regexp.MustCompile(`app  built localhost/` + p + `-app:latest sha256:([0-9a-f]{12}) in [0-9.]+s: (\d+) steps, (\d+) cached`)

	// Cold build; the registry comes from x-cirun in the compose file.
	start := time.Now()
	res := buildIn(t, f, p, env)(0, "build")
	cold := time.Since(start)
	m := summary.FindStringSubmatch(res.stderr)
	if m == nil || m[3] != "0" {
		t.Fatalf("cold build summary %v: want no cached step", m)
	}
	coldID, steps := m[1], m[2]
	mustContain(t, "cold build output", res.stderr, "app  pushed "+pushed+"@sha256:")

	// Restart the registry on the same root: the tags survive.
	stop()
	serveRegistry(t, reg, root)
	ls := cirun(t, nil, "registry", "ls", "--registry", reg)
	if ls.code != 0 || !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(p)+`-app\tlatest$`).MatchString(ls.stdout) || !strings.Contains(ls.stdout, "cirun/cache\t") {
		t.Fatalf("registry ls after a restart: %q", ls.stdout)
	}

	// A fresh storage root (a new agent) with --registry: every step cached.
	fresh := t.TempDir()
	conf := filepath.Join(fresh, "storage.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("[storage]\ndriver = \"overlay\"\ngraphroot = %q\nrunroot = %q\n", filepath.Join(fresh, "root"), filepath.Join(fresh, "run"))), 0o644); err != nil {
		t.Fatal(err)
	}
	// Make sure the Podman service cirun uses is up (and keeps Podman's
	// store) before a run with another store in its environment.
	cirun(t, nil, "-p", p, "ps")
	start = time.Now()
	res = buildIn(t, f, p, append(env, "CONTAINERS_STORAGE_CONF="+conf))(0, "--registry", reg, "build")
	warm := time.Since(start)
	m = summary.FindStringSubmatch(res.stderr)
	if m == nil || m[2] != steps || m[3] != steps {
		t.Errorf("fresh-root build summary %v: want all %s steps cached", m, steps)
	} else if m[1] != coldID {
		t.Errorf("fresh-root build gave image %s, the cold build %s", m[1], coldID)
	}
	for _, l := range strings.Split(res.stderr, "\n") {
		if regexp.MustCompile(`^app  #\d+ `).MatchString(l) && !strings.Contains(l, " CACHED") {
			t.Errorf("step not cached in the fresh root: %s", l)
		}
	}
	if strings.Contains(res.stderr, "ran "+id) {
		t.Error("a RUN step ran in the fresh root")
	}
	t.Logf("cold build %.2fs, fresh-root build from the registry cache %.2fs (%.0f%%)", cold.Seconds(), warm.Seconds(), 100*warm.Seconds()/cold.Seconds())

	// The pushed image is pullable by any podman.
	if out, err := exec.Command("podman", "pull", "--tls-verify=false", pushed).CombinedOutput(); err != nil {
		t.Fatalf("podman pull %s: %v %s", pushed, err, out)
	}
	if got := podman(t, "image", "inspect", "--format", "{{.Id}}", pushed); !strings.HasPrefix(got, coldID) {
		t.Errorf("pulled image %s, built %s", got, coldID)
	}
}

// TestPushCredentials: `cirun push` (through Podman) and a build with
// --registry (through the builder) authenticate with credentials from
// REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json or
// $DOCKER_CONFIG/config.json, to a registry that answers 401 without them.
func TestPushCredentials(t *testing.T) {
	p, id := project(t), e2eID(t)
	backend := freeAddr(t)
	serveRegistry(t, backend, t.TempDir())
	const user, pass = "cirun", "s3cret-pass"
	target, _ := url.Parse("http://" + backend)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var unauthorized atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, pw, ok := r.BasicAuth(); !ok || u != user || pw != pass {
			unauthorized.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="cirun-e2e"`)
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	reg := ln.Addr().String()
	ref := reg + "/cirun-e2e/creds:v1"
	removeBuilt(t, ref)

	dir := t.TempDir()
	auth := fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, reg, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	authFile := filepath.Join(dir, "auth.json")
	dockerDir, xdgDir := filepath.Join(dir, "docker"), filepath.Join(dir, "xdg")
	for _, f := range []string{authFile, filepath.Join(dockerDir, "config.json"), filepath.Join(xdgDir, "containers", "auth.json")} {
		if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(auth), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f := buildFixture("push")
	base := []string{"E2E_ID=" + id, "REGISTRY=" + reg, "DOCKER_CONFIG=" + filepath.Join(dir, "none")}
	buildIn(t, f, p, base)(0, "build")

	res := cirun(t, base, "-f", f, "-p", p, "push")
	if res.code == 0 || unauthorized.Load() == 0 {
		t.Fatalf("push without credentials: exit %d, %d unauthorized requests; want a failure", res.code, unauthorized.Load())
	}
	for name, env := range map[string][]string{
		"REGISTRY_AUTH_FILE": {"REGISTRY_AUTH_FILE=" + authFile},
		"DOCKER_CONFIG":      {"DOCKER_CONFIG=" + dockerDir},
		"XDG_RUNTIME_DIR":    {"XDG_RUNTIME_DIR=" + xdgDir},
	} {
		if res := cirun(t, append(append([]string{}, base...), env...), "-f", f, "-p", p, "push"); res.code != 0 {
			t.Errorf("push with credentials from %s: exit %d", name, res.code)
		}
	}
	if ls := cirun(t, nil, "registry", "ls", "--registry", backend); !strings.Contains(ls.stdout, "cirun-e2e/creds\tv1") {
		t.Errorf("pushed image not in the registry: %q", ls.stdout)
	}
	// The builder pushes cache and image with the same credentials.
	res = cirun(t, append(base, "REGISTRY_AUTH_FILE="+authFile), "-f", f, "-p", p, "--registry", reg, "build")
	if res.code != 0 {
		t.Fatalf("build --registry with REGISTRY_AUTH_FILE: exit %d", res.code)
	}
	mustContain(t, "build output", res.stderr, "app  pushed "+reg+"/cirun-e2e/creds:v1@sha256:")
}
