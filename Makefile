# Edgeplay: `make serve`, `make test`, `make bench` are all a user needs.
# Every target installs what it needs, idempotently, so a fresh machine works.

SHELL := /bin/bash
CARGO ?= cargo
GUEST_DIR := guests/target/wasm32-wasip1/release
PORT ?= 7676
EXAMPLE ?= caching-proxy

.PHONY: setup guests test bench serve abi-coverage clean

## Rust targets: guests build for wasm32-wasip1; host-core proves no_std on wasm32v1-none.
setup:
	@rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
	@rustup target list --installed | grep -qx wasm32v1-none || rustup target add wasm32v1-none

## The example guests (also the fixtures the tests run).
guests: setup
	cd guests && $(CARGO) build --release --locked

test: guests
	$(CARGO) build -p host-core --no-default-features --target wasm32v1-none --locked
	$(CARGO) test --workspace --lib --bins --tests --locked

bench: guests
	$(CARGO) bench -p host-core --bench startup --locked

## A local Compute server running an example guest (EXAMPLE=hello, PORT=8000 …).
serve: guests
	$(CARGO) run --release --locked -p edgeplay -- serve $(GUEST_DIR)/$(EXAMPLE).wasm \
		--config guests/$(EXAMPLE)/config.json --addr 127.0.0.1:$(PORT)

## Which Compute ABI imports the host implements.
abi-coverage:
	$(CARGO) run --locked -p edgeplay -- abi

clean:
	$(CARGO) clean
	cd guests && $(CARGO) clean
