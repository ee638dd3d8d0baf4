# Sourced by bench/run.sh: SQL that copies one real checkout session (made through the API)
# COUNT times into the same account, in one INSERT ... SELECT per table.
#
# The copies are what the API would have written, except for:
# - ids: `cs_test_` + the 8-character base62 millisecond time of `created` (as src/domain/ids.rs
#   makes them, so ids sort by creation time and work as list cursors) + a 22-character
#   suffix made of MARK and the copy's number (instead of random characters);
# - `created`: spread STEP seconds apart, ending just before the template's own, so that
#   newest-first pages and cursors walk a realistic range;
# - status by copy number: 60 % open, 20 % expired, 10 % completed (paid), 10 % canceled;
# - open copies expire 30 days from now, so the expiry sweeper (src/workers.rs) has nothing to
#   do during the run; the others expired or finished an hour / a minute after `created`.
# Line items are copied with each session. list_counts (the running totals behind the Loops
# `total`) are rebuilt from the table afterwards, as `kassa::store::counts::rebuild` does.

B62_ALPHABET=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz

# b62 EXPR: SQL for the 8-character fixed-width base62 of the integer EXPR (both engines).
b62() {
  local e=$1 out="" k
  for k in 7 6 5 4 3 2 1 0; do
    out+="${out:+ || }substr('$B62_ALPHABET', CAST((($e) / $((62 ** k))) % 62 + 1 AS INTEGER), 1)"
  done
  printf '%s' "$out"
}

# seed_sql ENGINE TEMPLATE_ID COUNT MARK NOW STEP: the SQL text (no transaction around it).
seed_sql() {
  local engine=$1 template=$2 count=$3 mark=$4 now=$5 step=$6 seq pad21 pad19
  if [ "$engine" = sqlite ]; then
    seq="WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $count)"
    pad21="substr('000000000000000000000' || g.i, -21, 21)"
    pad19="substr('0000000000000000000' || g.i, -19, 19)"
    pos2="substr('00' || l.position, -2, 2)"
  else
    seq="WITH seq(i) AS (SELECT generate_series(1, $count)::bigint)"
    pad21="lpad(g.i::text, 21, '0')"
    pad19="lpad(g.i::text, 19, '0')"
    pos2="lpad(l.position::text, 2, '0')"
  fi
  local gen="gen AS (SELECT i, t.created - ($count + 1 - i) * $step AS created,
      (t.created - ($count + 1 - i) * $step) * 1000 + i % 1000 AS ms,
      CASE WHEN i % 10 < 6 THEN 'open' WHEN i % 10 < 8 THEN 'expired'
           WHEN i % 10 = 8 THEN 'completed' ELSE 'canceled' END AS state
    FROM seq, checkout_sessions t WHERE t.id = '$template')"
  local sid="'cs_test_' || $(b62 g.ms) || '$mark' || $pad21"
  cat <<SQL
$seq, $gen
INSERT INTO checkout_sessions (id, account_id, livemode, state, mode, payment_status, currency,
    amount_subtotal, amount_total, product_name, product_description, success_url, cancel_url,
    customer_id, customer_email, client_reference_id, external_customer_id, payment_link_id,
    payment_intent_id, setup_intent_id, metadata, settings, customer_details, declined_attempts,
    created, updated, expires_at, completed_at)
SELECT $sid, t.account_id, t.livemode, g.state, t.mode,
    CASE WHEN g.state = 'completed' THEN 'paid' ELSE t.payment_status END, t.currency,
    t.amount_subtotal, t.amount_total, t.product_name, t.product_description, t.success_url,
    t.cancel_url, t.customer_id, t.customer_email, t.client_reference_id, t.external_customer_id,
    t.payment_link_id, NULL, NULL, t.metadata, t.settings, NULL, 0,
    g.created,
    CASE WHEN g.state = 'open' THEN g.created ELSE g.created + 60 END,
    CASE WHEN g.state = 'open' THEN $now + 30 * 86400 ELSE g.created + 3600 END,
    CASE WHEN g.state = 'completed' THEN g.created + 60 ELSE NULL END
FROM gen g, checkout_sessions t WHERE t.id = '$template';

$seq, $gen
INSERT INTO checkout_line_items (id, session_id, position, price_id, description, currency,
    unit_amount, quantity, adjustable_enabled, adjustable_minimum, adjustable_maximum,
    amount_subtotal, amount_total)
SELECT 'li_' || $(b62 g.ms) || '$mark' || $pos2 || $pad19, $sid, l.position, l.price_id,
    l.description, l.currency, l.unit_amount, l.quantity, l.adjustable_enabled,
    l.adjustable_minimum, l.adjustable_maximum, l.amount_subtotal, l.amount_total
FROM gen g, checkout_line_items l WHERE l.session_id = '$template';
SQL
}

# The running totals of checkout sessions per account, mode and state, from the table.
counts_sql() {
  cat <<'SQL'
DELETE FROM list_counts WHERE list = 'checkout_sessions';
INSERT INTO list_counts (account_id, livemode, list, key, shard, count)
SELECT account_id, livemode, 'checkout_sessions', state, 0, COUNT(*) FROM checkout_sessions
GROUP BY account_id, livemode, state;
SQL
}
