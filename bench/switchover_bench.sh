#!/usr/bin/env bash
# Planned switchover write pause (issue 17: goal <= 2 s): ark monitor + a
# primary + a standby on loopback (release binary, default settings), then
# `ark failover switchover` back and forth N times; each prints the pause
# it measured (handover start -> the standby promoted and taking writes).
#
#   bench/switchover_bench.sh [ROUNDS=10] [ARK=build/release/ark]
set -euo pipefail
ROUNDS=${1:-10}
ARK=$(realpath "${2:-build/release/ark}")
DIR=$(mktemp -d /tmp/ark-switchover-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
M=$(port); A=$(port); B=$(port)
ready() { for _ in $(seq 1 600); do [ "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$1/readyz")" = 200 ] && return 0; sleep 0.05; done; echo "not ready: $1" >&2; return 1; }
"$ARK" monitor --listen 127.0.0.1:$M --data-dir "$DIR/m" --node a=http://127.0.0.1:$A --node b=http://127.0.0.1:$B >"$DIR/m.log" 2>&1 & PIDS+=($!)
"$ARK" serve --data-dir "$DIR/a" --listen 127.0.0.1:$A --witness http://127.0.0.1:$M --node-name a --no-access-log >"$DIR/a.log" 2>&1 & PIDS+=($!)
ready $A
"$ARK" serve --data-dir "$DIR/b" --listen 127.0.0.1:$B --witness http://127.0.0.1:$M --node-name b \
  --standby-of http://127.0.0.1:$A --standby-name b --no-access-log >"$DIR/b.log" 2>&1 & PIDS+=($!)
ready $B
curl -s -X POST 127.0.0.1:$A/v2/vectordb/collections/create -d '{"collectionName":"c","dimension":8}' >/dev/null
from=$A; to=$B
echo "round pause_ms catch_up_ms epoch"
for r in $(seq 1 "$ROUNDS"); do
  # some writes first, so there is something to catch up on
  for i in $(seq 1 20); do
    curl -s -X POST 127.0.0.1:$from/v2/vectordb/entities/insert \
      -d "{\"collectionName\":\"c\",\"data\":[{\"id\":$((r*100+i)),\"vector\":[1,2,3,4,5,6,7,8]}]}" >/dev/null
  done
  out=$("$ARK" failover switchover --server http://127.0.0.1:$from --to http://127.0.0.1:$to --json)
  echo "$r $(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.1f %.1f %d" % (d["writePauseMs"], d["catchUpMs"], d["epoch"]))')"
  ready $from  # the old primary is back, as a standby
  for _ in $(seq 1 600); do
    s=$(curl -s -X POST 127.0.0.1:$from/ark/v1/replication/status -d '{}')
    echo "$s" | grep -q '"state":"streaming"' && break; sleep 0.05
  done
  t=$from; from=$to; to=$t
done
