#!/usr/bin/env bash
# The check of the docs' audit actions against src/lib/audit/actions.def must hold for the
# tree as it is and fail on each kind of difference: an action missing from the docs, one
# documented but not in the table, and changed words. Prints "audit_actions_test: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
ok=0 bad=0
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
expect() { # want(0|1) what cmd...
    local want=$1 what=$2; shift 2
    "$@" >"$t/out" 2>&1; local rc=$?
    if { [ "$want" = 0 ] && [ $rc -eq 0 ]; } || { [ "$want" = 1 ] && [ $rc -ne 0 ]; }; then
        ok=$((ok + 1))
    else
        echo "  FAIL $what (exit $rc)"; sed 's/^/    /' "$t/out" | head -n 8; bad=$((bad + 1))
    fi
}
expect 0 "the tree's docs match the table" bash scripts/audit-actions.sh
# an action only in the table
cp src/lib/audit/actions.def "$t/more.def"
echo 'AUDIT_ACTION("test.only_in_table", "nothing")' >>"$t/more.def"
expect 1 "an action missing from the docs is caught" env DEF="$t/more.def" bash scripts/audit-actions.sh
grep -q 'test.only_in_table is in' "$t/out" || { echo "  FAIL the message does not name the action"; bad=$((bad + 1)); }
# an action only in the docs
grep -v '"customer.read"' src/lib/audit/actions.def >"$t/less.def"
expect 1 "an action documented but not in the table is caught" env DEF="$t/less.def" bash scripts/audit-actions.sh
grep -q 'customer.read is documented' "$t/out" || { echo "  FAIL the message does not name the action"; bad=$((bad + 1)); }
# other words for an action
sed 's/"a customer created"/"a customer made"/' src/lib/audit/actions.def >"$t/words.def"
expect 1 "changed words are caught" env DEF="$t/words.def" bash scripts/audit-actions.sh
# --write brings a stale copy of the docs back in line
cp docs/FORMATS.md "$t/FORMATS.md"
expect 0 "--write regenerates the list" env DEF="$t/more.def" DOC="$t/FORMATS.md" bash scripts/audit-actions.sh --write
expect 0 "and the regenerated docs pass" env DEF="$t/more.def" DOC="$t/FORMATS.md" bash scripts/audit-actions.sh
echo "audit_actions_test: $ok passed, $bad failed"
[ "$bad" -eq 0 ]
