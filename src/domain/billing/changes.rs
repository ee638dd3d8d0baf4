//! What a merchant changes on a running subscription (Stripe's `POST /v1/subscriptions/{id}`
//! and `DELETE /v1/subscriptions/{id}`): its metadata and description, cancelling at the end of
//! the period or at a time (and undoing that until then), or cancelling now. Changing prices or
//! quantities would need proration, which kassa does not do: refused (decisions §11).

use super::engine::When;
use super::{Subscription, SubscriptionStatus, get_subscription};
use crate::domain::DomainError;
use crate::domain::accounts::Caller;
use crate::domain::events::new_event;
use crate::domain::metadata::MetadataUpdate;
use crate::domain::validate;
use crate::store::{self, Db};

/// Stripe's `cancellation_details[feedback]` values.
pub const FEEDBACK: [&str; 8] = [
    "customer_service",
    "low_quality",
    "missing_features",
    "other",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
];

/// `cancellation_details`: the customer's words and reason, as the merchant records them.
#[derive(Debug, Clone, Default)]
pub struct CancellationInput {
    /// `Some(None)` clears it.
    pub comment: Option<Option<String>>,
    /// One of [`FEEDBACK`]; `Some(None)` clears it.
    pub feedback: Option<Option<String>>,
}

/// A change to a subscription; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionChange {
    pub metadata: Option<MetadataUpdate>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    pub cancel_at_period_end: Option<bool>,
    /// Unix seconds, in the future; `Some(None)` clears it.
    pub cancel_at: Option<Option<i64>>,
    pub cancellation_details: Option<CancellationInput>,
    /// A `pm_…` attached to the subscription's customer: what renewals and retries charge.
    pub default_payment_method: Option<String>,
}

/// Applies `change`, writing `customer.subscription.updated`. An ended subscription takes only
/// its metadata and cancellation details, as on Stripe.
pub async fn update_subscription(
    db: &Db,
    caller: &Caller,
    id: &str,
    change: SubscriptionChange,
    now: i64,
) -> Result<Subscription, DomainError> {
    let mut subscription = get_subscription(db, caller, id).await?;
    let before = subscription.object();
    let when = When::of(db, subscription.test_clock_id.as_deref(), now).await?;
    let now = when.at;
    let ended = subscription.ended_at.is_some();
    let schedules = change.cancel_at_period_end.is_some() || change.cancel_at.is_some();
    if ended && (schedules || change.description.is_some()) {
        return Err(DomainError::invalid(
            if change.description.is_some() {
                "description"
            } else if change.cancel_at.is_some() {
                "cancel_at"
            } else {
                "cancel_at_period_end"
            },
            "A canceled subscription can only update its cancellation_details and metadata.",
        ));
    }
    if change.cancel_at.is_some() && change.cancel_at_period_end.is_some() {
        return Err(DomainError::invalid(
            "cancel_at",
            "You may only specify one of these parameters: cancel_at, cancel_at_period_end.",
        ));
    }
    if let Some(update) = change.metadata {
        subscription.metadata = subscription.metadata.updated(update, "metadata")?;
    }
    if let Some(description) = change.description {
        subscription.description = validate::optional_text(description, "description", 500)?;
    }
    if let Some(details) = change.cancellation_details {
        apply_details(&mut subscription, details)?;
    }
    if let Some(method) = change.default_payment_method {
        if ended {
            return Err(DomainError::invalid(
                "default_payment_method",
                "A canceled subscription can only update its cancellation_details and metadata.",
            ));
        }
        check_payment_method(db, caller, &subscription, &method).await?;
        subscription.default_payment_method = Some(method);
    }
    let period_end = subscription.current_period_end;
    match (change.cancel_at_period_end, change.cancel_at) {
        (Some(true), _) => schedule_end(&mut subscription, Some(period_end), now),
        (Some(false), _) | (_, Some(None)) => schedule_end(&mut subscription, None, now),
        (_, Some(Some(at))) => {
            if at <= now {
                return Err(DomainError::invalid("cancel_at", "must be in the future"));
            }
            schedule_end(&mut subscription, Some(at), now);
        }
        (None, None) => {}
    }
    save(db, caller, subscription, Some(&before), when).await
}

/// Cancels now: the subscription ends (`canceled`, `ended_at`), bills nothing more, and
/// `customer.subscription.deleted` is written.
pub async fn cancel_subscription(
    db: &Db,
    caller: &Caller,
    id: &str,
    details: CancellationInput,
    now: i64,
) -> Result<Subscription, DomainError> {
    let mut subscription = get_subscription(db, caller, id).await?;
    let when = When::of(db, subscription.test_clock_id.as_deref(), now).await?;
    if subscription.ended_at.is_some() {
        return Err(DomainError::Conflict {
            code: "subscription_canceled",
            message: format!("The subscription {id} has already been canceled."),
        });
    }
    apply_details(&mut subscription, details)?;
    end(&mut subscription, "cancellation_requested", when.at);
    save(db, caller, subscription, None, when).await
}

/// Cancels the customer's subscriptions that have not ended, as deleting a customer does on
/// Stripe (`customer.subscription.deleted` for each).
pub async fn cancel_all_of(
    db: &Db,
    caller: &Caller,
    customer_id: &str,
    now: i64,
) -> Result<(), DomainError> {
    for id in store::billing::running_subscriptions_of(db, customer_id).await? {
        cancel_subscription(db, caller, &id, CancellationInput::default(), now).await?;
    }
    Ok(())
}

/// A payment method the subscription may charge: the caller's, attached to its customer.
async fn check_payment_method(
    db: &Db,
    caller: &Caller,
    subscription: &Subscription,
    id: &str,
) -> Result<(), DomainError> {
    const PARAM: &str = "default_payment_method";
    let method = store::payment_methods::get(db, caller, id)
        .await?
        .ok_or_else(|| DomainError::missing_reference(PARAM, "payment_method", id))?;
    if method.customer_id.as_deref() != Some(subscription.customer_id.as_str()) {
        return Err(DomainError::invalid(
            PARAM,
            format!(
                "The PaymentMethod {id} must be attached to the customer {} first.",
                subscription.customer_id
            ),
        ));
    }
    Ok(())
}

/// Ends a subscription at `now` for `reason` (`cancellation_requested`, `payment_failed`).
pub fn end(subscription: &mut Subscription, reason: &str, now: i64) {
    subscription.status = SubscriptionStatus::Canceled;
    subscription.canceled_at = subscription.canceled_at.or(Some(now));
    subscription.ended_at = Some(now);
    subscription.cancellation.reason = Some(reason.to_string());
    subscription.next_billing_at = None;
}

/// Cancels at `at` (`None`: no longer), as `cancel_at` and `cancel_at_period_end` say; Stripe
/// sets `canceled_at` to when the cancellation was asked for.
fn schedule_end(subscription: &mut Subscription, at: Option<i64>, now: i64) {
    subscription.cancel_at = at;
    subscription.cancel_at_period_end = at == Some(subscription.current_period_end);
    subscription.canceled_at = at.map(|_| now);
    subscription.cancellation.reason = at.map(|_| "cancellation_requested".to_string());
    subscription.next_billing_at = Some(match at {
        Some(at) => at.min(subscription.current_period_end),
        None => subscription.current_period_end,
    });
}

fn apply_details(
    subscription: &mut Subscription,
    details: CancellationInput,
) -> Result<(), DomainError> {
    if let Some(comment) = details.comment {
        subscription.cancellation.comment =
            validate::optional_text(comment, "cancellation_details[comment]", 5000)?;
    }
    if let Some(feedback) = details.feedback {
        if let Some(value) = &feedback
            && !FEEDBACK.contains(&value.as_str())
        {
            return Err(DomainError::invalid(
                "cancellation_details[feedback]",
                format!("must be one of {}", FEEDBACK.join(", ")),
            ));
        }
        subscription.cancellation.feedback = feedback;
    }
    Ok(())
}

/// Writes the changed subscription with its event, over the version it was read at: with
/// `before` (the object before the change) `customer.subscription.updated`, without it
/// `customer.subscription.deleted`. A change made meanwhile by another request is a conflict to
/// retry.
async fn save(
    db: &Db,
    caller: &Caller,
    mut subscription: Subscription,
    before: Option<&serde_json::Value>,
    when: When,
) -> Result<Subscription, DomainError> {
    subscription.updated = when.at;
    subscription.version += 1;
    let kind = match before {
        Some(_) => "customer.subscription.updated",
        None => "customer.subscription.deleted",
    };
    let event = new_event(
        &caller.account_id,
        subscription.livemode,
        kind,
        &subscription.id,
        subscription.object(),
        when.real,
    );
    let event = match before {
        Some(before) => event.with_previous(before),
        None => event,
    };
    if !store::billing::save_subscription(db, caller, &subscription, &[event]).await? {
        return Err(DomainError::Conflict {
            code: "lock_timeout",
            message: format!(
                "The subscription {} was changed by another request at the same time; try again.",
                subscription.id
            ),
        });
    }
    Ok(subscription)
}
