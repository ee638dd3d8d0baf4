//! `/api/v2/checkout/sessions` (and the V1 object, which V1 shares): Loops sessions in
//! camelCase, amounts in major units, ISO-8601 times.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::products::iso8601;
use crate::domain::accounts::Caller;
use crate::domain::checkout::{
    self, CheckoutMode, Session, SessionFilter, SessionInput, SessionSource, SessionState,
    SessionUpdate,
};
use crate::domain::list::PageStart;
use crate::domain::metadata::Metadata;
use crate::domain::money::MajorAmount;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, ListQuery, Query};
use crate::http::params::{MetadataParam, NoParams, Paging, clearable, metadata_param};
use crate::http::{AppState, JsonBytes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session, list_sessions))
        .routes(routes!(retrieve_session, update_session))
        .routes(routes!(expire_session))
}

/// The Loops session object (V1's fields; V2 adds its own after them), written straight from
/// the session rather than through a `serde_json::Value`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoopsSession<'a> {
    id: &'a str,
    url: String,
    #[schema(value_type = LoopsSessionStatus)]
    status: &'static str,
    /// The total in major units (`19.99`).
    #[schema(value_type = f64)]
    amount: serde_json::Number,
    currency: String,
    product_name: &'a str,
    created_at: String,
    #[schema(required = true)]
    external_customer_id: Option<&'a str>,
    expires_at: String,
    #[schema(required = true)]
    completed_at: Option<String>,
    metadata: &'a Metadata,
    #[schema(required = true)]
    payment_link_id: Option<&'a str>,
    livemode: bool,
    /// V2's fields, absent from V1's answers.
    #[serde(flatten)]
    #[schema(schema_with = v2_fields_when_v2)]
    v2: Option<V2Fields<'a>>,
}

/// [`V2Fields`] with none required: V1's answers are the same object without them.
fn v2_fields_when_v2() -> utoipa::openapi::schema::Schema {
    use utoipa::PartialSchema;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;
    match V2Fields::schema() {
        RefOr::T(Schema::Object(mut fields)) => {
            fields.required.clear();
            Schema::Object(fields)
        }
        _ => unreachable!("V2Fields derives an object schema"),
    }
}

/// A Loops session's `status`.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "UPPERCASE")]
#[allow(dead_code)]
enum LoopsSessionStatus {
    Pending,
    Completed,
    Expired,
    Cancelled,
    Failed,
}

/// A Loops session's `pricingType`.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(dead_code)]
enum PricingType {
    OneTime,
    Recurring,
}

/// What V2 shows of a session beyond V1.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct V2Fields<'a> {
    updated_at: String,
    #[schema(required = true)]
    product_description: Option<&'a str>,
    #[schema(value_type = PricingType, inline)]
    pricing_type: &'static str,
    allowed_payment_methods: Vec<String>,
    #[schema(required = true)]
    success_url: Option<&'a str>,
    #[schema(required = true)]
    cancel_url: Option<&'a str>,
}

impl<'a> LoopsSession<'a> {
    /// The V1 object, or with `v2` the V2 one.
    pub fn new(session: &'a Session, public_url: &str, v2: bool) -> Self {
        LoopsSession {
            id: &session.id,
            url: session.url(public_url),
            status: session.state.loops_status(),
            amount: session.currency.major_number(session.amount_total),
            currency: session.currency.upper(),
            product_name: &session.product_name,
            created_at: iso8601(session.created),
            external_customer_id: session.external_customer_id.as_deref(),
            expires_at: iso8601(session.expires_at),
            completed_at: session.completed_at.map(iso8601),
            metadata: &session.metadata,
            payment_link_id: session.payment_link_id.as_deref(),
            livemode: session.livemode,
            v2: v2.then(|| V2Fields {
                updated_at: iso8601(session.updated),
                product_description: session.product_description.as_deref(),
                pricing_type: if session.mode == CheckoutMode::Subscription {
                    "RECURRING"
                } else {
                    "ONE_TIME"
                },
                allowed_payment_methods: session.payment_method_types(),
                success_url: session.success_url.as_deref(),
                cancel_url: session.cancel_url.as_deref(),
            }),
        }
    }
}

/// The Loops list of sessions: `{sessions, total, limit, offset}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionPage<'a> {
    sessions: Vec<LoopsSession<'a>>,
    total: u64,
    limit: u32,
    offset: u64,
}

/// ISO-8601 `expiresAt` as unix seconds.
pub fn parse_iso8601(text: &str, param: &str) -> Result<i64, ApiError> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| {
            ApiError::invalid_param(
                param,
                format!("Invalid {param}: '{text}' is not an ISO-8601 date-time."),
            )
        })
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionBody {
    /// A payment link; or `productId`.
    #[serde(rename = "paymentLinkId")]
    pub payment_link_id: Option<String>,
    /// A product, sold at its default price; or `paymentLinkId`.
    #[serde(rename = "productId")]
    pub product_id: Option<String>,
    /// With `productId`: 1 to 1000.
    #[schema(minimum = 1, maximum = 1000)]
    pub quantity: Option<i64>,
    #[serde(rename = "externalCustomerId")]
    pub external_customer_id: Option<String>,
    #[serde(rename = "successUrl")]
    pub success_url: Option<String>,
    #[serde(rename = "cancelUrl")]
    pub cancel_url: Option<String>,
    /// ISO-8601, 30 minutes to 24 hours ahead; one hour by default.
    #[serde(rename = "expiresAt")]
    pub expires_at: Option<String>,
    /// Up to 50 string values.
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
}

impl CreateSessionBody {
    /// V2 takes exactly one of `paymentLinkId` and `productId`; V1 only the first.
    pub fn into_input(self, allow_product: bool) -> Result<SessionInput, ApiError> {
        let source = match (self.payment_link_id, self.product_id) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_param(
                    "productId",
                    "Give either paymentLinkId or productId, not both.",
                ));
            }
            (Some(link), None) => SessionSource::PaymentLink(link),
            (None, Some(product)) if allow_product => SessionSource::Product {
                product_id: product,
                quantity: self.quantity,
            },
            (None, Some(_)) => {
                return Err(ApiError::invalid_param(
                    "productId",
                    "V1 sessions take paymentLinkId; use V2 for productId.",
                ));
            }
            (None, None) if allow_product => {
                return Err(ApiError::missing_param("paymentLinkId")
                    .with_message("paymentLinkId or productId is required."));
            }
            (None, None) => return Err(ApiError::missing_param("paymentLinkId")),
        };
        let mut input = SessionInput::new(source);
        input.external_customer_id = self.external_customer_id;
        input.success_url = self.success_url;
        input.cancel_url = self.cancel_url;
        input.expires_at = self
            .expires_at
            .map(|t| parse_iso8601(&t, "expiresAt"))
            .transpose()?;
        input.metadata = self
            .metadata
            .map(MetadataParam::into_new)
            .unwrap_or_default();
        Ok(input)
    }
}

/// Renames domain parameters to the V2 spelling in errors (`expires_at` → `expiresAt`).
pub fn loops_param(mut error: ApiError) -> ApiError {
    let renamed = match error.param.as_deref() {
        Some("expires_at") => Some("expiresAt"),
        Some("success_url") => Some("successUrl"),
        Some("cancel_url") => Some("cancelUrl"),
        _ => None,
    };
    if let Some(name) = renamed {
        error.param = Some(name.to_string());
    }
    error
}

/// Creates a session from a payment link or a product.
#[utoipa::path(post, path = "/api/v2/checkout/sessions", tag = "Checkout sessions", security(("secret_key" = [])),
    request_body = CreateSessionBody,
    responses((status = 200, description = "The V2 session; send the customer to its `url`.", body = LoopsSession),
              (status = 400, description = "A parameter is invalid."), (status = 404, description = "Payment link or product not found.")))]
pub async fn create_session(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateSessionBody>,
) -> Result<JsonBytes, ApiError> {
    let session = checkout::create_session(
        &state.db,
        &caller,
        body.into_input(true)?,
        state.clock.now(),
    )
    .await
    .map_err(|e| loops_param(e.into()))?;
    JsonBytes::of(&LoopsSession::new(&session, &state.config.public_url, true))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LoopsSessionFilter {
    /// `PENDING`, `COMPLETED`, `EXPIRED`, `CANCELLED`, `FAILED`, or the guide's words (`open`...).
    pub status: Option<String>,
    #[serde(rename = "externalCustomerId")]
    #[param(rename = "externalCustomerId")]
    pub external_customer_id: Option<String>,
    #[serde(rename = "paymentLinkId")]
    #[param(rename = "paymentLinkId")]
    pub payment_link_id: Option<String>,
}

impl LoopsSessionFilter {
    pub fn filter(self) -> Result<SessionFilter, ApiError> {
        Ok(SessionFilter {
            states: self
                .status
                .as_deref()
                .map(|s| SessionState::parse_filter(s, false))
                .transpose()?,
            external_customer_id: self.external_customer_id,
            payment_link: self.payment_link_id,
            ..Default::default()
        })
    }
}

/// The Loops list: `{sessions, total, limit, offset}`.
pub async fn loops_list(
    state: &AppState,
    caller: &Caller,
    filter: LoopsSessionFilter,
    paging: Paging,
    v2: bool,
) -> Result<JsonBytes, ApiError> {
    let filter = filter.filter()?;
    let page = paging.page(50)?;
    let offset = match page.start {
        PageStart::Offset(offset) => offset,
        _ => 0,
    };
    let now = state.clock.now();
    let listed = checkout::list_sessions(
        &state.db,
        caller,
        &filter,
        &page,
        now,
        &state.config.public_url,
    )
    .await?;
    let total = checkout::count_sessions(&state.db, caller, &filter).await?;
    let sessions = listed
        .items
        .iter()
        .map(|s| LoopsSession::new(s, &state.config.public_url, v2))
        .collect();
    JsonBytes::of(&SessionPage {
        sessions,
        total,
        limit: page.limit,
        offset,
    })
}

/// Lists sessions, newest first.
#[utoipa::path(get, path = "/api/v2/checkout/sessions", tag = "Checkout sessions", security(("secret_key" = [])),
    params(LoopsSessionFilter, Paging), responses((status = 200, description = "`{sessions, total, limit, offset}`", body = SessionPage),
        (status = 404, description = "`paymentLinkId` or the cursor names no object of the account.")))]
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(filter, paging): ListQuery<LoopsSessionFilter, Paging>,
) -> Result<JsonBytes, ApiError> {
    loops_list(&state, &caller, filter, paging, true).await
}

/// Retrieves a session.
#[utoipa::path(get, path = "/api/v2/checkout/sessions/{id}", tag = "Checkout sessions", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The V2 session.", body = LoopsSession), (status = 404, description = "Checkout session not found.")))]
pub async fn retrieve_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(NoParams {}): Query<NoParams>,
) -> Result<JsonBytes, ApiError> {
    let session = checkout::get_session(
        &state.db,
        &caller,
        &id,
        state.clock.now(),
        &state.config.public_url,
    )
    .await?;
    JsonBytes::of(&LoopsSession::new(&session, &state.config.public_url, true))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSessionBody {
    /// Major units, at least 0.01; the session then sells one item at this amount.
    #[schema(value_type = Option<f64>)]
    pub amount: Option<MajorAmount>,
    pub currency: Option<String>,
    /// At most 200 characters.
    #[serde(rename = "productName")]
    pub product_name: Option<String>,
    /// At most 1000 characters.
    #[serde(rename = "productDescription", default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub product_description: Option<Option<String>>,
    /// `ONE_TIME` or `RECURRING`; must match what the session sells.
    #[serde(rename = "pricingType")]
    pub pricing_type: Option<String>,
    #[serde(rename = "allowedPaymentMethods")]
    pub allowed_payment_methods: Option<Vec<String>>,
    #[serde(rename = "successUrl", default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub success_url: Option<Option<String>>,
    #[serde(rename = "cancelUrl", default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub cancel_url: Option<Option<String>>,
    #[serde(rename = "externalCustomerId", default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub external_customer_id: Option<Option<String>>,
    /// ISO-8601.
    #[serde(rename = "expiresAt")]
    pub expires_at: Option<String>,
    /// Replaces the session's metadata (`""` or `null` removes it).
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
}

/// Updates an open session; 409 once it has left `PENDING`.
#[utoipa::path(put, path = "/api/v2/checkout/sessions/{id}", tag = "Checkout sessions", security(("secret_key" = [])),
    params(("id" = String, Path)), request_body = UpdateSessionBody,
    responses((status = 200, description = "The V2 session.", body = LoopsSession), (status = 404, description = "Checkout session not found."),
              (status = 409, description = "The session is no longer open.")))]
pub async fn update_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateSessionBody>,
) -> Result<JsonBytes, ApiError> {
    let update = SessionUpdate {
        amount: body.amount,
        currency: body.currency,
        product_name: body.product_name,
        product_description: body.product_description,
        pricing_type: body.pricing_type,
        payment_method_types: body.allowed_payment_methods,
        success_url: body.success_url,
        cancel_url: body.cancel_url,
        external_customer_id: body.external_customer_id,
        expires_at: body
            .expires_at
            .map(|t| parse_iso8601(&t, "expiresAt"))
            .transpose()?,
        metadata: body.metadata.map(MetadataParam::replace),
    };
    let now = state.clock.now();
    let session = checkout::update_session(
        &state.db,
        &caller,
        &id,
        update,
        now,
        &state.config.public_url,
    )
    .await?;
    JsonBytes::of(&LoopsSession::new(&session, &state.config.public_url, true))
}

/// Expires an open session; 409 if it is not open.
#[utoipa::path(post, path = "/api/v2/checkout/sessions/{id}/expire", tag = "Checkout sessions", security(("secret_key" = [])),
    params(("id" = String, Path)), request_body = NoParams,
    responses((status = 200, description = "The expired session.", body = LoopsSession), (status = 404, description = "Checkout session not found."),
              (status = 409, description = "The session is not open.")))]
pub async fn expire_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(NoParams {}): JsonBody<NoParams>,
) -> Result<JsonBytes, ApiError> {
    let now = state.clock.now();
    let session =
        checkout::expire_session(&state.db, &caller, &id, now, &state.config.public_url).await?;
    JsonBytes::of(&LoopsSession::new(&session, &state.config.public_url, true))
}
