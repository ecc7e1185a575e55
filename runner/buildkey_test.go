package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/fake"
	"github.com/cirun-dev/cirun/imagebuild"
)

func TestFromImages(t *testing.T) {
	for _, c := range []struct {
		df   string
		want []string
		ok   bool
	}{
		{"FROM localhost/debian:bookworm\nRUN true\n", []string{"localhost/debian:bookworm"}, true},
		{"FROM --platform=linux/amd64 a AS build\nFROM scratch\nCOPY --from=build / /\n", []string{"a"}, true},
		{"FROM a AS base\nFROM base\nFROM b\n", []string{"a", "b"}, true},
		{"ARG V=1\nFROM img:$V\n", nil, false},
	} {
		got, ok := fromImages([]byte(c.df))
		if ok != c.ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("fromImages(%q) = %v, %v; want %v, %v", c.df, got, ok, c.want, c.ok)
		}
	}
}

// countingBuilder "builds" by registering a fresh image ID in the fake engine.
type countingBuilder struct {
	eng    *fake.Engine
	builds int
}

func (b *countingBuilder) Build(_ context.Context, req imagebuild.Request) (imagebuild.Result, error) {
	b.builds++
	for _, tag := range req.Tags {
		b.eng.AddImage(tag, engine.Image{ID: fmt.Sprintf("sha256:built%d", b.builds)})
	}
	return imagebuild.Result{}, nil
}

func TestUnchangedImplicitRebuildIsSkipped(t *testing.T) {
	ctxDir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(ctxDir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Dockerfile", "FROM localhost/base\nCOPY app.txt /app.txt\n")
	write("app.txt", "v1")
	eng := fake.New()
	eng.AddImage("localhost/base", engine.Image{ID: "sha256:base1"})
	b := &countingBuilder{eng: eng}
	r := New(eng, Options{Builder: b, BuildKeyDir: t.TempDir(), Clock: newAutoClock()})
	svc := types.ServiceConfig{Name: "app"}
	svc.PullPolicy = types.PullPolicyBuild
	svc.Build = &types.BuildConfig{Context: ctxDir, Dockerfile: "Dockerfile"}
	p := &types.Project{Name: "p", WorkingDir: ctxDir, Services: types.Services{"app": svc}}
	ensure := func() {
		t.Helper()
		s := r.newSession(p)
		defer s.close()
		if _, err := s.ensureImage(context.Background(), svc, false, false); err != nil {
			t.Fatal(err)
		}
	}
	ensure()
	ensure()
	if b.builds != 1 {
		t.Errorf("builds after an unchanged rebuild = %d, want 1", b.builds)
	}
	write("app.txt", "v2")
	ensure()
	if b.builds != 2 {
		t.Errorf("builds after editing a context file = %d, want 2", b.builds)
	}
	eng.AddImage("localhost/base", engine.Image{ID: "sha256:base2"})
	ensure()
	if b.builds != 3 {
		t.Errorf("builds after the base image changed = %d, want 3", b.builds)
	}
	eng.AddImage("p-app", engine.Image{ID: "sha256:other"}) // tag moved elsewhere
	ensure()
	if b.builds != 4 {
		t.Errorf("builds after the tag moved to another image = %d, want 4", b.builds)
	}
	s := r.newSession(p)
	defer s.close()
	if _, err := s.ensureImage(context.Background(), svc, true, false); err != nil || b.builds != 5 {
		t.Errorf("--build must always build: builds = %d, err %v", b.builds, err)
	}
}

// registryBuilder "builds" like countingBuilder and records the registry
// each build was asked to export its cache and push to.
type registryBuilder struct {
	countingBuilder
	registries []string
}

func (b *registryBuilder) Build(ctx context.Context, req imagebuild.Request) (imagebuild.Result, error) {
	b.registries = append(b.registries, req.Registry)
	return b.countingBuilder.Build(ctx, req)
}

// With a registry configured, an unchanged implicit rebuild still runs: the
// (fully cached) build is what exports the layer cache to the registry and
// pushes the image there, and the local tag says nothing about the registry.
func TestUnchangedRebuildWithRegistryStillBuilds(t *testing.T) {
	for _, c := range []struct {
		name     string
		opts     string // Options.Registry
		xcirun   string // x-cirun: {registry: ...}
		cacheTo  []string
		registry string // the registry the builds must be given ("" for cache_to only)
	}{
		{name: "--registry", opts: "127.0.0.1:5000", registry: "127.0.0.1:5000"},
		{name: "x-cirun registry", xcirun: "127.0.0.1:5001", registry: "127.0.0.1:5001"},
		{name: "--registry wins over x-cirun", opts: "127.0.0.1:5000", xcirun: "127.0.0.1:5001", registry: "127.0.0.1:5000"},
		{name: "cache_to", cacheTo: []string{"127.0.0.1:5000/cache"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctxDir := t.TempDir()
			if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM localhost/base\nRUN true\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			eng := fake.New()
			eng.AddImage("localhost/base", engine.Image{ID: "sha256:base1"})
			b := &registryBuilder{countingBuilder: countingBuilder{eng: eng}}
			keys := t.TempDir()
			r := New(eng, Options{Builder: b, BuildKeyDir: keys, Registry: c.opts, Clock: newAutoClock()})
			svc := types.ServiceConfig{Name: "app"}
			svc.PullPolicy = types.PullPolicyBuild
			svc.Build = &types.BuildConfig{Context: ctxDir, Dockerfile: "Dockerfile", CacheTo: c.cacheTo}
			p := &types.Project{Name: "p", WorkingDir: ctxDir, Services: types.Services{"app": svc}}
			if c.xcirun != "" {
				p.Extensions = types.Extensions{"x-cirun": map[string]any{"registry": c.xcirun}}
			}
			ensureTimes(t, r, p, svc, 3)
			if b.builds != 3 {
				t.Errorf("builds after two unchanged rebuilds = %d, want 3 (the registry export must not be skipped)", b.builds)
			}
			for i, reg := range b.registries {
				if reg != c.registry {
					t.Errorf("build %d: Registry = %q, want %q", i+1, reg, c.registry)
				}
			}
			if ents, _ := os.ReadDir(keys); len(ents) != 0 {
				t.Errorf("a build key was recorded for a registry build: %d files", len(ents))
			}
		})
	}
}

// The same service without a registry is skipped (the control for the test
// above: the fixture is eligible otherwise).
func TestUnchangedRebuildWithoutRegistryIsSkipped(t *testing.T) {
	ctxDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM localhost/base\nRUN true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	eng := fake.New()
	eng.AddImage("localhost/base", engine.Image{ID: "sha256:base1"})
	b := &registryBuilder{countingBuilder: countingBuilder{eng: eng}}
	r := New(eng, Options{Builder: b, BuildKeyDir: t.TempDir(), Clock: newAutoClock()})
	svc := types.ServiceConfig{Name: "app"}
	svc.PullPolicy = types.PullPolicyBuild
	svc.Build = &types.BuildConfig{Context: ctxDir, Dockerfile: "Dockerfile"}
	p := &types.Project{Name: "p", WorkingDir: ctxDir, Services: types.Services{"app": svc}}
	ensureTimes(t, r, p, svc, 3)
	if b.builds != 1 {
		t.Errorf("builds = %d, want 1", b.builds)
	}
}

// ensureImage n times, each in a session of its own (as n `cirun up`s).
func ensureTimes(t *testing.T, r *Runner, p *types.Project, svc types.ServiceConfig, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		s := r.newSession(p)
		if _, err := s.ensureImage(context.Background(), svc, false, false); err != nil {
			t.Fatal(err)
		}
		s.close()
	}
}

// An image another service builds is built for the service that only runs
// it, even when that service asks first, never pulled (docker compose's
// TestUpWithBuildDependencies).
func TestImageOfAnotherServiceIsBuiltNotPulled(t *testing.T) {
	eng := fake.New()
	b := &countingBuilder{eng: eng}
	r := New(eng, Options{Builder: b, BuildKeyDir: t.TempDir(), Clock: newAutoClock()})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	foo, bar := types.ServiceConfig{Name: "foo"}, types.ServiceConfig{Name: "bar"}
	foo.Build = &types.BuildConfig{Context: dir, Dockerfile: "Dockerfile"}
	foo.Image, bar.Image = "localhost/shared", "localhost/shared"
	p := &types.Project{Name: "p", WorkingDir: dir, Services: types.Services{"foo": foo, "bar": bar}}
	s := r.newSession(p)
	defer s.close()
	if _, err := s.ensureImage(context.Background(), bar, false, false); err != nil {
		t.Fatalf("bar's image: %v", err)
	}
	if _, err := s.ensureImage(context.Background(), foo, false, false); err != nil {
		t.Fatalf("foo's image: %v", err)
	}
	if b.builds != 1 {
		t.Errorf("builds = %d, want 1", b.builds)
	}
}
