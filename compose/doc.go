// Package compose loads compose files with compose-go v2, following docker
// compose's rules (file discovery, overrides, -p/COMPOSE_PROJECT_NAME,
// profiles, .env and --env-file, interpolation), and rejects keys cirun does
// not implement with an error naming the file, the service and the key.
package compose
