//go:build !cirun_front

package main

import (
	"os"

	"github.com/cirun-dev/cirun/imagebuild/buildah"
)

func main() {
	// Buildah re-executes this binary for some steps; that must come first.
	if buildah.Reexec() {
		return
	}
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
