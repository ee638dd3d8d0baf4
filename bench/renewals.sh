#!/usr/bin/env bash
# Renewals per second: RENEWALS subscriptions (default 100 000) on one test clock, all due at
# the same moment; one advance past the period's end makes the billing engine renew, finalize
# and charge every one of them. Timed from the advance to the clock's `ready`, on SQLite and
# PostgreSQL, with a release build. See bench/README.md ("Renewals").
#
#   bash bench/renewals.sh                              # both engines, 100 000 subscriptions
#   RENEWALS=10000 ENGINES=sqlite bash bench/renewals.sh
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${OUT:-$CARGO_TARGET_DIR/bench}
ENGINES=${ENGINES-sqlite postgres}
RENEWALS=${RENEWALS:-100000}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RUN=${RUN:-$OUT/renewals-$STAMP}
mkdir -p "$RUN"
RES=$RUN/renewals.tsv
BIN=${KASSA_BIN:-$CARGO_TARGET_DIR/release/kassa}
# 2027-01-01T00:00:00Z: the clock's time when the subscriptions start; they renew on Feb 1.
START=1798761600
RENEWAL=1801440000
# Two hours past the renewal: its invoices are finalized and charged an hour after it.
TARGET=$((RENEWAL + 7200))

# shellcheck source=bench/seed.sh
source "$BENCH/seed.sh"
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

PG_DB=""
cleanup() {
  stop_server
  if [ -n "$PG_DB" ] && [ "$KEEP" != 1 ]; then
    psql_admin -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true
  fi
  PG_DB=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ----- Copying one real subscription ------------------------------------------------------------

column_types() { # column_types ENGINE DB_URL TABLE: "name type" per line
  if [ "$1" = sqlite ]; then
    db_query sqlite "$2" "SELECT name || ' ' || type FROM pragma_table_info('$3') ORDER BY cid"
  else
    db_query postgres "$2" "SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_name = '$3' ORDER BY ordinal_position"
  fi
}

# copy_sql ENGINE DB_URL TABLE WHERE IDS COUNT: SQL that copies the rows of TABLE matching WHERE
# (the template's, aliased t) COUNT times. Every text column whose value is one of IDS (the
# template's object ids, quoted and comma-separated) gets the copy's own id instead: the same
# prefix and creation time, and a 22-character suffix of `R` and the copy's number, so the
# copies' rows point at each other as the template's do. Other columns are copied as they are.
copy_sql() {
  local engine=$1 url=$2 table=$3 where=$4 ids=$5 count=$6 seq pad cols=() exprs=() name type
  if [ "$engine" = sqlite ]; then
    seq="WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < $count)"
    pad="substr('000000000000000000000' || g.i, -21, 21)"
  else
    seq="WITH g(i) AS (SELECT generate_series(1, $count)::bigint)"
    pad="lpad(g.i::text, 21, '0')"
  fi
  while read -r name type; do
    cols+=("$name")
    case "$table.$name" in
      # The first invoice's number is made of its customer's id: the copy's.
      invoices.number) exprs+=("substr($pad, 14, 8) || substr(t.number, 9)") ;;
      *)
        if [[ ${type,,} == text* ]]; then
          exprs+=("CASE WHEN t.$name IN ($ids) THEN substr(t.$name, 1, length(t.$name) - 22) || 'R' || $pad ELSE t.$name END")
        else
          exprs+=("t.$name")
        fi ;;
    esac
  done < <(column_types "$engine" "$url" "$table")
  local IFS=,
  printf '%s\nINSERT INTO %s (%s)\nSELECT %s\nFROM g, %s t WHERE %s;\n' \
    "$seq" "$table" "${cols[*]}" "${exprs[*]}" "$table" "$where"
}

# seed ENGINE DB_URL KEY: one real subscription on a new clock, through the API (a customer on
# the clock, a checkout in subscription mode paid with the test-payment helper); then, with the
# server stopped, RENEWALS - 1 SQL copies of every row that checkout wrote. Sets CLOCK and SUB.
CLOCK=""; SUB=""
seed() {
  local engine=$1 url=$2 key=$3 clock price customer session sub
  clock=$(api POST /v1/test_helpers/test_clocks "$key" -d frozen_time=$START -d name=Renewals | json "['id']")
  price=$(api POST /v1/prices "$key" -d currency=usd -d unit_amount=900 -d 'recurring[interval]=month' \
    -d 'product_data[name]=Pro' | json "['id']")
  customer=$(api POST /v1/customers "$key" -d email=renewals@example.com -d test_clock="$clock" | json "['id']")
  session=$(api POST /v1/checkout/sessions "$key" -d mode=subscription -d customer="$customer" \
    -d "line_items[0][price]=$price" -d 'line_items[0][quantity]=1' \
    -d success_url=https://shop.example/ok | json "['id']")
  sub=$(api POST "/v1/test_helpers/checkout/sessions/$session/pay" "$key" -d card=4242424242424242 |
    json "['subscription']")
  stop_server
  local q="'$sub'" row pm invoice intent charge ids
  row=$(db_query "$engine" "$url" "SELECT default_payment_method || ' ' || latest_invoice_id FROM subscriptions WHERE id = $q")
  read -r pm invoice <<<"$row"
  row=$(db_query "$engine" "$url" "SELECT payment_intent_id || ' ' || charge_id FROM invoices WHERE id = '$invoice'")
  read -r intent charge <<<"$row"
  ids=$(db_query "$engine" "$url" "SELECT '''' || id || '''' FROM subscription_items WHERE subscription_id = $q
    UNION ALL SELECT '''' || id || '''' FROM invoice_lines WHERE invoice_id = '$invoice'
    UNION ALL SELECT '''' || id || '''' FROM checkout_line_items WHERE session_id = '$session'" | paste -sd, -)
  ids="$ids,'$customer','$pm','$session','$intent','$charge','$sub','$invoice'"
  local n=$((RENEWALS - 1))
  log "$engine: copying $sub (customer, payment method, session, PaymentIntent, charge, subscription, first invoice, with their lines) $n times by SQL"
  local t0; t0=$(date +%s)
  {
    [ "$engine" != sqlite ] || echo "PRAGMA cache_size = -262144;"
    echo "BEGIN;"
    if [ "$n" -gt 0 ]; then
      copy_sql "$engine" "$url" customers "t.id = '$customer'" "$ids" $n
      copy_sql "$engine" "$url" payment_methods "t.id = '$pm'" "$ids" $n
      copy_sql "$engine" "$url" checkout_sessions "t.id = '$session'" "$ids" $n
      copy_sql "$engine" "$url" checkout_line_items "t.session_id = '$session'" "$ids" $n
      copy_sql "$engine" "$url" payment_intents "t.id = '$intent'" "$ids" $n
      copy_sql "$engine" "$url" charges "t.id = '$charge'" "$ids" $n
      copy_sql "$engine" "$url" subscriptions "t.id = '$sub'" "$ids" $n
      copy_sql "$engine" "$url" subscription_items "t.subscription_id = '$sub'" "$ids" $n
      copy_sql "$engine" "$url" invoices "t.id = '$invoice'" "$ids" $n
      copy_sql "$engine" "$url" invoice_lines "t.invoice_id = '$invoice'" "$ids" $n
      counts_sql
    fi
    echo "COMMIT;"
    [ "$engine" = sqlite ] || echo "VACUUM ANALYZE;"
  } | db_script "$engine" "$url" >/dev/null
  log "$engine: seeded in $(($(date +%s) - t0)) s"
  CLOCK=$clock; SUB=$sub
}

# ----- One engine -------------------------------------------------------------------------------

bench_engine() {
  local engine=$1 url
  log "=== $engine: $RENEWALS subscriptions due at once on one test clock"
  if [ "$engine" = sqlite ]; then
    mkdir -p "$RUN/sqlite"; url="sqlite://$RUN/sqlite/kassa.db"; rm -f "$RUN/sqlite/kassa.db"*
  else
    PG_DB=kassa_renewals_$(tr '[:upper:]' '[:lower:]' <<<"$STAMP")_$$
    psql_admin -c "CREATE DATABASE $PG_DB" >/dev/null
    url="${PG_URL%/*}/$PG_DB"
  fi
  local account key
  read -r account key < <(new_account "$url" "Renewals")
  [ -n "$key" ] || die "kassa account create failed"
  start_server "$url" "$engine-renewals"
  seed "$engine" "$url" "$key"
  local clock=$CLOCK sub=$SUB

  local due
  due=$(db_query "$engine" "$url" "SELECT COUNT(*) FROM subscriptions WHERE test_clock_id = '$clock' AND next_billing_at = $RENEWAL")
  [ "$due" = "$RENEWALS" ] || die "expected $RENEWALS subscriptions due on the clock, found $due"
  start_server "$url" "$engine-renewals"
  local copy
  copy=$(db_query "$engine" "$url" "SELECT id FROM subscriptions WHERE id <> '$sub' ORDER BY id DESC LIMIT 1")
  for id in "$sub" ${copy:+"$copy"}; do
    api GET "/v1/subscriptions/$id" "$key" -o /dev/null || die "subscription $id does not read back"
  done

  log "$engine: kassa at $BASE (pid $SRV_PID); advancing $clock past the renewal"
  # The clock's time says how far the advance is: at the renewal while the subscriptions renew,
  # an hour later while the invoices are finalized and charged.
  local t0 t1 tc="" status=advancing time
  t0=$(date +%s.%N)
  api POST "/v1/test_helpers/test_clocks/$clock/advance" "$key" -d frozen_time=$TARGET -o /dev/null
  while [ "$status" != ready ]; do
    sleep 0.2
    read -r status time < <(api GET "/v1/test_helpers/test_clocks/$clock" "$key" |
      python3 -c 'import sys, json; c = json.load(sys.stdin); print(c["status"], c["frozen_time"])')
    if [ -z "$tc" ] && [ "$time" -gt "$RENEWAL" ]; then tc=$(date +%s.%N); fi
  done
  t1=$(date +%s.%N)

  # What the advance did: every subscription renewed once, every renewal paid by one charge.
  local invoices paid ledger open
  invoices=$(db_query "$engine" "$url" "SELECT COUNT(*) FROM invoices WHERE billing_reason = 'subscription_cycle'")
  paid=$(db_query "$engine" "$url" "SELECT COUNT(*) FROM invoices WHERE billing_reason = 'subscription_cycle' AND status = 'paid'")
  ledger=$(db_query "$engine" "$url" "SELECT COUNT(*) FROM processor_ledger WHERE outcome = 'succeeded'")
  open=$(db_query "$engine" "$url" "SELECT COUNT(*) FROM invoices WHERE due_at IS NOT NULL OR charge_key IS NOT NULL")
  [ "$invoices" = "$RENEWALS" ] && [ "$paid" = "$RENEWALS" ] && [ "$ledger" = "$RENEWALS" ] && [ "$open" = 0 ] ||
    die "after the advance: $invoices renewal invoices, $paid paid, $ledger charges in the ledger, $open not done (expected $RENEWALS, $RENEWALS, $RENEWALS, 0)"
  stop_server

  python3 - "$engine" "$RENEWALS" "$t0" "${tc:-$t1}" "$t1" >>"$RES" <<'EOF'
import sys
engine, n, t0, tc, t1 = sys.argv[1:]
n, t0, tc, t1 = int(n), float(t0), float(tc), float(t1)
print('\t'.join([engine, str(n), f'{t1 - t0:.1f}', f'{n / (t1 - t0):.1f}', f'{tc - t0:.1f}',
                 f'{t1 - tc:.1f}']))
EOF
  IFS=$'\t' read -r _ _ total rate renew_s collect_s < <(tail -1 "$RES")
  log "$engine: $RENEWALS renewals in $total s: $rate renewals/s (renewing ~$renew_s s, then finalizing and charging ~$collect_s s)"

  if [ "$engine" = postgres ] && [ "$KEEP" != 1 ]; then
    psql_admin -c "DROP DATABASE $PG_DB" >/dev/null; PG_DB=""
  fi
  if [ "$engine" = sqlite ] && [ "$KEEP" != 1 ]; then rm -rf "$RUN/sqlite"; fi
}

# ----- Main -------------------------------------------------------------------------------------

for tool in curl python3; do command -v $tool >/dev/null || die "$tool is needed"; done
[[ " $ENGINES " != *" sqlite "* ]] || command -v sqlite3 >/dev/null || die "sqlite3 is needed (apt-get install sqlite3)"
[[ " $ENGINES " != *" postgres "* ]] || command -v psql >/dev/null || die "psql is needed (apt-get install postgresql-client)"
if [ -z "${KASSA_BIN:-}" ] && { [ "$SKIP_BUILD" != 1 ] || [ ! -x "$BIN" ]; }; then
  log "cargo build --release --bin kassa"
  (cd "$ROOT" && cargo build --release --bin kassa 2>&1 | tail -1)
fi
printf 'engine\trenewals\tseconds\trenewals_per_s\trenewing_s\tcollecting_s\n' >"$RES"
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu=$(nproc) × $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- src migrations 2>/dev/null || echo ' (modified)')"
  echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$RUN/renewals-machine.txt"
for engine in $ENGINES; do
  case $engine in sqlite | postgres) bench_engine "$engine" ;; *) die "unknown engine $engine" ;; esac
done
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RUN/renewals-machine.txt"
cat "$RUN/renewals-machine.txt" >&2
column -t -s $'\t' "$RES" >&2
