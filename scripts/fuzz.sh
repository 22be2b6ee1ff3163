#!/usr/bin/env bash
# Builds the libFuzzer targets (test/fuzz) into build-fuzz/ with clang-19 and
# runs each for a fixed number of executions over a copy of its seed corpus:
#
#   bash scripts/fuzz.sh [runs]      # runs per target, default 1000000
#
# First it replays test/fuzz/regressions/<target>/ (see replay below). Any
# crash, sanitizer report, leak, input slower than 1 s or RSS above 2 GB makes
# the script exit 1; the offending inputs are kept under
# build-fuzz/fuzz-artifacts/<target>/ (reproduce: build-fuzz/bin/<target> FILE).
# Environment: FUZZ_TARGETS (default: all three), FUZZ_BUILD_DIR (build-fuzz),
# FUZZ_MAX_TOTAL_TIME (seconds per target, default 7200), JOBS (ninja -j).
# The last line printed is "fuzz: N targets, N executions, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-1000000}
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
TARGETS=${FUZZ_TARGETS:-fuzz-frontend fuzz-safetensors fuzz-runtime-args}
MAX_TOTAL_TIME=${FUZZ_MAX_TOTAL_TIME:-7200}
JOBS=${JOBS:-$(nproc)}

if ! command -v clang++-19 >/dev/null; then
  echo "fuzz: clang++-19 not found (bash scripts/install-deps.sh)"
  echo "fuzz: 0 targets, 0 executions, 1 failed"
  exit 1
fi

start=$(date +%s)
mkdir -p "$BUILD_DIR"
if ! cmake -G Ninja -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    -DMLPC_BUILD_FUZZERS=ON -DMLPC_BUILD_TESTS=OFF >"$BUILD_DIR/fuzz-cmake.log" 2>&1 ||
   ! ninja -C "$BUILD_DIR" -j "$JOBS" $TARGETS; then
  [ -f "$BUILD_DIR/fuzz-cmake.log" ] && tail -20 "$BUILD_DIR/fuzz-cmake.log"
  echo "fuzz: building the fuzzers failed"
  echo "fuzz: 0 targets, 0 executions, 1 failed"
  exit 1
fi
rm -f "$BUILD_DIR/fuzz-cmake.log"
echo "fuzz: built in $(($(date +%s) - start)) s"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Replays test/fuzz/regressions/<target>/*: inputs of fixed bugs must pass;
# known-bug-<n>-* reproduce open bugs (the harness steers around them unless
# MLPC_FUZZ_KNOWN_BUGS=<n>) and must still fail, else the bug is fixed and
# its reproducer, steering and XFAIL tests are to be updated.
replay() {
  local target=$1 bad=0 n=0 known=0 file name bug
  for file in test/fuzz/regressions/"$target"/*; do
    [ -f "$file" ] || continue
    n=$((n + 1))
    name=$(basename "$file")
    case "$name" in
    known-bug-[0-9]*)
      bug=${name#known-bug-}
      bug=${bug%%-*}
      if MLPC_FUZZ_KNOWN_BUGS=$bug "$BUILD_DIR/bin/$target" "$file" >/dev/null 2>&1; then
        echo "fuzz: $target: $name no longer fails: known bug $bug fixed? (XPASS)"
        bad=1
      else
        known=$((known + 1))
      fi
      ;;
    *)
      if ! "$BUILD_DIR/bin/$target" "$file" >"$BUILD_DIR/fuzz-logs/$target.replay.log" 2>&1; then
        echo "fuzz: $target: regression input $name fails again:"
        grep -E "ERROR: |runtime error:|SUMMARY:" "$BUILD_DIR/fuzz-logs/$target.replay.log" | head -5
        bad=1
      fi
      ;;
    esac
  done
  [ $n -eq 0 ] || echo "fuzz: $target: replayed $n regression inputs ($known known bugs still reproduce)"
  return $bad
}

failed=0 total=0 count=0
for target in $TARGETS; do
  count=$((count + 1))
  mkdir -p "$BUILD_DIR/fuzz-logs"
  if ! replay "$target"; then
    failed=$((failed + 1))
    continue
  fi
  corpus="$BUILD_DIR/fuzz-corpus/$target"      # a copy: new units go here
  artifacts="$BUILD_DIR/fuzz-artifacts/$target"
  log="$BUILD_DIR/fuzz-logs/$target.log"
  rm -rf "$corpus" && mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  cp test/fuzz/corpus/"$target"/* "$corpus"/
  t0=$(date +%s)
  "$BUILD_DIR/bin/$target" "$corpus" -runs="$RUNS" \
    -max_total_time="$MAX_TOTAL_TIME" -timeout=1 -rss_limit_mb=2048 \
    -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    >"$log" 2>&1
  rc=$?
  seconds=$(($(date +%s) - t0))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=${execs:-0}
  total=$((total + execs))
  if [ $rc -ne 0 ]; then
    failed=$((failed + 1))
    echo "fuzz: $target FAILED (exit $rc) after $execs executions in $seconds s:"
    grep -E "ERROR: |runtime error:|SUMMARY:|Test unit written|ALARM|out-of-memory" "$log" | head -20
    echo "fuzz:   full log $log"
  else
    echo "fuzz: $target: $execs executions in $seconds s, no crashes ($(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | sed 's/^#[0-9]*[[:space:]]*DONE[[:space:]]*//'))"
    if [ "$execs" -lt "$RUNS" ]; then
      echo "fuzz: warning: $target stopped by -max_total_time=$MAX_TOTAL_TIME before $RUNS executions"
    fi
  fi
done
echo "fuzz: $count targets, $total executions, $failed failed"
[ $failed -eq 0 ]
