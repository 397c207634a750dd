#!/usr/bin/env bash
# The release server under valgrind (memcheck): a demo vault, a login, reads, a search, an
# unknown route, a honeytoken read and its alert, metrics, then SIGTERM. Passes only with no
# memcheck error and no definite leak. Prints "valgrind_smoke: N passed, N failed".
# The release binary reads no test hook (CUSTOS_TEST_KDF is a test build's), so passwords cost
# the real Argon2id here: a login under memcheck takes seconds. Every wait polls with a deadline.
set -u
bin=${1:-build/custos}
if ! command -v valgrind >/dev/null || [ ! -x "$bin" ]; then
    echo "valgrind_smoke: skipped (valgrind or $bin missing)"; echo "valgrind_smoke: 0 passed, 0 failed"; exit 0
fi
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
"$bin" keys generate "$d/k" >/dev/null
CUSTOS_DEMO_PASSWORD=demo-password-for-tests "$bin" demo "$d/v" --customers 5 \
    --key-file "$d/k" >/dev/null 2>&1
valgrind --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
    "$bin" serve "$d/v" --listen 127.0.0.1:0 --port-file "$d/port" --key-file "$d/k" --threads 4 \
    --metrics-listen 127.0.0.1:0 >"$d/out" 2>"$d/err" &
vg=$!
deadline=$((SECONDS + 60))
until [ -s "$d/port" ] || [ $SECONDS -ge $deadline ] || ! kill -0 $vg 2>/dev/null; do sleep 0.2; done
p=$(head -n1 "$d/port" 2>/dev/null); mp=$(sed -n 2p "$d/port" 2>/dev/null)
c=(curl -s --max-time 30 --cacert "$d/v/tls/cert.pem")
tok() { "${c[@]}" -X POST "https://127.0.0.1:$p/v1/login" -d "{\"username\":\"$1\",\"password\":\"demo-password-for-tests\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("token",""))'; }
ok=0; bad=0
check() { if "$@" >/dev/null 2>&1; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "  FAIL $*"; fi; }
t=$(tok steward1); s=$(tok security1)
check test -n "$t"
check "${c[@]}" -f -H "Authorization: Bearer $t" "https://127.0.0.1:$p/v1/customers?limit=3"
check "${c[@]}" -f -H "Authorization: Bearer $t" "https://127.0.0.1:$p/v1/customers?phone=13800138000"
"${c[@]}" -H "Authorization: Bearer $t" "https://127.0.0.1:$p/v1/no-such-route" >/dev/null
h=$("${c[@]}" -H "Authorization: Bearer $s" "https://127.0.0.1:$p/v1/honeytokens" |
    python3 -c 'import json,sys; print([h["id"] for h in json.load(sys.stdin)["honeytokens"] if h["department"] == "beijing"][0])')
check "${c[@]}" -f -H "Authorization: Bearer $t" "https://127.0.0.1:$p/v1/customers/$h"
# The alert is raised by the guard's thread after the read: poll for it, with a deadline.
alert() { "${c[@]}" -H "Authorization: Bearer $s" "https://127.0.0.1:$p/v1/alerts" | grep -q honeytoken; }
deadline=$((SECONDS + 60))
until alert || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
check alert
check sh -c "curl -s -f --max-time 30 'http://127.0.0.1:$mp/metrics' | grep -q custos_ready"
check test "$("${c[@]}" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$p/metrics")" = 404
check "${c[@]}" -f "https://127.0.0.1:$p/readyz"
kill -TERM $vg
wait $vg
rc=$?
if [ $rc -eq 0 ] && grep -q 'ERROR SUMMARY: 0 errors' "$d/err"; then
    ok=$((ok + 1))
else
    bad=$((bad + 1)); echo "  FAIL valgrind (exit $rc)"; grep -E 'ERROR SUMMARY|definitely|Invalid|uninitialised' "$d/err" | head -20
fi
echo "valgrind_smoke: $ok passed, $bad failed"
[ $bad -eq 0 ]
