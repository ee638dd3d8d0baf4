//! `/v1/products`.

use axum::extract::{Path, State};
use serde::Deserialize;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{CustomUnitAmountParams, RecurringParams, StripeList, price_terms};
use crate::domain::accounts::Caller;
use crate::domain::catalog::{self, PriceInput, ProductFilter, ProductInput};
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{ListQuery, Query, StripeBody};
use crate::http::params::{
    Created, ExpandParams, MetadataParam, NoParams, clearable, metadata_param, stripe_choice,
};
use crate::http::unsupported::{Off, Unset};
use crate::http::{AppState, JsonBytes};
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_product, list_products))
        .routes(routes!(retrieve_product, update_product, delete_product))
}

/// `default_price_data`: the default price made with a new product, in minor units.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultPriceData {
    pub currency: String,
    /// Minor units.
    pub unit_amount: Option<i64>,
    /// Minor units as a decimal string; must be whole.
    pub unit_amount_decimal: Option<String>,
    pub custom_unit_amount: Option<CustomUnitAmountParams>,
    pub recurring: Option<RecurringParams>,
    /// `inclusive`, `exclusive` or `unspecified`.
    pub tax_behavior: Option<String>,
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    /// Prices in other currencies.
    pub currency_options: Option<Off>,
}

impl DefaultPriceData {
    /// The price to create with the product.
    pub fn into_input(self) -> Result<PriceInput, ApiError> {
        let terms = price_terms(
            "default_price_data",
            &self.currency,
            self.unit_amount,
            self.unit_amount_decimal.as_deref(),
            self.custom_unit_amount.as_ref(),
            self.recurring.as_ref(),
        )?;
        let mut input = PriceInput::with_terms(terms);
        input.tax_behavior = self.tax_behavior;
        input.metadata = self
            .metadata
            .map(MetadataParam::into_new)
            .unwrap_or_default();
        Ok(input)
    }
}

/// Parameters of `POST /v1/products` and `POST /v1/products/{id}`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductParams {
    pub name: Option<String>,
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub images: Option<Vec<String>>,
    /// Keys to set (`metadata[k]=` removes one; `metadata=` removes every key).
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    pub shippable: Option<bool>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub statement_descriptor: Option<Option<String>>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub tax_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub unit_label: Option<Option<String>>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub url: Option<Option<String>>,
    /// `good` or `service` (create only).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Create only: a default price made with the product.
    pub default_price_data: Option<DefaultPriceData>,
    /// Update only: an existing price of the product to make the default.
    pub default_price: Option<String>,
    /// Fields to expand in the answer (`default_price`).
    #[serde(default)]
    pub expand: Vec<String>,
    /// Stripe's own product ids: kassa makes its ids.
    pub id: Option<Unset>,
    pub marketing_features: Option<Off>,
    pub package_dimensions: Option<Off>,
    pub tax_details: Option<Off>,
}

impl ProductParams {
    fn input(&mut self) -> ProductInput {
        ProductInput {
            name: self.name.take(),
            description: self.description.take(),
            status: None,
            active: self.active,
            images: self.images.take(),
            thumbnail_url: None,
            statement_descriptor: self.statement_descriptor.take(),
            tax_code: self.tax_code.take(),
            unit_label: self.unit_label.take(),
            url: self.url.take(),
            shippable: self.shippable.map(Some),
            kind: self.kind.take(),
            metadata: self.metadata.take().map(MetadataParam::merge),
        }
    }
}

/// Creates a product.
#[utoipa::path(post, path = "/v1/products", tag = "Stripe", security(("secret_key" = [])),
    request_body(content = ProductParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The product object.", body = objects::Product), (status = 400, description = "A parameter is invalid.")))]
pub async fn create_product(
    State(state): State<AppState>,
    caller: Caller,
    StripeBody(mut params): StripeBody<ProductParams>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(std::mem::take(&mut params.expand), "product")?;
    if params.name.is_none() {
        return Err(ApiError::missing_param("name"));
    }
    if params.default_price.is_some() {
        return Err(ApiError::invalid_param(
            "default_price",
            "Invalid default_price: set it when updating a product; on create use default_price_data.",
        ));
    }
    let price = params
        .default_price_data
        .take()
        .map(DefaultPriceData::into_input)
        .transpose()?;
    let product =
        catalog::create_product(&state.db, &caller, params.input(), price, state.clock.now())
            .await?;
    JsonBytes::of(&expand::product(&state, &caller, &product, &expand).await?)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProductListFilter {
    pub active: Option<bool>,
    pub shippable: Option<bool>,
    pub url: Option<String>,
    /// Only these product ids.
    pub ids: Option<Vec<String>>,
    /// `good` or `service`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// `created=T` (unix seconds) or `created[gte]=T`, `[gt]`, `[lt]`, `[lte]`.
    #[param(value_type = Option<Object>)]
    pub created: Option<Created>,
}

/// Lists products, newest first.
#[utoipa::path(get, path = "/v1/products", tag = "Stripe", security(("secret_key" = [])),
    params(ProductListFilter, StripeList), responses((status = 200, description = "A list of products.", body = objects::ProductList)))]
pub async fn list_products(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(filter, mut list): ListQuery<ProductListFilter, StripeList>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(std::mem::take(&mut list.expand), "product")?;
    let kind = filter
        .kind
        .map(|kind| stripe_choice("type", kind, &["good", "service"], &["good", "service"]))
        .transpose()?;
    let filter = ProductFilter {
        active: filter.active,
        shippable: filter.shippable,
        url: filter.url,
        ids: filter.ids,
        kind,
        created: filter.created.unwrap_or_default().0,
        ..Default::default()
    };
    let page = catalog::list_products(&state.db, &caller, &filter, &list.page()?).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for product in &page.items {
        data.push(expand::product(&state, &caller, product, &expand).await?);
    }
    JsonBytes::of(&objects::List::new(data, page.has_more, "/v1/products"))
}

/// Retrieves a product.
#[utoipa::path(get, path = "/v1/products/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), ExpandParams),
    responses((status = 200, description = "The product object.", body = objects::Product), (status = 404, description = "No such product.")))]
pub async fn retrieve_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<ExpandParams>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(params.expand, "product")?;
    let product = catalog::get_product(&state.db, &caller, &id).await?;
    JsonBytes::of(&expand::product(&state, &caller, &product, &expand).await?)
}

/// Updates a product; an empty value clears a field, and `metadata[key]=` removes a key.
#[utoipa::path(post, path = "/v1/products/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = ProductParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The product object.", body = objects::Product), (status = 404, description = "No such product.")))]
pub async fn update_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(mut params): StripeBody<ProductParams>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(std::mem::take(&mut params.expand), "product")?;
    if params.default_price_data.is_some() {
        return Err(ApiError::invalid_param(
            "default_price_data",
            "Invalid default_price_data: it applies when creating a product; create a price and pass default_price.",
        ));
    }
    if params.kind.is_some() {
        return Err(ApiError::invalid_param(
            "type",
            "Invalid type: a product's type cannot change.",
        ));
    }
    let default_price = params.default_price.take();
    let product = catalog::update_product(
        &state.db,
        &caller,
        &id,
        params.input(),
        None,
        default_price,
        state.clock.now(),
    )
    .await?;
    JsonBytes::of(&expand::product(&state, &caller, &product, &expand).await?)
}

/// Deletes a product that has no prices; a product with prices can only be archived.
#[utoipa::path(delete, path = "/v1/products/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "`{id, object: \"product\", deleted: true}`", body = objects::Deleted), (status = 404, description = "No such product.")))]
pub async fn delete_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(NoParams {}): Query<NoParams>,
) -> Result<JsonBytes, ApiError> {
    catalog::delete_product(&state.db, &caller, &id, state.clock.now()).await?;
    JsonBytes::of(&objects::Deleted::new(&id, "product"))
}
