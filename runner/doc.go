// Package runner is cirun's orchestration: it turns a loaded compose project
// into containers, networks and volumes on an engine.Engine, in dependency
// order, waiting on depends_on conditions, running healthchecks itself
// (Podman without systemd never does), running test services and tearing
// everything down. It decides in pure code (Plan) and acts through the engine
// and imagebuild interfaces only: it never imports Podman, Buildah or the CLI.
package runner
