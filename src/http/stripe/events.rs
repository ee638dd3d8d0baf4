//! `/v1/events`: every state change of the account, kept 30 days, exactly as delivered. Besides
//! Stripe's routes, `resend` delivers an event again and `stream` follows new events as
//! server-sent events (what `kassa listen` reads).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::StripeList;
use crate::domain::accounts::Caller;
use crate::domain::list::PageRequest;
use crate::domain::webhooks::{self, EventFilter};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{ListQuery, Query, StripeBody};
use crate::http::params::{Created, ExpandParams};
use crate::http::unsupported::Unset;
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(retrieve_event))
        .routes(routes!(resend_event))
        .routes(routes!(super::event_stream::stream_events))
}

/// Filters of the event lists.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventFilterParams {
    /// One type, or a prefix written `checkout.session.*`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Several types (any of them).
    pub types: Option<Vec<String>>,
    /// `created=T` (unix seconds) or `created[gte]=T`, `[gt]`, `[lt]`, `[lte]`.
    #[param(value_type = Option<Object>)]
    pub created: Option<Created>,
    /// Events by whether their deliveries succeeded: not kept by kassa.
    #[param(value_type = Option<bool>)]
    pub delivery_success: Option<Unset>,
}

impl EventFilterParams {
    pub fn filter(self) -> Result<EventFilter, ApiError> {
        let created = self.created.unwrap_or_default().0;
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
    url: &'static str,
) -> Result<objects::List<'static, Value>, ApiError> {
    let page = webhooks::list_events(&state.db, caller, &filter, &page).await?;
    Ok(objects::List::new(page.items, page.has_more, url))
}

/// Lists events, newest first.
#[utoipa::path(get, path = "/v1/events", tag = "Stripe", security(("secret_key" = [])),
    params(EventFilterParams, StripeList), responses((status = 200, description = "A list of events.", body = objects::EventList)))]
pub async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(filter, mut list): ListQuery<EventFilterParams, StripeList>,
) -> Result<Json<objects::List<'static, Value>>, ApiError> {
    expand::check_list(std::mem::take(&mut list.expand), "event")?;
    let filter = filter.filter()?;
    Ok(Json(
        list_page(&state, &caller, filter, list.page()?, "/v1/events").await?,
    ))
}

/// Retrieves an event, exactly as delivered.
#[utoipa::path(get, path = "/v1/events/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), ExpandParams),
    responses((status = 200, description = "The event.", body = objects::Event), (status = 404, description = "No such event.")))]
pub async fn retrieve_event(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<ExpandParams>,
) -> Result<Json<Value>, ApiError> {
    expand::check(params.expand, "event")?;
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
    Ok(objects::to_value(&objects::EventResend::new(id, queued)))
}

/// Delivers an event again, now: a new delivery with the same event id and bytes.
#[utoipa::path(post, path = "/v1/events/{id}/resend", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = ResendParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "`{object: \"event_resend\", queued}`", body = objects::EventResend), (status = 404, description = "No such event.")))]
pub async fn resend_event(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<ResendParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(resend(&state, &caller, &id, params).await?))
}
