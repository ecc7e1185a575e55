// Package fake is an in-memory engine.Engine for unit-testing cirun's
// orchestration without Podman.
//
// Containers follow a tiny interpreted process model: the container's argv
// (entrypoint + command) is read as a shell script made of `echo`, `exit N`,
// `true` and `false` statements, which run at start; any other command
// (`sleep 300`, `mariadbd`, ...) keeps the container running until it is
// stopped, killed or made to exit with Engine.Exit. Exec and health-check
// commands are interpreted the same way, and hooks (OnStart, OnExec,
// OnHealth) let a test script other behaviour. Every call is recorded in an
// ordered log (Calls) so tests can assert on order.
//
// The fake passes the conformance suite in engine/enginetest, as the Podman
// adapter does, so it cannot drift from the real engine's observable
// behaviour.
package fake
