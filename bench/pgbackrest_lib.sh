# Shared by bench/pgbackrest_bench.sh and bench/pgbackrest_pitr_bench.sh:
# running PostgreSQL and pgBackRest in a private WORKDIR (as the `postgres`
# user when run as root), cleanup at exit, and the throwaway cluster with WAL
# archiving into a pgBackRest repository. Sourced once the caller has checked
# its arguments and set BENCH_NAME and WORKDIR_ARG (the WORKDIR argument, or
# empty for a new directory under /tmp). Sets WORKDIR, DATA, RESTORED, REPO,
# CONF, STANZA, PORT and, from the environment, PGBIN, KEEP and COMPRESS.
# shellcheck shell=bash

COMPRESS=${PGBR_COMPRESS:-zst}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
KEEP=${KEEP:-0}
STANZA=bench
PORT=5432  # only names the socket file: TCP is off and the socket directory is ours
[ -x "$PGBIN/postgres" ] || { echo "error: no PostgreSQL server in PGBIN=$PGBIN (scripts/install-deps.sh --bench)" >&2; exit 2; }
command -v pgbackrest >/dev/null || { echo "error: pgbackrest not found (scripts/install-deps.sh --bench)" >&2; exit 2; }

if [ -n "${WORKDIR_ARG:-}" ]; then
  WORKDIR=$WORKDIR_ARG
  mkdir -p "$WORKDIR"
  [ -z "$(ls -A "$WORKDIR")" ] || { echo "error: WORKDIR '$WORKDIR' is not empty; it would be deleted at exit" >&2; exit 2; }
  WORKDIR=$(cd "$WORKDIR" && pwd)
else
  WORKDIR=$(mktemp -d "/tmp/ark-$BENCH_NAME.XXXXXX")
fi
# sun_path holds 107 bytes; the socket is WORKDIR/.s.PGSQL.5432.
[ ${#WORKDIR} -lt 90 ] || { echo "error: WORKDIR '$WORKDIR' is too long for a unix socket path" >&2; rm -rf "$WORKDIR"; exit 2; }

DATA=$WORKDIR/data
RESTORED=$WORKDIR/restored
REPO=$WORKDIR/repo
CONF=$WORKDIR/pgbackrest.conf

log() { echo "[$BENCH_NAME $(date +%H:%M:%S)] $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

RUN_AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "error: running as root but there is no 'postgres' user" >&2; rm -rf "$WORKDIR"; exit 2; }
  RUN_AS=(runuser -u postgres --)
  chown postgres: "$WORKDIR"
fi
chmod 700 "$WORKDIR"
cd "$WORKDIR" || exit 2  # the postgres user may not be able to enter the caller's directory

as_pg() { "${RUN_AS[@]}" "$@"; }
pg_ctl_() { as_pg "$PGBIN/pg_ctl" "$@"; }
psql_() { as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORKDIR" -p "$PORT" -d postgres "$@"; }
sql() { psql_ -At -c "$1"; }
pgbr() { as_pg pgbackrest --config="$CONF" --stanza="$STANZA" "$@"; }

running() { [ -f "$1/postmaster.pid" ] && pg_ctl_ -D "$1" status >/dev/null 2>&1; }
cleanup() {
  local rc=$?
  set +e
  for dir in "$RESTORED" "$DATA"; do
    running "$dir" && pg_ctl_ -D "$dir" stop -m immediate -w >/dev/null 2>&1
  done
  if [ "$rc" != 0 ]; then
    for f in "$WORKDIR"/*.log "$WORKDIR"/log/*.log; do
      [ -f "$f" ] && { echo "--- tail of $f" >&2; tail -n 20 "$f" >&2; }
    done
  fi
  if [ "$KEEP" = 1 ]; then log "kept $WORKDIR"; else rm -rf "$WORKDIR"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A throwaway cluster in DATA archiving its WAL into the repository, started;
# sets PG_VERSION and PGBR_VERSION. The stanza exists before any load, as it
# would for a user whose archiving is already set up, so WAL is archived as
# it is written rather than piling up in pg_wal.
init_cluster() {
  as_pg "$PGBIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --no-locale >/dev/null
  cat >> "$DATA/postgresql.conf" <<EOF

# $BENCH_NAME.sh
listen_addresses = ''
unix_socket_directories = '$WORKDIR'
port = $PORT
fsync = on
wal_level = replica
archive_mode = on
archive_command = 'pgbackrest --config=$CONF --stanza=$STANZA archive-push %p'
EOF
  mkdir -p "$REPO" "$WORKDIR/log" "$WORKDIR/lock" "$WORKDIR/spool"
  cat > "$CONF" <<EOF
[global]
repo1-path=$REPO
repo1-retention-full=2
process-max=2
compress-type=$COMPRESS
start-fast=y
log-level-console=warn
log-level-file=info
log-path=$WORKDIR/log
lock-path=$WORKDIR/lock
spool-path=$WORKDIR/spool

[$STANZA]
pg1-path=$DATA
pg1-socket-path=$WORKDIR
pg1-port=$PORT
EOF
  [ ${#RUN_AS[@]} -eq 0 ] || chown -R postgres: "$WORKDIR"
  pg_ctl_ -D "$DATA" -l "$WORKDIR/server.log" -w start >/dev/null
  PG_VERSION=$(sql "SHOW server_version")
  PGBR_VERSION=$(pgbackrest version | awk '{ print $2 }')
  log "PostgreSQL $PG_VERSION, pgBackRest $PGBR_VERSION"
  pgbr stanza-create >&2
}
