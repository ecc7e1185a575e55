#!/usr/bin/env bash
# Runs the OCI distribution-spec conformance suite against cirun's registry.
#
# The suite (github.com/opencontainers/distribution-spec/conformance) is
# fetched through the Go module proxy, built, and pointed at a registry
# started on a loopback port with a temporary storage root.
#
#   scripts/conformance.sh                 # server: registry/internal/regtool serve
#   REGISTRY_SERVE='bin/cirun registry serve --addr $ADDR --root $ROOT' scripts/conformance.sh
#
# Environment:
#   CONFORMANCE_VERSION  module version (default: the pseudo-version below; the
#                        proxy serves no tagged conformance versions)
#   REGISTRY_SERVE       server command, evaluated with $ADDR and $ROOT set
#   PORT                 loopback port (default 5055)
#   RESULTS_DIR          where to copy results.yaml, junit.xml, report.html
#                        (default: a temporary directory, printed at the end)
#   OCI_*                passed through to the suite (see its README);
#                        OCI_DATA_SHA512 defaults to false here
# Exit status: the suite's (0 when every enabled test passed).
set -euo pipefail

cd "$(dirname "$0")/.."
VERSION=${CONFORMANCE_VERSION:-v0.0.0-20260831232431-97274622c111}
MODULE=github.com/opencontainers/distribution-spec/conformance
PORT=${PORT:-5055}
export ADDR=127.0.0.1:$PORT
WORK=$(mktemp -d)
export ROOT=$WORK/root
keep_work=${RESULTS_DIR:+no}
RESULTS_DIR=${RESULTS_DIR:-$WORK/results}
server_pid=
cleanup() {
	if [[ -n $server_pid ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [[ $keep_work == no ]]; then rm -rf "$WORK"; else rm -rf "$WORK/root" "$WORK/bin"; fi
}
trap cleanup EXIT

export GOFLAGS=${GOFLAGS:--buildvcs=false -tags=exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper,containers_image_openpgp}
mkdir -p "$WORK/bin"

echo "== fetching $MODULE@$VERSION from the Go module proxy"
dir=$(GOFLAGS=-mod=mod go mod download -json "$MODULE@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -d $dir ]] || { echo "conformance.sh: download failed" >&2; exit 2; }
(cd "$dir" && GOFLAGS=-buildvcs=false go build -ldflags "-X main.Version=$VERSION" -o "$WORK/bin/conformance" .)

if [[ -z ${REGISTRY_SERVE:-} ]]; then
	echo "== building registry/internal/regtool"
	go build -o "$WORK/bin/regtool" ./registry/internal/regtool
	REGISTRY_SERVE="$WORK/bin/regtool serve -quiet -addr \$ADDR -root \$ROOT"
fi

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
	echo "conformance.sh: port $PORT is already in use; set PORT" >&2
	exit 2
fi
echo "== starting: $REGISTRY_SERVE"
eval "exec $REGISTRY_SERVE" >"$WORK/server.log" 2>&1 &
server_pid=$!
deadline=$((SECONDS + 30))
until curl -fsS -o /dev/null "http://$ADDR/v2/" 2>/dev/null; do
	if ! kill -0 "$server_pid" 2>/dev/null || ((SECONDS > deadline)); then
		echo "conformance.sh: registry did not come up; its log:" >&2
		cat "$WORK/server.log" >&2
		exit 2
	fi
	sleep 0.1
done

echo "== running the conformance suite against $ADDR"
status=0
(
	cd "$WORK"
	export OCI_REGISTRY=$ADDR OCI_TLS=disabled
	export OCI_REPO1=${OCI_REPO1:-conformance/repo1} OCI_REPO2=${OCI_REPO2:-conformance/repo2}
	export OCI_RESULTS_DIR=$RESULTS_DIR
	# distribution v3 stores every blob under its sha256 digest and cannot
	# serve content by a sha512 digest (an optional algorithm in the image
	# spec): leave sha512 data out unless asked for (docs/registry.md).
	export OCI_DATA_SHA512=${OCI_DATA_SHA512:-false}
	# Cancelling an upload is optional in spec 1.1; the registry supports it.
	export OCI_API_BLOBS_UPLOAD_CANCEL=${OCI_API_BLOBS_UPLOAD_CANCEL:-true}
	"$WORK/bin/conformance"
) >"$WORK/conformance.out" 2>&1 || status=$?

# The report lists every test; show the summary and any failure.
sed -n '/^OCI Conformance Result/,$p' "$WORK/conformance.out"
grep -E ': (FAIL|Error)$' "$WORK/conformance.out" | head -40 || true
if grep -qiE 'panic|level=error' "$WORK/server.log"; then
	echo "== server log has errors:"
	grep -iE 'panic|level=error' "$WORK/server.log" | head -20
fi
mkdir -p "$RESULTS_DIR"
cp "$WORK/conformance.out" "$WORK/server.log" "$RESULTS_DIR/" 2>/dev/null || true
echo "== suite $MODULE@$VERSION, results in $RESULTS_DIR, exit status $status"
exit "$status"
