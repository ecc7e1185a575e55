// Package depcheck holds a test that enforces cirun's import boundaries:
// the orchestration core (runner, compose, engine, imagebuild) never imports
// Podman, Buildah, containers/storage or the CLI library, and builds without
// cgo; only the adapters do. It also keeps cirun's front binary (cmd/cirun
// with the cirun_front tag) free of Podman's bindings, Buildah and the
// registry, whose package initialisation would make `cirun ps` slow.
package depcheck
