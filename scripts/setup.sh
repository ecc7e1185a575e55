#!/usr/bin/env bash
# setup.sh — prepare a fresh Debian/Ubuntu machine (as root) for cirun.
#
# Idempotent; every step is skipped when its result already exists.
#   1. distribution packages: podman and its runtime/network stack, buildah,
#      debootstrap, busybox-static, podman-compose (benchmark peer) ...
#   2. images, built locally from Debian packages (no registry is reachable):
#        localhost/debian:bookworm        debootstrap --variant=minbase
#        localhost/mariadb:test           mariadb-server on top of it
#        localhost/cirun/busybox:latest   busybox-static in a scratch image,
#                                         also tagged busybox/alpine when free
#
# Usage: scripts/setup.sh [packages|images|all]   (default: all)
set -euo pipefail

step=${1:-all}
log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and builds images in root's podman storage)"

PKGS=(podman buildah runc skopeo uidmap slirp4netns fuse-overlayfs netavark aardvark-dns iptables
      catatonit debootstrap busybox-static podman-compose docker-registry
      gcc libc6-dev make git curl ca-certificates python3 python3-yaml perl)

packages() {
  local missing=() p
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then log "packages: all present"; return; fi
  log "packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # docker-registry's package starts a daemon on :5000; cirun's tests start their own.
  if command -v systemctl >/dev/null && systemctl is-active -q docker-registry 2>/dev/null; then
    systemctl stop docker-registry || true
  fi
}

have() { podman image exists "$1" 2>/dev/null; }

img_debian() {
  if have localhost/debian:bookworm; then log "image localhost/debian:bookworm: present"; return; fi
  log "image localhost/debian:bookworm: debootstrap (about 30 s)"
  local dir; dir=$(mktemp -d)
  if ! debootstrap --variant=minbase bookworm "$dir/rootfs" >"$dir/debootstrap.log" 2>&1; then
    tail -n 20 "$dir/debootstrap.log" >&2; rm -rf "$dir"; die "debootstrap failed"
  fi
  tar -C "$dir/rootfs" -c . | podman import -q - localhost/debian:bookworm >/dev/null
  rm -rf "$dir"
}

img_mariadb() {
  if have localhost/mariadb:test; then log "image localhost/mariadb:test: present"; return; fi
  log "image localhost/mariadb:test: apt-get install mariadb-server (about 30 s)"
  local dir; dir=$(mktemp -d)
  cat >"$dir/Containerfile" <<'CF'
FROM localhost/debian:bookworm
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >/dev/null && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
EXPOSE 3306
CMD ["mariadbd","--user=mysql","--bind-address=0.0.0.0","--skip-grant-tables"]
CF
  podman build -q --format docker -t localhost/mariadb:test "$dir" >/dev/null
  rm -rf "$dir"
}

img_busybox() {
  local ref=localhost/cirun/busybox:latest
  if ! have "$ref"; then
    log "image $ref: from busybox-static"
    local dir; dir=$(mktemp -d)
    local r=$dir/rootfs
    mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,proc,sys,dev,run,var/tmp}
    chmod 1777 "$r/tmp" "$r/var/tmp"
    install -m 0755 /bin/busybox "$r/bin/busybox"
    local path name d
    while read -r path; do
      name=${path##*/}
      [ -z "$name" ] || [ "$name" = busybox ] && continue
      for d in bin usr/bin; do [ -e "$r/$d/$name" ] || ln -s /bin/busybox "$r/$d/$name"; done
    done < <(/bin/busybox --list-full)
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
    printf 'hosts: files dns\n' >"$r/etc/nsswitch.conf"
    printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nCMD ["/bin/sh"]\n' >"$dir/Containerfile"
    podman build -q --format docker -t "$ref" "$dir" >/dev/null
    rm -rf "$dir"
  else
    log "image $ref: present"
  fi
  # Common names, only where nothing else (e.g. the corpus' own stand-ins) holds them.
  local t
  for t in localhost/busybox:latest docker.io/library/busybox:latest \
           localhost/alpine:latest docker.io/library/alpine:latest; do
    have "$t" || podman tag "$ref" "$t"
  done
}

images() {
  command -v podman >/dev/null || die "podman missing: run '$0 packages' first"
  img_debian
  img_mariadb
  img_busybox
}

case $step in
  packages) packages ;;
  images) images ;;
  all) packages; images ;;
  *) die "usage: $0 [packages|images|all]" ;;
esac
log "done"
