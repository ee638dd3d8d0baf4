//! Loops V2: camelCase JSON under `/api/v2`, with Loops-shaped errors.

pub mod checkout_sessions;
pub mod products;

use utoipa_axum::router::OpenApiRouter;

use super::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(products::routes())
        .merge(checkout_sessions::routes())
}
