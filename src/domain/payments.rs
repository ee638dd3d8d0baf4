//! Payments: the PaymentIntent that records a session's charge.

use serde_json::{Value, json};

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
    pub created: i64,
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
            "description": null,
            "last_payment_error": null,
            "latest_charge": null,
            "livemode": self.livemode,
            "metadata": {},
            "payment_method": null,
            "payment_method_details": self.card.as_ref().map(|c| json!({
                "type": "card",
                "card": {"brand": c.brand, "last4": c.last4, "exp_month": c.exp_month, "exp_year": c.exp_year},
            })),
            "payment_method_types": ["card"],
            "receipt_email": self.receipt_email,
            "status": self.status,
        })
    }
}

pub async fn get_payment_intent(
    db: &crate::store::Db,
    caller: &super::accounts::Caller,
    id: &str,
) -> Result<PaymentIntent, super::DomainError> {
    crate::store::checkout::get_payment_intent(db, caller, id)
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
    if let super::list::PageStart::After(id) | super::list::PageStart::Before(id) = &page.start {
        get_payment_intent(db, caller, id).await.map_err(|_| {
            super::DomainError::invalid("starting_after", format!("no such payment_intent: '{id}'"))
        })?;
    }
    Ok(crate::store::checkout::list_payment_intents(db, caller, customer, created, page).await?)
}
