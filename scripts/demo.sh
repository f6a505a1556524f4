#!/usr/bin/env bash
# Installs what is missing, builds the release, and runs the demo: a SQLite file under
# ./data/, seeded demo data, the marketplace emulator, the worker and the dashboard.
#   ./scripts/demo.sh            dashboard on http://127.0.0.1:3000
# Extra arguments go to `shipback demo` (see `target/release/shipback demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/end2end/node_modules/.bin:$PATH"

echo; echo "==> Building (release; the first build takes about 5 minutes on 2 cores)"
# --split: the lazy routes (sign-in, admin screens) become wasm chunks of their own.
# --precompress: a Brotli and a gzip copy beside each file, which the server sends.
cargo leptos build --release --split --precompress

echo; echo "==> Starting the demo"
exec ./target/release/shipback demo --site-root target/site "$@"
