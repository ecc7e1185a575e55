package registry

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// blobPath is where distribution's filesystem driver stores a blob.
func blobPath(root string, h v1.Hash) string {
	return filepath.Join(root, "docker/registry/v2/blobs", h.Algorithm, h.Hex[:2], h.Hex, "data")
}

// imageBlobs returns the digests of an image's layers and config.
func imageBlobs(t *testing.T, img v1.Image) []v1.Hash {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out []v1.Hash
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return append(out, cfg)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestGCRemovesBlobsOfDeletedImage(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	host, stop := serve(t, Config{Root: root})
	gone, kept := randomImage(t), randomImage(t)
	push(t, host, "gc/gone:v1", gone)
	push(t, host, "gc/kept:v1", kept)
	if err := Remove(ctx, host, "gc/gone:v1", ClientOptions{}); err != nil {
		t.Fatal(err)
	}
	stop()

	dry, err := GC(ctx, root, GCOptions{DryRun: true})
	if err != nil {
		t.Fatalf("dry-run GC: %v", err)
	}
	for _, b := range imageBlobs(t, gone) {
		if !exists(blobPath(root, b)) {
			t.Fatalf("dry run removed blob %s", b)
		}
	}

	res, err := GC(ctx, root, GCOptions{})
	if err != nil {
		t.Fatalf("GC: %v", err)
	}
	// 2 layers + config + the manifest blob; one manifest revision.
	if res.Blobs != 4 || res.Manifests != 1 || res.Bytes <= 0 || len(res.Tags) != 0 {
		t.Errorf("GC result = %+v, want 4 blobs and 1 manifest removed", res)
	}
	if fmt.Sprint(dry) != fmt.Sprint(res) {
		t.Errorf("dry run reported %+v, real run %+v", dry, res)
	}
	for _, b := range imageBlobs(t, gone) {
		if exists(blobPath(root, b)) {
			t.Errorf("blob %s of the deleted image survived GC", b)
		}
	}
	for _, b := range imageBlobs(t, kept) {
		if !exists(blobPath(root, b)) {
			t.Errorf("blob %s of the kept image was removed", b)
		}
	}

	host, _ = serve(t, Config{Root: root})
	ref, _ := name.ParseReference(host + "/gc/kept:v1")
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatalf("pulling the kept image after GC: %v", err)
	}
	if err := readAll(img); err != nil {
		t.Errorf("kept image is invalid after GC: %v", err)
	}
}

func TestGCKeepLastAndOlderThan(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	host, stop := serve(t, Config{Root: root})
	imgs := map[string]v1.Image{}
	for _, tag := range []string{"a", "b", "c", "d"} {
		imgs[tag] = randomImage(t)
		push(t, host, "cache:"+tag, imgs[tag])
	}
	stop()

	// Pushed a day, two, three and four days ago: a newest.
	now := time.Date(2030, 1, 10, 0, 0, 0, 0, time.UTC)
	for i, tag := range []string{"a", "b", "c", "d"} {
		link := filepath.Join(root, "docker/registry/v2/repositories/cache/_manifests/tags", tag, "current/link")
		at := now.Add(-time.Duration(i+1) * 24 * time.Hour)
		if err := os.Chtimes(link, at, at); err != nil {
			t.Fatal(err)
		}
	}
	clock := func() time.Time { return now }

	// keep the two newest, among the others only those older than 3.5 days go.
	res, err := GC(ctx, root, GCOptions{KeepLast: 2, OlderThan: 84 * time.Hour, Now: clock})
	if err != nil {
		t.Fatalf("GC: %v", err)
	}
	if got := strings.Join(res.Tags, " "); got != "cache:d" {
		t.Errorf("removed tags %q, want cache:d", got)
	}
	res, err = GC(ctx, root, GCOptions{KeepLast: 1, Now: clock})
	if err != nil {
		t.Fatalf("GC: %v", err)
	}
	if got := strings.Join(res.Tags, " "); got != "cache:b cache:c" {
		t.Errorf("removed tags %q, want cache:b cache:c", got)
	}
	if res.Manifests != 2 || res.Blobs != 8 {
		t.Errorf("GC result = %+v, want 2 manifests and 8 blobs removed", res)
	}
	for _, b := range imageBlobs(t, imgs["a"]) {
		if !exists(blobPath(root, b)) {
			t.Errorf("blob %s of the newest tag was removed", b)
		}
	}
	repos, err := func() ([]Repo, error) {
		host, _ := serve(t, Config{Root: root})
		return List(ctx, host, "", ClientOptions{})
	}()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(repos), "[{cache [a]}]"; got != want {
		t.Errorf("after GC: %s, want %s", got, want)
	}
}

func TestGCRemovesStaleUploads(t *testing.T) {
	root := t.TempDir()
	now := time.Now()
	stale := filepath.Join(root, "docker/registry/v2/repositories/x/_uploads/old")
	fresh := filepath.Join(root, "docker/registry/v2/repositories/x/_uploads/new")
	for _, d := range []string{stale, fresh} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "data"), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := now.Add(-2 * staleUpload)
	for _, p := range []string{filepath.Join(stale, "data"), stale} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	res, err := GC(context.Background(), root, GCOptions{})
	if err != nil {
		t.Fatalf("GC: %v", err)
	}
	if res.Uploads != 1 || exists(stale) || !exists(fresh) {
		t.Errorf("uploads removed = %d, stale exists %v, fresh exists %v", res.Uploads, exists(stale), exists(fresh))
	}
}

func TestGCRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	if _, err := GC(ctx, filepath.Join(t.TempDir(), "missing"), GCOptions{}); err == nil {
		t.Error("GC on a missing root succeeded")
	}
	if _, err := GC(ctx, t.TempDir(), GCOptions{KeepLast: -1}); err == nil {
		t.Error("GC with negative keep-last succeeded")
	}
}

func TestPlanTags(t *testing.T) {
	now := time.Date(2030, 1, 10, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tags := map[string][]tagInfo{
		"r": {
			{repo: "r", name: "new", pushed: now.Add(-1 * day)},
			{repo: "r", name: "mid", pushed: now.Add(-5 * day)},
			{repo: "r", name: "old", pushed: now.Add(-9 * day)},
		},
		"s": {{repo: "s", name: "only", pushed: now.Add(-30 * day)}},
	}
	for _, tc := range []struct {
		keep  int
		older time.Duration
		want  string
	}{
		{0, 0, ""},
		{1, 0, "r:mid r:old"},
		{2, 0, "r:old"},
		{5, 0, ""},
		{0, 4 * day, "r:mid r:old s:only"},
		{0, 7 * day, "r:old s:only"},
		{1, 4 * day, "r:mid r:old"},
		{2, 1 * time.Hour, "r:old"},
	} {
		var got []string
		for _, ti := range planTags(tags, tc.keep, tc.older, now) {
			got = append(got, ti.repo+":"+ti.name)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("keep %d older %s: %q, want %q", tc.keep, tc.older, strings.Join(got, " "), tc.want)
		}
	}
}
