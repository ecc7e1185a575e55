# cirun — see README.md. Every target is one line; `make help` lists them.
SHELL := /bin/bash
GO ?= go
# urfave_cli_no_docs drops urfave/cli's man/markdown generators (unused), and
# with them blackfriday's and md2man's package init on every command.
TAGS := exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper,containers_image_openpgp,urfave_cli_no_docs
export GOFLAGS := -buildvcs=false -tags=$(TAGS)
export CGO_ENABLED := 1
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: help setup build unit e2e test verify demo bench conformance clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'
setup: ## install packages and build the local images (idempotent, root)
	scripts/setup.sh
build: ## build bin/cirun (the front: config, ps, ls, version) and bin/cirun-full (everything; the front execs it)
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/cirun-full ./cmd/cirun
	$(GO) build -tags=$(TAGS),cirun_front -ldflags "-X main.version=$(VERSION)" -o bin/cirun ./cmd/cirun
unit: ## unit and integration tests of every package (real podman/buildah where present)
	$(GO) test -count=1 ./...
e2e: build ## end-to-end tests: bin/cirun against real Podman, MariaDB and Buildah
	$(GO) test -count=1 -tags=$(TAGS),e2e -timeout 30m -v ./e2e/ 2>&1 | scripts/gotest-summary
verify: ## gofmt, go vet, go mod tidy drift, import boundaries
	scripts/verify.sh
test: setup build verify unit e2e ## everything CI runs (set-up included)
demo: setup build ## run `cirun test` on the bundled example stack
	bin/cirun -f fixtures/example/compose.yaml test
bench: setup build ## benchmarks vs podman-compose, raw podman and the buildah CLI, side by side
	scripts/bench && scripts/bench-build
conformance: build ## OCI distribution-spec conformance of `cirun registry serve`
	REGISTRY_SERVE='bin/cirun registry serve --quiet --addr $$ADDR --root $$ROOT' scripts/conformance.sh
clean: ## remove build output
	rm -rf bin dist
