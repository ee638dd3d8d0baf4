//! The billing engine: renewals, invoice finalization and collection, retries and ends, all
//! driven by due times in the database (`subscriptions.next_billing_at`, `invoices.due_at`)
//! and the time it is given, so tests move time instead of sleeping. Every `kassa serve` runs
//! it; rows are claimed with leases (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so two servers
//! never bill one subscription twice.
//!
//! Collecting an invoice is three steps, each durable before the next: the attempt's
//! idempotency key is written on the invoice; the processor is asked to charge under that key
//! (the simulated processor records it in its own ledger, committed apart); the outcome is
//! written with its PaymentIntent, charge and events, only while that key is still the
//! invoice's. A crash between any two steps retries the same key, which the processor answers
//! with its first result: a renewal is charged neither twice nor never.

use std::future::Future;

use super::changes;
use super::checkout::invoice_number;
use super::{
    Invoice, InvoiceLine, InvoiceStatus, Subscription, SubscriptionStatus, get_invoice,
    get_subscription, periods,
};
use crate::domain::DomainError;
use crate::domain::accounts::Caller;
use crate::domain::events::{Event, new_event};
use crate::domain::ids::{self, prefix};
use crate::domain::metadata::Metadata;
use crate::domain::payment_methods::PaymentMethod;
use crate::domain::payments::{Charge, ChargeFailure, PaymentIntent, PaymentIntentData};
use crate::metrics::{AttemptOutcome, RenewalOutcome};
use crate::store::billing::{Claimed, LedgerEntry};
use crate::store::{self, Db, Statement};

/// How long a claim holds a row by default, in seconds (`--billing-lease`): a server that dies
/// mid-step leaves it to be claimed again then.
pub const LEASE_SECONDS: i64 = 60;
/// Rows claimed at a time.
const BATCH: i64 = 100;
/// Claimed rows worked on at once. Each renewal is four durable writes in turn (the renewal,
/// the attempt's key, the processor's ledger, the outcome), so one at a time the engine waits
/// on one fsync after another; steps of different rows run side by side share them (SQLite's
/// batch commit, PostgreSQL's group commit). Within PostgreSQL's pool of connections.
const CONCURRENCY: usize = 8;
/// How long after a renewal's invoice is created it is finalized and charged, in seconds
/// (Stripe: about an hour, time for the merchant to add to it).
pub const FINALIZE_AFTER: i64 = 3600;
/// The retries after a renewal's first failed charge, in days after that failure
/// (decisions §11); after the last, the account's `dunning_final_action`.
pub const RETRY_DAYS: [i64; 4] = [1, 3, 5, 7];
const DAY: i64 = 86_400;

/// A card processor that charges saved payment methods off session. Each request carries an
/// idempotency key: asked again with it, the processor answers its first result and moves no
/// money twice. kassa's own is [`SimulatedProcessor`]; a live connector implements this too.
pub trait Processor: Send + Sync {
    /// The processor's name in metrics (`kassa_payment_attempts_total{processor=...}`).
    const NAME: &'static str;

    /// Charges `request.method`; `Ok(Err(..))` is a decline.
    fn charge(
        &self,
        db: &Db,
        request: &OffSessionCharge<'_>,
    ) -> impl Future<Output = Result<Result<(), ChargeFailure>, DomainError>> + Send;

    /// Gives back `request.amount` of a charge; `Ok(Err(..))` is a refund the processor
    /// refused.
    fn refund(
        &self,
        db: &Db,
        request: &RefundRequest<'_>,
    ) -> impl Future<Output = Result<Result<(), ChargeFailure>, DomainError>> + Send;
}

/// One refund of a charge, in minor units of `currency`, keyed by the refund's id.
pub struct RefundRequest<'a> {
    pub idempotency_key: &'a str,
    pub account_id: &'a str,
    pub livemode: bool,
    /// The payment method the charge was made with (or the charge, if it has none).
    pub payment_method: &'a str,
    pub amount: i64,
    pub currency: &'a str,
    pub now: i64,
}

/// One charge of a saved payment method, in minor units of `currency`.
pub struct OffSessionCharge<'a> {
    pub idempotency_key: &'a str,
    pub account_id: &'a str,
    pub method: &'a PaymentMethod,
    pub amount: i64,
    pub currency: &'a str,
    pub now: i64,
}

/// Test mode's processor: Stripe's test cards decide the outcome (`processor::charge_saved_card`),
/// every refund succeeds at once, and every charge and refund is written to its ledger
/// (`processor_ledger`) under its key.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimulatedProcessor;

impl Processor for SimulatedProcessor {
    const NAME: &'static str = "simulated";

    async fn charge(
        &self,
        db: &Db,
        request: &OffSessionCharge<'_>,
    ) -> Result<Result<(), ChargeFailure>, DomainError> {
        let outcome = crate::domain::processor::charge_saved_card(
            request.method,
            crate::domain::processor::year_month(request.now),
        );
        let failure = outcome.as_ref().err().map(ChargeFailure::from);
        let entry = LedgerEntry {
            idempotency_key: request.idempotency_key.to_string(),
            account_id: request.account_id.to_string(),
            livemode: request.method.livemode,
            payment_method_id: request.method.id.clone(),
            amount: request.amount,
            currency: request.currency.to_string(),
            outcome: if failure.is_none() {
                "succeeded"
            } else {
                "declined"
            }
            .into(),
            failure_code: failure.as_ref().map(|f| f.code.clone()),
            decline_code: failure.as_ref().and_then(|f| f.decline_code.clone()),
            failure_message: failure.as_ref().map(|f| f.message.clone()),
            created: request.now,
        };
        let recorded = store::billing::ledger_record_once(db, &entry).await?;
        Ok(match recorded.outcome.as_str() {
            "succeeded" => Ok(()),
            _ => Err(ChargeFailure {
                code: recorded
                    .failure_code
                    .unwrap_or_else(|| "card_declined".into()),
                message: recorded.failure_message.unwrap_or_default(),
                decline_code: recorded.decline_code,
            }),
        })
    }

    async fn refund(
        &self,
        db: &Db,
        request: &RefundRequest<'_>,
    ) -> Result<Result<(), ChargeFailure>, DomainError> {
        let entry = LedgerEntry {
            idempotency_key: request.idempotency_key.to_string(),
            account_id: request.account_id.to_string(),
            livemode: request.livemode,
            payment_method_id: request.payment_method.to_string(),
            amount: request.amount,
            currency: request.currency.to_string(),
            outcome: "refunded".into(),
            failure_code: None,
            decline_code: None,
            failure_message: None,
            created: request.now,
        };
        store::billing::ledger_record_once(db, &entry).await?;
        Ok(Ok(()))
    }
}

/// The time a step runs at: `at` for the objects (the server's clock, or a test clock's time
/// for the objects on it), `real` for the events it writes (the server's clock: events are
/// ordered, delivered and kept by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    pub at: i64,
    pub real: i64,
}

impl When {
    /// Real time, for objects on no clock.
    pub fn now(now: i64) -> When {
        When { at: now, real: now }
    }

    /// The time of a change asked for at real time `now` to an object on the test clock
    /// `clock` (its clock's time), or on none (`now`).
    pub async fn of(db: &Db, clock: Option<&str>, now: i64) -> Result<When, DomainError> {
        let at = crate::domain::test_clocks::time_of(db, clock, now).await?;
        Ok(When { at, real: now })
    }
}

/// Which rows a run works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Those on no test clock, claimed with leases so that servers share them.
    RealTime,
    /// Those on this test clock, whose advance the caller has claimed.
    Clock(&'a str),
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ran {
    /// Subscriptions renewed (a new period and its draft invoice).
    pub renewed: usize,
    /// Subscriptions that reached their end (`cancel_at`, the period's end).
    pub ended: usize,
    /// Invoices paid.
    pub paid: usize,
    /// Charge attempts declined.
    pub failed: usize,
}

impl std::ops::AddAssign for Ran {
    fn add_assign(&mut self, other: Ran) {
        self.renewed += other.renewed;
        self.ended += other.ended;
        self.paid += other.paid;
        self.failed += other.failed;
    }
}

/// Runs every step due by `now` of the objects on no clock, in time order per row, until none
/// is left: a server that was down for three periods renews three times. Rows are claimed for
/// `lease` seconds; `public_url` is kassa's, for the receipt and invoice links in the events'
/// objects.
pub async fn run_due<P: Processor>(
    db: &Db,
    processor: &P,
    now: i64,
    lease: i64,
    public_url: &str,
) -> Result<Ran, DomainError> {
    run_due_in(
        db,
        processor,
        Scope::RealTime,
        When::now(now),
        lease,
        public_url,
    )
    .await
}

/// Runs every step of `scope` due by `when.at`, until none is left, claiming rows for `lease`
/// seconds. A step that fails is logged and left to its lease's end; the others go on.
pub async fn run_due_in<P: Processor>(
    db: &Db,
    processor: &P,
    scope: Scope<'_>,
    when: When,
    lease: i64,
    public_url: &str,
) -> Result<Ran, DomainError> {
    let mut ran = Ran::default();
    loop {
        let subscriptions =
            store::billing::claim_due_subscriptions(db, scope, when, lease, BATCH).await?;
        let any = !subscriptions.is_empty();
        let steps = (subscriptions.into_iter()).map(|row| async move {
            (step_subscription(db, &row, when, public_url).await, row.id)
        });
        ran += side_by_side(steps, "billing step failed; will retry").await;
        let invoices = store::billing::claim_due_invoices(db, scope, when, lease, BATCH).await?;
        let any = any || !invoices.is_empty();
        let steps = (invoices.into_iter()).map(|row| async move {
            (collect(db, processor, &row, when, public_url).await, row.id)
        });
        ran += side_by_side(steps, "collecting an invoice failed; will retry").await;
        if !any {
            return Ok(ran);
        }
    }
}

/// Runs `steps` (one per claimed row, with its id) [`CONCURRENCY`] at a time, and adds up what
/// they did. Rows are distinct and each row's own steps stay in order (one per claim), as when
/// several servers share the work. A step that fails is logged with `failed` and left to its
/// lease's end; the others go on.
async fn side_by_side(
    steps: impl Iterator<Item = impl Future<Output = (Result<Ran, DomainError>, String)>>,
    failed: &str,
) -> Ran {
    use futures_util::StreamExt;
    let mut steps = futures_util::stream::iter(steps).buffer_unordered(CONCURRENCY);
    let mut all = Ran::default();
    while let Some((outcome, id)) = steps.next().await {
        match outcome {
            Ok(ran) => all += ran,
            Err(error) => tracing::warn!(%error, %id, "{failed}"),
        }
    }
    all
}

/// Collects one invoice now (`POST /v1/invoices/{id}/pay`): finalized if a draft, then charged
/// as the engine would, the attempt counting as one of its retries, under a claim of `lease`
/// seconds. Returns the invoice as it then is. An invoice that is paid or void is a conflict;
/// one an engine is working on is a conflict to retry.
pub async fn pay_now<P: Processor>(
    db: &Db,
    processor: &P,
    caller: &Caller,
    id: &str,
    now: i64,
    lease: i64,
    public_url: &str,
) -> Result<Invoice, DomainError> {
    let invoice = get_invoice(db, caller, id).await?;
    let when = When::of(db, invoice.test_clock_id.as_deref(), now).await?;
    if !matches!(invoice.status, InvoiceStatus::Draft | InvoiceStatus::Open) {
        return Err(DomainError::Conflict {
            code: "invoice_not_payable",
            message: format!("Invoice {id} is already {}.", invoice.status.as_str()),
        });
    }
    let Some(claimed) = store::billing::claim_invoice_now(db, caller, id, when, lease).await?
    else {
        return Err(DomainError::Conflict {
            code: "lock_timeout",
            message: format!("Invoice {id} is being collected right now; try again."),
        });
    };
    collect(db, processor, &claimed, when, public_url).await?;
    get_invoice(db, caller, id).await
}

/// Voids an open invoice: it is no longer owed, and nothing more is collected
/// (`invoice.voided`). Only an open invoice can be voided.
pub async fn void(
    db: &Db,
    caller: &Caller,
    id: &str,
    now: i64,
    public_url: &str,
) -> Result<Invoice, DomainError> {
    let mut invoice = get_invoice(db, caller, id).await?;
    let when = When::of(db, invoice.test_clock_id.as_deref(), now).await?;
    if invoice.status != InvoiceStatus::Open {
        return Err(DomainError::Conflict {
            code: "invoice_not_open",
            message: format!(
                "Only an open invoice can be voided; {id} is {}.",
                invoice.status.as_str()
            ),
        });
    }
    invoice.status = InvoiceStatus::Void;
    invoice.voided_at = Some(when.at);
    invoice.due_at = None;
    invoice.next_payment_attempt = None;
    invoice.updated = when.at;
    let voided = event(
        caller,
        "invoice.voided",
        &invoice.id,
        invoice.object(public_url),
        when,
    );
    let guard = store::billing::invoice_voided(&invoice);
    if !store::events::write_if_with_events(
        db,
        &caller.account_id,
        caller.mode.is_live(),
        guard,
        Vec::new(),
        &[voided],
    )
    .await?
    {
        return Err(DomainError::Conflict {
            code: "lock_timeout",
            message: format!("Invoice {id} changed while it was being voided; try again."),
        });
    }
    Ok(invoice)
}

fn event(caller: &Caller, kind: &str, id: &str, object: serde_json::Value, when: When) -> Event {
    new_event(
        &caller.account_id,
        caller.mode.is_live(),
        kind,
        id,
        object,
        when.real,
    )
}

/// A subscription whose `next_billing_at` has come: it ends (at `cancel_at`, at the end of a
/// period it was to cancel at, or at a trial's end with no card to charge), hears that its
/// trial ends in three days, or renews for its next period with a draft invoice.
async fn step_subscription(
    db: &Db,
    claimed: &Claimed,
    when: When,
    public_url: &str,
) -> Result<Ran, DomainError> {
    let caller = Caller::without_key(&claimed.account_id, claimed.livemode);
    let mut subscription = get_subscription(db, &caller, &claimed.id).await?;
    let Some(at) = subscription.next_billing_at else {
        return Ok(Ran::default());
    };
    let before = subscription.object();
    subscription.version += 1;
    subscription.updated = when.at;
    let mut renewal = None;
    let kind = match Step::of(&subscription, at) {
        Step::End(end_at) => {
            changes::end(&mut subscription, "cancellation_requested", end_at);
            Some("customer.subscription.deleted")
        }
        Step::Forget => {
            subscription.next_billing_at = None;
            None
        }
        Step::TrialNotice(end) => {
            subscription.next_billing_at = Some(subscription.cancel_at.map_or(end, |c| c.min(end)));
            Some("customer.subscription.trial_will_end")
        }
        Step::Renew => {
            renewal = Some(renew(db, &caller, &mut subscription, at).await?);
            Some("customer.subscription.updated")
        }
    };
    let mut events: Vec<Event> = kind
        .map(|kind| {
            let event = event(&caller, kind, &subscription.id, subscription.object(), when);
            match kind {
                "customer.subscription.updated" => event.with_previous(&before),
                _ => event,
            }
        })
        .into_iter()
        .collect();
    let mut statements = Vec::new();
    if let Some(invoice) = &renewal {
        events.push(event(
            &caller,
            "invoice.created",
            &invoice.id,
            invoice.object(public_url),
            when,
        ));
        statements.push(store::billing::invoice_insert(&claimed.account_id, invoice));
        statements.extend(
            (invoice.lines.iter().enumerate())
                .map(|(n, line)| store::billing::invoice_line_insert(line, n)),
        );
    }
    let guard = store::billing::subscription_billed(&subscription);
    let written = store::events::write_if_with_events(
        db,
        &claimed.account_id,
        claimed.livemode,
        guard,
        statements,
        &events,
    )
    .await?;
    Ok(match kind {
        Some("customer.subscription.deleted") if written => Ran {
            ended: 1,
            ..Ran::default()
        },
        Some("customer.subscription.updated") if written => Ran {
            renewed: 1,
            ..Ran::default()
        },
        _ => Ran::default(),
    })
}

/// What a subscription due at `at` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// It ends, at this time.
    End(i64),
    /// It has already ended: nothing more is due.
    Forget,
    /// Its trial ends at this time, in three days or less: `trial_will_end`.
    TrialNotice(i64),
    /// It moves to its next period.
    Renew,
}

impl Step {
    fn of(subscription: &Subscription, at: i64) -> Step {
        let trial_end = subscription
            .trial_end
            .filter(|_| subscription.status == SubscriptionStatus::Trialing);
        if let Some(end) = subscription.cancel_at.filter(|c| *c <= at) {
            return Step::End(end);
        }
        if subscription.ended_at.is_some() {
            return Step::Forget;
        }
        match trial_end {
            // Due before its trial's end: the notice.
            Some(end) if at < end => Step::TrialNotice(end),
            // A trial that ends with no card to charge ends the subscription, unless
            // `trial_settings.end_behavior.missing_payment_method` asked for an invoice.
            Some(end)
                if subscription.default_payment_method.is_none()
                    && subscription.trial_missing_payment_method == "cancel" =>
            {
                Step::End(end)
            }
            _ => Step::Renew,
        }
    }
}

/// Moves `subscription` to the period that starts at `at` (its current period's end) and
/// makes that period's invoice: a draft (`billing_reason=subscription_cycle`) with a line per
/// item at its price, finalized and charged [`FINALIZE_AFTER`] later.
async fn renew(
    db: &Db,
    caller: &Caller,
    subscription: &mut Subscription,
    at: i64,
) -> Result<Invoice, DomainError> {
    let recurring = subscription.recurring().ok_or_else(|| {
        DomainError::Store(store::StoreError::Corrupt {
            what: format!("subscription {}", subscription.id),
            reason: "it has no recurring item".into(),
        })
    })?;
    let (_, start, end) = periods::period_at(subscription.billing_cycle_anchor, recurring, at);
    let previous = (
        subscription.current_period_start,
        subscription.current_period_end,
    );
    subscription.current_period_start = start;
    subscription.current_period_end = end;
    if subscription.status == SubscriptionStatus::Trialing {
        subscription.status = SubscriptionStatus::Active;
    }
    subscription.next_billing_at = Some(subscription.cancel_at.map_or(end, |c| c.min(end)));
    let customer = crate::domain::customers::get_customer(db, caller, &subscription.customer_id)
        .await
        .ok();
    let invoice_id = ids::new_id(prefix::INVOICE, ids::now_ms());
    let lines: Vec<InvoiceLine> = subscription
        .items
        .iter()
        .map(|item| {
            let unit_amount = item.price.terms.unit_amount.unwrap_or(0);
            InvoiceLine {
                id: ids::new_id(prefix::INVOICE_LINE, ids::now_ms()),
                invoice_id: invoice_id.clone(),
                subscription_item_id: Some(item.id.clone()),
                price: item.price.clone(),
                description: item
                    .price
                    .nickname
                    .clone()
                    .unwrap_or_else(|| item.price.product_id.clone()),
                quantity: item.quantity,
                unit_amount,
                amount: unit_amount * item.quantity,
                period_start: start,
                period_end: end,
            }
        })
        .collect();
    let total: i64 = lines.iter().map(|l| l.amount).sum();
    subscription.latest_invoice_id = Some(invoice_id.clone());
    let due = at + FINALIZE_AFTER;
    Ok(Invoice {
        id: invoice_id,
        livemode: subscription.livemode,
        customer_id: subscription.customer_id.clone(),
        subscription_id: Some(subscription.id.clone()),
        number: None,
        status: InvoiceStatus::Draft,
        billing_reason: "subscription_cycle".into(),
        currency: subscription.currency.clone(),
        subtotal: total,
        total,
        amount_due: total,
        amount_paid: 0,
        attempt_count: 0,
        next_payment_attempt: Some(due),
        period_start: previous.0,
        period_end: previous.1,
        payment_intent_id: None,
        charge_id: None,
        customer_email: customer.as_ref().and_then(|c| c.email.clone()),
        customer_name: customer.as_ref().and_then(|c| c.name.clone()),
        description: None,
        metadata: Metadata::default(),
        finalized_at: None,
        paid_at: None,
        voided_at: None,
        marked_uncollectible_at: None,
        test_clock_id: subscription.test_clock_id.clone(),
        due_at: Some(due),
        first_failed_at: None,
        lines,
        created: at,
        updated: at,
    })
}

/// An invoice whose `due_at` has come: finalized if still a draft, then charged to its
/// subscription's default payment method, in the three durable steps of this module's doc
/// ([`begin_attempt`], the processor, [`record`]).
async fn collect<P: Processor>(
    db: &Db,
    processor: &P,
    claimed: &Claimed,
    when: When,
    public_url: &str,
) -> Result<Ran, DomainError> {
    let caller = Caller::without_key(&claimed.account_id, claimed.livemode);
    let mut invoice = get_invoice(db, &caller, &claimed.id).await?;
    let subscription = match &invoice.subscription_id {
        Some(id) => Some(get_subscription(db, &caller, id).await?),
        None => None,
    };
    let collectable = matches!(invoice.status, InvoiceStatus::Draft | InvoiceStatus::Open)
        && subscription.as_ref().is_none_or(|s| s.ended_at.is_none());
    if !collectable {
        // Paid, voided, or its subscription ended: nothing more is collected.
        db.execute(
            store::billing::STOP_COLLECTING,
            &crate::store::args![&invoice.id, claimed.lease_until],
        )
        .await?;
        return Ok(Ran::default());
    }
    let Some(key) = begin_attempt(db, &caller, claimed, &mut invoice, when, public_url).await?
    else {
        return Ok(Ran::default()); // the claim ran out and another server took it
    };
    let method = saved_method(db, &caller, subscription.as_ref(), &invoice).await?;
    let outcome = match (&method, invoice.amount_due) {
        (_, 0) => Ok(()),
        (Some(method), amount) => {
            let request = OffSessionCharge {
                idempotency_key: &key,
                account_id: &claimed.account_id,
                method,
                amount,
                currency: &invoice.currency,
                now: when.at,
            };
            let started = std::time::Instant::now();
            let answer = processor.charge(db, &request).await;
            let outcome = AttemptOutcome::of(&answer);
            crate::metrics::payment_attempt(P::NAME, outcome, started.elapsed());
            answer?
        }
        (None, _) => Err(ChargeFailure {
            code: "payment_method_required".into(),
            message: "The subscription has no payment method to charge.".into(),
            decline_code: None,
        }),
    };
    // Step 3: the outcome.
    let succeeded = outcome.is_ok();
    let attempt = Attempt {
        invoice,
        subscription,
        method,
        key,
        outcome,
    };
    let recorded = record(db, &caller, attempt, when, public_url).await?;
    Ok(Ran {
        paid: usize::from(recorded && succeeded),
        failed: usize::from(recorded && !succeeded),
        ..Ran::default()
    })
}

/// Step 1 of collecting: the attempt's idempotency key written on the invoice (the same key
/// again after a crash, so the processor answers its first result), a draft finalized with its
/// number and `invoice.finalized`. Returns the key, or `None` when the claim no longer holds.
async fn begin_attempt(
    db: &Db,
    caller: &Caller,
    claimed: &Claimed,
    invoice: &mut Invoice,
    when: When,
    public_url: &str,
) -> Result<Option<String>, DomainError> {
    let key = match store::billing::charge_key(db, &invoice.id).await? {
        Some(key) => key,
        None => format!("{}-attempt-{}", invoice.id, invoice.attempt_count + 1),
    };
    let mut events = Vec::new();
    if invoice.status == InvoiceStatus::Draft {
        // The count includes this invoice.
        let earlier = store::billing::count_invoices_of(db, &invoice.customer_id).await? - 1;
        invoice.status = InvoiceStatus::Open;
        invoice.number = Some(invoice_number(&invoice.customer_id, earlier.max(0)));
        invoice.finalized_at = Some(when.at);
        events.push(event(
            caller,
            "invoice.finalized",
            &invoice.id,
            invoice.object(public_url),
            when,
        ));
    }
    invoice.updated = when.at;
    let mark = store::billing::invoice_processing(invoice, &key, claimed.lease_until);
    let held = store::events::write_if_with_events(
        db,
        &claimed.account_id,
        claimed.livemode,
        mark,
        Vec::new(),
        &events,
    )
    .await?;
    Ok(held.then_some(key))
}

/// The payment method an invoice is charged to: its subscription's default, if it is still
/// attached to the invoice's customer.
async fn saved_method(
    db: &Db,
    caller: &Caller,
    subscription: Option<&Subscription>,
    invoice: &Invoice,
) -> Result<Option<PaymentMethod>, DomainError> {
    let Some(id) = subscription.and_then(|s| s.default_payment_method.as_deref()) else {
        return Ok(None);
    };
    Ok(store::payment_methods::get(db, caller, id)
        .await?
        .filter(|m| m.customer_id.as_deref() == Some(invoice.customer_id.as_str())))
}

/// A charge attempt on an invoice and its outcome, to be recorded.
struct Attempt {
    invoice: Invoice,
    subscription: Option<Subscription>,
    method: Option<PaymentMethod>,
    key: String,
    outcome: Result<(), ChargeFailure>,
}

/// Writes an attempt's outcome: its PaymentIntent (one per invoice, across retries) and charge,
/// the invoice paid or its next retry, the subscription's status, and the events, in one
/// transaction, only while the attempt's key is still the invoice's. Returns whether it did.
async fn record(
    db: &Db,
    caller: &Caller,
    attempt: Attempt,
    when: When,
    public_url: &str,
) -> Result<bool, DomainError> {
    let Attempt {
        mut invoice,
        subscription,
        method,
        key,
        outcome,
    } = attempt;
    let failure = outcome.err();
    let mut events = Vec::new();
    let charged = (invoice.amount_due > 0 && method.is_some()).then(|| {
        let intent = invoice_payment_intent(&invoice, method.as_ref(), failure.as_ref(), when.at);
        let charge = Charge::of_attempt(
            &intent,
            invoice.customer_name.clone(),
            failure.clone(),
            when.at,
        );
        let intent = PaymentIntent {
            latest_charge: Some(charge.id.clone()),
            last_payment_error: failure
                .as_ref()
                .map(|f| f.last_payment_error(&charge.id, intent.card.as_ref())),
            ..intent
        };
        (intent, charge)
    });
    invoice.attempt_count += 1;
    invoice.updated = when.at;
    if let Some((intent, charge)) = &charged {
        invoice.payment_intent_id = Some(intent.id.clone());
        invoice.charge_id = Some(charge.id.clone());
        let kind = if failure.is_none() {
            "charge.succeeded"
        } else {
            "charge.failed"
        };
        events.push(event(
            caller,
            kind,
            &charge.id,
            charge.object(public_url),
            when,
        ));
        let kind = if failure.is_none() {
            "payment_intent.succeeded"
        } else {
            "payment_intent.payment_failed"
        };
        events.push(event(caller, kind, &intent.id, intent.object(), when));
    }
    let subscription = match &failure {
        None => paid(
            caller,
            &mut invoice,
            subscription,
            when,
            public_url,
            &mut events,
        ),
        Some(_) => {
            let action = store::billing::dunning_final_action(db, &caller.account_id).await?;
            failed(
                caller,
                &mut invoice,
                subscription,
                &action,
                when,
                public_url,
                &mut events,
            )
        }
    };
    let mut statements: Vec<Statement> = Vec::new();
    if let Some((intent, charge)) = &charged {
        statements.push(store::payments::payment_intent_upsert(
            &caller.account_id,
            intent,
        ));
        statements.push(store::payments::charge_insert(&caller.account_id, charge));
    }
    if let Some(subscription) = &subscription {
        statements.push(store::billing::subscription_collected(subscription));
    }
    let renewal = renewal_outcome(&invoice, failure.is_none(), subscription.as_ref());
    let guard = store::billing::invoice_charged(&invoice, &key);
    let recorded = store::events::write_if_with_events(
        db,
        &caller.account_id,
        caller.mode.is_live(),
        guard,
        statements,
        &events,
    )
    .await?;
    if recorded && let Some(outcome) = renewal {
        crate::metrics::renewal(outcome);
    }
    Ok(recorded)
}

/// How an attempt on a subscription's invoice ended, for metrics (`None` for an invoice of no
/// subscription): paid; declined with a retry scheduled; declined for the last time, the
/// subscription canceled (`changed`, the subscription as the attempt changed it) or not.
fn renewal_outcome(
    invoice: &Invoice,
    paid: bool,
    changed: Option<&Subscription>,
) -> Option<RenewalOutcome> {
    invoice.subscription_id.as_ref()?;
    Some(if paid {
        RenewalOutcome::Paid
    } else if invoice.next_payment_attempt.is_some() {
        RenewalOutcome::Retried
    } else if changed.is_some_and(|s| s.ended_at.is_some()) {
        RenewalOutcome::CanceledByDunning
    } else {
        RenewalOutcome::Failed
    })
}

/// The id of the PaymentIntent the engine charges invoice `id` through: derived from the
/// invoice's, so that every retry updates the same one.
pub fn payment_intent_of_invoice(id: &str) -> String {
    format!(
        "{}{}",
        prefix::PAYMENT_INTENT,
        id.trim_start_matches(prefix::INVOICE)
    )
}

/// The invoice a PaymentIntent of the engine pays ([`payment_intent_of_invoice`] read back).
pub fn invoice_of_payment_intent(id: &str) -> String {
    format!(
        "{}{}",
        prefix::INVOICE,
        id.trim_start_matches(prefix::PAYMENT_INTENT)
    )
}

/// The PaymentIntent that pays an invoice: one per invoice ([`payment_intent_of_invoice`]).
fn invoice_payment_intent(
    invoice: &Invoice,
    method: Option<&PaymentMethod>,
    failure: Option<&ChargeFailure>,
    now: i64,
) -> PaymentIntent {
    PaymentIntent {
        id: payment_intent_of_invoice(&invoice.id),
        livemode: invoice.livemode,
        amount: invoice.amount_due,
        currency: invoice.currency.clone(),
        status: if failure.is_none() {
            "succeeded"
        } else {
            "requires_payment_method"
        }
        .into(),
        checkout_session_id: None,
        customer_id: Some(invoice.customer_id.clone()),
        receipt_email: invoice.customer_email.clone(),
        card: method.map(|m| m.card.clone()),
        payment_method: method.map(|m| m.id.clone()),
        last_payment_error: None,
        latest_charge: None,
        data: PaymentIntentData {
            description: Some("Subscription update".into()),
            ..PaymentIntentData::default()
        },
        created: now,
    }
}

/// The invoice paid: `invoice.paid`, `invoice.payment_succeeded`, `invoice_payment.paid`; a
/// subscription that was `past_due` or `unpaid` is `active` again
/// (`customer.subscription.updated`). Returns the subscription when it changed.
fn paid(
    caller: &Caller,
    invoice: &mut Invoice,
    subscription: Option<Subscription>,
    when: When,
    public_url: &str,
    events: &mut Vec<Event>,
) -> Option<Subscription> {
    invoice.status = InvoiceStatus::Paid;
    invoice.amount_paid = invoice.amount_due;
    invoice.paid_at = Some(when.at);
    invoice.next_payment_attempt = None;
    invoice.due_at = None;
    for kind in ["invoice.paid", "invoice.payment_succeeded"] {
        events.push(event(
            caller,
            kind,
            &invoice.id,
            invoice.object(public_url),
            when,
        ));
    }
    if let Some(payment) = invoice.payment() {
        let id = payment["id"].as_str().unwrap_or_default().to_string();
        events.push(event(caller, "invoice_payment.paid", &id, payment, when));
    }
    let mut subscription = subscription?;
    if !matches!(
        subscription.status,
        SubscriptionStatus::PastDue | SubscriptionStatus::Unpaid
    ) {
        return None;
    }
    let before = subscription.object();
    subscription.status = SubscriptionStatus::Active;
    subscription.version += 1;
    subscription.updated = when.at;
    let updated = "customer.subscription.updated";
    let object = subscription.object();
    events.push(event(caller, updated, &subscription.id, object, when).with_previous(&before));
    Some(subscription)
}

/// The attempt failed: `invoice.payment_failed`, the next retry ([`RETRY_DAYS`] after the
/// first failure) or none after the last; the subscription turns `past_due`, and after the
/// last retry ends (`cancel`, reason `payment_failed`) or turns `unpaid`, as the account's
/// `dunning_final_action` says. Returns the subscription when it changed.
fn failed(
    caller: &Caller,
    invoice: &mut Invoice,
    subscription: Option<Subscription>,
    final_action: &str,
    when: When,
    public_url: &str,
    events: &mut Vec<Event>,
) -> Option<Subscription> {
    let first_failed_at = *invoice.first_failed_at.get_or_insert(when.at);
    let retry = usize::try_from(invoice.attempt_count - 1)
        .ok()
        .and_then(|n| RETRY_DAYS.get(n))
        .map(|days| first_failed_at + days * DAY);
    invoice.next_payment_attempt = retry;
    invoice.due_at = retry;
    events.push(event(
        caller,
        "invoice.payment_failed",
        &invoice.id,
        invoice.object(public_url),
        when,
    ));
    let mut subscription = subscription?;
    let before = subscription.status;
    let before_object = subscription.object();
    match (retry, final_action) {
        (Some(_), _) => subscription.status = SubscriptionStatus::PastDue,
        (None, "unpaid") => subscription.status = SubscriptionStatus::Unpaid,
        (None, _) => changes::end(&mut subscription, "payment_failed", when.at),
    }
    if subscription.status == before {
        return None;
    }
    subscription.version += 1;
    subscription.updated = when.at;
    let kind = if subscription.ended_at.is_some() {
        "customer.subscription.deleted"
    } else {
        "customer.subscription.updated"
    };
    let event = event(caller, kind, &subscription.id, subscription.object(), when);
    events.push(match kind {
        "customer.subscription.updated" => event.with_previous(&before_object),
        _ => event,
    });
    Some(subscription)
}
