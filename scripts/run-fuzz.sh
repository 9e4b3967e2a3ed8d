#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*_fuzz.cc) with clang, ASan and UBSan,
# replays every committed input, then fuzzes each target for a while.
#
#   scripts/run-fuzz.sh [SECONDS_PER_TARGET=20]     CI: regression + a short run
#   scripts/run-fuzz.sh 0                           regression inputs only
#   scripts/run-fuzz.sh 1800                        a long run (30 min per target)
#
# Environment:
#   ARK_FUZZ_DIR      build directory (default build/fuzz)
#   ARK_FUZZ_TARGETS  space-separated subset of targets (default: all)
#   ARK_FUZZ_JOBS     parallel compile jobs (default: nproc)
#   ARK_FUZZ_REPLAY_ONLY  space-separated targets that are replayed but not
#                     fuzzed (the test command passes index_fuzz: its open
#                     inputs are FAISS bugs Ark cannot fix, docs/reliability.md)
#   ARK_FUZZ_SEED     libFuzzer -seed (default: random; CI passes a fixed one
#                     so a run is repeatable on the same machine)
#
# Inputs: fuzz/corpus/<target>/ holds the seeds (seed-*, written by
# fuzz/make_seeds.cc through the real writers) and regression inputs (every
# crash ever found, kept after the fix). All are replayed first and must
# pass. Files named open-* are crashes found in code this suite may not fix
# yet (reported, see docs/reliability.md): they are listed, not replayed.
#
# Fuzzing grows a working corpus in $ARK_FUZZ_DIR/corpus/<target>/ (kept
# between runs, so repeated long runs build on each other) and writes any
# crash, timeout, leak or out-of-memory input to fuzz/corpus/<target>/ as
# crash-* / timeout-* / leak-* / oom-* for committing as a regression input.
# Exit status: non-zero if any replay or fuzzing run failed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECONDS_PER_TARGET=${1:-20}
BUILD_DIR=${ARK_FUZZ_DIR:-build/fuzz}
JOBS=${ARK_FUZZ_JOBS:-$(nproc)}
CXX_BIN=${CXX_FUZZ:-clang++}

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_COMPILER="$CXX_BIN" -DCMAKE_CXX_FLAGS="-O1 -g" \
    -DARK_FUZZ=ON -DARK_BENCH=OFF >/dev/null
fi

if [ -n "${ARK_FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$ARK_FUZZ_TARGETS"
else
  targets=()
  for src in fuzz/*_fuzz.cc; do targets+=("$(basename "$src" .cc)"); done
fi
ninja -C "$BUILD_DIR" -j"$JOBS" "${targets[@]}"

# libFuzzer reports ASan/UBSan findings itself; UBSan must stop at the first one.
# index_fuzz and FAISS: read_index leaks the partly read index when it throws
# on a malformed payload; fuzz/lsan.supp says why that is suppressed, and
# FAISS's frames need the slow unwinder to be seen.
ASAN_BASE=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/fuzz/lsan.supp:print_suppressions=0}
LIMITS=(-timeout=25 -rss_limit_mb=2560 -malloc_limit_mb=2048)

status=0
summary=()
for t in "${targets[@]}"; do
  bin="$BUILD_DIR/fuzz/$t"
  export ASAN_OPTIONS="$ASAN_BASE"
  if [ "$t" = index_fuzz ]; then
    export ASAN_OPTIONS="$ASAN_BASE:fast_unwind_on_malloc=0"
  fi
  corpus="fuzz/corpus/$t"
  mkdir -p "$corpus"
  mapfile -t inputs < <(find "$corpus" -maxdepth 1 -type f ! -name 'open-*' | sort)
  mapfile -t open < <(find "$corpus" -maxdepth 1 -type f -name 'open-*' | sort)
  for o in "${open[@]}"; do echo "run-fuzz: $t: known open crash (not replayed): $o"; done

  # 1. Regression: each committed input once, no fuzzing.
  if ((${#inputs[@]} > 0)); then
    if ! "$bin" "${LIMITS[@]}" "${inputs[@]}" >"$BUILD_DIR/$t.replay.log" 2>&1; then
      echo "run-fuzz: $t: REPLAY FAILED (log: $BUILD_DIR/$t.replay.log)"
      tail -40 "$BUILD_DIR/$t.replay.log"
      status=1
      summary+=("$t: replay FAILED")
      continue
    fi
  fi
  result="$t: replayed ${#inputs[@]} inputs"

  # 2. Fuzzing for SECONDS_PER_TARGET seconds.
  replay_only=0
  for r in ${ARK_FUZZ_REPLAY_ONLY:-}; do
    if [ "$r" = "$t" ]; then replay_only=1; fi
  done
  if ((replay_only)); then
    summary+=("$result (replay only: ARK_FUZZ_REPLAY_ONLY)")
    continue
  fi
  if ((SECONDS_PER_TARGET > 0)); then
    work="$BUILD_DIR/corpus/$t"
    mkdir -p "$work"
    log="$BUILD_DIR/$t.fuzz.log"
    seed_flag=()
    if [ -n "${ARK_FUZZ_SEED:-}" ]; then seed_flag=(-seed="$ARK_FUZZ_SEED"); fi
    if "$bin" "${LIMITS[@]}" "${seed_flag[@]}" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
        -artifact_prefix="$corpus/" "$work" "$corpus" >"$log" 2>&1; then
      execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
      result+=", fuzzed ${SECONDS_PER_TARGET}s: ${execs:-?} executions, $(find "$work" -type f | wc -l) corpus entries, no crash"
    else
      echo "run-fuzz: $t: FUZZING FOUND A FAILURE (log: $log)"
      grep -E "ERROR|SUMMARY|invariant|Test unit written|deadly signal" "$log" | head -20 || true
      status=1
      result+=", fuzzing FAILED: see $log; the input is in $corpus/"
    fi
  fi
  summary+=("$result")
done

echo
echo "run-fuzz summary (${SECONDS_PER_TARGET}s per target):"
for line in "${summary[@]}"; do echo "  $line"; done
exit $status
