#!/usr/bin/env bash
# Runs the whole suite and ends with the one closing line "N passed, N failed".
# Unit and integration binaries print their own "name: N passed, N failed" lines;
# each fuzz target's corpus replay counts as one test. TSAN_TESTS are unit binaries built with
# ThreadSanitizer: their lines read "tsan <name>: ..."; any race report fails the binary.
# ONLY_TSAN=1 (make tsan) runs those alone.
set -u
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export CUSTOS_BIN=${CUSTOS_BIN:-build/san/custos}
export CUSTOS_TEST_KDF=fast
# Every report is printed (not only the first), then the binary exits 66: counted as failed.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0:exitcode=66:second_deadlock_stack=1}
label=
passed=0 failed=0
log=$(mktemp -d)/suite.log
run_counted() { # binary
    local out rc p f
    out=$("$@" 2>&1); rc=$?
    printf '%s\n' "$out" >>"$log"
    printf '%s\n' "$out" | grep -E '^(  FAIL|not ok)' || true
    local line
    line=$(printf '%s\n' "$out" | grep -E ': [0-9]+ passed, [0-9]+ failed$' | tail -n1)
    if [ -n "$line" ]; then
        p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/' <<<"$line")
        f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/' <<<"$line")
        echo "$label$line"
    else
        p=0; f=1
        echo "$label$1: crashed or printed no summary (exit $rc)"; printf '%s\n' "$out" | tail -n 30
    fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1; echo "$label$1: exit status $rc"
        printf '%s\n' "$out" | grep -E -A12 '^WARNING: ThreadSanitizer' | head -n 60
        printf '%s\n' "$out" | tail -n 30
    fi
    passed=$((passed + p)); failed=$((failed + f))
}
tsan_run() {
    label="tsan "
    for t in ${TSAN_TESTS:-}; do run_counted "$t"; done
    label=
}
if [ "${ONLY_TSAN:-0}" = 1 ]; then
    tsan_run
    echo "full log: $log"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
    exit
fi
for t in ${UNIT:-}; do run_counted "$t"; done
tsan_run
for t in ${FUZZ:-}; do
    name=$(basename "$t")
    if out=$("$t" "tests/fuzz/corpus/$name" 2>&1); then
        passed=$((passed + 1)); echo "$name: corpus replay ok ($(tail -n1 <<<"$out"))"
    else
        failed=$((failed + 1)); echo "$name: corpus replay FAILED"; tail -n 30 <<<"$out"
    fi
done
for t in ${INTEG:-}; do run_counted "$t"; done
run_counted bash tests/console_unit.sh
if [ "${BROWSER:-0}" = 1 ]; then run_counted node tests/browser/run.mjs; fi
run_counted bash tests/build_check.sh
run_counted bash scripts/check-layers.sh
run_counted bash scripts/check-format.sh
run_counted bash tests/audit_actions_test.sh
run_counted bash tests/valgrind_smoke.sh "${RELEASE_BIN:-build/custos}"
run_counted bash tests/release_hooks.sh "${RELEASE_BIN:-build/custos}" "$CUSTOS_BIN"
echo "full log: $log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
