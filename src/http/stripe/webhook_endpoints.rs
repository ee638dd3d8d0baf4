//! `/v1/webhook_endpoints`: where an account's events are delivered. Besides Stripe's routes,
//! kassa adds `roll_secret`, `replay` (every failed delivery since a time) and `attempts` (the
//! delivery log).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::StripeList;
use crate::domain::accounts::Caller;
use crate::domain::events;
use crate::domain::list::PageRequest;
use crate::domain::webhooks::{self, EndpointInput};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{ListQuery, Query, StripeBody};
use crate::http::params::{
    ExpandParams, MetadataParam, NoParams, clearable, metadata_param, stripe_choice,
};
use crate::http::unsupported::Off;
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_endpoint, list_endpoints))
        .routes(routes!(retrieve_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(roll_secret))
        .routes(routes!(replay_failed))
        .routes(routes!(list_attempts))
}

/// Parameters of creating and updating an endpoint.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointParams {
    /// An absolute http(s) URL. Live endpoints may not target private addresses.
    pub url: Option<String>,
    /// Event types such as `checkout.session.completed`, or `*` for all.
    pub enabled_events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Keys to set (`metadata[k]=` removes one; `metadata=` removes every key).
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    /// Update only: disable (or enable) the endpoint.
    pub disabled: Option<bool>,
    /// Fields to expand in the answer (an endpoint has none).
    #[serde(default)]
    pub expand: Vec<String>,
    /// Create only: the API version events are rendered in; kassa renders every event in its
    /// one version, so only that version is accepted.
    pub api_version: Option<String>,
    /// Create only: events of connected accounts, which kassa does not have.
    pub connect: Option<Off>,
}

impl EndpointParams {
    pub fn input(self) -> Result<EndpointInput, ApiError> {
        expand::check(self.expand, "webhook_endpoint")?;
        if let Some(version) = self.api_version.filter(|v| !v.is_empty()) {
            stripe_choice("api_version", version, &[], &[events::API_VERSION])?;
        }
        Ok(EndpointInput {
            url: self.url,
            enabled_events: self.enabled_events,
            description: self.description,
            metadata: self.metadata.map(MetadataParam::merge),
            disabled: self.disabled,
        })
    }
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    params: EndpointParams,
) -> Result<Value, ApiError> {
    if params.disabled.is_some() {
        return Err(ApiError::invalid_param(
            "disabled",
            "Invalid disabled: an endpoint starts enabled; update it to disable it.",
        ));
    }
    let targets = state.config.webhook_targets();
    let endpoint = webhooks::create_endpoint(
        &state.db,
        caller,
        params.input()?,
        targets,
        state.clock.now(),
    )
    .await?;
    Ok(endpoint.object(true))
}

pub async fn list_page(
    state: &AppState,
    caller: &Caller,
    page: PageRequest,
    url: &'static str,
) -> Result<objects::List<'static, Value>, ApiError> {
    let page = webhooks::list_endpoints(&state.db, caller, &page).await?;
    let data = page.items.iter().map(|e| e.object(false)).collect();
    Ok(objects::List::new(data, page.has_more, url))
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: &str,
    params: EndpointParams,
) -> Result<Value, ApiError> {
    let targets = state.config.webhook_targets();
    let endpoint = webhooks::update_endpoint(
        &state.db,
        caller,
        id,
        params.input()?,
        targets,
        state.clock.now(),
    )
    .await?;
    Ok(endpoint.object(false))
}

/// Creates an endpoint. Its `secret` is in this answer only (and after a roll).
#[utoipa::path(post, path = "/v1/webhook_endpoints", tag = "Stripe", security(("secret_key" = [])),
    request_body(content = EndpointParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The endpoint, with its `whsec_` secret.", body = objects::WebhookEndpoint), (status = 400, description = "A parameter is invalid.")))]
pub async fn create_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    StripeBody(params): StripeBody<EndpointParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(create(&state, &caller, params).await?))
}

/// Lists endpoints, newest first.
#[utoipa::path(get, path = "/v1/webhook_endpoints", tag = "Stripe", security(("secret_key" = [])),
    params(StripeList), responses((status = 200, description = "A list of endpoints.", body = objects::WebhookEndpointList)))]
pub async fn list_endpoints(
    State(state): State<AppState>,
    caller: Caller,
    Query(mut list): Query<StripeList>,
) -> Result<Json<objects::List<'static, Value>>, ApiError> {
    expand::check_list(std::mem::take(&mut list.expand), "webhook_endpoint")?;
    Ok(Json(
        list_page(&state, &caller, list.page()?, "/v1/webhook_endpoints").await?,
    ))
}

/// Retrieves an endpoint (without its secret).
#[utoipa::path(get, path = "/v1/webhook_endpoints/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), ExpandParams),
    responses((status = 200, description = "The endpoint.", body = objects::WebhookEndpoint), (status = 404, description = "No such endpoint.")))]
pub async fn retrieve_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<ExpandParams>,
) -> Result<Json<Value>, ApiError> {
    expand::check(params.expand, "webhook_endpoint")?;
    Ok(Json(
        webhooks::get_endpoint(&state.db, &caller, &id)
            .await?
            .object(false),
    ))
}

/// Updates an endpoint: `url`, `enabled_events`, `description`, `metadata`, `disabled`.
#[utoipa::path(post, path = "/v1/webhook_endpoints/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = EndpointParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The endpoint.", body = objects::WebhookEndpoint), (status = 404, description = "No such endpoint.")))]
pub async fn update_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<EndpointParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(update(&state, &caller, &id, params).await?))
}

/// Deletes an endpoint; its pending deliveries are canceled.
#[utoipa::path(delete, path = "/v1/webhook_endpoints/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "`{id, object: \"webhook_endpoint\", deleted: true}`", body = objects::Deleted), (status = 404, description = "No such endpoint.")))]
pub async fn delete_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(NoParams {}): Query<NoParams>,
) -> Result<Json<Value>, ApiError> {
    let endpoint = webhooks::delete_endpoint(&state.db, &caller, &id, state.clock.now()).await?;
    Ok(Json(endpoint.object(false)))
}

/// Replaces the signing secret. The previous secret keeps signing, beside the new one, for 24
/// hours, so receivers can switch without losing a delivery.
#[utoipa::path(post, path = "/v1/webhook_endpoints/{id}/roll_secret", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = NoParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The endpoint, with its new secret.", body = objects::WebhookEndpoint), (status = 404, description = "No such endpoint.")))]
pub async fn roll_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(NoParams {}): StripeBody<NoParams>,
) -> Result<Json<Value>, ApiError> {
    let endpoint = webhooks::roll_secret(&state.db, &caller, &id, state.clock.now()).await?;
    Ok(Json(endpoint.object(true)))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayParams {
    /// Unix seconds: replay deliveries that ended failed at or after this time.
    pub since: Option<i64>,
}

pub async fn replay(
    state: &AppState,
    caller: &Caller,
    id: &str,
    params: ReplayParams,
) -> Result<Value, ApiError> {
    let since = params
        .since
        .ok_or_else(|| ApiError::missing_param("since"))?;
    let requeued = webhooks::replay_failed(&state.db, caller, id, since, state.clock.now()).await?;
    Ok(objects::to_value(&objects::WebhookReplay::new(
        id, since, requeued,
    )))
}

/// Queues again, due now, every delivery to this endpoint that ended failed since `since`.
#[utoipa::path(post, path = "/v1/webhook_endpoints/{id}/replay", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = ReplayParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "`{object: \"webhook_replay\", requeued}`", body = objects::WebhookReplay), (status = 404, description = "No such endpoint.")))]
pub async fn replay_failed(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<ReplayParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(replay(&state, &caller, &id, params).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AttemptFilter {
    /// Only the attempts to deliver this event.
    pub event: Option<String>,
}

pub async fn attempts(
    state: &AppState,
    caller: &Caller,
    id: &str,
    event: Option<&str>,
    page: PageRequest,
    url: String,
) -> Result<objects::List<'static, Value>, ApiError> {
    let page = webhooks::list_attempts(&state.db, caller, id, event, &page).await?;
    let data = page.items.iter().map(webhooks::Attempt::object).collect();
    Ok(objects::List::new(data, page.has_more, url))
}

/// Every delivery attempt to this endpoint, newest first: time, status, latency, error and the
/// first 4 KB of the answer.
#[utoipa::path(get, path = "/v1/webhook_endpoints/{id}/attempts", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), AttemptFilter, StripeList),
    responses((status = 200, description = "A list of attempts.", body = objects::WebhookAttemptList), (status = 404, description = "No such endpoint.")))]
pub async fn list_attempts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ListQuery(filter, mut list): ListQuery<AttemptFilter, StripeList>,
) -> Result<Json<objects::List<'static, Value>>, ApiError> {
    expand::check_list(std::mem::take(&mut list.expand), "webhook_attempt")?;
    let url = format!("/v1/webhook_endpoints/{id}/attempts");
    Ok(Json(
        attempts(
            &state,
            &caller,
            &id,
            filter.event.as_deref(),
            list.page()?,
            url,
        )
        .await?,
    ))
}
