// Package imagebuild defines the image-build boundary: a Builder turns a
// compose `build:` section (a Request) into a local image. The Buildah-library
// implementation lives in imagebuild/buildah; the orchestration core only sees
// this package, so it builds without cgo or Buildah.
package imagebuild
