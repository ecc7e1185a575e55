package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// ClientOptions configures List and Remove.
type ClientOptions struct {
	// Insecure allows plain HTTP and unverified TLS certificates for any
	// host. Without it only loopback hosts (localhost, 127.0.0.0/8, ::1) may
	// be reached over plain HTTP; every other host requires verified TLS.
	Insecure bool
	// Transport overrides the HTTP transport (tests); nil uses a clone of
	// http.DefaultTransport.
	Transport http.RoundTripper
}

// Repo is a repository and its tags, sorted.
type Repo struct {
	Name string
	Tags []string
}

// List returns the repositories of the registry at host with their tags,
// sorted by name. With repo non-empty it lists that repository only.
func List(ctx context.Context, host, repo string, opts ClientOptions) ([]Repo, error) {
	if host == "" {
		return nil, errNoHost
	}
	reg, err := name.NewRegistry(host, nameOptions(host, opts)...)
	if err != nil {
		return nil, fmt.Errorf("parsing registry host %q: %w", host, err)
	}
	ropts := remoteOptions(ctx, host, opts)
	var names []string
	if repo != "" {
		names = []string{repo}
	} else {
		names, err = remote.Catalog(ctx, reg, ropts...)
		if err != nil {
			return nil, fmt.Errorf("listing repositories of %s: %w", host, err)
		}
	}
	sort.Strings(names)
	repos := make([]Repo, 0, len(names))
	for _, n := range names {
		r := reg.Repo(n)
		tags, err := remote.List(r, ropts...)
		var terr *transport.Error
		if err != nil && repo == "" && errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
			err = nil // listed by the catalog but every tag is gone
		}
		if err != nil {
			return nil, fmt.Errorf("listing tags of %s: %w", r, err)
		}
		sort.Strings(tags)
		repos = append(repos, Repo{Name: n, Tags: tags})
	}
	return repos, nil
}

// Remove deletes ref from the registry at host. ref is "repo:tag" (the tag
// is removed; the image's blobs go at the next GC once nothing else refers to
// them) or "repo@digest" (the manifest and every tag pointing at it are
// removed). A ref that already starts with host is accepted as is; a ref
// without tag or digest is an error rather than an implicit ":latest".
func Remove(ctx context.Context, host, ref string, opts ClientOptions) error {
	if host == "" {
		return errNoHost
	}
	full := ref
	if host != "" && !strings.HasPrefix(ref, host+"/") {
		full = host + "/" + ref
	}
	r, err := name.ParseReference(full, append(nameOptions(host, opts), name.StrictValidation)...)
	if err != nil {
		return fmt.Errorf("parsing reference %q (a tag or digest is required): %w", ref, err)
	}
	if err := remote.Delete(r, remoteOptions(ctx, host, opts)...); err != nil {
		return fmt.Errorf("removing %s: %w", r, err)
	}
	return nil
}

func nameOptions(host string, opts ClientOptions) []name.Option {
	if opts.Insecure || isLoopback(host) {
		return []name.Option{name.Insecure}
	}
	return nil
}

func remoteOptions(ctx context.Context, host string, opts ClientOptions) []remote.Option {
	rt := opts.Transport
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if opts.Insecure {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for by the user
		}
		rt = t
	}
	if !opts.Insecure && !isLoopback(host) {
		// go-containerregistry falls back to plain HTTP for RFC 1918
		// addresses; cirun requires TLS for every non-loopback host.
		rt = tlsOnly{rt}
	}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(rt),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
	}
}

// tlsOnly upgrades plain-HTTP requests to HTTPS.
type tlsOnly struct{ next http.RoundTripper }

func (t tlsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" {
		req = req.Clone(req.Context())
		req.URL.Scheme = "https"
	}
	return t.next.RoundTrip(req)
}

// isLoopback reports whether host (with or without port) names this machine.
func isLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// errNoHost is returned when a client helper is given no registry host.
var errNoHost = errors.New("registry host is required")
