#!/usr/bin/env bash
# Peer side of the backup benchmark: the same vectors Ark backs up, loaded into
# PostgreSQL 15 as real[] and backed up / restored with pgBackRest, the stack a
# user would otherwise run (issue 6).
#
#   bench/pgbackrest_bench.sh VECTORS_FILE [WORKDIR]
#
# VECTORS_FILE holds one row per line in COPY text format: `<id>\t{f1,f2,...}`.
# WORKDIR (default: a new directory under /tmp) must be missing or empty; it
# holds the cluster, the restored cluster, the pgBackRest repository and logs,
# and is removed at exit unless KEEP=1. The server's unix socket lives there,
# so its path must stay short (< 90 characters).
#
# Environment: PGBR_COMPRESS=zst|none|... (pgBackRest compress-type, default
# zst), PGBIN (default /usr/lib/postgresql/15/bin), KEEP=1.
#
# Prints one JSON object on stdout; progress goes to stderr. As root, the
# server and all clients run as the `postgres` user (PostgreSQL refuses root).
#
# What is timed, and what is not:
#   load_seconds       psql \copy of the whole file (archiving already on).
#   full_seconds       `pgbackrest backup --type=full` (start-fast, process-max=2).
#   incr_seconds       `pgbackrest backup --type=incr` after 1% of rows changed.
#   restore_seconds    `pgbackrest restore` into a new, empty data directory.
#   restore_to_first_query_seconds
#                      start of the restore until a query on the restored
#                      server returns a vector equal to the input file's.
#                      Hot standby is on (PostgreSQL's default), so this may
#                      be answered while WAL is still being replayed.
#   restore_to_read_write_seconds
#                      start of the restore until the server leaves recovery
#                      and accepts a write (default recovery replays the whole
#                      WAL archive, then promotes).
set -euo pipefail

usage() { echo "usage: $0 VECTORS_FILE [WORKDIR]" >&2; exit 2; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
VECTORS=$1
if [ ! -r "$VECTORS" ] || [ ! -s "$VECTORS" ]; then
  echo "error: vectors file '$VECTORS' is missing, unreadable or empty" >&2; exit 2
fi
VECTORS=$(cd "$(dirname "$VECTORS")" && pwd)/$(basename "$VECTORS")

BENCH_NAME=pgbackrest_bench
WORKDIR_ARG=${2:-}
# shellcheck source=bench/pgbackrest_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/pgbackrest_lib.sh"

# --- the input: rows, dimension, and two probe values read back after restore
ROWS=$(wc -l < "$VECTORS")
DIM=$(head -n 1 "$VECTORS" | awk -F'\t' '{ print gsub(/,/, ",", $2) + 1 }')
# The probe row must not be one the 1% update below changes (id % 100 = 0).
read -r PROBE_ID PROBE_VALUE < <(awk -F'\t' '$1 % 100 != 0 { s = $2; sub(/^\{/, "", s); split(s, a, /[,}]/); print $1, a[1]; exit }' "$VECTORS") || true
[ -n "${PROBE_VALUE:-}" ] || { echo "error: $VECTORS has no row with id % 100 != 0 to read back after the restore" >&2; exit 2; }
log "input: $ROWS rows x $DIM dims from $VECTORS; workdir $WORKDIR; compress-type $COMPRESS"

# --- 1. a throwaway cluster with WAL archiving into a pgBackRest repository
init_cluster

# --- 2. load
sql "CREATE TABLE vectors (id bigint PRIMARY KEY, embedding real[])"
log "loading"
t0=$(now)
psql_ -c '\copy vectors FROM pstdin' < "$VECTORS"
t1=$(now)
LOAD_SECONDS=$(elapsed "$t0" "$t1")
sql "CHECKPOINT"
LOADED=$(sql "SELECT count(*) FROM vectors")
[ "$LOADED" = "$ROWS" ] || { echo "error: loaded $LOADED rows, file has $ROWS" >&2; exit 1; }
TABLE_BYTES=$(sql "SELECT pg_total_relation_size('vectors')")
log "loaded $LOADED rows in ${LOAD_SECONDS}s; table with TOAST and index: $TABLE_BYTES bytes"

# --- 3. full backup
DATA_BYTES=$(du -sb "$DATA" | cut -f 1)
log "full backup of $DATA_BYTES bytes"
t0=$(now)
pgbr backup --type=full >&2
t1=$(now)
FULL_SECONDS=$(elapsed "$t0" "$t1")
FULL_REPO_BYTES=$(du -sb "$REPO/backup" | cut -f 1)
log "full backup: ${FULL_SECONDS}s, $FULL_REPO_BYTES bytes in the repository"

# --- 4. change 1% of rows, incremental backup
# Every element changes, so each updated row gets a new TOAST value.
sql "UPDATE vectors SET embedding = (SELECT array_agg(x + 1 ORDER BY n) FROM unnest(embedding) WITH ORDINALITY AS u(x, n)) WHERE id % 100 = 0" >/dev/null
CHANGED_ID=$(sql "SELECT min(id) FROM vectors WHERE id % 100 = 0")
CHANGED_VALUE=""
[ -n "$CHANGED_ID" ] && CHANGED_VALUE=$(sql "SELECT embedding[1] FROM vectors WHERE id = $CHANGED_ID")
sql "CHECKPOINT"
log "changed $(sql "SELECT count(*) FROM vectors WHERE id % 100 = 0") rows; incremental backup"
t0=$(now)
pgbr backup --type=incr >&2
t1=$(now)
INCR_SECONDS=$(elapsed "$t0" "$t1")
INCR_REPO_BYTES=$(( $(du -sb "$REPO/backup" | cut -f 1) - FULL_REPO_BYTES ))
ARCHIVE_BYTES=$(du -sb "$REPO/archive" | cut -f 1)
log "incremental backup: ${INCR_SECONDS}s, $INCR_REPO_BYTES bytes added; WAL archive holds $ARCHIVE_BYTES bytes"

# --- 5. restore the latest backup into a new data directory and query it
pg_ctl_ -D "$DATA" -m fast -w stop >/dev/null
log "restoring into $RESTORED"
t0=$(now)
# Default recovery: replay the WAL archive to its end, then promote.
pgbr restore --pg1-path="$RESTORED" >&2
t1=$(now)
RESTORE_SECONDS=$(elapsed "$t0" "$t1")
# The restored server archives its new timeline into the same stanza; its
# archive_command must name its own data directory or pgBackRest refuses.
echo "archive_command = 'pgbackrest --config=$CONF --stanza=$STANZA --pg1-path=$RESTORED archive-push %p'" \
  | as_pg tee -a "$RESTORED/postgresql.conf" >/dev/null
# -W: return at once; the polls below are what waits.
pg_ctl_ -D "$RESTORED" -l "$WORKDIR/restored-server.log" -W start >/dev/null

# Poll with a deadline: connection refused / "starting up" until the server
# reaches a consistent state, then the answer. "t" means the value read back
# equals the input file's.
poll() {  # poll QUERY EXPECTED -> prints the time it first matched
  local query=$1 expected=$2 out deadline
  deadline=$(( $(date +%s) + 600 ))
  while :; do
    out=$(sql "$query" 2>/dev/null) || out=""
    [ "$out" = "$expected" ] && { now; return 0; }
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "error: restored server did not answer '$query' with '$expected' within 600 s (last: '$out')" >&2
      return 1
    fi
    sleep 0.02
  done
}
t2=$(poll "SELECT embedding[1] = '$PROBE_VALUE'::real FROM vectors WHERE id = $PROBE_ID" t)
FIRST_QUERY_SECONDS=$(elapsed "$t0" "$t2")
log "restored: pgbackrest restore ${RESTORE_SECONDS}s, first correct read ${FIRST_QUERY_SECONDS}s"
poll "SELECT NOT pg_is_in_recovery()" t >/dev/null
sql "CREATE TABLE restore_probe (x int); INSERT INTO restore_probe VALUES (1)"
t3=$(now)
READ_WRITE_SECONDS=$(elapsed "$t0" "$t3")
log "read-write after ${READ_WRITE_SECONDS}s"

# Verify what came back: every row, and a row changed before the incremental.
RESTORED_ROWS=$(sql "SELECT count(*) FROM vectors")
[ "$RESTORED_ROWS" = "$ROWS" ] || { echo "error: restored $RESTORED_ROWS rows, expected $ROWS" >&2; exit 1; }
if [ -n "$CHANGED_ID" ]; then
  ok=$(sql "SELECT embedding[1] = '$CHANGED_VALUE'::real FROM vectors WHERE id = $CHANGED_ID")
  [ "$ok" = t ] || { echo "error: row $CHANGED_ID changed before the incremental backup did not come back changed" >&2; exit 1; }
fi
pg_ctl_ -D "$RESTORED" -m fast -w stop >/dev/null

# --- 6. the result
cat <<EOF
{"rows": $ROWS, "dim": $DIM, "data_bytes": $DATA_BYTES, "table_bytes": $TABLE_BYTES, "load_seconds": $LOAD_SECONDS, "full_seconds": $FULL_SECONDS, "full_repo_bytes": $FULL_REPO_BYTES, "incr_seconds": $INCR_SECONDS, "incr_repo_bytes": $INCR_REPO_BYTES, "archive_bytes": $ARCHIVE_BYTES, "restore_seconds": $RESTORE_SECONDS, "restore_to_first_query_seconds": $FIRST_QUERY_SECONDS, "restore_to_read_write_seconds": $READ_WRITE_SECONDS, "compress_type": "$COMPRESS", "pgbackrest_version": "$PGBR_VERSION", "postgres_version": "$PG_VERSION"}
EOF
