#!/usr/bin/env bash
# pgbench against `heliosdb-nano serve` (encrypted at rest) and PostgreSQL,
# on this machine, in one run, with the same settings:
#
#   ./dev pgbench [SCALE] [SECONDS]      (defaults: 10, 60)
#   CLIENTS=8 THREADS=2 ./dev pgbench
#
# Both get `pgbench -i -s SCALE`, then the default TPC-B-like script and the
# read-only one (`-S`), each for SECONDS with CLIENTS clients on THREADS
# threads (`-n`: no vacuum). Both commit durably (PostgreSQL's defaults:
# fsync and synchronous_commit on; ours: `[storage] sync_commit` on).
# Prints TPS, failed transactions and the ratio heliosdb / PostgreSQL.
# Everything lives in a temporary directory, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

scale=${1:-10}
secs=${2:-60}
clients=${CLIENTS:-8}
threads=${THREADS:-2}

target=${CARGO_TARGET_DIR:-target}
nano="$target/release/heliosdb-nano"
if [ ! -x "$nano" ]; then
  echo "pgbench: build the server first: ./dev cargo build --release -p heliosdb-nano" >&2
  exit 2
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/pgbench" ]; then
  echo "pgbench: PostgreSQL's server binaries are missing (./dev install-test-deps installs them)" >&2
  exit 2
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# PostgreSQL: a throwaway cluster (as user postgres when run as root).
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$work"
  as_pg=(runuser -u postgres --)
fi
pg_port=$(free_port)
"${as_pg[@]}" "$pgbin/initdb" -A trust -U postgres -D "$work/pg" >/dev/null
"${as_pg[@]}" "$pgbin/postgres" -D "$work/pg" -p "$pg_port" -k "$work" \
  -c listen_addresses=127.0.0.1 -c max_connections=50 >"$work/pg.log" 2>&1 &
pids+=($!)

# heliosdb-nano: an encrypted database under a key file, one user.
nano_port=$(free_port)
"$nano" keygen --output "$work/key" 2>/dev/null
"$nano" init --path "$work/nano" --key-file "$work/key" >/dev/null
echo "bench-password" | "$nano" user add bench --path "$work/nano" >/dev/null
cat >"$work/nano.toml" <<TOML
[storage]
path = "$work/nano"

[server]
host = "127.0.0.1"
port = $nano_port
max_connections = 50
TOML
"$nano" serve --config "$work/nano.toml" >"$work/nano.log" 2>&1 &
pids+=($!)

wait_port() {
  local i
  for i in $(seq 1 100); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "pgbench: nothing listens on port $1" >&2
  return 1
}
wait_port "$pg_port"
wait_port "$nano_port"

pgb_pg() { "$pgbin/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres "$@" postgres; }
pgb_nano() { PGPASSWORD=bench-password "$pgbin/pgbench" -h 127.0.0.1 -p "$nano_port" -U bench "$@" encrypted_db; }

field() { sed -n "s/^$1 *\([0-9.]*\).*/\1/p" | head -n 1; }

echo "pgbench -i -s $scale (PostgreSQL, then heliosdb-nano)"
t0=$(date +%s.%N)
pgb_pg -i -s "$scale" -q >/dev/null 2>&1
t1=$(date +%s.%N)
pgb_nano -i -s "$scale" -q >/dev/null 2>"$work/init.err" || { cat "$work/init.err" >&2; exit 1; }
t2=$(date +%s.%N)
init_pg=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
init_nano=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')

printf '\n%-22s %12s %12s %8s %10s\n' workload "PostgreSQL" "heliosdb" ratio "failed(h)"
printf '%-22s %11ss %11ss %8s %10s\n' "init -s $scale" "$init_pg" "$init_nano" \
  "$(awk -v a="$init_pg" -v b="$init_nano" 'BEGIN { printf "%.2f", a / b }')" -
for workload in tpcb select-only; do
  args=(-n -c "$clients" -j "$threads" -T "$secs")
  [ "$workload" = select-only ] && args+=(-S)
  pg_out=$(pgb_pg "${args[@]}" 2>&1)
  nano_out=$(pgb_nano "${args[@]}" 2>&1) || true
  pg_tps=$(echo "$pg_out" | field 'tps =')
  nano_tps=$(echo "$nano_out" | field 'tps =')
  failed=$(echo "$nano_out" | field 'number of failed transactions:')
  if [ -z "$nano_tps" ]; then
    echo "$nano_out" >&2
    exit 1
  fi
  printf '%-22s %12s %12s %8s %10s\n' "$workload -c$clients -j$threads" "$pg_tps" "$nano_tps" \
    "$(awk -v a="$nano_tps" -v b="$pg_tps" 'BEGIN { printf "%.2f", a / b }')" "${failed:-0}"
done
echo
echo "(TPS: transactions per second, higher is better; ratio = heliosdb / PostgreSQL; init ratio = PostgreSQL time / heliosdb time)"
