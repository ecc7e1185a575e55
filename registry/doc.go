// Package registry owns cirun's embedded OCI registry and the few client
// helpers the CLI needs around it.
//
// The server is distribution v3 (the CNCF "registry" project) embedded as an
// http.Handler on cirun's own listener, storing data on the local filesystem
// under Config.Root, with deletes enabled. It binds loopback by default and
// keeps cirun's output clean: distribution's own logging, which goes through
// the global logrus logger and reports every 404 as an error, is redirected to
// a private logger, and the server writes at most one line per request.
// distribution lacks the OCI 1.1 referrers API; referrers.go adds it, with
// the OCI-Subject header on manifest pushes.
//
// The client side (List, Remove) uses go-containerregistry; GC works offline
// on the storage root with distribution's mark-and-sweep.
package registry
