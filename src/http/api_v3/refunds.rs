//! `/api/v3/refunds`: Stripe's refunds on Loops V3 (decisions §11), with JSON bodies and V3's
//! paging; the same objects and rules as `/v1/refunds`.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::accounts::Caller;
use crate::domain::refunds;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, ListQuery, Query};
use crate::http::params::{ExpandParams, Paging};
use crate::http::stripe::refunds::{RefundListParams, RefundParams, RefundUpdateParams};
use crate::http::{AppState, JsonBytes};
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_refund, list_refunds))
        .routes(routes!(retrieve_refund, update_refund))
}

/// Refunds a charge, in full or in part (`charge` or `payment_intent`, `amount`, `reason`,
/// `metadata`).
#[utoipa::path(post, path = "/api/v3/refunds", tag = "Refunds", security(("secret_key" = [])),
    request_body = RefundParams,
    responses((status = 200, description = "The refund.", body = objects::Refund),
        (status = 400, description = "More than remains (`amount_too_large`), a charge already refunded (`charge_already_refunded`), or a charge that did not succeed (`charge_not_refundable`).")))]
pub async fn create_refund(
    state: State<AppState>,
    caller: Caller,
    JsonBody(params): JsonBody<RefundParams>,
) -> Result<Json<Value>, ApiError> {
    crate::http::stripe::refunds::create(state, caller, params).await
}

/// Lists refunds, newest first.
#[utoipa::path(get, path = "/api/v3/refunds", tag = "Refunds", security(("secret_key" = [])),
    params(RefundListParams, Paging),
    responses((status = 200, description = "`{object: \"list\", data, has_more, url}`", body = objects::RefundList)))]
pub async fn list_refunds(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(params, paging): ListQuery<RefundListParams, Paging>,
) -> Result<JsonBytes, ApiError> {
    let page = refunds::list(&state.db, &caller, &params.filter(), &paging.page(50)?).await?;
    let data: Vec<Value> = page.items.iter().map(|r| r.object()).collect();
    JsonBytes::of(&objects::List::new(data, page.has_more, "/api/v3/refunds"))
}

/// Retrieves a refund.
#[utoipa::path(get, path = "/api/v3/refunds/{id}", tag = "Refunds", security(("secret_key" = [])),
    params(("id" = String, Path), ExpandParams),
    responses((status = 200, description = "The refund.", body = objects::Refund), (status = 404, description = "No such refund.")))]
pub async fn retrieve_refund(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<ExpandParams>,
) -> Result<Json<Value>, ApiError> {
    let expand = crate::http::expand::check(params.expand, "refund")?;
    let refund = refunds::get(&state.db, &caller, &id).await?;
    Ok(Json(
        crate::http::expand::refund(&state, &caller, refund.object(), &expand).await?,
    ))
}

/// Updates a refund's metadata.
#[utoipa::path(post, path = "/api/v3/refunds/{id}", tag = "Refunds", security(("secret_key" = [])),
    params(("id" = String, Path)), request_body = RefundUpdateParams,
    responses((status = 200, description = "The refund.", body = objects::Refund), (status = 404, description = "No such refund.")))]
pub async fn update_refund(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
    JsonBody(params): JsonBody<RefundUpdateParams>,
) -> Result<Json<Value>, ApiError> {
    crate::http::stripe::refunds::update(state, caller, id, params).await
}
