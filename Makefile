# Edgeplay: `make serve`, `make test`, `make bench` are all a user needs.
# Every target installs what it needs, idempotently, so a fresh machine works.

SHELL := /bin/bash
CARGO ?= cargo
GUEST_DIR := guests/target/wasm32-wasip1/release
# The JavaScript guests (Fastly's @fastly/js-compute SDK): guests/js/src/<name>.js is built to
# $(JS_GUEST_DIR)/<name>.wasm and offered as the example js-<name>.
JS_GUESTS := hello proxy kv-counter geo
JS_GUEST_DIR := guests/target/js
# Written after `npm ci`; inside node_modules so that deleting node_modules reinstalls too.
JS_DEPS := guests/js/node_modules/.installed
PORT ?= 8080
EXAMPLE ?= caching-proxy
TRUNK_VERSION := 0.21.14
# The wasm-bindgen CLI must match the library version Cargo.lock pins, exactly.
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"/\1/p}' Cargo.lock)
CARGO_BIN := $(HOME)/.cargo/bin
export PATH := $(CARGO_BIN):$(PATH)

.PHONY: setup tools browser node guests examples dist test e2e bench serve local-server abi-coverage clean

## Rust targets: guests build for wasm32-wasip1; host-core proves no_std on wasm32v1-none;
## the playground builds for wasm32-unknown-unknown.
setup:
	@for t in wasm32-wasip1 wasm32v1-none wasm32-unknown-unknown; do \
		rustup target list --installed | grep -qx $$t || rustup target add $$t; done

## Trunk and the wasm-bindgen CLI, built once (15-30 minutes on a fresh machine).
tools: setup
	@trunk --version 2>/dev/null | grep -q "$(TRUNK_VERSION)" || cargo install --locked trunk@$(TRUNK_VERSION)
	@wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)" || cargo install wasm-bindgen-cli@$(WASM_BINDGEN_VERSION)

## The example guests (also the fixtures the tests run): Rust, then JavaScript.
guests: setup $(JS_GUESTS:%=$(JS_GUEST_DIR)/%.wasm)
	cd guests && $(CARGO) build --release --locked

## Node.js and npm, for the JavaScript guests' build and the browser tests (Debian's packages).
node:
	@command -v npm >/dev/null || (apt-get update && apt-get install -y --no-install-recommends nodejs npm)

# The SDK and its build tools (esbuild, Wizer as an npm binary): everything installs from npm,
# and the build itself needs no network. Reinstalled only when package-lock.json changes.
# Not `npm ci`: the lock records only the platform packages the registry we locked against
# serves (its mirror lacks e.g. rolldown's darwin bindings), and npm 11's `ci` refuses a lock
# without every platform's entry. `install --no-save` installs the locked versions and never
# rewrites the lock.
$(JS_DEPS): guests/js/package.json guests/js/package-lock.json | node
	cd guests/js && npm install --no-save --no-audit --no-fund
	@touch $@

# The SDK's own CLI bundles the script and snapshots it into its prebuilt SpiderMonkey runtime.
$(JS_GUEST_DIR)/%.wasm: guests/js/src/%.js $(JS_DEPS)
	@mkdir -p $(JS_GUEST_DIR)
	cd guests/js && node_modules/.bin/js-compute-runtime src/$*.js ../target/js/$*.wasm

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
	@for name in $(JS_GUESTS); do \
		cp $(JS_GUEST_DIR)/$$name.wasm static/examples/js-$$name.wasm; \
		cp guests/js/$$name.config.json static/examples/js-$$name.json; done
	@cp guests/examples.json static/examples/examples.json

## The playground as static files in dist/, for any web server.
dist: tools examples
	trunk build --release --offline

test: guests
	$(CARGO) build -p host-core --no-default-features --target wasm32v1-none --locked
	$(CARGO) test --workspace --exclude web-ui --lib --bins --tests --locked
	$(MAKE) e2e

## The built playground in headless Chromium, the whole suite on each engine the page can
## choose: the browser's own (the default, through JSPI) and wasmi.
e2e: dist browser node
	$(CARGO) build -p edgeplay --locked
	cd e2e && npm ci --no-audit --no-fund && npm test && EDGEPLAY_ENGINE=wasmi npm test

## Native figures, then the same guests in headless Chromium beside them (one run, ratios).
bench: dist browser node
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
