// Package depcheck holds a test that enforces cirun's import boundaries:
// the orchestration core (runner, compose, engine, imagebuild) never imports
// Podman, Buildah, containers/storage or the CLI library, and builds without
// cgo; only the adapters do.
package depcheck
