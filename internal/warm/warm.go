package warm

import (
	_ "github.com/compose-spec/compose-go/v2/cli"
	_ "github.com/containers/buildah"
	_ "github.com/containers/buildah/imagebuildah"
	_ "github.com/containers/podman/v4/pkg/bindings/containers"
	_ "github.com/containers/podman/v4/pkg/bindings/images"
	_ "github.com/containers/podman/v4/pkg/bindings/network"
	_ "github.com/containers/podman/v4/pkg/bindings/system"
	_ "github.com/containers/podman/v4/pkg/bindings/volumes"
	_ "github.com/containers/storage/pkg/unshare"
	_ "github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/google/go-containerregistry/pkg/registry"
	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/urfave/cli/v2"
)
