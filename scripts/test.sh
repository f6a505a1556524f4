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
# --split: the lazy routes (sign-in, admin screens) and a shipment's details become wasm
# chunks of their own.
cargo leptos build --split

echo; echo "==> Rust tests"
# Bounded: a test that waits on a wrongly paced quota would otherwise hang until CI's
# own limit, and say nothing. They take about 5 minutes on 2 cores, builds included.
if ! timeout 25m cargo test -p shipback -p shipback-app; then
  echo "Rust tests failed, or ran over 25 minutes (a test hangs): see above." >&2
  exit 1
fi

echo; echo "==> Fuzzing the station API (schemathesis, from its OpenAPI document)"
./scripts/fuzz-api.sh

echo; echo "==> Browser tests (Playwright, Chromium)"
(cd end2end && SHIPBACK_BIN=../target/debug/shipback npx playwright test)
