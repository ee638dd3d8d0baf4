//! `/v1/refunds`: give back part or all of a succeeded charge (decisions §11). V3's
//! `/api/v3/refunds` takes the same parameters as JSON and answers the same objects.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::StripeList;
use crate::domain::accounts::Caller;
use crate::domain::billing::engine::SimulatedProcessor;
use crate::domain::metadata::MetadataUpdate;
use crate::domain::refunds::{self, RefundFilter, RefundInput};
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{ListQuery, Query, StripeBody};
use crate::http::params::{Created, ExpandParams, MetadataParam, metadata_param};
use crate::http::unsupported::{Off, Unset};
use crate::http::{AppState, JsonBytes};
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_refund, list_refunds))
        .routes(routes!(retrieve_refund, update_refund))
}

/// Parameters of `POST /v1/refunds` (and V3's `POST /api/v3/refunds`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundParams {
    /// The charge to refund (`ch_…`); or
    pub charge: Option<String>,
    /// the PaymentIntent whose succeeded charge to refund (`pi_…`).
    pub payment_intent: Option<String>,
    /// In the charge currency's minor units; all that is left unrefunded when absent.
    pub amount: Option<i64>,
    /// `duplicate`, `fraudulent` or `requested_by_customer`.
    pub reason: Option<String>,
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    #[serde(default)]
    pub expand: Vec<String>,
    /// Cards refund to the card: no other destination.
    pub instructions_email: Option<Unset>,
    pub origin: Option<Unset>,
    pub customer: Option<Unset>,
    pub currency: Option<Unset>,
    pub refund_application_fee: Option<Off>,
    pub reverse_transfer: Option<Off>,
}

/// Refunds a charge, in full or in part; repeatable until it is fully refunded.
#[utoipa::path(post, path = "/v1/refunds", tag = "Stripe", security(("secret_key" = [])),
    request_body(content = RefundParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The refund.", body = objects::Refund),
        (status = 400, description = "More than remains (`amount_too_large`), a charge already refunded (`charge_already_refunded`), or a charge that did not succeed (`charge_not_refundable`).")))]
pub async fn create_refund(
    state: State<AppState>,
    caller: Caller,
    StripeBody(params): StripeBody<RefundParams>,
) -> Result<Json<Value>, ApiError> {
    create(state, caller, params).await
}

/// What both surfaces' create runs.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    params: RefundParams,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(params.expand, "refund")?;
    let input = RefundInput {
        charge: params.charge.filter(|c| !c.is_empty()),
        payment_intent: params.payment_intent.filter(|p| !p.is_empty()),
        amount: params.amount,
        reason: params.reason,
        metadata: params
            .metadata
            .map(MetadataParam::into_new)
            .unwrap_or_default(),
        id: None,
    };
    let refund = refunds::create(
        &state.db,
        &SimulatedProcessor,
        &caller,
        input,
        state.clock.now(),
        &state.config.public_url,
    )
    .await?;
    Ok(Json(
        expand::refund(&state, &caller, refund.object(), &expand).await?,
    ))
}

/// `GET /v1/refunds` filters, as Stripe's.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RefundListParams {
    /// Only this charge's refunds (`ch_…`).
    pub charge: Option<String>,
    /// Only this PaymentIntent's refunds (`pi_…`).
    pub payment_intent: Option<String>,
    /// `created=T` (unix seconds) or `created[gte]=T`, `[gt]`, `[lt]`, `[lte]`.
    #[param(value_type = Option<Object>)]
    pub created: Option<Created>,
}

impl RefundListParams {
    pub fn filter(self) -> RefundFilter {
        RefundFilter {
            charge: self.charge,
            payment_intent: self.payment_intent,
            created: self.created.unwrap_or_default().0,
        }
    }
}

/// Lists refunds, newest first.
#[utoipa::path(get, path = "/v1/refunds", tag = "Stripe", security(("secret_key" = [])),
    params(RefundListParams, StripeList),
    responses((status = 200, description = "A list of refunds.", body = objects::RefundList),
        (status = 400, description = "A `charge` or `payment_intent` that does not exist.")))]
pub async fn list_refunds(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(params, mut list): ListQuery<RefundListParams, StripeList>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(std::mem::take(&mut list.expand), "refund")?;
    let page = refunds::list(&state.db, &caller, &params.filter(), &list.page()?).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for refund in &page.items {
        data.push(expand::refund(&state, &caller, refund.object(), &expand).await?);
    }
    JsonBytes::of(&objects::List::new(data, page.has_more, "/v1/refunds"))
}

/// Retrieves a refund.
#[utoipa::path(get, path = "/v1/refunds/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), ExpandParams),
    responses((status = 200, description = "The refund.", body = objects::Refund), (status = 404, description = "No such refund.")))]
pub async fn retrieve_refund(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<ExpandParams>,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(params.expand, "refund")?;
    let refund = refunds::get(&state.db, &caller, &id).await?;
    Ok(Json(
        expand::refund(&state, &caller, refund.object(), &expand).await?,
    ))
}

/// Parameters of `POST /v1/refunds/{id}`: only its metadata changes.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundUpdateParams {
    /// Keys to set (`metadata[k]=` removes one; `metadata=` removes every key).
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    #[serde(default)]
    pub expand: Vec<String>,
}

/// Updates a refund's metadata.
#[utoipa::path(post, path = "/v1/refunds/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = RefundUpdateParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The refund.", body = objects::Refund), (status = 404, description = "No such refund.")))]
pub async fn update_refund(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
    StripeBody(params): StripeBody<RefundUpdateParams>,
) -> Result<Json<Value>, ApiError> {
    update(state, caller, id, params).await
}

/// What both surfaces' update runs.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    params: RefundUpdateParams,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(params.expand, "refund")?;
    let update = params
        .metadata
        .map(MetadataParam::merge)
        .unwrap_or_else(|| MetadataUpdate::Merge(Default::default()));
    let refund = refunds::update_metadata(&state.db, &caller, &id, update).await?;
    Ok(Json(
        expand::refund(&state, &caller, refund.object(), &expand).await?,
    ))
}
