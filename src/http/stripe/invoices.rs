//! `/v1/invoices`: read. A subscription's invoices are written by checkout and the billing
//! engine (decisions §11).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::StripeList;
use crate::domain::accounts::Caller;
use crate::domain::billing::{self, InvoiceStatus};
use axum::http::StatusCode;

use crate::http::error::{ApiError, ErrorType};
use crate::http::expand;
use crate::http::extract::{ListQuery, Query, StripeBody};
use crate::http::params::Created;
use crate::http::unsupported::{Off, Unset};
use crate::http::{AppState, JsonBytes};
use crate::objects;
use crate::store::billing::InvoiceFilter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invoices))
        .routes(routes!(retrieve_invoice))
        .routes(routes!(list_invoice_lines))
        .routes(routes!(pay_invoice))
        .routes(routes!(void_invoice))
}

/// `GET /v1/invoices` filters, as Stripe's.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InvoiceListParams {
    /// Only this customer's invoices (`cus_…`).
    pub customer: Option<String>,
    /// Only this subscription's invoices (`sub_…`).
    pub subscription: Option<String>,
    /// `draft`, `open`, `paid`, `uncollectible` or `void`.
    pub status: Option<String>,
    /// Only those on this test clock; without it (or `customer`), those on a clock are left out.
    pub test_clock: Option<String>,
    /// `created=T` (unix seconds) or `created[gte]=T`, `[gt]`, `[lt]`, `[lte]`.
    #[param(value_type = Option<Object>)]
    pub created: Option<Created>,
    #[param(value_type = Option<String>)]
    pub collection_method: Option<Unset>,
    #[param(value_type = Option<Object>)]
    pub due_date: Option<Unset>,
    #[param(value_type = Option<String>)]
    pub customer_account: Option<Unset>,
}

/// Lists invoices, newest first.
#[utoipa::path(get, path = "/v1/invoices", tag = "Stripe", security(("secret_key" = [])),
    params(InvoiceListParams, StripeList),
    responses((status = 200, description = "A list of invoices.", body = objects::InvoiceList),
        (status = 400, description = "An unknown status, or a `customer` or `subscription` that does not exist.")))]
pub async fn list_invoices(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(params, mut list): ListQuery<InvoiceListParams, StripeList>,
) -> Result<JsonBytes, ApiError> {
    let expand = expand::check_list(std::mem::take(&mut list.expand), "invoice")?;
    let status = billing::invoice_status(params.status.as_deref())?;
    let filter = InvoiceFilter {
        customer: params.customer,
        subscription: params.subscription,
        status,
        created: params.created.unwrap_or_default().0,
        test_clock: params.test_clock,
    };
    let page = billing::list_invoices(&state.db, &caller, &filter, &list.page()?).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for invoice in &page.items {
        data.push(
            expand::invoice(
                &state,
                &caller,
                invoice.object(&state.config.public_url),
                &expand,
            )
            .await?,
        );
    }
    JsonBytes::of(&objects::List::new(data, page.has_more, "/v1/invoices"))
}

/// Retrieves an invoice.
#[utoipa::path(get, path = "/v1/invoices/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), RetrieveParams),
    responses((status = 200, description = "The invoice.", body = objects::Invoice), (status = 404, description = "No such invoice.")))]
pub async fn retrieve_invoice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<RetrieveParams>,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(params.expand, "invoice")?;
    let invoice = billing::get_invoice(&state.db, &caller, &id).await?;
    Ok(Json(
        expand::invoice(
            &state,
            &caller,
            invoice.object(&state.config.public_url),
            &expand,
        )
        .await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RetrieveParams {
    /// Fields to expand (`customer`, `subscription`, `payment_intent`, `charge`).
    #[serde(default)]
    pub expand: Vec<String>,
}

/// Lists an invoice's lines, in order.
#[utoipa::path(get, path = "/v1/invoices/{id}/lines", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), StripeList),
    responses((status = 200, description = "A list of invoice line items.", body = objects::InvoiceLineItemList), (status = 404, description = "No such invoice.")))]
pub async fn list_invoice_lines(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(list): Query<StripeList>,
) -> Result<JsonBytes, ApiError> {
    expand::check_list(list.expand.clone(), "line_item")?;
    let invoice = billing::get_invoice(&state.db, &caller, &id).await?;
    let lines: Vec<Value> = invoice.lines.iter().map(|l| l.object(&invoice)).collect();
    let (data, has_more) = list
        .page()?
        .of_held(&lines, |l| l["id"].as_str().unwrap_or_default());
    let data = data.to_vec();
    JsonBytes::of(&objects::List::new(
        data,
        has_more,
        format!("/v1/invoices/{id}/lines"),
    ))
}

/// Parameters of `POST /v1/invoices/{id}/pay`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayParams {
    /// Fields to expand in the answer.
    #[serde(default)]
    pub expand: Vec<String>,
    /// Charging another method than the subscription's default: attach it and make it the
    /// default (`POST /v1/subscriptions/{id}`) instead.
    pub payment_method: Option<Unset>,
    pub paid_out_of_band: Option<Off>,
    pub forgive: Option<Off>,
    pub off_session: Option<Off>,
    pub mandate: Option<Unset>,
    pub source: Option<Unset>,
}

/// Collects an invoice now: finalized if a draft, then charged to its subscription's default
/// payment method. A decline is a 402 card error, and the invoice stays open for its retries.
#[utoipa::path(post, path = "/v1/invoices/{id}/pay", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = PayParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The paid invoice.", body = objects::Invoice), (status = 402, description = "The charge was declined."),
        (status = 400, description = "The invoice is paid or void."), (status = 404, description = "No such invoice.")))]
pub async fn pay_invoice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<PayParams>,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(params.expand, "invoice")?;
    let processor = crate::domain::billing::engine::SimulatedProcessor;
    let (now, lease) = (state.clock.now(), state.config.billing_lease_seconds());
    let public_url = &state.config.public_url;
    let invoice =
        billing::engine::pay_now(&state.db, &processor, &caller, &id, now, lease, public_url)
            .await?;
    if invoice.status != InvoiceStatus::Paid {
        return Err(declined(&state, &caller, &invoice).await?);
    }
    Ok(Json(
        expand::invoice(
            &state,
            &caller,
            invoice.object(&state.config.public_url),
            &expand,
        )
        .await?,
    ))
}

/// The error codes a charge attempt can end with, as Stripe names them.
const CHARGE_ERROR_CODES: [&str; 5] = [
    "card_declined",
    "expired_card",
    "incorrect_cvc",
    "processing_error",
    "payment_method_required",
];

/// Stripe's answer to a declined invoice payment: a 402 card error with the charge's codes and
/// the `charge` that failed.
async fn declined(
    state: &AppState,
    caller: &Caller,
    invoice: &billing::Invoice,
) -> Result<ApiError, ApiError> {
    let charge = match &invoice.charge_id {
        Some(id) => Some(crate::domain::payments::get_charge(&state.db, caller, id).await?),
        None => None,
    };
    let failure = charge.as_ref().and_then(|c| c.failure.clone());
    let (code, message) = match &failure {
        Some(f) => (f.code.as_str(), f.message.clone()),
        None => (
            "payment_method_required",
            "The subscription has no payment method to charge.".to_string(),
        ),
    };
    let code = CHARGE_ERROR_CODES
        .into_iter()
        .find(|known| *known == code)
        .unwrap_or("card_declined");
    let mut error =
        ApiError::new(StatusCode::PAYMENT_REQUIRED, Some(code), message).with_type(ErrorType::Card);
    if let Some(decline_code) = failure.and_then(|f| f.decline_code) {
        error = error.with_field("decline_code", decline_code.into());
    }
    if let Some(charge) = &charge {
        error = error.with_field("charge", charge.id.clone().into());
    }
    Ok(error)
}

/// Voids an open invoice: it is no longer owed, and nothing more is collected.
#[utoipa::path(post, path = "/v1/invoices/{id}/void", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = ExpandOnly, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The void invoice.", body = objects::Invoice), (status = 400, description = "The invoice is not open."),
        (status = 404, description = "No such invoice.")))]
pub async fn void_invoice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<ExpandOnly>,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(params.expand, "invoice")?;
    let invoice = billing::engine::void(
        &state.db,
        &caller,
        &id,
        state.clock.now(),
        &state.config.public_url,
    )
    .await?;
    Ok(Json(
        expand::invoice(
            &state,
            &caller,
            invoice.object(&state.config.public_url),
            &expand,
        )
        .await?,
    ))
}

/// Only `expand`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpandOnly {
    #[serde(default)]
    pub expand: Vec<String>,
}
