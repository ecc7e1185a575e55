// Package rest is the part of cirun's Podman adapter that needs neither
// Podman's bindings nor anything they link: finding the service's socket,
// and listing and inspecting containers over Podman's REST API with
// net/http and encoding/json.
//
// cirun's front binary (cmd/cirun built with the cirun_front tag) answers
// `ps` and `ls` with it, so those commands start without the ~900 packages
// the bindings, Buildah and the registry bring, whose package
// initialisation alone costs more than the 50 ms a CLI command may take.
// engine/podman uses the same code for ListContainers and
// InspectContainer, so one implementation serves both binaries and the
// engine conformance suite (engine/enginetest) keeps it honest against
// Podman.
package rest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cirun-dev/cirun/engine"
)

// apiPrefix is the libpod API path prefix; Podman 4.x serves every 4.y.z.
const apiPrefix = "/v4.0.0/libpod"

// Labels cirun writes on containers with a healthcheck, for the values
// Podman 4.3 does not keep (its interval only in whole seconds, no start
// interval).
const (
	LabelHealthInterval      = "dev.cirun.health.interval"
	LabelHealthStartInterval = "dev.cirun.health.start-interval"
)

// SystemSocket returns the path of the system (root) or user (rootless)
// Podman API socket, whether or not a service listens on it.
func SystemSocket() string {
	if os.Geteuid() == 0 {
		return "/run/podman/podman.sock"
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "podman", "podman.sock")
	}
	return ""
}

// ServiceDir returns the directory of cirun's own service: its socket,
// containers.conf, lock and log. Root: /run/cirun; rootless:
// $XDG_RUNTIME_DIR/cirun; when neither is usable, /tmp/cirun-$UID.
func ServiceDir() string {
	if os.Geteuid() == 0 {
		if usableDir("/run") {
			return "/run/cirun"
		}
	} else if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && usableDir(d) {
		return filepath.Join(d, "cirun")
	}
	return filepath.Join(os.TempDir(), "cirun-"+strconv.Itoa(os.Getuid()))
}

// ServiceSocket is the socket of cirun's own service in ServiceDir().
func ServiceSocket() string { return filepath.Join(ServiceDir(), "podman.sock") }

func usableDir(d string) bool {
	return syscall.Access(d, 0x2|0x1) == nil // W_OK|X_OK
}

// Probe checks that a Podman service answers /_ping on the unix socket.
func Probe(ctx context.Context, sock string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := c.Write([]byte("GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ping %s: status %d", sock, resp.StatusCode)
	}
	return nil
}

// Client makes cirun's REST calls that need no bindings. It is safe for
// concurrent use.
type Client struct {
	http *http.Client
	base string // "http://d" for a unix socket, "http://host:port[/path]" for tcp
}

// New returns a Client over an existing HTTP client (the bindings'
// connection, which knows how to dial unix, tcp and ssh endpoints) whose
// service URI is uri.
func New(hc *http.Client, uri *url.URL) *Client {
	base := "http://d"
	if uri != nil && uri.Scheme == "tcp" {
		base = "http://" + uri.Host + strings.TrimSuffix(uri.Path, "/")
	}
	return &Client{http: hc, base: base}
}

// Dial returns a Client for a unix:// or tcp:// service URI; other schemes
// (ssh://) need the bindings and give an error.
func Dial(uri string) (*Client, error) { return DialConn(uri, nil) }

// DialConn is Dial whose first request goes over conn, a connection to the
// unix socket already made (to learn that a service listens); nil dials.
func DialConn(uri string, conn net.Conn) (*Client, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("podman URI %q: %w", uri, err)
	}
	switch u.Scheme {
	case "unix":
		sock := u.Path
		var first atomic.Pointer[net.Conn]
		if conn != nil {
			first.Store(&conn)
		}
		tr := &http.Transport{
			DisableCompression: true,
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				if c := first.Swap(nil); c != nil {
					return *c, nil
				}
				var d net.Dialer
				return d.DialContext(ctx, "unix", sock)
			},
		}
		return New(&http.Client{Transport: tr}, u), nil
	case "tcp":
		return New(&http.Client{Transport: &http.Transport{DisableCompression: true}}, u), nil
	}
	return nil, fmt.Errorf("podman URI %q: scheme %q needs the full cirun", uri, u.Scheme)
}

// Connect connects to the unix socket: a service listens when it succeeds
// (a socket file left by a service that exited refuses).
func Connect(ctx context.Context, sock string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", sock)
}

// apiError is Podman's error body.
type apiError struct {
	Cause    string `json:"cause"`
	Message  string `json:"message"`
	Response int    `json:"response"`
}

// get GETs path (under the libpod prefix) with query and decodes the JSON
// answer into out. A 404 wraps engine.ErrNotFound, a 409 engine.ErrConflict.
func (c *Client) get(ctx context.Context, path string, query url.Values, out any) error {
	u := c.base + apiPrefix + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var ae apiError
		msg := strings.TrimSpace(string(body))
		if json.Unmarshal(body, &ae) == nil && ae.Message != "" {
			msg = ae.Message
		}
		err := errors.New(msg)
		switch resp.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("%w: %w", engine.ErrNotFound, err)
		case http.StatusConflict:
			return fmt.Errorf("%w: %w", engine.ErrConflict, err)
		}
		return fmt.Errorf("%s: status %d: %w", path, resp.StatusCode, err)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
