#!/usr/bin/env bash
# Runs every test suite against a built tree: the C++ suites through CTest,
# then the Node suites (tests/node: SigV4 signature proof and AWS SDK interop,
# which start and stop their own s3rver).
#
#   scripts/run-tests.sh [BUILD_DIR=build/asan]
#
# Then the fuzz targets (scripts/run-fuzz.sh: regression inputs + a short
# run each). Node test tools come from tests/node/package-lock.json via `npm ci`, run
# only when node_modules is missing or the lock file changed. The C++ S3
# tests find s3rver through ARK_NODE_MODULES (exported here) and FAIL if it
# is missing, unless ARK_SKIP_S3=1 (which also skips the Node suites).
#
# Last, when ARK_RELEASE_DIR names a configured release tree (`make test`
# passes build/release, configured as `make build`/`make bench` do): every
# target of it is compiled (-O3 -march=native -Werror: the ark binary, the
# test binaries and the benchmarks), because a warning only the optimizer
# sees once broke `make bench` while the sanitizer tree compiled
# (docs/README.md, "Building and testing", has the cost). ARK_SKIP_RELEASE=1
# skips it. Every step runs even when an earlier one failed; the last lines
# name the steps that failed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(cd "${1:-build/asan}" && pwd)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

NODE_DIR="$ROOT/tests/node"
if [ -z "${ARK_SKIP_S3:-}" ]; then
  stamp="$NODE_DIR/node_modules/.ark-package-lock.sha256"
  want=$(sha256sum "$NODE_DIR/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund)
    echo "$want" > "$stamp"
  fi
  export ARK_NODE_MODULES="$NODE_DIR/node_modules"
fi

failed=()
(cd "$BUILD_DIR" && ctest --output-on-failure -j"$(nproc)" --timeout 900) || failed+=("CTest suites in $BUILD_DIR")

# Fuzzing (docs/reliability.md): every committed seed and regression input is
# replayed (deterministic). Fuzzing itself is off by default here because the
# first two CI runs each found a new bug (fixed): until a longer campaign has
# run clean, a random find must not gate landing. ARK_FUZZ_SECONDS=10 turns a
# short fixed-seed run per target on; `make fuzz` is the fuzzing run;
# ARK_SKIP_FUZZ=1 skips the step (and its clang build).
if [ -z "${ARK_SKIP_FUZZ:-}" ]; then
  # index_fuzz is replayed only: fuzzing it reaches heap overflows inside
  # FAISS 1.7.3's own payload reader (open-* inputs, docs/reliability.md).
  ARK_FUZZ_SEED=${ARK_FUZZ_SEED:-1} ARK_FUZZ_REPLAY_ONLY=${ARK_FUZZ_REPLAY_ONLY-index_fuzz} \
    "$ROOT/scripts/run-fuzz.sh" "${ARK_FUZZ_SECONDS:-0}" || failed+=("fuzz replay (scripts/run-fuzz.sh)")
fi

if [ -z "${ARK_SKIP_S3:-}" ]; then
  (cd "$NODE_DIR" && ARK_BIN="$BUILD_DIR/ark" node --test) || failed+=("Node suites in tests/node")
fi

if [ -n "${ARK_RELEASE_DIR:-}" ] && [ -z "${ARK_SKIP_RELEASE:-}" ]; then
  echo "== release tree $ARK_RELEASE_DIR: compiling every target (-O3 -march=native -Werror)"
  start=$(date +%s)
  if ninja -C "$ARK_RELEASE_DIR" -j"$(nproc)"; then
    echo "== release tree compiled in $(( $(date +%s) - start )) s"
  else
    failed+=("release tree $ARK_RELEASE_DIR does not compile (-Werror): the compiler's message is above ninja's FAILED line")
  fi
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "== FAILED:" >&2
  printf '   %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "== every step passed"
