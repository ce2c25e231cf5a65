# shellcheck shell=bash
# A throwaway PostgreSQL cluster for the tests and scripts: `ga_postgres_start`
# runs initdb and pg_ctl as the `postgres` user (initdb refuses root) in a
# temporary directory, on a free loopback port, and exports
# GUESTACCESS_TEST_POSTGRES_URL (postgres://postgres@127.0.0.1:PORT, no
# database); `ga_postgres_stop` stops it and removes the directory (Scripts/test
# calls it from an EXIT trap); `ga_postgres_crash_restart` crashes and
# restarts it (Scripts/crash-test --kill-postgres). Durability is off (fsync=off: the cluster
# lives for one run) unless GA_POSTGRES_DURABLE=1 (benchmarks). Needs Debian's
# postgresql package.

ga_postgres_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x "$dir/initdb" ]] && { echo "$dir"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  echo "PostgreSQL's initdb was not found (install Debian's postgresql package)" >&2
  return 1
}

ga_postgres_start() {
  local bin port as_postgres=() durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [[ "${GA_POSTGRES_DURABLE:-0}" == 1 ]] && durability=""
  bin="$(ga_postgres_bin)" || return 1
  GA_POSTGRES_DIR="$(mktemp -d /tmp/ga-postgres.XXXXXX)"
  chmod 0755 "$GA_POSTGRES_DIR"
  if [[ "$(id -u)" -eq 0 ]]; then
    chown postgres: "$GA_POSTGRES_DIR"
    as_postgres=(runuser -u postgres --)
  fi
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "${as_postgres[@]}" "$bin/initdb" -D "$GA_POSTGRES_DIR/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$GA_POSTGRES_DIR/initdb.log" 2>&1 \
    || { cat "$GA_POSTGRES_DIR/initdb.log" >&2; return 1; }
  GA_POSTGRES_OPTIONS="-c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$GA_POSTGRES_DIR $durability -c max_connections=1000 -c shared_buffers=32MB"
  "${as_postgres[@]}" "$bin/pg_ctl" -D "$GA_POSTGRES_DIR/data" -l "$GA_POSTGRES_DIR/server.log" -w -o "$GA_POSTGRES_OPTIONS" \
    start >/dev/null || { cat "$GA_POSTGRES_DIR/server.log" >&2; return 1; }
  GA_POSTGRES_BIN="$bin"
  GA_POSTGRES_AS=("${as_postgres[@]}")
  export GUESTACCESS_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port"
  echo "PostgreSQL test cluster on $GUESTACCESS_TEST_POSTGRES_URL ($GA_POSTGRES_DIR)" >&2
}

# Crashes the cluster (immediate stop: every process quits at once, no
# shutdown checkpoint, WAL still in shared memory is lost) and starts it
# again, which replays the WAL as after a power cut of the server processes.
ga_postgres_crash_restart() {
  "${GA_POSTGRES_AS[@]}" "$GA_POSTGRES_BIN/pg_ctl" -D "$GA_POSTGRES_DIR/data" -m immediate -w stop >/dev/null
  "${GA_POSTGRES_AS[@]}" "$GA_POSTGRES_BIN/pg_ctl" -D "$GA_POSTGRES_DIR/data" -l "$GA_POSTGRES_DIR/server.log" -w -o "$GA_POSTGRES_OPTIONS" \
    start >/dev/null || { cat "$GA_POSTGRES_DIR/server.log" >&2; return 1; }
}

ga_postgres_stop() {
  [[ -n "${GA_POSTGRES_DIR:-}" ]] || return 0
  "${GA_POSTGRES_AS[@]}" "$GA_POSTGRES_BIN/pg_ctl" -D "$GA_POSTGRES_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$GA_POSTGRES_DIR"
  GA_POSTGRES_DIR=""
}
