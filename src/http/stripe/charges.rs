//! `/v1/charges`: read-only; a charge is written with each payment attempt (decisions §11).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::StripeList;
use crate::domain::accounts::Caller;
use crate::domain::payments::{self, ChargeFilter};
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{ListQuery, Query};
use crate::http::params::Created;
use crate::http::unsupported::Unset;
use crate::http::{AppState, JsonBytes};
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_charges))
        .routes(routes!(retrieve_charge))
}

/// `GET /v1/charges` filters, as Stripe's.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChargeListParams {
    /// Only this customer's charges (`cus_…`).
    pub customer: Option<String>,
    /// Only this PaymentIntent's charges (`pi_…`): its declined attempts and its payment.
    pub payment_intent: Option<String>,
    /// `created=T` (unix seconds) or `created[gte]=T`, `[gt]`, `[lt]`, `[lte]`.
    #[param(value_type = Option<Object>)]
    pub created: Option<Created>,
    /// Connect transfers: kassa has none, so it is refused when given.
    #[param(value_type = Option<String>)]
    pub transfer_group: Option<Unset>,
}

/// Lists charges, newest first.
#[utoipa::path(get, path = "/v1/charges", tag = "Stripe", security(("secret_key" = [])),
    params(ChargeListParams, StripeList),
    responses((status = 200, description = "A list of charges.", body = objects::ChargeList),
        (status = 400, description = "A `customer` or `payment_intent` that does not exist.")))]
pub async fn list_charges(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(params, mut list): ListQuery<ChargeListParams, StripeList>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(std::mem::take(&mut list.expand), "charge")?;
    let filter = ChargeFilter {
        customer: params.customer,
        payment_intent: params.payment_intent,
        created: params.created.unwrap_or_default().0,
    };
    let page = payments::list_charges(&state.db, &caller, &filter, &list.page()?).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for charge in &page.items {
        data.push(
            expand::charge(
                &state,
                &caller,
                charge.object(&state.config.public_url),
                &expand,
            )
            .await?,
        );
    }
    JsonBytes::of(&objects::List::new(data, page.has_more, "/v1/charges"))
}

/// Retrieves a charge.
#[utoipa::path(get, path = "/v1/charges/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), RetrieveParams),
    responses((status = 200, description = "The charge.", body = objects::Charge), (status = 404, description = "No such charge.")))]
pub async fn retrieve_charge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<RetrieveParams>,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(params.expand, "charge")?;
    let charge = payments::get_charge(&state.db, &caller, &id).await?;
    Ok(Json(
        expand::charge(
            &state,
            &caller,
            charge.object(&state.config.public_url),
            &expand,
        )
        .await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RetrieveParams {
    /// Fields to expand (`customer`, `payment_intent`).
    #[serde(default)]
    pub expand: Vec<String>,
}
