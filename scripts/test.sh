#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests (real SQLite files, the emulator on
# ephemeral ports, a real worker process killed with SIGKILL) and the Playwright tests in
# Chromium against the running product. Compiles once, in the debug profile.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/end2end/node_modules/.bin:$PATH"
# A single run gains nothing from incremental caches, and they cost gigabytes of disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
echo "Free disk: $(df -h . | awk 'NR==2 {print $4}')"

echo; echo "==> Formatting and lints"
cargo fmt --all --check
cargo clippy -p shipback -p shipback-app --all-targets -- -D warnings

echo; echo "==> Building the dashboard (wasm) and the server"
# --split: the lazy routes (sign-in, admin screens) become wasm chunks of their own.
cargo leptos build --split

echo; echo "==> Rust tests"
cargo test -p shipback -p shipback-app

echo; echo "==> Fuzzing the station API (schemathesis, from its OpenAPI document)"
./scripts/fuzz-api.sh

echo; echo "==> Browser tests (Playwright, Chromium)"
(cd end2end && SHIPBACK_BIN=../target/debug/shipback npx playwright test)
