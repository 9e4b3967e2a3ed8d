#!/usr/bin/env bash
# Object store benchmark: Ark's local and S3 backends beside `cp` + `sync`
# and the AWS SDK for JavaScript against the same s3rver, in one run.
#
#   bench/object_store_bench.sh BUILD_DIR [SIZE_MIB=1024] [SMALL_COUNT=10000]
#
# BUILD_DIR is a release build holding object_store_bench (cmake
# -DCMAKE_BUILD_TYPE=Release -DARK_NATIVE=ON). THREADS (default 8) sets the
# parallelism of both clients; SCRATCH the scratch directory (default: a new
# one under /tmp, removed afterwards). Prints a Markdown table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:?usage: $0 BUILD_DIR [SIZE_MIB] [SMALL_COUNT]}" && pwd)
SIZE_MIB=${2:-1024}
SMALL_COUNT=${3:-10000}
THREADS=${THREADS:-8}
REPEAT=${REPEAT:-1}
SKIP_S3=${SKIP_S3:-0}
NODE_DIR="$ROOT/tests/node"
SCRATCH=${SCRATCH:-$(mktemp -d /tmp/ark-object-store-bench.XXXXXX)}
BUCKET=ark-bench

[ -d "$NODE_DIR/node_modules/s3rver" ] || (cd "$NODE_DIR" && npm ci --no-audit --no-fund >/dev/null)

PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
mkdir -p "$SCRATCH/s3rver"
NODE_OPTIONS=--openssl-legacy-provider node "$NODE_DIR/node_modules/s3rver/bin/s3rver.js" \
  -d "$SCRATCH/s3rver" -a 127.0.0.1 -p "$PORT" --silent --configure-bucket "$BUCKET" >/dev/null &
S3RVER_PID=$!
cleanup() {
  kill "$S3RVER_PID" 2>/dev/null || true
  wait "$S3RVER_PID" 2>/dev/null || true
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
for _ in $(seq 1 200); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done

echo "# object store benchmark: ${SIZE_MIB} MiB object, ${SMALL_COUNT} x 4 KiB objects, ${THREADS} threads, ${REPEAT} local rounds"
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
S3_ARGS=(--s3 "s3://$BUCKET/ark?endpoint=http://127.0.0.1:$PORT")
[ "$SKIP_S3" = 1 ] && S3_ARGS=()
"$BUILD/object_store_bench" --dir "$SCRATCH/work" --size-mib "$SIZE_MIB" \
  --small-count "$SMALL_COUNT" --threads "$THREADS" --repeat "$REPEAT" "${S3_ARGS[@]}"
echo "# load after the local and Ark S3 rows: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$SKIP_S3" = 1 ] && exit 0
node "$NODE_DIR/tools/sdk_bench.js" "http://127.0.0.1:$PORT" "$BUCKET" "$SCRATCH/work" \
  "$SMALL_COUNT" "$THREADS"
