//! `/portal/{id}`: the customer portal page of a portal session (decisions §11). The customer
//! sees their subscriptions, card and invoices; cancels a subscription at the end of its period
//! and resumes it; replaces the card (test mode); edits their name and email; and goes back to
//! the shop's `return_url`.
//!
//! Plain HTML forms, no script. Every form carries the CSRF token of the page's cookie
//! (`super::csrf`), and every change goes through `domain::portal`, which scopes it to the
//! session's customer: another customer's subscription id typed into a form is not found. A
//! session past its hour shows the expired page and changes nothing.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::csrf::Csrf;
use super::long_date;
use super::{escape, message_page, page};
use crate::domain::DomainError;
use crate::domain::billing::views::{self, NextInvoice};
use crate::domain::billing::{Invoice, Subscription};
use crate::domain::money::Currency;
use crate::domain::portal::{self, Overview, Portal};
use crate::http::AppState;
use crate::http::dashboard::subscriptions::{per_period, status_badge};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show_portal))
        .routes(routes!(change_subscription))
        .routes(routes!(update_details))
        .routes(routes!(replace_card))
}

/// The cookie path of the portal's CSRF token.
const CSRF_PATH: &str = "/portal";

/// What the page says after a change it redirected from.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Saved {
    /// `canceled`, `resumed`, `details` or `card`.
    pub saved: Option<String>,
}

// ----- Handlers ----------------------------------------------------------------------------------

/// The portal page of a session: the customer's subscriptions, card and invoices, or a page
/// saying the link has expired.
#[utoipa::path(get, path = "/portal/{id}", tag = "Pages",
    params(("id" = String, Path, description = "`bps_...`"), Saved),
    responses((status = 200, description = "The page (HTML)."),
        (status = 400, description = "The query string holds a NUL character (HTML)."),
        (status = 404, description = "No such portal session (HTML)."),
        (status = 410, description = "The session has expired (HTML).")))]
pub async fn show_portal(
    State(state): State<AppState>,
    Path(id): Path<String>,
    // Read leniently: a query the page did not write only says nothing.
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let csrf = Csrf::for_page(&headers, &state.config.public_url, CSRF_PATH);
    let view = View {
        saved: saved_notice(field(&query, "saved")),
        ..View::default()
    };
    match portal::open(&state.db, &id, state.clock.now()).await {
        Ok(portal) => render(&state, &portal, &view, &csrf).await,
        Err(error) => failure(error),
    }
}

/// Cancels a subscription at the end of its period (`action=cancel`) or resumes it
/// (`action=resume`); `subscription` names it, and must be the session customer's.
#[utoipa::path(post, path = "/portal/{id}/subscription", tag = "Pages",
    params(("id" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`, `subscription`, `action`."),
    responses((status = 303, description = "Done: back to the page."),
        (status = 400, description = "No such action, or one the subscription's state refuses: the page again, with the reason."),
        (status = 403, description = "The form's CSRF token did not match."),
        (status = 404, description = "No such subscription of this customer's."),
        (status = 409, description = "Changed by another request at the same time: the page again, to try once more."),
        (status = 410, description = "The session has expired: nothing changed.")))]
pub async fn change_subscription(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let (portal, csrf) = match posted(&state, &id, &headers, &fields).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let (cancel, saved) = match field(&fields, "action") {
        "cancel" => (true, "canceled"),
        "resume" => (false, "resumed"),
        _ => {
            let view = View::default().with_error("action", "Choose cancel or resume.");
            return render(&state, &portal, &view, &csrf).await;
        }
    };
    let subscription = field(&fields, "subscription");
    let now = state.clock.now();
    match portal::set_cancel_at_period_end(&state.db, &portal, subscription, cancel, now).await {
        Ok(_) => back(&id, saved),
        Err(DomainError::NotFound { .. }) => message_page(
            StatusCode::NOT_FOUND,
            "Subscription not found",
            "This subscription is not one of yours. Go back to your billing page and try again.",
        ),
        Err(error) => rerender(&state, &id, View::default().with(error), &csrf).await,
    }
}

/// Saves the customer's name and email.
#[utoipa::path(post, path = "/portal/{id}/details", tag = "Pages",
    params(("id" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`, `name`, `email`."),
    responses((status = 303, description = "Saved: back to the page."),
        (status = 400, description = "A field is invalid: the page again, with the error by the field."),
        (status = 403, description = "The form's CSRF token did not match."),
        (status = 409, description = "Changed by another request at the same time: the page again."),
        (status = 410, description = "The session has expired: nothing changed.")))]
pub async fn update_details(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let (portal, csrf) = match posted(&state, &id, &headers, &fields).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let (name, email) = (field(&fields, "name"), field(&fields, "email"));
    let now = state.clock.now();
    match portal::update_details(&state.db, &portal, name, email, now).await {
        Ok(_) => back(&id, "details"),
        Err(error) => {
            let view = View {
                name: Some(name.to_string()),
                email: Some(email.to_string()),
                ..View::default()
            };
            render(&state, &portal, &view.with(error), &csrf).await
        }
    }
}

/// Saves a new card (test mode) and makes it the one the customer's subscriptions charge.
#[utoipa::path(post, path = "/portal/{id}/card", tag = "Pages",
    params(("id" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`, `card_number`, `card_expiry`, `card_cvc`."),
    responses((status = 303, description = "Saved: back to the page."),
        (status = 400, description = "The card's number, expiry or security code is invalid: the page again, with the error by the field."),
        (status = 402, description = "The card was declined: the page again, with the reason."),
        (status = 403, description = "The form's CSRF token did not match."),
        (status = 409, description = "Live mode: cards cannot be taken without a payment processor."),
        (status = 410, description = "The session has expired: nothing changed.")))]
pub async fn replace_card(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let (portal, csrf) = match posted(&state, &id, &headers, &fields).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let (number, expiry, cvc) = (
        field(&fields, "card_number"),
        field(&fields, "card_expiry"),
        field(&fields, "card_cvc"),
    );
    let now = state.clock.now();
    match portal::replace_card(&state.db, &portal, number, expiry, cvc, now).await {
        Ok(Ok(_)) => back(&id, "card"),
        Ok(Err(refused)) => {
            let status = match refused.reached_processor {
                true => StatusCode::PAYMENT_REQUIRED,
                false => StatusCode::BAD_REQUEST,
            };
            let mut view = View::default().with_error(refused.field.name(), refused.message);
            view.status = status;
            render(&state, &portal, &view, &csrf).await
        }
        Err(error) => render(&state, &portal, &View::default().with(error), &csrf).await,
    }
}

// ----- Forms -------------------------------------------------------------------------------------

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// The portal a form was posted to, once its CSRF token matched and the session was found
/// open; otherwise the page to answer instead (refused, not found, expired).
async fn posted(
    state: &AppState,
    id: &str,
    headers: &HeaderMap,
    fields: &[(String, String)],
) -> Result<(Portal, Csrf), Response> {
    let csrf = Csrf::for_page(headers, &state.config.public_url, CSRF_PATH);
    if !csrf.accepts(fields) {
        return Err(message_page(
            StatusCode::FORBIDDEN,
            "Please reload the page",
            "This form has expired or was sent from another site. Reload your billing page and try again; nothing was changed.",
        ));
    }
    match portal::open(&state.db, id, state.clock.now()).await {
        Ok(portal) if portal.expired() => Err(expired(&portal)),
        Ok(portal) => Ok((portal, csrf)),
        Err(error) => Err(failure(error)),
    }
}

// ----- Responses ---------------------------------------------------------------------------------

/// Back to the page after a change, saying what was saved.
fn back(id: &str, saved: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!("/portal/{id}?saved={saved}")) {
        headers.insert(header::LOCATION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn saved_notice(saved: &str) -> Option<&'static str> {
    Some(match saved {
        "canceled" => {
            "Your subscription will end at the end of its current period. You can resume it until then."
        }
        "resumed" => "Your subscription will continue and renew as before.",
        "details" => "Your details have been saved.",
        "card" => "Your new card has been saved. Your subscriptions will be charged to it.",
        _ => return None,
    })
}

fn failure(error: DomainError) -> Response {
    match error {
        DomainError::NotFound { .. } => message_page(
            StatusCode::NOT_FOUND,
            "Link not valid",
            "This billing link is not valid. Return to the shop and open your billing page again.",
        ),
        error => {
            tracing::error!(%error, "portal page failed");
            message_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Something went wrong on our side. Please try again in a moment.",
            )
        }
    }
}

/// The page of a session past its hour: nothing can be done here any more; the shop can open a
/// new one.
fn expired(portal: &Portal) -> Response {
    let back = portal
        .session
        .return_url
        .as_deref()
        .map(|url| return_link(url, &portal.account.name, "button"))
        .unwrap_or_default();
    let main = format!(
        "<main class=\"card message ended\">\n<p class=\"merchant\">{merchant}</p>\n\
         <h1>This link has expired</h1>\n\
         <p>For your security, billing links work for one hour. Return to {merchant} and open \
         your billing page again.</p>\n{back}\n</main>",
        merchant = escape(&portal.account.name),
    );
    page(StatusCode::GONE, "Link expired", &main, &[])
}

fn return_link(url: &str, merchant: &str, class: &str) -> String {
    format!(
        "<p><a class=\"{class}\" href=\"{}\">Return to {}</a></p>",
        escape(url),
        escape(merchant)
    )
}

async fn rerender(state: &AppState, id: &str, view: View, csrf: &Csrf) -> Response {
    match portal::open(&state.db, id, state.clock.now()).await {
        Ok(portal) => render(state, &portal, &view, csrf).await,
        Err(error) => failure(error),
    }
}

// ----- Rendering ---------------------------------------------------------------------------------

/// What a page shows besides the customer's billing: a notice, errors by field, and what the
/// customer typed into the details form.
struct View {
    status: StatusCode,
    saved: Option<&'static str>,
    /// Errors by form field (`email`, `card_number`...), or `form` for the whole page.
    errors: BTreeMap<String, String>,
    name: Option<String>,
    email: Option<String>,
}

impl Default for View {
    fn default() -> Self {
        View {
            status: StatusCode::OK,
            saved: None,
            errors: BTreeMap::new(),
            name: None,
            email: None,
        }
    }
}

impl View {
    fn with_error(mut self, field: &str, message: &str) -> View {
        self.status = StatusCode::BAD_REQUEST;
        self.errors.insert(field.to_string(), message.to_string());
        self
    }

    /// The view with a refused change's error by its field (or for the whole page).
    fn with(self, error: DomainError) -> View {
        match error {
            DomainError::Invalid { param, message, .. } => {
                let mut message = message;
                if let Some(first) = message.get(..1) {
                    message = first.to_uppercase() + &message[1..];
                }
                if !message.ends_with('.') {
                    message.push('.');
                }
                self.with_error(&param, &message)
            }
            DomainError::Conflict { message, .. } => {
                let mut view = self.with_error("form", &message);
                view.status = StatusCode::CONFLICT;
                view
            }
            other => {
                tracing::error!(error = %other, "portal change failed");
                let mut view = self.with_error(
                    "form",
                    "Something went wrong on our side. Please try again in a moment.",
                );
                view.status = StatusCode::INTERNAL_SERVER_ERROR;
                view
            }
        }
    }
}

async fn render(state: &AppState, portal: &Portal, view: &View, csrf: &Csrf) -> Response {
    if portal.expired() {
        return expired(portal);
    }
    let overview = match portal::overview(&state.db, portal).await {
        Ok(overview) => overview,
        Err(error) => return failure(error),
    };
    let public_url = &state.config.public_url;
    let main = layout(portal, &overview, view, csrf, public_url);
    let title = format!("Billing · {}", portal.account.name);
    let mut response = page(view.status, &title, &main, &[]);
    csrf.set_on(&mut response);
    response
}

fn layout(
    portal: &Portal,
    overview: &Overview,
    view: &View,
    csrf: &Csrf,
    public_url: &str,
) -> String {
    let merchant = escape(&portal.account.name);
    let test_badge = match portal.session.livemode {
        true => "",
        false => " <span class=\"badge\">Test mode</span>",
    };
    let back = portal
        .session
        .return_url
        .as_deref()
        .map(|url| return_link(url, &portal.account.name, "back"))
        .unwrap_or_default();
    let mut notices = String::new();
    if let Some(saved) = view.saved {
        notices.push_str(&format!(
            "<div class=\"notice\" role=\"status\">{}</div>\n",
            escape(saved)
        ));
    }
    for key in ["form", "action"] {
        if let Some(message) = view.errors.get(key) {
            notices.push_str(&format!(
                "<div class=\"alert\" role=\"alert\">{}</div>\n",
                escape(message)
            ));
        }
    }
    let who = portal
        .customer
        .email
        .as_deref()
        .or(portal.customer.name.as_deref())
        .map(|w| format!("<p class=\"who\">{}</p>\n", escape(w)))
        .unwrap_or_default();
    format!(
        "<main class=\"portal\">\n<header class=\"portal-head\">\n\
         <p class=\"merchant\">{merchant}{test_badge}</p>\n<h1>Your billing</h1>\n{who}{back}</header>\n\
         {notices}{subscriptions}{card}{invoices}{details}</main>\n\
         <footer class=\"footer\">Billing by kassa</footer>",
        subscriptions = subscriptions_section(portal, overview, csrf),
        card = card_section(portal, overview, view, csrf),
        invoices = invoices_section(overview, public_url),
        details = details_section(portal, view, csrf),
    )
}

fn subscriptions_section(portal: &Portal, overview: &Overview, csrf: &Csrf) -> String {
    let mut items = String::new();
    for subscription in &overview.subscriptions {
        items.push_str(&subscription_item(portal, overview, subscription, csrf));
    }
    let body = match items.is_empty() {
        true => "<p class=\"empty\">You have no subscriptions.</p>".to_string(),
        false => format!("<ul class=\"portal-list\">\n{items}</ul>"),
    };
    format!(
        "<section class=\"card wide\" aria-labelledby=\"subscriptions-heading\">\n\
         <h2 id=\"subscriptions-heading\">Subscriptions</h2>\n{body}\n</section>\n"
    )
}

fn subscription_item(
    portal: &Portal,
    overview: &Overview,
    subscription: &Subscription,
    csrf: &Csrf,
) -> String {
    let names: Vec<String> = subscription
        .items
        .iter()
        .map(|item| {
            let name = overview
                .products
                .get(&item.price.product_id)
                .cloned()
                .unwrap_or_else(|| item.price.product_id.clone());
            match item.quantity {
                1 => name,
                n => format!("{name} × {n}"),
            }
        })
        .collect();
    let when = match views::next_invoice(subscription) {
        NextInvoice::At(at) => format!("Next charge on {}", long_date(at)),
        NextInvoice::EndsAt(at) => format!("Ends on {}", long_date(at)),
        NextInvoice::Ended => format!(
            "Ended on {}",
            long_date(subscription.ended_at.unwrap_or(subscription.updated))
        ),
    };
    let id = escape(&subscription.id);
    let heading_id = format!("subscription-{id}-name");
    let action = match (subscription.ended_at, subscription.cancel_at) {
        (Some(_), _) => String::new(),
        (None, Some(_)) => action_form(
            portal,
            &id,
            "resume",
            "Resume subscription",
            &heading_id,
            csrf,
        ),
        (None, None) => action_form(
            portal,
            &id,
            "cancel",
            "Cancel at end of period",
            &heading_id,
            csrf,
        ),
    };
    format!(
        "<li class=\"portal-item\" id=\"subscription-{id}\">\n\
         <p class=\"portal-row\"><strong id=\"{heading_id}\">{names}</strong> {status}</p>\n\
         <p class=\"portal-row\"><span>{price}</span> <span class=\"hint\">{when}</span></p>\n{action}</li>\n",
        names = escape(&names.join(", ")),
        status = status_badge(subscription.status),
        price = escape(&per_period(subscription)),
        when = escape(&when),
    )
}

fn action_form(
    portal: &Portal,
    subscription: &str,
    action: &str,
    label: &str,
    described_by: &str,
    csrf: &Csrf,
) -> String {
    let class = match action {
        "cancel" => "secondary danger",
        _ => "primary",
    };
    format!(
        "<form method=\"post\" action=\"/portal/{session}/subscription\" class=\"inline\">{csrf}\
         <input type=\"hidden\" name=\"subscription\" value=\"{subscription}\">\
         <button type=\"submit\" name=\"action\" value=\"{action}\" class=\"{class}\" \
         aria-describedby=\"{described_by}\">{label}</button></form>\n",
        session = escape(&portal.session.id),
        csrf = csrf.input(),
        label = escape(label),
    )
}

/// An input with its label and, when the last try failed on it, its error.
fn labelled(name: &str, label: &str, input: &str, view: &View) -> String {
    let input_id = format!("field-{name}");
    let (aria, error) = match view.errors.get(name) {
        Some(message) => (
            format!(" aria-invalid=\"true\" aria-describedby=\"{input_id}-error\""),
            format!(
                "<span class=\"field-error\" id=\"{input_id}-error\">{}</span>",
                escape(message)
            ),
        ),
        None => (String::new(), String::new()),
    };
    format!(
        "<div class=\"field\"><label for=\"{input_id}\">{label}</label>\
         {open} id=\"{input_id}\"{aria}>{error}</div>\n",
        label = escape(label),
        open = input.trim_end_matches('>'),
    )
}

fn card_section(portal: &Portal, overview: &Overview, view: &View, csrf: &Csrf) -> String {
    let current = match &overview.card {
        Some(method) => format!(
            "<p>{brand} ending in {last4}, expires {month:02}/{year}</p>",
            brand = escape(&crate::domain::payments::brand_name(&method.card.brand)),
            last4 = escape(&method.card.last4),
            month = method.card.exp_month,
            year = method.card.exp_year,
        ),
        None => "<p class=\"hint\">No card on file.</p>".to_string(),
    };
    let form = if portal.session.livemode {
        "<div class=\"notice\" role=\"status\">Cards cannot be changed here at the moment.</div>"
            .to_string()
    } else {
        let mut fields = String::new();
        fields.push_str(&labelled(
            "card_number",
            "Card number",
            "<input type=\"text\" name=\"card_number\" autocomplete=\"cc-number\" inputmode=\"numeric\" \
             required placeholder=\"1234 1234 1234 1234\" maxlength=\"23\">",
            view,
        ));
        fields.push_str("<div class=\"row\">");
        fields.push_str(&labelled(
            "card_expiry",
            "Expiry (MM / YY)",
            "<input type=\"text\" name=\"card_expiry\" autocomplete=\"cc-exp\" inputmode=\"numeric\" \
             required placeholder=\"MM / YY\" maxlength=\"9\">",
            view,
        ));
        fields.push_str(&labelled(
            "card_cvc",
            "Security code",
            "<input type=\"text\" name=\"card_cvc\" autocomplete=\"cc-csc\" inputmode=\"numeric\" \
             required placeholder=\"CVC\" maxlength=\"4\">",
            view,
        ));
        fields.push_str("</div>");
        format!(
            "<form method=\"post\" action=\"/portal/{session}/card\" class=\"portal-form\">\n{csrf}\n\
             <fieldset><legend>Replace card</legend>\n\
             <p class=\"test-hint\">Test mode: use 4242 4242 4242 4242, any future expiry and any 3-digit security code.</p>\n\
             {fields}</fieldset>\n\
             <div class=\"actions\"><button type=\"submit\" class=\"primary\">Save card</button></div>\n</form>",
            session = escape(&portal.session.id),
            csrf = csrf.input(),
        )
    };
    format!(
        "<section class=\"card wide\" aria-labelledby=\"card-heading\">\n\
         <h2 id=\"card-heading\">Payment method</h2>\n{current}\n{form}\n</section>\n"
    )
}

/// Where an invoice is read: its `hosted_invoice_url`, else kassa's invoice page (the portal
/// lists no drafts, which have none).
fn invoice_url(invoice: &Invoice, public_url: &str) -> String {
    invoice.hosted_invoice_url(public_url).unwrap_or_else(|| {
        format!(
            "{}/invoices/{}",
            public_url.trim_end_matches('/'),
            invoice.id
        )
    })
}

fn invoices_section(overview: &Overview, public_url: &str) -> String {
    let mut items = String::new();
    for invoice in &overview.invoices {
        let currency = Currency::from_stored(invoice.currency.clone());
        let label = invoice.number.as_deref().unwrap_or(&invoice.id);
        items.push_str(&format!(
            "<li class=\"portal-item\" id=\"invoice-{id}\">\n\
             <p class=\"portal-row\"><a href=\"{url}\">Invoice {label}</a> \
             <span class=\"status status-{status}\">{status}</span></p>\n\
             <p class=\"portal-row\"><span>{amount}</span> <span class=\"hint\">{date}</span></p>\n</li>\n",
            id = escape(&invoice.id),
            url = escape(&invoice_url(invoice, public_url)),
            label = escape(label),
            status = invoice.status.as_str(),
            amount = escape(&currency.display(invoice.total)),
            date = escape(&long_date(invoice.created)),
        ));
    }
    let body = match items.is_empty() {
        true => "<p class=\"empty\">You have no invoices yet.</p>".to_string(),
        false => format!("<ul class=\"portal-list\">\n{items}</ul>"),
    };
    format!(
        "<section class=\"card wide\" aria-labelledby=\"invoices-heading\">\n\
         <h2 id=\"invoices-heading\">Invoices</h2>\n{body}\n</section>\n"
    )
}

fn details_section(portal: &Portal, view: &View, csrf: &Csrf) -> String {
    let customer = &portal.customer;
    let name = view
        .name
        .clone()
        .or_else(|| customer.name.clone())
        .unwrap_or_default();
    let email = view
        .email
        .clone()
        .or_else(|| customer.email.clone())
        .unwrap_or_default();
    let mut fields = labelled(
        "name",
        "Name",
        &format!(
            "<input type=\"text\" name=\"name\" autocomplete=\"name\" maxlength=\"256\" value=\"{}\">",
            escape(&name)
        ),
        view,
    );
    fields.push_str(&labelled(
        "email",
        "Email",
        &format!(
            "<input type=\"email\" name=\"email\" autocomplete=\"email\" required value=\"{}\">",
            escape(&email)
        ),
        view,
    ));
    format!(
        "<section class=\"card wide\" aria-labelledby=\"details-heading\">\n\
         <h2 id=\"details-heading\">Your details</h2>\n\
         <form method=\"post\" action=\"/portal/{session}/details\" class=\"portal-form\">\n{csrf}\n{fields}\
         <div class=\"actions\"><button type=\"submit\" class=\"primary\">Save details</button></div>\n</form>\n</section>\n",
        session = escape(&portal.session.id),
        csrf = csrf.input(),
    )
}
