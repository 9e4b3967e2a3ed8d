#!/usr/bin/env bash
# Peer side of the point-in-time restore benchmark: vectors loaded into
# PostgreSQL 15 as real[], a full pgBackRest backup, then more rows inserted
# while WAL is archived, and a restore to a time between two of those inserts.
#
#   bench/pgbackrest_pitr_bench.sh BASE_FILE TAIL_FILE [WORKDIR]
#
# Both files hold one row per line in COPY text format: `<id>\t{f1,f2,...}`,
# with the same dimension and no id in both (the primary key rejects that).
# BASE_FILE is loaded before the full backup. TAIL_FILE is inserted after it
# in PITR_CHUNKS chunks (default 10), one `\copy`, so one transaction, each;
# size it to give the WAL volume wanted (300k rows of 768-d: ~1 GB). The
# recovery target time is the server's clock_timestamp() read just after
# chunk PITR_TARGET_CHUNK (default PITR_CHUNKS - 1) commits; the chunks after
# it are committed later and must not come back.
#
# WORKDIR (default: a new directory under /tmp) must be missing or empty; it
# holds the cluster, the restored cluster, the pgBackRest repository, the tail
# split into chunks (as large as TAIL_FILE) and logs, and is removed at exit
# unless KEEP=1. The server's unix socket lives there, so its path must stay
# short (< 90 characters).
#
# Environment: PITR_CHUNKS, PITR_TARGET_CHUNK (1 .. PITR_CHUNKS-1),
# PGBR_COMPRESS=zst|none|... (pgBackRest compress-type, default zst), PGBIN
# (default /usr/lib/postgresql/15/bin), KEEP=1.
#
# Prints one JSON object on stdout; progress goes to stderr. As root, the
# server and all clients run as the `postgres` user (PostgreSQL refuses root).
#
# What is timed, and what is not:
#   base_load_seconds  psql \copy of BASE_FILE (archiving already on).
#   full_backup_seconds
#                      `pgbackrest backup --type=full` (start-fast, process-max=2).
#   tail_load_seconds  the PITR_CHUNKS \copy commands of TAIL_FILE, plus the
#                      target-time read between two of them.
#   wal_bytes          WAL written by the tail: pg_wal_lsn_diff of
#                      pg_current_wal_lsn() before and after it.
#   archive_bytes      du of the repository's WAL archive once every segment up
#                      to the end of the tail is archived (pg_switch_wal(), then
#                      pg_stat_archiver polled); tail_archive_bytes is the part
#                      added by the tail. Not timed.
#   restore_seconds    `pgbackrest restore --type=time --target=<ts>
#                      --target-action=promote` into a new, empty data directory.
#   restore_to_first_query_seconds
#                      start of the restore until a query on the restored
#                      server returns a vector of the target chunk equal to the
#                      input file's. Hot standby is on (PostgreSQL's default),
#                      so this is answered while WAL is still being replayed, as
#                      soon as the target chunk's commit is.
#   restore_to_read_write_seconds
#                      start of the restore until the server stops at the
#                      target, promotes (new timeline) and accepts a write.
# Then the row count must be exactly BASE_FILE's rows plus those of chunks 1 ..
# PITR_TARGET_CHUNK, and the first row of the next chunk must be absent.
set -euo pipefail

usage() { echo "usage: $0 BASE_FILE TAIL_FILE [WORKDIR]" >&2; exit 2; }
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
BASE=$1
TAIL=$2
for f in "$BASE" "$TAIL"; do
  if [ ! -f "$f" ] || [ ! -r "$f" ] || [ ! -s "$f" ]; then
    echo "error: vectors file '$f' is missing, unreadable or empty" >&2; exit 2
  fi
  # Rows are counted with wc -l, so the last one must end with a newline.
  [ -z "$(tail -c 1 "$f")" ] || { echo "error: '$f' does not end with a newline" >&2; exit 2; }
done
BASE=$(cd "$(dirname "$BASE")" && pwd)/$(basename "$BASE")
TAIL=$(cd "$(dirname "$TAIL")" && pwd)/$(basename "$TAIL")
[ "$BASE" != "$TAIL" ] || { echo "error: BASE_FILE and TAIL_FILE are the same file" >&2; exit 2; }

CHUNKS=${PITR_CHUNKS:-10}
if ! [[ "$CHUNKS" =~ ^[0-9]{1,3}$ ]] || [ "$((10#$CHUNKS))" -lt 2 ]; then
  echo "error: PITR_CHUNKS='$CHUNKS' must be an integer from 2 to 999 (a chunk after the target is needed)" >&2; exit 2
fi
CHUNKS=$((10#$CHUNKS))
TARGET_CHUNK=${PITR_TARGET_CHUNK:-$((CHUNKS - 1))}
if ! [[ "$TARGET_CHUNK" =~ ^[0-9]{1,3}$ ]] || [ "$((10#$TARGET_CHUNK))" -lt 1 ] || [ "$((10#$TARGET_CHUNK))" -ge "$CHUNKS" ]; then
  echo "error: PITR_TARGET_CHUNK='$TARGET_CHUNK' must be an integer from 1 to PITR_CHUNKS-1 = $((CHUNKS - 1))" >&2; exit 2
fi
TARGET_CHUNK=$((10#$TARGET_CHUNK))

# --- the input: rows and dimensions (before WORKDIR exists: nothing to clean up)
dim_of() { head -n 1 "$1" | awk -F'\t' 'NF == 2 && $2 ~ /^\{.*\}$/ { print gsub(/,/, ",", $2) + 1 }'; }
BASE_DIM=$(dim_of "$BASE")
TAIL_DIM=$(dim_of "$TAIL")
[ -n "$BASE_DIM" ] || { echo "error: first line of '$BASE' is not '<id><TAB>{f1,f2,...}'" >&2; exit 2; }
[ -n "$TAIL_DIM" ] || { echo "error: first line of '$TAIL' is not '<id><TAB>{f1,f2,...}'" >&2; exit 2; }
[ "$BASE_DIM" = "$TAIL_DIM" ] || { echo "error: BASE_FILE has $BASE_DIM dims, TAIL_FILE has $TAIL_DIM" >&2; exit 2; }
DIM=$BASE_DIM
BASE_ROWS=$(wc -l < "$BASE")
TAIL_ROWS=$(wc -l < "$TAIL")
[ "$TAIL_ROWS" -ge "$CHUNKS" ] || { echo "error: TAIL_FILE has $TAIL_ROWS rows, fewer than PITR_CHUNKS=$CHUNKS" >&2; exit 2; }

POLL_SECONDS=1800  # deadline of every wait on a server (archiving, replay)
BENCH_NAME=pgbackrest_pitr_bench
WORKDIR_ARG=${3:-}
# shellcheck source=bench/pgbackrest_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/pgbackrest_lib.sh"

# Poll with a deadline: connection refused / "starting up" until the server
# answers, then the answer.
poll() {  # poll QUERY EXPECTED -> prints the time it first matched
  local query=$1 expected=$2 out deadline
  deadline=$(( $(date +%s) + POLL_SECONDS ))
  while :; do
    out=$(sql "$query" 2>/dev/null) || out=""
    [ "$out" = "$expected" ] && { now; return 0; }
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "error: server did not answer '$query' with '$expected' within $POLL_SECONDS s (last: '$out')" >&2
      return 1
    fi
    sleep 0.02
  done
}

# --- the tail, split into CHUNKS files of whole lines, and the two probes:
# the first row of the target chunk (must come back) and of the next one (must
# not). ceil(rows / CHUNKS) lines per chunk, the last one shorter: the chunks
# bench/archive_bench.cc inserts into Ark.
TAIL_LINES=$(wc -l < "$TAIL")
split -l $(( (TAIL_LINES + CHUNKS - 1) / CHUNKS )) -d -a 3 "$TAIL" "$WORKDIR/chunk."
CHUNK_FILES=()
CHUNK_ROWS=()
for ((i = 0; i < CHUNKS; i++)); do
  f=$(printf '%s/chunk.%03d' "$WORKDIR" "$i")
  n=$(wc -l < "$f")
  [ "$n" -gt 0 ] || { echo "error: chunk $((i + 1)) of $CHUNKS of TAIL_FILE is empty (too few, too long lines for PITR_CHUNKS)" >&2; exit 2; }
  CHUNK_FILES+=("$f")
  CHUNK_ROWS+=("$n")
done
probe() { head -n 1 "$1" | awk -F'\t' '{ s = $2; sub(/^\{/, "", s); split(s, a, /[,}]/); print $1, a[1] }'; }
read -r KEPT_ID KEPT_VALUE < <(probe "${CHUNK_FILES[$((TARGET_CHUNK - 1))]}")
read -r LOST_ID _ < <(probe "${CHUNK_FILES[$TARGET_CHUNK]}")
EXPECTED_ROWS=$BASE_ROWS
for ((i = 0; i < TARGET_CHUNK; i++)); do EXPECTED_ROWS=$((EXPECTED_ROWS + CHUNK_ROWS[i])); done
log "input: $BASE_ROWS base rows + $TAIL_ROWS tail rows (chunks: ${CHUNK_ROWS[*]}) x $DIM dims; target after chunk $TARGET_CHUNK of $CHUNKS; workdir $WORKDIR; compress-type $COMPRESS"

# --- 1. a throwaway cluster with WAL archiving into a pgBackRest repository
init_cluster

# --- 2. base load and full backup
sql "CREATE TABLE vectors (id bigint PRIMARY KEY, embedding real[])"
log "loading the base"
t0=$(now)
psql_ -c '\copy vectors FROM pstdin' < "$BASE"
t1=$(now)
BASE_LOAD_SECONDS=$(elapsed "$t0" "$t1")
sql "CHECKPOINT"
LOADED=$(sql "SELECT count(*) FROM vectors")
[ "$LOADED" = "$BASE_ROWS" ] || { echo "error: loaded $LOADED rows, BASE_FILE has $BASE_ROWS" >&2; exit 1; }
log "loaded $LOADED rows in ${BASE_LOAD_SECONDS}s; full backup of $(du -sb "$DATA" | cut -f 1) bytes"
t0=$(now)
pgbr backup --type=full >&2
t1=$(now)
FULL_SECONDS=$(elapsed "$t0" "$t1")
FULL_REPO_BYTES=$(du -sb "$REPO/backup" | cut -f 1)
log "full backup: ${FULL_SECONDS}s, $FULL_REPO_BYTES bytes in the repository"

# --- 3. the tail, chunk by chunk; the target time after chunk TARGET_CHUNK
# Every WAL segment of the base load and the backup is archived before the
# tail starts, so the archive's growth from here on is the tail's.
SWITCH_SEG=$(sql "SELECT pg_walfile_name(pg_switch_wal())")
poll "SELECT coalesce(last_archived_wal, '') >= '$SWITCH_SEG' FROM pg_stat_archiver" t >/dev/null
ARCHIVE_BYTES_BEFORE=$(du -sb "$REPO/archive" | cut -f 1)
LSN_BEFORE=$(sql "SELECT pg_current_wal_lsn()")
log "inserting the tail in $CHUNKS chunks from $LSN_BEFORE"
TARGET=""
t0=$(now)
for ((i = 0; i < CHUNKS; i++)); do
  psql_ -c '\copy vectors FROM pstdin' < "${CHUNK_FILES[$i]}" \
    || { echo "error: \\copy of chunk $((i + 1)) failed (an id also in BASE_FILE or earlier in TAIL_FILE?)" >&2; exit 1; }
  if [ $((i + 1)) = "$TARGET_CHUNK" ]; then
    # After the commit has returned, on the server's clock (the one commit
    # records are stamped with), with an explicit time zone so that
    # recovery_target_time reads it the same way.
    TARGET=$(sql "SET TimeZone = 'UTC'; SELECT clock_timestamp()")
    # The next commit must be stamped strictly later than the target: true
    # after the first check unless the server's clock is stepped back.
    poll "SELECT clock_timestamp() > '$TARGET'::timestamptz" t >/dev/null
  fi
done
t1=$(now)
TAIL_LOAD_SECONDS=$(elapsed "$t0" "$t1")
LSN_AFTER=$(sql "SELECT pg_current_wal_lsn()")
WAL_BYTES=$(sql "SELECT pg_wal_lsn_diff('$LSN_AFTER', '$LSN_BEFORE')::bigint")
LOADED=$(sql "SELECT count(*) FROM vectors")
[ "$LOADED" = $((BASE_ROWS + TAIL_ROWS)) ] || { echo "error: $LOADED rows after the tail, expected $((BASE_ROWS + TAIL_ROWS))" >&2; exit 1; }
log "tail: $TAIL_ROWS rows in ${TAIL_LOAD_SECONDS}s, $WAL_BYTES bytes of WAL; target time $TARGET"

# Close the last segment and wait until it is in the repository.
SWITCH_SEG=$(sql "SELECT pg_walfile_name(pg_switch_wal())")
log "waiting for $SWITCH_SEG to be archived"
poll "SELECT coalesce(last_archived_wal, '') >= '$SWITCH_SEG' FROM pg_stat_archiver" t >/dev/null
FAILED=$(sql "SELECT failed_count FROM pg_stat_archiver")
[ "$FAILED" = 0 ] || log "warning: archive_command failed $FAILED times (retried until it succeeded)"
ARCHIVE_BYTES=$(du -sb "$REPO/archive" | cut -f 1)
TAIL_ARCHIVE_BYTES=$((ARCHIVE_BYTES - ARCHIVE_BYTES_BEFORE))
log "archive holds $ARCHIVE_BYTES bytes, $TAIL_ARCHIVE_BYTES of them from the tail"

# --- 4. point-in-time restore into a new data directory and query it
pg_ctl_ -D "$DATA" -m fast -w stop >/dev/null
log "restoring into $RESTORED to $TARGET"
t0=$(now)
# Recovery replays the archive up to the first commit stamped after the target
# (recovery_target_inclusive is on: a commit stamped exactly at it is kept),
# stops before it and promotes to a new timeline.
pgbr restore --pg1-path="$RESTORED" --type=time --target="$TARGET" --target-action=promote >&2
t1=$(now)
RESTORE_SECONDS=$(elapsed "$t0" "$t1")
# The restored server archives its new timeline into the same stanza; its
# archive_command must name its own data directory or pgBackRest refuses.
echo "archive_command = 'pgbackrest --config=$CONF --stanza=$STANZA --pg1-path=$RESTORED archive-push %p'" \
  | as_pg tee -a "$RESTORED/postgresql.conf" >/dev/null
# -W: return at once; the polls below are what waits.
pg_ctl_ -D "$RESTORED" -l "$WORKDIR/restored-server.log" -W start >/dev/null

# "t" means the target chunk's row read back equals the input file's.
t2=$(poll "SELECT embedding[1] = '$KEPT_VALUE'::real FROM vectors WHERE id = $KEPT_ID" t)
FIRST_QUERY_SECONDS=$(elapsed "$t0" "$t2")
log "restored: pgbackrest restore ${RESTORE_SECONDS}s, first correct read ${FIRST_QUERY_SECONDS}s"
poll "SELECT NOT pg_is_in_recovery()" t >/dev/null
sql "CREATE TABLE restore_probe (x int); INSERT INTO restore_probe VALUES (1)"
t3=$(now)
READ_WRITE_SECONDS=$(elapsed "$t0" "$t3")
TIMELINE=$(sql "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int")
log "read-write after ${READ_WRITE_SECONDS}s on timeline $TIMELINE"
grep -h 'recovery stopping' "$WORKDIR/restored-server.log" | sed 's/^/  /' >&2 || true

# Verify what came back: exactly the rows committed up to the target.
RESTORED_ROWS=$(sql "SELECT count(*) FROM vectors")
[ "$RESTORED_ROWS" = "$EXPECTED_ROWS" ] || { echo "error: restored $RESTORED_ROWS rows, expected $EXPECTED_ROWS (base + chunks 1..$TARGET_CHUNK)" >&2; exit 1; }
LOST=$(sql "SELECT count(*) FROM vectors WHERE id = $LOST_ID")
[ "$LOST" = 0 ] || { echo "error: row $LOST_ID of chunk $((TARGET_CHUNK + 1)), committed after the target, is present after the restore" >&2; exit 1; }
pg_ctl_ -D "$RESTORED" -m fast -w stop >/dev/null

# --- 5. the result
cat <<EOF
{"base_rows": $BASE_ROWS, "tail_rows": $TAIL_ROWS, "chunks": $CHUNKS, "target_chunk": $TARGET_CHUNK, "dim": $DIM, "base_load_seconds": $BASE_LOAD_SECONDS, "full_backup_seconds": $FULL_SECONDS, "full_repo_bytes": $FULL_REPO_BYTES, "tail_load_seconds": $TAIL_LOAD_SECONDS, "wal_bytes": $WAL_BYTES, "archive_bytes": $ARCHIVE_BYTES, "tail_archive_bytes": $TAIL_ARCHIVE_BYTES, "target_time": "$TARGET", "restore_seconds": $RESTORE_SECONDS, "restore_to_first_query_seconds": $FIRST_QUERY_SECONDS, "restore_to_read_write_seconds": $READ_WRITE_SECONDS, "restored_timeline": $TIMELINE, "rows_after_restore": $RESTORED_ROWS, "expected_rows": $EXPECTED_ROWS, "compress_type": "$COMPRESS", "pgbackrest_version": "$PGBR_VERSION", "postgres_version": "$PG_VERSION"}
EOF
