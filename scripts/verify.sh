#!/usr/bin/env bash
# verify.sh — the cheap checks every commit must pass: gofmt, go vet,
# go mod tidy drift, and the import boundaries of STYLE.md (checked by
# internal/depcheck's test, run here on its own so a violation reads clearly).
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
unformatted=$(git ls-files -co --exclude-standard '*.go' | xargs -r gofmt -l)
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted" >&2; fail=1; fi
go vet ./... || fail=1
# the front binary (bin/cirun) is cmd/cirun built with the cirun_front tag
tags=$(sed -n 's/.*-tags=\([^ ]*\).*/\1/p' <<<"${GOFLAGS:-}")
go vet -tags="${tags:+$tags,}cirun_front" ./cmd/cirun || fail=1
cp go.mod /tmp/cirun-go.mod.$$; cp go.sum /tmp/cirun-go.sum.$$
go mod tidy
if ! diff -q go.mod /tmp/cirun-go.mod.$$ >/dev/null || ! diff -q go.sum /tmp/cirun-go.sum.$$ >/dev/null; then
  echo "go mod tidy changed go.mod/go.sum: commit the tidy result" >&2
  diff -u /tmp/cirun-go.mod.$$ go.mod >&2 || true
  fail=1
fi
rm -f /tmp/cirun-go.mod.$$ /tmp/cirun-go.sum.$$
go test -count=1 ./internal/depcheck/ || fail=1
exit $fail
