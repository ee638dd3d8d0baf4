//! `/api/v3/payment-links`: reusable links; each visit starts a checkout session.

use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::accounts::Caller;
use crate::domain::catalog::{self, PaymentLinkFilter};
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{JsonBody, ListQuery, Query};
use crate::http::params::{ExpandParams, Paging, PaymentLinkBody};
use crate::http::{AppState, JsonBytes};
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_payment_link, list_payment_links))
        .routes(routes!(retrieve_payment_link, update_payment_link))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LinkFilter {
    /// Only active (or inactive) links.
    pub active: Option<bool>,
    /// Fields to expand in each link (`data.line_items.data.price`).
    #[serde(default)]
    pub expand: Vec<String>,
}

/// Creates a payment link from `line_items` (prices) or `productIds`.
#[utoipa::path(post, path = "/api/v3/payment-links", tag = "Payment links", security(("secret_key" = [])),
    request_body = PaymentLinkBody,
    responses((status = 200, description = "The payment link object.", body = objects::PaymentLink), (status = 400, description = "A parameter is invalid.")))]
pub async fn create_payment_link(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(mut body): JsonBody<PaymentLinkBody>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(std::mem::take(&mut body.expand), "payment_link")?;
    let link = catalog::create_payment_link(
        &state.db,
        &caller,
        body.into_input(true)?,
        &state.config.public_url,
        state.clock.now(),
    )
    .await?;
    JsonBytes::of(&expand::payment_link(&state, &caller, &link, &expand).await?)
}

/// Lists payment links, newest first.
#[utoipa::path(get, path = "/api/v3/payment-links", tag = "Payment links", security(("secret_key" = [])),
    params(LinkFilter, Paging), responses((status = 200, description = "`{object: \"list\", data, has_more, url}`", body = objects::PaymentLinkList)))]
pub async fn list_payment_links(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(mut filter, paging): ListQuery<LinkFilter, Paging>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(std::mem::take(&mut filter.expand), "payment_link")?;
    let filter = PaymentLinkFilter {
        active: filter.active,
    };
    let page = catalog::list_payment_links(&state.db, &caller, &filter, &paging.page(50)?).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for link in &page.items {
        data.push(expand::payment_link(&state, &caller, link, &expand).await?);
    }
    JsonBytes::of(&objects::List::new(
        data,
        page.has_more,
        "/api/v3/payment-links",
    ))
}

/// Retrieves a payment link.
#[utoipa::path(get, path = "/api/v3/payment-links/{id}", tag = "Payment links", security(("secret_key" = [])),
    params(("id" = String, Path, description = "`pl_...`"), ExpandParams),
    responses((status = 200, description = "The payment link object.", body = objects::PaymentLink), (status = 404, description = "No such payment link.")))]
pub async fn retrieve_payment_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<ExpandParams>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(params.expand, "payment_link")?;
    let link = catalog::get_payment_link(&state.db, &caller, &id).await?;
    JsonBytes::of(&expand::payment_link(&state, &caller, &link, &expand).await?)
}

/// Updates a payment link (`label`, `productIds`, `successUrl`, `cancelUrl`, `metadata`, `active`...).
#[utoipa::path(put, path = "/api/v3/payment-links/{id}", tag = "Payment links", security(("secret_key" = [])),
    params(("id" = String, Path, description = "`pl_...`")), request_body = PaymentLinkBody,
    responses((status = 200, description = "The payment link object.", body = objects::PaymentLink), (status = 404, description = "No such payment link.")))]
pub async fn update_payment_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(mut body): JsonBody<PaymentLinkBody>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(std::mem::take(&mut body.expand), "payment_link")?;
    let link = catalog::update_payment_link(
        &state.db,
        &caller,
        &id,
        body.into_input(true)?,
        &state.config.public_url,
        state.clock.now(),
    )
    .await?;
    JsonBytes::of(&expand::payment_link(&state, &caller, &link, &expand).await?)
}
