//! `/v1/payment_links`.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::StripeList;
use crate::domain::accounts::Caller;
use crate::domain::catalog::{self, PaymentLinkFilter};
use crate::http::AppState;
use crate::http::api_v3::payment_links::link_object;
use crate::http::error::ApiError;
use crate::http::extract::{Query, StripeBody};
use crate::http::params::PaymentLinkBody;
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_payment_link, list_payment_links))
        .routes(routes!(retrieve_payment_link, update_payment_link))
        .routes(routes!(list_payment_link_items))
}

/// Creates a payment link.
#[utoipa::path(post, path = "/v1/payment_links", tag = "Stripe", security(("secret_key" = [])),
    request_body(content = PaymentLinkBody, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The payment link object."), (status = 400, description = "A parameter is invalid.")))]
pub async fn create_payment_link(
    State(state): State<AppState>,
    caller: Caller,
    StripeBody(body): StripeBody<PaymentLinkBody>,
) -> Result<Json<Value>, ApiError> {
    let link = catalog::create_payment_link(
        &state.db,
        &caller,
        body.into_input(false)?,
        &state.config.public_url,
        state.clock.now(),
    )
    .await?;
    Ok(Json(link_object(&state, &link)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkListFilter {
    pub active: Option<bool>,
}

/// Lists payment links, newest first.
#[utoipa::path(get, path = "/v1/payment_links", tag = "Stripe", security(("secret_key" = [])),
    params(LinkListFilter, StripeList), responses((status = 200, description = "A list of payment links.")))]
pub async fn list_payment_links(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<LinkListFilter>,
    Query(list): Query<StripeList>,
) -> Result<Json<Value>, ApiError> {
    let filter = PaymentLinkFilter {
        active: filter.active,
    };
    let page = catalog::list_payment_links(&state.db, &caller, &filter, &list.page()?).await?;
    let data = page.items.iter().map(|l| link_object(&state, l)).collect();
    Ok(Json(objects::list(
        data,
        page.has_more,
        "/v1/payment_links",
    )))
}

/// Retrieves a payment link.
#[utoipa::path(get, path = "/v1/payment_links/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The payment link object."), (status = 404, description = "No such payment link.")))]
pub async fn retrieve_payment_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let link = catalog::get_payment_link(&state.db, &caller, &id).await?;
    Ok(Json(link_object(&state, &link)))
}

/// Updates a payment link; `metadata[key]=` removes a key.
#[utoipa::path(post, path = "/v1/payment_links/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = PaymentLinkBody, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The payment link object."), (status = 404, description = "No such payment link.")))]
pub async fn update_payment_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(body): StripeBody<PaymentLinkBody>,
) -> Result<Json<Value>, ApiError> {
    let link = catalog::update_payment_link(
        &state.db,
        &caller,
        &id,
        body.into_input(false)?,
        &state.config.public_url,
        state.clock.now(),
    )
    .await?;
    Ok(Json(link_object(&state, &link)))
}

/// The line items of a payment link.
#[utoipa::path(get, path = "/v1/payment_links/{id}/line_items", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "A list of line items."), (status = 404, description = "No such payment link.")))]
pub async fn list_payment_link_items(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let link = catalog::get_payment_link(&state.db, &caller, &id).await?;
    let url = format!("/v1/payment_links/{}/line_items", link.id);
    Ok(Json(objects::payment_link_items(&link, &url)))
}
