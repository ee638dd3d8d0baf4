//! `/v1/test_helpers/checkout/sessions/{id}/pay`: pays a test-mode session without a browser,
//! running exactly what the hosted page's form runs (events included), so a shop's integration
//! tests can complete a checkout from code or the shell (`kassa pay`).

use std::collections::BTreeMap;
use std::fmt;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::accounts::Caller;
use crate::domain::checkout;
use crate::domain::hosted::{self, PayOutcome, TestPayment};
use crate::domain::payments;
use crate::domain::processor::Decline;
use crate::http::error::{ApiError, ErrorType};
use crate::http::extract::StripeBody;
use crate::http::{AppState, JsonBytes};
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(pay_session))
}

/// The parameters of a test payment. Expiry and CVC are not parameters: kassa fills them as
/// any valid card would (an expiry five years ahead, a CVC of the brand's length).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayParams {
    /// A test card number, spaces allowed: `4242 4242 4242 4242` pays, `4000 0000 0000 0002`
    /// is declined (`generic_decline`), and so on through the test-card table.
    pub card: String,
    /// The customer's email; the session's `customer_email` when absent.
    pub email: Option<String>,
    /// The name on the card.
    pub name: Option<String>,
    /// The amount the customer chooses, in minor units, for the line whose price lets the
    /// customer choose (`custom_unit_amount`, a Loops CUSTOM product).
    pub amount: Option<i64>,
    /// `line_items[i][quantity]`: the quantity the customer chooses for line `i` (its index in
    /// the session's line items), which must have `adjustable_quantity` enabled.
    #[schema(value_type = Option<Object>)]
    pub line_items: Option<LineChoices>,
    /// Fields of the returned session to expand, as on retrieve.
    #[serde(default)]
    pub expand: Vec<String>,
}

/// The customer's choice on one line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineChoice {
    pub quantity: Option<i64>,
}

/// `line_items` by line index: a form's `line_items[1][quantity]=2` (which may skip lines), or
/// a JSON list (`[{}, {"quantity": 2}]`) or object by index.
#[derive(Debug, Default)]
pub struct LineChoices(pub BTreeMap<usize, LineChoice>);

impl<'de> Deserialize<'de> for LineChoices {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ByIndex;
        impl<'de> Visitor<'de> for ByIndex {
            type Value = LineChoices;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("line items by index, such as line_items[0][quantity]=2")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LineChoices, A::Error> {
                let mut lines = BTreeMap::new();
                while let Some(line) = seq.next_element::<LineChoice>()? {
                    lines.insert(lines.len(), line);
                }
                Ok(LineChoices(lines))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LineChoices, A::Error> {
                let mut lines = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let index = key.parse::<usize>().map_err(|_| {
                        de::Error::custom(format!("'{key}' is not a line item index (0, 1, ...)"))
                    })?;
                    lines.insert(index, map.next_value::<LineChoice>()?);
                }
                Ok(LineChoices(lines))
            }
        }
        deserializer.deserialize_any(ByIndex)
    }
}

impl PayParams {
    fn into_payment(self) -> TestPayment {
        TestPayment {
            card: self.card,
            email: self.email,
            name: self.name,
            amount: self.amount,
            quantities: self
                .line_items
                .unwrap_or_default()
                .0
                .into_iter()
                .filter_map(|(index, line)| Some((index, line.quantity?)))
                .collect(),
        }
    }
}

/// Pays a test-mode Checkout Session as its hosted page would, with a test card: the same
/// checks, the same events (`charge.succeeded`, `payment_intent.succeeded`,
/// `checkout.session.completed`) and webhooks. A declined card is a 402 `card_error` with
/// `code` and `decline_code` (and the `payment_intent`), as Stripe reports declines, and leaves
/// the session open; the fifth decline fails it (`checkout.session.expired`). A number failing
/// the Luhn check is a 402 `incorrect_number` that counts as no attempt. In live mode, the
/// session is not found (404), as for an unknown id.
#[utoipa::path(post, path = "/v1/test_helpers/checkout/sessions/{id}/pay", tag = "Stripe",
    security(("secret_key" = [])),
    params(("id" = String, Path, description = "A test-mode session, `cs_test_...`")),
    request_body(content = PayParams, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The paid Checkout Session (`status=complete`), as `GET /v1/checkout/sessions/{id}` shows it.", body = objects::CheckoutSession),
        (status = 400, description = "A parameter is invalid (`amount_too_small` / `amount_too_large` for a total that cannot be charged), or the session is not open (`checkout_session_not_open`)."),
        (status = 402, description = "The card was refused: a `card_error` with `code` (`card_declined`, `incorrect_number`...) and, for declines, `decline_code`."),
        (status = 404, description = "No such test-mode session (always, in live mode).")))]
pub async fn pay_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<PayParams>,
) -> Result<JsonBytes, ApiError> {
    let (now, public_url) = (state.clock.now(), &state.config.public_url);
    // Checked before the payment runs, as every operation checks its expand[] paths.
    let expand = crate::http::expand::check(params.expand.clone(), "checkout.session")?;
    let outcome = hosted::pay_test_session(
        &state.db,
        &caller,
        &id,
        params.into_payment(),
        now,
        public_url,
    )
    .await?;
    let session = checkout::get_session(&state.db, &caller, &id, now, public_url).await?;
    match outcome {
        PayOutcome::Completed(_) => {
            JsonBytes::of(&crate::http::expand::session(&state, &caller, &session, &expand).await?)
        }
        PayOutcome::CardRejected(rejected) => Err(card_error(&rejected).with_param("card")),
        PayOutcome::Declined { decline, .. } => {
            Err(decline_error(&state, &caller, &session, &decline, None).await?)
        }
        PayOutcome::Failed(decline) => {
            let ended = format!(
                "That was the {}th declined attempt: the checkout session has expired.",
                hosted::MAX_DECLINES
            );
            Err(decline_error(&state, &caller, &session, &decline, Some(ended)).await?)
        }
        PayOutcome::AlreadyFinal(ended) => Err(checkout::not_open(&id, ended).into()),
    }
}

/// Stripe's 402 `card_error`: `code`, the customer's message, and `decline_code` for declines.
fn card_error(decline: &Decline) -> ApiError {
    let mut error = ApiError::new(
        StatusCode::PAYMENT_REQUIRED,
        Some(decline.code),
        decline.message,
    )
    .with_type(ErrorType::Card);
    if let Some(decline_code) = decline.decline_code {
        error = error.with_field("decline_code", decline_code.into());
    }
    error
}

/// A decline as Stripe reports it on a PaymentIntent: the card error, with the `charge` that
/// failed, the declined `payment_method` and the `payment_intent` waiting for another card (its
/// `last_payment_error` set).
async fn decline_error(
    state: &AppState,
    caller: &Caller,
    session: &checkout::Session,
    decline: &Decline,
    note: Option<String>,
) -> Result<ApiError, ApiError> {
    let mut error = card_error(decline);
    if let Some(note) = note {
        error.message = format!("{} {note}", error.message);
    }
    let intent =
        payments::get_payment_intent(&state.db, caller, &session.payment_intent_id()).await?;
    if let Some(charge) = &intent.latest_charge {
        error = error.with_field("charge", charge.clone().into());
    }
    if let Some(method) = intent
        .last_payment_error
        .as_ref()
        .and_then(|e| e.get("payment_method"))
    {
        error = error.with_field("payment_method", method.clone());
    }
    Ok(error.with_field("payment_intent", intent.object()))
}
