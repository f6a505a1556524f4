#!/usr/bin/env bash
# The retention benchmark (docs/benchmarks.md#retention): SHIPMENTS (200,000) made by
# `shipback generate` in a SQLite database of its own, their last change set to their
# ship date (spread over 180 days), then `shipback prune --keep-shipments 90d` while a
# second writer makes one small write transaction every 10 ms, as a worker's claims and
# results would. Prints prune's batch times and what the writer waited.
#
#     ./scripts/bench-retention.sh [SHIPMENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
shipments="${1:-200000}"
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release -p shipback --bin shipback
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
db="$dir/shipback.db"
url="sqlite://$db"
./target/release/shipback keys generate --out "$dir/secret.key" >/dev/null
export SHIPBACK_SECRET_KEY_FILE="$dir/secret.key" SHIPBACK_LOG=warn
./target/release/shipback generate --database-url "$url" --shipments "$shipments"
sqlite3 "$db" "UPDATE shipments SET updated_at = ship_date"

python3 - "$db" > "$dir/writer.txt" <<'PY' &
import sqlite3, sys, time, os
db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
times = []
# Until prune is done (the file below appears), one small write every 10 ms.
while not os.path.exists(sys.argv[1] + ".pruned"):
    started = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.execute("UPDATE change_counters SET n = n WHERE topic = 'shipments'")
    db.execute("COMMIT")
    times.append((time.perf_counter() - started) * 1000)
    time.sleep(0.01)
times.sort()
at = lambda share: times[min(len(times) - 1, int(len(times) * share))]
print(f"a writer beside prune: {len(times)} transactions, p50 {at(0.5):.1f} ms, "
      f"p99 {at(0.99):.1f} ms, p99.9 {at(0.999):.1f} ms, longest {times[-1]:.1f} ms")
PY
writer=$!
./target/release/shipback prune --database-url "$url" --keep-shipments 90d
touch "$db.pruned"
wait "$writer"
cat "$dir/writer.txt"
sqlite3 "$db" "SELECT 'counters exact: ' || (SELECT COUNT(*) = 0 FROM (
  SELECT status, COUNT(*) AS n FROM shipments GROUP BY status
  EXCEPT SELECT status, SUM(n) FROM shipment_counts_by_block GROUP BY status HAVING SUM(n) > 0))"
