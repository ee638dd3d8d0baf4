//! `/api/v3/products`: Loops V3 products, in Stripe's shape with the Loops extras.

use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::accounts::Caller;
use crate::domain::catalog::{self, ProductFilter};
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{JsonBody, ListQuery, Query};
use crate::http::params::{ExpandParams, LoopsProductBody, LoopsProductFilter, NoParams, Paging};
use crate::http::{AppState, JsonBytes};
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_product, list_products))
        .routes(routes!(retrieve_product, update_product, archive_product))
}

/// Creates a product. A FIXED, CUSTOM or FREE product gets a default price.
#[utoipa::path(post, path = "/api/v3/products", tag = "Products", security(("secret_key" = [])),
    request_body = LoopsProductBody,
    responses((status = 200, description = "The product object.", body = objects::Product), (status = 400, description = "A parameter is invalid.")))]
pub async fn create_product(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(mut body): JsonBody<LoopsProductBody>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(std::mem::take(&mut body.expand), "product")?;
    let (input, price) = body.into_new()?;
    let product =
        catalog::create_product(&state.db, &caller, input, price, state.clock.now()).await?;
    JsonBytes::of(&expand::product(&state, &caller, &product, &expand).await?)
}

/// Lists products, newest first, by offset or cursor.
#[utoipa::path(get, path = "/api/v3/products", tag = "Products", security(("secret_key" = [])),
    params(LoopsProductFilter, Paging),
    responses((status = 200, description = "`{object: \"list\", data, has_more, url}`", body = objects::ProductList)))]
pub async fn list_products(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(mut filter, paging): ListQuery<LoopsProductFilter, Paging>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(std::mem::take(&mut filter.expand), "product")?;
    let filter: ProductFilter = filter.filter()?;
    let page = catalog::list_products(&state.db, &caller, &filter, &paging.page(50)?).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for product in &page.items {
        data.push(expand::product(&state, &caller, product, &expand).await?);
    }
    JsonBytes::of(&objects::List::new(data, page.has_more, "/api/v3/products"))
}

/// Retrieves a product.
#[utoipa::path(get, path = "/api/v3/products/{id}", tag = "Products", security(("secret_key" = [])),
    params(("id" = String, Path, description = "`prod_...`"), ExpandParams),
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

/// Updates a product. A changed amount, currency or interval creates a new default price;
/// sessions already created keep the old one.
#[utoipa::path(put, path = "/api/v3/products/{id}", tag = "Products", security(("secret_key" = [])),
    params(("id" = String, Path, description = "`prod_...`")), request_body = LoopsProductBody,
    responses((status = 200, description = "The product object.", body = objects::Product), (status = 404, description = "No such product.")))]
pub async fn update_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(mut body): JsonBody<LoopsProductBody>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(std::mem::take(&mut body.expand), "product")?;
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
    JsonBytes::of(&expand::product(&state, &caller, &product, &expand).await?)
}

/// Archives a product: it stays readable, becomes inactive, and starts no new sessions.
#[utoipa::path(delete, path = "/api/v3/products/{id}", tag = "Products", security(("secret_key" = [])),
    params(("id" = String, Path, description = "`prod_...`")),
    responses((status = 200, description = "The archived product.", body = objects::Product), (status = 404, description = "No such product.")))]
pub async fn archive_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(NoParams {}): Query<NoParams>,
) -> Result<JsonBytes, ApiError> {
    let product = catalog::archive_product(&state.db, &caller, &id, state.clock.now()).await?;
    JsonBytes::of(&objects::Product::new(&product, &caller))
}
