// Command cirun runs docker compose projects in CI on rootless Podman, with
// Buildah-library builds and an in-pod registry. main is a stub; the app in
// app.go turns flags into options and makes one library call per verb.
package main
