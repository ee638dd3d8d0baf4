//! Invoices and their lines.

use serde_json::Value;

use crate::domain::catalog::Price;
use crate::domain::metadata::Metadata;
use crate::objects;

/// An invoice's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Draft,
    Open,
    Paid,
    Void,
    Uncollectible,
}

impl InvoiceStatus {
    pub const ALL: [InvoiceStatus; 5] = [
        InvoiceStatus::Draft,
        InvoiceStatus::Open,
        InvoiceStatus::Paid,
        InvoiceStatus::Void,
        InvoiceStatus::Uncollectible,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "draft",
            InvoiceStatus::Open => "open",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Void => "void",
            InvoiceStatus::Uncollectible => "uncollectible",
        }
    }

    pub fn parse(value: &str) -> Option<InvoiceStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// An invoice: what a customer owes for one period of a subscription (or its start), and
/// how it was paid. Amounts are in minor units of `currency`.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    pub id: String,
    pub livemode: bool,
    pub customer_id: String,
    pub subscription_id: Option<String>,
    /// `ABCDEF12-0001`: the customer's prefix and the invoice's sequence, set when finalized.
    pub number: Option<String>,
    pub status: InvoiceStatus,
    /// `subscription_create`, `subscription_cycle`...
    pub billing_reason: String,
    pub currency: String,
    pub subtotal: i64,
    pub total: i64,
    pub amount_due: i64,
    pub amount_paid: i64,
    pub attempt_count: i64,
    /// When the next charge attempt runs (unix seconds); `None` after the last.
    pub next_payment_attempt: Option<i64>,
    pub period_start: i64,
    pub period_end: i64,
    pub payment_intent_id: Option<String>,
    pub charge_id: Option<String>,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    pub description: Option<String>,
    pub metadata: Metadata,
    pub finalized_at: Option<i64>,
    pub paid_at: Option<i64>,
    pub voided_at: Option<i64>,
    pub marked_uncollectible_at: Option<i64>,
    pub test_clock_id: Option<String>,
    /// When the billing engine next works on it (finalizing and charging, or a retry).
    pub due_at: Option<i64>,
    /// When its first charge attempt failed: retries are counted from it.
    pub first_failed_at: Option<i64>,
    pub lines: Vec<InvoiceLine>,
    pub created: i64,
    pub updated: i64,
}

/// One line of an invoice: a price for a period (a subscription item's), or once (a one-time
/// price bought with the subscription's first invoice).
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceLine {
    pub id: String,
    pub invoice_id: String,
    pub subscription_item_id: Option<String>,
    pub price: Price,
    pub description: String,
    pub quantity: i64,
    /// Minor units.
    pub unit_amount: i64,
    /// `unit_amount × quantity`, minor units.
    pub amount: i64,
    pub period_start: i64,
    pub period_end: i64,
}

impl Invoice {
    pub fn amount_remaining(&self) -> i64 {
        self.amount_due - self.amount_paid
    }

    /// The invoice's page under kassa's public URL, once it is finalized.
    pub fn hosted_invoice_url(&self, public_url: &str) -> Option<String> {
        self.finalized_at
            .map(|_| format!("{public_url}/invoices/{}", self.id))
    }

    /// Stripe's invoice object: the current fields (`parent`, `payments`) and the older ones
    /// beside them (`subscription`, `payment_intent`, `charge`, `paid`).
    /// `hosted_invoice_url` is its page under `public_url` once finalized (null for a draft,
    /// as on Stripe; unlike Stripe's, the page takes no payment); `invoice_pdf` is null: the
    /// page prints to PDF from the browser.
    pub fn object(&self, public_url: &str) -> Value {
        objects::to_value(&objects::Invoice::new(self, public_url))
    }

    /// Stripe's `invoice_payment` for the invoice's PaymentIntent, once it has one.
    pub fn payment(&self) -> Option<Value> {
        objects::InvoicePayment::new(self).map(|payment| objects::to_value(&payment))
    }
}

impl InvoiceLine {
    /// Stripe's invoice line item (`line_item`).
    pub fn object(&self, invoice: &Invoice) -> Value {
        objects::to_value(&objects::InvoiceLineItem::new(self, invoice))
    }
}
