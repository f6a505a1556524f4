-- Room in each page of shipments for a claim's new row versions. A claim changes only
-- lease, fence and outcome_unknown, which no index holds, so PostgreSQL can write the
-- new version beside the old one without touching the table's indexes (a heap-only
-- update), but only where the page has room. Packed full by ingest, every claim wrote
-- each row into every index: 106-124 ms for a claim of 2,000 rows, against 36 ms with
-- half of each page free (docs/benchmarks.md, "Write-back throughput"). A claim takes
-- neighbouring rows, a page's worth at once, so a page needs room for all of them.
-- Pages written from now on keep half free; a table migrated earlier gets the room as
-- its pages are rewritten (VACUUM FULL, in a quiet hour).
ALTER TABLE shipments SET (fillfactor = 50);
