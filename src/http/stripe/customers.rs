//! `/v1/customers`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::StripeList;
use crate::domain::accounts::Caller;
use crate::domain::customers::{self, Address, CustomerInput};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{Query, StripeBody};
use crate::http::params::clearable;
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
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub expand: Vec<String>,
    // Accepted so that Stripe clients can send them; kassa does not act on them.
    #[schema(ignore)]
    pub shipping: Option<IgnoredAny>,
    #[schema(ignore)]
    pub preferred_locales: Option<IgnoredAny>,
    #[schema(ignore)]
    pub tax_exempt: Option<IgnoredAny>,
    #[schema(ignore)]
    pub invoice_settings: Option<IgnoredAny>,
    #[schema(ignore)]
    pub payment_method: Option<IgnoredAny>,
}

impl CustomerParams {
    fn input(self) -> CustomerInput {
        CustomerInput {
            email: self.email,
            name: self.name,
            description: self.description,
            phone: self.phone,
            address: self.address,
            metadata: self.metadata,
        }
    }
}

/// Creates a customer.
#[utoipa::path(post, path = "/v1/customers", tag = "Stripe", security(("secret_key" = [])),
    request_body(content = CustomerParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The customer object."), (status = 400, description = "A parameter is invalid.")))]
pub async fn create_customer(
    State(state): State<AppState>,
    caller: Caller,
    StripeBody(params): StripeBody<CustomerParams>,
) -> Result<Json<Value>, ApiError> {
    let customer =
        customers::create_customer(&state.db, &caller, params.input(), state.clock.now()).await?;
    Ok(Json(customer.object()))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerListFilter {
    /// Only customers with exactly this email (case-sensitive, as in Stripe).
    pub email: Option<String>,
}

/// Lists customers, newest first; deleted customers are left out.
#[utoipa::path(get, path = "/v1/customers", tag = "Stripe", security(("secret_key" = [])),
    params(CustomerListFilter, StripeList), responses((status = 200, description = "A list of customers.")))]
pub async fn list_customers(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<CustomerListFilter>,
    Query(list): Query<StripeList>,
) -> Result<Json<Value>, ApiError> {
    let created = list.created.clone().unwrap_or_default().0;
    let page = customers::list_customers(
        &state.db,
        &caller,
        filter.email.as_deref().filter(|e| !e.is_empty()),
        &created,
        &list.page()?,
    )
    .await?;
    let data = page.items.iter().map(|c| c.object()).collect();
    Ok(Json(objects::list(data, page.has_more, "/v1/customers")))
}

/// Retrieves a customer; a deleted one answers `{id, object: "customer", deleted: true}`.
#[utoipa::path(get, path = "/v1/customers/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The customer object."), (status = 404, description = "No such customer.")))]
pub async fn retrieve_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
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
    responses((status = 200, description = "The customer object."), (status = 404, description = "No such customer.")))]
pub async fn update_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<CustomerParams>,
) -> Result<Json<Value>, ApiError> {
    let customer =
        customers::update_customer(&state.db, &caller, &id, params.input(), state.clock.now())
            .await?;
    Ok(Json(customer.object()))
}

/// Deletes a customer. Sessions and payments that point to it keep its id.
#[utoipa::path(delete, path = "/v1/customers/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "`{id, object: \"customer\", deleted: true}`"), (status = 404, description = "No such customer.")))]
pub async fn delete_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let customer = customers::delete_customer(&state.db, &caller, &id, state.clock.now()).await?;
    Ok(Json(customer.object()))
}
