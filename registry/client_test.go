package registry

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
)

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost:5000":     true,
		"localhost":          true,
		"reg.localhost:5000": true,
		"127.0.0.1:5000":     true,
		"127.1.2.3":          true,
		"[::1]:5000":         true,
		"10.0.0.5:5000":      false,
		"192.168.1.2:5000":   false,
		"registry.example":   false,
		"localhost.evil.com": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

// schemeRecorder records request schemes and fails every request.
type schemeRecorder struct {
	mu      sync.Mutex
	schemes map[string]int
}

var errRecorded = errors.New("recorded")

func (s *schemeRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schemes[req.URL.Scheme]++
	return nil, errRecorded
}

func TestNonLoopbackHostsRequireTLS(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		host      string
		insecure  bool
		wantPlain bool
	}{
		{"10.1.2.3:5000", false, false}, // go-containerregistry alone would use plain HTTP here
		{"registry.example:5000", false, false},
		{"10.1.2.3:5000", true, true},
		{"127.0.0.1:5000", false, true},
	} {
		rec := &schemeRecorder{schemes: map[string]int{}}
		_, err := List(ctx, tc.host, "x", ClientOptions{Insecure: tc.insecure, Transport: rec})
		if err == nil {
			t.Fatalf("%s: List succeeded against a failing transport", tc.host)
		}
		rec.mu.Lock()
		plain := rec.schemes["http"] > 0
		rec.mu.Unlock()
		if plain != tc.wantPlain {
			t.Errorf("%s insecure=%v: plain HTTP used = %v, want %v (schemes %v)", tc.host, tc.insecure, plain, tc.wantPlain, rec.schemes)
		}
	}
}

func TestRemoveNeedsTagOrDigest(t *testing.T) {
	err := Remove(context.Background(), "127.0.0.1:1", "repo", ClientOptions{})
	if err == nil {
		t.Error("Remove without tag or digest succeeded")
	}
	if err := Remove(context.Background(), "", "repo:v1", ClientOptions{}); !errors.Is(err, errNoHost) {
		t.Errorf("Remove without host: %v, want errNoHost", err)
	}
}
