package buildah

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containers/common/pkg/config"
	"github.com/containers/storage"
	"github.com/containers/storage/pkg/archive"
	ggcrname "github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cirun-dev/cirun/imagebuild"
)

// layerTars returns the uncompressed tar stream of every layer of image id,
// base layers included.
func layerTars(t *testing.T, b *Builder, id string) [][]byte {
	t.Helper()
	img, err := b.store.Image(id)
	if err != nil {
		t.Fatal(err)
	}
	uncompressed := archive.Uncompressed
	var out [][]byte
	for layerID := img.TopLayer; layerID != ""; {
		l, err := b.store.Layer(layerID)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := b.store.Diff("", l.ID, &storage.DiffOptions{Compression: &uncompressed})
		if err != nil {
			t.Fatalf("diff of layer %s: %v", l.ID, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
		layerID = l.Parent
	}
	return out
}

// imageBlobs returns the image's manifest and config blob (history included).
func imageBlobs(t *testing.T, b *Builder, id string) []byte {
	t.Helper()
	var all []byte
	for _, key := range []string{"manifest"} {
		data, err := b.store.ImageBigData(id, key)
		if err != nil {
			t.Fatalf("image %s %s: %v", id, key, err)
		}
		all = append(all, data...)
	}
	keys, err := b.store.ListImageBigData(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		data, err := b.store.ImageBigData(id, k)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, data...)
	}
	return all
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestSecrets mounts three secrets (a file, an environment variable, a
// value) into RUN steps and checks that each reached its step while none
// is in any layer tarball, the config (history), or the build output.
func TestSecrets(t *testing.T) {
	b, _ := builders(t)
	u := unique(t)
	fileSecret, envSecret, valueSecret := "file-secret-"+u, "env-secret-"+u, "value-secret-"+u
	secretFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secretFile, []byte(fileSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CIRUN_TEST_SECRET_"+u, envSecret)
	dir := buildContext(t, map[string]string{"Containerfile": "FROM " + baseImage + "\n" +
		"RUN --mount=type=secret,id=filesec sha256sum /run/secrets/filesec | cut -d' ' -f1 > /file.sum\n" +
		"RUN --mount=type=secret,id=envsec,target=/tmp/envsec sha256sum /tmp/envsec | cut -d' ' -f1 > /env.sum\n" +
		"RUN --mount=type=secret,id=valsec,required=true sha256sum /run/secrets/valsec | cut -d' ' -f1 > /value.sum; echo step-ran\n" +
		"RUN test ! -s /run/secrets/filesec && echo no-secret-after-its-step\n"})
	res, out, err := build(t, b, imagebuild.Request{
		ContextDir: dir,
		Tags:       []string{"localhost/cirun-test-" + u},
		Secrets: []imagebuild.Secret{
			{ID: "filesec", File: secretFile},
			{ID: "envsec", EnvVar: "CIRUN_TEST_SECRET_" + u},
			{ID: "valsec", Value: &valueSecret},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for path, secret := range map[string]string{"file.sum": fileSecret, "env.sum": envSecret, "value.sum": valueSecret} {
		if got := strings.TrimSpace(readFile(t, b, res.ImageID, path)); got != sha256hex(secret) {
			t.Errorf("/%s = %q: the secret did not reach its RUN step", path, got)
		}
	}
	if !strings.Contains(out, "no-secret-after-its-step") {
		t.Errorf("secret visible in a later step:\n%s", out)
	}
	layers := layerTars(t, b, res.ImageID)
	if len(layers) < 2 {
		t.Fatalf("image has %d layers", len(layers))
	}
	for _, secret := range []string{fileSecret, envSecret, valueSecret} {
		for i, l := range layers {
			if bytes.Contains(l, []byte(secret)) {
				t.Errorf("secret %q found in layer %d", secret, i)
			}
		}
		if bytes.Contains(imageBlobs(t, b, res.ImageID), []byte(secret)) {
			t.Errorf("secret %q found in the image's manifest or config (history)", secret)
		}
		if strings.Contains(out, secret) {
			t.Errorf("secret %q found in the build output", secret)
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(secretsBase(), "cirun-secrets-*")); len(entries) > 0 {
		t.Errorf("secret files left behind: %v", entries)
	}
}

func TestSecretErrors(t *testing.T) {
	for name, s := range map[string]imagebuild.Secret{
		"no source":      {ID: "x"},
		"missing file":   {ID: "x", File: "/nonexistent/cirun"},
		"unset variable": {ID: "x", EnvVar: "CIRUN_TEST_SURELY_UNSET"},
		"bad id":         {ID: "a,b", File: "/etc/hostname"},
	} {
		_, cleanup, err := secretOptions(imagebuild.Request{Service: "web", Secrets: []imagebuild.Secret{s}})
		cleanup()
		if err == nil || !strings.Contains(err.Error(), "web") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

// TestSSH forwards an SSH agent holding a key (the "ID=path" form) into a
// RUN step and asks it for its identities over the agent protocol.
func TestSSH(t *testing.T) {
	b, _ := builders(t)
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen not installed")
	}
	seed(t, b, debianImage)
	u := unique(t)
	key := filepath.Join(t.TempDir(), "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cirun-"+u, "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	// SSH2_AGENTC_REQUEST_IDENTITIES; the answer (type 12) carries the
	// number of keys and their comments.
	dir := buildContext(t, map[string]string{"Containerfile": "FROM " + debianImage + "\n" +
		"RUN --mount=type=ssh perl -MIO::Socket::UNIX -e '$s = IO::Socket::UNIX->new(Peer => $ENV{SSH_AUTH_SOCK}) or die \"connect: $!\"; " +
		"print $s pack(\"NC\", 1, 11); read($s, $h, 4); read($s, $m, unpack(\"N\", $h)); " +
		"($t, $n) = unpack(\"CN\", $m); open(F, \">/agent\"); print F \"type $t keys $n\\n\"'\n"})
	res, _, err := build(t, b, imagebuild.Request{ContextDir: dir, Tags: []string{"localhost/cirun-test-" + u}, SSH: []string{"default=" + key}})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, b, res.ImageID, "agent"); got != "type 12 keys 1\n" {
		t.Errorf("agent answered %q", got)
	}
	keyData, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Split(string(keyData), "\n")[1] // the first line of the key's base64
	for i, l := range layerTars(t, b, res.ImageID) {
		if bytes.Contains(l, []byte(body)) {
			t.Errorf("the private key is in layer %d", i)
		}
	}
}

// TestSSHDefaultAgent forwards the agent of $SSH_AUTH_SOCK ("default").
func TestSSHDefaultAgent(t *testing.T) {
	b, _ := builders(t)
	if _, err := exec.LookPath("ssh-agent"); err != nil {
		t.Skip("ssh-agent not installed")
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	waitFor(t, func() bool { _, err := os.Stat(sock); return err == nil })
	t.Setenv("SSH_AUTH_SOCK", sock)
	u := unique(t)
	dir := buildContext(t, map[string]string{"Containerfile": "FROM " + baseImage + "\n" +
		"RUN --mount=type=ssh test -S \"$SSH_AUTH_SOCK\" && echo " + u + " > /agent\n"})
	res, _, err := build(t, b, imagebuild.Request{ContextDir: dir, Tags: []string{"localhost/cirun-test-" + u}, SSH: []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, b, res.ImageID, "agent"); got != u+"\n" {
		t.Errorf("/agent = %q", got)
	}
}

func TestAdditionalContexts(t *testing.T) {
	t.Parallel()
	b, _ := builders(t)
	u := unique(t)
	extra := buildContext(t, map[string]string{"shared.txt": "shared " + u, ".dockerignore": "ignored.txt\n", "ignored.txt": "no"})
	dir := buildContext(t, map[string]string{"Containerfile": "FROM " + baseImage + "\n" +
		"COPY --from=assets shared.txt /shared.txt\n" +
		"COPY --from=tools /bin/busybox /copied-busybox\n" +
		"RUN --mount=type=bind,from=assets,target=/mnt cat /mnt/shared.txt > /mounted.txt\n" +
		"RUN test ! -e /ignored.txt\n"})
	res, _, err := build(t, b, imagebuild.Request{ContextDir: dir, Tags: []string{"localhost/cirun-test-" + u},
		AdditionalContexts: map[string]string{"assets": extra, "tools": "docker-image://" + baseImage}})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, b, res.ImageID, "shared.txt"); got != "shared "+u {
		t.Errorf("/shared.txt = %q", got)
	}
	if got := readFile(t, b, res.ImageID, "mounted.txt"); got != "shared "+u {
		t.Errorf("/mounted.txt = %q", got)
	}
	if got := readFile(t, b, res.ImageID, "copied-busybox"); len(got) < 100000 {
		t.Errorf("/copied-busybox has %d bytes", len(got))
	}
	for _, v := range []string{"relative/dir", "/nonexistent/cirun", "alpine:3"} {
		if _, err := additionalContexts(imagebuild.Request{Service: "web", AdditionalContexts: map[string]string{"x": v}}); err == nil {
			t.Errorf("additional context %q: no error", v)
		}
	}
}

// TestDockerfileFeatures builds one Containerfile using the syntax CI
// projects rely on: ARG before FROM, heredocs, cache and bind mounts,
// .containerignore taking precedence over .dockerignore, multi-stage COPY
// --from, and FROM scratch.
func TestDockerfileFeatures(t *testing.T) {
	t.Parallel()
	b, _ := builders(t)
	u := unique(t)
	dir := buildContext(t, map[string]string{
		"Containerfile": "ARG BASE=" + baseImage + "\n" +
			"FROM ${BASE} AS build\n" +
			"ARG BASE\n" +
			"RUN <<EOF\n" +
			"echo \"heredoc $BASE\" > /heredoc.txt\n" +
			"echo second-line-" + u + " >> /heredoc.txt\n" +
			"EOF\n" +
			"COPY <<EOF /inline.txt\n" +
			"inline " + u + "\n" +
			"EOF\n" +
			"RUN --mount=type=cache,id=cirun-test-" + u + ",target=/cache echo " + u + " >> /cache/runs && wc -l < /cache/runs > /cache-runs.txt\n" +
			"RUN --mount=type=bind,source=data,target=/data cp /data/kept.txt /from-bind.txt\n" +
			"COPY data/ /copied/\n" +
			"FROM scratch\n" +
			"COPY --from=build /heredoc.txt /inline.txt /cache-runs.txt /from-bind.txt /\n" +
			"COPY --from=build /copied /copied\n",
		"data/kept.txt":     "kept " + u,
		"data/docker.txt":   "excluded by .containerignore",
		"data/secret.env":   "excluded by .containerignore too",
		".dockerignore":     "data/kept.txt\n",
		".containerignore":  "data/docker.txt\n*/*.env\n",
		"data/sub/keep.txt": "sub",
	})
	t.Cleanup(func() {
		os.RemoveAll(filepath.Join(cacheMountParent(), "cirun-test-"+u))
		os.RemoveAll(filepath.Join(cacheMountParent(), "buildah-cache-lockfiles", "cirun-test-"+u))
	})
	res, _, err := build(t, b, imagebuild.Request{ContextDir: dir, Tags: []string{"localhost/cirun-test-" + u}})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"heredoc.txt":         "heredoc " + baseImage + "\nsecond-line-" + u + "\n",
		"inline.txt":          "inline " + u + "\n",
		"cache-runs.txt":      "1\n",
		"from-bind.txt":       "kept " + u,
		"copied/kept.txt":     "kept " + u,
		"copied/sub/keep.txt": "sub",
	} {
		if got := readFile(t, b, res.ImageID, path); got != want {
			t.Errorf("/%s = %q, want %q", path, got, want)
		}
	}
	layers := layerTars(t, b, res.ImageID)
	if len(layers) != 2 {
		t.Errorf("FROM scratch image has %d layers, want 2", len(layers))
	}
	for i, l := range layers {
		for _, excluded := range []string{"docker.txt", "secret.env", "bin/busybox"} {
			if bytes.Contains(l, []byte(excluded)) {
				t.Errorf("layer %d holds %s", i, excluded)
			}
		}
	}
}

// TestContextsNeverMix builds two different contexts in a row with the
// same Containerfile: each image holds its own files only.
func TestContextsNeverMix(t *testing.T) {
	t.Parallel()
	b, _ := builders(t)
	u := unique(t)
	df := "FROM " + baseImage + "\nCOPY . /ctx/\nRUN ls /ctx | sort | tr '\\n' ' ' > /listing\n"
	first := buildContext(t, map[string]string{"Containerfile": df, "a.txt": "a " + u, "only-first.txt": "1"})
	second := buildContext(t, map[string]string{"Containerfile": df, "a.txt": "b " + u, "only-second.txt": "2"})
	r1, _, err := build(t, b, imagebuild.Request{ContextDir: first, Tags: []string{"localhost/cirun-test-" + u + ":1"}})
	if err != nil {
		t.Fatal(err)
	}
	r2, _, err := build(t, b, imagebuild.Request{ContextDir: second, Tags: []string{"localhost/cirun-test-" + u + ":2"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, b, r1.ImageID, "listing"); got != "Containerfile a.txt only-first.txt " {
		t.Errorf("first listing %q", got)
	}
	if got := readFile(t, b, r2.ImageID, "listing"); got != "Containerfile a.txt only-second.txt " {
		t.Errorf("second listing %q", got)
	}
	if got := readFile(t, b, r2.ImageID, "ctx/a.txt"); got != "b "+u {
		t.Errorf("second /ctx/a.txt = %q", got)
	}
}

func TestCacheRefs(t *testing.T) {
	got, err := cacheRefs("web", "cache_from", []string{"reg.example:5000/app/cache:v1", "type=registry,ref=127.0.0.1:5000/x", "busybox"})
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, r := range got {
		s = append(s, r.String())
	}
	if want := "reg.example:5000/app/cache 127.0.0.1:5000/x docker.io/library/busybox"; strings.Join(s, " ") != want {
		t.Errorf("cacheRefs = %q, want %q", s, want)
	}
	for _, bad := range []string{"type=local,src=/tmp/cache", "type=gha", "type=registry", "UPPER/case"} {
		_, err := cacheRefs("web", "cache_to", []string{bad})
		if err == nil || !strings.Contains(err.Error(), "web: build.cache_to") {
			t.Errorf("%q: error %v", bad, err)
		}
	}
	if _, err := cacheRefs("web", "cache_to", []string{"type=local,dest=x"}); !errors.Is(err, imagebuild.ErrUnsupported) {
		t.Errorf("local cache: %v, want ErrUnsupported", err)
	}
}

func TestRegistryRef(t *testing.T) {
	for tag, want := range map[string]string{
		"localhost/proj-app:latest":     "127.0.0.1:5000/proj-app:latest",
		"docker.io/library/busybox:1":   "127.0.0.1:5000/library/busybox:1",
		"reg.example:5000/team/app:v2":  "127.0.0.1:5000/team/app:v2",
		"team/app":                      "127.0.0.1:5000/team/app:latest",
		"localhost/app@sha256:" + u64(): "127.0.0.1:5000/app@sha256:" + u64(),
	} {
		if got := imagebuild.RegistryRef("127.0.0.1:5000", tag); got != want {
			t.Errorf("RegistryRef(%q) = %q, want %q", tag, got, want)
		}
	}
}

func u64() string { return strings.Repeat("ab", 32) }

func TestInsecureHosts(t *testing.T) {
	refs, err := cacheRefs("web", "cache_from", []string{"localhost:5000/a", "reg.example/b"})
	if err != nil {
		t.Fatal(err)
	}
	got := insecureHosts(imagebuild.Request{Registry: "127.0.0.1:5000"}, refs)
	if strings.Join(got, " ") != "127.0.0.1:5000 localhost:5000" {
		t.Errorf("loopback only: %q", got)
	}
	got = insecureHosts(imagebuild.Request{Registry: "10.0.0.5:5000", InsecureRegistry: true}, refs)
	if strings.Join(got, " ") != "10.0.0.5:5000 localhost:5000 reg.example" {
		t.Errorf("insecure allowed: %q", got)
	}
	var rc registriesConf
	defer rc.close()
	d, err := rc.dir(got)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(filepath.Join(d, "999-cirun-insecure.conf"))
	if err != nil || !strings.Contains(string(conf), "location = \"reg.example\"\ninsecure = true") {
		t.Errorf("drop-in %q (%v)", conf, err)
	}
	if d2, _ := rc.dir([]string{"reg.example", "localhost:5000", "10.0.0.5:5000"}); d2 != d {
		t.Errorf("same hosts, new directory %s != %s", d2, d)
	}
}

// TestRegistryCacheInFreshStore builds with a registry (go-containerregistry's
// in-memory one on loopback), then builds the same context in a brand-new
// store that only has the base image: every step must come from the
// registry cache, giving the same image; the image itself was pushed.
func TestRegistryCacheInFreshStore(t *testing.T) {
	t.Parallel()
	b, _ := builders(t)
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	reg := strings.TrimPrefix(srv.URL, "http://")
	u := unique(t)
	dir := buildContext(t, map[string]string{
		"Containerfile": "FROM " + baseImage + "\n" +
			"ENV MARK=" + u + "\n" +
			"COPY data.txt /data.txt\n" +
			"RUN echo ran-$MARK && cp /data.txt /copy.txt\n" +
			"HEALTHCHECK CMD true\n" +
			"CMD [\"cat\", \"/copy.txt\"]\n",
		"data.txt": u,
	})
	tag := "localhost/cirun-test-" + u + ":v1"
	req := imagebuild.Request{ContextDir: dir, Tags: []string{tag}, Registry: reg}
	first, out, err := build(t, b, req)
	if err != nil {
		t.Fatal(err)
	}
	if first.CacheHits != 0 || !strings.Contains(out, "pushed "+reg+"/cirun-test-"+u+":v1@sha256:") {
		t.Errorf("first build %+v; progress:\n%s", first, out)
	}
	pushed, err := ggcrname.ParseReference(reg + "/cirun-test-" + u + ":v1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(pushed); err != nil {
		t.Errorf("image not pushed: %v", err)
	}
	cacheRepo, err := ggcrname.NewRepository(reg + "/" + imagebuild.CacheRepo)
	if err != nil {
		t.Fatal(err)
	}
	if tags, err := remote.List(cacheRepo); err != nil || len(tags) < first.Steps {
		t.Errorf("cache tags %v (%v), want one per step (%d)", tags, err, first.Steps)
	}

	fresh := newFreshBuilder(t)
	second, out, err := build(t, fresh, req)
	if err != nil {
		t.Fatal(err)
	}
	if second.Steps != first.Steps || second.CacheHits != second.Steps {
		t.Errorf("fresh store: %d steps, %d cached; want every one of %d cached", second.Steps, second.CacheHits, first.Steps)
	}
	if strings.Contains(out, "ran-"+u) || !strings.Contains(out, "CACHED (registry") {
		t.Errorf("fresh-store build ran a step or did not say it pulled the cache:\n%s", out)
	}
	if second.ImageID != first.ImageID {
		t.Errorf("fresh store built %s, first build %s", second.ImageID, first.ImageID)
	}
	if got := readFile(t, fresh, second.ImageID, "copy.txt"); got != u {
		t.Errorf("/copy.txt = %q", got)
	}
}

// newFreshBuilder opens a new store in a temporary directory, seeded with
// the base image only, closed and removed at the end of the test.
func newFreshBuilder(t *testing.T) *Builder {
	t.Helper()
	dir, err := os.MkdirTemp("", "cirun-buildah-fresh-")
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := New(Options{GraphRoot: filepath.Join(dir, "root"), RunRoot: filepath.Join(dir, "run")})
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if ctrs, err := fresh.store.Containers(); err != nil || len(ctrs) > 0 {
			t.Errorf("build containers left in the fresh store: %d (%v)", len(ctrs), err)
		}
		if _, err := fresh.store.Shutdown(true); err != nil {
			t.Errorf("fresh store shutdown: %v", err)
		}
		fresh.closed = true
		fresh.registries.close()
		os.RemoveAll(dir)
	})
	if err := copyImage(env.fallback.store, fresh.store, baseImage); err != nil {
		t.Fatalf("seeding the fresh store: %v", err)
	}
	return fresh
}

func TestPlatforms(t *testing.T) {
	err := checkSupported(imagebuild.Request{Service: "web", Platforms: []string{"linux/amd64", "linux/arm64"}})
	if !errors.Is(err, imagebuild.ErrUnsupported) || !strings.Contains(err.Error(), "web: build.platforms lists 2 platforms") {
		t.Errorf("two platforms: %v", err)
	}
	host := runtime.GOOS + "/" + runtime.GOARCH
	if err := checkSupported(imagebuild.Request{Service: "web", Platforms: []string{host}}); err != nil {
		t.Errorf("host platform: %v", err)
	}
}

// debianImage has perl (for talking to an SSH agent); scripts/setup.sh
// builds it.
const debianImage = "localhost/debian:bookworm"

var seeded sync.Map // image name -> *seedOnce

type seedOnce struct {
	once sync.Once
	err  error
}

// seed copies image from the default store into the private one, once;
// the test is skipped when the default store lacks it.
func seed(t *testing.T, b *Builder, image string) {
	t.Helper()
	if _, err := env.fallback.store.Image(image); err != nil {
		t.Skipf("%s not in the default store (run scripts/setup.sh)", image)
	}
	v, _ := seeded.LoadOrStore(image, &seedOnce{})
	o := v.(*seedOnce)
	o.once.Do(func() { o.err = copyImage(env.fallback.store, b.store, image) })
	if o.err != nil {
		t.Fatalf("seeding %s: %v", image, o.err)
	}
}

// cacheMountParent is where buildah keeps RUN --mount=type=cache
// directories (its internal volumes.CacheParent).
func cacheMountParent() string {
	dir := "/var/tmp"
	if d, ok := os.LookupEnv("TMPDIR"); ok {
		dir = d
	} else if c, err := config.Default(); err == nil {
		if d, err := c.ImageCopyTmpDir(); err == nil {
			dir = d
		}
	}
	return filepath.Join(dir, fmt.Sprintf("buildah-cache-%d", os.Getuid()))
}

// waitFor polls cond every 20 ms for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond) // polling, not synchronisation
	}
}

// TestCacheToCacheFrom: compose's cache_to / cache_from registry refs (no
// --registry): the cache written by one store is read by a fresh one.
func TestCacheToCacheFrom(t *testing.T) {
	t.Parallel()
	b, _ := builders(t)
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	reg := strings.TrimPrefix(srv.URL, "http://")
	u := unique(t)
	dir := buildContext(t, map[string]string{"Containerfile": "FROM " + baseImage + "\nRUN echo ran-" + u + " > /ran\nCMD [\"cat\", \"/ran\"]\n"})
	tag := "localhost/cirun-test-" + u
	first, _, err := build(t, b, imagebuild.Request{ContextDir: dir, Tags: []string{tag}, CacheTo: []string{reg + "/team/app-cache:latest"}})
	if err != nil {
		t.Fatal(err)
	}
	second, out, err := build(t, newFreshBuilder(t), imagebuild.Request{ContextDir: dir, Tags: []string{tag},
		CacheFrom: []string{"type=registry,ref=" + reg + "/team/app-cache"}})
	if err != nil {
		t.Fatal(err)
	}
	if second.CacheHits != second.Steps || second.ImageID != first.ImageID || strings.Contains(out, "pushed ") {
		t.Errorf("fresh store with cache_from: %+v (first %s); progress:\n%s", second, first.ImageID, out)
	}
}
