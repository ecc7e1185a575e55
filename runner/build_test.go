package runner

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/fake"
	"github.com/cirun-dev/cirun/imagebuild"
)

func TestBuildRequestKeys(t *testing.T) {
	token := "s3cr3t"
	p := &types.Project{
		Name:       "p",
		WorkingDir: "/src",
		Secrets: types.Secrets{
			"npmrc": {File: "/src/.npmrc"},
			"token": {Environment: "TOKEN", Content: token},
			"unset": {Environment: "UNSET"},
		},
		Extensions: types.Extensions{"x-cirun": map[string]any{"registry": "127.0.0.1:5000"}},
	}
	svc := service("app", "", &types.BuildConfig{
		Context: "/src/app",
		Secrets: []types.ServiceSecretConfig{{Source: "npmrc"}, {Source: "token", Target: "api_token"}, {Source: "unset"}},
		SSH:     types.SSHConfig{{ID: "default"}, {ID: "deploy", Path: "/keys/id_ed25519"}},
		AdditionalContexts: types.Mapping{
			"assets": "/src/assets",
			"base":   "service:base",
		},
		CacheFrom: types.StringList{"type=registry,ref=reg/app-cache"},
		Platforms: types.StringList{"linux/amd64"},
	})
	req := buildRequest(p, svc, "localhost/p-app")
	if len(req.Secrets) != 3 {
		t.Fatalf("secrets %+v", req.Secrets)
	}
	if s := req.Secrets[0]; s.ID != "npmrc" || s.File != "/src/.npmrc" || s.Value != nil {
		t.Errorf("file secret %+v", s)
	}
	if s := req.Secrets[1]; s.ID != "api_token" || s.EnvVar != "TOKEN" || s.Value == nil || *s.Value != token {
		t.Errorf("environment secret %+v", s)
	}
	if s := req.Secrets[2]; s.ID != "unset" || s.EnvVar != "UNSET" || s.Value != nil {
		t.Errorf("unresolved environment secret %+v", s)
	}
	if want := []string{"default", "deploy=/keys/id_ed25519"}; !reflect.DeepEqual(req.SSH, want) {
		t.Errorf("SSH %q, want %q", req.SSH, want)
	}
	if want := map[string]string{"assets": "/src/assets", "base": "service:base"}; !reflect.DeepEqual(req.AdditionalContexts, want) {
		t.Errorf("AdditionalContexts %v", req.AdditionalContexts)
	}
	if req.Registry != "127.0.0.1:5000" || !reflect.DeepEqual(req.CacheFrom, []string{"type=registry,ref=reg/app-cache"}) || !reflect.DeepEqual(req.Platforms, []string{"linux/amd64"}) {
		t.Errorf("registry %q, cache_from %q, platforms %q", req.Registry, req.CacheFrom, req.Platforms)
	}
	// The request must not share the project's map: the runner rewrites
	// service: contexts in it.
	req.AdditionalContexts["base"] = "x"
	if svc.Build.AdditionalContexts["base"] != "service:base" {
		t.Error("buildRequest aliases the project's additional_contexts")
	}
}

func service(name, image string, b *types.BuildConfig) types.ServiceConfig {
	svc := types.ServiceConfig{Name: name}
	svc.Image = image
	svc.Build = b
	return svc
}

// recordingBuilder registers each build's image in the fake engine and
// records the requests in order.
type recordingBuilder struct {
	eng  *fake.Engine
	mu   sync.Mutex
	reqs []imagebuild.Request
}

func (b *recordingBuilder) Build(_ context.Context, req imagebuild.Request) (imagebuild.Result, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reqs = append(b.reqs, req)
	for _, tag := range req.Tags {
		b.eng.AddImage(tag, engine.Image{ID: "sha256:" + req.Service})
	}
	return imagebuild.Result{}, nil
}

func TestServiceContextBuiltFirst(t *testing.T) {
	eng := fake.New()
	b := &recordingBuilder{eng: eng}
	r := New(eng, Options{Builder: b, Clock: newAutoClock(), Registry: "reg.example:5000", InsecureRegistry: true})
	dir := t.TempDir()
	p := &types.Project{Name: "p", WorkingDir: dir, Services: types.Services{
		"app":   service("app", "", &types.BuildConfig{Context: dir, AdditionalContexts: types.Mapping{"base": "service:base", "tools": "service:tools"}}),
		"base":  service("base", "", &types.BuildConfig{Context: dir}),
		"tools": service("tools", "localhost/tools:1", nil),
	}, Extensions: types.Extensions{"x-cirun": map[string]any{"registry": "ignored:1"}}}
	eng.AddImage("localhost/tools:1", engine.Image{ID: "sha256:tools"})
	if err := r.Build(context.Background(), p, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(b.reqs) != 2 || b.reqs[0].Service != "base" || b.reqs[1].Service != "app" {
		t.Fatalf("builds %+v: want base once, then app", b.reqs)
	}
	app := b.reqs[1]
	if want := map[string]string{"base": "docker-image://" + imageName("p", p.Services["base"]), "tools": "docker-image://localhost/tools:1"}; !reflect.DeepEqual(app.AdditionalContexts, want) {
		t.Errorf("app's contexts %v, want %v", app.AdditionalContexts, want)
	}
	if app.Registry != "reg.example:5000" || !app.InsecureRegistry {
		t.Errorf("registry %q insecure %v: the runner's option must win over x-cirun", app.Registry, app.InsecureRegistry)
	}
}

func TestServiceContextCycle(t *testing.T) {
	eng := fake.New()
	r := New(eng, Options{Builder: &recordingBuilder{eng: eng}, Clock: newAutoClock()})
	dir := t.TempDir()
	p := &types.Project{Name: "p", WorkingDir: dir, Services: types.Services{
		"a": service("a", "", &types.BuildConfig{Context: dir, AdditionalContexts: types.Mapping{"x": "service:b"}}),
		"b": service("b", "", &types.BuildConfig{Context: dir, AdditionalContexts: types.Mapping{"y": "service:a"}}),
	}}
	err := r.Build(context.Background(), p, BuildOptions{Services: []string{"a"}})
	if err == nil || !strings.Contains(err.Error(), "cycle: a -> b -> a") {
		t.Errorf("error %v, want a cycle error", err)
	}
}

// failingBuilder fails the builds of the services it names.
type failingBuilder struct {
	recordingBuilder
	fail string
}

func (b *failingBuilder) Build(ctx context.Context, req imagebuild.Request) (imagebuild.Result, error) {
	if req.Service == b.fail {
		return imagebuild.Result{}, errors.New("boom")
	}
	return b.recordingBuilder.Build(ctx, req)
}

// TestBuildDependencyOrder: `build` builds depends_on first (docker compose
// builds in dependency order so `FROM base` finds base's image), only the
// named services unless --with-dependencies, and a failed dependency stops
// its dependents.
func TestBuildDependencyOrder(t *testing.T) {
	dir := t.TempDir()
	mk := func() *types.Project {
		svc := service("service", "", &types.BuildConfig{Context: dir})
		svc.DependsOn = types.DependsOnConfig{"base": {Condition: types.ServiceConditionStarted, Required: true}}
		return &types.Project{Name: "p", WorkingDir: dir, Services: types.Services{
			"base":    service("base", "", &types.BuildConfig{Context: dir}),
			"service": svc,
		}}
	}
	for i := 0; i < 20; i++ { // goroutines: the order must hold every time
		eng := fake.New()
		b := &recordingBuilder{eng: eng}
		if err := New(eng, Options{Builder: b, Clock: newAutoClock()}).Build(context.Background(), mk(), BuildOptions{}); err != nil {
			t.Fatal(err)
		}
		if len(b.reqs) != 2 || b.reqs[0].Service != "base" || b.reqs[1].Service != "service" {
			t.Fatalf("builds %v: want base, then service", b.reqs)
		}
	}
	eng := fake.New()
	b := &recordingBuilder{eng: eng}
	r := New(eng, Options{Builder: b, Clock: newAutoClock()})
	if err := r.Build(context.Background(), mk(), BuildOptions{Services: []string{"service"}}); err != nil {
		t.Fatal(err)
	}
	if len(b.reqs) != 1 || b.reqs[0].Service != "service" {
		t.Errorf("build service: builds %v, want service only", b.reqs)
	}
	b.reqs = nil
	if err := r.Build(context.Background(), mk(), BuildOptions{Services: []string{"service"}, WithDependencies: true}); err != nil {
		t.Fatal(err)
	}
	if len(b.reqs) != 2 || b.reqs[0].Service != "base" {
		t.Errorf("build --with-dependencies service: builds %v, want base, then service", b.reqs)
	}
	fb := &failingBuilder{recordingBuilder: recordingBuilder{eng: fake.New()}, fail: "base"}
	err := New(fb.eng, Options{Builder: fb, Clock: newAutoClock()}).Build(context.Background(), mk(), BuildOptions{})
	if err == nil || !strings.Contains(err.Error(), "boom") || len(fb.reqs) != 0 {
		t.Errorf("failed base: error %v, builds %v; want base's error and no build of service", err, fb.reqs)
	}
}

// build --build-arg overrides every build section's args, KEY alone from
// the project's environment, and --ssh adds to its ssh entries, without
// changing the project.
func TestWithBuildArgs(t *testing.T) {
	b := types.ServiceConfig{Name: "b"}
	b.Build = &types.BuildConfig{Context: ".", Args: types.MappingWithEquals{"KEEP": strPtr("1"), "FOO": strPtr("old")},
		SSH: types.SSHConfig{{ID: "mine", Path: "/k"}}}
	p := &types.Project{Name: "p", Services: types.Services{"b": b, "img": types.ServiceConfig{Name: "img"}}, Environment: types.Mapping{"FROMENV": "env"}}
	got := withBuildFlags(p, map[string]*string{"FOO": strPtr("new"), "FROMENV": nil}, []types.SSHKey{{ID: "default"}})
	if ssh := got.Services["b"].Build.SSH; len(ssh) != 2 || ssh[0].ID != "mine" || ssh[1] != (types.SSHKey{ID: "default"}) {
		t.Errorf("ssh = %v, want the service's key then default", ssh)
	}
	if len(p.Services["b"].Build.SSH) != 1 {
		t.Errorf("the project's ssh entries were changed")
	}
	args := got.Services["b"].Build.Args
	if *args["KEEP"] != "1" || *args["FOO"] != "new" || args["FROMENV"] == nil || *args["FROMENV"] != "env" {
		t.Errorf("args = KEEP %v FOO %v FROMENV %v", *args["KEEP"], *args["FOO"], args["FROMENV"])
	}
	if *p.Services["b"].Build.Args["FOO"] != "old" {
		t.Errorf("the project was changed")
	}
	if got.Services["img"].Build != nil {
		t.Errorf("a service without build got one")
	}
}
