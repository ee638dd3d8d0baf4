//! `/v1/checkout/sessions`: the Stripe Checkout Session API over the same sessions as the
//! Loops surfaces.

use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::StripeList;
use crate::domain::accounts::Caller;
use crate::domain::checkout::{self, SessionFilter, SessionState};
use crate::domain::{DomainError, catalog, customers, payments};
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{ListQuery, Query, StripeBody};
use crate::http::params::{Created, ExpandParams, MetadataParam, SessionBody, metadata_param};
use crate::http::unsupported::{Off, Unset};
use crate::http::{AppState, JsonBytes};
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session, list_sessions))
        .routes(routes!(retrieve_session, update_session))
        .routes(routes!(expire_session))
        .routes(routes!(list_line_items))
}

/// Creates a Checkout Session (`line_items` with `price` or `price_data`, `mode`,
/// `success_url`, ...). A Stripe parameter kassa does not implement is accepted only at a
/// value that changes nothing, and refused by name otherwise.
#[utoipa::path(post, path = "/v1/checkout/sessions", tag = "Stripe", security(("secret_key" = [])),
    request_body(content = SessionBody, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The Checkout Session.", body = objects::CheckoutSession), (status = 400, description = "A parameter is invalid.")))]
pub async fn create_session(
    State(state): State<AppState>,
    caller: Caller,
    StripeBody(mut body): StripeBody<SessionBody>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(std::mem::take(&mut body.expand), "checkout.session")?;
    let session =
        checkout::create_session(&state.db, &caller, body.into_input()?, state.clock.now()).await?;
    JsonBytes::of(&expand::session(&state, &caller, &session, &expand).await?)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StripeSessionFilter {
    /// `open`, `complete` or `expired` (which includes canceled and failed sessions).
    pub status: Option<String>,
    pub customer: Option<String>,
    pub payment_intent: Option<String>,
    pub payment_link: Option<String>,
    /// `customer_details[email]=...`
    #[param(value_type = Option<Object>)]
    pub customer_details: Option<CustomerDetailsFilter>,
    /// `created=T` (unix seconds) or `created[gte]=T`, `[gt]`, `[lt]`, `[lte]`.
    #[param(value_type = Option<Object>)]
    pub created: Option<Created>,
    #[param(value_type = Option<String>)]
    pub customer_account: Option<Unset>,
    /// Sessions of a subscription (kassa's sessions start none yet).
    #[param(value_type = Option<String>)]
    pub subscription: Option<Unset>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerDetailsFilter {
    pub email: Option<String>,
}

/// Lists Checkout Sessions, newest first.
#[utoipa::path(get, path = "/v1/checkout/sessions", tag = "Stripe", security(("secret_key" = [])),
    params(StripeSessionFilter, StripeList), responses((status = 200, description = "A list of Checkout Sessions.", body = objects::CheckoutSessionList)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(filter, mut list): ListQuery<StripeSessionFilter, StripeList>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(std::mem::take(&mut list.expand), "checkout.session")?;
    let domain_filter = SessionFilter {
        states: filter
            .status
            .as_deref()
            .map(|s| SessionState::parse_filter(s, true))
            .transpose()?,
        customer: filter.customer,
        customer_email: filter.customer_details.and_then(|d| d.email),
        payment_link: filter.payment_link,
        payment_intent: filter.payment_intent,
        created: filter.created.unwrap_or_default().0,
        ..Default::default()
    };
    check_filter_ids(&state, &caller, &domain_filter, true).await?;
    let now = state.clock.now();
    let page = checkout::list_sessions(
        &state.db,
        &caller,
        &domain_filter,
        &list.page()?,
        now,
        &state.config.public_url,
    )
    .await?;
    let mut data = Vec::with_capacity(page.items.len());
    for session in &page.items {
        data.push(expand::session(&state, &caller, session, &expand).await?);
    }
    JsonBytes::of(&objects::List::new(
        data,
        page.has_more,
        "/v1/checkout/sessions",
    ))
}

/// A filter naming an object the caller cannot see is refused as Stripe refuses it (400
/// `resource_missing` naming the filter), not answered with an empty list. On V3 `customer`
/// is the merchant's own reference, so only `/v1` checks it.
pub async fn check_filter_ids(
    state: &AppState,
    caller: &Caller,
    filter: &SessionFilter,
    customer_is_id: bool,
) -> Result<(), ApiError> {
    let db = &state.db;
    if let Some(customer) = filter.customer.as_deref().filter(|_| customer_is_id) {
        customers::get_customer(db, caller, customer)
            .await
            .map_err(DomainError::as_reference("customer"))?;
    }
    if let Some(link) = &filter.payment_link {
        catalog::get_payment_link(db, caller, link)
            .await
            .map_err(DomainError::as_reference("payment_link"))?;
    }
    if let Some(intent) = &filter.payment_intent {
        payments::get_payment_intent(db, caller, intent)
            .await
            .map_err(DomainError::as_reference("payment_intent"))?;
    }
    Ok(())
}

/// Retrieves a Checkout Session (`expand[]=line_items`, `payment_link`, `payment_intent`).
#[utoipa::path(get, path = "/v1/checkout/sessions/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), ExpandParams),
    responses((status = 200, description = "The Checkout Session.", body = objects::CheckoutSession), (status = 404, description = "No such session.")))]
pub async fn retrieve_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<ExpandParams>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(params.expand, "checkout.session")?;
    let session = checkout::get_session(
        &state.db,
        &caller,
        &id,
        state.clock.now(),
        &state.config.public_url,
    )
    .await?;
    JsonBytes::of(&expand::session(&state, &caller, &session, &expand).await?)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSessionParams {
    /// Keys to set (`metadata[k]=` removes one; `metadata=` removes every key).
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    /// Fields to expand in the answer.
    #[serde(default)]
    pub expand: Vec<String>,
    /// Changing an open session's lines, shipping or payment is not supported.
    pub collected_information: Option<Off>,
    pub line_items: Option<Off>,
    pub payment_intent_data: Option<Off>,
    pub shipping_options: Option<Off>,
}

/// Updates a Checkout Session's metadata; `metadata[key]=` removes a key.
#[utoipa::path(post, path = "/v1/checkout/sessions/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = UpdateSessionParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The Checkout Session.", body = objects::CheckoutSession), (status = 404, description = "No such session.")))]
pub async fn update_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<UpdateSessionParams>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(params.expand, "checkout.session")?;
    let now = state.clock.now();
    let session = match params.metadata {
        Some(metadata) => {
            checkout::update_metadata(
                &state.db,
                &caller,
                &id,
                metadata.merge(),
                now,
                &state.config.public_url,
            )
            .await?
        }
        None => {
            checkout::get_session(&state.db, &caller, &id, now, &state.config.public_url).await?
        }
    };
    JsonBytes::of(&expand::session(&state, &caller, &session, &expand).await?)
}

/// Expires an open Checkout Session; 409 if it is not open.
#[utoipa::path(post, path = "/v1/checkout/sessions/{id}/expire", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = ExpandParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The expired session.", body = objects::CheckoutSession), (status = 404, description = "No such session."),
              (status = 409, description = "The session is not open.")))]
pub async fn expire_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<ExpandParams>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check(params.expand, "checkout.session")?;
    let now = state.clock.now();
    let session =
        checkout::expire_session(&state.db, &caller, &id, now, &state.config.public_url).await?;
    JsonBytes::of(&expand::session(&state, &caller, &session, &expand).await?)
}

/// A Checkout Session's line items, paged like every Stripe list.
#[utoipa::path(get, path = "/v1/checkout/sessions/{id}/line_items", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), StripeList),
    responses((status = 200, description = "A list of line items.", body = objects::LineItemList), (status = 404, description = "No such session.")))]
pub async fn list_line_items(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(mut list): Query<StripeList>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(std::mem::take(&mut list.expand), "item")?;
    let session = checkout::get_session(
        &state.db,
        &caller,
        &id,
        state.clock.now(),
        &state.config.public_url,
    )
    .await?;
    let page = list.page()?;
    let items = checkout::line_items(&state.db, &caller, &session.id).await?;
    // Line items keep their order of creation; a session holds at most 100.
    let start = match &page.start {
        crate::domain::list::PageStart::After(after) => items
            .iter()
            .position(|i| &i.id == after)
            .map_or(items.len(), |p| p + 1),
        _ => 0,
    };
    let end = (start + page.limit as usize).min(items.len());
    let mut data = Vec::with_capacity(end - start);
    for item in &items[start..end] {
        data.push(expand::line_item(&state, &caller, item, &expand).await?);
    }
    let url = format!("/v1/checkout/sessions/{}/line_items", session.id);
    JsonBytes::of(&objects::List::new(data, end < items.len(), url))
}
