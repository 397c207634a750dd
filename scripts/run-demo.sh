#!/usr/bin/env bash
# `make run`: the demo vault (made once, reused afterwards) and the server on it.
# Everything under var/ is DEMO ONLY: the master key sits next to the vault, which a real
# deployment must never do (see README, "Your own data").
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/custos
VAR=var
DIR=$VAR/demo-vault
KEY=$VAR/DEMO-ONLY-master.key
PWF=$VAR/DEMO-ONLY-password
WITNESS=$VAR/demo-witness
LISTEN=${CUSTOS_LISTEN:-127.0.0.1:8443}
umask 077
mkdir -p "$VAR" "$WITNESS"
chmod 700 "$VAR" "$WITNESS"
[ -f "$KEY" ] || "$BIN" keys generate "$KEY" >/dev/null
if [ ! -f "$PWF" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 20 >"$PWF")
fi
PW=$(cat "$PWF")
# The marker names the demo's layout; a vault made by an older layout is made again.
DEMO_LAYOUT=5 # 4: the starter training curriculum; 5: a past drill, run for real and closed
if [ ! -f "$DIR/keyring" ] || [ "$(cat "$DIR/.demo-complete" 2>/dev/null)" != "$DEMO_LAYOUT" ]; then
    rm -rf "$DIR" "$WITNESS"/checkpoints.log
    echo "creating the demo vault in $DIR (${DEMO_CUSTOMERS:-1000} customers)..."
    # Every signed checkpoint also goes to a witness apart from the vault folder: a vault
    # put back from an older copy no longer matches it (docs/OPERATIONS.md). In production
    # the witness lives where the server's operators cannot rewrite it.
    mkdir -m 700 "$DIR"
    cat >"$DIR/custos.json" <<JSON
{
  "access": {"second_factor": "off"},
  "audit": {"witness_file": "$PWD/$WITNESS/checkpoints.log"}
}
JSON
    CUSTOS_DEMO_PASSWORD="$PW" "$BIN" demo "$DIR" --key-file "$KEY" --customers "${DEMO_CUSTOMERS:-1000}" --drill
    echo "$DEMO_LAYOUT" >"$DIR/.demo-complete"
else
    echo "reusing the demo vault in $DIR"
fi
URL="https://$LISTEN"
cat <<TXT

Custos (demo) on $URL  — self-signed certificate: $DIR/tls/cert.pem

  web console: $URL/   (sign in as service1, steward1, sales1, security1, admin ...
                        with the demo password below; accept the self-signed certificate)
DEMO ONLY: master key $KEY, password for every demo account in $PWF: $PW
accounts: sales1 service1 steward1 steward3 (beijing), sales2 steward2 (shanghai),
          security1 legal1 hr1 auditor1 admin
second factor: OFF in this demo vault only (custos.json); four honeytokens are planted
audit witness: every signed checkpoint is appended to $WITNESS/checkpoints.log

  # log in with the CLI and look around
  export CUSTOS_ADDR=$URL CUSTOS_CACERT=$PWD/$DIR/tls/cert.pem
  CUSTOS_PASSWORD=$PW $BIN login steward1
  $BIN customers list
  $BIN customers search --phone 13800138000

  # or with curl
  curl --cacert $DIR/tls/cert.pem -d '{"username":"steward1","password":"$PW"}' $URL/v1/login

Ctrl-C stops the server (in-flight requests are drained first).
TXT
exec "$BIN" serve "$DIR" --key-file "$KEY" --listen "$LISTEN"
