// Package podman implements engine.Engine over Podman's REST API, with the
// podman v4 bindings (pkg/bindings), against Podman 4.3 and later services.
// It is the only cirun package that imports Podman.
//
// New connects to, in order: Options.Host or CONTAINER_HOST when set; a
// running system service socket (root: /run/podman/podman.sock, rootless:
// $XDG_RUNTIME_DIR/podman/podman.sock); or cirun's own `podman system
// service`, which it starts on a private socket (root: /run/cirun, rootless:
// $XDG_RUNTIME_DIR/cirun, else /tmp/cirun-$UID), detached, with a
// containers.conf written beside the socket, and which later cirun runs
// reuse until it exits after Options.ServiceIdle without requests.
//
// Healthchecks are recorded on containers with Podman's schedule disabled
// (interval 0: no systemd timer); cirun runs the checks itself through
// RunHealthCheck. Doctor checks a host's Podman setup and says how to fix
// what fails.
package podman
