package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sirupsen/logrus"

	"github.com/cirun-dev/cirun/internal/syncbuf"
)

// serve starts a registry on 127.0.0.1:0 over root and returns its address
// and a function that stops it and waits for Serve to return.
func serve(t *testing.T, cfg Config) (string, func()) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return s.Addr(), stop
}

func push(t *testing.T, host, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(host + "/" + ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("pushing %s: %v", r, err)
	}
}

func randomImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(4096, 2)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// readAll reads an image's manifest, config and layers; go-containerregistry
// checks every digest and size while reading.
func readAll(img v1.Image) error {
	if _, err := img.RawConfigFile(); err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func digestOf(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPushListPullRemove(t *testing.T) {
	ctx := context.Background()
	host, _ := serve(t, Config{Root: t.TempDir()})
	img := randomImage(t)
	push(t, host, "team/app:v1", img)
	push(t, host, "team/app:v2", img)
	push(t, host, "other:latest", randomImage(t))

	repos, err := List(ctx, host, "", ClientOptions{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if got, want := fmt.Sprint(repos), "[{other [latest]} {team/app [v1 v2]}]"; got != want {
		t.Errorf("List = %s, want %s", got, want)
	}

	ref, _ := name.ParseReference(host + "/team/app:v1")
	pulled, err := remote.Image(ref)
	if err != nil {
		t.Fatalf("pulling: %v", err)
	}
	if err := readAll(pulled); err != nil {
		t.Errorf("pulled image is invalid: %v", err)
	}
	if got, want := digestOf(t, pulled), digestOf(t, img); got != want {
		t.Errorf("pulled digest %s, pushed %s", got, want)
	}

	if err := Remove(ctx, host, "team/app:v1", ClientOptions{}); err != nil {
		t.Fatalf("Remove tag: %v", err)
	}
	repos, err = List(ctx, host, "team/app", ClientOptions{})
	if err != nil {
		t.Fatalf("List repo: %v", err)
	}
	if got, want := fmt.Sprint(repos), "[{team/app [v2]}]"; got != want {
		t.Errorf("after removing v1: %s, want %s", got, want)
	}

	if err := Remove(ctx, host, "team/app@"+digestOf(t, img).String(), ClientOptions{}); err != nil {
		t.Fatalf("Remove digest: %v", err)
	}
	repos, err = List(ctx, host, "", ClientOptions{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if got, want := fmt.Sprint(repos), "[{other [latest]} {team/app []}]"; got != want {
		t.Errorf("after removing the manifest: %s, want %s", got, want)
	}
}

func TestDataSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	host, stop := serve(t, Config{Root: root})
	img := randomImage(t)
	push(t, host, "keep:v1", img)
	stop()

	host, _ = serve(t, Config{Root: root})
	repos, err := List(ctx, host, "", ClientOptions{})
	if err != nil {
		t.Fatalf("List after restart: %v", err)
	}
	if got, want := fmt.Sprint(repos), "[{keep [v1]}]"; got != want {
		t.Errorf("after restart: %s, want %s", got, want)
	}
	ref, _ := name.ParseReference(host + "/keep:v1")
	pulled, err := remote.Image(ref)
	if err != nil {
		t.Fatalf("pulling after restart: %v", err)
	}
	if err := readAll(pulled); err != nil {
		t.Errorf("pulled image is invalid: %v", err)
	}
}

// TestNotFoundIsQuiet checks that a 404 gives exactly one access line and
// nothing on the global logrus logger, where distribution would log it as
// an error if the logger redirection in log.go stopped working.
func TestNotFoundIsQuiet(t *testing.T) {
	var global syncbuf.Buffer
	std := logrus.StandardLogger()
	oldOut, oldLevel := std.Out, std.GetLevel()
	std.SetOutput(&global)
	std.SetLevel(logrus.DebugLevel)
	t.Cleanup(func() {
		std.SetOutput(oldOut)
		std.SetLevel(oldLevel)
	})

	var out syncbuf.Buffer
	host, stop := serve(t, Config{Root: t.TempDir(), Log: &out})
	for _, p := range []string{"/v2/missing/manifests/latest", "/v2/missing/blobs/sha256:" + strings.Repeat("0", 64)} {
		resp, err := http.Get("http://" + host + p)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
	stop()

	if g := global.String(); g != "" {
		t.Errorf("global logrus output:\n%s", g)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per request, got:\n%s", out.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, " 404 ") || strings.Contains(strings.ToLower(l), "error") {
			t.Errorf("unexpected access line %q", l)
		}
	}
}

func TestQuietDropsRequestLines(t *testing.T) {
	var out syncbuf.Buffer
	host, stop := serve(t, Config{Root: t.TempDir(), Log: &out, Quiet: true})
	push(t, host, "q:v1", randomImage(t))
	resp, err := http.Get("http://" + host + "/v2/missing/manifests/latest")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	stop()
	if out.String() != "" {
		t.Errorf("quiet server logged:\n%s", out.String())
	}
}

func TestRootInUse(t *testing.T) {
	root := t.TempDir()
	_, stop := serve(t, Config{Root: root})
	if _, err := New(Config{Root: root, Addr: "127.0.0.1:0"}); !errors.Is(err, ErrRootInUse) {
		t.Errorf("second server on the same root: %v, want ErrRootInUse", err)
	}
	if _, err := GC(context.Background(), root, GCOptions{}); !errors.Is(err, ErrRootInUse) {
		t.Errorf("GC under a running server: %v, want ErrRootInUse", err)
	}
	stop()
	s, err := New(Config{Root: root, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("New after stop: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Root: t.TempDir(), Addr: "no-port"},
		{Root: t.TempDir(), Addr: "256.0.0.1:1"},
	} {
		if s, err := New(cfg); err == nil {
			_ = s.Close()
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

func TestDefaultAddrIsLoopback(t *testing.T) {
	host, _, _ := strings.Cut(DefaultAddr, ":")
	if !isLoopback(host) {
		t.Errorf("DefaultAddr %s is not loopback", DefaultAddr)
	}
}
