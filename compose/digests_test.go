package compose

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// digestOf answers testDigest for every image and records what was asked.
func digestOf(asked *[]string) DigestFunc {
	return func(ref string) (string, error) {
		*asked = append(*asked, ref)
		return testDigest, nil
	}
}

// ResolveDigests pins every service image to its digest, fully qualified,
// asks nothing for pinned images or build-only services; Lock keeps only
// the images.
func TestResolveDigestsAndLock(t *testing.T) {
	svc := func(image string) types.ServiceConfig {
		var s types.ServiceConfig
		s.Image = image
		s.Command = types.ShellCommand{"true"}
		return s
	}
	p := &types.Project{Name: "p", Services: types.Services{
		"web":    svc("alpine:3"),
		"pinned": svc("busybox@" + testDigest),
		"built":  svc(""),
	}}
	var asked []string
	resolved, err := ResolveDigests(p, digestOf(&asked))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(asked, []string{"docker.io/library/alpine:3"}) {
		t.Errorf("asked %q", asked)
	}
	if got := resolved.Services["web"].Image; got != "docker.io/library/alpine:3@"+testDigest {
		t.Errorf("web image %q", got)
	}
	if got := resolved.Services["pinned"].Image; got != "docker.io/library/busybox@"+testDigest {
		t.Errorf("pinned image %q", got)
	}
	out, err := Render(Lock(resolved), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := "services:\n  built: {}\n  pinned:\n    image: docker.io/library/busybox@" + testDigest + "\n  web:\n    image: docker.io/library/alpine:3@" + testDigest + "\n"
	if string(out) != want {
		t.Errorf("lock file:\n%s\nwant:\n%s", out, want)
	}

	failing := func(ref string) (string, error) {
		return "", errors.New("failed to resolve digest for " + ref + ": no registry")
	}
	if _, err := ResolveDigests(p, failing); err == nil || !strings.Contains(err.Error(), "failed to resolve digest for docker.io/library/alpine:3") {
		t.Errorf("unreachable registry: %v", err)
	}
}

// On a raw model (--no-interpolate) images are pinned in place and
// LockModel keeps services' images and image volumes only.
func TestResolveModelDigestsAndLockModel(t *testing.T) {
	m := map[string]any{
		"name":     "p",
		"networks": map[string]any{"default": map[string]any{}},
		"services": map[string]any{
			"web": map[string]any{"image": "alpine:3", "command": []any{"true"},
				"volumes": []any{map[string]any{"type": "bind", "source": "/a", "target": "/a"},
					map[string]any{"type": "image", "source": "data:1", "target": "/d"}}},
			"built": map[string]any{"build": map[string]any{"context": "."}},
		},
	}
	var asked []string
	if err := ResolveModelDigests(m, digestOf(&asked)); err != nil {
		t.Fatal(err)
	}
	LockModel(m)
	want := map[string]any{"services": map[string]any{
		"web": map[string]any{"image": "docker.io/library/alpine:3@" + testDigest,
			"volumes": []any{map[string]any{"type": "image", "source": "data:1", "target": "/d"}}},
		"built": map[string]any{},
	}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("locked model %v\nwant %v", m, want)
	}
}
