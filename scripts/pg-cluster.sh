#!/usr/bin/env bash
# pg-cluster.sh start|stop|url DIR - a throwaway PostgreSQL 15 cluster for the tests.
#
#   start DIR  makes DIR (0700) and in it a cluster (initdb), listening on 127.0.0.1 only, on a
#              free port, its unix socket inside DIR, TLS on with a self-signed certificate made
#              here (for 127.0.0.1), password authentication (SCRAM) over TLS only, a generated
#              password in DIR/password and DIR/pgpass (0600); waits until the server answers
#              (pg_isready, with a deadline), makes the database "custos" and prints the
#              location Custos opens (also in DIR/url). Never a fixed sleep. Commits are not
#              flushed to disk (fsync off) unless PG_CLUSTER_DURABLE=1.
#   stop DIR   stops the cluster and removes DIR (only a folder this script made).
#   restart DIR  restarts the server (every connection is cut), waits until it answers again.
#   url DIR    prints the location again.
#
# The location names no password: libpq reads it from DIR/pgpass (passfile=), and
# CUSTOS_PG_PASSWORD_FILE=DIR/password works as well. sslmode=verify-full checks the server's
# certificate against DIR/server.crt.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
MARK=.custos-pg-cluster
# PostgreSQL refuses to run as root: as root, the server runs as the unprivileged user
# PG_CLUSTER_USER (postgres), which then owns DIR; root keeps reading its files.
RUN=()
if [ "$(id -u)" -eq 0 ]; then
    RUN=(runuser -u "${PG_CLUSTER_USER:-postgres}" --)
fi
DEADLINE_S=${PG_CLUSTER_DEADLINE_S:-60}

die() {
    echo "pg-cluster: $*" >&2
    exit 1
}

[ $# -eq 2 ] || die "usage: $0 start|stop|restart|url DIR"
cmd=$1
dir=$2

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() {
    local port=$1 end=$((SECONDS + DEADLINE_S))
    while ! "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -t 2; do
        [ "$SECONDS" -lt "$end" ] || return 1
        # The postmaster gone (a port taken meanwhile): no point in waiting.
        "${RUN[@]}" "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 || return 1
    done
}

start() {
    [ ! -e "$dir" ] || [ -z "$(ls -A "$dir" 2>/dev/null)" ] || die "$dir is not empty"
    umask 077
    mkdir -p "$dir"
    chmod 700 "$dir"
    dir=$(cd "$dir" && pwd)
    touch "$dir/$MARK"
    mkdir -m 700 "$dir/sock"
    # The password: 32 letters and digits from the kernel's generator.
    local pw
    pw=$(head -c 64 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)
    [ ${#pw} -eq 32 ] || die "could not make a password"
    printf '%s' "$pw" >"$dir/password"
    chmod 600 "$dir/password"
    if [ ${#RUN[@]} -gt 0 ]; then
        chown -R "${PG_CLUSTER_USER:-postgres}" "$dir"
        "${RUN[@]}" test -x "$dir" ||
            die "the user ${PG_CLUSTER_USER:-postgres} cannot reach $dir (a parent folder, perhaps / itself, is closed to it)"
    fi
    "${RUN[@]}" "$PGBIN/initdb" -D "$dir/data" -U custos --auth=scram-sha-256 --pwfile="$dir/password" \
        -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || die "initdb failed (see $dir/initdb.log)"
    # A self-signed certificate for 127.0.0.1 (the client checks it: sslmode=verify-full).
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
        -keyout "$dir/server.key" -out "$dir/server.crt" >/dev/null 2>&1 ||
        die "openssl could not make the certificate"
    chmod 600 "$dir/server.key"
    [ ${#RUN[@]} -eq 0 ] || chown "${PG_CLUSTER_USER:-postgres}" "$dir/server.key" "$dir/server.crt"
    cat >"$dir/data/pg_hba.conf" <<EOF
# TLS and a password, from loopback only; the socket in $dir/sock for the owner's tools.
local    all all                scram-sha-256
hostssl  all all 127.0.0.1/32   scram-sha-256
host     all all 0.0.0.0/0      reject
host     all all ::/0           reject
EOF
    # A throwaway cluster need not survive a power cut: no flush per commit, unless
    # PG_CLUSTER_DURABLE=1 (tests of what a crash of the machine leaves).
    local durability="fsync = off
synchronous_commit = off
full_page_writes = off"
    [ "${PG_CLUSTER_DURABLE:-0}" = 1 ] && durability=""
    local port tries=0
    while :; do
        port=$(free_port)
        cat >"$dir/data/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/sock'
unix_socket_permissions = 0700
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
ssl_min_protocol_version = 'TLSv1.2'
password_encryption = 'scram-sha-256'
max_connections = 300
$durability
log_min_messages = warning
log_statement = 'none'
EOF
        if "${RUN[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" start >/dev/null 2>&1 &&
            wait_ready "$port"; then
            break
        fi
        "${RUN[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
        tries=$((tries + 1))
        [ $tries -lt 5 ] || die "the server did not start (see $dir/server.log)"
    done
    echo "$port" >"$dir/port"
    printf '127.0.0.1:%s:*:custos:%s\n' "$port" "$pw" >"$dir/pgpass"
    chmod 600 "$dir/pgpass"
    PGPASSFILE="$dir/pgpass" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
        "host=127.0.0.1 port=$port user=custos dbname=postgres sslmode=verify-full sslrootcert=$dir/server.crt" \
        -c "CREATE DATABASE custos" >/dev/null || die "could not make the database"
    local url="postgres://custos@127.0.0.1:$port/custos?sslmode=verify-full&sslrootcert=$dir/server.crt&passfile=$dir/pgpass"
    echo "$url" >"$dir/url"
    echo "$url"
}

stop() {
    [ -f "$dir/$MARK" ] || die "$dir was not made by this script"
    if [ -d "$dir/data" ]; then
        "${RUN[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 ||
            "${RUN[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf -- "$dir"
}

restart() {
    [ -f "$dir/$MARK" ] && [ -f "$dir/port" ] || die "no cluster in $dir"
    "${RUN[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w restart -l "$dir/server.log" \
        >/dev/null 2>&1 || die "the server did not restart (see $dir/server.log)"
    wait_ready "$(cat "$dir/port")" || die "the server did not come back (see $dir/server.log)"
}

case "$cmd" in
start) start ;;
stop) stop ;;
restart) restart ;;
url)
    [ -f "$dir/url" ] || die "no cluster in $dir"
    cat "$dir/url"
    ;;
*) die "usage: $0 start|stop|restart|url DIR" ;;
esac
