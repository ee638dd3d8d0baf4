//! What a paid checkout in subscription mode starts (decisions §11): its subscription, with an
//! item per recurring line, and its first invoice (`billing_reason=subscription_create`),
//! already paid by the session's payment, holding every line (one-time ones on this invoice
//! only). Built here, written with the session's completion in one transaction.

use serde_json::Value;

use super::periods;
use super::subscriptions::Cancellation;
use super::{
    Invoice, InvoiceLine, InvoiceStatus, Subscription, SubscriptionItem, SubscriptionStatus,
};
use crate::domain::DomainError;
use crate::domain::catalog::Recurring;
use crate::domain::checkout::{LineItem, Session};
use crate::domain::ids::{self, prefix};
use crate::domain::metadata::Metadata;

/// Trials are 1 to 730 days (decisions §11).
pub const MAX_TRIAL_DAYS: i64 = 730;
/// A `trial_end` must be at least this far ahead when the session is created, in seconds.
pub const MIN_TRIAL_AHEAD: i64 = 48 * 3600;
/// `customer.subscription.trial_will_end` comes this long before a trial ends, in seconds (at
/// once when less remains).
pub const TRIAL_NOTICE: i64 = 3 * 86_400;
const DAY: i64 = 86_400;

/// How a subscription-mode session's `subscription_data` puts off the first charge of its
/// recurring lines: the first period is free, and billing starts at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deferral {
    /// A trial of this many days from the payment (`trial_period_days`).
    TrialDays(i64),
    /// A trial until this time (`trial_end`, unix seconds).
    TrialEnd(i64),
    /// Billing starts at this anchor (`billing_cycle_anchor` with `proration_behavior=none`):
    /// the stub period until then is free.
    Anchor(i64),
}

impl Deferral {
    /// The deferral a session's settings ask for, if any.
    pub fn of(settings: &serde_json::Map<String, Value>) -> Option<Deferral> {
        let data = settings.get("subscription_data")?;
        let field = |name: &str| data.get(name).and_then(Value::as_i64);
        field("trial_period_days")
            .map(Deferral::TrialDays)
            .or_else(|| field("trial_end").map(Deferral::TrialEnd))
            .or_else(|| field("billing_cycle_anchor").map(Deferral::Anchor))
    }

    /// The rules that depend on the time the session is created at (`now`): a `trial_end` at
    /// least 48 hours ahead and at most 730 days; an anchor in the future and no later than
    /// the first natural billing date of `recurring` (Stripe's limits).
    pub fn check(self, now: i64, recurring: Recurring) -> Result<(), DomainError> {
        match self {
            Deferral::TrialEnd(end) if end < now + MIN_TRIAL_AHEAD => Err(DomainError::invalid(
                "subscription_data[trial_end]",
                "must be at least 48 hours in the future",
            )),
            Deferral::TrialEnd(end) if end > now + MAX_TRIAL_DAYS * DAY => {
                Err(DomainError::invalid(
                    "subscription_data[trial_end]",
                    format!("must be at most {MAX_TRIAL_DAYS} days in the future"),
                ))
            }
            Deferral::Anchor(anchor) if anchor <= now => Err(DomainError::invalid(
                "subscription_data[billing_cycle_anchor]",
                "must be in the future",
            )),
            Deferral::Anchor(anchor) if anchor > periods::period_start(now, recurring, 1) => {
                Err(DomainError::invalid(
                    "subscription_data[billing_cycle_anchor]",
                    format!(
                        "cannot be later than the next natural billing date ({})",
                        periods::period_start(now, recurring, 1)
                    ),
                ))
            }
            _ => Ok(()),
        }
    }

    /// When the free first period ends, for a subscription started at `now`.
    pub fn until(self, now: i64) -> i64 {
        match self {
            Deferral::TrialDays(days) => now + days * DAY,
            Deferral::TrialEnd(at) | Deferral::Anchor(at) => at,
        }
    }

    pub fn is_trial(self) -> bool {
        !matches!(self, Deferral::Anchor(_))
    }
}

/// A subscription and its first invoice.
#[derive(Debug, Clone)]
pub struct Started {
    pub subscription: Subscription,
    pub invoice: Invoice,
    /// A trial of three days or less: `customer.subscription.trial_will_end` goes with the
    /// subscription's creation.
    pub trial_will_end_now: bool,
}

/// Who pays, and with what: the customer, the session's payment (PaymentIntent and charge
/// ids) when anything was due, and the first invoice's number.
pub struct Payer<'a> {
    pub customer_id: &'a str,
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
    pub payment: Option<(&'a str, &'a str)>,
    pub invoice_number: String,
    /// The test clock the customer lives on and its time: the subscription follows it.
    pub test_clock: Option<(&'a str, i64)>,
}

/// The subscription and first invoice of `session`, paid at `now` (or at the time of the
/// customer's test clock). `None` when no line recurs (a session that is not in subscription
/// mode).
pub fn start(session: &Session, lines: &[LineItem], payer: Payer<'_>, now: i64) -> Option<Started> {
    let now = payer.test_clock.map_or(now, |(_, time)| time);
    let recurring = lines.iter().find_map(|l| l.price.terms.recurring)?;
    let period = FirstPeriod::new(now, recurring, session.deferral());
    let subscription_id = ids::new_id(prefix::SUBSCRIPTION, ids::now_ms());
    let invoice_id = ids::new_id(prefix::INVOICE, ids::now_ms());
    let mut items = Vec::new();
    let mut invoice_lines = Vec::with_capacity(lines.len());
    for line in lines {
        let recurs = line.price.is_recurring();
        let item_id = recurs.then(|| ids::new_id(prefix::SUBSCRIPTION_ITEM, ids::now_ms()));
        if let Some(id) = &item_id {
            items.push(SubscriptionItem {
                id: id.clone(),
                subscription_id: subscription_id.clone(),
                price: line.price.clone(),
                quantity: line.quantity,
                metadata: Metadata::default(),
                created: now,
            });
        }
        let free = recurs && period.deferral.is_some();
        invoice_lines.push(InvoiceLine {
            id: ids::new_id(prefix::INVOICE_LINE, ids::now_ms()),
            invoice_id: invoice_id.clone(),
            subscription_item_id: item_id,
            price: line.price.clone(),
            description: match (free, period.deferral.map(Deferral::is_trial)) {
                (true, Some(true)) => format!("Trial period for {}", line.description),
                (true, _) => format!("Free period for {}", line.description),
                (false, _) => line.description.clone(),
            },
            quantity: line.quantity,
            unit_amount: if free { 0 } else { line.unit_amount },
            amount: if free { 0 } else { line.amount_total },
            period_start: now,
            period_end: if recurs { period.end } else { now },
        });
    }
    let subscription = period.subscription(session, &payer, subscription_id, &invoice_id, items);
    let invoice = first_invoice(session, &payer, &subscription, invoice_id, invoice_lines);
    Some(Started {
        trial_will_end_now: period.trial_will_end_now(),
        subscription,
        invoice,
    })
}

/// A subscription's first period: from its start to the end of its first interval, or to
/// the end of its free first period (a trial, or the stub before an anchor), where billing
/// is then anchored.
struct FirstPeriod {
    start: i64,
    end: i64,
    deferral: Option<Deferral>,
}

impl FirstPeriod {
    fn new(now: i64, recurring: Recurring, deferral: Option<Deferral>) -> FirstPeriod {
        let end = match deferral {
            // A trial end or anchor that passed while the session was open ends the free
            // period at once: the engine bills it at its next run.
            Some(deferral) => deferral.until(now).max(now),
            None => periods::period_start(now, recurring, 1),
        };
        FirstPeriod {
            start: now,
            end,
            deferral,
        }
    }

    fn trial(&self) -> Option<(i64, i64)> {
        self.deferral
            .filter(|d| d.is_trial())
            .map(|_| (self.start, self.end))
    }

    /// Whether `customer.subscription.trial_will_end` is due at once (less than three days
    /// of trial), rather than from the billing engine three days before the end.
    fn trial_will_end_now(&self) -> bool {
        self.trial()
            .is_some_and(|(start, end)| end - start <= TRIAL_NOTICE)
    }

    /// The subscription in this period: trialing or active, due next for its trial's notice
    /// or for the period's end.
    fn subscription(
        &self,
        session: &Session,
        payer: &Payer<'_>,
        id: String,
        invoice_id: &str,
        items: Vec<SubscriptionItem>,
    ) -> Subscription {
        // `subscription_data`, as the session checked it when it was created.
        let data = session
            .settings
            .get("subscription_data")
            .cloned()
            .unwrap_or_default();
        let trial = self.trial();
        let next_billing_at = match trial {
            Some((_, end)) if !self.trial_will_end_now() => end - TRIAL_NOTICE,
            _ => self.end,
        };
        Subscription {
            id,
            livemode: session.livemode,
            customer_id: payer.customer_id.to_string(),
            status: if trial.is_some() {
                SubscriptionStatus::Trialing
            } else {
                SubscriptionStatus::Active
            },
            currency: session.currency.as_str().to_string(),
            default_payment_method: None,
            description: data
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
            metadata: data
                .get("metadata")
                .and_then(|m| serde_json::from_value(m.clone()).ok())
                .unwrap_or_default(),
            billing_cycle_anchor: if self.deferral.is_some() {
                self.end
            } else {
                self.start
            },
            current_period_start: self.start,
            current_period_end: self.end,
            cancel_at_period_end: false,
            cancel_at: None,
            canceled_at: None,
            ended_at: None,
            cancellation: Cancellation::default(),
            trial_start: trial.map(|(start, _)| start),
            trial_end: trial.map(|(_, end)| end),
            trial_missing_payment_method: data
                .get("missing_payment_method")
                .and_then(Value::as_str)
                .unwrap_or("cancel")
                .to_string(),
            latest_invoice_id: Some(invoice_id.to_string()),
            checkout_session_id: Some(session.id.clone()),
            test_clock_id: payer.test_clock.map(|(id, _)| id.to_string()),
            start_date: self.start,
            next_billing_at: Some(next_billing_at),
            version: 0,
            items,
            created: self.start,
            updated: self.start,
        }
    }
}

/// The subscription's first invoice (`billing_reason=subscription_create`), paid by the
/// session's payment: what the session charged now.
fn first_invoice(
    session: &Session,
    payer: &Payer<'_>,
    subscription: &Subscription,
    id: String,
    lines: Vec<InvoiceLine>,
) -> Invoice {
    let now = subscription.start_date;
    let total: i64 = lines.iter().map(|l| l.amount).sum();
    let (payment_intent_id, charge_id) = payer.payment.unzip();
    Invoice {
        id,
        livemode: session.livemode,
        customer_id: payer.customer_id.to_string(),
        subscription_id: Some(subscription.id.clone()),
        number: Some(payer.invoice_number.clone()),
        status: InvoiceStatus::Paid,
        billing_reason: "subscription_create".into(),
        currency: session.currency.as_str().to_string(),
        subtotal: total,
        total,
        amount_due: total,
        amount_paid: total,
        attempt_count: i64::from(payment_intent_id.is_some()),
        next_payment_attempt: None,
        period_start: now,
        period_end: now,
        payment_intent_id: payment_intent_id.map(str::to_string),
        charge_id: charge_id.map(str::to_string),
        customer_email: payer.email.map(str::to_string),
        customer_name: payer.name.map(str::to_string),
        description: None,
        metadata: Metadata::default(),
        finalized_at: Some(now),
        paid_at: Some(now),
        voided_at: None,
        marked_uncollectible_at: None,
        test_clock_id: subscription.test_clock_id.clone(),
        due_at: None,
        first_failed_at: None,
        lines,
        created: now,
        updated: now,
    }
}

/// The invoice's number: the customer's prefix (eight characters of its id) and the
/// invoice's place among the customer's invoices, from 1 (Stripe's `ABCD1234-0001`).
pub fn invoice_number(customer_id: &str, earlier: i64) -> String {
    let id = customer_id.trim_start_matches("cus_");
    let start = id.len().saturating_sub(8);
    format!("{}-{:04}", id[start..].to_ascii_uppercase(), earlier + 1)
}

impl Started {
    /// The invoice as it was when created (a draft) and when finalized (open), for the events
    /// that precede the payment: `invoice.created`, then `invoice.finalized`.
    pub fn invoice_before_payment(&self, public_url: &str) -> [Value; 2] {
        let mut draft = self.invoice.clone();
        draft.status = InvoiceStatus::Draft;
        draft.number = None;
        draft.finalized_at = None;
        draft.paid_at = None;
        draft.amount_paid = 0;
        draft.attempt_count = 0;
        let open = Invoice {
            status: InvoiceStatus::Open,
            number: self.invoice.number.clone(),
            finalized_at: self.invoice.finalized_at,
            ..draft.clone()
        };
        [draft.object(public_url), open.object(public_url)]
    }
}
