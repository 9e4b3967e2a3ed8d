#!/usr/bin/env bash
# Runs every benchmark in bench/ against a release build, each beside its
# baseline in the same run, and prints their tables. Results worth keeping go
# into docs/benchmarks.md (and docs/benchmarks/<area>.md) with this command.
#
#   scripts/run-benchmarks.sh [BUILD_DIR=build/release] [quick|full]
#
# quick (default) keeps each benchmark to a minute or two on 2 cores;
# full uses the sizes the issues ask for (100k x 768 index, 1 GiB objects).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-build/release}" && pwd)
MODE=${2:-quick}
SCRATCH=$(mktemp -d /tmp/ark-bench.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT

echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"

echo "## WAL ingest"
"$BUILD/wal_ingest_bench" --seconds 2
echo "## Engine ingest"
"$BUILD/engine_ingest_bench" --dir "$SCRATCH/engine" --seconds-per-case 2
echo "## Filter evaluation"
"$BUILD/filter_bench"
echo "## Object store"
if [[ $MODE == full ]]; then
  "$ROOT/bench/object_store_bench.sh" "$BUILD" 1024 10000
  echo "## Vector indexes"
  "$BUILD/index_bench" --n 100000
else
  "$ROOT/bench/object_store_bench.sh" "$BUILD" 256 2000
  echo "## Vector indexes"
  "$BUILD/index_bench" --n 20000 --dim 128 --faiss-hnsw-n 5000 --skip-pq
fi
echo "## WAL archiving and point-in-time restore"
if [[ $MODE == full ]]; then
  # The pgBackRest side needs `scripts/install-deps.sh --bench`.
  PG=()
  if command -v pgbackrest >/dev/null; then PG=(--pg "$ROOT/bench/pgbackrest_pitr_bench.sh"); else echo "(pgBackRest not installed: scripts/install-deps.sh --bench)"; fi
  "$BUILD/archive_bench" --ark "$BUILD/ark" --seconds 30 "${PG[@]}"
else
  "$BUILD/archive_bench" --ark "$BUILD/ark" --seconds 5 --base-rows 5000 --wal-mib 64
fi
echo "## Replication"
if [[ $MODE == full ]]; then
  # The PostgreSQL side needs `scripts/install-deps.sh --bench`.
  PG=()
  if [ -x /usr/lib/postgresql/15/bin/postgres ] && command -v pgbackrest >/dev/null; then PG=(--pg "$ROOT/bench/pg_streaming_bench.sh"); else echo "(PostgreSQL not installed: scripts/install-deps.sh --bench)"; fi
  "$BUILD/replication_bench" --ark "$BUILD/ark" --seconds 30 --base-rows 100000 "${PG[@]}"
else
  "$BUILD/replication_bench" --ark "$BUILD/ark" --seconds 5 --base-rows 5000
fi
echo "## Automatic failover RTO"
# Ark beside Patroni + PostgreSQL 15 + etcd; the Patroni side needs
# `scripts/install-deps.sh --bench` (without it only Ark's rounds run).
if [[ $MODE == full ]]; then
  node "$ROOT/bench/failover_bench.js" --ark "$BUILD/ark" --rounds 5
else
  node "$ROOT/bench/failover_bench.js" --ark "$BUILD/ark" --rounds 2 --stacks ark,patroni-default
fi

echo "## Planned switchover write pause"
# Ark beside `patronictl switchover` (same Patroni dependencies as above;
# without them only Ark's stacks run).
if [[ $MODE == full ]]; then
  node "$ROOT/bench/switchover_bench.js" --ark "$BUILD/ark" --switchovers 10
else
  node "$ROOT/bench/switchover_bench.js" --ark "$BUILD/ark" --switchovers 4 --stacks ark,patroni-default
fi
