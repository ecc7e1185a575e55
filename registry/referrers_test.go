package registry

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const sbomType = "application/vnd.example.sbom"

func TestReferrers(t *testing.T) {
	host, _ := serve(t, Config{Root: t.TempDir()})
	// Without the tag fallback, pushing with a subject needs the OCI-Subject
	// header and listing needs the referrers API.
	noFallback := remote.WithReferrersTagFallback(false)

	base := randomImage(t)
	push(t, host, "ref/app:v1", base)
	baseDesc, err := partial.Descriptor(base)
	if err != nil {
		t.Fatal(err)
	}
	sbom := mutate.MediaType(mutate.ConfigMediaType(randomImage(t), sbomType), types.OCIManifestSchema1)
	sbom = mutate.Subject(sbom, *baseDesc).(v1.Image)
	sbomDigest := digestOf(t, sbom)
	sbomRef, _ := name.ParseReference(host + "/ref/app@" + sbomDigest.String())
	if err := remote.Write(sbomRef, sbom, noFallback); err != nil {
		t.Fatalf("pushing a manifest with a subject: %v", err)
	}

	subject, _ := name.NewDigest(host + "/ref/app@" + baseDesc.Digest.String())
	idx, err := remote.Referrers(subject, noFallback)
	if err != nil {
		t.Fatalf("Referrers: %v", err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || m.Manifests[0].Digest != sbomDigest || m.Manifests[0].ArtifactType != sbomType ||
		m.Manifests[0].MediaType != types.OCIManifestSchema1 {
		t.Errorf("referrers = %+v, want the sbom %s", m.Manifests, sbomDigest)
	}

	for filter, want := range map[string]int{sbomType: 1, "application/other": 0} {
		resp, err := http.Get("http://" + host + "/v2/ref/app/referrers/" + baseDesc.Digest.String() + "?artifactType=" + filter)
		if err != nil {
			t.Fatal(err)
		}
		var got v1.IndexManifest
		err = json.NewDecoder(resp.Body).Decode(&got)
		_ = resp.Body.Close()
		if err != nil || len(got.Manifests) != want || resp.Header.Get("OCI-Filters-Applied") != "artifactType" {
			t.Errorf("filter %s: %d manifests (err %v, header %q), want %d", filter, len(got.Manifests), err,
				resp.Header.Get("OCI-Filters-Applied"), want)
		}
	}

	if err := remote.Delete(sbomRef); err != nil {
		t.Fatalf("deleting the sbom: %v", err)
	}
	idx, err = remote.Referrers(subject, noFallback)
	if err != nil {
		t.Fatalf("Referrers after delete: %v", err)
	}
	if m, _ := idx.IndexManifest(); len(m.Manifests) != 0 {
		t.Errorf("referrers after delete = %+v, want none", m.Manifests)
	}
}

func TestReferrersErrors(t *testing.T) {
	host, _ := serve(t, Config{Root: t.TempDir()})
	for path, want := range map[string]int{
		"/v2/nothing/referrers/sha256:" + strings.Repeat("a", 64): http.StatusOK, // unknown repo: empty list
		"/v2/nothing/referrers/not-a-digest":                      http.StatusBadRequest,
		"/v2/BAD/referrers/sha256:" + strings.Repeat("a", 64):     http.StatusBadRequest,
	} {
		resp, err := http.Get("http://" + host + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d %s, want %d", path, resp.StatusCode, body, want)
		}
	}
}

func TestSplitAPIPath(t *testing.T) {
	for _, tc := range []struct{ path, sep, name, rest string }{
		{"/v2/a/b/manifests/v1", "/manifests/", "a/b", "v1"},
		{"/v2/x/manifests/y/manifests/latest", "/manifests/", "x/manifests/y", "latest"},
		{"/v2/a/referrers/sha256:00", "/referrers/", "a", "sha256:00"},
		{"/v2/a/blobs/sha256:00", "/manifests/", "", ""},
		{"/v2/manifests/x", "/manifests/", "", ""},
	} {
		name, rest, ok := splitAPIPath(tc.path, tc.sep)
		if name != tc.name || rest != tc.rest || ok != (tc.name != "") {
			t.Errorf("splitAPIPath(%q) = %q %q %v", tc.path, name, rest, ok)
		}
	}
}
