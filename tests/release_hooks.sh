#!/usr/bin/env bash
# The release binary ignores the test hooks. CUSTOS_TEST_KDF=fast (the minimum Argon2id cost for
# passwords and the keyring) and CUSTOS_CLOCK_OFFSET_S (a shifted wall clock) are read only by
# test builds (CUSTOS_TESTING). Each check runs against the release binary, which must ignore
# the variables, and against a test build, which must obey them: that shows the checks can see
# the hooks when they are there. The fault-injection functions (audit_fail_next, fault_*) must
# not be linked into the release binary at all. Prints "release_hooks: N passed, N failed".
#
#   tests/release_hooks.sh [RELEASE_BIN] [TEST_BIN]
set -u
rel=${1:-build/custos}
tst=${2:-build/san/custos}
ok=0 bad=0
pass() { ok=$((ok + 1)); }
fail() { bad=$((bad + 1)); echo "  FAIL $*"; }
for b in "$rel" "$tst"; do
    if [ ! -x "$b" ]; then
        fail "$b is missing"
        echo "release_hooks: $ok passed, $bad failed"
        exit 1
    fi
done
d=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill -KILL "$srv" 2>/dev/null; rm -rf "$d"' EXIT
OFFSET_S=864000000 # 10,000 days: unmistakable in any timestamp

# Argon2id parameters of an account's password hash ("m=65536,t=2") and of a passphrase
# keyring's header ("ops mem"), and the time of the first audit entry (seconds from now).
pw_params() {
    python3 -c 'import sqlite3,sys,re
h=sqlite3.connect(sys.argv[1]).execute("select pwhash from accounts where username=?",("admin",)).fetchone()[0]
print(re.search(r"\$(m=[0-9]+,t=[0-9]+)",h).group(1))' "$1/custos.db"
}
kr_params() {
    python3 -c 'import sys
b=open(sys.argv[1],"rb").read()
print(int.from_bytes(b[10:18],"big"), int.from_bytes(b[18:26],"big"))' "$1/keyring"
}
audit_skew() {
    python3 -c 'import sqlite3,sys,time
ts=sqlite3.connect(sys.argv[1]).execute("select ts from entries order by idx limit 1").fetchone()[0]
print(round(ts/1e6 - time.time()))' "$1/audit.db"
}
near() { [ "${1#-}" -lt 3600 ]; } # seconds
shifted() { [ $(($1 - OFFSET_S)) -gt -3600 ] && [ $(($1 - OFFSET_S)) -lt 3600 ]; }

# The server's first log line: its timestamp, and whether it warns of a shifted clock.
server_log() { # bin vault key -> prints "skew warned"
    local bin=$1 v=$2 k=$3 port=$d/port.$RANDOM log=$d/serve.$RANDOM
    CUSTOS_CLOCK_OFFSET_S=$OFFSET_S "$bin" serve "$v" --listen 127.0.0.1:0 --port-file "$port" \
        --key-file "$k" --threads 2 2>"$log" >/dev/null &
    srv=$!
    local deadline=$((SECONDS + 60))
    while [ ! -s "$port" ] && [ $SECONDS -lt $deadline ] && kill -0 "$srv" 2>/dev/null; do
        sleep 0.1
    done
    kill -TERM "$srv" 2>/dev/null
    wait "$srv" 2>/dev/null
    srv=
    python3 -c 'import json,sys,time,calendar
first=json.loads(open(sys.argv[1]).readline())
t=calendar.timegm(time.strptime(first["ts"][:19],"%Y-%m-%dT%H:%M:%S"))
warned=any("clock.offset" in l for l in open(sys.argv[1]))
print(round(t-time.time()), int(warned))' "$log" 2>/dev/null || echo "x x"
}

for kind in release test; do
    if [ $kind = release ]; then bin=$rel; else bin=$tst; fi
    v=$d/$kind-demo k=$d/$kind.key
    "$bin" keys generate "$k" >/dev/null
    if ! CUSTOS_TEST_KDF=fast CUSTOS_CLOCK_OFFSET_S=$OFFSET_S CUSTOS_DEMO_PASSWORD=demo-password-1 \
        "$bin" demo "$v" --customers 1 --key-file "$k" >/dev/null 2>&1; then
        fail "$kind: custos demo failed"
        continue
    fi
    CUSTOS_TEST_KDF=fast CUSTOS_PASSPHRASE="correct horse battery staple" "$bin" init "$d/$kind-init" \
        >/dev/null 2>&1 || fail "$kind: custos init failed"
    pw=$(pw_params "$v" 2>/dev/null)
    kr=$(kr_params "$d/$kind-init" 2>/dev/null)
    skew=$(audit_skew "$v" 2>/dev/null)
    read -r sskew warned <<<"$(server_log "$bin" "$v" "$k")"
    syms=$(nm "$bin" 2>/dev/null | awk '$2 ~ /^[TtWw]$/ {print $3}' | grep -E '^(audit_fail_next|fault_)' | tr '\n' ' ')
    if [ $kind = release ]; then
        # Fault injection is not linked into the release binary at all.
        [ -z "$syms" ] && pass || fail "release: test hooks linked in: $syms"
        # libsodium's interactive cost for passwords, moderate for a passphrase keyring
        [ "$pw" = "m=65536,t=2" ] && pass || fail "release: CUSTOS_TEST_KDF=fast changed the password hash cost ($pw)"
        [ "$kr" = "3 268435456" ] && pass || fail "release: CUSTOS_TEST_KDF=fast changed the keyring KDF cost ($kr)"
        [[ $skew =~ ^-?[0-9]+$ ]] && near "$skew" && pass ||
            fail "release: CUSTOS_CLOCK_OFFSET_S moved the audit log's clock by $skew s"
        [[ $sskew =~ ^-?[0-9]+$ ]] && near "$sskew" && [ "$warned" = 0 ] && pass ||
            fail "release: CUSTOS_CLOCK_OFFSET_S moved the server's clock ($sskew s, warned=$warned)"
    else
        [[ " $syms" == *" audit_fail_next "* ]] && pass || fail "test build: no audit_fail_next symbol"
        [ "$pw" = "m=8,t=1" ] && pass || fail "test build: CUSTOS_TEST_KDF=fast had no effect on passwords ($pw)"
        [ "$kr" = "1 8192" ] && pass || fail "test build: CUSTOS_TEST_KDF=fast had no effect on the keyring ($kr)"
        [[ $skew =~ ^-?[0-9]+$ ]] && shifted "$skew" && pass ||
            fail "test build: CUSTOS_CLOCK_OFFSET_S had no effect on the audit log ($skew s)"
        [[ $sskew =~ ^-?[0-9]+$ ]] && shifted "$sskew" && [ "$warned" = 1 ] && pass ||
            fail "test build: CUSTOS_CLOCK_OFFSET_S had no effect on the server ($sskew s, warned=$warned)"
    fi
done
echo "release_hooks: $ok passed, $bad failed"
[ $bad -eq 0 ]
