#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests (real SQLite files, the emulator on
# ephemeral ports, a real worker process killed with SIGKILL), the same integration
# tests again on PostgreSQL when a server answers, and the Playwright tests in Chromium
# against the running product. Compiles once, in the debug profile.
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

echo; echo "==> The integration tests again, on PostgreSQL"
# Each test makes a database of its own on this server and drops it.
export SHIPBACK_TEST_POSTGRES_URL="${SHIPBACK_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
postgres_answers() {
  if command -v psql >/dev/null; then
    psql "$SHIPBACK_TEST_POSTGRES_URL" -qAtc 'SELECT 1' >/dev/null 2>&1
  else
    local rest="${SHIPBACK_TEST_POSTGRES_URL#*://}"; rest="${rest#*@}"; rest="${rest%%/*}"
    timeout 3 bash -c "</dev/tcp/${rest%%:*}/${rest##*:}" 2>/dev/null
  fi
}
if postgres_answers; then
  if ! SHIPBACK_TEST_DATABASE=postgres timeout 25m cargo test -p shipback --test integration; then
    echo "The integration tests failed on PostgreSQL, or ran over 25 minutes: see above." >&2
    exit 1
  fi
elif [ "${SHIPBACK_REQUIRE_POSTGRES:-0}" = 1 ]; then
  echo "PostgreSQL does not answer at $SHIPBACK_TEST_POSTGRES_URL, and this run requires it." >&2
  exit 1
else
  echo "SKIPPED: no PostgreSQL answers at $SHIPBACK_TEST_POSTGRES_URL; the integration tests ran on SQLite only."
  echo "         Set SHIPBACK_TEST_POSTGRES_URL to a server where the user may create databases."
fi

echo; echo "==> Fuzzing the station API (schemathesis, from its OpenAPI document)"
./scripts/fuzz-api.sh

echo; echo "==> Browser tests (Playwright, Chromium)"
(cd end2end && SHIPBACK_BIN=../target/debug/shipback npx playwright test)
