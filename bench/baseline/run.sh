#!/usr/bin/env bash
# Re-run the physical-limit baselines (loopback only, bounded durations).
#   bash run.sh                 # every config
#   bash run.sh sqlite-read pg-read   # some configs
# Env: WORK (scratch dir, default ./.baseline-work), DUR (10s), CONC (32), REPS (3),
#      PORT (8080), PGURL, READ_POOL (4), PG_POOL (8).
# Needs: wrk, postgresql 15 running with user/db bench (see setup_pg), cargo.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-$PWD/.baseline-work}
DUR=${DUR:-10s}; CONC=${CONC:-32}; REPS=${REPS:-3}; PORT=${PORT:-8080}
READ_POOL=${READ_POOL:-4}; PG_POOL=${PG_POOL:-8}
PGURL=${PGURL:-postgres://bench:bench@127.0.0.1:5432/bench}
URL=http://127.0.0.1:$PORT
L=$HERE/lua
export CARGO_TARGET_DIR=$WORK/target
BIN=$CARGO_TARGET_DIR/release/baseline
DATA=$WORK/data
RES=${RES:-$WORK/results.tsv}
TCK=$(getconf CLK_TCK)
mkdir -p "$DATA"

setup_pg() { # idempotent: start PG 15, create role/db bench, seed 100k rows
  pg_ctlcluster 15 main start 2>/dev/null || true
  su postgres -c "psql -qtc \"SELECT 1 FROM pg_roles WHERE rolname='bench'\"" | grep -q 1 ||
    su postgres -c "psql -qc \"CREATE USER bench PASSWORD 'bench' SUPERUSER\""
  su postgres -c "psql -qtc \"SELECT 1 FROM pg_database WHERE datname='bench'\"" | grep -q 1 ||
    su postgres -c "psql -qc 'CREATE DATABASE bench OWNER bench'"
  "$BIN" seed-pg "$PGURL" 100000
  PGPASSWORD=bench psql -h 127.0.0.1 -U bench bench -qc CHECKPOINT
}

ticks() { # utime+stime (clock ticks) summed over the given pids
  local t=0 p
  for p in "$@"; do
    [ -r /proc/$p/stat ] && t=$((t + $(awk '{sub(/.*\) /,""); print $12+$13}' /proc/$p/stat)))
  done
  echo $t
}
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }

SP=""
start_server() { # env assignments as args
  env "$@" PORT=$PORT "$BIN" serve 2>>"$WORK/server.log" & SP=$!
  for _ in $(seq 100); do curl -s -o /dev/null "$URL/s/x" && return 0; sleep 0.1; done
  echo "server did not start" >&2; return 1
}
stop_server() { [ -n "$SP" ] && kill -TERM "$SP" && wait "$SP" 2>/dev/null || true; SP=""; }
trap stop_server EXIT

# measure LABEL SCRIPT PATH [CONCURRENCY]
# Server env comes from SRV (array). If RESET names a function, every repetition gets a
# fresh server on freshly reset data (identical starting state); otherwise one server.
SRV=(); RESET=""
measure() {
  local label=$1 script=$2 path=$3 c=${4:-$CONC} r out pgp
  for r in $(seq "$REPS"); do
    if [ -n "$RESET" ] || [ -z "$SP" ]; then
      stop_server; [ -z "$RESET" ] || $RESET; start_server "${SRV[@]}"
      wrk -t1 -c"$c" -d2s -s "$L/$script" "$URL$path" >/dev/null # warm-up, discarded
    fi
    pgp=$(pgrep -u postgres -d ' ' postgres || true)
    local s0 p0 b0 b1 t0 t1
    s0=$(ticks $SP); p0=$(ticks $pgp); read -r b0 t0 < <(busy)
    out=$(/usr/bin/time -f 'WRKCPU %e %U %S' wrk -t1 -c"$c" -d"$DUR" -s "$L/$script" "$URL$path" 2>&1)
    read -r b1 t1 < <(busy)
    local s1 p1; s1=$(ticks $SP); p1=$(ticks $pgp)
    local line wl; line=$(grep '^RESULT' <<<"$out"); wl=$(grep '^WRKCPU' <<<"$out")
    python3 - "$label" "$c" "$r" "$line" "$wl" $((s1 - s0)) $((p1 - p0)) $((b1 - b0)) $((t1 - t0)) "$TCK" >>"$RES" <<'EOF2'
import sys
label, c, r, line, wl, ds, dp, db, dt, tck = sys.argv[1:]
kv = dict(x.split('=') for x in line.split()[1:])
_, wall, u, s = wl.split()
wall = float(wall); tck = int(tck)
print('\t'.join([label, c, r, kv['rps'], kv['p50_ms'], kv['p99_ms'], kv['errors'], kv['non2xx'],
                 f"{int(ds)/tck/wall*100:.0f}", f"{int(dp)/tck/wall*100:.0f}",
                 f"{(float(u)+float(s))/wall*100:.0f}", f"{int(db)/max(int(dt),1)*100:.0f}"]))
EOF2
    tail -1 "$RES"
  done
}

# oha cross-check of the load generator (same server, same 32 connections)
measure_oha() {
  local label=$1 r
  for r in $(seq "$REPS"); do
    oha --no-tui --output-format json -z "$DUR" -c "$CONC" "$URL/s/cs_00000042" >"$WORK/oha.json"
    python3 - "$label" "$r" "$WORK/oha.json" >>"$RES" <<'EOF2'
import sys, json
label, r, f = sys.argv[1:]
j = json.load(open(f)); s = j['summary']; p = j['latencyPercentiles']
print('\t'.join([label, '32', r, f"{s['requestsPerSec']:.1f}", f"{p['p50']*1000:.3f}", f"{p['p99']*1000:.3f}",
                 '0', '0', '', '', '', '']))
EOF2
    tail -1 "$RES"
  done
}

fresh_db() { rm -f "$DATA"/w.db*; cp "$DATA/read.db" "$DATA/w.db"; sync; }
reseed_pg() { "$BIN" seed-pg "$PGURL" 100000 >/dev/null; PGPASSWORD=bench psql -h 127.0.0.1 -U bench bench -qc CHECKPOINT; }

run_config() {
  local s=${1##*-}; s=${s^^}; RESET=""
  case $1 in
  hello-fixed) SRV=(BACKEND=static BODY_FILE=); measure "$1" get_fixed.lua /s/cs_00000042 ;;
  hello-page) # the bytes of a page of a list (BODY_FILE), served as they are: what moving them costs
    [ -f "${BODY_FILE:-}" ] || { echo "hello-page needs BODY_FILE" >&2; return 1; }
    SRV=(BACKEND=static BODY_FILE="$BODY_FILE"); measure "$1" get_fixed.lua /s/cs_00000042 ;;
  hello-oha) SRV=(BACKEND=static BODY_FILE=); stop_server; start_server "${SRV[@]}"
    wrk -t1 -c"$CONC" -d2s "$URL/s/cs_00000042" >/dev/null; measure_oha "$1" ;;
  hello) SRV=(BACKEND=static BODY_FILE=); measure "$1" get_rand.lua ""; measure "$1" get_rand.lua "" 1 ;;
  sqlite-read) SRV=(BACKEND=sqlite DB="$DATA/read.db" POOL=$READ_POOL)
    measure "$1" get_rand.lua ""; measure "$1" get_rand.lua "" 1 ;;
  rusqlite-read) SRV=(BACKEND=rusqlite DB="$DATA/read.db")
    measure "$1" get_rand.lua ""; measure "$1" get_rand.lua "" 1 ;;
  sqlite-write-normal | sqlite-write-full) RESET=fresh_db; SRV=(BACKEND=sqlite DB="$DATA/w.db" POOL=1 SYNC=$s)
    measure "$1" post.lua /s; measure "$1" post.lua /s 1 ;;
  sqlite-write-full-pool4) # 4 pooled writers contending for SQLite's single write lock
    RESET=fresh_db; SRV=(BACKEND=sqlite DB="$DATA/w.db" POOL=4 SYNC=FULL); measure "$1" post.lua /s ;;
  sqlite-batch-normal | sqlite-batch-full) # group commit; POOL=2: 1 writer task + 1 for GETs
    RESET=fresh_db; SRV=(BACKEND=sqlite-batch DB="$DATA/w.db" POOL=2 SYNC=$s)
    measure "$1" post.lua /s; measure "$1" post.lua /s 1 ;;
  rusqlite-batch-normal | rusqlite-batch-full) # group commit from one writer thread, no sqlx
    RESET=fresh_db; SRV=(BACKEND=rusqlite-batch DB="$DATA/w.db" SYNC=$s)
    measure "$1" post.lua /s; measure "$1" post.lua /s 1 ;;
  pg-read) SRV=(BACKEND=pg DB="$PGURL" POOL=$PG_POOL)
    measure "$1" get_rand.lua ""; measure "$1" get_rand.lua "" 1 ;;
  pg-write) RESET=reseed_pg; SRV=(BACKEND=pg DB="$PGURL" POOL=$PG_POOL)
    measure "$1" post.lua /s; measure "$1" post.lua /s 1 ;;
  pg-read-write) # a point read, then an INSERT: two round trips, as a create with a price id
    RESET=reseed_pg; SRV=(BACKEND=pg-read-write DB="$PGURL" POOL=$PG_POOL)
    measure "$1" post.lua /s; measure "$1" post.lua /s 1 ;;
  *) echo "unknown config $1" >&2; return 1 ;;
  esac
  stop_server
}

cargo build --release --manifest-path "$HERE/Cargo.toml" 2>&1 | tail -1
"$BIN" body >"$L/body.json"
[ -f "$DATA/read.db" ] || "$BIN" seed-sqlite "$DATA/read.db" 100000
CONFIGS=("$@")
[ ${#CONFIGS[@]} -gt 0 ] || CONFIGS=(hello-fixed hello-oha hello sqlite-read rusqlite-read sqlite-write-normal
  sqlite-write-full sqlite-write-full-pool4 sqlite-batch-normal sqlite-batch-full rusqlite-batch-normal
  rusqlite-batch-full pg-read pg-write pg-read-write)
if printf '%s\n' "${CONFIGS[@]}" | grep -q '^pg-'; then setup_pg >/dev/null; fi
[ -s "$RES" ] || printf 'label\tconc\trep\trps\tp50_ms\tp99_ms\terrors\tnon2xx\tapp_cpu%%\tpg_cpu%%\twrk_cpu%%\tmachine_busy%%\n' >"$RES"
for c in "${CONFIGS[@]}"; do run_config "$c"; done
python3 - "$RES" <<'EOF'
import sys, csv, statistics as st
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
groups = {}
for r in rows: groups.setdefault((r['label'], r['conc']), []).append(r)
print(f"{'label':26}{'conc':>5}{'n':>3}{'rps':>10}{'p50_ms':>9}{'p99_ms':>9}{'app%':>6}{'pg%':>6}{'wrk%':>6}{'busy%':>6}{'err':>5}")
for (l, c), rs in groups.items():
    m = lambda k: st.median(float(r[k] or 0) for r in rs)
    print(f"{l:26}{c:>5}{len(rs):>3}{m('rps'):>10.0f}{m('p50_ms'):>9.3f}{m('p99_ms'):>9.3f}{m('app_cpu%'):>6.0f}{m('pg_cpu%'):>6.0f}{m('wrk_cpu%'):>6.0f}{m('machine_busy%'):>6.0f}{sum(int(r['errors'])+int(r['non2xx']) for r in rs):>5}")
EOF
