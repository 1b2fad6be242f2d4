# Edgeplay: `make serve`, `make test`, `make bench` are all a user needs.
# Every target installs what it needs, idempotently, so a fresh machine works.

SHELL := /bin/bash
CARGO ?= cargo
GUEST_DIR := guests/target/wasm32-wasip1/release
PORT ?= 8080
EXAMPLE ?= caching-proxy
TRUNK_VERSION := 0.21.14
# The wasm-bindgen CLI must match the library version Cargo.lock pins, exactly.
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"/\1/p}' Cargo.lock)
CARGO_BIN := $(HOME)/.cargo/bin
export PATH := $(CARGO_BIN):$(PATH)

.PHONY: setup tools browser guests examples dist test e2e bench serve local-server abi-coverage clean

## Rust targets: guests build for wasm32-wasip1; host-core proves no_std on wasm32v1-none;
## the playground builds for wasm32-unknown-unknown.
setup:
	@for t in wasm32-wasip1 wasm32v1-none wasm32-unknown-unknown; do \
		rustup target list --installed | grep -qx $$t || rustup target add $$t; done

## Trunk and the wasm-bindgen CLI, built once (15-30 minutes on a fresh machine).
tools: setup
	@trunk --version 2>/dev/null | grep -q "$(TRUNK_VERSION)" || cargo install --locked trunk@$(TRUNK_VERSION)
	@wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)" || cargo install wasm-bindgen-cli@$(WASM_BINDGEN_VERSION)

## The example guests (also the fixtures the tests run).
guests: setup
	cd guests && $(CARGO) build --release --locked

## Debian's Chromium for the end-to-end tests (playwright-core drives it; it downloads nothing).
browser:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)

## The examples the playground offers: each guest's module, its config, and the manifest.
examples: guests
	@mkdir -p static/examples
	@for dir in guests/*/; do name=$$(basename $$dir); \
		[ -f $(GUEST_DIR)/$$name.wasm ] || continue; \
		cp $(GUEST_DIR)/$$name.wasm static/examples/$$name.wasm; \
		cp $$dir/config.json static/examples/$$name.json; done
	@cp guests/examples.json static/examples/examples.json

## The playground as static files in dist/, for any web server.
dist: tools examples
	trunk build --release --offline

test: guests
	$(CARGO) build -p host-core --no-default-features --target wasm32v1-none --locked
	$(CARGO) test --workspace --exclude web-ui --lib --bins --tests --locked
	$(MAKE) e2e

## The built playground in headless Chromium.
e2e: dist browser
	$(CARGO) build -p edgeplay --locked
	cd e2e && npm ci --no-audit --no-fund && npm test

## Native figures, then the same guests in headless Chromium beside them (one run, ratios).
bench: dist browser
	$(CARGO) bench -p host-core --bench startup --locked
	cd e2e && npm ci --no-audit --no-fund && node bench.mjs

## The playground on http://127.0.0.1:$(PORT), an example loaded.
serve: tools examples
	trunk serve --release --offline --port $(PORT)

## A local Compute server running an example guest natively (EXAMPLE=hello, PORT=7676 …).
local-server: guests
	$(CARGO) run --release --locked -p edgeplay -- serve $(GUEST_DIR)/$(EXAMPLE).wasm \
		--config guests/$(EXAMPLE)/config.json --addr 127.0.0.1:$(PORT)

## Which Compute ABI imports the host implements.
abi-coverage:
	$(CARGO) run --locked -p edgeplay -- abi

clean:
	$(CARGO) clean
	cd guests && $(CARGO) clean
