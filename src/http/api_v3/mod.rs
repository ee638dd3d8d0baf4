//! Loops V3: the Stripe-flavoured Loops API under `/api/v3`, with Stripe-shaped errors.

pub mod account;

use utoipa_axum::router::OpenApiRouter;

use super::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(account::routes())
}
