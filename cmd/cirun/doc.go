// Command cirun runs docker compose projects in CI on rootless Podman, with
// Buildah-library builds and an in-pod registry. main is a stub; the app in
// app.go turns flags into options and makes one library call per verb.
//
// The package builds into two binaries (make build): bin/cirun-full, with
// everything (full.go, doctor.go, registry.go), and the front bin/cirun
// (the cirun_front tag, front.go), which links neither Podman's bindings nor
// Buildah nor the registry. The front runs config, version, ps, ls and
// install-alias itself and execs cirun-full for the rest, so that those
// commands answer in a few tens of milliseconds (docs/decisions.md).
package main
