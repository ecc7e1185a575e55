package buildah

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	libbuildah "github.com/containers/buildah"
	"github.com/containers/image/v5/copy"
	"github.com/containers/image/v5/signature"
	istorage "github.com/containers/image/v5/storage"
	"github.com/containers/storage"
	"github.com/sirupsen/logrus"

	"github.com/cirun-dev/cirun/imagebuild"
	"github.com/cirun-dev/cirun/internal/syncbuf"
)

// baseImage must exist in the user's default store (scripts/setup.sh).
const baseImage = "localhost/cirun/busybox:latest"

// Tests build in a private store under $TMPDIR, seeded with baseImage from
// the default store, and delete it at the end; only
// TestDefaultStoreSharedWithPodman writes to the default store (one image,
// removed afterwards).
var env struct {
	once     sync.Once
	skip     string
	dir      string
	builder  *Builder // private store
	fallback *Builder // the default store, Podman's
}

func TestMain(m *testing.M) {
	if libbuildah.InitReexec() {
		return
	}
	logrus.SetLevel(logrus.WarnLevel)
	code := m.Run()
	if err := teardown(); err != nil {
		fmt.Fprintln(os.Stderr, "teardown:", err)
		code = 1
	}
	os.Exit(code)
}

// builders returns the private-store builder and the default-store one,
// or skips the test when builds cannot run here.
func builders(t *testing.T) (private, shared *Builder) {
	t.Helper()
	env.once.Do(setup)
	if env.skip != "" {
		t.Skip(env.skip)
	}
	return env.builder, env.fallback
}

func setup() {
	if os.Geteuid() != 0 {
		env.skip = "image builds need root"
		return
	}
	shared, err := New(Options{})
	if err != nil {
		env.skip = fmt.Sprintf("no default image store: %v", err)
		return
	}
	if _, err := shared.store.Image(baseImage); err != nil {
		shared.Close()
		env.skip = fmt.Sprintf("base image %s not in the default store (run scripts/setup.sh): %v", baseImage, err)
		return
	}
	env.fallback = shared
	if env.dir, err = os.MkdirTemp("", "cirun-buildah-test-"); err != nil {
		env.skip = err.Error()
		return
	}
	private, err := New(Options{GraphRoot: filepath.Join(env.dir, "root"), RunRoot: filepath.Join(env.dir, "run")})
	if err != nil {
		env.skip = fmt.Sprintf("private store: %v", err)
		return
	}
	env.builder = private
	if err := copyImage(shared.store, private.store, baseImage); err != nil {
		env.skip = fmt.Sprintf("seeding private store: %v", err)
	}
}

func copyImage(from, to storage.Store, name string) error {
	src, err := istorage.Transport.ParseStoreReference(from, name)
	if err != nil {
		return err
	}
	dst, err := istorage.Transport.ParseStoreReference(to, name)
	if err != nil {
		return err
	}
	policy, err := signature.NewPolicyContext(&signature.Policy{Default: []signature.PolicyRequirement{signature.NewPRInsecureAcceptAnything()}})
	if err != nil {
		return err
	}
	defer policy.Destroy()
	_, err = copy.Image(context.Background(), policy, dst, src, &copy.Options{})
	return err
}

// teardown checks that builds left no containers and no mounted layers in
// the private store, then removes it.
func teardown() error {
	var errs []error
	if b := env.builder; b != nil {
		if ctrs, err := b.store.Containers(); err != nil || len(ctrs) > 0 {
			errs = append(errs, fmt.Errorf("build containers left behind: %d (%v)", len(ctrs), err))
		}
		if mounted, err := b.store.Shutdown(false); err != nil {
			errs = append(errs, fmt.Errorf("layers left mounted %v: %w", mounted, err))
			b.store.Shutdown(true) //nolint:errcheck // best effort before removal
		}
		b.closed = true
		b.registries.close()
	}
	if env.fallback != nil {
		if err := env.fallback.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if env.dir != "" {
		if err := os.RemoveAll(env.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// context writes files into a new build context directory.
func buildContext(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func unique(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// build runs req and returns the result and the progress output.
func build(t *testing.T, b *Builder, req imagebuild.Request) (imagebuild.Result, string, error) {
	t.Helper()
	var out syncbuf.Buffer
	if req.Service == "" {
		req.Service = "app"
	}
	if req.ProgressMode == "" {
		req.ProgressMode = "plain"
	}
	req.Progress = &out
	res, err := b.Build(context.Background(), req)
	t.Logf("progress of %s:\n%s", req.Service, out.String())
	return res, out.String(), err
}

// readFile reads a file from an image's root filesystem.
func readFile(t *testing.T, b *Builder, id, path string) string {
	t.Helper()
	root, err := b.store.MountImage(id, nil, "")
	if err != nil {
		t.Fatalf("mounting image %s: %v", id, err)
	}
	defer func() {
		if _, err := b.store.UnmountImage(id, false); err != nil {
			t.Errorf("unmounting image %s: %v", id, err)
		}
	}()
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatalf("reading %s from image: %v", path, err)
	}
	return string(data)
}

// dockerConfig is the part of an image's Docker config blob tests look at.
type dockerConfig struct {
	Config struct {
		Cmd         []string
		Healthcheck *struct{ Test []string }
		Shell       []string
		OnBuild     []string
		Labels      map[string]string
	} `json:"config"`
}

func imageConfig(t *testing.T, b *Builder, id string) dockerConfig {
	t.Helper()
	ref, err := istorage.Transport.ParseStoreReference(b.store, "@"+id)
	if err != nil {
		t.Fatal(err)
	}
	img, err := ref.NewImage(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	blob, err := img.ConfigBlob(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var c dockerConfig
	if err := json.Unmarshal(blob, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBuildThenCachedRebuild(t *testing.T) {
	t.Parallel()
	b, _ := builders(t)
	u := unique(t)
	dir := buildContext(t, map[string]string{
		"Containerfile": "FROM " + baseImage + "\n" +
			"ARG GREETING=hello\n" +
			"RUN echo \"$GREETING " + u + "\" > /greeting && echo ran-" + u + "\n" +
			"COPY data.txt /data.txt\n" +
			"CMD [\"cat\", \"/greeting\"]\n",
		"data.txt": "data " + u,
	})
	greeting := "hi"
	req := imagebuild.Request{ContextDir: dir, Tags: []string{"localhost/cirun-test-" + u + ":1"}, Args: map[string]*string{"GREETING": &greeting}}

	first, out, err := build(t, b, req)
	if err != nil {
		t.Fatal(err)
	}
	if first.Steps != 4 || first.CacheHits != 0 || first.ImageID == "" || first.Size <= 0 {
		t.Errorf("first build: %+v", first)
	}
	for _, want := range []string{"app  FROM " + baseImage, "app  #2 | ran-" + u, "app  #3 COPY data.txt /data.txt ", "app  built localhost/cirun-test-" + u + ":1 sha256:" + first.ImageID[:12]} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q", want)
		}
	}
	if strings.Contains(out, "| "+first.ImageID[:12]) || strings.Contains(out, "| -->") {
		t.Errorf("buildah's image ID lines leaked into the step output:\n%s", out)
	}
	if got := readFile(t, b, first.ImageID, "greeting"); got != "hi "+u+"\n" {
		t.Errorf("/greeting = %q", got)
	}
	if got := readFile(t, b, first.ImageID, "data.txt"); got != "data "+u {
		t.Errorf("/data.txt = %q", got)
	}
	if cmd := imageConfig(t, b, first.ImageID).Config.Cmd; !slices.Equal(cmd, []string{"cat", "/greeting"}) {
		t.Errorf("Cmd = %q", cmd)
	}

	second, out, err := build(t, b, req)
	if err != nil {
		t.Fatal(err)
	}
	if second.ImageID != first.ImageID || second.Steps != 4 || second.CacheHits != 4 {
		t.Errorf("rebuild: %+v, first %+v", second, first)
	}
	if strings.Contains(out, "| ran-") || strings.Count(out, " CACHED\n") != 4 || !strings.Contains(out, "4 steps, 4 cached") {
		t.Errorf("rebuild progress does not show every step cached:\n%s", out)
	}
}

func TestConfigKept(t *testing.T) {
	t.Parallel()
	b, _ := builders(t)
	u := unique(t)
	dir := buildContext(t, map[string]string{"Dockerfile": "FROM " + baseImage + "\n" +
		"SHELL [\"/bin/sh\", \"-ec\"]\n" +
		"ONBUILD RUN echo child\n" +
		"HEALTHCHECK --interval=5s CMD test -e /ok || exit 1\n" +
		"LABEL from.file=" + u + "\n"})
	tags := []string{"localhost/cirun-test-" + u + ":a", "cirun-test-" + u + ":b"}
	res, _, err := build(t, b, imagebuild.Request{ContextDir: dir, Tags: tags, Labels: map[string]string{"from.request": "yes"}, ProgressMode: "quiet"})
	if err != nil {
		t.Fatal(err)
	}
	c := imageConfig(t, b, res.ImageID).Config
	if c.Healthcheck == nil || !slices.Equal(c.Healthcheck.Test, []string{"CMD-SHELL", "test -e /ok || exit 1"}) {
		t.Errorf("Healthcheck = %+v", c.Healthcheck)
	}
	if !slices.Equal(c.Shell, []string{"/bin/sh", "-ec"}) || !slices.Equal(c.OnBuild, []string{"RUN echo child"}) {
		t.Errorf("Shell = %q, OnBuild = %q", c.Shell, c.OnBuild)
	}
	if c.Labels["from.file"] != u || c.Labels["from.request"] != "yes" {
		t.Errorf("Labels = %v", c.Labels)
	}
	img, err := b.store.Image(res.ImageID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		if !slices.Contains(img.Names, normalizeName(tag)) {
			t.Errorf("tag %s (%s) missing from names %q", tag, normalizeName(tag), img.Names)
		}
	}
}

func TestFailingRunStep(t *testing.T) {
	t.Parallel()
	b, _ := builders(t)
	u := unique(t)
	dir := buildContext(t, map[string]string{"Containerfile": "FROM " + baseImage + "\n" +
		"ENV MARK=" + u + "\n" +
		"RUN echo about to fail; \\\n" +
		"    echo \"broken $MARK\" >&2; exit 3\n" +
		"CMD [\"true\"]\n"})
	_, out, err := build(t, b, imagebuild.Request{Service: "broken", ContextDir: dir, Tags: []string{"localhost/cirun-test-" + u}})
	t.Logf("error: %v", err)
	var se *imagebuild.StepError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a StepError", err)
	}
	if se.Service != "broken" || se.Step != 2 || se.Line != 3 || se.File != "Containerfile" || !strings.HasPrefix(se.Instruction, "RUN echo about to fail;") {
		t.Errorf("StepError = %+v", se)
	}
	msg := err.Error()
	for _, want := range []string{"step #2 RUN echo about to fail;", "(Containerfile:3)", "exit status 3", "| about to fail", "| broken " + u} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if !strings.Contains(out, "broken  #2 RUN echo about to fail;") || !strings.Contains(out, "ERROR after") {
		t.Errorf("progress does not show the failed step:\n%s", out)
	}
}

func TestDockerfileInline(t *testing.T) {
	t.Parallel()
	b, _ := builders(t)
	u := unique(t)
	dir := buildContext(t, map[string]string{"in.txt": u})
	res, _, err := build(t, b, imagebuild.Request{
		ContextDir:       dir,
		DockerfileInline: "FROM " + baseImage + "\nCOPY in.txt /in.txt\n",
		Tags:             []string{"localhost/cirun-test-" + u},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, b, res.ImageID, "in.txt"); got != u {
		t.Errorf("/in.txt = %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("inline Dockerfile written into the context: %v", entries)
	}
}

func TestTargetStage(t *testing.T) {
	t.Parallel()
	b, _ := builders(t)
	u := unique(t)
	dir := buildContext(t, map[string]string{"Containerfile": "FROM " + baseImage + " AS build\n" +
		"RUN echo built-" + u + " > /artifact\n" +
		"FROM " + baseImage + " AS final\n" +
		"COPY --from=build /artifact /artifact\n" +
		"FROM " + baseImage + " AS later\n" +
		"RUN echo should-not-run && exit 1\n"})
	res, out, err := build(t, b, imagebuild.Request{ContextDir: dir, Target: "final", Tags: []string{"localhost/cirun-test-" + u}})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, b, res.ImageID, "artifact"); got != "built-"+u+"\n" {
		t.Errorf("/artifact = %q", got)
	}
	if res.Steps != 2 || strings.Contains(out, "should-not-run") {
		t.Errorf("steps %d; progress:\n%s", res.Steps, out)
	}
}

func TestCanceledBuild(t *testing.T) {
	t.Parallel()
	b, _ := builders(t)
	u := unique(t)
	dir := buildContext(t, map[string]string{"Dockerfile": "FROM " + baseImage + "\nRUN echo " + u + "; sleep 2\nRUN echo never\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var out syncbuf.Buffer
	_, err := b.Build(ctx, imagebuild.Request{Service: "slow", ContextDir: dir, Tags: []string{"localhost/cirun-test-" + u}, Progress: &out, ProgressMode: "plain"})
	t.Logf("progress:\n%s", out.String())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want deadline exceeded", err)
	}
	if !strings.Contains(out.String(), "slow  #1 RUN echo "+u+"; sleep 2 CANCELED after") || strings.Contains(out.String(), "echo never") {
		t.Errorf("progress does not show the cancellation:\n%s", out.String())
	}
}

func TestConcurrentBuilds(t *testing.T) {
	t.Parallel()
	b, _ := builders(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		u := unique(t)
		dir := buildContext(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo %s > /n\n", baseImage, u)})
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = build(t, b, imagebuild.Request{Service: fmt.Sprintf("svc%d", i), ContextDir: dir, Tags: []string{"localhost/cirun-test-" + u}})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func TestUnsupportedFieldFails(t *testing.T) {
	t.Parallel()
	b, _ := builders(t)
	dir := buildContext(t, map[string]string{"Dockerfile": "FROM " + baseImage + "\n"})
	_, _, err := build(t, b, imagebuild.Request{Service: "web", ContextDir: dir, CacheTo: []string{"type=local,dest=/tmp/x"}})
	if !errors.Is(err, imagebuild.ErrUnsupported) || !strings.Contains(err.Error(), "web: build.cache_to") {
		t.Errorf("error = %v", err)
	}
}

func TestPrivateMountNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	self, err1 := os.Readlink("/proc/self/ns/mnt")
	parent, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", os.Getppid()))
	if err := errors.Join(err1, err2); err != nil {
		t.Skip(err)
	}
	if os.Getenv("CIRUN_SHARED_MOUNT_NS") != "" {
		t.Skip("CIRUN_SHARED_MOUNT_NS is set")
	}
	if !PrivateMountNamespace() || self == parent {
		t.Errorf("not in a private mount namespace: self %s, parent %s, flag %v", self, parent, PrivateMountNamespace())
	}
}

// TestDefaultStoreSharedWithPodman builds into the default store, as cirun
// does, and checks that podman sees the image right away.
func TestDefaultStoreSharedWithPodman(t *testing.T) {
	t.Parallel()
	_, b := builders(t)
	u := unique(t)
	tag := "localhost/cirun-test-" + u + ":latest"
	// One instruction: the build creates exactly one image, removed below.
	dir := buildContext(t, map[string]string{"Dockerfile": "FROM " + baseImage + "\nLABEL cirun.test=" + u + "\n"})
	res, _, err := build(t, b, imagebuild.Request{ContextDir: dir, Tags: []string{tag}, ProgressMode: "quiet"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := b.store.DeleteImage(res.ImageID, true); err != nil {
			t.Errorf("removing %s: %v", tag, err)
		}
	})
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman not installed")
	}
	out, err := exec.Command("podman", "image", "inspect", "--format", "{{.Id}}", tag).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != res.ImageID {
		t.Errorf("podman image inspect %s: %s (%v), want %s", tag, out, err, res.ImageID)
	}
}
