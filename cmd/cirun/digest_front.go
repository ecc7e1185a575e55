//go:build cirun_front

package main

import (
	"context"
	"errors"
)

// imageDigest is the full binary's: the front hands `config
// --resolve-image-digests` and `--lock-image-digests` over (digestFlags)
// rather than link a registry client.
func imageDigest(context.Context, string, bool) (string, error) {
	return "", errors.New("resolving image digests needs cirun-full")
}
