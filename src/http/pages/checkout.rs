//! `/checkout/{id}`: the hosted checkout page, where the customer pays.
//!
//! It works as plain HTML forms; `checkout.js` only improves it (live totals, card number
//! formatting, a disabled button while paying). Forms carry a CSRF token that must match a
//! cookie set with the page (double submit), so another site cannot post them.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::csrf::Csrf;
use super::{escape, long_date, message_page, page};
use crate::domain::DomainError;
use crate::domain::billing::checkout::Deferral;
use crate::domain::checkout::{CheckoutMode, LineItem, PaymentStatus, SessionState};
use crate::domain::hosted::{self, HostedSession, PayOutcome, PaymentForm};
use crate::http::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show_checkout, submit_checkout))
        .routes(routes!(cancel_checkout))
}

// ----- Handlers ----------------------------------------------------------------------------------

/// The hosted checkout page of a session: the payment form while it is open, or a page saying
/// how it ended.
#[utoipa::path(get, path = "/checkout/{id}", tag = "Pages",
    params(("id" = String, Path, description = "`cs_test_...` or `cs_live_...`")),
    responses((status = 200, description = "The page (HTML)."), (status = 404, description = "No such session (HTML).")))]
pub async fn show_checkout(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let csrf = Csrf::for_page(&headers, &state.config.public_url, "/checkout");
    match load(&state, &id).await {
        Ok(hosted) => render(&hosted, &View::default(), &csrf),
        Err(error) => failure(error),
    }
}

/// Pays (`action=pay`) or updates the quantities and amounts (`action=update`).
#[utoipa::path(post, path = "/checkout/{id}", tag = "Pages",
    params(("id" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", description = "The payment form."),
    responses((status = 303, description = "Paid: to the success URL, or back to the page."),
              (status = 400, description = "A field is invalid: the page again, with the error by the field."),
              (status = 402, description = "The card was declined: the page again, with the reason."),
              (status = 403, description = "The form's CSRF token did not match.")))]
pub async fn submit_checkout(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let csrf = Csrf::for_page(&headers, &state.config.public_url, "/checkout");
    if !csrf.accepts(&fields) {
        return stale_form();
    }
    let (db, now, public_url) = (&state.db, state.clock.now(), &state.config.public_url);
    let form = read_form(fields);
    let view = View {
        email: form.payment.email.clone().unwrap_or_default(),
        name: form.payment.name.clone(),
        ..View::default()
    };
    if form.action == "update" {
        let mut hosted = match load(&state, &id).await {
            Ok(hosted) => hosted,
            Err(error) => return failure(error),
        };
        let open = hosted.session.state == SessionState::Open && !hosted.session.livemode;
        if open
            && let Err(error) =
                hosted::update_choices(db, &mut hosted, &form.payment.choices, now).await
        {
            return rerender(&state, &id, view.with_error(error), &csrf).await;
        }
        // The page again, keeping what the customer typed (never the card).
        return rerender(&state, &id, view, &csrf).await;
    }
    match hosted::pay(db, &id, form.payment, now, public_url).await {
        Ok(PayOutcome::Completed(session)) => match &session.success_url {
            Some(url) => see_other(&hosted::redirect_url(url, &id, "completed")),
            None => see_other(&format!("/checkout/{id}")),
        },
        Ok(PayOutcome::AlreadyFinal(_)) => see_other(&format!("/checkout/{id}")),
        Ok(PayOutcome::CardRejected(rejected)) => {
            let error = DomainError::invalid(rejected.field.name(), rejected.message);
            rerender(&state, &id, view.with_error(error), &csrf).await
        }
        Ok(PayOutcome::Declined {
            decline,
            attempts_left,
        }) => {
            let attempts = if attempts_left == 1 {
                "1 attempt".to_string()
            } else {
                format!("{attempts_left} attempts")
            };
            let view = View {
                status: StatusCode::PAYMENT_REQUIRED,
                banner: Some(format!(
                    "{} Try another card ({attempts} left).",
                    decline.message
                )),
                ..view
            };
            rerender(&state, &id, view, &csrf).await
        }
        Ok(PayOutcome::Failed(_)) => {
            let view = View {
                status: StatusCode::PAYMENT_REQUIRED,
                ..view
            };
            rerender(&state, &id, view, &csrf).await
        }
        Err(error @ DomainError::Invalid { .. }) => {
            rerender(&state, &id, view.with_error(error), &csrf).await
        }
        Err(DomainError::Conflict { .. }) => {
            let view = View {
                status: StatusCode::CONFLICT,
                ..view
            };
            rerender(&state, &id, view, &csrf).await
        }
        Err(error) => failure(error),
    }
}

/// The customer pressed Cancel: the session is canceled and the browser goes to the cancel URL
/// with `session_id` and `status=canceled` (or back to the page when there is none).
#[utoipa::path(post, path = "/checkout/{id}/cancel", tag = "Pages",
    params(("id" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`."),
    responses((status = 303, description = "To the cancel URL, or back to the page."),
              (status = 403, description = "The form's CSRF token did not match.")))]
pub async fn cancel_checkout(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let csrf = Csrf::for_page(&headers, &state.config.public_url, "/checkout");
    if !csrf.accepts(&fields) {
        return stale_form();
    }
    match hosted::cancel(&state.db, &id, state.clock.now(), &state.config.public_url).await {
        Ok(session) => match (&session.state, &session.cancel_url) {
            (SessionState::Canceled, Some(url)) => {
                see_other(&hosted::redirect_url(url, &id, "canceled"))
            }
            _ => see_other(&format!("/checkout/{id}")),
        },
        Err(error) => failure(error),
    }
}

// ----- Forms -------------------------------------------------------------------------------------

struct SubmittedForm {
    /// `pay` or `update`.
    action: String,
    payment: PaymentForm,
}

fn read_form(fields: Vec<(String, String)>) -> SubmittedForm {
    // The email field is required: a form without it is checked as an empty one.
    let mut payment = PaymentForm {
        email: Some(String::new()),
        ..PaymentForm::default()
    };
    let mut action = String::from("pay");
    for (name, value) in fields {
        if let Some(line) = bracketed(&name, "quantity") {
            payment.choices.quantities.insert(line.to_string(), value);
        } else if let Some(line) = bracketed(&name, "amount") {
            payment.choices.amounts.insert(line.to_string(), value);
        } else {
            match name.as_str() {
                "action" => action = value,
                "email" => payment.email = Some(value),
                "name" => payment.name = value,
                "card_number" => payment.card_number = value,
                "card_expiry" => payment.card_expiry = value,
                "card_cvc" => payment.card_cvc = value,
                _ => {}
            }
        }
    }
    SubmittedForm { action, payment }
}

/// `quantity[li_1]` → `li_1`.
fn bracketed<'a>(name: &'a str, field: &str) -> Option<&'a str> {
    name.strip_prefix(field)?
        .strip_prefix('[')?
        .strip_suffix(']')
}

// ----- Responses ---------------------------------------------------------------------------------

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn stale_form() -> Response {
    message_page(
        StatusCode::FORBIDDEN,
        "Please reload the page",
        "This form has expired or was sent from another site. Reload the checkout page and try again; you have not been charged.",
    )
}

fn failure(error: DomainError) -> Response {
    match error {
        DomainError::NotFound { .. } => message_page(
            StatusCode::NOT_FOUND,
            "Checkout not found",
            "This checkout link is not valid. Please return to the shop and start again.",
        ),
        error => {
            tracing::error!(%error, "checkout page failed");
            message_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Something went wrong on our side. Please try again in a moment.",
            )
        }
    }
}

/// The session as its page shows it. An emailed receipt is promised only by a server that
/// emails receipts of the session's mode: on another, it is about to be marked skipped.
async fn load(state: &AppState, id: &str) -> Result<HostedSession, DomainError> {
    let mut hosted =
        hosted::load(&state.db, id, state.clock.now(), &state.config.public_url).await?;
    if !state.config.emails_receipts(hosted.session.livemode) {
        hosted.receipt_emailed_to = None;
    }
    Ok(hosted)
}

/// Renders the page again after a POST, with what the customer typed (never the card).
async fn rerender(state: &AppState, id: &str, view: View, csrf: &Csrf) -> Response {
    match load(state, id).await {
        Ok(hosted) => render(&hosted, &view, csrf),
        Err(error) => failure(error),
    }
}

// ----- Rendering ---------------------------------------------------------------------------------

/// What a re-rendered form shows besides the session: the customer's entries and the errors.
struct View {
    status: StatusCode,
    email: String,
    name: String,
    /// Errors by form field (`email`, `card_number`, `quantity[li_...]`...).
    errors: BTreeMap<String, String>,
    /// A message for the whole form (a declined card).
    banner: Option<String>,
}

impl Default for View {
    fn default() -> Self {
        View {
            status: StatusCode::OK,
            email: String::new(),
            name: String::new(),
            errors: BTreeMap::new(),
            banner: None,
        }
    }
}

impl View {
    /// The view with `error` by its field. A total that cannot be charged is also said above
    /// the form, since no single field holds it.
    fn with_error(mut self, error: DomainError) -> View {
        self.status = StatusCode::BAD_REQUEST;
        let whole_form = error.is_out_of_bounds();
        let DomainError::Invalid { param, message, .. } = error else {
            return self;
        };
        let mut message = message;
        if let Some(first) = message.get(..1) {
            message = first.to_uppercase() + &message[1..];
        }
        if !message.ends_with('.') {
            message.push('.');
        }
        if whole_form {
            self.banner = Some(message.clone());
        }
        self.errors.insert(param, message);
        self
    }
}

fn render(hosted: &HostedSession, view: &View, csrf: &Csrf) -> Response {
    let session = &hosted.session;
    let mut targets = Vec::new();
    for url in [&session.success_url, &session.cancel_url]
        .into_iter()
        .flatten()
    {
        if let Some(origin) = origin(url).filter(|o| !targets.contains(o)) {
            targets.push(origin);
        }
    }
    let (status, title, main) = match session.state {
        SessionState::Open if session.livemode => (
            view.status,
            format!("Checkout · {}", hosted.account.name),
            layout(
                hosted,
                view,
                "<div class=\"notice\" role=\"status\"><h2>Payments are not available yet</h2>\
                 <p>This shop cannot take payments at the moment. You have not been charged.</p></div>",
            ),
        ),
        SessionState::Open => (
            view.status,
            format!("Checkout · {}", hosted.account.name),
            layout(hosted, view, &payment_form(hosted, view, csrf)),
        ),
        SessionState::Completed => (
            StatusCode::OK,
            format!("Thank you · {}", hosted.account.name),
            ended(
                hosted,
                "done",
                match session.mode {
                    CheckoutMode::Setup => "Card confirmed",
                    _ if session.payment_status == PaymentStatus::Paid => "Payment complete",
                    _ => "Order complete",
                },
                &completed_message(hosted),
                session
                    .success_url
                    .as_ref()
                    .map(|u| hosted::redirect_url(u, &session.id, "completed")),
            ),
        ),
        SessionState::Expired => (
            StatusCode::OK,
            format!("Checkout expired · {}", hosted.account.name),
            ended(
                hosted,
                "ended",
                "This checkout has expired",
                "It was open for a limited time and no payment was made. Return to the shop to start again.",
                session.cancel_url.clone(),
            ),
        ),
        SessionState::Canceled => (
            StatusCode::OK,
            format!("Checkout canceled · {}", hosted.account.name),
            ended(
                hosted,
                "ended",
                "This checkout was canceled",
                "No payment was made.",
                session
                    .cancel_url
                    .as_ref()
                    .map(|u| hosted::redirect_url(u, &session.id, "canceled")),
            ),
        ),
        SessionState::Failed => (
            view.status,
            format!("Payment failed · {}", hosted.account.name),
            ended(
                hosted,
                "failed",
                "The payment could not be completed",
                "Too many attempts were declined, so this checkout is closed and you have not been charged. Return to the shop to start again.",
                session.cancel_url.clone(),
            ),
        ),
    };
    let mut response = page(status, &title, &main, &targets);
    if let Some(cookie) = &csrf.set_cookie {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, cookie.clone());
    }
    response
}

/// `https://shop.example:8443/ok?x` → `https://shop.example:8443`, as a CSP names it.
fn origin(url: &str) -> Option<String> {
    crate::domain::validate::csp_origin(url)
}

/// What the customer reads once the session is completed. It promises nothing kassa does not
/// do: kassa sends no email.
fn completed_message(hosted: &HostedSession) -> String {
    let session = &hosted.session;
    if let Some(message) = &hosted.confirmation_message {
        return message.clone();
    }
    match session.mode {
        CheckoutMode::Setup => "You have not been charged.".to_string(),
        _ if session.payment_status == PaymentStatus::Paid => format!(
            "You paid {} to {}.",
            session.currency.display(session.amount_total),
            hosted.account.name
        ),
        CheckoutMode::Subscription => format!(
            "Your subscription with {} has started. You have not been charged today.",
            hosted.account.name
        ),
        _ => format!("Your order with {} is complete.", hosted.account.name),
    }
}

/// The page of a session that has ended: a heading, a message and a way back to the shop.
fn ended(
    hosted: &HostedSession,
    tone: &str,
    heading: &str,
    message: &str,
    back: Option<String>,
) -> String {
    let back = back
        .map(|url| {
            format!(
                "<p><a class=\"button\" href=\"{}\">Return to {}</a></p>",
                escape(&url),
                escape(&hosted.account.name)
            )
        })
        .unwrap_or_default();
    let icon = match tone {
        "done" => "<span class=\"icon\" aria-hidden=\"true\">&#10003;</span>",
        "failed" => "<span class=\"icon\" aria-hidden=\"true\">!</span>",
        _ => "",
    };
    let test_note = if hosted.session.livemode {
        ""
    } else {
        super::TEST_NOTE
    };
    let emailed = match (tone, &hosted.receipt_emailed_to) {
        ("done", Some(to)) => format!("A receipt is on its way to {}. ", escape(to)),
        _ => String::new(),
    };
    let receipt = match (tone, &hosted.receipt_url) {
        ("done", Some(url)) => format!(
            "<p>{emailed}<a href=\"{}\">View your receipt</a></p>\n",
            escape(url)
        ),
        _ => String::new(),
    };
    format!(
        "<main class=\"card message {tone}\">\n<p class=\"merchant\">{merchant}</p>\n\
         {icon}<h1>{heading}</h1>\n<p>{message}</p>\n{receipt}{test_note}\n{back}\n</main>",
        merchant = escape(&hosted.account.name),
        heading = escape(heading),
        message = escape(message),
    )
}

/// The two-part page of an open session: the order summary, and `action` (the form, or a notice).
fn layout(hosted: &HostedSession, view: &View, action: &str) -> String {
    let session = &hosted.session;
    let currency = &session.currency;
    let test_badge = if session.livemode {
        ""
    } else {
        "<span class=\"badge\">Test mode</span>"
    };
    let heading = match session.mode {
        CheckoutMode::Payment => format!("Pay {}", escape(&hosted.account.name)),
        CheckoutMode::Subscription => format!("Subscribe to {}", escape(&session.product_name)),
        CheckoutMode::Setup => format!("Save a card with {}", escape(&hosted.account.name)),
    };
    let mut items = String::new();
    for line in &hosted.lines {
        items.push_str(&line_item(hosted, line, view));
    }
    let then = then_line(hosted);
    format!(
        "<main class=\"checkout\" data-currency-prefix=\"{prefix}\" data-exponent=\"{exponent}\">\n\
         <section class=\"summary\" aria-labelledby=\"summary-heading\">\n\
         <p class=\"merchant\">{merchant} {test_badge}</p>\n\
         <h1 id=\"summary-heading\">{heading}</h1>\n\
         <p class=\"total\"><span class=\"label\">Total</span> <output id=\"total\" form=\"pay-form\" aria-live=\"polite\">{total}</output>{charged_now}</p>\n{then}\
         <ul class=\"items\">\n{items}</ul>\n\
         <p class=\"expires\" id=\"expires\" data-seconds-left=\"{seconds_left}\">{time_left}</p>\n\
         </section>\n\
         <section class=\"pay\" aria-label=\"Payment\">\n{action}\n</section>\n\
         </main>\n\
         <footer class=\"footer\">Checkout by kassa</footer>",
        prefix = escape(&currency.display_prefix()),
        exponent = currency.exponent(),
        merchant = escape(&hosted.account.name),
        total = escape(&currency.display(session.amount_total)),
        charged_now = if then.is_empty() {
            ""
        } else {
            " <span class=\"per\">now</span>"
        },
        seconds_left = (session.expires_at - hosted.now).max(0),
        time_left = escape(&time_left(session.expires_at - hosted.now)),
    )
}

/// What a subscription charges after today, under its total (which is what it charges now):
/// "Then €9.00 every month", the recurring lines' total (one-time lines are charged once);
/// after a free first period, "14 days free, then €9.00 every month" or "Free until 2 February
/// 2027, then ...".
/// Empty for a session without recurring lines.
fn then_line(hosted: &HostedSession) -> String {
    let Some(recurring) = hosted
        .lines
        .iter()
        .find_map(|l| l.price.terms.recurring.as_ref())
    else {
        return String::new();
    };
    let every = if recurring.interval_count == 1 {
        format!("every {}", recurring.interval.as_str())
    } else {
        format!(
            "every {} {}s",
            recurring.interval_count,
            recurring.interval.as_str()
        )
    };
    let then: i64 = hosted
        .lines
        .iter()
        .filter(|l| l.price.is_recurring())
        .map(|l| l.amount_total)
        .sum();
    let then = escape(&hosted.session.currency.display(then));
    let free = match hosted.session.deferral() {
        Some(Deferral::TrialDays(1)) => "1 day free, then".to_string(),
        Some(Deferral::TrialDays(days)) => format!("{days} days free, then"),
        Some(Deferral::TrialEnd(at) | Deferral::Anchor(at)) => {
            format!("Free until {}, then", long_date(at))
        }
        None => "Then".to_string(),
    };
    format!("<p class=\"then\">{free} {then} {every}</p>\n")
}

fn line_item(hosted: &HostedSession, line: &LineItem, view: &View) -> String {
    let currency = &hosted.session.currency;
    let id = escape(&line.id);
    let quantity_error = view.errors.get(&format!("quantity[{}]", line.id));
    let amount_error = view.errors.get(&format!("amount[{}]", line.id));
    let name = escape(&line.description);
    let quantity = match HostedSession::quantity_bounds(line) {
        Some((min, max)) => format!(
            "<label class=\"quantity\" for=\"quantity-{id}\">Quantity<span class=\"visually-hidden\"> of {name}</span> \
             <input id=\"quantity-{id}\" name=\"quantity[{id}]\" form=\"pay-form\" type=\"number\" \
             inputmode=\"numeric\" min=\"{min}\" max=\"{max}\" step=\"1\" value=\"{q}\" data-quantity\
             {aria}></label>{error}",
            q = line.quantity,
            aria = invalid_aria(&format!("quantity-{id}"), quantity_error, None),
            error = field_error_slot(&format!("quantity-{id}"), quantity_error),
        ),
        None => format!("<span class=\"quantity\">Qty {}</span>", line.quantity),
    };
    let bounds = HostedSession::amount_bounds(line).zip(hosted.least_amount(line));
    let unit = match bounds {
        Some(((_, max), min)) => format!(
            "<label class=\"amount\" for=\"amount-{id}\">Amount ({prefix}) \
             <input id=\"amount-{id}\" name=\"amount[{id}]\" form=\"pay-form\" type=\"text\" \
             inputmode=\"decimal\" value=\"{value}\" data-amount data-min=\"{min}\" data-max=\"{max}\"\
             {aria}></label>\
             <span class=\"hint\" id=\"amount-{id}-hint\">At least {min_text}</span>{error}",
            aria = invalid_aria(
                &format!("amount-{id}"),
                amount_error,
                Some(&format!("amount-{id}-hint"))
            ),
            error = field_error_slot(&format!("amount-{id}"), amount_error),
            prefix = escape(currency.display_prefix().trim()),
            value = escape(&currency.format_major(line.unit_amount)),
            min_text = escape(&currency.display(min)),
        ),
        None => format!(
            "<span class=\"unit\">{} each</span>",
            escape(&currency.display(line.unit_amount))
        ),
    };
    // A recurring line of a subscription whose first period is free is not in today's total.
    let deferred = if hosted.session.deferral().is_some() && line.price.is_recurring() {
        " data-deferred"
    } else {
        ""
    };
    format!(
        "<li class=\"item\" data-line{deferred} data-unit-amount=\"{unit_amount}\" data-line-quantity=\"{q}\">\n\
         <span class=\"name\">{name}</span>\n{unit}\n{quantity}\n\
         <span class=\"line-total\" data-line-total>{total}</span>\n</li>\n",
        unit_amount = line.unit_amount,
        q = line.quantity,
        total = escape(&currency.display(line.amount_total)),
    )
}

/// ` aria-invalid` and ` aria-describedby` for an input: its error when it has one, else its
/// hint.
fn invalid_aria(input_id: &str, error: Option<&String>, hint_id: Option<&str>) -> String {
    match (error, hint_id) {
        (Some(_), _) => format!(" aria-invalid=\"true\" aria-describedby=\"{input_id}-error\""),
        (None, Some(hint)) => format!(" aria-describedby=\"{hint}\""),
        (None, None) => String::new(),
    }
}

fn field_error_slot(input_id: &str, error: Option<&String>) -> String {
    match error {
        Some(message) => format!(
            "<span class=\"field-error\" id=\"{input_id}-error\">{}</span>",
            escape(message)
        ),
        None => String::new(),
    }
}

fn payment_form(hosted: &HostedSession, view: &View, csrf: &Csrf) -> String {
    let session = &hosted.session;
    let id = escape(&session.id);
    let mut errors = String::new();
    if let Some(banner) = &view.banner {
        errors.push_str(&format!(
            "<div class=\"alert\" role=\"alert\" id=\"form-alert\">{}</div>\n",
            escape(banner)
        ));
    }
    if view
        .errors
        .keys()
        .any(|p| p.starts_with("quantity") || p.starts_with("amount"))
    {
        errors.push_str(
            "<div class=\"alert\" role=\"alert\">Check the quantities and amounts in your order.</div>\n",
        );
    }
    let field = |param: &str, label: &str, input: &str, hint: &str| {
        let input_id = format!("field-{param}");
        let error = view.errors.get(param);
        let hint_id = format!("{input_id}-hint");
        let aria = invalid_aria(
            &input_id,
            error,
            (!hint.is_empty()).then_some(hint_id.as_str()),
        );
        let hint_html = if hint.is_empty() {
            String::new()
        } else {
            format!(
                "<span class=\"hint\" id=\"{input_id}-hint\">{}</span>",
                escape(hint)
            )
        };
        format!(
            "<div class=\"field\"><label for=\"{input_id}\">{label}</label>\
             {input_open} id=\"{input_id}\"{aria}>{hint_html}{error_html}</div>\n",
            label = escape(label),
            input_open = input.trim_end_matches('>'),
            error_html = field_error_slot(&input_id, error),
        )
    };
    let email = session
        .customer_email
        .clone()
        .filter(|_| view.email.is_empty())
        .unwrap_or_else(|| view.email.clone());
    let mut fields = String::new();
    fields.push_str(&field(
        "email",
        "Email",
        &format!(
            "<input type=\"email\" name=\"email\" autocomplete=\"email\" required value=\"{}\">",
            escape(&email)
        ),
        "",
    ));
    let needs_card = hosted.needs_card();
    if needs_card {
        fields.push_str("<fieldset class=\"card-fields\"><legend>Card</legend>\n");
        fields.push_str(&field(
            "card_number",
            "Card number",
            "<input type=\"text\" name=\"card_number\" autocomplete=\"cc-number\" inputmode=\"numeric\" \
             required placeholder=\"1234 1234 1234 1234\" maxlength=\"23\" data-card-number>",
            "",
        ));
        fields.push_str("<div class=\"row\">");
        fields.push_str(&field(
            "card_expiry",
            "Expiry (MM / YY)",
            "<input type=\"text\" name=\"card_expiry\" autocomplete=\"cc-exp\" inputmode=\"numeric\" \
             required placeholder=\"MM / YY\" maxlength=\"9\" data-card-expiry>",
            "",
        ));
        fields.push_str(&field(
            "card_cvc",
            "Security code",
            "<input type=\"text\" name=\"card_cvc\" autocomplete=\"cc-csc\" inputmode=\"numeric\" \
             required placeholder=\"CVC\" maxlength=\"4\">",
            "",
        ));
        fields.push_str("</div>");
        fields.push_str(&field(
            "name",
            "Name on card",
            &format!(
                "<input type=\"text\" name=\"name\" autocomplete=\"cc-name\" value=\"{}\">",
                escape(&view.name)
            ),
            "",
        ));
        fields.push_str("</fieldset>\n");
    }
    let test_hint = if needs_card {
        "<p class=\"test-hint\">Test mode: no real money moves. Pay with 4242 4242 4242 4242, any future expiry and any 3-digit security code.</p>"
    } else {
        ""
    };
    let total = session.currency.display(session.amount_total);
    // The merchant's `submit_type` chooses the word, as on Stripe's page.
    let verb = match session.settings.get("submit_type").and_then(|v| v.as_str()) {
        Some("book") => "Book",
        Some("donate") => "Donate",
        Some("subscribe") => "Subscribe",
        _ => "Pay",
    };
    let pay_label = match (session.mode, needs_card) {
        (CheckoutMode::Setup, _) => "Save card".to_string(),
        (CheckoutMode::Subscription, _) if session.deferral().is_some_and(Deferral::is_trial) => {
            "Start trial".to_string()
        }
        (CheckoutMode::Subscription, _) => "Subscribe".to_string(),
        (CheckoutMode::Payment, true) => format!("{verb} {total}"),
        (CheckoutMode::Payment, false) => "Complete order".to_string(),
    };
    let adjustable = hosted.lines.iter().any(|l| {
        HostedSession::quantity_bounds(l).is_some() || HostedSession::amount_bounds(l).is_some()
    });
    let update = if adjustable {
        "<button type=\"submit\" name=\"action\" value=\"update\" formnovalidate class=\"secondary\" data-update>Update total</button>"
    } else {
        ""
    };
    // Pay comes first in the form, so Enter in any field pays.
    format!(
        "<form id=\"pay-form\" method=\"post\" action=\"/checkout/{id}\">\n{csrf}\n{errors}{test_hint}\n{fields}\
         <div class=\"actions\">\
         <button type=\"submit\" name=\"action\" value=\"pay\" class=\"primary\" data-pay data-label=\"{pay_prefix}\">{label}</button>{update}</div>\n\
         </form>\n\
         <form method=\"post\" action=\"/checkout/{id}/cancel\" class=\"cancel\">{csrf}\
         <button type=\"submit\" class=\"link\">{cancel}</button></form>",
        csrf = csrf.input(),
        label = escape(&pay_label),
        pay_prefix = if session.mode == CheckoutMode::Payment && needs_card {
            format!("{verb} ")
        } else {
            String::new()
        },
        // Without a cancel URL there is no shop to return to: the page shows the canceled state.
        cancel = match &session.cancel_url {
            Some(_) => format!("Cancel and return to {}", escape(&hosted.account.name)),
            None => "Cancel checkout".to_string(),
        },
    )
}

/// "Expires in 59 minutes".
fn time_left(seconds: i64) -> String {
    let minutes = (seconds.max(0) + 59) / 60;
    match (minutes / 60, minutes % 60) {
        (0, 1) => "Expires in 1 minute".into(),
        (0, m) => format!("Expires in {m} minutes"),
        (1, 0) => "Expires in 1 hour".into(),
        (h, 0) => format!("Expires in {h} hours"),
        (h, m) => format!("Expires in {h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_for_form_action() {
        assert_eq!(
            origin("https://shop.example:8443/ok?x=1").as_deref(),
            Some("https://shop.example:8443")
        );
        assert_eq!(
            origin("http://127.0.0.1:3000").as_deref(),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(origin("https://evil.example;script-src *"), None);
    }

    #[test]
    fn time_left_reads_naturally() {
        assert_eq!(time_left(3600), "Expires in 1 hour");
        assert_eq!(time_left(3599), "Expires in 1 hour");
        assert_eq!(time_left(61), "Expires in 2 minutes");
        assert_eq!(time_left(5400), "Expires in 1 h 30 min");
    }
}
