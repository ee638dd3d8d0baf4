//! Invoices and their lines.

use serde_json::{Value, json};

use crate::domain::catalog::Price;
use crate::domain::metadata::Metadata;
use crate::objects;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        let paid = self.status == InvoiceStatus::Paid;
        let finalized = self.finalized_at.is_some();
        let lines: Vec<Value> = self.lines.iter().map(|l| l.object(self)).collect();
        let payments: Vec<Value> = self.payment().into_iter().collect();
        json!({
            "id": self.id,
            "object": "invoice",
            "account_country": null,
            "account_name": null,
            "account_tax_ids": null,
            "amount_due": self.amount_due,
            "amount_overpaid": 0,
            "amount_paid": self.amount_paid,
            "amount_remaining": self.amount_remaining(),
            "amount_shipping": 0,
            "application": null,
            "attempt_count": self.attempt_count,
            "attempted": self.attempt_count > 0 || paid,
            "auto_advance": !paid && self.status != InvoiceStatus::Void,
            "automatic_tax": {"disabled_reason": null, "enabled": false, "liability": null, "provider": null, "status": null},
            "automatically_finalizes_at": null,
            "billing_reason": self.billing_reason,
            "charge": self.charge_id,
            "collection_method": "charge_automatically",
            "confirmation_secret": null,
            "created": self.created,
            "currency": self.currency,
            "custom_fields": null,
            "customer": self.customer_id,
            "customer_account": null,
            "customer_address": null,
            "customer_email": self.customer_email,
            "customer_name": self.customer_name,
            "customer_phone": null,
            "customer_shipping": null,
            "customer_tax_exempt": "none",
            "customer_tax_ids": [],
            "default_payment_method": null,
            "default_source": null,
            "default_tax_rates": [],
            "description": self.description,
            "discounts": [],
            "due_date": null,
            "effective_at": self.finalized_at,
            "ending_balance": if finalized { Some(0) } else { None },
            "footer": null,
            "from_invoice": null,
            "hosted_invoice_url": self.hosted_invoice_url(public_url),
            "invoice_pdf": null,
            "issuer": {"type": "self"},
            "last_finalization_error": null,
            "latest_revision": null,
            "lines": {
                "object": "list",
                "data": lines,
                "has_more": false,
                "total_count": self.lines.len(),
                "url": format!("/v1/invoices/{}/lines", self.id),
            },
            "livemode": self.livemode,
            "metadata": self.metadata,
            "next_payment_attempt": self.next_payment_attempt,
            "number": self.number,
            "on_behalf_of": null,
            "paid": paid,
            "paid_out_of_band": false,
            "parent": self.subscription_id.as_ref().map(|s| json!({
                "quote_details": null,
                "subscription_details": {"metadata": {}, "subscription": s},
                "type": "subscription_details",
            })),
            "payment_intent": self.payment_intent_id,
            "payment_settings": {"default_mandate": null, "payment_method_options": null, "payment_method_types": null},
            "payments": {
                "object": "list",
                "data": payments,
                "has_more": false,
                "url": format!("/v1/invoice_payments?invoice={}", self.id),
            },
            "period_end": self.period_end,
            "period_start": self.period_start,
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "receipt_number": null,
            "rendering": null,
            "shipping_cost": null,
            "shipping_details": null,
            "starting_balance": 0,
            "statement_descriptor": null,
            "status": self.status.as_str(),
            "status_transitions": {
                "finalized_at": self.finalized_at,
                "marked_uncollectible_at": self.marked_uncollectible_at,
                "paid_at": self.paid_at,
                "voided_at": self.voided_at,
            },
            "subscription": self.subscription_id,
            "subtotal": self.subtotal,
            "subtotal_excluding_tax": self.subtotal,
            "test_clock": self.test_clock_id,
            "total": self.total,
            "total_discount_amounts": [],
            "total_excluding_tax": self.total,
            "total_pretax_credit_amounts": [],
            "total_taxes": [],
            "webhooks_delivered_at": self.finalized_at,
        })
    }

    /// Stripe's `invoice_payment` for the invoice's PaymentIntent, once it has one.
    pub fn payment(&self) -> Option<Value> {
        let intent = self.payment_intent_id.as_ref()?;
        let paid = self.status == InvoiceStatus::Paid;
        Some(json!({
            "id": format!("inpay_{}", self.id.trim_start_matches("in_")),
            "object": "invoice_payment",
            "amount_paid": if paid { Some(self.amount_paid) } else { None },
            "amount_requested": self.amount_due,
            "created": self.finalized_at.unwrap_or(self.created),
            "currency": self.currency,
            "invoice": self.id,
            "is_default": true,
            "livemode": self.livemode,
            "payment": {"type": "payment_intent", "payment_intent": intent},
            "status": if paid { "paid" } else { "open" },
            "status_transitions": {"canceled_at": null, "paid_at": self.paid_at},
        }))
    }
}

impl InvoiceLine {
    /// Stripe's invoice line item (`line_item`).
    pub fn object(&self, invoice: &Invoice) -> Value {
        let parent = match (&self.subscription_item_id, &invoice.subscription_id) {
            (Some(item), Some(subscription)) => json!({
                "invoice_item_details": null,
                "subscription_item_details": {
                    "invoice_item": null,
                    "proration": false,
                    "proration_details": {"credited_items": null},
                    "subscription": subscription,
                    "subscription_item": item,
                },
                "type": "subscription_item_details",
            }),
            _ => json!({
                "invoice_item_details": {
                    "invoice_item": null,
                    "proration": false,
                    "proration_details": {"credited_items": null},
                    "subscription": invoice.subscription_id,
                },
                "subscription_item_details": null,
                "type": "invoice_item_details",
            }),
        };
        json!({
            "id": self.id,
            "object": "line_item",
            "amount": self.amount,
            "currency": invoice.currency,
            "description": format!("{} × {}", self.quantity, self.description),
            "discount_amounts": [],
            "discountable": true,
            "discounts": [],
            "invoice": invoice.id,
            "livemode": invoice.livemode,
            "metadata": {},
            "parent": parent,
            "period": {"end": self.period_end, "start": self.period_start},
            "pretax_credit_amounts": [],
            "pricing": {
                "price_details": {"price": self.price.id, "product": self.price.product_id},
                "type": "price_details",
                "unit_amount_decimal": self.unit_amount.to_string(),
            },
            "quantity": self.quantity,
            "subscription": invoice.subscription_id,
            "taxes": [],
            "price": objects::to_value(&objects::Price::new(&self.price)),
        })
    }
}
