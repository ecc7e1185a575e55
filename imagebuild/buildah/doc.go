// Package buildah implements imagebuild.Builder with the Buildah library
// (imagebuildah.BuildDockerfiles), in process, on the containers-storage
// store that Podman uses, so built images are visible to Podman at once.
//
// It is the only package of cirun that imports buildah, containers/storage
// and containers/image. A program using it must call Reexec first thing in
// main (buildah's layer copies re-execute the binary).
//
// Builds use the layer cache (one cached image per step, as `buildah bud
// --layers`), write Docker-format images (so HEALTHCHECK, SHELL and ONBUILD
// survive) and report one progress line per step, saying whether the step
// came from the cache or how long it took. Per-step cache hits are learned
// from buildah's own build log: it prints "--> Using cache <id>" to its
// output stream after the step line whenever a step is satisfied from the
// cache (see progress.go).
//
// Secrets, SSH agents and additional contexts are buildah's (options.go).
// A Request.Registry makes a registry the shared layer cache (every step
// pushed to and looked up in HOST/cirun/cache) and the place built images
// are pushed to; loopback registries need no TLS (registry.go).
//
// Linking this package has one process-wide effect: a root process moves
// into a private mount namespace before the Go runtime starts (see
// mountns_linux.go), so that Podman processes sharing the store cannot
// unmount a running build's layers. RUN-step networking also takes Podman
// 4.x's netavark lock (network.go). docs/notes-buildah.md has the details
// and measurements.
package buildah
