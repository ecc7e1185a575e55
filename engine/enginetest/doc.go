// Package enginetest is the conformance suite every engine.Engine must pass:
// the Podman adapter (engine/podman) against a real service, and the
// in-memory fake (engine/fake). Running one suite against both keeps the
// fake honest, so orchestration tests written against it mean something.
//
// Each subtest creates its objects under unique names carrying a unique
// label, and removes everything it created, even when it fails.
package enginetest
