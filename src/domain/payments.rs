//! Payments: the PaymentIntent that records a session's charge.

use serde_json::Value;

use super::metadata::Metadata;
use crate::objects;

/// What kassa keeps of a card: never its number or CVC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSummary {
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
}

impl CardSummary {
    /// `Visa ending 4242`, for people.
    pub fn describe(&self) -> String {
        format!("{} ending {}", brand_name(&self.brand), self.last4)
    }
}

/// A card brand as people write it: `visa` is Visa, `amex` American Express, `unknown` Card.
pub fn brand_name(brand: &str) -> String {
    match brand {
        "amex" => "American Express".to_string(),
        "unknown" => "Card".to_string(),
        other => {
            let mut chars = other.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
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
    /// The PaymentMethod it succeeded with (`pm_`); `None` while it waits for one (Stripe's
    /// `payment_method`, cleared when an attempt is declined).
    pub payment_method: Option<String>,
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
    /// The PaymentMethod it saved (`pm_`).
    pub payment_method: Option<String>,
    pub created: i64,
}

/// A Charge (`ch_`): one attempt to move money on a PaymentIntent, as Stripe's `charge`. Every
/// attempt that reached the processor has one, succeeded or failed, written in the
/// transaction of the attempt; a PaymentIntent's `latest_charge` names its last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub id: String,
    pub livemode: bool,
    pub payment_intent_id: String,
    /// In minor units, as the PaymentIntent's.
    pub amount: i64,
    /// In minor units; refunds add to it.
    pub amount_refunded: i64,
    pub currency: String,
    pub customer_id: Option<String>,
    pub card: Option<CardSummary>,
    /// The PaymentMethod of the attempt (`pm_`).
    pub payment_method: Option<String>,
    /// The payer's email and name as the payment form gave them (`billing_details`).
    pub billing_email: Option<String>,
    pub billing_name: Option<String>,
    pub receipt_email: Option<String>,
    /// Why the card was declined; `None` for a charge that succeeded.
    pub failure: Option<ChargeFailure>,
    /// The PaymentIntent's description, metadata and statement descriptors, copied at the
    /// attempt as Stripe copies them.
    pub data: PaymentIntentData,
    pub created: i64,
}

/// Why a charge failed, in Stripe's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeFailure {
    /// `failure_code`: `card_declined`, `expired_card`...
    pub code: String,
    /// `failure_message`.
    pub message: String,
    /// `outcome.reason`: the decline code, for `card_declined`.
    pub decline_code: Option<String>,
}

impl From<&super::processor::Decline> for ChargeFailure {
    fn from(decline: &super::processor::Decline) -> Self {
        ChargeFailure {
            code: decline.code.to_string(),
            message: decline.message.to_string(),
            decline_code: decline.decline_code.map(str::to_string),
        }
    }
}

impl ChargeFailure {
    /// Stripe's `last_payment_error` on a PaymentIntent whose attempt `charge_id` failed so.
    pub fn last_payment_error(&self, charge_id: &str, card: Option<&CardSummary>) -> Value {
        objects::to_value(&objects::LastPaymentError::new(self, charge_id, card))
    }
}

impl Charge {
    /// The charge of an attempt on `intent` (its amount, currency, customer, card, payment
    /// method and data as they are at the attempt), made at `now`; `failure` is the decline, if
    /// any.
    pub fn of_attempt(
        intent: &PaymentIntent,
        billing_name: Option<String>,
        failure: Option<ChargeFailure>,
        now: i64,
    ) -> Charge {
        Charge {
            id: super::ids::new_id(super::ids::prefix::CHARGE, super::ids::now_ms()),
            livemode: intent.livemode,
            payment_intent_id: intent.id.clone(),
            amount: intent.amount,
            amount_refunded: 0,
            currency: intent.currency.clone(),
            customer_id: intent.customer_id.clone(),
            card: intent.card.clone(),
            payment_method: intent.payment_method.clone(),
            billing_email: intent.receipt_email.clone(),
            billing_name,
            receipt_email: intent.receipt_email.clone(),
            failure,
            data: intent.data.clone(),
            created: now,
        }
    }

    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
    }

    /// The charge's receipt page under kassa's public URL; only a charge that succeeded has one.
    pub fn receipt_url(&self, public_url: &str) -> Option<String> {
        self.succeeded()
            .then(|| format!("{public_url}/receipts/{}", self.id))
    }

    /// Stripe's Charge object, with its `receipt_url` under `public_url`. Connect, Radar,
    /// disputes and transfers have no counterpart in kassa: their fields are null, false or
    /// absent as on a Stripe account without them.
    pub fn object(&self, public_url: &str) -> Value {
        objects::to_value(&objects::Charge::new(self, public_url))
    }
}

impl SetupIntent {
    /// Stripe's SetupIntent object.
    pub fn object(&self) -> Value {
        objects::to_value(&objects::SetupIntent::new(self))
    }
}

impl PaymentIntent {
    /// Stripe's PaymentIntent object.
    pub fn object(&self) -> Value {
        objects::to_value(&objects::PaymentIntent::new(self))
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

/// A charge of the caller's account and mode.
pub async fn get_charge(
    db: &crate::store::Db,
    caller: &super::accounts::Caller,
    id: &str,
) -> Result<Charge, super::DomainError> {
    crate::store::payments::get_charge(db, caller, id)
        .await?
        .ok_or_else(|| super::DomainError::not_found("charge", id))
}

/// Which charges a list holds (Stripe's `GET /v1/charges` filters).
#[derive(Debug, Clone, Default)]
pub struct ChargeFilter {
    pub customer: Option<String>,
    pub payment_intent: Option<String>,
    pub created: super::list::CreatedRange,
}

/// A page of charges, newest first. A `customer` or `payment_intent` that does not exist is a
/// `resource_missing` error naming the parameter, as on Stripe.
pub async fn list_charges(
    db: &crate::store::Db,
    caller: &super::accounts::Caller,
    filter: &ChargeFilter,
    page: &super::list::PageRequest,
) -> Result<super::list::Page<Charge>, super::DomainError> {
    page.check_cursor(|id| async move { get_charge(db, caller, &id).await })
        .await?;
    if let Some(customer) = &filter.customer {
        super::customers::get_customer(db, caller, customer)
            .await
            .map_err(super::DomainError::as_reference("customer"))?;
    }
    if let Some(intent) = &filter.payment_intent {
        get_payment_intent(db, caller, intent)
            .await
            .map_err(super::DomainError::as_reference("payment_intent"))?;
    }
    Ok(crate::store::payments::list_charges(db, caller, filter, page).await?)
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
