//! `/v1/events`: every state change of the account, kept 30 days, exactly as delivered. Besides
//! Stripe's routes, `resend` delivers an event again and `stream` follows new events as
//! server-sent events (what `kassa listen` reads).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::StripeList;
use crate::domain::accounts::Caller;
use crate::domain::list::{CreatedRange, PageRequest};
use crate::domain::webhooks::{self, EventFilter};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{Query, StripeBody};
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(retrieve_event))
        .routes(routes!(resend_event))
        .routes(routes!(super::event_stream::stream_events))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventTypeFilter {
    /// One type, or a prefix written `checkout.session.*`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Several types (any of them).
    pub types: Option<Vec<String>>,
}

impl EventTypeFilter {
    pub fn filter(self, created: CreatedRange) -> Result<EventFilter, ApiError> {
        if self.kind.is_some() && self.types.is_some() {
            return Err(ApiError::invalid_param(
                "types",
                "Invalid types: give type or types, not both.",
            ));
        }
        let types = match (self.kind, self.types) {
            (Some(kind), _) => vec![kind],
            (None, Some(types)) => types,
            (None, None) => Vec::new(),
        };
        Ok(EventFilter { types, created })
    }
}

pub async fn list_page(
    state: &AppState,
    caller: &Caller,
    filter: EventFilter,
    page: PageRequest,
    url: &str,
) -> Result<Value, ApiError> {
    let page = webhooks::list_events(&state.db, caller, &filter, &page).await?;
    Ok(objects::list(page.items, page.has_more, url))
}

/// Lists events, newest first.
#[utoipa::path(get, path = "/v1/events", tag = "Stripe", security(("secret_key" = [])),
    params(EventTypeFilter, StripeList), responses((status = 200, description = "A list of events.")))]
pub async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    Query(types): Query<EventTypeFilter>,
    Query(list): Query<StripeList>,
) -> Result<Json<Value>, ApiError> {
    let filter = types.filter(list.created.clone().unwrap_or_default().0)?;
    Ok(Json(
        list_page(&state, &caller, filter, list.page()?, "/v1/events").await?,
    ))
}

/// Retrieves an event, exactly as delivered.
#[utoipa::path(get, path = "/v1/events/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The event."), (status = 404, description = "No such event.")))]
pub async fn retrieve_event(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(webhooks::get_event(&state.db, &caller, &id).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResendParams {
    /// Only to this endpoint (`we_...`); by default to every enabled endpoint that wants it.
    pub endpoint: Option<String>,
}

pub async fn resend(
    state: &AppState,
    caller: &Caller,
    id: &str,
    params: ResendParams,
) -> Result<Value, ApiError> {
    let queued = webhooks::resend_event(
        &state.db,
        caller,
        id,
        params.endpoint.as_deref(),
        state.clock.now(),
    )
    .await?;
    crate::delivery::WAKE.notify_one();
    Ok(json!({"object": "event_resend", "event": id, "queued": queued}))
}

/// Delivers an event again, now: a new delivery with the same event id and bytes.
#[utoipa::path(post, path = "/v1/events/{id}/resend", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = ResendParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "`{object: \"event_resend\", queued}`"), (status = 404, description = "No such event.")))]
pub async fn resend_event(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<ResendParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(resend(&state, &caller, &id, params).await?))
}
