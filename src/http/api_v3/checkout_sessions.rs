//! `/api/v3/checkout/sessions`: Loops V3 sessions, in Stripe's shape with the Loops extras.

use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::accounts::Caller;
use crate::domain::checkout::{self, SessionFilter, SessionState};
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{JsonBody, ListQuery, Query};
use crate::http::params::{Created, ExpandParams, NoParams, Paging, SessionBody};
use crate::http::{AppState, JsonBytes};
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session, list_sessions))
        .routes(routes!(retrieve_session))
        .routes(routes!(expire_session))
        .routes(routes!(list_line_items))
}

/// Creates a checkout session from `line_items` or a Loops `productId`.
#[utoipa::path(post, path = "/api/v3/checkout/sessions", tag = "Checkout sessions", security(("secret_key" = [])),
    request_body = SessionBody,
    responses((status = 200, description = "The checkout session; send the customer to its `url`.", body = objects::CheckoutSession),
              (status = 400, description = "A parameter is invalid; `error.param` names it.")))]
pub async fn create_session(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(mut body): JsonBody<SessionBody>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(std::mem::take(&mut body.expand), "checkout.session")?;
    let mut input = body.into_input()?;
    input.customer_is_reference = true;
    let session = checkout::create_session(&state.db, &caller, input, state.clock.now()).await?;
    JsonBytes::of(&expand::session(&state, &caller, &session, &expand).await?)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SessionListFilter {
    /// In any vocabulary and case: `open`/`PENDING`, `complete`/`COMPLETED`, `expired`,
    /// `canceled`/`CANCELLED`, `failed`.
    pub status: Option<String>,
    #[serde(rename = "externalCustomerId")]
    #[param(rename = "externalCustomerId")]
    pub external_customer_id: Option<String>,
    pub customer: Option<String>,
    pub payment_link: Option<String>,
    pub payment_intent: Option<String>,
    #[param(value_type = Option<Object>)]
    pub created: Option<Created>,
    #[serde(default)]
    pub expand: Vec<String>,
}

impl SessionListFilter {
    /// The domain filter; `stripe_words` makes `expired` cover canceled and failed too.
    pub fn filter(&self, stripe_words: bool) -> Result<SessionFilter, ApiError> {
        Ok(SessionFilter {
            states: self
                .status
                .as_deref()
                .map(|s| SessionState::parse_filter(s, stripe_words))
                .transpose()?,
            external_customer_id: self.external_customer_id.clone(),
            customer: self.customer.clone(),
            customer_email: None,
            payment_link: self.payment_link.clone(),
            payment_intent: self.payment_intent.clone(),
            created: self.created.clone().unwrap_or_default().0,
        })
    }
}

/// Lists sessions, newest first, by cursor (`cursor`, `starting_after`, `ending_before`).
#[utoipa::path(get, path = "/api/v3/checkout/sessions", tag = "Checkout sessions", security(("secret_key" = [])),
    params(SessionListFilter, Paging),
    responses((status = 200, description = "`{object: \"list\", data, has_more, url}`", body = objects::CheckoutSessionList)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(mut filter, paging): ListQuery<SessionListFilter, Paging>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(std::mem::take(&mut filter.expand), "checkout.session")?;
    let domain_filter = filter.filter(false)?;
    crate::http::stripe::checkout_sessions::check_filter_ids(
        &state,
        &caller,
        &domain_filter,
        false,
    )
    .await?;
    let now = state.clock.now();
    let page = checkout::list_sessions(
        &state.db,
        &caller,
        &domain_filter,
        &paging.page(50)?,
        now,
        &state.config.public_url,
    )
    .await?;
    let mut data = Vec::with_capacity(page.items.len());
    for session in &page.items {
        data.push(expand::session(&state, &caller, session, &expand).await?);
    }
    JsonBytes::of(&objects::List::new(
        data,
        page.has_more,
        "/api/v3/checkout/sessions",
    ))
}

/// Retrieves a session. An open session past `expires_at` is expired on read.
#[utoipa::path(get, path = "/api/v3/checkout/sessions/{id}", tag = "Checkout sessions", security(("secret_key" = [])),
    params(("id" = String, Path, description = "`cs_test_...` or `cs_live_...`"), ExpandParams),
    responses((status = 200, description = "The checkout session.", body = objects::CheckoutSession), (status = 404, description = "No such session.")))]
pub async fn retrieve_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<ExpandParams>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(params.expand, "checkout.session")?;
    let session = checkout::get_session(
        &state.db,
        &caller,
        &id,
        state.clock.now(),
        &state.config.public_url,
    )
    .await?;
    JsonBytes::of(&expand::session(&state, &caller, &session, &expand).await?)
}

/// Expires an open session; the customer can no longer pay it. 409 if it is not open.
#[utoipa::path(post, path = "/api/v3/checkout/sessions/{id}/expire", tag = "Checkout sessions", security(("secret_key" = [])),
    params(("id" = String, Path)), request_body = ExpandParams,
    responses((status = 200, description = "The expired session.", body = objects::CheckoutSession), (status = 404, description = "No such session."),
              (status = 409, description = "The session is not open.")))]
pub async fn expire_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(params): JsonBody<ExpandParams>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(params.expand, "checkout.session")?;
    let session = checkout::expire_session(
        &state.db,
        &caller,
        &id,
        state.clock.now(),
        &state.config.public_url,
    )
    .await?;
    JsonBytes::of(&expand::session(&state, &caller, &session, &expand).await?)
}

/// The session's line items.
#[utoipa::path(get, path = "/api/v3/checkout/sessions/{id}/line_items", tag = "Checkout sessions", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "A list of line items.", body = objects::LineItemList), (status = 404, description = "No such session.")))]
pub async fn list_line_items(
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
    let items = checkout::line_items(&state.db, &caller, &session.id).await?;
    let url = format!("/api/v3/checkout/sessions/{}/line_items", session.id);
    JsonBytes::of(&objects::List::new(
        items.iter().map(objects::LineItem::new).collect(),
        false,
        url,
    ))
}
