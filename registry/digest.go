package registry

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Digest returns the digest of the manifest ref designates in its registry
// (one HEAD request; short docker.io names included), as `docker compose
// config --resolve-image-digests` pins image tags. Loopback registries are
// reached over plain HTTP, every other one over verified TLS unless
// opts.Insecure; credentials come from the docker/podman auth files.
func Digest(ctx context.Context, ref string, opts ClientOptions) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	host := r.Context().RegistryStr()
	if r, err = name.ParseReference(ref, nameOptions(host, opts)...); err != nil {
		return "", fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	desc, err := remote.Head(r, remoteOptions(ctx, host, opts)...)
	if err != nil {
		return "", fmt.Errorf("failed to resolve digest for %s: %w", ref, err)
	}
	return desc.Digest.String(), nil
}
