package buildah

// Builds mount overlay layers under the store's overlay directory. Any
// containers-storage process (Podman 4.x CLI runs included) that finds no
// layer mounted in its view of the shared store lazily unmounts that
// directory's bind mount on exit (overlay Cleanup, MNT_DETACH) and the next
// one binds it again without submounts: a build that has a layer mounted at
// that moment loses its root filesystem ("exec: /bin/sh: no such file or
// directory", 1 to 9 builds in 30 here while `podman run --rm` ran in a loop).
// So, before the Go runtime starts any thread, a root process linking this
// package moves into a private mount namespace: its build mounts are
// invisible to (and safe from) other processes, vanish when it exits, and
// its own store shutdown cannot unmount anything of Podman's. Image and
// layer data are on disk and shared as before. Children (buildah's re-exec
// helpers, runc) inherit the namespace; _CIRUN_MOUNT_NS in their environment
// keeps them from unsharing again.
// CIRUN_SHARED_MOUNT_NS=1 turns this off.

/*
#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>
#include <fcntl.h>

static int cirun_mount_ns_private;
static int cirun_host_mntns_fd = -1;

__attribute__((constructor)) static void cirun_private_mount_ns(void) {
	if (geteuid() != 0 || getenv("_CIRUN_MOUNT_NS") != NULL || getenv("CIRUN_SHARED_MOUNT_NS") != NULL) {
		return;
	}
	// Keep a handle on the host's mount namespace: processes that must live
	// there (cirun's own Podman service, whose network namespaces and
	// container mounts the host's podman CLI has to see) are started in it.
	cirun_host_mntns_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (unshare(CLONE_NEWNS) != 0) {
		return;
	}
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		return;
	}
	cirun_mount_ns_private = 1;
}

static int cirun_private_mount_ns_done(void) { return cirun_mount_ns_private; }
static int cirun_host_mntns(void) { return cirun_host_mntns_fd; }
*/
import "C"

import (
	"os"
	"strconv"
)

// privateMountNS is set when this process (or the cirun process that
// started it) moved into a private mount namespace.
var privateMountNS = C.cirun_private_mount_ns_done() != 0 || os.Getenv("_CIRUN_MOUNT_NS") != ""

func init() {
	if C.cirun_private_mount_ns_done() != 0 {
		// The Go runtime keeps its own copy of the environment, so the
		// marker for child processes is set here, not in the constructor.
		os.Setenv("_CIRUN_MOUNT_NS", "1")
		// engine/podman starts cirun's own Podman service through
		// `nsenter --mount` on this descriptor (see HostMountNSEnv).
		if fd := C.cirun_host_mntns(); fd >= 0 {
			os.Setenv(HostMountNSEnv, strconv.Itoa(int(fd)))
		}
	}
}

// HostMountNSEnv names the environment variable holding the number of a
// descriptor (close-on-exec) of the host's mount namespace, set when this
// process moved into a private one.
const HostMountNSEnv = "_CIRUN_HOST_MNTNS_FD"

// PrivateMountNamespace reports whether this process runs its builds in a
// private mount namespace (see mountns_linux.go).
func PrivateMountNamespace() bool { return privateMountNS }
