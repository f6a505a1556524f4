#!/usr/bin/env bash
# The first-load benchmark (docs/benchmarks.md): builds the release with its
# precompressed site files, starts the demo on ports 3200/3201 with a database of its
# own, and measures the shipments screen on an emulated mid-range tablet in Chromium
# (end2end/bench/first-load.spec.ts). Prints cold and warm figures; asserts no time.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/end2end/node_modules/.bin:$PATH"
cargo leptos build --release --split --precompress
cd end2end && npx playwright test -c first-load.config.ts
