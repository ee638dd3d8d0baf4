//! Subscriptions and their items.

use serde_json::Value;

use crate::domain::catalog::{Price, Recurring};
use crate::domain::metadata::Metadata;
use crate::objects;

/// Stripe's subscription statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
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
        objects::to_value(&objects::Subscription::new(self))
    }
}

impl SubscriptionItem {
    /// Stripe's subscription item: its price, the legacy `plan` beside it, and (since the
    /// 2025-03-31 API version) the current period, which is its subscription's.
    pub fn object(&self, subscription: &Subscription) -> Value {
        objects::to_value(&objects::SubscriptionItem::new(self, subscription))
    }
}

/// Stripe's legacy `plan` object for a recurring price (still sent beside `price`); decimal
/// amounts are strings, as stripe-node expects.
pub fn plan(price: &Price) -> Value {
    objects::to_value(&objects::Plan::new(price))
}
