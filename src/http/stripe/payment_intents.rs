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
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{ListQuery, Query};
use crate::http::params::Created;
use crate::http::unsupported::Unset;
use crate::http::{AppState, JsonBytes};
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_payment_intents))
        .routes(routes!(retrieve_payment_intent))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PaymentIntentFilter {
    pub customer: Option<String>,
    /// `created=T` (unix seconds) or `created[gte]=T`, `[gt]`, `[lt]`, `[lte]`.
    #[param(value_type = Option<Object>)]
    pub created: Option<Created>,
    #[param(value_type = Option<String>)]
    pub customer_account: Option<Unset>,
}

/// Lists PaymentIntents, newest first.
#[utoipa::path(get, path = "/v1/payment_intents", tag = "Stripe", security(("secret_key" = [])),
    params(PaymentIntentFilter, StripeList), responses((status = 200, description = "A list of PaymentIntents.", body = objects::PaymentIntentList)))]
pub async fn list_payment_intents(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(filter, mut list): ListQuery<PaymentIntentFilter, StripeList>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(std::mem::take(&mut list.expand), "payment_intent")?;
    let created = filter.created.unwrap_or_default().0;
    let page = payments::list_payment_intents(
        &state.db,
        &caller,
        filter.customer.as_deref(),
        &created,
        &list.page()?,
    )
    .await?;
    let mut data = Vec::with_capacity(page.items.len());
    for intent in &page.items {
        data.push(expand::payment_intent(&state, &caller, intent.object(), &expand).await?);
    }
    JsonBytes::of(&objects::List::new(
        data,
        page.has_more,
        "/v1/payment_intents",
    ))
}

/// Retrieves a PaymentIntent.
#[utoipa::path(get, path = "/v1/payment_intents/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), RetrieveParams),
    responses((status = 200, description = "The PaymentIntent.", body = objects::PaymentIntent), (status = 404, description = "No such payment_intent.")))]
pub async fn retrieve_payment_intent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<RetrieveParams>,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(params.expand, "payment_intent")?;
    let intent = payments::get_payment_intent(&state.db, &caller, &id).await?;
    Ok(Json(
        expand::payment_intent(&state, &caller, intent.object(), &expand).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RetrieveParams {
    /// Fields to expand (`customer`, `latest_charge`, `payment_method`).
    #[serde(default)]
    pub expand: Vec<String>,
    /// A publishable key's way to read a PaymentIntent; a secret key reads it without one.
    #[param(value_type = Option<String>)]
    pub client_secret: Option<Unset>,
}
