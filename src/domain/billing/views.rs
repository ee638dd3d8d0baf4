//! What the dashboard shows of subscriptions beside their API objects: what one charges per
//! period, when it next invoices, its invoices with every charge attempt made to collect them,
//! and its customers' emails.

use std::collections::HashMap;

use super::{Invoice, Subscription, SubscriptionStatus};
use crate::domain::DomainError;
use crate::domain::accounts::Caller;
use crate::domain::list::{Page, PageRequest};
use crate::domain::payments::Charge;
use crate::store::billing::InvoiceFilter;
use crate::store::{self, Db};

/// What a subscription charges each period: Σ unit amount × quantity of its items, in minor
/// units of its currency.
pub fn period_amount(subscription: &Subscription) -> i64 {
    subscription
        .items
        .iter()
        .map(|item| item.price.terms.unit_amount.unwrap_or(0) * item.quantity)
        .sum()
}

/// When a subscription next invoices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextInvoice {
    /// At the end of its current period (unix seconds): it renews then.
    At(i64),
    /// Never: it is set to end at this time (at its period's end, or before), without another
    /// invoice.
    EndsAt(i64),
    /// Never: it has ended (canceled, or expired before its first payment).
    Ended,
}

/// When `subscription` next invoices (Stripe's "next invoice" of its dashboard).
pub fn next_invoice(subscription: &Subscription) -> NextInvoice {
    let ended = subscription.ended_at.is_some()
        || matches!(
            subscription.status,
            SubscriptionStatus::Canceled | SubscriptionStatus::IncompleteExpired
        );
    match subscription.cancel_at {
        _ if ended => NextInvoice::Ended,
        Some(at) if at <= subscription.current_period_end => NextInvoice::EndsAt(at),
        _ => NextInvoice::At(subscription.current_period_end),
    }
}

/// An invoice and the charges made to collect it, oldest first (each attempt, succeeded or
/// declined, at checkout or by the billing engine).
#[derive(Debug, Clone)]
pub struct InvoiceAttempts {
    pub invoice: Invoice,
    pub charges: Vec<Charge>,
}

/// A page of invoices, newest first, each with its charge attempts (one more query for the
/// whole page).
pub async fn invoices_with_attempts(
    db: &Db,
    caller: &Caller,
    filter: &InvoiceFilter,
    page: &PageRequest,
) -> Result<Page<InvoiceAttempts>, DomainError> {
    let invoices = super::list_invoices(db, caller, filter, page).await?;
    let intents: Vec<&str> = invoices
        .items
        .iter()
        .filter_map(|i| i.payment_intent_id.as_deref())
        .collect();
    let mut charges = store::payments::charges_of_payment_intents(db, caller, &intents).await?;
    Ok(invoices.map(|invoice| {
        let (mine, rest): (Vec<Charge>, Vec<Charge>) = charges
            .drain(..)
            .partition(|c| Some(&c.payment_intent_id) == invoice.payment_intent_id.as_ref());
        charges = rest;
        InvoiceAttempts {
            invoice,
            charges: mine,
        }
    }))
}

/// A page of a subscription's invoices, newest first, each with its charge attempts; those on a
/// test clock included (the subscription may be on one: with its customer named, the invoice
/// list does not leave them out).
pub async fn invoices_of_subscription(
    db: &Db,
    caller: &Caller,
    subscription: &Subscription,
    page: &PageRequest,
) -> Result<Page<InvoiceAttempts>, DomainError> {
    let filter = InvoiceFilter {
        subscription: Some(subscription.id.clone()),
        customer: Some(subscription.customer_id.clone()),
        ..InvoiceFilter::default()
    };
    invoices_with_attempts(db, caller, &filter, page).await
}

/// The emails of the caller's customers among `ids`, by id (those without one are absent).
pub async fn customer_emails(
    db: &Db,
    caller: &Caller,
    ids: &[&str],
) -> Result<HashMap<String, String>, DomainError> {
    Ok(store::customers::emails(db, caller, ids)
        .await?
        .into_iter()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::billing::subscriptions::Cancellation;
    use crate::domain::metadata::Metadata;

    fn subscription(status: SubscriptionStatus) -> Subscription {
        Subscription {
            id: "sub_1".into(),
            livemode: false,
            customer_id: "cus_1".into(),
            status,
            currency: "eur".into(),
            default_payment_method: None,
            description: None,
            metadata: Metadata::default(),
            billing_cycle_anchor: 1_000,
            current_period_start: 1_000,
            current_period_end: 5_000,
            cancel_at_period_end: false,
            cancel_at: None,
            canceled_at: None,
            ended_at: None,
            cancellation: Cancellation::default(),
            trial_start: None,
            trial_end: None,
            trial_missing_payment_method: "cancel".into(),
            latest_invoice_id: None,
            checkout_session_id: None,
            test_clock_id: None,
            start_date: 1_000,
            next_billing_at: Some(5_000),
            version: 0,
            items: Vec::new(),
            created: 1_000,
            updated: 1_000,
        }
    }

    #[test]
    fn the_next_invoice_is_at_the_period_end_unless_the_subscription_ends_first() {
        let running = subscription(SubscriptionStatus::Active);
        assert_eq!(next_invoice(&running), NextInvoice::At(5_000));
        assert_eq!(
            next_invoice(&subscription(SubscriptionStatus::PastDue)),
            NextInvoice::At(5_000)
        );

        let mut at_period_end = running.clone();
        at_period_end.cancel_at_period_end = true;
        at_period_end.cancel_at = Some(5_000);
        assert_eq!(next_invoice(&at_period_end), NextInvoice::EndsAt(5_000));

        let mut before_the_end = running.clone();
        before_the_end.cancel_at = Some(3_000);
        assert_eq!(next_invoice(&before_the_end), NextInvoice::EndsAt(3_000));

        let mut after_the_end = running.clone();
        after_the_end.cancel_at = Some(9_000);
        assert_eq!(next_invoice(&after_the_end), NextInvoice::At(5_000));

        let mut canceled = subscription(SubscriptionStatus::Canceled);
        canceled.ended_at = Some(2_000);
        assert_eq!(next_invoice(&canceled), NextInvoice::Ended);
    }
}
