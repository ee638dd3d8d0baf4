//! The dashboard overview's figures, each one aggregate query over an index range
//! (`subscriptions_by_status`, `charges_succeeded`; migration 0020): what is counted is the
//! subscriptions still billed and the last days' charges, never an account's whole history.
//! Subscriptions and customers on a test clock are simulations and are left out.

use super::{Db, StoreResult, args};
use crate::domain::accounts::Caller;

/// Subscriptions still billed (`active`, `past_due`), counted per status: (status, count, how
/// many of them renew by `renews_by`: their period ends by then and nothing cancels them at or
/// before that end).
pub async fn billed_subscriptions(
    db: &Db,
    caller: &Caller,
    renews_by: i64,
) -> StoreResult<Vec<(String, i64, i64)>> {
    db.fetch_all(
        "SELECT status, COUNT(*), CAST(SUM(CASE WHEN current_period_end <= $3 \
           AND cancel_at_period_end = FALSE \
           AND (cancel_at IS NULL OR cancel_at > current_period_end) THEN 1 ELSE 0 END) AS BIGINT) \
         FROM subscriptions WHERE account_id = $1 AND livemode = $2 \
           AND status IN ('active', 'past_due') AND test_clock_id IS NULL \
         GROUP BY status ORDER BY status",
        &args![&caller.account_id, caller.mode.is_live(), renews_by],
    )
    .await
}

/// What the subscriptions still billed (`active`, `past_due`) charge per period, summed by
/// currency and billing interval: (currency, interval, interval_count, Σ unit_amount ×
/// quantity in minor units).
pub async fn recurring_amounts(
    db: &Db,
    caller: &Caller,
) -> StoreResult<Vec<(String, String, i64, i64)>> {
    db.fetch_all(
        "SELECT p.currency, p.recurring_interval, p.recurring_interval_count, \
           CAST(SUM(COALESCE(p.unit_amount, 0) * si.quantity) AS BIGINT) \
         FROM subscriptions s JOIN subscription_items si ON si.subscription_id = s.id \
           JOIN prices p ON p.id = si.price_id \
         WHERE s.account_id = $1 AND s.livemode = $2 AND s.status IN ('active', 'past_due') \
           AND s.test_clock_id IS NULL AND p.recurring_interval IS NOT NULL \
         GROUP BY p.currency, p.recurring_interval, p.recurring_interval_count \
         ORDER BY p.currency, p.recurring_interval, p.recurring_interval_count",
        &args![&caller.account_id, caller.mode.is_live()],
    )
    .await
}

/// Succeeded charges made at or after `since` (unix seconds), net of their refunds, summed per
/// currency and UTC day: (currency, day as unix seconds ÷ 86 400, Σ amount in minor units). Charges of customers on
/// a test clock are left out: their times are the clock's.
pub async fn revenue_per_day(
    db: &Db,
    caller: &Caller,
    since: i64,
) -> StoreResult<Vec<(String, i64, i64)>> {
    db.fetch_all(
        "SELECT currency, created / 86400, CAST(SUM(amount - amount_refunded) AS BIGINT) FROM charges \
         WHERE account_id = $1 AND livemode = $2 AND status = 'succeeded' AND created >= $3 \
           AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = charges.customer_id \
             AND c.test_clock_id IS NOT NULL) \
         GROUP BY currency, created / 86400 ORDER BY currency, created / 86400",
        &args![&caller.account_id, caller.mode.is_live(), since],
    )
    .await
}

/// What the metrics read from the database at each scrape ([`crate::metrics::scrape`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricFigures {
    /// Subscriptions on no test clock, counted per status: (status, count).
    pub subscriptions: Vec<(String, i64)>,
    /// Webhook deliveries pending: due now or waiting for a retry.
    pub webhooks_pending: i64,
    /// When the oldest pending delivery was created (Unix seconds), if any is pending.
    pub oldest_pending_webhook: Option<i64>,
    /// The earliest due time (Unix seconds) of billing work due by `now` and not yet done (a
    /// renewal, an invoice's collection), on no test clock.
    pub oldest_due_billing: Option<i64>,
}

/// [`MetricFigures`] as of `now`, in two queries, each over an index: `subscriptions_status`
/// (migration 0026), `webhook_deliveries_due` (pending only), `subscriptions_due` and
/// `invoices_due` (due rows on no clock).
pub async fn metrics(db: &Db, now: i64) -> StoreResult<MetricFigures> {
    let subscriptions = db
        .fetch_all(
            "SELECT status, COUNT(*) FROM subscriptions WHERE test_clock_id IS NULL \
             GROUP BY status ORDER BY status",
            &[],
        )
        .await?;
    let (webhooks_pending, oldest_pending_webhook, renewal, collection): (
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    ) = db
        .fetch_one(
            "SELECT \
               (SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'), \
               (SELECT MIN(created) FROM webhook_deliveries WHERE state = 'pending'), \
               (SELECT MIN(next_billing_at) FROM subscriptions WHERE next_billing_at IS NOT NULL \
                  AND test_clock_id IS NULL AND next_billing_at <= $1), \
               (SELECT MIN(due_at) FROM invoices WHERE due_at IS NOT NULL \
                  AND test_clock_id IS NULL AND due_at <= $1)",
            &args![now],
        )
        .await?;
    Ok(MetricFigures {
        subscriptions,
        webhooks_pending,
        oldest_pending_webhook,
        oldest_due_billing: renewal.into_iter().chain(collection).min(),
    })
}
