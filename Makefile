# The two commands in the README: `make run` and `make test`. Both install what is missing.
SHELL := /bin/bash
PORT ?= 8080

.PHONY: run test web setup-web setup-test test-rust test-desktop test-e2e bench help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

run: web ## build the PWA and start the ward server on http://127.0.0.1:8080 (data in ward-data/)
	cargo run -p patrol-server --bin ward-server -- --data ward-data serve --addr 127.0.0.1:$(PORT) --dist dist --demo

test: setup-test test-rust test-desktop web test-e2e ## every test: unit, property, store, desktop build, browser

setup-web:
	@tools/setup.sh web

setup-test:
	@tools/setup.sh test

web: setup-web ## build the PWA into dist/
	@tools/build_web.sh

test-rust: setup-test ## formatting, lints of every crate, unit, property, store and server tests
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace

test-desktop: setup-test ## the desktop app builds and passes its lints; the screens' and the platform glue's own unit tests (every screen is in it)
	cargo build --features desktop --bin patrol-desktop
	cargo clippy -p patrol --all-targets --features desktop -- -D warnings
	cargo test --features desktop --lib -- ui:: platform::

test-e2e: ## the full shift in headless Chromium, offline (served by the ward server)
	cargo build -p patrol-server --bin ward-server
	node --test --test-concurrency=1 tests/e2e/

bench: web setup-test ## save latency (native and browser), bundle size, push throughput, 3 minutes of 50 and 200 phones pushing, a new phone's download, a district's yearly report
	cargo bench --bench save_observation
	cargo bench --bench push_throughput
	cargo bench --bench push_sustained
	cargo bench --bench feed_bytes
	cargo bench --bench report
	node tests/e2e/bench.mjs
