//! Recurring billing: subscriptions that a checkout in subscription mode starts, and their
//! invoices (Stripe's `subscription`, `subscription_item`, `invoice` and invoice line items;
//! decisions §11, billing.md §2). Objects carry every field of Stripe's current API version
//! and the older top-level fields shops still read (`current_period_start/end` on the
//! subscription; `subscription`, `payment_intent`, `charge` and `paid` on the invoice).

pub mod changes;
pub mod checkout;
pub mod engine;
pub mod figures;
pub mod invoices;
pub mod periods;
pub mod subscriptions;
pub mod views;

pub use invoices::{Invoice, InvoiceLine, InvoiceStatus};
pub use subscriptions::{Subscription, SubscriptionItem, SubscriptionStatus};

use crate::domain::DomainError;
use crate::domain::accounts::Caller;
use crate::domain::list::{Page, PageRequest};
use crate::store::billing::{InvoiceFilter, SubscriptionFilter};
use crate::store::{self, Db};

/// A subscription of the caller's account and mode, with its items.
pub async fn get_subscription(
    db: &Db,
    caller: &Caller,
    id: &str,
) -> Result<Subscription, DomainError> {
    store::billing::get_subscription(db, caller, id)
        .await?
        .ok_or_else(|| DomainError::not_found("subscription", id))
}

/// Stripe's `status` filter of `GET /v1/subscriptions`: a status, `all`, or `ended`
/// (canceled and incomplete_expired); without one, every subscription that has not ended.
pub fn statuses(filter: Option<&str>) -> Result<Vec<SubscriptionStatus>, DomainError> {
    use SubscriptionStatus::{Canceled, IncompleteExpired};
    let ended = |s: &SubscriptionStatus| matches!(s, Canceled | IncompleteExpired);
    Ok(match filter {
        None => SubscriptionStatus::ALL
            .into_iter()
            .filter(|s| !ended(s))
            .collect(),
        Some("all") => SubscriptionStatus::ALL.to_vec(),
        Some("ended") => SubscriptionStatus::ALL.into_iter().filter(ended).collect(),
        Some(status) => vec![SubscriptionStatus::parse(status).ok_or_else(|| {
            DomainError::invalid(
                "status",
                "must be one of active, all, canceled, ended, incomplete, incomplete_expired, \
                 past_due, paused, trialing, unpaid",
            )
        })?],
    })
}

/// Stripe's `status` filter of `GET /v1/invoices`: one of the invoice statuses, if given.
pub fn invoice_status(filter: Option<&str>) -> Result<Option<InvoiceStatus>, DomainError> {
    filter
        .map(|status| {
            InvoiceStatus::parse(status).ok_or_else(|| {
                DomainError::invalid(
                    "status",
                    "must be one of draft, open, paid, uncollectible, void",
                )
            })
        })
        .transpose()
}

/// A page of subscriptions, newest first. A `customer` or `price` that does not exist is a
/// `resource_missing` error naming it.
pub async fn list_subscriptions(
    db: &Db,
    caller: &Caller,
    filter: &SubscriptionFilter,
    page: &PageRequest,
) -> Result<Page<Subscription>, DomainError> {
    page.check_cursor(|id| async move { get_subscription(db, caller, &id).await })
        .await?;
    if let Some(customer) = &filter.customer {
        crate::domain::customers::get_customer(db, caller, customer)
            .await
            .map_err(DomainError::as_reference("customer"))?;
    }
    if let Some(price) = &filter.price {
        crate::domain::catalog::get_price(db, caller, price)
            .await
            .map_err(DomainError::as_reference("price"))?;
    }
    Ok(store::billing::list_subscriptions(db, caller, filter, page).await?)
}

/// An invoice of the caller's account and mode, with its lines.
pub async fn get_invoice(db: &Db, caller: &Caller, id: &str) -> Result<Invoice, DomainError> {
    store::billing::get_invoice(db, caller, id)
        .await?
        .ok_or_else(|| DomainError::not_found("invoice", id))
}

/// A page of invoices, newest first. A `customer` or `subscription` that does not exist is a
/// `resource_missing` error naming it.
pub async fn list_invoices(
    db: &Db,
    caller: &Caller,
    filter: &InvoiceFilter,
    page: &PageRequest,
) -> Result<Page<Invoice>, DomainError> {
    page.check_cursor(|id| async move { get_invoice(db, caller, &id).await })
        .await?;
    if let Some(customer) = &filter.customer {
        crate::domain::customers::get_customer(db, caller, customer)
            .await
            .map_err(DomainError::as_reference("customer"))?;
    }
    if let Some(subscription) = &filter.subscription {
        get_subscription(db, caller, subscription)
            .await
            .map_err(DomainError::as_reference("subscription"))?;
    }
    Ok(store::billing::list_invoices(db, caller, filter, page).await?)
}

/// A subscription item of the caller's, and its subscription.
pub async fn get_subscription_item(
    db: &Db,
    caller: &Caller,
    id: &str,
) -> Result<(SubscriptionItem, Subscription), DomainError> {
    let missing = || DomainError::not_found("subscription_item", id);
    let subscription_id = store::billing::subscription_of_item(db, caller, id)
        .await?
        .ok_or_else(missing)?;
    let subscription = get_subscription(db, caller, &subscription_id).await?;
    let item = subscription
        .items
        .iter()
        .find(|i| i.id == id)
        .cloned()
        .ok_or_else(missing)?;
    Ok((item, subscription))
}
