#!/usr/bin/env bash
# Porchlight load benchmark: durable ratings and callbacks against the same server's no-op
# endpoint (`POST /v1/sites/{site}/noop`: same layers and validation, no database), with wrk.
# Loopback only; each run is bounded by DURATION seconds. Rate limit off, fresh database.
#
#   crates/server/bench/run.sh [DURATION_SECS=10] [CONNECTIONS=64]
#
# Needs wrk (apt install wrk) and sqlite3 (row counts). Builds the server with --release.
set -euo pipefail

duration=${1:-10}
connections=${2:-64}
threads=${THREADS:-1}
root=$(cd "$(dirname "$0")/../../.." && pwd)
script="$root/crates/server/bench/post.lua"
target=${CARGO_TARGET_DIR:-$root/target}

(cd "$root" && cargo build --release -q -p porchlight-server --features bench --bin porchlight)

dir=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

cat >"$dir/bench.toml" <<TOML
listen = "127.0.0.1:0"
database = "$dir/bench.db"
assets = "$dir/dist"

[rate_limit]
writes_per_minute = 0

[[sites]]
id = "bench"
name = "Bench Shop"
origins = ["https://shop.example"]
timezone = "Europe/Riga"
TOML

RUST_LOG=warn "$target/release/porchlight" serve --config "$dir/bench.toml" >"$dir/stdout" 2>"$dir/stderr" &
server_pid=$!
for _ in $(seq 100); do
  grep -q '^listening on ' "$dir/stdout" 2>/dev/null && break
  sleep 0.1
done
base=$(sed -n 's/^listening on //p' "$dir/stdout")
[[ -n "$base" ]] || { echo "server did not start:"; cat "$dir/stderr"; exit 1; }
echo "server $base, database $dir/bench.db (WAL, synchronous=FULL), $(nproc) CPUs"
echo "wrk: $threads thread(s), $connections connections, ${duration}s per endpoint"

for endpoint in noop ratings callbacks; do
  wrk -t"$threads" -c"$connections" -d"${duration}s" -s "$script" "$base/v1/sites/bench/$endpoint" | grep '^RESULT'
  sleep 1
done

echo "rows: ratings=$(sqlite3 "$dir/bench.db" 'SELECT COUNT(*) FROM ratings') callbacks=$(sqlite3 "$dir/bench.db" 'SELECT COUNT(*) FROM callbacks')"
