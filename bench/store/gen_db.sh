#!/bin/bash
# bench/store/gen_db.sh DB N - fills DB (a database revokd has created and
# migrated: start it once on an empty data dir) with N revocations in
# revokd's own schema, as bench/store/scale.sh and bench/store/stop.sh use:
# per-source rows in `revocations` and, with VERSIONS=1 (the default), one
# `versions` row per contribution as a cluster replica writes them; the
# SQL through bench/store/kh_sql.py (the key hash column), 1,000,000 rows per transaction, at nice 10; mix 80% token,
# 10% session, 5% subject, 5% key, every one live for a day. At most an hour.
# IDS=uuid: every ID a random UUID, inserted in random order, as identity
# providers send them (the key index then has the fill and the size that
# intake into it meets; the default IDs, id-<counter>-<hash>, are inserted in
# key order and pack the index densely, which flatters intake into the file:
# docs/BENCHMARKS.md, "Fewer system calls per WAL frame").
set -eu
DB=$1
N=$2
VERSIONS=${VERSIONS:-1}
case ${IDS:-counter} in
uuid) ID="lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(6)))" ;;
counter) ID="printf('id-%09d-%08x', x, (x * 2654435761) % 4294967296)" ;;
*) echo "gen_db.sh: IDS is uuid or counter" >&2; exit 2 ;;
esac
now=$(date +%s)
{
echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;"
step=1000000
for ((lo = 1; lo <= N; lo += step)); do
	hi=$((lo + step - 1)); [ "$hi" -gt "$N" ] && hi=$N
	cat <<SQL
BEGIN;
WITH RECURSIVE c(x) AS (SELECT $lo UNION ALL SELECT x + 1 FROM c WHERE x < $hi),
r AS MATERIALIZED (SELECT x, $ID AS id FROM c)
INSERT INTO revocations (type, iss, id, revoked_at, expires_at, reason, source, origin, kh)
SELECT t, 'https://bench.test', id,
       $now - (x % 3600),
       CASE WHEN x % 20 = 19 THEN NULL ELSE $now + 86400 - (x % 3600) END,
       CASE WHEN x % 10 = 0 THEN 'bulk' ELSE NULL END, 'admin', NULL,
       rvk_kh(t, 'https://bench.test', id)
FROM (SELECT x, id, CASE WHEN x % 20 < 16 THEN 0 WHEN x % 20 < 18 THEN 1
                         WHEN x % 20 = 18 THEN 2 ELSE 4 END AS t FROM r);
SQL
	if [ "$VERSIONS" = 1 ]; then
		# the rows just written (a new table's rowids are 1..N)
		cat <<SQL
INSERT INTO versions (type, iss, id, source, version, node, deleted, kh)
SELECT type, iss, id, source, (revoked_at * 1000) * 65536 + (rowid % 65536),
       'f3b2c1d0e9a8b7c6', 0, kh
FROM revocations WHERE rowid BETWEEN $lo AND $hi;
SQL
	fi
	echo "COMMIT;"
done
echo "PRAGMA wal_checkpoint(TRUNCATE);"
} | timeout 3600 nice -n 10 python3 "$(dirname "$0")/kh_sql.py" "$DB"
