//! Loops V1 ("legacy"): sessions from payment links, camelCase JSON, Loops-shaped errors.

pub mod checkout_sessions;

use utoipa_axum::router::OpenApiRouter;

use super::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(checkout_sessions::routes())
}
