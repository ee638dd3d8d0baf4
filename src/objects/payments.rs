//! Payments: PaymentIntents, their charges and refunds, and SetupIntents.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{
    Null, charge_or_id, charge_or_null, customer_or_null, payment_intent_or_id,
    payment_method_or_null, refund_list,
};
use crate::domain::metadata::Metadata;
use crate::domain::payments::{self, CardSummary, ChargeFailure};
use crate::domain::{payment_methods, refunds};

/// A PaymentIntent (`object: "payment_intent"`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentIntent<'a> {
    id: &'a str,
    object: &'static str,
    /// In minor units of `currency`.
    amount: i64,
    amount_capturable: i64,
    /// `amount` once succeeded, else 0.
    amount_received: i64,
    canceled_at: Null,
    capture_method: &'static str,
    client_secret: Null,
    confirmation_method: &'static str,
    created: i64,
    /// Lowercase ISO 4217 code.
    currency: &'a str,
    /// The customer's id, or the customer.
    #[schema(schema_with = customer_or_null, required = true)]
    customer: Option<&'a str>,
    #[schema(required = true)]
    description: Option<&'a str>,
    /// Why the last attempt failed, while it waits for another card.
    #[schema(value_type = Option<LastPaymentError>, required = true)]
    last_payment_error: Option<&'a Value>,
    /// The charge of the last attempt, or the charge.
    #[schema(schema_with = charge_or_null, required = true)]
    latest_charge: Option<&'a str>,
    livemode: bool,
    metadata: &'a Metadata,
    /// The PaymentMethod it succeeded with, or the PaymentMethod.
    #[schema(schema_with = payment_method_or_null, required = true)]
    payment_method: Option<&'a str>,
    #[schema(required = true)]
    payment_method_details: Option<CardDetails<'a>>,
    payment_method_types: [&'static str; 1],
    #[schema(required = true)]
    receipt_email: Option<&'a str>,
    #[schema(required = true)]
    statement_descriptor: Option<&'a str>,
    #[schema(required = true)]
    statement_descriptor_suffix: Option<&'a str>,
    #[schema(value_type = PaymentIntentStatus)]
    status: &'a str,
}

/// The statuses of a PaymentIntent kassa writes.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // Named for the document only: the field writes the domain's string.
pub enum PaymentIntentStatus {
    RequiresPaymentMethod,
    Succeeded,
}

/// The card of a payment (`payment_method_details`): `{type: "card", card}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CardDetails<'a> {
    /// Always `card`.
    #[serde(rename = "type")]
    kind: &'static str,
    card: CardDetailsCard<'a>,
}

#[derive(Debug, Serialize, ToSchema)]
struct CardDetailsCard<'a> {
    brand: &'a str,
    last4: &'a str,
    exp_month: i64,
    exp_year: i64,
}

impl<'a> CardDetails<'a> {
    fn new(card: &'a CardSummary) -> Self {
        CardDetails {
            kind: "card",
            card: CardDetailsCard {
                brand: &card.brand,
                last4: &card.last4,
                exp_month: card.exp_month,
                exp_year: card.exp_year,
            },
        }
    }
}

impl<'a> PaymentIntent<'a> {
    pub fn new(intent: &'a payments::PaymentIntent) -> Self {
        PaymentIntent {
            id: &intent.id,
            object: "payment_intent",
            amount: intent.amount,
            amount_capturable: 0,
            amount_received: if intent.status == "succeeded" {
                intent.amount
            } else {
                0
            },
            canceled_at: Null,
            capture_method: "automatic",
            client_secret: Null,
            confirmation_method: "automatic",
            created: intent.created,
            currency: &intent.currency,
            customer: intent.customer_id.as_deref(),
            description: intent.data.description.as_deref(),
            last_payment_error: intent.last_payment_error.as_ref(),
            latest_charge: intent.latest_charge.as_deref(),
            livemode: intent.livemode,
            metadata: &intent.data.metadata,
            payment_method: intent.payment_method.as_deref(),
            payment_method_details: intent.card.as_ref().map(CardDetails::new),
            payment_method_types: ["card"],
            receipt_email: intent.receipt_email.as_deref(),
            statement_descriptor: intent.data.statement_descriptor.as_deref(),
            statement_descriptor_suffix: intent.data.statement_descriptor_suffix.as_deref(),
            status: &intent.status,
        }
    }
}

/// A PaymentIntent's `last_payment_error`: the decline of its last attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct LastPaymentError<'a> {
    /// Always `card_error`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// `card_declined`, `expired_card`...
    code: &'a str,
    #[schema(required = true)]
    decline_code: Option<&'a str>,
    message: &'a str,
    /// The failed charge's id.
    charge: &'a str,
    /// The PaymentMethod the page's attempt was made with, or, for a renewal, the card's
    /// brand and last four digits.
    #[schema(schema_with = declined_method, required = true)]
    payment_method: Option<DeclinedMethod<'a>>,
}

/// What a `last_payment_error` says of the card that was declined.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum DeclinedMethod<'a> {
    Method(Box<super::PaymentMethod<'a>>),
    Card(DeclinedCard<'a>),
}

/// [`DeclinedMethod`]'s schema: a PaymentMethod (whose `type` and `card` a `DeclinedCard`
/// also reads, hence `anyOf`), the card, or null.
fn declined_method() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::Ref;
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
    AnyOfBuilder::new()
        .item(Ref::from_schema_name("PaymentMethod"))
        .item(Ref::from_schema_name("DeclinedCard"))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// The card of a declined attempt: `{type: "card", card: {brand, last4}}`.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DeclinedCard<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    card: DeclinedCardCard<'a>,
}

#[derive(Debug, Serialize, ToSchema)]
struct DeclinedCardCard<'a> {
    brand: &'a str,
    last4: &'a str,
}

impl<'a> LastPaymentError<'a> {
    pub fn new(failure: &'a ChargeFailure, charge: &'a str, card: Option<&'a CardSummary>) -> Self {
        LastPaymentError {
            kind: "card_error",
            code: &failure.code,
            decline_code: failure.decline_code.as_deref(),
            message: &failure.message,
            charge,
            payment_method: card.map(|c| {
                DeclinedMethod::Card(DeclinedCard {
                    kind: "card",
                    card: DeclinedCardCard {
                        brand: &c.brand,
                        last4: &c.last4,
                    },
                })
            }),
        }
    }

    /// The error of an attempt the payment page made with `method`, declined so.
    pub fn of_method(
        failure: &'a ChargeFailure,
        charge: &'a str,
        method: &'a payment_methods::PaymentMethod,
    ) -> Self {
        LastPaymentError {
            payment_method: Some(DeclinedMethod::Method(Box::new(super::PaymentMethod::new(
                method,
            )))),
            ..LastPaymentError::new(failure, charge, None)
        }
    }
}

/// A Charge (`object: "charge"`): one attempt to move money on a PaymentIntent. Connect,
/// Radar, disputes and transfers have no counterpart in kassa: their fields are null or false.
#[derive(Debug, Serialize, ToSchema)]
pub struct Charge<'a> {
    id: &'a str,
    object: &'static str,
    /// In minor units of `currency`.
    amount: i64,
    amount_captured: i64,
    amount_refunded: i64,
    application: Null,
    application_fee: Null,
    application_fee_amount: Null,
    balance_transaction: Null,
    billing_details: ChargeBillingDetails<'a>,
    calculated_statement_descriptor: Null,
    captured: bool,
    created: i64,
    currency: &'a str,
    /// The customer's id, or the customer.
    #[schema(schema_with = customer_or_null, required = true)]
    customer: Option<&'a str>,
    #[schema(required = true)]
    description: Option<&'a str>,
    disputed: bool,
    failure_balance_transaction: Null,
    #[schema(required = true)]
    failure_code: Option<&'a str>,
    #[schema(required = true)]
    failure_message: Option<&'a str>,
    fraud_details: super::NoFields,
    livemode: bool,
    metadata: &'a Metadata,
    on_behalf_of: Null,
    outcome: ChargeOutcome<'a>,
    paid: bool,
    /// The PaymentIntent's id, or the PaymentIntent.
    #[schema(schema_with = payment_intent_or_id)]
    payment_intent: &'a str,
    #[schema(required = true)]
    payment_method: Option<&'a str>,
    #[schema(required = true)]
    payment_method_details: Option<CardDetails<'a>>,
    #[schema(required = true)]
    receipt_email: Option<&'a str>,
    receipt_number: Null,
    /// Its receipt page, once succeeded.
    #[schema(required = true)]
    receipt_url: Option<String>,
    refunded: bool,
    /// Present once `expand[]=refunds` asked for them, at the end of the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = refund_list)]
    refunds: Option<Null>,
    review: Null,
    shipping: Null,
    source: Null,
    source_transfer: Null,
    #[schema(required = true)]
    statement_descriptor: Option<&'a str>,
    #[schema(required = true)]
    statement_descriptor_suffix: Option<&'a str>,
    #[schema(value_type = ChargeStatus)]
    status: &'static str,
    transfer_data: Null,
    transfer_group: Null,
}

/// A charge's status.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // Named for the document only: the field writes the domain's string.
pub enum ChargeStatus {
    Succeeded,
    Failed,
}

#[derive(Debug, Serialize, ToSchema)]
struct ChargeBillingDetails<'a> {
    address: Null,
    #[schema(required = true)]
    email: Option<&'a str>,
    #[schema(required = true)]
    name: Option<&'a str>,
    phone: Null,
    tax_id: Null,
}

/// A charge's `outcome`.
#[derive(Debug, Serialize, ToSchema)]
struct ChargeOutcome<'a> {
    advice_code: Null,
    network_advice_code: Null,
    network_decline_code: Null,
    /// `approved_by_network` or `declined_by_network`.
    network_status: &'static str,
    /// The decline code of a declined charge.
    #[schema(required = true)]
    reason: Option<&'a str>,
    risk_level: &'static str,
    seller_message: &'static str,
    /// `authorized` or `issuer_declined`.
    #[serde(rename = "type")]
    kind: &'static str,
}

impl<'a> Charge<'a> {
    pub fn new(charge: &'a payments::Charge, public_url: &str) -> Self {
        let paid = charge.succeeded();
        let failure = charge.failure.as_ref();
        Charge {
            id: &charge.id,
            object: "charge",
            amount: charge.amount,
            amount_captured: if paid { charge.amount } else { 0 },
            amount_refunded: charge.amount_refunded,
            application: Null,
            application_fee: Null,
            application_fee_amount: Null,
            balance_transaction: Null,
            billing_details: ChargeBillingDetails {
                address: Null,
                email: charge.billing_email.as_deref(),
                name: charge.billing_name.as_deref(),
                phone: Null,
                tax_id: Null,
            },
            calculated_statement_descriptor: Null,
            captured: paid,
            created: charge.created,
            currency: &charge.currency,
            customer: charge.customer_id.as_deref(),
            description: charge.data.description.as_deref(),
            disputed: false,
            failure_balance_transaction: Null,
            failure_code: failure.map(|f| f.code.as_str()),
            failure_message: failure.map(|f| f.message.as_str()),
            fraud_details: super::NoFields {},
            livemode: charge.livemode,
            metadata: &charge.data.metadata,
            on_behalf_of: Null,
            outcome: ChargeOutcome {
                advice_code: Null,
                network_advice_code: Null,
                network_decline_code: Null,
                network_status: if paid {
                    "approved_by_network"
                } else {
                    "declined_by_network"
                },
                reason: failure.and_then(|f| f.decline_code.as_deref()),
                risk_level: "normal",
                seller_message: if paid {
                    "Payment complete."
                } else {
                    "The bank did not approve the charge."
                },
                kind: if paid {
                    "authorized"
                } else {
                    "issuer_declined"
                },
            },
            paid,
            payment_intent: &charge.payment_intent_id,
            payment_method: charge.payment_method.as_deref(),
            payment_method_details: charge.card.as_ref().map(CardDetails::new),
            receipt_email: charge.receipt_email.as_deref(),
            receipt_number: Null,
            receipt_url: charge.receipt_url(public_url),
            refunded: charge.amount_refunded > 0 && charge.amount_refunded >= charge.amount,
            refunds: None,
            review: Null,
            shipping: Null,
            source: Null,
            source_transfer: Null,
            statement_descriptor: charge.data.statement_descriptor.as_deref(),
            statement_descriptor_suffix: charge.data.statement_descriptor_suffix.as_deref(),
            status: if paid { "succeeded" } else { "failed" },
            transfer_data: Null,
            transfer_group: Null,
        }
    }
}

/// A SetupIntent (`object: "setup_intent"`): a card saved by a `mode=setup` session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupIntent<'a> {
    id: &'a str,
    object: &'static str,
    created: i64,
    #[schema(required = true)]
    customer: Option<&'a str>,
    livemode: bool,
    #[schema(required = true)]
    payment_method: Option<&'a str>,
    payment_method_types: [&'static str; 1],
    status: &'a str,
    usage: &'static str,
}

impl<'a> SetupIntent<'a> {
    pub fn new(intent: &'a payments::SetupIntent) -> Self {
        SetupIntent {
            id: &intent.id,
            object: "setup_intent",
            created: intent.created,
            customer: intent.customer_id.as_deref(),
            livemode: intent.livemode,
            payment_method: intent.payment_method.as_deref(),
            payment_method_types: ["card"],
            status: &intent.status,
            usage: "off_session",
        }
    }
}

/// A Refund (`object: "refund"`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Refund<'a> {
    id: &'a str,
    object: &'static str,
    /// In minor units of `currency`.
    amount: i64,
    balance_transaction: Null,
    /// The refunded charge's id, or the charge.
    #[schema(schema_with = charge_or_id)]
    charge: &'a str,
    created: i64,
    currency: &'a str,
    destination_details: RefundDestination,
    failure_balance_transaction: Null,
    #[schema(required = true)]
    failure_reason: Option<&'a str>,
    metadata: &'a Metadata,
    /// The PaymentIntent's id, or the PaymentIntent.
    #[schema(schema_with = payment_intent_or_id)]
    payment_intent: &'a str,
    pending_reason: Null,
    #[schema(value_type = Option<RefundReason>, required = true)]
    reason: Option<&'a str>,
    receipt_number: Null,
    source_transfer_reversal: Null,
    #[schema(value_type = refunds::RefundStatus)]
    status: &'static str,
    transfer_reversal: Null,
}

/// Stripe's refund reasons.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // Named for the document only: the field writes the domain's string.
pub enum RefundReason {
    Duplicate,
    Fraudulent,
    RequestedByCustomer,
}

#[derive(Debug, Serialize, ToSchema)]
struct RefundDestination {
    card: RefundDestinationCard,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
struct RefundDestinationCard {
    reference: Null,
    reference_status: &'static str,
    reference_type: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
}

impl<'a> Refund<'a> {
    pub fn new(refund: &'a refunds::Refund) -> Self {
        Refund {
            id: &refund.id,
            object: "refund",
            amount: refund.amount,
            balance_transaction: Null,
            charge: &refund.charge_id,
            created: refund.created,
            currency: &refund.currency,
            destination_details: RefundDestination {
                card: RefundDestinationCard {
                    reference: Null,
                    reference_status: "pending",
                    reference_type: "acquirer_reference_number",
                    kind: "refund",
                },
                kind: "card",
            },
            failure_balance_transaction: Null,
            failure_reason: refund.failure_reason.as_deref(),
            metadata: &refund.metadata,
            payment_intent: &refund.payment_intent_id,
            pending_reason: Null,
            reason: refund.reason.as_deref(),
            receipt_number: Null,
            source_transfer_reversal: Null,
            status: refund.status.as_str(),
            transfer_reversal: Null,
        }
    }
}
