package registry

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestBlobFiles(t *testing.T) {
	root := t.TempDir()
	host, _ := serve(t, Config{Root: root})
	img := randomImage(t)
	push(t, host, "fast/app:v1", img)
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	d, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}

	fellThrough := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("%s %s fell through to distribution", r.Method, r.URL)
	})
	h := blobFiles{root: root, next: fellThrough}
	for _, tc := range []struct {
		method, rng string
		status      int
		body        []byte
	}{
		{http.MethodGet, "", http.StatusOK, want},
		{http.MethodHead, "", http.StatusOK, nil},
		{http.MethodGet, "bytes=0-9", http.StatusPartialContent, want[:10]},
	} {
		req := httptest.NewRequest(tc.method, "/v2/fast/app/blobs/"+d.String(), nil)
		if tc.rng != "" {
			req.Header.Set("Range", tc.rng)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status || !bytes.Equal(rec.Body.Bytes(), tc.body) {
			t.Errorf("%s %s: %d, %d bytes; want %d, %d bytes", tc.method, tc.rng, rec.Code, rec.Body.Len(), tc.status, len(tc.body))
		}
		for k, v := range map[string]string{
			"Docker-Content-Digest": d.String(),
			"Etag":                  `"` + d.String() + `"`,
			"Content-Type":          "application/octet-stream",
			"Cache-Control":         blobCacheControl,
		} {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("%s %s: header %s = %q, want %q", tc.method, tc.rng, k, got, v)
			}
		}
	}

	// Blobs not linked into the repository are left to distribution.
	var passed []string
	h.next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { passed = append(passed, r.URL.Path) })
	for _, p := range []string{
		"/v2/other/repo/blobs/" + d.String(),
		"/v2/fast/app/blobs/sha256:" + string(bytes.Repeat([]byte("0"), 64)),
		"/v2/fast/app/blobs/sha512:" + string(bytes.Repeat([]byte("0"), 128)),
		"/v2/fast/app/blobs/uploads/",
		"/v2/../../etc/blobs/" + d.String(),
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "http://x"+p, nil))
	}
	if len(passed) != 5 {
		t.Errorf("passed to distribution: %q, want all 5", passed)
	}

	// Through the server, a blob of another repository is a 404.
	resp, err := http.Get("http://" + host + "/v2/other/blobs/" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unlinked blob: %d, want 404", resp.StatusCode)
	}
}
