//! `/v1/customers`.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::StripeList;
use crate::domain::accounts::Caller;
use crate::domain::customers::{self, Address, CustomerInput};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{ListQuery, Query, StripeBody};
use crate::http::params::{
    Created, ExpandParams, MetadataParam, NoParams, clearable, metadata_param,
};
use crate::http::unsupported::{Off, OnlyNone, OnlyZero, Unset};
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_customer, list_customers))
        .routes(routes!(retrieve_customer, update_customer, delete_customer))
}

/// An address hash, or `""` to clear it.
fn clearable_address<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<Address>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Sent {
        Cleared(Option<String>),
        Address(Address),
    }
    Ok(Some(match Sent::deserialize(deserializer)? {
        Sent::Cleared(None) => None,
        Sent::Cleared(Some(text)) if text.is_empty() => None,
        Sent::Cleared(Some(_)) => {
            return Err(serde::de::Error::custom(
                "must be a hash of line1, line2, city, state, postal_code, country",
            ));
        }
        Sent::Address(address) => Some(address),
    }))
}

/// Parameters of `POST /v1/customers` and `POST /v1/customers/{id}`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerParams {
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "clearable_address")]
    #[schema(value_type = Option<Address>)]
    pub address: Option<Option<Address>>,
    /// Keys to set (`metadata[k]=` removes one; `metadata=` removes every key).
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    /// Fields to expand in the answer (a customer has none kassa can expand).
    #[serde(default)]
    pub expand: Vec<String>,
    pub balance: Option<OnlyZero>,
    pub business_name: Option<Unset>,
    pub cash_balance: Option<Off>,
    /// Update only, as on Stripe.
    pub default_source: Option<Unset>,
    pub individual_name: Option<Unset>,
    pub invoice_prefix: Option<Unset>,
    /// Only `default_payment_method`: a `pm_…` attached to the customer, or empty to clear it.
    pub invoice_settings: Option<InvoiceSettingsParams>,
    pub next_invoice_sequence: Option<Unset>,
    pub payment_method: Option<Unset>,
    /// kassa sends customers no emails, in any language.
    pub preferred_locales: Option<Off>,
    pub shipping: Option<Off>,
    pub source: Option<Unset>,
    pub tax: Option<Off>,
    pub tax_exempt: Option<OnlyNone>,
    pub tax_id_data: Option<Off>,
    /// Create only: the test clock (`clock_…`, test mode) the customer lives on; its
    /// subscriptions and invoices follow that clock's time.
    pub test_clock: Option<String>,
    pub validate: Option<Off>,
}

/// `invoice_settings` of a customer.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceSettingsParams {
    /// The `pm_…` the customer's invoices are charged to; it must be attached to the customer.
    /// Empty clears it.
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub default_payment_method: Option<Option<String>>,
    pub custom_fields: Option<Off>,
    pub footer: Option<Unset>,
    pub rendering_options: Option<Off>,
}

impl CustomerParams {
    fn input(self) -> CustomerInput {
        CustomerInput {
            email: self.email,
            name: self.name,
            description: self.description,
            phone: self.phone,
            address: self.address,
            metadata: self.metadata.map(MetadataParam::merge),
            test_clock: self.test_clock,
            default_payment_method: self
                .invoice_settings
                .and_then(|settings| settings.default_payment_method),
        }
    }
}

/// Creates a customer.
#[utoipa::path(post, path = "/v1/customers", tag = "Stripe", security(("secret_key" = [])),
    request_body(content = CustomerParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The customer object.", body = objects::Customer), (status = 400, description = "A parameter is invalid.")))]
pub async fn create_customer(
    State(state): State<AppState>,
    caller: Caller,
    StripeBody(mut params): StripeBody<CustomerParams>,
) -> Result<Json<Value>, ApiError> {
    expand::check(std::mem::take(&mut params.expand), "customer")?;
    if params.default_source.is_some() {
        return Err(ApiError::unknown_param("default_source", None));
    }
    let customer =
        customers::create_customer(&state.db, &caller, params.input(), state.clock.now()).await?;
    Ok(Json(customer.object()))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CustomerListFilter {
    /// Only customers with exactly this email (case-sensitive, as in Stripe).
    pub email: Option<String>,
    /// Only the customers on this test clock; without it, those on a clock are left out.
    pub test_clock: Option<String>,
    /// `created=T` (unix seconds) or `created[gte]=T`, `[gt]`, `[lt]`, `[lte]`.
    #[param(value_type = Option<Object>)]
    pub created: Option<Created>,
}

/// Lists customers, newest first; deleted customers are left out, and so are those on a test
/// clock unless `test_clock` is given.
#[utoipa::path(get, path = "/v1/customers", tag = "Stripe", security(("secret_key" = [])),
    params(CustomerListFilter, StripeList), responses((status = 200, description = "A list of customers.", body = objects::CustomerList)))]
pub async fn list_customers(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(filter, mut list): ListQuery<CustomerListFilter, StripeList>,
) -> Result<Json<objects::List<'static, Value>>, ApiError> {
    expand::check_list(std::mem::take(&mut list.expand), "customer")?;
    let created = filter.created.unwrap_or_default().0;
    let page = customers::list_customers(
        &state.db,
        &caller,
        filter.email.as_deref().filter(|e| !e.is_empty()),
        filter.test_clock.as_deref(),
        &created,
        &list.page()?,
    )
    .await?;
    let data = page.items.iter().map(|c| c.object()).collect();
    Ok(Json(objects::List::new(
        data,
        page.has_more,
        "/v1/customers",
    )))
}

/// Retrieves a customer; a deleted one answers `{id, object: "customer", deleted: true}`.
#[utoipa::path(get, path = "/v1/customers/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), ExpandParams),
    responses((status = 200, description = "The customer object.", body = objects::CustomerOrDeleted), (status = 404, description = "No such customer.")))]
pub async fn retrieve_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<ExpandParams>,
) -> Result<Json<Value>, ApiError> {
    expand::check(params.expand, "customer")?;
    Ok(Json(
        customers::get_customer(&state.db, &caller, &id)
            .await?
            .object(),
    ))
}

/// Updates a customer; an empty value clears a field, and `metadata[key]=` removes a key.
#[utoipa::path(post, path = "/v1/customers/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = CustomerParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The customer object.", body = objects::Customer), (status = 404, description = "No such customer.")))]
pub async fn update_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(mut params): StripeBody<CustomerParams>,
) -> Result<Json<Value>, ApiError> {
    expand::check(std::mem::take(&mut params.expand), "customer")?;
    if params.test_clock.is_some() {
        return Err(ApiError::unknown_param("test_clock", None));
    }
    let customer =
        customers::update_customer(&state.db, &caller, &id, params.input(), state.clock.now())
            .await?;
    Ok(Json(customer.object()))
}

/// Deletes a customer, canceling its subscriptions that have not ended
/// (`customer.subscription.deleted`) as Stripe does. Sessions and payments that point to it keep
/// its id.
#[utoipa::path(delete, path = "/v1/customers/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "`{id, object: \"customer\", deleted: true}`", body = objects::Deleted), (status = 404, description = "No such customer.")))]
pub async fn delete_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(NoParams {}): Query<NoParams>,
) -> Result<Json<Value>, ApiError> {
    let customer = customers::delete_customer(&state.db, &caller, &id, state.clock.now()).await?;
    Ok(Json(customer.object()))
}
