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
use crate::domain::checkout::{LineItem, Session};
use crate::domain::ids::{self, prefix};
use crate::domain::metadata::Metadata;

/// A subscription and its first invoice.
#[derive(Debug, Clone)]
pub struct Started {
    pub subscription: Subscription,
    pub invoice: Invoice,
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
    let test_clock_id = payer.test_clock.map(|(id, _)| id.to_string());
    let recurring = lines.iter().find_map(|l| l.price.terms.recurring)?;
    let subscription_id = ids::new_id(prefix::SUBSCRIPTION, ids::now_ms());
    let invoice_id = ids::new_id(prefix::INVOICE, ids::now_ms());
    let period_end = periods::period_start(now, recurring, 1);
    // `subscription_data`, as the session checked it when it was created.
    let data = session
        .settings
        .get("subscription_data")
        .cloned()
        .unwrap_or_default();
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
        invoice_lines.push(InvoiceLine {
            id: ids::new_id(prefix::INVOICE_LINE, ids::now_ms()),
            invoice_id: invoice_id.clone(),
            subscription_item_id: item_id,
            price: line.price.clone(),
            description: line.description.clone(),
            quantity: line.quantity,
            unit_amount: line.unit_amount,
            amount: line.amount_total,
            period_start: now,
            period_end: if recurs { period_end } else { now },
        });
    }
    let subscription = Subscription {
        id: subscription_id.clone(),
        livemode: session.livemode,
        customer_id: payer.customer_id.to_string(),
        status: SubscriptionStatus::Active,
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
        billing_cycle_anchor: now,
        current_period_start: now,
        current_period_end: period_end,
        cancel_at_period_end: false,
        cancel_at: None,
        canceled_at: None,
        ended_at: None,
        cancellation: Cancellation::default(),
        trial_start: None,
        trial_end: None,
        trial_missing_payment_method: "cancel".into(),
        latest_invoice_id: Some(invoice_id.clone()),
        checkout_session_id: Some(session.id.clone()),
        test_clock_id: test_clock_id.clone(),
        start_date: now,
        next_billing_at: Some(period_end),
        version: 0,
        items,
        created: now,
        updated: now,
    };
    let (payment_intent_id, charge_id) = payer.payment.unzip();
    let invoice = Invoice {
        id: invoice_id,
        livemode: session.livemode,
        customer_id: payer.customer_id.to_string(),
        subscription_id: Some(subscription_id),
        number: Some(payer.invoice_number),
        status: InvoiceStatus::Paid,
        billing_reason: "subscription_create".into(),
        currency: session.currency.as_str().to_string(),
        subtotal: session.amount_total,
        total: session.amount_total,
        amount_due: session.amount_total,
        amount_paid: session.amount_total,
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
        test_clock_id,
        due_at: None,
        first_failed_at: None,
        lines: invoice_lines,
        created: now,
        updated: now,
    };
    Some(Started {
        subscription,
        invoice,
    })
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
    pub fn invoice_before_payment(&self) -> [Value; 2] {
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
        [draft.object(), open.object()]
    }
}
