#!/usr/bin/env bash
# make check-layers: the layering the compiler cannot see.
#  1. Includes go downward only: core < {crypto, model} < {store, access, audit}
#     < {guard, identity, incident, training} < door (src/lib/door/, vault) < server < cli (the binary's entry,
#     which starts the server). A module may include itself and any module of a lower level,
#     never one of its own level or above (so identity/ includes no door header, and guard/,
#     identity/ and incident/ know nothing of each other).
#  2. The fronts (src/server, src/cli) reach data and keys only through the door: their
#     objects may not call the store, the keyring, the sealing or hashing functions, or
#     append to the audit log. The offline verifier (audit_verify_*: needs no key, reads a
#     copy of the log) and the key sources that open a vault (kek_source_*) are the door's
#     published inputs and stay callable.
#  3. door/door.h, the fronts' view of the door, pulls in no store/ or crypto/ header (not
#     even through another header), and the fronts call no identity_, kek_ or key-file
#     function: they hold a vault_key and door types, never a keyring, a store row or a hash.
#  4. No circle among the door's files: scripts/door-calls.sh derives which file calls which
#     from the objects (defined vs undefined symbols) and fails on a cycle; the same for
#     identity/.
# Prints "check_layers: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
level() {
    case $1 in
    core) echo 0 ;; crypto | model) echo 1 ;; store | access | audit) echo 2 ;;
    guard | identity | incident | training) echo 3 ;; door) echo 4 ;; server) echo 5 ;; cli) echo 6 ;; *) echo 9 ;;
    esac
}
module_of() { # path -> module
    case $1 in
    src/lib/door/*) echo door ;;
    src/lib/*/*) p=${1#src/lib/}; echo "${p%%/*}" ;;
    src/server/*) echo server ;; src/cli/*) echo cli ;; *) echo other ;;
    esac
}
ok=0 bad=0
for f in $(git ls-files 'src/*.c' 'src/*.h'); do
    m=$(module_of "$f"); lm=$(level "$m")
    while IFS= read -r inc; do
        [ -n "$inc" ] || continue
        t=${inc%%/*}
        [ "$inc" = "$t" ] && t=$(module_of "src/lib/$inc")
        case $inc in door.h | door_int.h | door/*) t=door ;; esac
        lt=$(level "$t")
        [ "$lt" = 9 ] && continue
        if [ "$t" != "$m" ] && [ "$lt" -ge "$lm" ]; then
            echo "  FAIL $f ($m, level $lm) includes $inc ($t, level $lt)"; bad=$((bad + 1))
        else ok=$((ok + 1)); fi
    done < <(grep -o '^#include "[^"]*"' "$f" | sed 's/#include "//; s/"$//')
done
FORBIDDEN='^(store_|sq_|keyring_|kek_(wrap|unwrap|derive)|seal_|envelope_|hash_|blind_|audit_(append|open|close|size|checkpoint)|backup_|password_|totp_|guard_store_)'
objs=$(ls build/rel/src/server/*.o build/rel/src/cli/*.o 2>/dev/null)
if [ -z "$objs" ]; then
    echo "  FAIL no objects under build/rel/src/{server,cli}: build build/custos first"; bad=$((bad + 1))
fi
for o in $objs; do
    while read -r sym; do
        echo "  FAIL $(basename "$o" .o) calls $sym past the door"; bad=$((bad + 1))
    done < <(nm -u "$o" | awk '{print $2}' | grep -E "$FORBIDDEN")
    ok=$((ok + 1))
done
for f in $(git grep -l sqlite3 -- src/lib/audit ':!src/lib/audit/audit_sqlite.c'); do echo "  FAIL $f speaks SQL: only audit/audit_sqlite.c may"; bad=$((bad + 1)); done
# 3. door.h's closure of includes (gcc -MM -MG: system headers left out, missing ones tolerated).
for inc in $(gcc -std=c17 -D_GNU_SOURCE -I. -Isrc/lib -Isrc -MM -MG -x c src/lib/door/door.h \
    | tr ' \\' '\n\n' | grep -E '^src/lib/(store|crypto)/'); do
    echo "  FAIL src/lib/door/door.h pulls in $inc"; bad=$((bad + 1))
done
ok=$((ok + 1))
for o in $objs; do
    while read -r sym; do
        echo "  FAIL $(basename "$o" .o) calls $sym (identity or key material) past the door"
        bad=$((bad + 1))
    done < <(nm -u "$o" | awk '{print $2}' | grep -E '^(identity_|kek_|key_file_)')
done
# 4. Circles among the files of the door and of identity.
for d in door identity; do
    if out=$(scripts/door-calls.sh "build/rel/src/lib/$d" 2>&1); then ok=$((ok + 1))
    else
        echo "$out" | grep -E '^(cycle|door-calls):' | sed "s/^/  FAIL $d: /"; bad=$((bad + 1))
    fi
done
echo "check_layers: $ok passed, $bad failed"
[ "$bad" -eq 0 ]
