//! `/api/v1/checkout/sessions`: sessions from a payment link.

use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::accounts::Caller;
use crate::domain::checkout;
use crate::http::api_v2::checkout_sessions::{
    CreateSessionBody, LoopsSession, LoopsSessionFilter, loops_list, loops_param,
};
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, ListQuery, Query};
use crate::http::params::{NoParams, Paging};
use crate::http::{AppState, JsonBytes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session, list_sessions))
        .routes(routes!(retrieve_session))
        .routes(routes!(expire_session))
}

/// Creates a session from a payment link (`paymentLinkId`, `externalCustomerId`, `metadata`).
#[utoipa::path(post, path = "/api/v1/checkout/sessions", tag = "Checkout sessions", security(("secret_key" = [])),
    request_body = CreateSessionBody,
    responses((status = 200, description = "The V1 session; send the customer to its `url`.", body = LoopsSession),
              (status = 400, description = "A parameter is invalid."), (status = 404, description = "Payment link not found.")))]
pub async fn create_session(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateSessionBody>,
) -> Result<JsonBytes, ApiError> {
    let session = checkout::create_session(
        &state.db,
        &caller,
        body.into_input(false)?,
        state.clock.now(),
    )
    .await
    .map_err(|e| loops_param(e.into()))?;
    JsonBytes::of(&LoopsSession::new(
        &session,
        &state.config.public_url,
        false,
    ))
}

/// Lists sessions, newest first: `{sessions, total, limit, offset}`.
#[utoipa::path(get, path = "/api/v1/checkout/sessions", tag = "Checkout sessions", security(("secret_key" = [])),
    params(LoopsSessionFilter, Paging), responses((status = 200, description = "`{sessions, total, limit, offset}`", body = crate::http::api_v2::checkout_sessions::SessionPage),
        (status = 404, description = "`paymentLinkId` or the cursor names no object of the account.")))]
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(filter, paging): ListQuery<LoopsSessionFilter, Paging>,
) -> Result<JsonBytes, ApiError> {
    loops_list(&state, &caller, filter, paging, false).await
}

/// Retrieves a session.
#[utoipa::path(get, path = "/api/v1/checkout/sessions/{id}", tag = "Checkout sessions", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The V1 session.", body = LoopsSession), (status = 404, description = "Checkout session not found.")))]
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
    JsonBytes::of(&LoopsSession::new(
        &session,
        &state.config.public_url,
        false,
    ))
}

/// Expires an open session; 409 if it is not open.
#[utoipa::path(post, path = "/api/v1/checkout/sessions/{id}/expire", tag = "Checkout sessions", security(("secret_key" = [])),
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
    JsonBytes::of(&LoopsSession::new(
        &session,
        &state.config.public_url,
        false,
    ))
}
