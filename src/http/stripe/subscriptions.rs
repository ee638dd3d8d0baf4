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
use crate::domain::billing::changes::{CancellationInput, SubscriptionChange};
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{ListQuery, Query, StripeBody};
use crate::http::params::{Created, MetadataParam, clearable, metadata_param};
use crate::http::unsupported::{Off, OnlyNone, Unset};
use crate::http::{AppState, JsonBytes};
use crate::objects;
use crate::store::billing::SubscriptionFilter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_subscriptions))
        .routes(routes!(
            retrieve_subscription,
            update_subscription,
            cancel_subscription
        ))
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
    responses((status = 200, description = "A list of subscriptions.", body = objects::SubscriptionList),
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
    responses((status = 200, description = "The subscription.", body = objects::Subscription), (status = 404, description = "No such subscription.")))]
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

/// `cancellation_details`, as Stripe's.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancellationDetails {
    /// Free text; an empty value clears it.
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub comment: Option<Option<String>>,
    /// One of `customer_service`, `low_quality`, `missing_features`, `other`,
    /// `switched_service`, `too_complex`, `too_expensive`, `unused`; an empty value clears it.
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub feedback: Option<Option<String>>,
}

impl CancellationDetails {
    fn input(self) -> CancellationInput {
        CancellationInput {
            comment: self.comment,
            feedback: self.feedback,
        }
    }
}

/// Parameters of `POST /v1/subscriptions/{id}`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionUpdateParams {
    /// Keys to set (`metadata[k]=` removes one; `metadata=` removes every key).
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    /// An empty value clears it.
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Cancel when the current period ends (`false` undoes it until then).
    pub cancel_at_period_end: Option<bool>,
    /// Cancel at this time (unix seconds, in the future); an empty value undoes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub cancel_at: Option<Value>,
    pub cancellation_details: Option<CancellationDetails>,
    /// Fields to expand in the answer (`customer`, `latest_invoice`).
    #[serde(default)]
    pub expand: Vec<String>,
    /// Changing prices or quantities needs proration, which kassa does not do.
    #[schema(value_type = Option<Object>)]
    pub items: Option<Off>,
    pub proration_behavior: Option<OnlyNone>,
    /// A `pm_…` attached to the subscription's customer: what renewals and retries charge.
    pub default_payment_method: Option<String>,
    pub default_source: Option<Unset>,
    pub default_tax_rates: Option<Off>,
    pub discounts: Option<Off>,
    pub automatic_tax: Option<Off>,
    pub billing_cycle_anchor: Option<Unset>,
    pub billing_thresholds: Option<Off>,
    pub collection_method: Option<Unset>,
    pub days_until_due: Option<Unset>,
    pub invoice_settings: Option<Off>,
    pub off_session: Option<Off>,
    pub on_behalf_of: Option<Unset>,
    pub pause_collection: Option<Off>,
    pub payment_behavior: Option<Unset>,
    pub payment_settings: Option<Off>,
    pub pending_invoice_item_interval: Option<Off>,
    pub proration_date: Option<Unset>,
    pub transfer_data: Option<Off>,
    pub trial_end: Option<Unset>,
    pub trial_from_plan: Option<Off>,
    pub trial_settings: Option<Off>,
    pub add_invoice_items: Option<Off>,
}

/// A value as sent, `null` (an empty form value) included: `Some(Value::Null)`, not `None`.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// `cancel_at`: unix seconds, or empty to clear.
fn cancel_at(value: Option<Value>) -> Result<Option<Option<i64>>, ApiError> {
    let refused =
        || ApiError::invalid_param("cancel_at", "must be a unix timestamp in seconds, or empty");
    Ok(match value {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(text)) if text.is_empty() => Some(None),
        Some(Value::String(text)) => Some(Some(text.parse().map_err(|_| refused())?)),
        Some(Value::Number(n)) => Some(Some(n.as_i64().ok_or_else(refused)?)),
        Some(_) => return Err(refused()),
    })
}

/// Updates a subscription: metadata, description, and cancelling later (or no longer).
#[utoipa::path(post, path = "/v1/subscriptions/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = SubscriptionUpdateParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The subscription.", body = objects::Subscription), (status = 400, description = "A parameter is invalid."),
        (status = 404, description = "No such subscription.")))]
pub async fn update_subscription(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
    StripeBody(params): StripeBody<SubscriptionUpdateParams>,
) -> Result<Json<Value>, ApiError> {
    update(state, caller, id, params).await
}

/// The update of `POST /v1/subscriptions/{id}` and `POST /api/v3/subscriptions/{id}`.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    mut params: SubscriptionUpdateParams,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(std::mem::take(&mut params.expand), "subscription")?;
    let change = SubscriptionChange {
        metadata: params.metadata.map(MetadataParam::merge),
        description: params.description,
        cancel_at_period_end: params.cancel_at_period_end,
        cancel_at: cancel_at(params.cancel_at)?,
        cancellation_details: params.cancellation_details.map(CancellationDetails::input),
        default_payment_method: params.default_payment_method,
    };
    let subscription =
        billing::changes::update_subscription(&state.db, &caller, &id, change, state.clock.now())
            .await?;
    Ok(Json(
        expand::subscription(&state, &caller, subscription.object(), &expand).await?,
    ))
}

/// Parameters of `DELETE /v1/subscriptions/{id}`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CancelParams {
    #[param(value_type = Option<Object>)]
    pub cancellation_details: Option<CancellationDetails>,
    /// A final invoice for usage or prorations: kassa has neither.
    #[param(value_type = Option<bool>)]
    pub invoice_now: Option<Off>,
    /// A credit for the unused time: kassa does not prorate.
    #[param(value_type = Option<bool>)]
    pub prorate: Option<Off>,
    #[serde(default)]
    pub expand: Vec<String>,
}

/// Cancels a subscription now: it ends, bills nothing more, and `customer.subscription.deleted`
/// is sent.
#[utoipa::path(delete, path = "/v1/subscriptions/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), CancelParams),
    responses((status = 200, description = "The canceled subscription.", body = objects::Subscription), (status = 404, description = "No such subscription."),
        (status = 400, description = "The subscription has already ended.")))]
pub async fn cancel_subscription(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<CancelParams>,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(params.expand, "subscription")?;
    let details = params
        .cancellation_details
        .map(CancellationDetails::input)
        .unwrap_or_default();
    let subscription =
        billing::changes::cancel_subscription(&state.db, &caller, &id, details, state.clock.now())
            .await?;
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
    responses((status = 200, description = "A list of subscription items.", body = objects::SubscriptionItemList),
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
    let (data, has_more) = list
        .page()?
        .of_held(&items, |i| i["id"].as_str().unwrap_or_default());
    let data = data.to_vec();
    JsonBytes::of(&objects::List::new(
        data,
        has_more,
        "/v1/subscription_items",
    ))
}

/// Retrieves a subscription item.
#[utoipa::path(get, path = "/v1/subscription_items/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), ItemRetrieveParams),
    responses((status = 200, description = "The subscription item.", body = objects::SubscriptionItem), (status = 404, description = "No such subscription item.")))]
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
