// Command buildbench builds one context with the in-process builder and
// prints how long each phase took. It exists to compare the builder with
// `buildah bud` by hand (see docs/notes-buildah.md); it is not shipped.
//
//	go build -o /tmp/buildbench ./imagebuild/buildah/internal/buildbench
//	/tmp/buildbench -t localhost/bench:1 /path/to/context
package main
