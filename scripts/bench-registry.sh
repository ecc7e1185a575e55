#!/usr/bin/env bash
# Pushes and pulls a generated 200 MB image through cirun's registry and
# through Debian's docker-registry package (distribution 2.8) side by side,
# both on loopback with temporary storage roots, and prints the medians.
#
#   scripts/bench-registry.sh
#   N=7 SIZE_MB=500 scripts/bench-registry.sh
#   REGISTRY_SERVE='bin/cirun registry serve --quiet --addr $ADDR --root $ROOT' scripts/bench-registry.sh
#
# Environment: N (rounds, default 5), SIZE_MB (default 200), LAYERS
# (default 4), REGISTRY_SERVE (cirun's server command, evaluated with $ADDR
# and $ROOT set; default registry/internal/regtool serve), PORT1/PORT2
# (default 5061/5062).
set -euo pipefail

cd "$(dirname "$0")/.."
N=${N:-5}
SIZE_MB=${SIZE_MB:-200}
LAYERS=${LAYERS:-4}
PORT1=${PORT1:-5061}
PORT2=${PORT2:-5062}
WORK=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v docker-registry >/dev/null; then
	echo "== installing Debian's docker-registry"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-registry >/dev/null
	# The package enables a service on :5000; this benchmark runs its own.
	if command -v systemctl >/dev/null && systemctl is-active -q docker-registry 2>/dev/null; then
		systemctl stop docker-registry
	elif [[ -x /etc/init.d/docker-registry ]]; then
		/etc/init.d/docker-registry stop >/dev/null 2>&1 || true
	fi
fi
echo "== docker-registry $(docker-registry --version 2>&1 | awk '{print $NF}')"

export GOFLAGS=${GOFLAGS:--buildvcs=false -tags=exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper,containers_image_openpgp}
echo "== building registry/internal/regtool"
go build -o "$WORK/regtool" ./registry/internal/regtool
"$WORK/regtool" gen -dir "$WORK/image" -size "$SIZE_MB" -layers "$LAYERS"

for port in "$PORT1" "$PORT2"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "bench-registry.sh: port $port is already in use; set PORT1/PORT2" >&2
		exit 2
	fi
done

# cirun's registry
REGISTRY_SERVE=${REGISTRY_SERVE:-"$WORK/regtool serve -quiet -addr \$ADDR -root \$ROOT"}
(
	export ADDR=127.0.0.1:$PORT1 ROOT=$WORK/root-cirun
	eval "exec $REGISTRY_SERVE"
) >"$WORK/cirun.log" 2>&1 &
pids+=($!)

# distribution 2.8, configured like cirun's: filesystem, delete enabled,
# in-memory descriptor cache, no access log.
cat >"$WORK/dist.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/root-dist
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$PORT2
  secret: bench
EOF
docker-registry serve "$WORK/dist.yml" >"$WORK/dist.log" 2>&1 &
pids+=($!)

for port in "$PORT1" "$PORT2"; do
	deadline=$((SECONDS + 30))
	until curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null; do
		if ((SECONDS > deadline)); then
			echo "bench-registry.sh: registry on port $port did not come up" >&2
			cat "$WORK/cirun.log" "$WORK/dist.log" >&2
			exit 2
		fi
		sleep 0.1
	done
done

echo "== $N rounds, $SIZE_MB MB in $LAYERS layers, $(nproc) CPUs, load $(cut -d" " -f1-3 /proc/loadavg)"
"$WORK/regtool" bench -layout "$WORK/image" -n "$N" \
	cirun="127.0.0.1:$PORT1" docker-registry-2.8="127.0.0.1:$PORT2"

# Server CPU time over the whole run (both did the same work): less sensitive
# to other load on the machine than wall-clock time.
tck=$(getconf CLK_TCK)
cpu() { awk -v t="$tck" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }
echo "server CPU seconds: cirun $(cpu "${pids[0]}"), docker-registry-2.8 $(cpu "${pids[1]}")"
