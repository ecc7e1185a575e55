// Package compose loads compose files with compose-go v2, following docker
// compose's rules (file discovery, overrides, -p/COMPOSE_PROJECT_NAME,
// profiles, .env and --env-file, interpolation), and rejects keys cirun does
// not implement with an error naming the file, the service and the key.
//
// Load is the one entry point: Options mirrors docker compose's global
// flags, and the environment comes from Options.Environ only, so loading is
// hermetic and testable. Every error Load returns is an *Error whose Error()
// is one line, "FILE: services.SVC.KEY: problem".
//
// What cirun implements is one table, Supported (support.go), also
// published as docs/compose-support.md; Check rejects every other key the
// user wrote. Render prints a project as `docker compose config` does.
//
// Tests: services whose profiles include "test" (TestServices) are what
// `cirun test` runs by default. Since a profile keeps them disabled, the CLI
// loads once, takes TestServices, and loads again with them in
// Options.EnableServices, which enables them with the services they require.
//
// Warnings: compose-go logs its warnings through logrus's global logger.
// Load redirects that logger to Options.Warn, in docker compose's
// "WARN[0000] ..." format, for the duration of the load only, serializing
// loads and restoring the logger's output, formatter and level afterwards
// (see warn.go for the one, theoretical, leak).
package compose
