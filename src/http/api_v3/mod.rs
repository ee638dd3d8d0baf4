//! Loops V3: the Stripe-flavoured Loops API under `/api/v3`, with Stripe-shaped errors.

pub mod account;
pub mod checkout_sessions;
pub mod customer_portal;
pub mod payment_links;
pub mod products;
pub mod refunds;
pub mod subscriptions;
pub mod webhooks;

use utoipa_axum::router::OpenApiRouter;

use super::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(account::routes())
        .merge(products::routes())
        .merge(payment_links::routes())
        .merge(checkout_sessions::routes())
        .merge(webhooks::routes())
        .merge(subscriptions::routes())
        .merge(refunds::routes())
        .merge(customer_portal::routes())
}
