package registry

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// blobFiles serves blob downloads (GET and HEAD /v2/<name>/blobs/<digest>)
// straight from distribution's filesystem layout when the blob is linked
// into the repository, so the kernel copies the file to the socket
// (sendfile) instead of distribution's buffered reader copying it through
// user space. It sets the headers distribution sets. Anything it is not sure
// about (unlinked or missing blob, other digest algorithms) goes to next,
// which gives the normal answer, errors included.
type blobFiles struct {
	root string
	next http.Handler
}

// blobCacheControl matches distribution's Cache-Control for blobs.
const blobCacheControl = "max-age=31536000"

func (b blobFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if name, ref, ok := splitAPIPath(r.URL.Path, "/blobs/"); ok && b.serve(w, r, name, ref) {
			return
		}
	}
	b.next.ServeHTTP(w, r)
}

// serve serves the blob and reports true, or reports false having written
// nothing.
func (b blobFiles) serve(w http.ResponseWriter, r *http.Request, name, ref string) bool {
	if _, err := reference.WithName(name); err != nil {
		return false
	}
	d, err := digest.Parse(ref)
	if err != nil || d.Algorithm() != digest.SHA256 {
		return false
	}
	v2 := filepath.Join(b.root, "docker", "registry", "v2")
	link, err := os.ReadFile(filepath.Join(v2, "repositories", filepath.FromSlash(name), "_layers", "sha256", d.Encoded(), "link"))
	if err != nil || !bytes.Equal(link, []byte(d.String())) {
		return false
	}
	f, err := os.Open(filepath.Join(v2, "blobs", "sha256", d.Encoded()[:2], d.Encoded(), "data"))
	if err != nil {
		return false
	}
	defer f.Close()
	h := w.Header()
	h.Set("Docker-Distribution-API-Version", "registry/2.0")
	h.Set("ETag", `"`+d.String()+`"`)
	h.Set("Cache-Control", blobCacheControl)
	h.Set("Docker-Content-Digest", d.String())
	h.Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", time.Time{}, f)
	return true
}
