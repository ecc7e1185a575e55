package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/distribution/distribution/v3"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// distribution v3 implements neither the OCI 1.1 referrers API nor the
// OCI-Subject header on manifest pushes. referrers adds both in front of it:
// pushes of manifests with a subject get the header, and
// GET /v2/<name>/referrers/<digest> lists the repository's manifests whose
// subject is <digest>, read from the same storage.

const (
	mediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	mediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	// maxManifestSize matches distribution's limit on manifest bodies.
	maxManifestSize = 4 << 20
)

// descriptor is an OCI descriptor as the referrers API returns it.
type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       digest.Digest     `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// manifestFields are the parts of a manifest or index the referrers API needs.
type manifestFields struct {
	MediaType    string            `json:"mediaType"`
	ArtifactType string            `json:"artifactType"`
	Config       *descriptor       `json:"config"`
	Subject      *descriptor       `json:"subject"`
	Annotations  map[string]string `json:"annotations"`
}

// summary is what the referrers API needs from one stored manifest.
type summary struct {
	subject digest.Digest
	desc    descriptor
}

type referrers struct {
	next http.Handler
	ns   distribution.Namespace

	mu    sync.Mutex
	cache map[digest.Digest]summary // manifests are immutable: never invalidated
}

func newReferrers(next http.Handler, ns distribution.Namespace) *referrers {
	return &referrers{next: next, ns: ns, cache: map[digest.Digest]summary{}}
}

func (h *referrers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if name, dgst, ok := splitAPIPath(r.URL.Path, "/referrers/"); ok && r.Method == http.MethodGet {
		h.list(w, r, name, dgst)
		return
	}
	if _, _, ok := splitAPIPath(r.URL.Path, "/manifests/"); ok && r.Method == http.MethodPut {
		if subject, body, ok := peekSubject(r.Body); ok {
			r.Body = body
			w = &subjectHeader{ResponseWriter: w, subject: subject}
		} else {
			r.Body = body
		}
	}
	h.next.ServeHTTP(w, r)
}

// splitAPIPath splits /v2/<name><sep><rest> into name and rest.
func splitAPIPath(p, sep string) (string, string, bool) {
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndex(rest, sep)
	if i <= 0 || strings.Contains(rest[i+len(sep):], "/") {
		return "", "", false
	}
	return rest[:i], rest[i+len(sep):], true
}

// peekSubject reads a manifest body and returns its subject digest, if any,
// and a body to pass on in place of the original.
func peekSubject(body io.ReadCloser) (string, io.ReadCloser, bool) {
	buf, err := io.ReadAll(io.LimitReader(body, maxManifestSize+1))
	rest := io.MultiReader(bytes.NewReader(buf), body)
	replay := struct {
		io.Reader
		io.Closer
	}{rest, body}
	if err != nil || len(buf) > maxManifestSize {
		return "", replay, false
	}
	var m manifestFields
	if json.Unmarshal(buf, &m) != nil || m.Subject == nil || m.Subject.Digest == "" {
		return "", replay, false
	}
	return m.Subject.Digest.String(), replay, true
}

// subjectHeader adds OCI-Subject to a successful manifest push.
type subjectHeader struct {
	http.ResponseWriter
	subject string
}

func (s *subjectHeader) WriteHeader(code int) {
	if code == http.StatusCreated {
		s.Header().Set("OCI-Subject", s.subject)
	}
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *subjectHeader) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (h *referrers) list(w http.ResponseWriter, r *http.Request, name, dgstStr string) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	named, err := reference.WithName(name)
	if err != nil {
		apiError(w, http.StatusBadRequest, "NAME_INVALID", "invalid repository name")
		return
	}
	dgst, err := digest.Parse(dgstStr)
	if err != nil {
		apiError(w, http.StatusBadRequest, "DIGEST_INVALID", "provided digest did not match uploaded content")
		return
	}
	descs, err := h.find(r.Context(), named, dgst)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "UNKNOWN", err.Error())
		return
	}
	if at := r.URL.Query().Get("artifactType"); at != "" {
		filtered := descs[:0]
		for _, d := range descs {
			if d.ArtifactType == at {
				filtered = append(filtered, d)
			}
		}
		descs = filtered
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	body, err := json.Marshal(struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Manifests     []descriptor `json:"manifests"`
	}{2, mediaTypeIndex, descs})
	if err != nil {
		apiError(w, http.StatusInternalServerError, "UNKNOWN", err.Error())
		return
	}
	w.Header().Set("Content-Type", mediaTypeIndex)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// find returns the descriptors of the manifests in repository named whose
// subject is dgst, sorted by digest. An unknown repository has none.
func (h *referrers) find(ctx context.Context, named reference.Named, dgst digest.Digest) ([]descriptor, error) {
	descs := []descriptor{}
	repo, err := h.ns.Repository(ctx, named)
	if err != nil {
		return nil, fmt.Errorf("opening repository %s: %w", named.Name(), err)
	}
	ms, err := repo.Manifests(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening manifests of %s: %w", named.Name(), err)
	}
	enum, ok := ms.(distribution.ManifestEnumerator)
	if !ok {
		return nil, errors.New("manifests cannot be enumerated")
	}
	err = enum.Enumerate(ctx, func(d digest.Digest) error {
		s, err := h.summarize(ctx, ms, d)
		if err != nil {
			return err
		}
		if s.subject == dgst {
			descs = append(descs, s.desc)
		}
		return nil
	})
	if err != nil && !isPathNotFound(err) {
		return nil, fmt.Errorf("listing manifests of %s: %w", named.Name(), err)
	}
	sort.Slice(descs, func(i, j int) bool { return descs[i].Digest < descs[j].Digest })
	return descs, nil
}

func (h *referrers) summarize(ctx context.Context, ms distribution.ManifestService, d digest.Digest) (summary, error) {
	h.mu.Lock()
	s, ok := h.cache[d]
	h.mu.Unlock()
	if ok {
		return s, nil
	}
	m0, err := ms.Get(ctx, d)
	if err != nil {
		return s, fmt.Errorf("reading manifest %s: %w", d, err)
	}
	_, content, err := m0.Payload()
	if err != nil {
		return s, fmt.Errorf("reading manifest %s: %w", d, err)
	}
	var m manifestFields
	if err := json.Unmarshal(content, &m); err != nil {
		// Not JSON we understand (e.g. a schema1 manifest): no subject.
		m = manifestFields{}
	}
	s.desc = descriptor{MediaType: m.MediaType, Digest: d, Size: int64(len(content)), ArtifactType: m.ArtifactType, Annotations: m.Annotations}
	if s.desc.MediaType == "" && m.Config != nil {
		s.desc.MediaType = mediaTypeManifest
	}
	if s.desc.ArtifactType == "" && m.Config != nil {
		s.desc.ArtifactType = m.Config.MediaType
	}
	if m.Subject != nil {
		s.subject = m.Subject.Digest
	}
	h.mu.Lock()
	h.cache[d] = s
	h.mu.Unlock()
	return s, nil
}

// apiError writes an OCI error response.
func apiError(w http.ResponseWriter, status int, code, msg string) {
	body, _ := json.Marshal(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
