#!/usr/bin/env bash
# The list of audit actions in docs/FORMATS.md against the one table that defines them,
# src/lib/audit/actions.def, both ways: every action of the table documented, every
# documented action in the table, with the same words.
#   scripts/audit-actions.sh           check (prints "audit_actions: N passed, N failed")
#   scripts/audit-actions.sh --write   regenerate the docs' list from the table
# DEF and DOC may name other files (the suite's own test of this check uses that).
set -u
cd "$(dirname "$0")/.."
DEF=${DEF:-src/lib/audit/actions.def}
DOC=${DOC:-docs/FORMATS.md}
BEGIN='<!-- audit-actions: generated from src/lib/audit/actions.def by scripts/audit-actions.sh --write -->'
END='<!-- audit-actions: end -->'
table() { # the docs' rows, from the table
    echo '| action | records |'
    echo '|---|---|'
    sed -nE 's/^AUDIT_ACTION\("([^"]+)", "([^"]*)"\)$/| `\1` | \2 |/p' "$DEF"
}
documented() { # the rows between the markers
    awk -v b="$BEGIN" -v e="$END" '$0 == e {on = 0} on {print} $0 == b {on = 1}' "$DOC"
}
if [ "${1:-}" = --write ]; then
    grep -qxF "$BEGIN" "$DOC" && grep -qxF "$END" "$DOC" || { echo "no markers in $DOC" >&2; exit 1; }
    tmp=$(mktemp)
    awk -v b="$BEGIN" -v e="$END" -v rows="$(table)" \
        '$0 == b {print; print rows; skip = 1; next} $0 == e {skip = 0} !skip {print}' "$DOC" >"$tmp"
    cat "$tmp" >"$DOC"; rm -f "$tmp"
    exit 0
fi
ok=0 bad=0
if ! grep -qxF "$BEGIN" "$DOC" || ! grep -qxF "$END" "$DOC"; then
    echo "  FAIL $DOC has no generated list of audit actions"; bad=$((bad + 1))
fi
n=$(grep -c '^AUDIT_ACTION(' "$DEF")
m=$(table | wc -l)
if [ "$n" -eq 0 ] || [ "$m" -ne $((n + 2)) ]; then
    echo "  FAIL $DEF: $n AUDIT_ACTION lines, $((m - 2)) readable"; bad=$((bad + 1))
fi
names_def=$(sed -nE 's/^AUDIT_ACTION\("([^"]+)".*/\1/p' "$DEF" | sort)
names_doc=$(documented | sed -nE 's/^\| `([^`]+)` \|.*/\1/p' | sort)
while read -r a; do
    [ -n "$a" ] && { echo "  FAIL action $a is in $DEF but not documented in $DOC"; bad=$((bad + 1)); }
done < <(comm -23 <(echo "$names_def") <(echo "$names_doc"))
while read -r a; do
    [ -n "$a" ] && { echo "  FAIL action $a is documented in $DOC but not in $DEF"; bad=$((bad + 1)); }
done < <(comm -13 <(echo "$names_def") <(echo "$names_doc"))
if [ "$bad" -eq 0 ] && ! diff -u <(documented) <(table) >/dev/null; then
    echo "  FAIL the list in $DOC differs from $DEF (run scripts/audit-actions.sh --write):"
    diff -u <(documented) <(table) | sed -n '3,12p' | sed 's/^/    /'
    bad=$((bad + 1))
fi
dups=$(echo "$names_def" | uniq -d)
[ -z "$dups" ] || { echo "  FAIL listed twice in $DEF: $dups"; bad=$((bad + 1)); }
[ "$bad" -eq 0 ] && ok=1
echo "audit_actions: $ok passed, $bad failed"
[ "$bad" -eq 0 ]
