# shellcheck shell=bash
# Scripts/drain-test --balancer: sourced by Scripts/drain-test after the build,
# with $bin, $work, $cycles, $concurrency, $root and report() set.
# Two guestd on one throwaway PostgreSQL cluster behind HAProxy (TCP mode,
# PROXY protocol v2 from 127.0.0.2, health checks on /readyz); the load runs
# through HAProxy while each cycle drains and restarts one instance.

source Scripts/lib/postgres.sh
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A rpc_port metrics_port pid
haproxy_pid=""
balancer_cleanup() {
  [[ -n "$load_pid" ]] && kill "$load_pid" 2>/dev/null || true
  for name in a b; do [[ -n "${pid[$name]:-}" ]] && kill "${pid[$name]}" 2>/dev/null || true; done
  [[ -n "$haproxy_pid" ]] && kill "$haproxy_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  ga_postgres_stop
  rm -rf "$work"
}
trap balancer_cleanup EXIT

ga_postgres_start
psql "$GUESTACCESS_TEST_POSTGRES_URL/postgres" -qc "CREATE DATABASE drain"
database="$GUESTACCESS_TEST_POSTGRES_URL/drain"
python3 -c 'import secrets; print(secrets.token_urlsafe(32))' >"$work/operator.key"
python3 -c 'import secrets; print(secrets.token_urlsafe(32))' >"$work/hash.key"
chmod 0600 "$work/operator.key" "$work/hash.key"
for name in a b; do rpc_port[$name]=$(free_port); metrics_port[$name]=$(free_port); done
front=$(free_port)

start_instance() {
  local name="$1"
  : >"$work/guestd-$name.log"
  "$bin/guestd" --listen "127.0.0.1:${rpc_port[$name]}" --metrics-listen "127.0.0.1:${metrics_port[$name]}" \
    --data-dir "$work/data-$name" --database "$database" --operator-key-file "$work/operator.key" \
    --hash-key-file "$work/hash.key" --proxy-protocol-from 127.0.0.2 --log-level notice --drain-timeout 10 \
    >>"$work/guestd-$name.log" 2>&1 &
  pid[$name]=$!
  for _ in $(seq 1 500); do
    python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:${metrics_port[$name]}/readyz', timeout=1)" 2>/dev/null && return 0
    sleep 0.02
  done
  echo "guestd $name did not become ready" >&2; cat "$work/guestd-$name.log" >&2; exit 1
}
start_instance a
start_instance b

cat >"$work/haproxy.cfg" <<CFG
global
  maxconn 4096
defaults
  mode tcp
  timeout connect 2s
  timeout client 1h
  timeout server 1h
  retries 3
  option redispatch
frontend rpc
  bind 127.0.0.1:$front
  default_backend guestd
backend guestd
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server send-proxy-v2 source 127.0.0.2 inter 200ms fall 1 rise 2
  server a 127.0.0.1:${rpc_port[a]} check port ${metrics_port[a]}
  server b 127.0.0.1:${rpc_port[b]} check port ${metrics_port[b]}
CFG
haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
haproxy_pid=$!
for _ in $(seq 1 200); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $front), 0.2)" 2>/dev/null && break
  sleep 0.02
done

key="$(cat "$work/operator.key")"
read -r _ admin_key < <("$bin/guest-bench" crash-setup --fixture --server "127.0.0.1:$front" --key "$key")
seconds=$(( cycles * 5 + 3 ))
"$bin/guest-load" mix --retry --server "127.0.0.1:$front" --admin-key "$admin_key" -c "$concurrency" -z "${seconds}s" \
  --warmup 100 -O json --quiet >"$work/load.json" &
load_pid=$!
for i in $(seq 1 "$cycles"); do
  sleep 3
  name=$([[ $((i % 2)) == 1 ]] && echo a || echo b)
  old=${pid[$name]}
  t0=$(date +%s.%N)
  kill -TERM "$old"
  set +e
  wait "$old"
  rc=$?
  set -e
  pid[$name]=""
  t1=$(date +%s.%N)
  start_instance "$name"
  t2=$(date +%s.%N)
  printf 'cycle %d: SIGTERM -> guestd %s exited %d after %.0f ms; ready again %.0f ms later\n' "$i" "$name" "$rc" \
    "$(python3 -c "print(($t1-$t0)*1000)")" "$(python3 -c "print(($t2-$t1)*1000)")"
  [[ $rc -eq 0 ]] || { echo "guestd $name exited with $rc on SIGTERM" >&2; cat "$work/guestd-$name.log" >&2; exit 1; }
done
wait "$load_pid"
load_pid=""
# Each instance served connections that came through the balancer with a PROXY header.
for name in a b; do
  if grep -q "trusted balancer closed" "$work/guestd-$name.log"; then
    echo "guestd $name closed connections from the balancer:" >&2; grep "trusted balancer" "$work/guestd-$name.log" >&2; exit 1
  fi
done
report "$work/load.json" ok "SIGTERM + restart cycles of one of two instances behind HAProxy with PROXY v2"
