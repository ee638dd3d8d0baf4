#!/usr/bin/env bash
# kassa's benchmark: builds kassa, drives a real `kassa serve` with wrk on SQLite and
# PostgreSQL, runs the bare baselines and the Stripe emulator side by side with the same wrk
# settings, and writes BENCHMARKS.md. See bench/README.md.
#
#   bash bench/run.sh                              # everything (about 25 minutes)
#   DUR=3s SESSIONS=100000 bash bench/run.sh       # a quick check
#   ENGINES=sqlite SKIP_BASELINE=1 SKIP_EMULATE=1 bash bench/run.sh
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${OUT:-$CARGO_TARGET_DIR/bench}

ENGINES=${ENGINES-sqlite postgres} # set and empty: only the peers
DUR=${DUR:-10s}
CONC=${CONC:-32}
THREADS=${THREADS:-1}
WARMUP=${WARMUP:-2s}
SESSIONS=${SESSIONS:-1000000}
# A first, smaller pass over the same scenarios (its rows are named SCENARIO@N), so that how cost
# grows with the data shows; empty to skip it.
SMALL_DATA=${SMALL_DATA-10000}
SMALL_SESSIONS=${SMALL_SESSIONS:-1000}
SCENARIOS=${SCENARIOS:-}
PROFILE=${PROFILE:-}
# perf's call-graph option for PROFILE: release builds keep no frame pointers, so `--call-graph
# dwarf` shows callers where `-g` cannot.
PERF_ARGS=${PERF_ARGS:--g}
SKIP_BUILD=${SKIP_BUILD:-0}
SKIP_BASELINE=${SKIP_BASELINE:-0}
SKIP_EMULATE=${SKIP_EMULATE:-0}
SKIP_WEBHOOKS=${SKIP_WEBHOOKS:-0}
BASELINES=${BASELINES:-hello-fixed hello-page sqlite-read rusqlite-read sqlite-write-full sqlite-batch-full rusqlite-batch-full pg-read pg-write pg-read-write}
BASELINE_DIR=${BASELINE_DIR:-$ROOT/bench/baseline}
REPS=${REPS:-1}
EMULATE_SESSIONS=${EMULATE_SESSIONS:-10000}
EMULATE_TOKEN_EVERY=${EMULATE_TOKEN_EVERY:-1000}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
KEEP=${KEEP:-0}
WRITE_REPORT=${WRITE_REPORT:-1}

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RUN=$OUT/run-$STAMP
mkdir -p "$RUN"
RES=$RUN/results.tsv
printf 'engine\tscenario\trequests\trps\tp50_ms\tp99_ms\terrors\tnon2xx\tpeak_rss_mb\tnote\n' >"$RES"
BIN=$CARGO_TARGET_DIR/release/kassa
NODE_DIR=$OUT/node
NODE=$NODE_DIR/node_modules/node/bin/node
EMULATE_JS=$NODE_DIR/node_modules/emulate/dist/index.js
# shellcheck source=bench/seed.sh
source "$BENCH/seed.sh"
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

# ----- Processes: every one started here is stopped by its pid on exit ---------------------------

EMU_PID=""; PERF_PID=""; PG_DB=""
cleanup() {
  [ -z "$PERF_PID" ] || { kill -INT "$PERF_PID" 2>/dev/null || true; wait "$PERF_PID" 2>/dev/null || true; }
  stop_pid "$SRV_PID"; SRV_PID=""
  stop_pid "$EMU_PID"; EMU_PID=""
  if [ -n "$PG_DB" ] && [ "$KEEP" != 1 ]; then
    psql_admin -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true
  fi
  PG_DB=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ----- Setup ------------------------------------------------------------------------------------

ensure_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v curl >/dev/null || missing+=(curl)
  command -v python3 >/dev/null || missing+=(python3)
  [[ " $ENGINES " != *" sqlite "* ]] || command -v sqlite3 >/dev/null || missing+=(sqlite3)
  [[ " $ENGINES " != *" postgres "* ]] || command -v psql >/dev/null || missing+=(postgresql-client)
  if [ -n "$PROFILE" ] && ! command -v perf >/dev/null; then missing+=(linux-perf); fi
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} with apt-get"
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if [ "$SKIP_EMULATE" != 1 ] && { [ ! -x "$NODE" ] || [ ! -f "$EMULATE_JS" ]; }; then
    log "installing Node 22 and emulate 0.12.2 from npm into $NODE_DIR"
    mkdir -p "$NODE_DIR"
    (cd "$NODE_DIR" && npm install --no-audit --no-fund --loglevel=error --prefix . node@22 emulate@0.12.2 >/dev/null)
  fi
}

build() {
  if [ "$SKIP_BUILD" = 1 ] && [ -x "$BIN" ]; then return; fi
  log "cargo build --release --bin kassa --examples"
  (cd "$ROOT" && cargo build --release --bin kassa --examples 2>&1 | tail -1)
}

# ----- kassa ------------------------------------------------------------------------------------

peak_rss_mb() { awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo ""; }
reset_peak_rss() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }

selected() { [ -z "$SCENARIOS" ] || [[ " $SCENARIOS " == *" $1 "* ]]; }

# measure ENGINE SCENARIO PID URL SCRIPT [VAR=value...]: a warm-up, then the measured wrk run;
# appends a row to results.tsv. The server's peak RSS is reset before the warm-up.
LAST_REQUESTS=0; LAST_WARM_REQUESTS=0
SIZE_SUFFIX=""
measure() {
  local engine=$1 scenario=$2$SIZE_SUFFIX pid=$3 url=$4 script=$5; shift 5
  local out line rss perf_data=""
  reset_peak_rss "$pid"
  out=$(env "$@" BENCH_REVERSE=1 wrk -t"$THREADS" -c"$CONC" -d"$WARMUP" -s "$BENCH/lua/$script" "$url" 2>&1) ||
    die "wrk warm-up failed: $out"
  LAST_WARM_REQUESTS=$(sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p' <<<"$out")
  if [ "$PROFILE" = "$scenario" ] && command -v perf >/dev/null; then
    perf_data=$OUT/perf-$engine-$scenario-$STAMP.data
    # shellcheck disable=SC2086
    perf record $PERF_ARGS -p "$pid" -o "$perf_data" >/dev/null 2>"$RUN/perf.log" &
    PERF_PID=$!
    sleep 0.2
  fi
  out=$(env "$@" wrk -t"$THREADS" -c"$CONC" -d"$DUR" -s "$BENCH/lua/$script" "$url" 2>&1) ||
    die "wrk failed: $out"
  if [ -n "$PERF_PID" ]; then
    kill -INT "$PERF_PID" 2>/dev/null || true; wait "$PERF_PID" 2>/dev/null || true; PERF_PID=""
  fi
  rss=$(peak_rss_mb "$pid")
  line=$(grep '^RESULT' <<<"$out") || die "no RESULT line from wrk: $out"
  LAST_REQUESTS=$(sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p' <<<"$line")
  python3 - "$engine" "$scenario" "$line" "$rss" >>"$RES" <<'EOF'
import sys
engine, scenario, line, rss = sys.argv[1:]
kv = dict(x.split('=') for x in line.split()[1:])
print('\t'.join([engine, scenario, kv['requests'], kv['rps'], kv['p50_ms'], kv['p99_ms'],
                 kv['errors'], kv['non2xx'], rss, '']))
EOF
  log "$(printf '%-9s %-22s %10s rps  p50 %7s ms  p99 %7s ms  errors %s  non-2xx %s  peak RSS %s MB' \
    "$engine" "$scenario" "$(cut -f4 <<<"$(tail -1 "$RES")")" "$(cut -f5 <<<"$(tail -1 "$RES")")" \
    "$(cut -f6 <<<"$(tail -1 "$RES")")" "$(cut -f7 <<<"$(tail -1 "$RES")")" \
    "$(cut -f8 <<<"$(tail -1 "$RES")")" "$rss")"
  if [ -n "$perf_data" ] && [ -s "$perf_data" ]; then
    log "perf profile: $perf_data (top symbols, self time):"
    perf report -i "$perf_data" --stdio --no-children -g none --percent-limit 0.5 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -30 | tee "$perf_data.top.txt" >&2 || true
  fi
}

note_last() { # note_last TEXT: sets the note column of the last result row
  python3 - "$RES" "$1" <<'EOF'
import sys
path, note = sys.argv[1:]
rows = open(path).read().rstrip('\n').split('\n')
cols = rows[-1].split('\t'); cols[-1] = note; rows[-1] = '\t'.join(cols)
open(path, 'w').write('\n'.join(rows) + '\n')
EOF
}

bench_engine() {
  local engine=$1 url dir
  log "=== $engine: fresh database"
  if [ "$engine" = sqlite ]; then
    dir=$RUN/sqlite; mkdir -p "$dir"; url="sqlite://$dir/kassa.db"
  else
    PG_DB=kassa_benchrun_$(tr '[:upper:]' '[:lower:]' <<<"$STAMP")_$$
    psql_admin -c "CREATE DATABASE $PG_DB" >/dev/null
    url="${PG_URL%/*}/$PG_DB"
  fi
  local big small writes big_key small_key writes_key
  read -r big big_key < <(new_account "$url" "Bench store (large)")
  read -r small small_key < <(new_account "$url" "Bench store (small)")
  read -r writes writes_key < <(new_account "$url" "Bench store (writes)")
  [ -n "$big_key" ] && [ -n "$small_key" ] && [ -n "$writes_key" ] || die "kassa account create failed"
  start_server "$url" "$engine"
  log "$engine: kassa at $BASE (pid $SRV_PID); seeding one real session per account through the API"

  local product body big_tpl small_tpl writes_product writes_price
  for acct in big small writes; do
    local k_var=${acct}_key
    product=$(api POST /api/v3/products "${!k_var}" -H 'Content-Type: application/json' \
      -d '{"name": "Pro", "priceAmount": 29.99, "priceCurrency": "usd", "amountType": "FIXED"}')
    local pid price
    pid=$(json "['id']" <<<"$product"); price=$(json "['default_price']" <<<"$product")
    body=$(printf '{"productId": "%s", "success_url": "https://shop.example/thanks?session={CHECKOUT_SESSION_ID}", "cancel_url": "https://shop.example/cart"}' "$pid")
    case $acct in
      big) big_tpl=$(api POST /api/v3/checkout/sessions "$big_key" -H 'Content-Type: application/json' -d "$body" | json "['id']") ;;
      small) small_tpl=$(api POST /api/v3/checkout/sessions "$small_key" -H 'Content-Type: application/json' -d "$body" | json "['id']") ;;
      writes) writes_product=$pid; writes_price=$price ;;
    esac
  done
  stop_server

  log "$engine: copying $big_tpl to $SESSIONS sessions and $small_tpl to $SMALL_SESSIONS by SQL (server stopped)"
  local now t0 t1; now=$(date +%s); t0=$(date +%s)
  {
    [ "$engine" != sqlite ] || echo "PRAGMA cache_size = -262144;"
    echo "BEGIN;"
    [ "$SESSIONS" -le 1 ] || seed_sql "$engine" "$big_tpl" $((SESSIONS - 1)) S "$now" 2
    [ "$SMALL_SESSIONS" -le 1 ] || seed_sql "$engine" "$small_tpl" $((SMALL_SESSIONS - 1)) T "$now" 2
    counts_sql
    echo "COMMIT;"
    [ "$engine" = sqlite ] || echo "VACUUM ANALYZE checkout_sessions; VACUUM ANALYZE checkout_line_items; CHECKPOINT;"
  } | db_script "$engine" "$url" >/dev/null
  t1=$(date +%s)
  local n_big n_small
  n_big=$(db_query "$engine" "$url" "SELECT COUNT(*) FROM checkout_sessions WHERE account_id = '$big'")
  n_small=$(db_query "$engine" "$url" "SELECT COUNT(*) FROM checkout_sessions WHERE account_id = '$small'")
  log "$engine: seeded in $((t1 - t0)) s: $n_big sessions in the large account, $n_small in the small one"
  [ "$n_big" = "$SESSIONS" ] || die "expected $SESSIONS sessions in the large account, found $n_big"
  db_query "$engine" "$url" "SELECT id FROM checkout_sessions WHERE account_id = '$big'" >"$RUN/$engine-ids"
  db_query "$engine" "$url" "SELECT id FROM checkout_sessions WHERE account_id = '$big' AND state = 'open' ORDER BY id" >"$RUN/$engine-open-ids"
  local n_open; n_open=$(wc -l <"$RUN/$engine-open-ids")

  start_server "$url" "$engine"
  log "$engine: kassa at $BASE (pid $SRV_PID); checking seeded sessions through the API"
  local id
  for id in $(shuf -n 5 "$RUN/$engine-ids") "$big_tpl"; do
    api GET "/v1/checkout/sessions/$id" "$big_key" -o /dev/null || die "seeded session $id does not read back"
  done
  local listed
  # The page is kept: the bare baseline hello-page serves its bytes.
  api GET "/v1/checkout/sessions?status=open&limit=100" "$big_key" >"$RUN/page-100.json"
  listed=$(json "['data'].__len__()" <"$RUN/page-100.json")
  [ "$listed" = 100 ] || [ "$n_open" -lt 100 ] || die "a list of 100 open sessions returned $listed"
  local total
  total=$(api GET "/api/v2/checkout/sessions?limit=1" "$big_key" | json "['total']")
  [ "$total" = "$SESSIONS" ] || die "the V2 total says $total, expected $SESSIONS"
  curl -sS --fail -o /dev/null "$BASE/checkout/$(head -1 "$RUN/$engine-open-ids")" || die "the hosted page of a seeded session failed"

  local p=$SRV_PID
  # Reads.
  selected retrieve && measure "$engine" retrieve "$p" "$BASE" get_ids.lua \
    BENCH_KEY="$big_key" BENCH_IDS="$RUN/$engine-ids" BENCH_PATH="/v1/checkout/sessions/%s"
  local size acct_key label limit
  for size in small big; do
    if [ $size = small ]; then acct_key=$small_key; label=$SMALL_SESSIONS; else acct_key=$big_key; label=$SESSIONS; fi
    for limit in 10 100; do
      selected "list-$limit-$size" && measure "$engine" "list-$limit-$size" "$p" \
        "$BASE/v1/checkout/sessions?status=open&limit=$limit" get.lua BENCH_KEY="$acct_key" &&
        note_last "$label sessions in the account"
    done
  done
  selected page && measure "$engine" page "$p" "$BASE" get_ids.lua \
    BENCH_IDS="$RUN/$engine-open-ids" BENCH_PATH="/checkout/%s"
  # Creates, in their own account.
  printf '{"productId": "%s", "success_url": "https://shop.example/thanks?session={CHECKOUT_SESSION_ID}", "cancel_url": "https://shop.example/cart"}' \
    "$writes_product" >"$RUN/create-v3.json"
  printf '%s' "line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=2999&line_items[0][price_data][product_data][name]=Pro&line_items[0][quantity]=1&mode=payment&success_url=https%3A%2F%2Fshop.example%2Fthanks" \
    >"$RUN/create-v1.form"
  printf '%s' "line_items[0][price]=$writes_price&line_items[0][quantity]=1&mode=payment&success_url=https%3A%2F%2Fshop.example%2Fthanks" \
    >"$RUN/create-v1-price.form"
  selected create-v3 && measure "$engine" create-v3 "$p" "$BASE/api/v3/checkout/sessions" post.lua \
    BENCH_KEY="$writes_key" BENCH_BODY="$RUN/create-v3.json" BENCH_CTYPE=application/json
  selected create-v1 && measure "$engine" create-v1 "$p" "$BASE/v1/checkout/sessions" post.lua \
    BENCH_KEY="$writes_key" BENCH_BODY="$RUN/create-v1.form" BENCH_CTYPE=application/x-www-form-urlencoded
  selected create-v1-price && measure "$engine" create-v1-price "$p" "$BASE/v1/checkout/sessions" post.lua \
    BENCH_KEY="$writes_key" BENCH_BODY="$RUN/create-v1-price.form" BENCH_CTYPE=application/x-www-form-urlencoded
  # One client at a time: the latency of a durable create when nothing queues beside it.
  selected create-v1-price-c1 && CONC=1 measure "$engine" create-v1-price-c1 "$p" "$BASE/v1/checkout/sessions" \
    post.lua BENCH_KEY="$writes_key" BENCH_BODY="$RUN/create-v1-price.form" BENCH_CTYPE=application/x-www-form-urlencoded
  # Pay: each request on its own open session of the large account.
  # (Not in the smaller pass: its open sessions would run out within the run.)
  if [ -z "$SIZE_SUFFIX" ] && selected pay; then
    local before after paid
    before=$(db_query "$engine" "$url" "SELECT COUNT(*) FROM checkout_sessions WHERE account_id = '$big' AND state = 'completed'")
    measure "$engine" pay "$p" "$BASE" pay.lua BENCH_IDS="$RUN/$engine-open-ids"
    sleep 0.5
    after=$(db_query "$engine" "$url" "SELECT COUNT(*) FROM checkout_sessions WHERE account_id = '$big' AND state = 'completed'")
    paid=$((after - before))
    local sent=$((LAST_REQUESTS + LAST_WARM_REQUESTS))
    if [ "$paid" -lt "$sent" ]; then
      note_last "only $paid sessions completed for $sent pay requests (some paid twice or failed)"
      log "$engine: WARNING: $paid sessions completed for $sent pay requests"
    else
      note_last "$paid sessions completed for $sent requests (warm-up included)"
    fi
  fi
  local idle_rss; idle_rss=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$p/status")
  printf '%s\t%s\t\t\t\t\t\t\t%s\t%s\n' "$engine" "rss-now" "$idle_rss" "VmRSS after the scenarios" >>"$RES"
  stop_server

  if [ "$SKIP_WEBHOOKS" != 1 ] && selected webhooks; then
    log "$engine: examples/webhook_throughput"
    local wh args=(sqlite)
    if [ "$engine" = postgres ]; then args=(postgres "$PG_URL"); fi
    local before_dbs=""
    [ "$engine" != postgres ] || before_dbs=$(psql_admin -c "SELECT datname FROM pg_database WHERE datname LIKE 'kassa_bench_%'")
    wh=$("$CARGO_TARGET_DIR/release/examples/webhook_throughput" "${args[@]}" 2>>"$RUN/webhooks.log") ||
      die "webhook_throughput failed; see $RUN/webhooks.log"
    echo "$wh" >"$RUN/$engine-webhooks.txt"
    if [ "$engine" = postgres ]; then # the example leaves its database behind: drop the new one
      local db
      for db in $(psql_admin -c "SELECT datname FROM pg_database WHERE datname LIKE 'kassa_bench_%'"); do
        grep -qx "$db" <<<"$before_dbs" || psql_admin -c "DROP DATABASE $db" >/dev/null 2>&1 || true
      done
    fi
    python3 - "$engine" "$wh" >>"$RES" <<'EOF'
import re, sys
engine, text = sys.argv[1:]
rate = re.search(r'backlog delivered in [\d.]+ s: (\d+) deliveries/s', text)
live = re.search(r'median ([\d.]+) ms, p99 ([\d.]+) ms', text)
print('\t'.join([engine, 'webhooks', '10000', rate.group(1) if rate else '',
                 live.group(1) if live else '', live.group(2) if live else '', '0', '0', '',
                 'backlog deliveries/s; live commit-to-receiver-2xx p50/p99 at 500 events/s']))
EOF
    log "$engine: webhooks: $(tr '\n' ' ' <<<"$wh")"
  fi

  if [ "$engine" = postgres ] && [ "$KEEP" != 1 ]; then
    psql_admin -c "DROP DATABASE $PG_DB" >/dev/null; PG_DB=""
  fi
  if [ "$engine" = sqlite ] && [ "$KEEP" != 1 ]; then rm -rf "$RUN/sqlite"; fi
  [ "$KEEP" = 1 ] || rm -f "$RUN/$engine-ids" "$RUN/$engine-open-ids"
}

# ----- Peers ------------------------------------------------------------------------------------

bench_baselines() {
  [ -f "$BASELINE_DIR/run.sh" ] || { log "no baseline suite at $BASELINE_DIR; skipped"; return; }
  # A copy of the suite, so that its run (which writes lua/body.json beside itself) leaves the
  # original untouched; its build and data go under target/bench/baseline/work.
  local suite=$OUT/baseline/suite work=$OUT/baseline/work res=$RUN/baseline.tsv configs=() c
  mkdir -p "$suite" "$work"
  cp -r "$BASELINE_DIR/Cargo.toml" "$BASELINE_DIR/Cargo.lock" "$BASELINE_DIR/run.sh" \
    "$BASELINE_DIR/src" "$BASELINE_DIR/lua" "$suite/"
  for c in $BASELINES; do
    if [[ $c == pg-* ]] && [[ " $ENGINES " != *" postgres "* ]]; then continue; fi
    # hello-page serves the page of 100 a kassa run kept: none without one.
    if [ "$c" = hello-page ] && [ ! -s "$RUN/page-100.json" ]; then continue; fi
    configs+=("$c")
  done
  log "=== bare baselines (${configs[*]}), REPS=$REPS, build under $work"
  WORK=$work RES=$res DUR=$DUR CONC=$CONC REPS=$REPS PORT=$(free_port) BODY_FILE="$RUN/page-100.json" \
    bash "$suite/run.sh" "${configs[@]}" >"$RUN/baseline.log" 2>&1 ||
    { log "baseline run failed; see $RUN/baseline.log"; return; }
  python3 - "$res" "$CONC" >>"$RES" <<'EOF'
import csv, statistics as st, sys
path, conc = sys.argv[1:]
groups = {}
for r in csv.DictReader(open(path), delimiter='\t'):
    if r['conc'] == conc:
        groups.setdefault(r['label'], []).append(r)
    elif r['conc'] == '1':
        groups.setdefault(r['label'] + '-c1', []).append(r)
for label, rs in groups.items():
    med = lambda k: st.median(float(r[k]) for r in rs)
    print('\t'.join(['baseline', label, '', f"{med('rps'):.1f}", f"{med('p50_ms'):.3f}",
                     f"{med('p99_ms'):.3f}", str(sum(int(r['errors']) for r in rs)),
                     str(sum(int(r['non2xx']) for r in rs)), '', f"median of {len(rs)}"]))
EOF
  grep '^baseline' "$RES" | cut -f2,4-6 | sed 's/^/[bench]   /' >&2
}

bench_emulate() {
  local port; port=$(free_port)
  log "=== emulate 0.12.2 --service stripe on 127.0.0.1:$port"
  "$NODE" "$EMULATE_JS" start --service stripe --port "$port" >"$RUN/emulate.log" 2>&1 &
  EMU_PID=$!
  local url=http://127.0.0.1:$port
  for _ in $(seq 300); do
    curl -s -o /dev/null -H 'Authorization: Bearer sk_test_probe' "$url/v1/products" && break
    kill -0 "$EMU_PID" 2>/dev/null || die "emulate exited; see $RUN/emulate.log"
    sleep 0.1
  done
  "$NODE" "$BENCH/emulate_seed.mjs" "$url" "$EMULATE_SESSIONS" "$RUN" >&2
  printf '%s' "line_items[0][price]=$(cat "$RUN/emulate_price")&line_items[0][quantity]=1&mode=payment&success_url=https%3A%2F%2Fshop.example%2Fthanks" \
    >"$RUN/emulate-create.form"
  selected retrieve && measure emulate retrieve "$EMU_PID" "$url" get_ids.lua BENCH_ROTATE=1 BENCH_ROTATE_EVERY="$EMULATE_TOKEN_EVERY" \
    BENCH_IDS="$RUN/emulate_ids" BENCH_PATH="/v1/checkout/sessions/%s" &&
    note_last "random ids out of $EMULATE_SESSIONS sessions; a new token every $EMULATE_TOKEN_EVERY requests"
  selected create-v1-price && measure emulate create-v1-price "$EMU_PID" "$url/v1/checkout/sessions" post.lua \
    BENCH_ROTATE=1 BENCH_ROTATE_EVERY="$EMULATE_TOKEN_EVERY" BENCH_BODY="$RUN/emulate-create.form" BENCH_CTYPE=application/x-www-form-urlencoded &&
    note_last "in memory, not durable; a new token every $EMULATE_TOKEN_EVERY requests"
  stop_pid "$EMU_PID"; EMU_PID=""
}

# ----- Main -------------------------------------------------------------------------------------

machine_info() {
  {
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "nproc=$(nproc)"
    echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "kernel=$(uname -r)"
    echo "memory=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- src migrations Cargo.toml Cargo.lock 2>/dev/null || echo ' (modified)')"
    echo "wrk=wrk -t$THREADS -c$CONC -d$DUR after a $WARMUP warm-up"
    echo "sessions=$SESSIONS"
    echo "small_sessions=$SMALL_SESSIONS"
    echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "postgres=$(psql "$PG_URL" -qAt -c 'SHOW server_version' 2>/dev/null || echo '-')"
  } >"$RUN/machine.txt"
}

ensure_tools
build
machine_info
log "results in $RUN"
for engine in $ENGINES; do
  case $engine in sqlite | postgres) ;; *) die "unknown engine $engine" ;; esac
  if [ -n "$SMALL_DATA" ] && [ "$SMALL_DATA" -lt "$SESSIONS" ]; then
    (SESSIONS=$SMALL_DATA SIZE_SUFFIX="@$SMALL_DATA" SKIP_WEBHOOKS=1 bench_engine "$engine")
  fi
  bench_engine "$engine"
done
[ "$SKIP_EMULATE" = 1 ] || bench_emulate
[ "$SKIP_BASELINE" = 1 ] || bench_baselines
# Renewals per second (bench/renewals.sh), when RENEWALS is set: minutes per engine at 100 000.
if [ -n "${RENEWALS:-}" ]; then
  log "=== renewals: $RENEWALS subscriptions due at once, per engine (bench/renewals.sh)"
  RUN=$RUN SKIP_BUILD=1 ENGINES="$ENGINES" PG_URL="$PG_URL" KEEP="$KEEP" RENEWALS="$RENEWALS" \
    bash "$BENCH/renewals.sh"
fi
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RUN/machine.txt"
if [ "$WRITE_REPORT" = 1 ]; then
  python3 "$BENCH/report.py" "$RUN" "$ROOT/BENCHMARKS.md"
  log "wrote $ROOT/BENCHMARKS.md"
fi
column -t -s $'\t' "$RES" >&2
