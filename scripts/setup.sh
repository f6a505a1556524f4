#!/usr/bin/env bash
# Installs what building and testing Shipback needs, and skips what is already there.
# Safe to run again. Versions are pinned: see ../shared/BUILD-NOTES.md for why.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130

step() { printf '\n==> %s\n' "$*"; }

export PATH="$HOME/.cargo/bin:$PWD/end2end/node_modules/.bin:$PATH"

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step "Adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  step "Installing cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes on 2 cores, once)"
  cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  step "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (must match the wasm-bindgen crate)"
  # Not --locked: its lockfile names a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# Chromium for the browser tests; the sqlite3 shell for the test that holds the
# database's write lock from another process (server/tests/integration/delivery.rs).
if [ ! -x /usr/bin/chromium ] || ! command -v sqlite3 >/dev/null; then
  step "Installing Chromium and the sqlite3 shell for the tests (Debian)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium sqlite3
fi

if [ ! -x end2end/node_modules/.bin/playwright ] || [ ! -x end2end/node_modules/.bin/wasm-opt ] \
   || [ end2end/package.json -nt end2end/node_modules/.package-lock.json ]; then
  step "Installing Playwright and wasm-opt (npm)"
  # Playwright drives Debian's Chromium: never download a browser of its own.
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

SCHEMATHESIS_VERSION=4.32.5
if ! python3 -m schemathesis.cli --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  step "Installing schemathesis $SCHEMATHESIS_VERSION (PyPI), which fuzzes the station API"
  python3 -m pip install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
