//! `/api/v3/webhook-endpoints` and `/api/v3/events`: the same endpoints and events as `/v1`,
//! in V3's paths and paging.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::accounts::Caller;
use crate::domain::webhooks;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, ListQuery, Query, StripeBody};
use crate::http::params::{NoParams, Paging};
use crate::http::stripe::events::{self as v1_events, EventFilterParams, ResendParams};
use crate::http::stripe::webhook_endpoints::{
    self as v1_endpoints, AttemptFilter, EndpointParams, ReplayParams,
};
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_endpoint, list_endpoints))
        .routes(routes!(retrieve_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(roll_secret))
        .routes(routes!(replay_failed))
        .routes(routes!(list_attempts))
        .routes(routes!(list_events))
        .routes(routes!(retrieve_event))
        .routes(routes!(resend_event))
}

/// Creates a webhook endpoint; its `secret` is in this answer only.
#[utoipa::path(post, path = "/api/v3/webhook-endpoints", tag = "Webhooks", security(("secret_key" = [])),
    request_body = EndpointParams,
    responses((status = 200, description = "The endpoint, with its `whsec_` secret.", body = objects::WebhookEndpoint), (status = 400, description = "A parameter is invalid.")))]
pub async fn create_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    StripeBody(params): StripeBody<EndpointParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(v1_endpoints::create(&state, &caller, params).await?))
}

/// Lists webhook endpoints, newest first.
#[utoipa::path(get, path = "/api/v3/webhook-endpoints", tag = "Webhooks", security(("secret_key" = [])),
    params(Paging), responses((status = 200, description = "A list of endpoints.", body = objects::WebhookEndpointList)))]
pub async fn list_endpoints(
    State(state): State<AppState>,
    caller: Caller,
    Query(paging): Query<Paging>,
) -> Result<Json<objects::List<'static, Value>>, ApiError> {
    let url = "/api/v3/webhook-endpoints";
    Ok(Json(
        v1_endpoints::list_page(&state, &caller, paging.page(50)?, url).await?,
    ))
}

/// Retrieves a webhook endpoint (without its secret).
#[utoipa::path(get, path = "/api/v3/webhook-endpoints/{id}", tag = "Webhooks", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The endpoint.", body = objects::WebhookEndpoint), (status = 404, description = "No such endpoint.")))]
pub async fn retrieve_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(NoParams {}): Query<NoParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        webhooks::get_endpoint(&state.db, &caller, &id)
            .await?
            .object(false),
    ))
}

/// Updates a webhook endpoint: `url`, `enabled_events`, `description`, `metadata`, `disabled`.
#[utoipa::path(post, path = "/api/v3/webhook-endpoints/{id}", tag = "Webhooks", security(("secret_key" = [])),
    params(("id" = String, Path)), request_body = EndpointParams,
    responses((status = 200, description = "The endpoint.", body = objects::WebhookEndpoint), (status = 404, description = "No such endpoint.")))]
pub async fn update_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<EndpointParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        v1_endpoints::update(&state, &caller, &id, params).await?,
    ))
}

/// Deletes a webhook endpoint; its pending deliveries are canceled.
#[utoipa::path(delete, path = "/api/v3/webhook-endpoints/{id}", tag = "Webhooks", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "`{id, object, deleted: true}`", body = objects::Deleted), (status = 404, description = "No such endpoint.")))]
pub async fn delete_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(NoParams {}): Query<NoParams>,
) -> Result<Json<Value>, ApiError> {
    let endpoint = webhooks::delete_endpoint(&state.db, &caller, &id, state.clock.now()).await?;
    Ok(Json(endpoint.object(false)))
}

/// Replaces the signing secret; the previous one keeps signing for 24 hours.
#[utoipa::path(post, path = "/api/v3/webhook-endpoints/{id}/roll-secret", tag = "Webhooks", security(("secret_key" = [])),
    params(("id" = String, Path)), request_body = NoParams,
    responses((status = 200, description = "The endpoint, with its new secret.", body = objects::WebhookEndpoint), (status = 404, description = "No such endpoint.")))]
pub async fn roll_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(NoParams {}): JsonBody<NoParams>,
) -> Result<Json<Value>, ApiError> {
    let endpoint = webhooks::roll_secret(&state.db, &caller, &id, state.clock.now()).await?;
    Ok(Json(endpoint.object(true)))
}

/// Queues again every delivery to this endpoint that ended failed since `since`.
#[utoipa::path(post, path = "/api/v3/webhook-endpoints/{id}/replay", tag = "Webhooks", security(("secret_key" = [])),
    params(("id" = String, Path)), request_body = ReplayParams,
    responses((status = 200, description = "`{object: \"webhook_replay\", requeued}`", body = objects::WebhookReplay), (status = 404, description = "No such endpoint.")))]
pub async fn replay_failed(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<ReplayParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        v1_endpoints::replay(&state, &caller, &id, params).await?,
    ))
}

/// Every delivery attempt to this endpoint, newest first.
#[utoipa::path(get, path = "/api/v3/webhook-endpoints/{id}/attempts", tag = "Webhooks", security(("secret_key" = [])),
    params(("id" = String, Path), AttemptFilter, Paging),
    responses((status = 200, description = "A list of attempts.", body = objects::WebhookAttemptList), (status = 404, description = "No such endpoint.")))]
pub async fn list_attempts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ListQuery(filter, paging): ListQuery<AttemptFilter, Paging>,
) -> Result<Json<objects::List<'static, Value>>, ApiError> {
    let url = format!("/api/v3/webhook-endpoints/{id}/attempts");
    Ok(Json(
        v1_endpoints::attempts(
            &state,
            &caller,
            &id,
            filter.event.as_deref(),
            paging.page(50)?,
            url,
        )
        .await?,
    ))
}

/// Lists events, newest first (kept 30 days).
#[utoipa::path(get, path = "/api/v3/events", tag = "Webhooks", security(("secret_key" = [])),
    params(EventFilterParams, Paging), responses((status = 200, description = "A list of events.", body = objects::EventList)))]
pub async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(filter, paging): ListQuery<EventFilterParams, Paging>,
) -> Result<Json<objects::List<'static, Value>>, ApiError> {
    let filter = filter.filter()?;
    Ok(Json(
        v1_events::list_page(&state, &caller, filter, paging.page(50)?, "/api/v3/events").await?,
    ))
}

/// Retrieves an event, exactly as delivered.
#[utoipa::path(get, path = "/api/v3/events/{id}", tag = "Webhooks", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The event.", body = objects::Event), (status = 404, description = "No such event.")))]
pub async fn retrieve_event(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(NoParams {}): Query<NoParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(webhooks::get_event(&state.db, &caller, &id).await?))
}

/// Delivers an event again, now.
#[utoipa::path(post, path = "/api/v3/events/{id}/resend", tag = "Webhooks", security(("secret_key" = [])),
    params(("id" = String, Path)), request_body = ResendParams,
    responses((status = 200, description = "`{object: \"event_resend\", queued}`", body = objects::EventResend), (status = 404, description = "No such event.")))]
pub async fn resend_event(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<ResendParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(v1_events::resend(&state, &caller, &id, params).await?))
}
