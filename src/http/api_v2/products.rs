//! `/api/v2/products`: Loops V2 products, camelCase with ISO-8601 times.

use axum::extract::{Path, State};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::accounts::Caller;
use crate::domain::catalog::{self, AmountType, Product, ProductStatus};
use crate::domain::list::PageStart;
use crate::domain::metadata::Metadata;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, ListQuery, Query};
use crate::http::params::{LoopsProductBody, LoopsProductFilter, NoParams, Paging};
use crate::http::{AppState, JsonBytes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_product, list_products))
        .routes(routes!(retrieve_product, update_product))
}

/// Unix seconds as ISO-8601 (`2026-11-23T12:00:00Z`).
pub fn iso8601(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// The V2 product object, written straight from the product: amounts in major units as
/// decimal strings (`"19.99"`), the currency uppercase, times in ISO 8601.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoopsProduct<'a> {
    id: &'a str,
    name: &'a str,
    #[schema(required = true)]
    description: Option<&'a str>,
    #[schema(value_type = Option<AmountType>, required = true)]
    amount_type: Option<&'static str>,
    #[schema(required = true)]
    price_amount: Option<String>,
    #[schema(required = true)]
    minimum_amount: Option<String>,
    #[schema(required = true)]
    preset_amount: Option<String>,
    #[schema(required = true)]
    price_currency: Option<String>,
    #[schema(value_type = Option<crate::domain::catalog::Interval>, required = true)]
    recurring_interval: Option<&'static str>,
    #[schema(value_type = ProductStatus)]
    status: &'static str,
    #[schema(required = true)]
    thumbnail_url: Option<&'a str>,
    images: &'a [String],
    metadata: &'a Metadata,
    merchant_id: &'a str,
    livemode: bool,
    created_at: String,
    updated_at: String,
}

impl<'a> LoopsProduct<'a> {
    pub fn new(product: &'a Product, caller: &'a Caller) -> Self {
        let terms = product.default_price.as_ref().map(|p| &p.terms);
        let amounts = product.loops_amounts();
        LoopsProduct {
            id: &product.id,
            name: &product.name,
            description: product.description.as_deref(),
            amount_type: product.amount_type().map(AmountType::as_str),
            price_amount: amounts.price,
            minimum_amount: amounts.minimum,
            preset_amount: amounts.preset,
            price_currency: terms.map(|t| t.currency.upper()),
            recurring_interval: terms.and_then(|t| t.recurring).map(|r| r.interval.as_str()),
            status: product.status.as_str(),
            thumbnail_url: product.thumbnail_url.as_deref(),
            images: &product.images,
            metadata: &product.metadata,
            merchant_id: &caller.account_id,
            livemode: product.livemode,
            created_at: iso8601(product.created),
            updated_at: iso8601(product.updated),
        }
    }
}

/// The Loops list of products: `{products, total, limit, offset}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProductPage<'a> {
    products: Vec<LoopsProduct<'a>>,
    total: u64,
    limit: u32,
    offset: u64,
}

/// Creates a product.
#[utoipa::path(post, path = "/api/v2/products", tag = "Products", security(("secret_key" = [])),
    request_body = LoopsProductBody,
    responses((status = 200, description = "The V2 product object.", body = LoopsProduct), (status = 400, description = "A parameter is invalid.")))]
pub async fn create_product(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<LoopsProductBody>,
) -> Result<JsonBytes, ApiError> {
    refuse_expand(&body.expand)?;
    let (input, price) = body.into_new()?;
    let product =
        catalog::create_product(&state.db, &caller, input, price, state.clock.now()).await?;
    JsonBytes::of(&LoopsProduct::new(&product, &caller))
}

/// Lists products, newest first: `{products, total, limit, offset}`.
#[utoipa::path(get, path = "/api/v2/products", tag = "Products", security(("secret_key" = [])),
    params(LoopsProductFilter, Paging),
    responses((status = 200, description = "`{products, total, limit, offset}`", body = ProductPage),
        (status = 404, description = "The cursor names no product of the account.")))]
pub async fn list_products(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(filter, paging): ListQuery<LoopsProductFilter, Paging>,
) -> Result<JsonBytes, ApiError> {
    refuse_expand(&filter.expand)?;
    let filter = filter.filter()?;
    let page = paging.page(50)?;
    let offset = match page.start {
        PageStart::Offset(offset) => offset,
        _ => 0,
    };
    let (listed, total) = tokio::try_join!(
        catalog::list_products(&state.db, &caller, &filter, &page),
        catalog::count_products(&state.db, &caller, &filter),
    )?;
    let products = listed
        .items
        .iter()
        .map(|p| LoopsProduct::new(p, &caller))
        .collect();
    JsonBytes::of(&ProductPage {
        products,
        total,
        limit: page.limit,
        offset,
    })
}

/// Retrieves a product.
#[utoipa::path(get, path = "/api/v2/products/{id}", tag = "Products", security(("secret_key" = [])),
    params(("id" = String, Path, description = "`prod_...`")),
    responses((status = 200, description = "The V2 product object.", body = LoopsProduct), (status = 404, description = "Product not found.")))]
pub async fn retrieve_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(NoParams {}): Query<NoParams>,
) -> Result<JsonBytes, ApiError> {
    let product = catalog::get_product(&state.db, &caller, &id).await?;
    JsonBytes::of(&LoopsProduct::new(&product, &caller))
}

/// Updates a product; a changed amount creates a new default price.
#[utoipa::path(put, path = "/api/v2/products/{id}", tag = "Products", security(("secret_key" = [])),
    params(("id" = String, Path, description = "`prod_...`")), request_body = LoopsProductBody,
    responses((status = 200, description = "The V2 product object.", body = LoopsProduct), (status = 404, description = "Product not found.")))]
pub async fn update_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<LoopsProductBody>,
) -> Result<JsonBytes, ApiError> {
    refuse_expand(&body.expand)?;
    let (input, pricing) = body.into_update()?;
    let product = catalog::update_product(
        &state.db,
        &caller,
        &id,
        input,
        Some(pricing),
        None,
        state.clock.now(),
    )
    .await?;
    JsonBytes::of(&LoopsProduct::new(&product, &caller))
}

/// V2 products are Loops objects with nothing to expand: `expand` is not a V2 parameter.
fn refuse_expand(expand: &[String]) -> Result<(), ApiError> {
    match expand.is_empty() {
        true => Ok(()),
        false => Err(ApiError::unknown_param("expand", None)),
    }
}
