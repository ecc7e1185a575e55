# cirun — see README.md. Every target is one line; `make help` lists them.
SHELL := /bin/bash
GO ?= go
TAGS := exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper,containers_image_openpgp
export GOFLAGS := -buildvcs=false -tags=$(TAGS)
export CGO_ENABLED := 1

.PHONY: help build setup test unit e2e verify demo bench conformance clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'
build: ## build bin/cirun
	$(GO) build -o bin/cirun ./cmd/cirun
