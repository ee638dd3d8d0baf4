//! Subscriptions, their items, invoices and their lines. Written in the transactions that start
//! or bill a subscription (as `Statement`s, batched with the rest of the change); read with
//! their items or lines and those lines' prices in one query each.

use super::catalog::{price_columns, read_price};
use super::events::write_if_with_events;
use super::query::Select;
use super::{Db, FromRow, Row, Statement, StoreResult, args, row_struct};
use crate::domain::accounts::Caller;
use crate::domain::billing::engine::{Scope, When};
use crate::domain::billing::subscriptions::Cancellation;
use crate::domain::billing::{
    Invoice, InvoiceLine, InvoiceStatus, Subscription, SubscriptionItem, SubscriptionStatus,
};
use crate::domain::catalog::Price;
use crate::domain::events::Event;
use crate::domain::list::{CreatedRange, Page, PageRequest};
use crate::domain::metadata::Metadata;

// ----- Writing -----------------------------------------------------------------------------------

pub fn subscription_insert<'a>(account_id: &'a str, s: &'a Subscription) -> Statement<'a> {
    Statement::new(
        "INSERT INTO subscriptions (id, account_id, livemode, customer_id, status, currency, \
         default_payment_method, description, metadata, billing_cycle_anchor, current_period_start, \
         current_period_end, cancel_at_period_end, cancel_at, canceled_at, ended_at, cancellation_reason, \
         cancellation_comment, cancellation_feedback, trial_start, trial_end, trial_missing_payment_method, \
         latest_invoice_id, checkout_session_id, test_clock_id, start_date, next_billing_at, lease_until, \
         created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
         $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, NULL, $28, $29)",
        args![
            &s.id,
            account_id,
            s.livemode,
            &s.customer_id,
            s.status.as_str(),
            &s.currency,
            &s.default_payment_method,
            &s.description,
            s.metadata.to_json(),
            s.billing_cycle_anchor,
            s.current_period_start,
            s.current_period_end,
            s.cancel_at_period_end,
            s.cancel_at,
            s.canceled_at,
            s.ended_at,
            &s.cancellation.reason,
            &s.cancellation.comment,
            &s.cancellation.feedback,
            s.trial_start,
            s.trial_end,
            &s.trial_missing_payment_method,
            &s.latest_invoice_id,
            &s.checkout_session_id,
            &s.test_clock_id,
            s.start_date,
            s.next_billing_at,
            s.created,
            s.updated
        ],
    )
}

pub fn subscription_item_insert(item: &SubscriptionItem, position: usize) -> Statement<'_> {
    Statement::new(
        "INSERT INTO subscription_items (id, subscription_id, price_id, quantity, metadata, position, created) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        args![
            &item.id,
            &item.subscription_id,
            &item.price.id,
            item.quantity,
            item.metadata.to_json(),
            position as i64,
            item.created
        ],
    )
}

pub fn invoice_insert<'a>(account_id: &'a str, i: &'a Invoice) -> Statement<'a> {
    Statement::new(
        "INSERT INTO invoices (id, account_id, livemode, customer_id, subscription_id, number, status, \
         billing_reason, currency, subtotal, total, amount_due, amount_paid, attempt_count, \
         next_payment_attempt, period_start, period_end, payment_intent_id, charge_id, customer_email, \
         customer_name, description, metadata, finalized_at, paid_at, voided_at, marked_uncollectible_at, \
         test_clock_id, created, updated, due_at, first_failed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
         $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, \
         $29, $30, $31, $32)",
        args![
            &i.id,
            account_id,
            i.livemode,
            &i.customer_id,
            &i.subscription_id,
            &i.number,
            i.status.as_str(),
            &i.billing_reason,
            &i.currency,
            i.subtotal,
            i.total,
            i.amount_due,
            i.amount_paid,
            i.attempt_count,
            i.next_payment_attempt,
            i.period_start,
            i.period_end,
            &i.payment_intent_id,
            &i.charge_id,
            &i.customer_email,
            &i.customer_name,
            &i.description,
            i.metadata.to_json(),
            i.finalized_at,
            i.paid_at,
            i.voided_at,
            i.marked_uncollectible_at,
            &i.test_clock_id,
            i.created,
            i.updated,
            i.due_at,
            i.first_failed_at
        ],
    )
}

pub fn invoice_line_insert(line: &InvoiceLine, position: usize) -> Statement<'_> {
    Statement::new(
        "INSERT INTO invoice_lines (id, invoice_id, subscription_item_id, price_id, description, quantity, \
         unit_amount, amount, period_start, period_end, position) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        args![
            &line.id,
            &line.invoice_id,
            &line.subscription_item_id,
            &line.price.id,
            &line.description,
            line.quantity,
            line.unit_amount,
            line.amount,
            line.period_start,
            line.period_end,
            position as i64
        ],
    )
}

/// Saves a subscription's changed fields and writes `events`, in one transaction, if nobody
/// changed it since version `subscription.version - 1` was read; returns whether it did.
pub async fn save_subscription(
    db: &Db,
    caller: &Caller,
    subscription: &Subscription,
    events: &[Event],
) -> StoreResult<bool> {
    let s = subscription;
    let guard = Statement::new(
        "UPDATE subscriptions SET status = $1, default_payment_method = $2, description = $3, metadata = $4, \
         current_period_start = $5, current_period_end = $6, cancel_at_period_end = $7, cancel_at = $8, \
         canceled_at = $9, ended_at = $10, cancellation_reason = $11, cancellation_comment = $12, \
         cancellation_feedback = $13, trial_start = $14, trial_end = $15, latest_invoice_id = $16, \
         next_billing_at = $17, updated = $18, version = $19, lease_until = NULL WHERE id = $20 AND version = $21",
        args![
            s.status.as_str(),
            &s.default_payment_method,
            &s.description,
            s.metadata.to_json(),
            s.current_period_start,
            s.current_period_end,
            s.cancel_at_period_end,
            s.cancel_at,
            s.canceled_at,
            s.ended_at,
            &s.cancellation.reason,
            &s.cancellation.comment,
            &s.cancellation.feedback,
            s.trial_start,
            s.trial_end,
            &s.latest_invoice_id,
            s.next_billing_at,
            s.updated,
            s.version,
            &s.id,
            s.version - 1
        ],
    );
    write_if_with_events(
        db,
        &caller.account_id,
        s.livemode,
        guard,
        Vec::new(),
        events,
    )
    .await
}

/// How many invoices a customer has: the next one's number follows.
pub async fn count_invoices_of(db: &Db, customer_id: &str) -> StoreResult<i64> {
    let (count,): (i64,) = db
        .fetch_one(
            "SELECT COUNT(*) FROM invoices WHERE customer_id = $1",
            &args![customer_id],
        )
        .await?;
    Ok(count)
}

// ----- Reading subscriptions ---------------------------------------------------------------------

row_struct! {
    struct SubscriptionRow {
        id: String,
        livemode: bool,
        customer_id: String,
        status: String,
        currency: String,
        default_payment_method: Option<String>,
        description: Option<String>,
        metadata: String,
        billing_cycle_anchor: i64,
        current_period_start: i64,
        current_period_end: i64,
        cancel_at_period_end: bool,
        cancel_at: Option<i64>,
        canceled_at: Option<i64>,
        ended_at: Option<i64>,
        cancellation_reason: Option<String>,
        cancellation_comment: Option<String>,
        cancellation_feedback: Option<String>,
        trial_start: Option<i64>,
        trial_end: Option<i64>,
        trial_missing_payment_method: String,
        latest_invoice_id: Option<String>,
        checkout_session_id: Option<String>,
        test_clock_id: Option<String>,
        start_date: i64,
        next_billing_at: Option<i64>,
        version: i64,
        created: i64,
        updated: i64,
    }
}

impl SubscriptionRow {
    fn into_subscription(self, items: Vec<SubscriptionItem>) -> Subscription {
        Subscription {
            id: self.id,
            livemode: self.livemode,
            customer_id: self.customer_id,
            status: SubscriptionStatus::parse(&self.status).unwrap_or(SubscriptionStatus::Canceled),
            currency: self.currency,
            default_payment_method: self.default_payment_method,
            description: self.description,
            metadata: Metadata::from_json(&self.metadata),
            billing_cycle_anchor: self.billing_cycle_anchor,
            current_period_start: self.current_period_start,
            current_period_end: self.current_period_end,
            cancel_at_period_end: self.cancel_at_period_end,
            cancel_at: self.cancel_at,
            canceled_at: self.canceled_at,
            ended_at: self.ended_at,
            cancellation: Cancellation {
                reason: self.cancellation_reason,
                comment: self.cancellation_comment,
                feedback: self.cancellation_feedback,
            },
            trial_start: self.trial_start,
            trial_end: self.trial_end,
            trial_missing_payment_method: self.trial_missing_payment_method,
            latest_invoice_id: self.latest_invoice_id,
            checkout_session_id: self.checkout_session_id,
            test_clock_id: self.test_clock_id,
            start_date: self.start_date,
            next_billing_at: self.next_billing_at,
            version: self.version,
            items,
            created: self.created,
            updated: self.updated,
        }
    }
}

row_struct! {
    struct ItemRow {
        id: String,
        subscription_id: String,
        quantity: i64,
        metadata: String,
        created: i64,
    }
}

/// An item's row, then its price's columns.
struct ItemWithPrice(ItemRow, Option<Price>);

impl FromRow for ItemWithPrice {
    fn from_row(row: &Row<'_>) -> StoreResult<Self> {
        Ok(ItemWithPrice(
            ItemRow::from_row(row)?,
            read_price(row, ItemRow::COUNT)?,
        ))
    }
}

/// The items of `subscriptions`, with their prices, in one query; by subscription, in order.
async fn items_of(db: &Db, subscription_ids: &[&str]) -> StoreResult<Vec<SubscriptionItem>> {
    if subscription_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=subscription_ids.len())
        .map(|n| format!("${n}"))
        .collect();
    let sql = format!(
        "SELECT si.id, si.subscription_id, si.quantity, si.metadata, si.created, {} \
         FROM subscription_items si LEFT JOIN prices pr ON pr.id = si.price_id \
         WHERE si.subscription_id IN ({}) ORDER BY si.subscription_id, si.position",
        price_columns!("pr."),
        placeholders.join(", ")
    );
    let bound: Vec<super::Arg> = subscription_ids.iter().map(|id| (*id).into()).collect();
    let rows: Vec<ItemWithPrice> = db.fetch_all(&sql, &bound).await?;
    rows.into_iter()
        .map(|ItemWithPrice(row, price)| {
            let price = price.ok_or_else(|| super::StoreError::Corrupt {
                what: format!("subscription item {}", row.id),
                reason: "its price is missing".into(),
            })?;
            Ok(SubscriptionItem {
                id: row.id,
                subscription_id: row.subscription_id,
                price,
                quantity: row.quantity,
                metadata: Metadata::from_json(&row.metadata),
                created: row.created,
            })
        })
        .collect()
}

/// Subscriptions with their items (two queries for any number of them).
async fn with_items(db: &Db, rows: Vec<SubscriptionRow>) -> StoreResult<Vec<Subscription>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut items = items_of(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                items.drain(..).partition(|i| i.subscription_id == row.id);
            items = rest;
            row.into_subscription(mine)
        })
        .collect())
}

pub async fn get_subscription(
    db: &Db,
    caller: &Caller,
    id: &str,
) -> StoreResult<Option<Subscription>> {
    let sql = format!(
        "SELECT {} FROM subscriptions WHERE id = $1 AND account_id = $2 AND livemode = $3",
        SubscriptionRow::COLUMNS
    );
    let row: Option<SubscriptionRow> = db
        .fetch_optional(&sql, &args![id, &caller.account_id, caller.mode.is_live()])
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(with_items(db, vec![row]).await?.pop())
}

/// Which subscriptions a list holds (Stripe's `GET /v1/subscriptions` filters).
#[derive(Debug, Clone, Default)]
pub struct SubscriptionFilter {
    pub customer: Option<String>,
    pub price: Option<String>,
    /// The statuses to include (none matches nothing).
    pub statuses: Vec<SubscriptionStatus>,
    pub created: CreatedRange,
    /// Only those on this test clock; without it (and without `customer`), those on a clock are
    /// left out, as on Stripe.
    pub test_clock: Option<String>,
}

pub async fn list_subscriptions(
    db: &Db,
    caller: &Caller,
    filter: &SubscriptionFilter,
    page: &PageRequest,
) -> StoreResult<Page<Subscription>> {
    let mut select = Select::new(SubscriptionRow::COLUMNS, "subscriptions");
    select.scope("", &caller.account_id, caller.mode.is_live());
    select.filter_text("customer_id = ?", filter.customer.as_deref());
    select.filter_text(
        "id IN (SELECT subscription_id FROM subscription_items WHERE price_id = ?)",
        filter.price.as_deref(),
    );
    let statuses: Vec<String> = filter.statuses.iter().map(|s| s.as_str().into()).collect();
    select.filter_in("status", &statuses);
    select.created("created", &filter.created);
    match (&filter.test_clock, &filter.customer) {
        (Some(clock), _) => {
            select.filter("test_clock_id = ?", clock.clone());
        }
        (None, None) => {
            select.condition("test_clock_id IS NULL");
        }
        (None, Some(_)) => {}
    }
    let rows: Page<SubscriptionRow> = select.fetch_page(db, "id", page).await?;
    let has_more = rows.has_more;
    Ok(Page {
        items: with_items(db, rows.items).await?,
        has_more,
    })
}

// ----- Reading invoices --------------------------------------------------------------------------

row_struct! {
    struct InvoiceRow {
        id: String,
        livemode: bool,
        customer_id: String,
        subscription_id: Option<String>,
        number: Option<String>,
        status: String,
        billing_reason: String,
        currency: String,
        subtotal: i64,
        total: i64,
        amount_due: i64,
        amount_paid: i64,
        attempt_count: i64,
        next_payment_attempt: Option<i64>,
        period_start: i64,
        period_end: i64,
        payment_intent_id: Option<String>,
        charge_id: Option<String>,
        customer_email: Option<String>,
        customer_name: Option<String>,
        description: Option<String>,
        metadata: String,
        finalized_at: Option<i64>,
        paid_at: Option<i64>,
        voided_at: Option<i64>,
        marked_uncollectible_at: Option<i64>,
        test_clock_id: Option<String>,
        due_at: Option<i64>,
        first_failed_at: Option<i64>,
        created: i64,
        updated: i64,
    }
}

impl InvoiceRow {
    fn into_invoice(self, lines: Vec<InvoiceLine>) -> Invoice {
        Invoice {
            id: self.id,
            livemode: self.livemode,
            customer_id: self.customer_id,
            subscription_id: self.subscription_id,
            number: self.number,
            status: InvoiceStatus::parse(&self.status).unwrap_or(InvoiceStatus::Void),
            billing_reason: self.billing_reason,
            currency: self.currency,
            subtotal: self.subtotal,
            total: self.total,
            amount_due: self.amount_due,
            amount_paid: self.amount_paid,
            attempt_count: self.attempt_count,
            next_payment_attempt: self.next_payment_attempt,
            period_start: self.period_start,
            period_end: self.period_end,
            payment_intent_id: self.payment_intent_id,
            charge_id: self.charge_id,
            customer_email: self.customer_email,
            customer_name: self.customer_name,
            description: self.description,
            metadata: Metadata::from_json(&self.metadata),
            finalized_at: self.finalized_at,
            paid_at: self.paid_at,
            voided_at: self.voided_at,
            marked_uncollectible_at: self.marked_uncollectible_at,
            test_clock_id: self.test_clock_id,
            due_at: self.due_at,
            first_failed_at: self.first_failed_at,
            lines,
            created: self.created,
            updated: self.updated,
        }
    }
}

row_struct! {
    struct LineRow {
        id: String,
        invoice_id: String,
        subscription_item_id: Option<String>,
        description: String,
        quantity: i64,
        unit_amount: i64,
        amount: i64,
        period_start: i64,
        period_end: i64,
    }
}

struct LineWithPrice(LineRow, Option<Price>);

impl FromRow for LineWithPrice {
    fn from_row(row: &Row<'_>) -> StoreResult<Self> {
        Ok(LineWithPrice(
            LineRow::from_row(row)?,
            read_price(row, LineRow::COUNT)?,
        ))
    }
}

/// The lines of `invoices`, with their prices, in one query; by invoice, in order.
async fn lines_of(db: &Db, invoice_ids: &[&str]) -> StoreResult<Vec<InvoiceLine>> {
    if invoice_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=invoice_ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT il.id, il.invoice_id, il.subscription_item_id, il.description, il.quantity, il.unit_amount, \
         il.amount, il.period_start, il.period_end, {} FROM invoice_lines il \
         LEFT JOIN prices pr ON pr.id = il.price_id WHERE il.invoice_id IN ({}) \
         ORDER BY il.invoice_id, il.position",
        price_columns!("pr."),
        placeholders.join(", ")
    );
    let bound: Vec<super::Arg> = invoice_ids.iter().map(|id| (*id).into()).collect();
    let rows: Vec<LineWithPrice> = db.fetch_all(&sql, &bound).await?;
    rows.into_iter()
        .map(|LineWithPrice(row, price)| {
            let price = price.ok_or_else(|| super::StoreError::Corrupt {
                what: format!("invoice line {}", row.id),
                reason: "its price is missing".into(),
            })?;
            Ok(InvoiceLine {
                id: row.id,
                invoice_id: row.invoice_id,
                subscription_item_id: row.subscription_item_id,
                price,
                description: row.description,
                quantity: row.quantity,
                unit_amount: row.unit_amount,
                amount: row.amount,
                period_start: row.period_start,
                period_end: row.period_end,
            })
        })
        .collect()
}

async fn with_lines(db: &Db, rows: Vec<InvoiceRow>) -> StoreResult<Vec<Invoice>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut lines = lines_of(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                lines.drain(..).partition(|l| l.invoice_id == row.id);
            lines = rest;
            row.into_invoice(mine)
        })
        .collect())
}

pub async fn get_invoice(db: &Db, caller: &Caller, id: &str) -> StoreResult<Option<Invoice>> {
    let sql = format!(
        "SELECT {} FROM invoices WHERE id = $1 AND account_id = $2 AND livemode = $3",
        InvoiceRow::COLUMNS
    );
    let row: Option<InvoiceRow> = db
        .fetch_optional(&sql, &args![id, &caller.account_id, caller.mode.is_live()])
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(with_lines(db, vec![row]).await?.pop())
}

/// Which invoices a list holds (Stripe's `GET /v1/invoices` filters).
#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    pub customer: Option<String>,
    pub subscription: Option<String>,
    pub status: Option<InvoiceStatus>,
    pub created: CreatedRange,
    /// As for subscriptions: those on a clock only with `test_clock` or `customer`.
    pub test_clock: Option<String>,
}

pub async fn list_invoices(
    db: &Db,
    caller: &Caller,
    filter: &InvoiceFilter,
    page: &PageRequest,
) -> StoreResult<Page<Invoice>> {
    let mut select = Select::new(InvoiceRow::COLUMNS, "invoices");
    select.scope("", &caller.account_id, caller.mode.is_live());
    select.filter_text("customer_id = ?", filter.customer.as_deref());
    select.filter_text("subscription_id = ?", filter.subscription.as_deref());
    select.filter_text("status = ?", filter.status.map(InvoiceStatus::as_str));
    select.created("created", &filter.created);
    match (&filter.test_clock, &filter.customer) {
        (Some(clock), _) => {
            select.filter("test_clock_id = ?", clock.clone());
        }
        (None, None) => {
            select.condition("test_clock_id IS NULL");
        }
        (None, Some(_)) => {}
    }
    let rows: Page<InvoiceRow> = select.fetch_page(db, "id", page).await?;
    let has_more = rows.has_more;
    Ok(Page {
        items: with_lines(db, rows.items).await?,
        has_more,
    })
}

/// The subscription an item belongs to, if the item is the caller's.
pub async fn subscription_of_item(
    db: &Db,
    caller: &Caller,
    item_id: &str,
) -> StoreResult<Option<String>> {
    let row: Option<(String,)> = db
        .fetch_optional(
            "SELECT s.id FROM subscription_items si JOIN subscriptions s ON s.id = si.subscription_id \
             WHERE si.id = $1 AND s.account_id = $2 AND s.livemode = $3",
            &args![item_id, &caller.account_id, caller.mode.is_live()],
        )
        .await?;
    Ok(row.map(|(id,)| id))
}

// ----- The billing engine ------------------------------------------------------------------------

/// A subscription or invoice claimed by the billing engine: its id, owner, and the lease that
/// its changes are written under.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    pub account_id: String,
    pub livemode: bool,
    pub lease_until: i64,
}

impl FromRow for Claimed {
    fn from_row(row: &Row<'_>) -> StoreResult<Self> {
        Ok(Claimed {
            id: row.get(0)?,
            account_id: row.get(1)?,
            livemode: row.get(2)?,
            lease_until: row.get(3)?,
        })
    }
}

/// Claims up to `limit` rows of `table` in `scope` whose `due` column is at or before
/// `when.at`, for `lease` seconds of real time, as webhook deliveries are claimed: on
/// PostgreSQL with `FOR UPDATE SKIP LOCKED`, so that several servers claim side by side and
/// never the same row. Leases are real time on clocks too, so a request collecting an
/// invoice on a clock and the clock's advance never hold it at once.
async fn claim(
    db: &Db,
    table: &str,
    due: &str,
    scope: Scope<'_>,
    when: When,
    lease: i64,
    limit: i64,
) -> StoreResult<Vec<Claimed>> {
    let lock = match db.engine() {
        super::Engine::Postgres => " FOR UPDATE SKIP LOCKED",
        super::Engine::Sqlite => "",
    };
    let (rows, clock) = match scope {
        Scope::RealTime => ("test_clock_id IS NULL", None),
        Scope::Clock(id) => ("test_clock_id = $5", Some(id)),
    };
    let sql = format!(
        "UPDATE {table} SET lease_until = $1 WHERE id IN (SELECT id FROM {table} WHERE {due} <= $2 \
         AND {rows} AND (lease_until IS NULL OR lease_until <= $4) ORDER BY {due} LIMIT $3{lock}) \
         RETURNING id, account_id, livemode, lease_until"
    );
    let mut args = args![when.real + lease, when.at, limit, when.real].to_vec();
    args.extend(clock.map(super::Arg::from));
    db.write_returning(&sql, &args).await
}

/// Claims one invoice of the caller's to collect now (`POST /v1/invoices/{id}/pay`), if it is
/// a draft or open and no engine holds it.
pub async fn claim_invoice_now(
    db: &Db,
    caller: &Caller,
    id: &str,
    when: When,
    lease: i64,
) -> StoreResult<Option<Claimed>> {
    let claimed: Vec<Claimed> = db
        .write_returning(
            "UPDATE invoices SET lease_until = $1, due_at = $2 WHERE id = $3 AND account_id = $4 \
             AND livemode = $5 AND status IN ('draft', 'open') AND (lease_until IS NULL OR lease_until <= $6) \
             RETURNING id, account_id, livemode, lease_until",
            &args![
                when.real + lease,
                when.at,
                id,
                &caller.account_id,
                caller.mode.is_live(),
                when.real
            ],
        )
        .await?;
    Ok(claimed.into_iter().next())
}

/// Voids an open invoice, if it still is: it is no longer owed or collected.
pub fn invoice_voided(invoice: &Invoice) -> Statement<'_> {
    Statement::new(
        "UPDATE invoices SET status = 'void', voided_at = $1, due_at = NULL, next_payment_attempt = NULL, \
         updated = $1 WHERE id = $2 AND status = 'open' AND charge_key IS NULL",
        args![invoice.voided_at, &invoice.id],
    )
}

/// Subscriptions with work due (a renewal, an end).
pub async fn claim_due_subscriptions(
    db: &Db,
    scope: Scope<'_>,
    when: When,
    lease: i64,
    limit: i64,
) -> StoreResult<Vec<Claimed>> {
    claim(
        db,
        "subscriptions",
        "next_billing_at",
        scope,
        when,
        lease,
        limit,
    )
    .await
}

/// Invoices with work due (finalizing and charging, a retry).
pub async fn claim_due_invoices(
    db: &Db,
    scope: Scope<'_>,
    when: When,
    lease: i64,
    limit: i64,
) -> StoreResult<Vec<Claimed>> {
    claim(db, "invoices", "due_at", scope, when, lease, limit).await
}

/// The charge attempt in progress on an invoice: its idempotency key, once written.
pub async fn charge_key(db: &Db, invoice_id: &str) -> StoreResult<Option<String>> {
    let row: Option<(Option<String>,)> = db
        .fetch_optional(
            "SELECT charge_key FROM invoices WHERE id = $1",
            &args![invoice_id],
        )
        .await?;
    Ok(row.and_then(|(key,)| key))
}

/// Ends the engine's work on an invoice (paid, voided, or its subscription ended): `$1` the
/// invoice, `$2` the claim's lease.
pub const STOP_COLLECTING: &str = "UPDATE invoices SET due_at = NULL, next_payment_attempt = NULL, \
     lease_until = NULL WHERE id = $1 AND lease_until = $2";

/// The statement that writes an invoice's state before its charge is asked for: finalized
/// (status, number, `finalized_at`) and its attempt's key, if the engine's claim still holds.
pub fn invoice_processing<'a>(
    invoice: &'a Invoice,
    key: &'a str,
    lease_until: i64,
) -> Statement<'a> {
    Statement::new(
        "UPDATE invoices SET status = $1, number = $2, finalized_at = $3, charge_key = $4, updated = $5 \
         WHERE id = $6 AND lease_until = $7 AND (charge_key IS NULL OR charge_key = $4)",
        args![
            invoice.status.as_str(),
            &invoice.number,
            invoice.finalized_at,
            key,
            invoice.updated,
            &invoice.id,
            lease_until
        ],
    )
}

/// The statement that writes the outcome of an invoice's charge attempt `key`: everything that
/// changes on the invoice, its lease and key released; only if that attempt is still the one in
/// progress (so an outcome is recorded once).
pub fn invoice_charged<'a>(invoice: &'a Invoice, key: &'a str) -> Statement<'a> {
    Statement::new(
        "UPDATE invoices SET status = $1, amount_paid = $2, attempt_count = $3, next_payment_attempt = $4, \
         payment_intent_id = $5, charge_id = $6, paid_at = $7, marked_uncollectible_at = $8, due_at = $9, \
         first_failed_at = $10, updated = $11, charge_key = NULL, lease_until = NULL \
         WHERE id = $12 AND charge_key = $13",
        args![
            invoice.status.as_str(),
            invoice.amount_paid,
            invoice.attempt_count,
            invoice.next_payment_attempt,
            &invoice.payment_intent_id,
            &invoice.charge_id,
            invoice.paid_at,
            invoice.marked_uncollectible_at,
            invoice.due_at,
            invoice.first_failed_at,
            invoice.updated,
            &invoice.id,
            key
        ],
    )
}

/// The statement that writes what the engine changes on a subscription (status, period, end,
/// latest invoice, next due time), over the version it read.
pub fn subscription_billed(s: &Subscription) -> Statement<'_> {
    Statement::new(
        "UPDATE subscriptions SET status = $1, current_period_start = $2, current_period_end = $3, \
         canceled_at = $4, ended_at = $5, cancellation_reason = $6, latest_invoice_id = $7, \
         next_billing_at = $8, updated = $9, version = $10, lease_until = NULL WHERE id = $11 AND version = $12",
        args![
            s.status.as_str(),
            s.current_period_start,
            s.current_period_end,
            s.canceled_at,
            s.ended_at,
            &s.cancellation.reason,
            &s.latest_invoice_id,
            s.next_billing_at,
            s.updated,
            s.version,
            &s.id,
            s.version - 1
        ],
    )
}

/// The statement that writes what a charge attempt's outcome changes on its subscription (its
/// status, and its end after the last retry), whatever else changed on it since the engine read
/// it: an API change made meanwhile (metadata, `cancel_at`) is kept, and the outcome is never
/// dropped. A subscription that has ended meanwhile stays as it is.
pub fn subscription_collected(s: &Subscription) -> Statement<'_> {
    Statement::new(
        "UPDATE subscriptions SET status = $1, updated = $2, version = version + 1, \
         ended_at = COALESCE($3, ended_at), \
         canceled_at = CASE WHEN $3 IS NULL THEN canceled_at ELSE COALESCE(canceled_at, $3) END, \
         cancellation_reason = CASE WHEN $3 IS NULL THEN cancellation_reason ELSE $4 END, \
         next_billing_at = CASE WHEN $3 IS NULL THEN next_billing_at ELSE NULL END \
         WHERE id = $5 AND ended_at IS NULL",
        args![
            s.status.as_str(),
            s.updated,
            s.ended_at,
            &s.cancellation.reason,
            &s.id
        ],
    )
}

/// What an account does when a renewal could not be charged after every retry: `cancel` or
/// `unpaid`.
pub async fn dunning_final_action(db: &Db, account_id: &str) -> StoreResult<String> {
    let row: Option<(String,)> = db
        .fetch_optional(
            "SELECT dunning_final_action FROM accounts WHERE id = $1",
            &args![account_id],
        )
        .await?;
    Ok(row.map_or_else(|| "cancel".to_string(), |(action,)| action))
}

/// Sets what ends a subscription whose renewal failed every retry (`cancel` or `unpaid`).
pub async fn set_dunning_final_action(db: &Db, account_id: &str, action: &str) -> StoreResult<()> {
    db.execute(
        "UPDATE accounts SET dunning_final_action = $1 WHERE id = $2",
        &args![action, account_id],
    )
    .await?;
    Ok(())
}

// ----- The simulated processor's ledger ------------------------------------------------------------

/// One charge the simulated processor made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub idempotency_key: String,
    pub account_id: String,
    pub livemode: bool,
    pub payment_method_id: String,
    /// Minor units.
    pub amount: i64,
    pub currency: String,
    /// `succeeded` or `declined`.
    pub outcome: String,
    pub failure_code: Option<String>,
    pub decline_code: Option<String>,
    pub failure_message: Option<String>,
    pub created: i64,
}

row_struct! {
    struct LedgerRow {
        idempotency_key: String,
        account_id: String,
        livemode: bool,
        payment_method_id: String,
        amount: i64,
        currency: String,
        outcome: String,
        failure_code: Option<String>,
        decline_code: Option<String>,
        failure_message: Option<String>,
        created: i64,
    }
}

impl From<LedgerRow> for LedgerEntry {
    fn from(r: LedgerRow) -> Self {
        LedgerEntry {
            idempotency_key: r.idempotency_key,
            account_id: r.account_id,
            livemode: r.livemode,
            payment_method_id: r.payment_method_id,
            amount: r.amount,
            currency: r.currency,
            outcome: r.outcome,
            failure_code: r.failure_code,
            decline_code: r.decline_code,
            failure_message: r.failure_message,
            created: r.created,
        }
    }
}

/// Records `entry` unless its key is already there, in a transaction of its own, and returns
/// the entry the ledger holds for the key: the first one, whatever was asked again.
pub async fn ledger_record_once(db: &Db, entry: &LedgerEntry) -> StoreResult<LedgerEntry> {
    db.execute(
        "INSERT INTO processor_ledger (idempotency_key, account_id, livemode, payment_method_id, amount, \
         currency, outcome, failure_code, decline_code, failure_message, created) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (idempotency_key) DO NOTHING",
        &args![
            &entry.idempotency_key,
            &entry.account_id,
            entry.livemode,
            &entry.payment_method_id,
            entry.amount,
            &entry.currency,
            &entry.outcome,
            &entry.failure_code,
            &entry.decline_code,
            &entry.failure_message,
            entry.created
        ],
    )
    .await?;
    let sql = format!(
        "SELECT {} FROM processor_ledger WHERE idempotency_key = $1",
        LedgerRow::COLUMNS
    );
    let row: LedgerRow = db.fetch_one(&sql, &args![&entry.idempotency_key]).await?;
    Ok(row.into())
}

/// Every entry of an account and mode, oldest first: what drills compare with paid invoices.
pub async fn ledger(db: &Db, caller: &Caller) -> StoreResult<Vec<LedgerEntry>> {
    let sql = format!(
        "SELECT {} FROM processor_ledger WHERE account_id = $1 AND livemode = $2 ORDER BY created, idempotency_key",
        LedgerRow::COLUMNS
    );
    let rows: Vec<LedgerRow> = db
        .fetch_all(&sql, &args![&caller.account_id, caller.mode.is_live()])
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The customer's subscriptions that have not ended, oldest first.
pub async fn running_subscriptions_of(db: &Db, customer_id: &str) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = db
        .fetch_all(
            "SELECT id FROM subscriptions WHERE customer_id = $1 AND ended_at IS NULL ORDER BY id",
            &args![customer_id],
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
