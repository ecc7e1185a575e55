package registry

import (
	"context"
	"strings"
	"testing"
)

// Digest is the pushed manifest's digest; a tag the registry lacks, or a
// registry nothing listens on, is an error naming the image.
func TestDigest(t *testing.T) {
	ctx := context.Background()
	host, _ := serve(t, Config{Root: t.TempDir()})
	img := randomImage(t)
	push(t, host, "app:1", img)
	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Digest(ctx, host+"/app:1", ClientOptions{})
	if err != nil || got != want.String() {
		t.Errorf("Digest(app:1) = %q, %v; want %s", got, err, want)
	}
	if _, err := Digest(ctx, host+"/app:2", ClientOptions{}); err == nil || !strings.Contains(err.Error(), "failed to resolve digest for "+host+"/app:2") {
		t.Errorf("missing tag: %v", err)
	}
	stopped, stop := serve(t, Config{Root: t.TempDir()})
	stop()
	if _, err := Digest(ctx, stopped+"/app:1", ClientOptions{}); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("registry not listening: %v", err)
	}
}
