#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: BATON_TEST_POSTGRES_URL
# points at it while the command runs, and the cluster is removed afterwards.
# Installs Debian's postgresql package when no server is on the machine.
# If BATON_TEST_POSTGRES_URL is already set, the command just runs.
#
# With --replica first, a hot standby streams from that primary too
# (pg_basebackup -R), on a port of its own: BATON_TEST_POSTGRES_REPLICA_URL
# points at it. If both variables are already set, the command just runs.
set -euo pipefail

replica=
if [ "${1:-}" = --replica ]; then
  replica=1
  shift
fi
if [ -n "${BATON_TEST_POSTGRES_URL:-}" ] && { [ -z "$replica" ] || [ -n "${BATON_TEST_POSTGRES_REPLICA_URL:-}" ]; }; then
  exec "$@"
fi

find_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

bin=$(find_bin)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "with-postgres: installing PostgreSQL from Debian's packages" >&2
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 $SUDO apt-get update -qq >/dev/null || timeout 600 $SUDO apt-get update -qq >/dev/null
  timeout 900 $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null \
    || timeout 900 $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  bin=$(find_bin)
fi

# PostgreSQL refuses to run as root: run it as the postgres user when we are root.
run_pg() { "$@"; }
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  run_pg() { runuser -u postgres -- "$@"; }
fi

dir=$(mktemp -d /tmp/baton-pg.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
port=${BATON_PG_PORT:-$(( 20000 + RANDOM % 20000 ))}
standby_port=$(( port + 1 ))

cleanup() {
  [ -d "$dir/standby" ] && run_pg "$bin/pg_ctl" -D "$dir/standby" -m immediate stop >/dev/null 2>&1 || true
  run_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

# wal_level=replica and max_wal_senders are PostgreSQL's defaults, and
# initdb -A trust lets 127.0.0.1 connect for replication: a standby needs
# nothing more of the primary.
settings="-k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB"
run_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >/dev/null
run_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-p $port $settings -c wal_level=replica" start >/dev/null

export BATON_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
echo "with-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on port $port" >&2
if [ -n "$replica" ]; then
  # A copy of the primary that starts as a standby (-R writes
  # standby.signal and primary_conninfo), streaming the WAL as it comes.
  run_pg "$bin/pg_basebackup" -D "$dir/standby" -h 127.0.0.1 -p "$port" -U postgres -R -X stream >/dev/null
  run_pg "$bin/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" -w -o "-p $standby_port $settings -c hot_standby=on" start >/dev/null
  export BATON_TEST_POSTGRES_REPLICA_URL="postgres://postgres@127.0.0.1:$standby_port/postgres?sslmode=disable"
  echo "with-postgres: a hot standby of it on port $standby_port" >&2
fi
"$@"
