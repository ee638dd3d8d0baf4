//! `/v1/subscriptions` and `/v1/subscription_items`: read. A subscription starts when a
//! checkout in subscription mode is paid (decisions §11).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::StripeList;
use crate::domain::accounts::Caller;
use crate::domain::billing;
use crate::domain::list::{PageRequest, PageStart};
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{ListQuery, Query};
use crate::http::params::Created;
use crate::http::unsupported::Unset;
use crate::http::{AppState, JsonBytes};
use crate::objects;
use crate::store::billing::SubscriptionFilter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_subscriptions))
        .routes(routes!(retrieve_subscription))
        .routes(routes!(list_subscription_items))
        .routes(routes!(retrieve_subscription_item))
}

/// `GET /v1/subscriptions` filters, as Stripe's.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionListParams {
    /// Only this customer's subscriptions (`cus_…`).
    pub customer: Option<String>,
    /// Only subscriptions with an item of this price (`price_…`).
    pub price: Option<String>,
    /// A status, `all`, or `ended`; by default every subscription that has not ended.
    pub status: Option<String>,
    /// Only those on this test clock; without it (or `customer`), those on a clock are left out.
    pub test_clock: Option<String>,
    /// `created=T` (unix seconds) or `created[gte]=T`, `[gt]`, `[lt]`, `[lte]`.
    #[param(value_type = Option<Object>)]
    pub created: Option<Created>,
    #[param(value_type = Option<Object>)]
    pub current_period_end: Option<Unset>,
    #[param(value_type = Option<Object>)]
    pub current_period_start: Option<Unset>,
    #[param(value_type = Option<String>)]
    pub collection_method: Option<Unset>,
    #[param(value_type = Option<String>)]
    pub plan: Option<Unset>,
    #[param(value_type = Option<Object>)]
    pub automatic_tax: Option<Unset>,
    #[param(value_type = Option<String>)]
    pub customer_account: Option<Unset>,
}

/// Lists subscriptions, newest first.
#[utoipa::path(get, path = "/v1/subscriptions", tag = "Stripe", security(("secret_key" = [])),
    params(SubscriptionListParams, StripeList),
    responses((status = 200, description = "A list of subscriptions."),
        (status = 400, description = "An unknown status, or a `customer` or `price` that does not exist.")))]
pub async fn list_subscriptions(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(params, mut list): ListQuery<SubscriptionListParams, StripeList>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(std::mem::take(&mut list.expand), "subscription")?;
    let filter = SubscriptionFilter {
        statuses: billing::statuses(params.status.as_deref())?,
        customer: params.customer,
        price: params.price,
        created: params.created.unwrap_or_default().0,
        test_clock: params.test_clock,
    };
    let page = billing::list_subscriptions(&state.db, &caller, &filter, &list.page()?).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for subscription in &page.items {
        data.push(expand::subscription(&state, &caller, subscription.object(), &expand).await?);
    }
    JsonBytes::of(&objects::List::new(
        data,
        page.has_more,
        "/v1/subscriptions",
    ))
}

/// Retrieves a subscription.
#[utoipa::path(get, path = "/v1/subscriptions/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), RetrieveParams),
    responses((status = 200, description = "The subscription."), (status = 404, description = "No such subscription.")))]
pub async fn retrieve_subscription(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<RetrieveParams>,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(params.expand, "subscription")?;
    let subscription = billing::get_subscription(&state.db, &caller, &id).await?;
    Ok(Json(
        expand::subscription(&state, &caller, subscription.object(), &expand).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RetrieveParams {
    /// Fields to expand (`customer`, `latest_invoice`).
    #[serde(default)]
    pub expand: Vec<String>,
}

/// `GET /v1/subscription_items`: the items of one subscription.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemListParams {
    /// The subscription (`sub_…`).
    #[param(required = true)]
    pub subscription: Option<String>,
}

/// Lists a subscription's items, in order.
#[utoipa::path(get, path = "/v1/subscription_items", tag = "Stripe", security(("secret_key" = [])),
    params(ItemListParams, StripeList),
    responses((status = 200, description = "A list of subscription items."),
        (status = 400, description = "No `subscription`, or one that does not exist.")))]
pub async fn list_subscription_items(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(params, list): ListQuery<ItemListParams, StripeList>,
) -> Result<JsonBytes, ApiError> {
    let id = params
        .subscription
        .ok_or_else(|| ApiError::missing_param("subscription"))?;
    expand::check_list(list.expand.clone(), "subscription_item")?;
    let subscription = billing::get_subscription(&state.db, &caller, &id)
        .await
        .map_err(crate::domain::DomainError::as_reference("subscription"))?;
    let items: Vec<Value> = subscription
        .items
        .iter()
        .map(|i| i.object(&subscription))
        .collect();
    let (data, has_more) = page_in_memory(items, &list.page()?);
    JsonBytes::of(&objects::List::new(
        data,
        has_more,
        "/v1/subscription_items",
    ))
}

/// Retrieves a subscription item.
#[utoipa::path(get, path = "/v1/subscription_items/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), ItemRetrieveParams),
    responses((status = 200, description = "The subscription item."), (status = 404, description = "No such subscription item.")))]
pub async fn retrieve_subscription_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<ItemRetrieveParams>,
) -> Result<Json<Value>, ApiError> {
    expand::check(params.expand, "subscription_item")?;
    let (item, subscription) = billing::get_subscription_item(&state.db, &caller, &id).await?;
    Ok(Json(item.object(&subscription)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemRetrieveParams {
    /// Nothing of a subscription item expands in kassa; any path is refused.
    #[serde(default)]
    pub expand: Vec<String>,
}

/// A page of a short list held in memory (a subscription's items, an invoice's lines), by
/// Stripe's cursors over the objects' ids.
pub fn page_in_memory(items: Vec<Value>, page: &PageRequest) -> (Vec<Value>, bool) {
    let position = |id: &str| items.iter().position(|i| i["id"] == id);
    let limit = page.limit as usize;
    let (start, end) = match &page.start {
        PageStart::After(after) => (position(after).map_or(items.len(), |p| p + 1), items.len()),
        PageStart::Before(before) => {
            let end = position(before).unwrap_or(0);
            (end.saturating_sub(limit), end)
        }
        PageStart::Offset(skip) => ((*skip as usize).min(items.len()), items.len()),
    };
    let window = &items[start..end];
    (
        window.iter().take(limit).cloned().collect(),
        window.len() > limit,
    )
}
