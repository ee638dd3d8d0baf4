//! `/v1/payment_methods` and `/v1/customers/{id}/payment_methods`: the cards customers entered
//! (every card used at checkout is one), attached to customers to be charged later
//! (decisions §11). kassa makes PaymentMethods only from cards entered on its own payment page,
//! and from Stripe's test ids (`pm_card_visa`...) attached in test mode; there is no create.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::StripeList;
use crate::domain::accounts::Caller;
use crate::domain::payment_methods::{
    self, AllowRedisplay, PaymentMethod, PaymentMethodFilter, PaymentMethodUpdate,
};
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{ListQuery, Query, StripeBody};
use crate::http::params::{ExpandParams, MetadataParam, clearable, metadata_param};
use crate::http::unsupported::{Off, Unset};
use crate::http::{AppState, JsonBytes};
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_payment_methods))
        .routes(routes!(retrieve_payment_method, update_payment_method))
        .routes(routes!(attach_payment_method))
        .routes(routes!(detach_payment_method))
        .routes(routes!(list_customer_payment_methods))
}

/// Stripe's `allow_redisplay`: whether a saved method may be offered to its customer again.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AllowRedisplayParam {
    Always,
    Limited,
    Unspecified,
}

impl From<AllowRedisplayParam> for AllowRedisplay {
    fn from(r: AllowRedisplayParam) -> Self {
        match r {
            AllowRedisplayParam::Always => AllowRedisplay::Always,
            AllowRedisplayParam::Limited => AllowRedisplay::Limited,
            AllowRedisplayParam::Unspecified => AllowRedisplay::Unspecified,
        }
    }
}

/// A PaymentMethod, with its `customer` expanded as asked.
async fn render(
    state: &AppState,
    caller: &Caller,
    method: &PaymentMethod,
    expand: &expand::Expand,
) -> Result<Value, ApiError> {
    expand::payment_method(state, caller, method.object(), expand).await
}

/// `GET /v1/payment_methods` filters, as Stripe's.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodListParams {
    /// Only this customer's methods (`cus_…`); without it, every method of the account.
    pub customer: Option<String>,
    /// `card` (every kassa PaymentMethod is one), or another of Stripe's types, of which
    /// there are none.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// Lists PaymentMethods, newest first.
#[utoipa::path(get, path = "/v1/payment_methods", tag = "Stripe", security(("secret_key" = [])),
    params(PaymentMethodListParams, StripeList),
    responses((status = 200, description = "A list of PaymentMethods.", body = objects::PaymentMethodList),
        (status = 400, description = "A `customer` that does not exist, or an unknown `type`.")))]
pub async fn list_payment_methods(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(params, mut list): ListQuery<PaymentMethodListParams, StripeList>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(std::mem::take(&mut list.expand), "payment_method")?;
    let filter = PaymentMethodFilter {
        customer: params.customer.filter(|c| !c.is_empty()),
        kind: params.kind,
        allow_redisplay: None,
    };
    let page =
        payment_methods::list(&state.db, &caller, &filter, "customer", &list.page()?).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for method in &page.items {
        data.push(render(&state, &caller, method, &expand).await?);
    }
    JsonBytes::of(&objects::List::new(
        data,
        page.has_more,
        "/v1/payment_methods",
    ))
}

/// `GET /v1/customers/{id}/payment_methods` filters, as Stripe's.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CustomerPaymentMethodParams {
    /// `card` (every kassa PaymentMethod is one), or another of Stripe's types, of which
    /// there are none.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Only the methods with this `allow_redisplay`.
    pub allow_redisplay: Option<AllowRedisplayParam>,
}

/// Lists the PaymentMethods attached to a customer, newest first.
#[utoipa::path(get, path = "/v1/customers/{id}/payment_methods", tag = "Stripe",
    security(("secret_key" = [])),
    params(("id" = String, Path), CustomerPaymentMethodParams, StripeList),
    responses((status = 200, description = "The customer's PaymentMethods.", body = objects::PaymentMethodList),
        (status = 404, description = "No such customer.")))]
pub async fn list_customer_payment_methods(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ListQuery(params, mut list): ListQuery<CustomerPaymentMethodParams, StripeList>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(std::mem::take(&mut list.expand), "payment_method")?;
    let filter = PaymentMethodFilter {
        customer: Some(id.clone()),
        kind: params.kind,
        allow_redisplay: params.allow_redisplay.map(Into::into),
    };
    let page = payment_methods::list(&state.db, &caller, &filter, "id", &list.page()?).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for method in &page.items {
        data.push(render(&state, &caller, method, &expand).await?);
    }
    JsonBytes::of(&objects::List::new(
        data,
        page.has_more,
        format!("/v1/customers/{id}/payment_methods"),
    ))
}

/// Retrieves a PaymentMethod.
#[utoipa::path(get, path = "/v1/payment_methods/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), ExpandParams),
    responses((status = 200, description = "The PaymentMethod.", body = objects::PaymentMethod),
        (status = 404, description = "No such PaymentMethod.")))]
pub async fn retrieve_payment_method(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<ExpandParams>,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(params.expand, "payment_method")?;
    let method = payment_methods::get_payment_method(&state.db, &caller, &id).await?;
    Ok(Json(render(&state, &caller, &method, &expand).await?))
}

/// `billing_details` of an update: the email and name kassa keeps; the rest refused when set.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingDetailsParams {
    /// An empty value clears it.
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// An empty value clears it.
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    pub address: Option<Off>,
    pub phone: Option<Off>,
    pub tax_id: Option<Off>,
}

/// `card` of an update: its expiry.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardParams {
    /// 1 to 12.
    pub exp_month: Option<i64>,
    /// Four digits; with the month, not in the past.
    pub exp_year: Option<i64>,
    /// Co-branded cards' preferred network: kassa's cards have one network each.
    pub networks: Option<Off>,
}

/// Parameters of `POST /v1/payment_methods/{id}`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodParams {
    pub allow_redisplay: Option<AllowRedisplayParam>,
    pub billing_details: Option<BillingDetailsParams>,
    pub card: Option<CardParams>,
    /// Keys to set (`metadata[k]=` removes one; `metadata=` removes every key).
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    /// Fields to expand in the answer (`customer`).
    #[serde(default)]
    pub expand: Vec<String>,
    pub link: Option<Off>,
    pub pay_by_bank: Option<Off>,
    pub payto: Option<Off>,
    pub us_bank_account: Option<Off>,
}

/// Updates a PaymentMethod attached to a customer: its billing email and name, expiry,
/// `allow_redisplay` and metadata (`payment_method.updated`).
#[utoipa::path(post, path = "/v1/payment_methods/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = PaymentMethodParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The PaymentMethod.", body = objects::PaymentMethod),
        (status = 400, description = "A parameter is invalid, or the method is not attached to a customer."),
        (status = 404, description = "No such PaymentMethod.")))]
pub async fn update_payment_method(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(mut params): StripeBody<PaymentMethodParams>,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(std::mem::take(&mut params.expand), "payment_method")?;
    let billing = params.billing_details.unwrap_or_default();
    let card = params.card.unwrap_or_default();
    let update = PaymentMethodUpdate {
        billing_email: billing.email,
        billing_name: billing.name,
        exp_month: card.exp_month,
        exp_year: card.exp_year,
        allow_redisplay: params.allow_redisplay.map(Into::into),
        metadata: params.metadata.map(MetadataParam::merge),
    };
    let method =
        payment_methods::update(&state.db, &caller, &id, update, state.clock.now()).await?;
    Ok(Json(render(&state, &caller, &method, &expand).await?))
}

/// Parameters of `POST /v1/payment_methods/{id}/attach`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachParams {
    /// The customer to attach it to (`cus_…`). Required.
    pub customer: Option<String>,
    /// Accounts v2 customers: kassa has none, so it is refused when given.
    pub customer_account: Option<Unset>,
    /// Fields to expand in the answer (`customer`).
    #[serde(default)]
    pub expand: Vec<String>,
}

/// Attaches a PaymentMethod to a customer, to be charged later (`payment_method.attached`). In
/// test mode Stripe's test ids (`pm_card_visa`, `pm_card_mastercard`, `pm_card_amex`,
/// `pm_card_chargeDeclined`, `pm_card_chargeDeclinedInsufficientFunds`,
/// `pm_card_chargeCustomerFail`) each make a new PaymentMethod of that test card, attached; the
/// declining ones decline every later charge.
#[utoipa::path(post, path = "/v1/payment_methods/{id}/attach", tag = "Stripe",
    security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = AttachParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The PaymentMethod, attached.", body = objects::PaymentMethod),
        (status = 400, description = "No such customer, or the method is attached already, was used for a payment or was detached."),
        (status = 404, description = "No such PaymentMethod.")))]
pub async fn attach_payment_method(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(mut params): StripeBody<AttachParams>,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(std::mem::take(&mut params.expand), "payment_method")?;
    let customer = params
        .customer
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::missing_param("customer"))?;
    let method =
        payment_methods::attach(&state.db, &caller, &id, &customer, state.clock.now()).await?;
    Ok(Json(render(&state, &caller, &method, &expand).await?))
}

/// Detaches a PaymentMethod from its customer (`payment_method.detached`); it can then never
/// be used or attached again.
#[utoipa::path(post, path = "/v1/payment_methods/{id}/detach", tag = "Stripe",
    security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = ExpandParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The PaymentMethod, detached.", body = objects::PaymentMethod),
        (status = 400, description = "The method is not attached to a customer."),
        (status = 404, description = "No such PaymentMethod.")))]
pub async fn detach_payment_method(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<ExpandParams>,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(params.expand, "payment_method")?;
    let method = payment_methods::detach(&state.db, &caller, &id, state.clock.now()).await?;
    Ok(Json(render(&state, &caller, &method, &expand).await?))
}
