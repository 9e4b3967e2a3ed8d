#!/usr/bin/env bash
# Peer side of the replication benchmark: PostgreSQL 15 streaming replication
# of the same rows (vectors as real[]) that bench/replication_bench.cc sends
# to an Ark primary and its standby.
#
#   bench/pg_streaming_bench.sh BASE_FILE TAIL_FILE [WORKDIR]
#
# Both files hold one row per line in COPY text format: `<id>\t{f1,...}`.
# BASE_FILE is loaded into a primary; then a standby is made with
# pg_basebackup (timed: the bootstrap) and started (hot standby, streaming,
# asynchronous as PostgreSQL's default). Then TAIL_FILE is inserted at
# RATE rows/s (default 10000) in BATCH-row transactions (default 500) by
# CLIENTS concurrent psql clients (default 4), each batch not before its
# due time (i * BATCH / RATE s after the start), while pg_stat_replication is
# sampled every 100 ms. SYNC=1 makes the standby synchronous
# (synchronous_standby_names, synchronous_commit = on): the same tail again
# measures commit latency with it.
#
# Prints one JSON object on stdout; progress goes to stderr. WORKDIR (default
# a new directory under /tmp) must be missing or empty and is removed at exit
# unless KEEP=1. As root, servers and clients run as `postgres`.
#
# What is measured:
#   base_bytes            du of the primary's data directory after the base load and a CHECKPOINT
#   basebackup_seconds    pg_basebackup -X stream -c fast of it into the standby's directory
#   standby_ready_seconds pg_basebackup start until the standby answers a query for a base row
#   tail_seconds, tail_rows_per_second
#   replay_lag_{p50,p99,max}_seconds
#                         pg_stat_replication.replay_lag sampled every 100 ms
#                         (NULL, which PostgreSQL reports once the standby
#                         is idle and caught up, counts as 0)
#   batch_latency_{p50,p99}_ms  one batch's \copy (a transaction), client side,
#                         psql start-up included
set -euo pipefail

usage() { echo "usage: $0 BASE_FILE TAIL_FILE [WORKDIR]" >&2; exit 2; }
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
BASE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
TAIL=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
for f in "$BASE" "$TAIL"; do
  [ -s "$f" ] || { echo "error: vectors file '$f' is missing or empty" >&2; exit 2; }
done
RATE=${RATE:-10000}
BATCH=${BATCH:-500}
CLIENTS=${CLIENTS:-4}
SYNC=${SYNC:-0}
for v in RATE BATCH CLIENTS; do
  [[ "${!v}" =~ ^[1-9][0-9]{0,6}$ ]] || { echo "error: $v='${!v}' must be a positive integer" >&2; exit 2; }
done

BENCH_NAME=pg_streaming_bench
WORKDIR_ARG=${3:-}
# shellcheck source=bench/pgbackrest_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/pgbackrest_lib.sh"
STANDBY=$WORKDIR/standby
SPORT=5433
spsql() { as_pg "$PGBIN/psql" -X -q -At -h "$WORKDIR" -p "$SPORT" -d postgres -c "$1"; }
# The library's cleanup stops DATA and RESTORED: the standby is RESTORED.
RESTORED=$STANDBY

as_pg "$PGBIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --no-locale >/dev/null
cat >> "$DATA/postgresql.conf" <<CONF

# $BENCH_NAME.sh
listen_addresses = ''
unix_socket_directories = '$WORKDIR'
port = $PORT
fsync = on
wal_level = replica
max_wal_senders = 4
wal_keep_size = '4GB'
CONF
pg_ctl_ -D "$DATA" -l "$WORKDIR/server.log" -w start >/dev/null
PG_VERSION=$(sql "SHOW server_version")
log "PostgreSQL $PG_VERSION; workdir $WORKDIR"

sql "CREATE TABLE vectors (id bigint PRIMARY KEY, embedding real[])"
log "loading the base"
psql_ -c '\copy vectors FROM pstdin' < "$BASE"
sql "CHECKPOINT"
BASE_ROWS=$(sql "SELECT count(*) FROM vectors")
BASE_BYTES=$(du -sb "$DATA" | cut -f 1)
PROBE_ID=$(head -n 1 "$BASE" | cut -f 1)

log "pg_basebackup of $BASE_BYTES bytes"
sync
t0=$(now)
as_pg "$PGBIN/pg_basebackup" -h "$WORKDIR" -p "$PORT" -D "$STANDBY" -X stream -c fast -R >/dev/null
t1=$(now)
BASEBACKUP_SECONDS=$(elapsed "$t0" "$t1")
cat >> "$STANDBY/postgresql.conf" <<CONF
port = $SPORT
hot_standby = on
CONF
[ "$SYNC" = 1 ] && echo "cluster_name = 'standby1'" >> "$STANDBY/postgresql.conf"
pg_ctl_ -D "$STANDBY" -l "$WORKDIR/standby.log" -w start >/dev/null
until [ "$(spsql "SELECT count(*) FROM vectors WHERE id = $PROBE_ID" 2>/dev/null)" = 1 ]; do sleep 0.02; done
t2=$(now)
STANDBY_READY_SECONDS=$(elapsed "$t0" "$t2")
log "standby: basebackup ${BASEBACKUP_SECONDS}s, answering ${STANDBY_READY_SECONDS}s after the start"
until [ "$(sql "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ]; do sleep 0.02; done
if [ "$SYNC" = 1 ]; then
  sql "ALTER SYSTEM SET synchronous_standby_names = 'standby1'"
  sql "SELECT pg_reload_conf()" >/dev/null
  until [ "$(sql "SELECT sync_state FROM pg_stat_replication")" = sync ]; do sleep 0.02; done
  log "the standby is synchronous"
fi

# --- the tail: BATCH-line files, CLIENTS loops, each batch at its due time
mkdir -p "$WORKDIR/tail"
split -l "$BATCH" -d -a 6 "$TAIL" "$WORKDIR/tail/b."
[ ${#RUN_AS[@]} -eq 0 ] || chown -R postgres: "$WORKDIR/tail"
mapfile -t BATCHES < <(ls "$WORKDIR/tail" | sort)
TAIL_ROWS=$(wc -l < "$TAIL")
log "tail: $TAIL_ROWS rows in ${#BATCHES[@]} batches at $RATE rows/s, $CLIENTS clients"
SAMPLES=$WORKDIR/lag.samples
: > "$SAMPLES"
(
  while [ ! -f "$WORKDIR/tail.done" ]; do
    sql "SELECT coalesce(extract(epoch FROM replay_lag), 0) FROM pg_stat_replication" >> "$SAMPLES" 2>/dev/null || true
    sleep 0.1  # the sampling period
  done
) &
SAMPLER=$!
START=$(now)
client() {  # client K: batches K, K+CLIENTS, ...
  local k=$1 i due wait b0 b1
  for ((i = k; i < ${#BATCHES[@]}; i += CLIENTS)); do
    due=$(awk -v s="$START" -v i="$i" -v b="$BATCH" -v r="$RATE" 'BEGIN { printf "%.6f", s + i * b / r }')
    wait=$(awk -v d="$due" -v n="$(now)" 'BEGIN { w = d - n; printf "%.6f", (w > 0 ? w : 0) }')
    sleep "$wait"  # the pacing schedule
    b0=$(now)
    psql_ -c '\copy vectors FROM pstdin' < "$WORKDIR/tail/${BATCHES[$i]}"
    b1=$(now)
    elapsed "$b0" "$b1" >> "$WORKDIR/latency.$k"
    echo >> "$WORKDIR/latency.$k"
  done
}
PIDS=()
for ((k = 0; k < CLIENTS; k++)); do client "$k" & PIDS+=($!); done
for p in "${PIDS[@]}"; do wait "$p"; done
END=$(now)
touch "$WORKDIR/tail.done"
wait "$SAMPLER"
TAIL_SECONDS=$(elapsed "$START" "$END")
# Caught up: the standby replays everything the primary wrote.
LSN=$(sql "SELECT pg_current_wal_lsn()")
until [ "$(sql "SELECT replay_lsn >= '$LSN' FROM pg_stat_replication")" = t ]; do sleep 0.02; done
STANDBY_ROWS=$(spsql "SELECT count(*) FROM vectors")
[ "$STANDBY_ROWS" = $((BASE_ROWS + TAIL_ROWS)) ] || { echo "error: the standby has $STANDBY_ROWS rows, expected $((BASE_ROWS + TAIL_ROWS))" >&2; exit 1; }

pct() {  # pct FILE P -> the P-quantile of the numbers in FILE (one per line)
  sort -g "$1" | awk -v p="$2" 'NF { a[n++] = $1 } END { if (!n) { print 0; exit } i = int(p * n); if (i >= n) i = n - 1; print a[i] }'
}
cat "$WORKDIR"/latency.* | awk 'NF { print $1 * 1000 }' > "$WORKDIR/latency.ms"
cat <<JSON
{"postgres": "$PG_VERSION", "sync": $SYNC, "base_rows": $BASE_ROWS, "base_bytes": $BASE_BYTES,
 "basebackup_seconds": $BASEBACKUP_SECONDS, "standby_ready_seconds": $STANDBY_READY_SECONDS,
 "tail_rows": $TAIL_ROWS, "tail_seconds": $TAIL_SECONDS,
 "tail_rows_per_second": $(awk -v r="$TAIL_ROWS" -v s="$TAIL_SECONDS" 'BEGIN { printf "%.0f", r / s }'),
 "replay_lag_p50_seconds": $(pct "$SAMPLES" 0.5), "replay_lag_p99_seconds": $(pct "$SAMPLES" 0.99),
 "replay_lag_max_seconds": $(pct "$SAMPLES" 1), "lag_samples": $(grep -c . "$SAMPLES"),
 "batch_latency_p50_ms": $(pct "$WORKDIR/latency.ms" 0.5), "batch_latency_p99_ms": $(pct "$WORKDIR/latency.ms" 0.99)}
JSON
