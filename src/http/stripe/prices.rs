//! `/v1/prices`.

use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{CustomUnitAmountParams, RecurringParams, StripeList, price_terms};
use crate::domain::accounts::Caller;
use crate::domain::catalog::{
    self, Interval, PriceFilter, PriceInput, PriceProduct, PriceUpdate, ProductInput,
};
use crate::domain::money::Currency;
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{ListQuery, Query, StripeBody};
use crate::http::params::{
    Created, ExpandParams, MetadataParam, clearable, metadata_param, stripe_choice,
};
use crate::http::unsupported::{Off, Unset};
use crate::http::{AppState, JsonBytes};
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_price, list_prices))
        .routes(routes!(retrieve_price, update_price))
}

/// `product_data`: a product made with the price.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductData {
    pub name: String,
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    pub statement_descriptor: Option<String>,
    pub tax_code: Option<String>,
    pub unit_label: Option<String>,
    /// Stripe's own product ids: kassa makes its ids.
    pub id: Option<Unset>,
    pub tax_details: Option<Off>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePriceParams {
    pub currency: String,
    /// An existing product (`prod_...`), or `product_data` for a new one.
    pub product: Option<String>,
    pub product_data: Option<ProductData>,
    /// Minor units.
    pub unit_amount: Option<i64>,
    /// Minor units as a decimal string; must be whole.
    pub unit_amount_decimal: Option<String>,
    pub custom_unit_amount: Option<CustomUnitAmountParams>,
    pub recurring: Option<RecurringParams>,
    pub active: Option<bool>,
    pub lookup_key: Option<String>,
    pub transfer_lookup_key: Option<bool>,
    pub nickname: Option<String>,
    /// `inclusive`, `exclusive` or `unspecified`.
    pub tax_behavior: Option<String>,
    /// Only `per_unit`: kassa has no tiered prices.
    pub billing_scheme: Option<String>,
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    /// Fields to expand in the answer (`product`).
    #[serde(default)]
    pub expand: Vec<String>,
    pub currency_options: Option<Off>,
    pub tiers: Option<Off>,
    pub tiers_mode: Option<Unset>,
    pub transform_quantity: Option<Off>,
}

/// Creates a price for a product.
#[utoipa::path(post, path = "/v1/prices", tag = "Stripe", security(("secret_key" = [])),
    request_body(content = CreatePriceParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The price object.", body = objects::Price), (status = 400, description = "A parameter is invalid.")))]
pub async fn create_price(
    State(state): State<AppState>,
    caller: Caller,
    StripeBody(params): StripeBody<CreatePriceParams>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(params.expand, "price")?;
    if let Some(scheme) = params.billing_scheme {
        stripe_choice(
            "billing_scheme",
            scheme,
            &["per_unit", "tiered"],
            &["per_unit"],
        )?;
    }
    let product = match (params.product, params.product_data) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_param(
                "product_data",
                "Invalid product_data: give product or product_data, not both.",
            ));
        }
        (Some(id), None) => PriceProduct::Existing(id),
        (None, Some(data)) => PriceProduct::New(Box::new(ProductInput {
            name: Some(data.name),
            active: data.active,
            metadata: data.metadata.map(MetadataParam::merge),
            statement_descriptor: data.statement_descriptor.map(Some),
            tax_code: data.tax_code.map(Some),
            unit_label: data.unit_label.map(Some),
            ..Default::default()
        })),
        (None, None) => return Err(ApiError::missing_param("product")),
    };
    let terms = price_terms(
        "",
        &params.currency,
        params.unit_amount,
        params.unit_amount_decimal.as_deref(),
        params.custom_unit_amount.as_ref(),
        params.recurring.as_ref(),
    )?;
    let input = PriceInput {
        terms,
        active: params.active,
        lookup_key: params.lookup_key,
        transfer_lookup_key: params.transfer_lookup_key.unwrap_or(false),
        nickname: params.nickname,
        tax_behavior: params.tax_behavior,
        metadata: params
            .metadata
            .map(MetadataParam::into_new)
            .unwrap_or_default(),
    };
    let price =
        catalog::create_price(&state.db, &caller, product, input, state.clock.now()).await?;
    JsonBytes::of(&expand::price(&state, &caller, &price, &expand).await?)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PriceListFilter {
    pub active: Option<bool>,
    pub currency: Option<String>,
    pub product: Option<String>,
    /// `one_time` or `recurring`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    pub lookup_keys: Option<Vec<String>>,
    /// `recurring[interval]=month`.
    #[param(value_type = Option<Object>)]
    pub recurring: Option<RecurringFilter>,
    /// `created=T` (unix seconds) or `created[gte]=T`, `[gt]`, `[lt]`, `[lte]`.
    #[param(value_type = Option<Object>)]
    pub created: Option<Created>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurringFilter {
    pub interval: Option<String>,
    pub meter: Option<Unset>,
    pub usage_type: Option<Unset>,
}

/// Lists prices, newest first.
#[utoipa::path(get, path = "/v1/prices", tag = "Stripe", security(("secret_key" = [])),
    params(PriceListFilter, StripeList), responses((status = 200, description = "A list of prices.", body = objects::PriceList)))]
pub async fn list_prices(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(filter, mut list): ListQuery<PriceListFilter, StripeList>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(std::mem::take(&mut list.expand), "price")?;
    let recurring = match filter.kind.as_deref() {
        None => None,
        Some("recurring") => Some(true),
        Some("one_time") => Some(false),
        Some(other) => {
            return Err(ApiError::invalid_param(
                "type",
                format!("Invalid type: '{other}' is not one of one_time, recurring."),
            ));
        }
    };
    let filter = PriceFilter {
        active: filter.active,
        currency: filter
            .currency
            .map(|c| Currency::parse(&c, "currency"))
            .transpose()?,
        product: filter.product,
        recurring,
        interval: filter
            .recurring
            .and_then(|r| r.interval)
            .map(|i| Interval::parse(&i, "recurring[interval]"))
            .transpose()?,
        lookup_keys: filter.lookup_keys,
        created: filter.created.unwrap_or_default().0,
    };
    let page = catalog::list_prices(&state.db, &caller, &filter, &list.page()?).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for price in &page.items {
        data.push(expand::price(&state, &caller, price, &expand).await?);
    }
    JsonBytes::of(&objects::List::new(data, page.has_more, "/v1/prices"))
}

/// Retrieves a price.
#[utoipa::path(get, path = "/v1/prices/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), ExpandParams),
    responses((status = 200, description = "The price object.", body = objects::Price), (status = 404, description = "No such price.")))]
pub async fn retrieve_price(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<ExpandParams>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(params.expand, "price")?;
    let price = catalog::get_price(&state.db, &caller, &id).await?;
    JsonBytes::of(&expand::price(&state, &caller, &price, &expand).await?)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePriceParams {
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub lookup_key: Option<Option<String>>,
    pub transfer_lookup_key: Option<bool>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub nickname: Option<Option<String>>,
    pub tax_behavior: Option<String>,
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    /// Fields to expand in the answer (`product`).
    #[serde(default)]
    pub expand: Vec<String>,
    pub currency_options: Option<Off>,
}

/// Updates a price's `active`, `lookup_key`, `nickname`, `tax_behavior` or `metadata`; what it
/// charges never changes.
#[utoipa::path(post, path = "/v1/prices/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = UpdatePriceParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The price object.", body = objects::Price), (status = 404, description = "No such price.")))]
pub async fn update_price(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<UpdatePriceParams>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(params.expand, "price")?;
    let update = PriceUpdate {
        active: params.active,
        lookup_key: params.lookup_key,
        transfer_lookup_key: params.transfer_lookup_key.unwrap_or(false),
        nickname: params.nickname,
        tax_behavior: params.tax_behavior,
        metadata: params.metadata.map(MetadataParam::merge),
    };
    let price = catalog::update_price(&state.db, &caller, &id, update, state.clock.now()).await?;
    JsonBytes::of(&expand::price(&state, &caller, &price, &expand).await?)
}
