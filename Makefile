# PMR has two entry points:
#   make run   builds the app (release) and serves it on http://127.0.0.1:3000 (PMR_ADDR overrides)
#   make test  fmt, clippy, every unit and integration test, and the Playwright suite in Chromium
#   make bench every benchmark, written to BENCHMARKS.md (make bench-quick: the short version)
# Both install what is missing first (the wasm32 target and rust-src, cargo-leptos, wasm-bindgen-cli, wasm-opt,
# Debian packages, npm packages) and are safe to run again.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

CARGO_LEPTOS_VERSION := 0.3.10
# The CLI must match the `wasm-bindgen` crate pinned in Cargo.toml exactly.
WASM_BINDGEN_VERSION := $(shell sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
# Debian packages the test suite needs: real servers for the harness and a browser for Playwright.
TEST_PACKAGES := redis-server postgresql chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

export PATH := $(HOME)/.cargo/bin:$(CURDIR)/tools/node_modules/.bin:$(PATH)
export PMR_ADDR ?= 127.0.0.1:3000

WASM_OPT := tools/node_modules/.bin/wasm-opt
E2E_MODULES := end2end/node_modules/.package-lock.json
BENCH_MODULES := bench/node_modules/.package-lock.json

.PHONY: run test bench bench-quick tools rust-tools test-packages build fmt clippy unit e2e clean

## run: build the release app and serve it (SQLite under ./data, in-process cache, no Redis)
run: tools build
	@echo "PMR: serving http://$(PMR_ADDR) (data in ./data; Ctrl-C stops)"
	@echo "First start only: the 'admin' password (and the demo accounts' 'vera'/'eddie') is printed once"
	@echo "in the log below: look for 'created the admin account'. Set PMR_ADMIN_PASSWORD to choose it."
	PMR_SITE_ROOT=target/site ./target/release/server

## test: every check; any failure exits non-zero
test: tools test-packages $(E2E_MODULES) fmt clippy unit e2e
	@echo "make test: fmt, clippy, unit/integration and end-to-end suites all passed"

# The browser bundle is built for size (BENCHMARKS.md has the figures). Besides the `wasm-release`
# profile and the lazy chunks of `--split`, a panic in the browser aborts at once
# (`-Cpanic=immediate-abort`: no panic message formatting is compiled in), and the standard library is
# compiled for that, optimised for size (`-Zbuild-std`, `optimize_for_size`). Panic locations
# (`-Zlocation-detail=none`) and `{:?}` formatting (`-Zfmt-debug=none`: it prints nothing) are left
# out too; nothing the browser shows or sends is written with `{:?}` (a network failure's message is
# the app's own, `app::error`), only the console's diagnostics lose that detail.
# These flags are unstable: RUSTC_BOOTSTRAP lets the pinned stable toolchain accept them, for this
# build only (the tests and clippy run without it). The standard library's source is `rust-src`.
# `--cfg erase_components` repeats `.cargo/config.toml`'s flag, which this variable replaces for the
# browser build: the server and the browser must both have type-erased components.
WASM_RUSTFLAGS := --cfg erase_components -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none
WASM_CARGO_ARGS := --lib-cargo-args=-Zbuild-std=std,panic_abort --lib-cargo-args=-Zbuild-std-features=optimize_for_size

# `hash-files` (Cargo.toml) names the files by their content, and `--precompress` writes a brotli
# (quality 11) and a gzip copy beside every file of the site, which the server sends to browsers that
# accept them.
build: tools
	RUSTC_BOOTSTRAP=1 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$(WASM_RUSTFLAGS)" \
		cargo leptos build --release --split --precompress $(WASM_CARGO_ARGS)

tools: rust-tools $(WASM_OPT)

rust-tools:
	@command -v rustup >/dev/null || { echo "rustup is required (https://rustup.rs)"; exit 1; }
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy
	@rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src
	@cargo leptos --version 2>/dev/null | grep -qx 'cargo-leptos $(CARGO_LEPTOS_VERSION)' \
		|| cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked --features no_downloads
	@wasm-bindgen --version 2>/dev/null | grep -qx 'wasm-bindgen $(WASM_BINDGEN_VERSION)' \
		|| cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --locked

# wasm-opt from npm's binaryen, pinned in tools/package-lock.json.
$(WASM_OPT): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund
	touch $@

$(E2E_MODULES): end2end/package.json end2end/package-lock.json
	cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	touch $@

# Lighthouse and puppeteer-core for `make bench`, pinned in bench/package-lock.json (they drive
# Debian's Chromium; nothing is downloaded at run time).
$(BENCH_MODULES): bench/package.json bench/package-lock.json
	cd bench && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund
	touch $@

test-packages:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v ss >/dev/null || missing="$$missing iproute2"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

fmt:
	cargo fmt --all --check

# Host targets with `ssr`, then the browser crate and the app's `hydrate` code on wasm32.
clippy:
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p frontend -p app --target wasm32-unknown-unknown -- -D warnings

# Built first, then run under a time limit: a test that hangs fails the run in minutes with its name
# printed, instead of running into CI's own limit.
unit:
	cargo test --workspace --no-run
	timeout 1200 cargo test --workspace

# The release build `make run` serves, on a free port with a fresh database; beside it, two more
# instances of it sharing another fresh database and a Redis, for the tests that cross instances.
e2e: build $(E2E_MODULES)
	read -r port a b redis <<< "$$(node tools/free-ports.js 4)"; cd end2end && \
		PMR_E2E_PORT=$$port PMR_E2E_PORT_A=$$a PMR_E2E_PORT_B=$$b PMR_E2E_REDIS_PORT=$$redis \
		PMR_E2E_SERVER=../target/release/server npx playwright test

## bench: every benchmark, then BENCHMARKS.md from their figures (bench-quick: shorter runs, ~3 min
## of measuring once built). Criterion for the in-process code, `loadgen` for real clients against release servers.
# The pages (`bench/pages.mjs`) run first, before any load generator: Lighthouse's simulation multiplies
# what this CPU did by four, so it reads the machine's state too (its benchmark index is in BENCHMARKS.md).
BENCH_DIR := $(CURDIR)/target/bench
bench: BENCH_QUICK :=
bench: CRITERION_ARGS :=
bench-quick: BENCH_QUICK := --quick
bench-quick: CRITERION_ARGS := --warm-up-time 1 --measurement-time 2 --sample-size 10
bench-quick: export PMR_BENCH_SECS := 1
bench-quick: export PMR_BENCH_POSTGRES := 0
# loadgen is built in `build`'s environment (RUSTC_BOOTSTRAP=1): anyhow's and thiserror's build scripts
# read that variable, so without it the dependencies loadgen shares with the server are rebuilt here,
# and the server's again at the next `make build`.
bench bench-quick: tools test-packages build $(BENCH_MODULES)
	rm -rf $(BENCH_DIR) target/criterion && mkdir -p $(BENCH_DIR)
	# `cargo bench` builds the server's binary too, with the `bench` profile (no LTO), into the same
	# target/release/server: the pages and the load tools measure a copy of the release build (and
	# its hash.txt, which names the site's files), as `make build` made it.
	cp target/release/server target/release/hash.txt $(BENCH_DIR)/
	RUSTC_BOOTSTRAP=1 cargo build --release -p loadgen
	node tools/wasm-size.js target/site/pkg > $(BENCH_DIR)/wasm.json
	WASM_RUSTFLAGS="$(WASM_RUSTFLAGS)" bench/framework-floor/build.sh $(BENCH_DIR)/framework-floor.json
	node tools/wasm-profile.js target/front/wasm32-unknown-unknown/wasm-release/frontend_split.wasm \
		> $(BENCH_DIR)/wasm-profile.json
	node bench/pages.mjs $(BENCH_DIR)/server target/site $(BENCH_DIR)/pages.json $(BENCH_QUICK)
	PMR_BENCH_DIR=$(BENCH_DIR) cargo bench -p server --bench monte_carlo --bench report_generation \
		--bench monitor --bench cached_reads -- $(CRITERION_ARGS)
	PMR_BENCH_DIR=$(BENCH_DIR) cargo bench -p server --bench schedule_import
	./target/release/loadgen http $(BENCH_QUICK) --server $(BENCH_DIR)/server --json $(BENCH_DIR)/http.json
	./target/release/loadgen ws $(BENCH_QUICK) --server $(BENCH_DIR)/server --json $(BENCH_DIR)/ws.json
	./target/release/loadgen report $(BENCH_QUICK) --dir $(BENCH_DIR) --out BENCHMARKS.md

clean:
	cargo clean
	rm -rf end2end/node_modules tools/node_modules bench/node_modules end2end/.cache
