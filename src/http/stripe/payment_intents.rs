//! `/v1/payment_intents`: read-only; a PaymentIntent is written when a session is paid.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::StripeList;
use crate::domain::accounts::Caller;
use crate::domain::payments;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::Query;
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_payment_intents))
        .routes(routes!(retrieve_payment_intent))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentIntentFilter {
    pub customer: Option<String>,
}

/// Lists PaymentIntents, newest first.
#[utoipa::path(get, path = "/v1/payment_intents", tag = "Stripe", security(("secret_key" = [])),
    params(PaymentIntentFilter, StripeList), responses((status = 200, description = "A list of PaymentIntents.")))]
pub async fn list_payment_intents(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<PaymentIntentFilter>,
    Query(list): Query<StripeList>,
) -> Result<Json<Value>, ApiError> {
    let created = list.created.clone().unwrap_or_default().0;
    let page = payments::list_payment_intents(
        &state.db,
        &caller,
        filter.customer.as_deref(),
        &created,
        &list.page()?,
    )
    .await?;
    let data = page
        .items
        .iter()
        .map(payments::PaymentIntent::object)
        .collect();
    Ok(Json(objects::list(
        data,
        page.has_more,
        "/v1/payment_intents",
    )))
}

/// Retrieves a PaymentIntent.
#[utoipa::path(get, path = "/v1/payment_intents/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The PaymentIntent."), (status = 404, description = "No such payment_intent.")))]
pub async fn retrieve_payment_intent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        payments::get_payment_intent(&state.db, &caller, &id)
            .await?
            .object(),
    ))
}
