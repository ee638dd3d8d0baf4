//! Payments: the PaymentIntent that records a session's charge.

use serde_json::{Value, json};

use super::metadata::Metadata;

/// What kassa keeps of a card: never its number or CVC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSummary {
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentIntent {
    pub id: String,
    pub livemode: bool,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub checkout_session_id: Option<String>,
    pub customer_id: Option<String>,
    pub receipt_email: Option<String>,
    pub card: Option<CardSummary>,
    /// Why the last attempt failed (Stripe's `last_payment_error`), while waiting for another card.
    pub last_payment_error: Option<Value>,
    /// The charge of the last attempt.
    pub latest_charge: Option<String>,
    /// What the merchant gave the session's `payment_intent_data`.
    pub data: PaymentIntentData,
    pub created: i64,
}

/// What a Checkout Session's `payment_intent_data` puts on its PaymentIntent (Stripe's
/// `description`, `metadata`, `statement_descriptor` and `statement_descriptor_suffix`),
/// validated when the session is created.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct PaymentIntentData {
    pub description: Option<String>,
    pub metadata: Metadata,
    /// At most 22 characters.
    pub statement_descriptor: Option<String>,
    /// At most 22 characters.
    pub statement_descriptor_suffix: Option<String>,
}

/// A card saved by a `mode=setup` session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupIntent {
    pub id: String,
    pub livemode: bool,
    pub status: String,
    pub checkout_session_id: Option<String>,
    pub customer_id: Option<String>,
    pub card: CardSummary,
    pub created: i64,
}

fn card_details(card: &CardSummary) -> Value {
    json!({
        "type": "card",
        "card": {"brand": card.brand, "last4": card.last4, "exp_month": card.exp_month, "exp_year": card.exp_year},
    })
}

/// Stripe's Charge object for one attempt on a PaymentIntent; `failure` is the decline, if any.
pub fn charge_object(
    intent: &PaymentIntent,
    charge_id: &str,
    failure: Option<&super::processor::Decline>,
) -> Value {
    let paid = failure.is_none();
    json!({
        "id": charge_id,
        "object": "charge",
        "amount": intent.amount,
        "amount_captured": if paid { intent.amount } else { 0 },
        "amount_refunded": 0,
        "billing_details": {"address": null, "email": intent.receipt_email, "name": null, "phone": null},
        "captured": paid,
        "created": intent.created,
        "currency": intent.currency,
        "customer": intent.customer_id,
        "description": intent.data.description,
        "failure_code": failure.map(|f| f.code),
        "failure_message": failure.map(|f| f.message),
        "livemode": intent.livemode,
        "metadata": {},
        "outcome": {
            "network_status": if paid { "approved_by_network" } else { "declined_by_network" },
            "reason": failure.and_then(|f| f.decline_code),
            "seller_message": if paid { "Payment complete." } else { "The bank did not approve the charge." },
            "type": if paid { "authorized" } else { "issuer_declined" },
        },
        "paid": paid,
        "payment_intent": intent.id,
        "payment_method_details": intent.card.as_ref().map(card_details),
        "receipt_email": intent.receipt_email,
        "refunded": false,
        "statement_descriptor": intent.data.statement_descriptor,
        "statement_descriptor_suffix": intent.data.statement_descriptor_suffix,
        "status": if paid { "succeeded" } else { "failed" },
    })
}

impl SetupIntent {
    /// Stripe's SetupIntent object.
    pub fn object(&self) -> Value {
        json!({
            "id": self.id,
            "object": "setup_intent",
            "created": self.created,
            "customer": self.customer_id,
            "livemode": self.livemode,
            "payment_method": null,
            "payment_method_types": ["card"],
            "status": self.status,
            "usage": "off_session",
        })
    }
}

impl PaymentIntent {
    /// Stripe's PaymentIntent object.
    pub fn object(&self) -> Value {
        json!({
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": 0,
            "amount_received": if self.status == "succeeded" { self.amount } else { 0 },
            "canceled_at": null,
            "capture_method": "automatic",
            "client_secret": null,
            "confirmation_method": "automatic",
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer_id,
            "description": self.data.description,
            "last_payment_error": self.last_payment_error,
            "latest_charge": self.latest_charge,
            "livemode": self.livemode,
            "metadata": self.data.metadata,
            "payment_method": null,
            "payment_method_details": self.card.as_ref().map(card_details),
            "payment_method_types": ["card"],
            "receipt_email": self.receipt_email,
            "statement_descriptor": self.data.statement_descriptor,
            "statement_descriptor_suffix": self.data.statement_descriptor_suffix,
            "status": self.status,
        })
    }
}

pub async fn get_payment_intent(
    db: &crate::store::Db,
    caller: &super::accounts::Caller,
    id: &str,
) -> Result<PaymentIntent, super::DomainError> {
    crate::store::payments::get_payment_intent(db, caller, id)
        .await?
        .ok_or_else(|| super::DomainError::not_found("payment_intent", id))
}

pub async fn list_payment_intents(
    db: &crate::store::Db,
    caller: &super::accounts::Caller,
    customer: Option<&str>,
    created: &super::list::CreatedRange,
    page: &super::list::PageRequest,
) -> Result<super::list::Page<PaymentIntent>, super::DomainError> {
    page.check_cursor(|id| async move { get_payment_intent(db, caller, &id).await })
        .await?;
    if let Some(customer) = customer {
        super::customers::get_customer(db, caller, customer)
            .await
            .map_err(super::DomainError::as_reference("customer"))?;
    }
    Ok(crate::store::payments::list_payment_intents(db, caller, customer, created, page).await?)
}
