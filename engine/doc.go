// Package engine is the boundary between cirun's orchestration and a
// container engine: the Engine interface, the plain types it speaks
// (ContainerSpec, Container, Healthcheck, ...), sentinel errors and docker
// compose's label keys. It imports only the standard library; adapters such
// as engine/podman import it, never the other way round.
package engine
