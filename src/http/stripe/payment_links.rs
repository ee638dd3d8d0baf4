//! `/v1/payment_links`.

use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::StripeList;
use crate::domain::accounts::Caller;
use crate::domain::catalog::{self, PaymentLink, PaymentLinkFilter};
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{ListQuery, Query, StripeBody};
use crate::http::params::{ExpandParams, PaymentLinkBody};
use crate::http::{AppState, JsonBytes};
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
    responses((status = 200, description = "The payment link object.", body = objects::PaymentLink), (status = 400, description = "A parameter is invalid.")))]
pub async fn create_payment_link(
    State(state): State<AppState>,
    caller: Caller,
    StripeBody(mut body): StripeBody<PaymentLinkBody>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(std::mem::take(&mut body.expand), "payment_link")?;
    let link = catalog::create_payment_link(
        &state.db,
        &caller,
        body.into_input(false)?,
        &state.config.public_url,
        state.clock.now(),
    )
    .await?;
    JsonBytes::of(&expand::payment_link(&state, &caller, &link, &expand).await?)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LinkListFilter {
    pub active: Option<bool>,
}

/// Lists payment links, newest first.
#[utoipa::path(get, path = "/v1/payment_links", tag = "Stripe", security(("secret_key" = [])),
    params(LinkListFilter, StripeList), responses((status = 200, description = "A list of payment links.", body = objects::PaymentLinkList)))]
pub async fn list_payment_links(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(filter, mut list): ListQuery<LinkListFilter, StripeList>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(std::mem::take(&mut list.expand), "payment_link")?;
    let filter = PaymentLinkFilter {
        active: filter.active,
    };
    let page = catalog::list_payment_links(&state.db, &caller, &filter, &list.page()?).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for link in &page.items {
        data.push(expand::payment_link(&state, &caller, link, &expand).await?);
    }
    JsonBytes::of(&objects::List::new(
        data,
        page.has_more,
        "/v1/payment_links",
    ))
}

/// Retrieves a payment link.
#[utoipa::path(get, path = "/v1/payment_links/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), ExpandParams),
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

/// Updates a payment link; `metadata[key]=` removes a key.
#[utoipa::path(post, path = "/v1/payment_links/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = PaymentLinkBody, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The payment link object.", body = objects::PaymentLink), (status = 404, description = "No such payment link.")))]
pub async fn update_payment_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(mut body): StripeBody<PaymentLinkBody>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(std::mem::take(&mut body.expand), "payment_link")?;
    let link = catalog::update_payment_link(
        &state.db,
        &caller,
        &id,
        body.into_input(false)?,
        &state.config.public_url,
        state.clock.now(),
    )
    .await?;
    JsonBytes::of(&expand::payment_link(&state, &caller, &link, &expand).await?)
}

/// The line items of a payment link.
#[utoipa::path(get, path = "/v1/payment_links/{id}/line_items", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), StripeList),
    responses((status = 200, description = "A list of line items.", body = objects::LinkItemList), (status = 404, description = "No such payment link.")))]
pub async fn list_payment_link_items(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(mut list): Query<StripeList>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(std::mem::take(&mut list.expand), "item")?;
    let link = catalog::get_payment_link(&state.db, &caller, &id).await?;
    let mut items = objects::LinkItem::list(&link);
    page_line_items(&link, &mut items, &list.page()?);
    for item in &mut items.data {
        expand::link_item(&state, &caller, item, &expand).await?;
    }
    JsonBytes::of(&items)
}

/// Keeps one page of a link's line items (at most 20, in their order of creation).
fn page_line_items(
    link: &PaymentLink,
    items: &mut objects::List<'_, objects::LinkItem<'_>>,
    page: &crate::domain::list::PageRequest,
) {
    use crate::domain::list::PageStart;
    let count = items.data.len();
    let start = match &page.start {
        PageStart::After(after) => link
            .items
            .iter()
            .take(count)
            .position(|i| &i.id == after)
            .map_or(count, |p| p + 1),
        _ => 0,
    };
    let end = (start + page.limit as usize).min(count);
    items.has_more = end < count;
    items.data.truncate(end);
    items.data.drain(..start);
}
