//! `/api/v3/subscriptions` and `/api/v3/invoices`: Loops V3's subscriptions (its SDK cancels with
//! `DELETE /api/v3/subscriptions/{id}`, Stripe's own route), the same objects and rules as
//! `/v1` (decisions §11), with V3's paging.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::accounts::Caller;
use crate::domain::billing;
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{JsonBody, ListQuery, Query};
use crate::http::params::{Created, ExpandParams, Paging};
use crate::http::stripe::subscriptions::{CancelParams, SubscriptionUpdateParams};
use crate::http::{AppState, JsonBytes};
use crate::objects;
use crate::store::billing::{InvoiceFilter, SubscriptionFilter};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_subscriptions))
        .routes(routes!(
            retrieve_subscription,
            update_subscription,
            cancel_subscription
        ))
        .routes(routes!(list_invoices))
        .routes(routes!(retrieve_invoice))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionListFilter {
    pub customer: Option<String>,
    pub price: Option<String>,
    /// A status, `all`, or `ended`; by default every subscription that has not ended.
    pub status: Option<String>,
    pub test_clock: Option<String>,
    #[param(value_type = Option<Object>)]
    pub created: Option<Created>,
    #[serde(default)]
    pub expand: Vec<String>,
}

/// Lists subscriptions, newest first.
#[utoipa::path(get, path = "/api/v3/subscriptions", tag = "Subscriptions", security(("secret_key" = [])),
    params(SubscriptionListFilter, Paging),
    responses((status = 200, description = "`{object: \"list\", data, has_more, url}`", body = objects::SubscriptionList)))]
pub async fn list_subscriptions(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(filter, paging): ListQuery<SubscriptionListFilter, Paging>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(filter.expand, "subscription")?;
    let domain_filter = SubscriptionFilter {
        statuses: billing::statuses(filter.status.as_deref())?,
        customer: filter.customer,
        price: filter.price,
        created: filter.created.unwrap_or_default().0,
        test_clock: filter.test_clock,
    };
    let page =
        billing::list_subscriptions(&state.db, &caller, &domain_filter, &paging.page(50)?).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for subscription in &page.items {
        data.push(expand::subscription(&state, &caller, subscription.object(), &expand).await?);
    }
    JsonBytes::of(&objects::List::new(
        data,
        page.has_more,
        "/api/v3/subscriptions",
    ))
}

/// Retrieves a subscription.
#[utoipa::path(get, path = "/api/v3/subscriptions/{id}", tag = "Subscriptions", security(("secret_key" = [])),
    params(("id" = String, Path), ExpandParams),
    responses((status = 200, description = "The subscription.", body = objects::Subscription), (status = 404, description = "No such subscription.")))]
pub async fn retrieve_subscription(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<ExpandParams>,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(params.expand, "subscription")?;
    let subscription = billing::get_subscription(&state.db, &caller, &id).await?;
    Ok(Json(
        expand::subscription(&state, &caller, subscription.object(), &expand).await?,
    ))
}

/// Updates a subscription: metadata, description, and cancelling later (or no longer).
#[utoipa::path(post, path = "/api/v3/subscriptions/{id}", tag = "Subscriptions", security(("secret_key" = [])),
    params(("id" = String, Path)), request_body = SubscriptionUpdateParams,
    responses((status = 200, description = "The subscription.", body = objects::Subscription), (status = 400, description = "A parameter is invalid."),
        (status = 404, description = "No such subscription.")))]
pub async fn update_subscription(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
    JsonBody(params): JsonBody<SubscriptionUpdateParams>,
) -> Result<Json<Value>, ApiError> {
    crate::http::stripe::subscriptions::update(state, caller, id, params).await
}

/// Cancels a subscription now.
#[utoipa::path(delete, path = "/api/v3/subscriptions/{id}", tag = "Subscriptions", security(("secret_key" = [])),
    params(("id" = String, Path), CancelParams),
    responses((status = 200, description = "The canceled subscription.", body = objects::Subscription), (status = 404, description = "No such subscription."),
        (status = 400, description = "The subscription has already ended.")))]
pub async fn cancel_subscription(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
    params: Query<CancelParams>,
) -> Result<Json<Value>, ApiError> {
    crate::http::stripe::subscriptions::cancel_subscription(state, caller, id, params).await
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InvoiceListFilter {
    pub customer: Option<String>,
    pub subscription: Option<String>,
    /// `draft`, `open`, `paid`, `uncollectible` or `void`.
    pub status: Option<String>,
    pub test_clock: Option<String>,
    #[param(value_type = Option<Object>)]
    pub created: Option<Created>,
    #[serde(default)]
    pub expand: Vec<String>,
}

/// Lists invoices, newest first.
#[utoipa::path(get, path = "/api/v3/invoices", tag = "Subscriptions", security(("secret_key" = [])),
    params(InvoiceListFilter, Paging),
    responses((status = 200, description = "`{object: \"list\", data, has_more, url}`", body = objects::InvoiceList)))]
pub async fn list_invoices(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(filter, paging): ListQuery<InvoiceListFilter, Paging>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(filter.expand, "invoice")?;
    let status = billing::invoice_status(filter.status.as_deref())?;
    let domain_filter = InvoiceFilter {
        customer: filter.customer,
        subscription: filter.subscription,
        status,
        created: filter.created.unwrap_or_default().0,
        test_clock: filter.test_clock,
    };
    let page =
        billing::list_invoices(&state.db, &caller, &domain_filter, &paging.page(50)?).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for invoice in &page.items {
        data.push(
            expand::invoice(
                &state,
                &caller,
                invoice.object(&state.config.public_url),
                &expand,
            )
            .await?,
        );
    }
    JsonBytes::of(&objects::List::new(data, page.has_more, "/api/v3/invoices"))
}

/// Retrieves an invoice.
#[utoipa::path(get, path = "/api/v3/invoices/{id}", tag = "Subscriptions", security(("secret_key" = [])),
    params(("id" = String, Path), ExpandParams),
    responses((status = 200, description = "The invoice.", body = objects::Invoice), (status = 404, description = "No such invoice.")))]
pub async fn retrieve_invoice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<ExpandParams>,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(params.expand, "invoice")?;
    let invoice = billing::get_invoice(&state.db, &caller, &id).await?;
    Ok(Json(
        expand::invoice(
            &state,
            &caller,
            invoice.object(&state.config.public_url),
            &expand,
        )
        .await?,
    ))
}
