#!/usr/bin/env bash
# The console's own modules under Node's test runner (tests/console/*.test.mjs: the in-browser
# proof checker against the RFC 6962 vectors and the C Merkle code's answers, the views'
# dictionaries). Prints "console_unit: N passed, N failed".
cd "$(dirname "$0")/.."
out=$(node --test tests/console/ 2>&1); rc=$?
pass=$(printf '%s\n' "$out" | sed -n 's/^# pass //p' | tail -n1)
fail=$(printf '%s\n' "$out" | sed -n 's/^# fail //p' | tail -n1)
[ "$rc" -eq 0 ] || printf '%s\n' "$out" | grep -E '^not ok|Error' | head -n 20
echo "console_unit: ${pass:-0} passed, ${fail:-1} failed"
[ "$rc" -eq 0 ]
