//! `/v1/checkout/sessions`: the Stripe Checkout Session API over the same sessions as the
//! Loops surfaces.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::StripeList;
use super::products::ExpandQuery;
use crate::domain::accounts::Caller;
use crate::domain::checkout::{self, SessionFilter, SessionState};
use crate::http::AppState;
use crate::http::api_v3::checkout_sessions::session_object;
use crate::http::error::ApiError;
use crate::http::extract::{Query, StripeBody};
use crate::http::params::SessionBody;
use crate::objects::{self, Expand};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session, list_sessions))
        .routes(routes!(retrieve_session, update_session))
        .routes(routes!(expire_session))
        .routes(routes!(list_line_items))
}

/// Creates a Checkout Session (`line_items` with `price` or `price_data`, `mode`,
/// `success_url`, ...). Parameters kassa does not act on are accepted and ignored.
#[utoipa::path(post, path = "/v1/checkout/sessions", tag = "Stripe", security(("secret_key" = [])),
    request_body(content = SessionBody, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The Checkout Session."), (status = 400, description = "A parameter is invalid.")))]
pub async fn create_session(
    State(state): State<AppState>,
    caller: Caller,
    StripeBody(body): StripeBody<SessionBody>,
) -> Result<Json<Value>, ApiError> {
    let expand = Expand(body.expand.clone());
    let session =
        checkout::create_session(&state.db, &caller, body.into_input()?, state.clock.now()).await?;
    Ok(Json(
        session_object(&state, &caller, &session, &expand).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StripeSessionFilter {
    /// `open`, `complete` or `expired` (which includes canceled and failed sessions).
    pub status: Option<String>,
    pub customer: Option<String>,
    pub payment_intent: Option<String>,
    pub payment_link: Option<String>,
    /// `customer_details[email]=...`
    #[param(value_type = Option<Object>)]
    pub customer_details: Option<CustomerDetailsFilter>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CustomerDetailsFilter {
    pub email: Option<String>,
}

/// Lists Checkout Sessions, newest first.
#[utoipa::path(get, path = "/v1/checkout/sessions", tag = "Stripe", security(("secret_key" = [])),
    params(StripeSessionFilter, StripeList), responses((status = 200, description = "A list of Checkout Sessions.")))]
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<StripeSessionFilter>,
    Query(list): Query<StripeList>,
) -> Result<Json<Value>, ApiError> {
    let domain_filter = SessionFilter {
        states: filter
            .status
            .as_deref()
            .map(|s| SessionState::parse_filter(s, true))
            .transpose()?,
        customer: filter.customer,
        customer_email: filter.customer_details.and_then(|d| d.email),
        payment_link: filter.payment_link,
        payment_intent: filter.payment_intent,
        created: list.created.clone().unwrap_or_default().0,
        ..Default::default()
    };
    let now = state.clock.now();
    let page = checkout::list_sessions(
        &state.db,
        &caller,
        &domain_filter,
        &list.page()?,
        now,
        &state.config.public_url,
    )
    .await?;
    let expand = Expand(list.expand.clone()).under("data");
    let mut data = Vec::with_capacity(page.items.len());
    for session in &page.items {
        data.push(session_object(&state, &caller, session, &expand).await?);
    }
    Ok(Json(objects::list(
        data,
        page.has_more,
        "/v1/checkout/sessions",
    )))
}

/// Retrieves a Checkout Session (`expand[]=line_items`, `payment_link`, `payment_intent`).
#[utoipa::path(get, path = "/v1/checkout/sessions/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), ExpandQuery),
    responses((status = 200, description = "The Checkout Session."), (status = 404, description = "No such session.")))]
pub async fn retrieve_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(expand): Query<ExpandQuery>,
) -> Result<Json<Value>, ApiError> {
    let session = checkout::get_session(
        &state.db,
        &caller,
        &id,
        state.clock.now(),
        &state.config.public_url,
    )
    .await?;
    Ok(Json(
        session_object(&state, &caller, &session, &Expand(expand.expand)).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSessionParams {
    /// Keys to set; an empty value removes a key.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub expand: Vec<String>,
}

/// Updates a Checkout Session's metadata; `metadata[key]=` removes a key.
#[utoipa::path(post, path = "/v1/checkout/sessions/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = UpdateSessionParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The Checkout Session."), (status = 404, description = "No such session.")))]
pub async fn update_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<UpdateSessionParams>,
) -> Result<Json<Value>, ApiError> {
    let now = state.clock.now();
    let session = match params.metadata {
        Some(metadata) => {
            checkout::update_metadata(
                &state.db,
                &caller,
                &id,
                metadata,
                now,
                &state.config.public_url,
            )
            .await?
        }
        None => {
            checkout::get_session(&state.db, &caller, &id, now, &state.config.public_url).await?
        }
    };
    Ok(Json(
        session_object(&state, &caller, &session, &Expand(params.expand)).await?,
    ))
}

/// Expires an open Checkout Session; 409 if it is not open.
#[utoipa::path(post, path = "/v1/checkout/sessions/{id}/expire", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The expired session."), (status = 404, description = "No such session."),
              (status = 409, description = "The session is not open.")))]
pub async fn expire_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let now = state.clock.now();
    let session =
        checkout::expire_session(&state.db, &caller, &id, now, &state.config.public_url).await?;
    Ok(Json(
        session_object(&state, &caller, &session, &Expand::default()).await?,
    ))
}

/// A Checkout Session's line items, paged like every Stripe list.
#[utoipa::path(get, path = "/v1/checkout/sessions/{id}/line_items", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), StripeList),
    responses((status = 200, description = "A list of line items."), (status = 404, description = "No such session.")))]
pub async fn list_line_items(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(list): Query<StripeList>,
) -> Result<Json<Value>, ApiError> {
    let session = checkout::get_session(
        &state.db,
        &caller,
        &id,
        state.clock.now(),
        &state.config.public_url,
    )
    .await?;
    let page = list.page()?;
    let items = checkout::line_items(&state.db, &caller, &session.id).await?;
    // Line items keep their order of creation; a session holds at most 100.
    let start = match &page.start {
        crate::domain::list::PageStart::After(after) => items
            .iter()
            .position(|i| &i.id == after)
            .map_or(items.len(), |p| p + 1),
        _ => 0,
    };
    let end = (start + page.limit as usize).min(items.len());
    let data = items[start..end].iter().map(objects::line_item).collect();
    let url = format!("/v1/checkout/sessions/{}/line_items", session.id);
    Ok(Json(objects::list(data, end < items.len(), &url)))
}
