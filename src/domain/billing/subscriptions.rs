//! Subscriptions and their items.

use serde_json::{Value, json};

use crate::domain::catalog::{Price, Recurring};
use crate::domain::metadata::Metadata;
use crate::objects;

/// Stripe's subscription statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionStatus {
    Incomplete,
    IncompleteExpired,
    Trialing,
    Active,
    PastDue,
    Canceled,
    Unpaid,
    Paused,
}

impl SubscriptionStatus {
    pub const ALL: [SubscriptionStatus; 8] = [
        SubscriptionStatus::Incomplete,
        SubscriptionStatus::IncompleteExpired,
        SubscriptionStatus::Trialing,
        SubscriptionStatus::Active,
        SubscriptionStatus::PastDue,
        SubscriptionStatus::Canceled,
        SubscriptionStatus::Unpaid,
        SubscriptionStatus::Paused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Incomplete => "incomplete",
            SubscriptionStatus::IncompleteExpired => "incomplete_expired",
            SubscriptionStatus::Trialing => "trialing",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Canceled => "canceled",
            SubscriptionStatus::Unpaid => "unpaid",
            SubscriptionStatus::Paused => "paused",
        }
    }

    /// A stored or requested status; `None` for an unknown one.
    pub fn parse(value: &str) -> Option<SubscriptionStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// A subscription: recurring prices billed to a customer every period, from its billing cycle
/// anchor. All its items share its interval and current period.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub id: String,
    pub livemode: bool,
    pub customer_id: String,
    pub status: SubscriptionStatus,
    /// Lowercase ISO code, as its prices'.
    pub currency: String,
    /// The `pm_…` renewals charge.
    pub default_payment_method: Option<String>,
    pub description: Option<String>,
    pub metadata: Metadata,
    /// Unix seconds: every period is counted from it.
    pub billing_cycle_anchor: i64,
    pub current_period_start: i64,
    pub current_period_end: i64,
    pub cancel_at_period_end: bool,
    pub cancel_at: Option<i64>,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// `cancellation_details`: reason, comment, feedback.
    pub cancellation: Cancellation,
    pub trial_start: Option<i64>,
    pub trial_end: Option<i64>,
    /// `trial_settings.end_behavior.missing_payment_method`.
    pub trial_missing_payment_method: String,
    pub latest_invoice_id: Option<String>,
    /// The checkout session that started it (not part of Stripe's object).
    pub checkout_session_id: Option<String>,
    pub test_clock_id: Option<String>,
    pub start_date: i64,
    /// When the billing engine next has work on it (unix seconds); `None` once it has ended.
    pub next_billing_at: Option<i64>,
    /// Bumped by every change, which is written only over the version it was made from.
    pub version: i64,
    pub items: Vec<SubscriptionItem>,
    pub created: i64,
    pub updated: i64,
}

/// Why and how a subscription was canceled (Stripe's `cancellation_details`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cancellation {
    /// `cancellation_requested`, `payment_failed`...
    pub reason: Option<String>,
    pub comment: Option<String>,
    pub feedback: Option<String>,
}

/// One price of a subscription, with its quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionItem {
    pub id: String,
    pub subscription_id: String,
    pub price: Price,
    pub quantity: i64,
    pub metadata: Metadata,
    pub created: i64,
}

impl Subscription {
    /// The billing interval its items share.
    pub fn recurring(&self) -> Option<Recurring> {
        self.items.first().and_then(|i| i.price.terms.recurring)
    }

    /// Stripe's subscription object, with its items' list.
    pub fn object(&self) -> Value {
        let items: Vec<Value> = self.items.iter().map(|i| i.object(self)).collect();
        json!({
            "id": self.id,
            "object": "subscription",
            "application": null,
            "application_fee_percent": null,
            "automatic_tax": {"disabled_reason": null, "enabled": false, "liability": null},
            "billing_cycle_anchor": self.billing_cycle_anchor,
            "billing_cycle_anchor_config": null,
            "billing_mode": {"flexible": null, "type": "classic"},
            "billing_thresholds": null,
            "cancel_at": self.cancel_at,
            "cancel_at_period_end": self.cancel_at_period_end,
            "canceled_at": self.canceled_at,
            "cancellation_details": {
                "comment": self.cancellation.comment,
                "feedback": self.cancellation.feedback,
                "reason": self.cancellation.reason,
            },
            "collection_method": "charge_automatically",
            "created": self.created,
            "currency": self.currency,
            "current_period_end": self.current_period_end,
            "current_period_start": self.current_period_start,
            "customer": self.customer_id,
            "customer_account": null,
            "days_until_due": null,
            "default_payment_method": self.default_payment_method,
            "default_source": null,
            "default_tax_rates": [],
            "description": self.description,
            "discounts": [],
            "ended_at": self.ended_at,
            "invoice_settings": {"account_tax_ids": null, "issuer": {"type": "self"}},
            "items": {
                "object": "list",
                "data": items,
                "has_more": false,
                "total_count": self.items.len(),
                "url": format!("/v1/subscription_items?subscription={}", self.id),
            },
            "latest_invoice": self.latest_invoice_id,
            "livemode": self.livemode,
            "metadata": self.metadata,
            "next_pending_invoice_item_invoice": null,
            "on_behalf_of": null,
            "pause_collection": null,
            "payment_settings": {
                "payment_method_options": null,
                "payment_method_types": null,
                "save_default_payment_method": "off",
            },
            "pending_invoice_item_interval": null,
            "pending_setup_intent": null,
            "pending_update": null,
            "plan": self.items.first().map(|i| plan(&i.price)),
            "quantity": self.items.first().map(|i| i.quantity),
            "schedule": null,
            "start_date": self.start_date,
            "status": self.status.as_str(),
            "test_clock": self.test_clock_id,
            "transfer_data": null,
            "trial_end": self.trial_end,
            "trial_settings": {
                "end_behavior": {"missing_payment_method": self.trial_missing_payment_method},
            },
            "trial_start": self.trial_start,
        })
    }
}

impl SubscriptionItem {
    /// Stripe's subscription item: its price, the legacy `plan` beside it, and (since the
    /// 2025-03-31 API version) the current period, which is its subscription's.
    pub fn object(&self, subscription: &Subscription) -> Value {
        json!({
            "id": self.id,
            "object": "subscription_item",
            "billing_thresholds": null,
            "created": self.created,
            "current_period_end": subscription.current_period_end,
            "current_period_start": subscription.current_period_start,
            "discounts": [],
            "metadata": self.metadata,
            "plan": plan(&self.price),
            "price": objects::to_value(&objects::Price::new(&self.price)),
            "quantity": self.quantity,
            "subscription": self.subscription_id,
            "tax_rates": [],
        })
    }
}

/// Stripe's legacy `plan` object for a recurring price (still sent beside `price`); decimal
/// amounts are strings, as stripe-node expects.
pub fn plan(price: &Price) -> Value {
    let recurring = price.terms.recurring;
    json!({
        "id": price.id,
        "object": "plan",
        "active": price.active,
        "amount": price.terms.unit_amount,
        "amount_decimal": price.terms.unit_amount.map(|a| a.to_string()),
        "billing_scheme": "per_unit",
        "created": price.created,
        "currency": price.terms.currency.as_str(),
        "interval": recurring.map(|r| r.interval.as_str()),
        "interval_count": recurring.map(|r| r.interval_count),
        "livemode": price.livemode,
        "metadata": price.metadata,
        "meter": null,
        "nickname": price.nickname,
        "product": price.product_id,
        "tiers_mode": null,
        "transform_usage": null,
        "trial_period_days": null,
        "usage_type": "licensed",
    })
}
