//! `/api/v3/products`: Loops V3 products, in Stripe's shape with the Loops extras.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::accounts::Caller;
use crate::domain::catalog::{self, PriceInput, ProductFilter};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, Query};
use crate::http::params::{LoopsProductBody, LoopsProductFilter, Paging};
use crate::objects::{self, Expand};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_product, list_products))
        .routes(routes!(retrieve_product, update_product, archive_product))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExpandParams {
    /// Fields to expand, such as `default_price`.
    #[serde(default)]
    pub expand: Vec<String>,
}

/// Creates a product. A FIXED, CUSTOM or FREE product gets a default price.
#[utoipa::path(post, path = "/api/v3/products", tag = "Products", security(("secret_key" = [])),
    request_body = LoopsProductBody,
    responses((status = 200, description = "The product object."), (status = 400, description = "A parameter is invalid.")))]
pub async fn create_product(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<LoopsProductBody>,
) -> Result<Json<Value>, ApiError> {
    let (input, pricing) = body.into_parts()?;
    let price = if pricing.is_empty() {
        None
    } else {
        Some(PriceInput::with_terms(pricing.terms(None)?))
    };
    let product =
        catalog::create_product(&state.db, &caller, input, price, state.clock.now()).await?;
    Ok(Json(objects::product(
        &product,
        &caller,
        &Expand::default(),
    )))
}

/// Lists products, newest first, by offset or cursor.
#[utoipa::path(get, path = "/api/v3/products", tag = "Products", security(("secret_key" = [])),
    params(LoopsProductFilter, Paging),
    responses((status = 200, description = "`{object: \"list\", data, has_more, url}`")))]
pub async fn list_products(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<LoopsProductFilter>,
    Query(paging): Query<Paging>,
    Query(expand): Query<ExpandParams>,
) -> Result<Json<Value>, ApiError> {
    let filter: ProductFilter = filter.filter()?;
    let page = catalog::list_products(&state.db, &caller, &filter, &paging.page(50)?).await?;
    let expand = Expand(expand.expand).under("data");
    let data = page
        .items
        .iter()
        .map(|p| objects::product(p, &caller, &expand))
        .collect();
    Ok(Json(objects::list(data, page.has_more, "/api/v3/products")))
}

/// Retrieves a product.
#[utoipa::path(get, path = "/api/v3/products/{id}", tag = "Products", security(("secret_key" = [])),
    params(("id" = String, Path, description = "`prod_...`"), ExpandParams),
    responses((status = 200, description = "The product object."), (status = 404, description = "No such product.")))]
pub async fn retrieve_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(expand): Query<ExpandParams>,
) -> Result<Json<Value>, ApiError> {
    let product = catalog::get_product(&state.db, &caller, &id).await?;
    Ok(Json(objects::product(
        &product,
        &caller,
        &Expand(expand.expand),
    )))
}

/// Updates a product. A changed amount, currency or interval creates a new default price;
/// sessions already created keep the old one.
#[utoipa::path(put, path = "/api/v3/products/{id}", tag = "Products", security(("secret_key" = [])),
    params(("id" = String, Path, description = "`prod_...`")), request_body = LoopsProductBody,
    responses((status = 200, description = "The product object."), (status = 404, description = "No such product.")))]
pub async fn update_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<LoopsProductBody>,
) -> Result<Json<Value>, ApiError> {
    let (input, pricing) = body.into_parts()?;
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
    Ok(Json(objects::product(
        &product,
        &caller,
        &Expand::default(),
    )))
}

/// Archives a product: it stays readable, becomes inactive, and starts no new sessions.
#[utoipa::path(delete, path = "/api/v3/products/{id}", tag = "Products", security(("secret_key" = [])),
    params(("id" = String, Path, description = "`prod_...`")),
    responses((status = 200, description = "The archived product."), (status = 404, description = "No such product.")))]
pub async fn archive_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let product = catalog::archive_product(&state.db, &caller, &id, state.clock.now()).await?;
    Ok(Json(objects::product(
        &product,
        &caller,
        &Expand::default(),
    )))
}
