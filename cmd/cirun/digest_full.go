//go:build !cirun_front

package main

import (
	"context"

	"github.com/cirun-dev/cirun/registry"
)

// imageDigest asks ref's registry for its digest (config
// --resolve-image-digests); insecure allows plain HTTP to any registry.
func imageDigest(ctx context.Context, ref string, insecure bool) (string, error) {
	return registry.Digest(ctx, ref, registry.ClientOptions{Insecure: insecure})
}
