#!/usr/bin/env bash
# Fuzzes the station API from its own OpenAPI document: schemathesis sends bodies the
# document allows and bodies it forbids to a real `shipback demo` (debug build, fresh
# database, ports 3120/3121), and fails on any 5xx answer and on any forbidden body
# the server accepts. Run by ./scripts/test.sh after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${SHIPBACK_BIN:-target/debug/shipback}"
DB="$(mktemp -d)/fuzz.db"
# The station's token: the fuzzing is of what a station sends, not of the sign-in.
TOKEN="$("$BIN" token create fuzz --scope ingest --database-url "sqlite://$DB" 2>/dev/null)"
"$BIN" demo --no-trickle --no-worker --database-url "sqlite://$DB" \
  --bind 127.0.0.1:3120 --emulator-bind 127.0.0.1:3121 --site-root target/site \
  > /dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf -o /dev/null http://127.0.0.1:3120/api/v1/openapi.json && break
  sleep 0.2
done
# The document as the station sees it: with an ingest token it lists the registered
# accounts (anonymous callers get it without them), so valid bodies name real ones.
SCHEMA="$(dirname "$DB")/openapi.json"
curl -sf -H "Authorization: Bearer $TOKEN" -o "$SCHEMA" http://127.0.0.1:3120/api/v1/openapi.json
python3 -m schemathesis.cli run "$SCHEMA" --url http://127.0.0.1:3120 \
  --checks not_a_server_error,negative_data_rejection \
  --header "Authorization: Bearer $TOKEN" \
  --mode all --max-examples 300 --generation-deterministic --no-color
