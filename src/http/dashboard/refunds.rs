//! Refunding a charge from the dashboard: the payment's section lists its refunds and offers
//! a refund; choosing an amount (all that is left by default) and a reason leads to a page
//! that says what the customer gets back, whose button refunds through the same domain
//! function as `POST /v1/refunds`, so the same rules, ledger and events.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Signed, failure, field, layout, message, see_other, signed_form, signed_in, when};
use crate::domain::DomainError;
use crate::domain::accounts::Caller;
use crate::domain::billing::engine::SimulatedProcessor;
use crate::domain::money::Currency;
use crate::domain::payments::{self, Charge};
use crate::domain::refunds::{self, REASONS, RefundInput};
use crate::http::AppState;
use crate::http::pages::escape;
use crate::store::{self, Db};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(confirm_refund, refund))
}

/// The refunds of a payment's charge, and the way to refund what is left: for the pages that
/// show a payment (`back` is where to come back to).
pub async fn section(
    db: &Db,
    caller: &Caller,
    charge: &Charge,
    back: &str,
) -> Result<String, DomainError> {
    let currency = Currency::from_stored(charge.currency.clone());
    let (refunds, _) = store::refunds::of_charge(db, caller, &charge.id).await?;
    let mut html = String::from("<h3>Refunds</h3>");
    if refunds.is_empty() {
        html.push_str("<p class=\"empty\">None.</p>");
    } else {
        html.push_str("<ul class=\"refunds\">");
        for refund in &refunds {
            html.push_str(&format!(
                "<li>{amount} {status} · {reason} · {at}</li>",
                amount = escape(&currency.display(refund.amount)),
                status = refund.status.as_str(),
                reason = escape(refund.reason.as_deref().unwrap_or("no reason given")),
                at = when(refund.created),
            ));
        }
        html.push_str("</ul>");
    }
    let left = charge.amount - charge.amount_refunded;
    if charge.succeeded() && left > 0 {
        html.push_str(&format!(
            "<p><a class=\"button secondary\" href=\"/dashboard/charges/{id}/refund?back={back}\">Refund…</a> \
             <span class=\"hint\">{left} of {paid} can be refunded.</span></p>",
            id = escape(&charge.id),
            back = escape(&urlencoding(back)),
            left = escape(&currency.display(left)),
            paid = escape(&currency.display(charge.amount)),
        ));
    }
    Ok(html)
}

/// What an invoice's charge attempt line adds about refunds: what was refunded, and the link
/// to refund what is left.
pub fn attempt_note(charge: &Charge, back: &str) -> String {
    if !charge.succeeded() {
        return String::new();
    }
    let currency = Currency::from_stored(charge.currency.clone());
    let mut note = String::new();
    if charge.amount_refunded > 0 {
        note.push_str(&format!(
            " · refunded {}",
            escape(&currency.display(charge.amount_refunded))
        ));
    }
    if charge.amount > charge.amount_refunded {
        note.push_str(&format!(
            " · <a href=\"/dashboard/charges/{}/refund?back={}\">Refund…</a>",
            escape(&charge.id),
            escape(&urlencoding(back))
        ));
    }
    note
}

/// `back` as a query value.
fn urlencoding(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Where to go back to: a dashboard page, or the dashboard.
fn back_to(back: Option<&str>) -> String {
    back.filter(|b| b.starts_with("/dashboard/") && !b.contains("//"))
        .unwrap_or("/dashboard")
        .to_string()
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RefundQuery {
    /// In major units, such as `12.50`; all that is left by default.
    pub amount: Option<String>,
    /// `duplicate`, `fraudulent` or `requested_by_customer`.
    pub reason: Option<String>,
    /// The dashboard page to come back to.
    pub back: Option<String>,
    /// Set by the first step's form: show what the customer gets back.
    pub review: Option<String>,
}

/// The refund's two steps before it is made: choose the amount and reason; then read what the
/// customer gets back, and confirm.
#[utoipa::path(get, path = "/dashboard/charges/{id}/refund", tag = "Pages", params(("id" = String, Path), RefundQuery),
    responses((status = 200, description = "The refund's form or its confirmation (HTML)."), (status = 404, description = "Not in this account and mode.")))]
pub async fn confirm_refund(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<RefundQuery>,
) -> Response {
    let signed = match signed_in(&state, &headers).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let charge = match payments::get_charge(&state.db, &signed.session.caller(), &id).await {
        Ok(charge) => charge,
        Err(error) => return failure(error),
    };
    let back = back_to(query.back.as_deref());
    let chosen = match (&query.review, &query.amount) {
        (Some(_), Some(amount)) => Some(amount_of(&charge, amount)),
        _ => None,
    };
    let main = match chosen {
        Some(Ok(amount)) => confirmation(&signed, &charge, amount, query.reason.as_deref(), &back),
        Some(Err(error)) => choose(&charge, &back, Some(&message(error))),
        None => choose(&charge, &back, None),
    };
    layout(&signed, "/dashboard/sessions", "Refund a payment", &main)
}

/// The amount typed, in minor units, checked against what is left.
fn amount_of(charge: &Charge, typed: &str) -> Result<i64, DomainError> {
    let currency = Currency::from_stored(charge.currency.clone());
    let amount = currency.parse_major(typed.trim(), "amount")?;
    let left = charge.amount - charge.amount_refunded;
    if amount <= 0 || amount > left {
        return Err(DomainError::invalid(
            "amount",
            format!("must be more than 0 and at most {}", currency.display(left)),
        ));
    }
    Ok(amount)
}

/// The first step: the amount (all that is left, to start with) and the reason.
fn choose(charge: &Charge, back: &str, error: Option<&str>) -> String {
    let currency = Currency::from_stored(charge.currency.clone());
    let left = charge.amount - charge.amount_refunded;
    let alert = error
        .map(|e| format!("<p class=\"alert\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let reasons: String = std::iter::once(("", "No reason given"))
        .chain(REASONS.iter().map(|r| (*r, *r)))
        .map(|(value, label)| {
            format!(
                "<option value=\"{value}\">{}</option>",
                label.replace('_', " ")
            )
        })
        .collect();
    format!(
        "{alert}<p>Charge <code>{id}</code> of {paid}; {left} can still be refunded.</p>\
         <form method=\"get\" action=\"/dashboard/charges/{id}/refund\">\
         <input type=\"hidden\" name=\"back\" value=\"{back}\"><input type=\"hidden\" name=\"review\" value=\"1\">\
         <div class=\"field\"><label for=\"f-amount\">Amount ({code})</label>\
         <input id=\"f-amount\" name=\"amount\" inputmode=\"decimal\" required value=\"{left_major}\"></div>\
         <div class=\"field\"><label for=\"f-reason\">Reason</label><select id=\"f-reason\" name=\"reason\">{reasons}</select></div>\
         <div class=\"actions compact\"><button type=\"submit\">Review refund</button>\
         <a class=\"button secondary\" href=\"{back}\">Back</a></div></form>",
        id = escape(&charge.id),
        paid = escape(&currency.display(charge.amount)),
        left = escape(&currency.display(left)),
        code = escape(&currency.upper()),
        left_major = escape(&currency.format_major(left)),
        back = escape(back),
    )
}

/// The second step: what the customer gets back, and the button that refunds it.
fn confirmation(
    signed: &Signed,
    charge: &Charge,
    amount: i64,
    reason: Option<&str>,
    back: &str,
) -> String {
    let currency = Currency::from_stored(charge.currency.clone());
    let card = charge
        .card
        .as_ref()
        .map(|c| format!("their {} card ending {}", c.brand, c.last4))
        .unwrap_or_else(|| "the card they paid with".into());
    let kept = charge.amount - charge.amount_refunded - amount;
    format!(
        "<p>The customer gets <strong>{amount}</strong> back on {card}; {kept} of {paid} stays paid. \
         A refund cannot be undone.</p>\
         <div class=\"actions compact\"><form method=\"post\" action=\"/dashboard/charges/{id}/refund\" class=\"inline-form\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"amount\" value=\"{minor}\">\
         <input type=\"hidden\" name=\"reason\" value=\"{reason}\"><input type=\"hidden\" name=\"back\" value=\"{back}\">\
         <input type=\"hidden\" name=\"refund\" value=\"{refund}\">\
         <button type=\"submit\" class=\"danger\">Refund {amount}</button></form>\
         <a class=\"button secondary\" href=\"{back}\">Keep the payment</a></div>",
        amount = escape(&currency.display(amount)),
        card = escape(&card),
        kept = escape(&currency.display(kept)),
        paid = escape(&currency.display(charge.amount)),
        id = escape(&charge.id),
        csrf = escape(&signed.session.csrf_token),
        minor = amount,
        reason = escape(reason.unwrap_or_default()),
        back = escape(back),
        // Named now, so that the button pressed twice refunds once.
        refund = refunds::new_refund_id(),
    )
}

/// Refunds the charge (`refund.created`, `charge.refunded`); back to the page it came from.
#[utoipa::path(post, path = "/dashboard/charges/{id}/refund", tag = "Pages", params(("id" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`, `amount` (minor units), `reason`, `back`, and `refund`, the refund's id chosen by the confirmation page (sent twice, it refunds once)."),
    responses((status = 303, description = "Back to the payment's page."), (status = 400, description = "Refused (HTML)."),
        (status = 404, description = "Not in this account and mode.")))]
pub async fn refund(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let signed = match signed_form(&state, &headers, &fields).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let back = back_to(Some(field(&fields, "back")));
    let amount = field(&fields, "amount").parse::<i64>().map_err(|_| {
        DomainError::invalid(
            "amount",
            "must be a whole number of the currency's minor units",
        )
    });
    let done = match amount {
        Ok(amount) => {
            let input = RefundInput {
                charge: Some(id),
                amount: Some(amount),
                reason: Some(field(&fields, "reason").to_string()).filter(|r| !r.is_empty()),
                id: Some(field(&fields, "refund").to_string()),
                ..RefundInput::default()
            };
            let caller = signed.session.caller();
            refunds::create(
                &state.db,
                &SimulatedProcessor,
                &caller,
                input,
                state.clock.now(),
                &state.config.public_url,
            )
            .await
        }
        Err(error) => Err(error),
    };
    match done {
        Ok(_) => see_other(&back),
        Err(error @ (DomainError::NotFound { .. } | DomainError::Store(_))) => failure(error),
        Err(error) => {
            let main = format!(
                "<p class=\"alert\" role=\"alert\">{}</p><p><a class=\"button secondary\" href=\"{}\">Back</a></p>",
                escape(&message(error)),
                escape(&back)
            );
            let mut response = layout(
                &signed,
                "/dashboard/sessions",
                "The refund was refused",
                &main,
            );
            *response.status_mut() = StatusCode::BAD_REQUEST;
            response.into_response()
        }
    }
}
