//! `/dashboard/subscriptions`: subscriptions filtered by status (and customer), and each
//! subscription's items, period, next invoice, invoices with their charge attempts, and events;
//! cancel now (after a confirmation page), cancel at the period's end, and resume. The changes
//! go through the domain functions `/v1/subscriptions` uses, so they write the same state and
//! events (`customer.subscription.updated`, `customer.subscription.deleted`).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Signed, failure, layout, message, see_other, signed_form, signed_in, when};
use crate::domain::DomainError;
use crate::domain::billing::changes::{CancellationInput, SubscriptionChange};
use crate::domain::billing::views::{self, InvoiceAttempts, NextInvoice};
use crate::domain::billing::{self, Subscription, SubscriptionStatus};
use crate::domain::catalog::Recurring;
use crate::domain::list::{PageRequest, PageStart};
use crate::domain::money::Currency;
use crate::http::AppState;
use crate::http::pages::escape;
use crate::store::billing::SubscriptionFilter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_subscriptions))
        .routes(routes!(show_subscription))
        .routes(routes!(confirm_cancel, cancel_now))
        .routes(routes!(cancel_at_period_end))
        .routes(routes!(resume))
}

/// Rows on a page of the dashboard's lists.
pub const PAGE: u32 = 25;

/// The first page of a list, or the page after `after`.
pub fn page_after(after: Option<&str>) -> PageRequest {
    PageRequest {
        limit: PAGE,
        start: after
            .filter(|a| !a.is_empty())
            .map_or(PageStart::Offset(0), |a| PageStart::After(a.to_string())),
        after_param: "after",
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionSearch {
    /// A status (active, trialing, past_due, unpaid, canceled...), or all (the default).
    pub status: Option<String>,
    /// Only this customer's (`cus_…`).
    pub customer: Option<String>,
    /// The page after this subscription id.
    pub after: Option<String>,
}

/// The statuses of the filter, in its order, with their labels.
const STATUSES: [(&str, &str); 9] = [
    ("all", "All"),
    ("active", "Active"),
    ("trialing", "Trialing"),
    ("past_due", "Past due"),
    ("unpaid", "Unpaid"),
    ("canceled", "Canceled"),
    ("incomplete", "Incomplete"),
    ("incomplete_expired", "Incomplete, expired"),
    ("paused", "Paused"),
];

/// A status as a badge: `<span class="status status-past_due">Past due</span>`.
pub fn status_badge(status: SubscriptionStatus) -> String {
    let label = STATUSES
        .iter()
        .find(|(value, _)| *value == status.as_str())
        .map_or(status.as_str(), |(_, label)| label);
    format!(
        "<span class=\"status status-{}\">{label}</span>",
        status.as_str()
    )
}

/// `month`, `3 months`.
fn interval_text(recurring: Recurring) -> String {
    match recurring.interval_count {
        1 => recurring.interval.as_str().to_string(),
        n => format!("{n} {}s", recurring.interval.as_str()),
    }
}

/// What a subscription charges per period, as `€18.00 / month`.
pub fn per_period(subscription: &Subscription) -> String {
    let currency = Currency::from_stored(subscription.currency.clone());
    let amount = currency.display(views::period_amount(subscription));
    match subscription.recurring() {
        Some(recurring) => format!("{amount} / {}", interval_text(recurring)),
        None => amount,
    }
}

/// When a subscription next invoices, as the list and its page say it.
fn next_invoice_text(subscription: &Subscription) -> String {
    match views::next_invoice(subscription) {
        NextInvoice::At(at) => when(at),
        NextInvoice::EndsAt(at) => format!("None: ends {}", when(at)),
        NextInvoice::Ended => "None: ended".to_string(),
    }
}

/// The customer of a subscription as a link to their page: the email, else the id.
fn customer_link(id: &str, email: Option<&String>) -> String {
    let text = match email {
        Some(email) => escape(email),
        None => format!("<code>{}</code>", escape(id)),
    };
    format!("<a href=\"/dashboard/customers/{}\">{text}</a>", escape(id))
}

/// A table of subscriptions, one row each (the list's, and a customer's page's).
pub async fn subscriptions_table(
    state: &AppState,
    signed: &Signed,
    subscriptions: &[Subscription],
) -> Result<String, DomainError> {
    let ids: Vec<&str> = subscriptions
        .iter()
        .map(|s| s.customer_id.as_str())
        .collect();
    let emails = views::customer_emails(&state.db, &signed.session.caller(), &ids).await?;
    let mut table = String::from(
        "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Subscription</th>\
         <th scope=\"col\">Customer</th><th scope=\"col\">Status</th><th scope=\"col\">Price</th>\
         <th scope=\"col\">Period ends</th><th scope=\"col\">Next invoice</th><th scope=\"col\">Created</th>\
         </tr></thead><tbody>",
    );
    for subscription in subscriptions {
        table.push_str(&format!(
            "<tr id=\"subscription-{id}\"><td><a href=\"/dashboard/subscriptions/{id}\"><code>{id}</code></a></td>\
             <td>{customer}</td><td>{status}</td><td>{price}</td><td>{period_end}</td><td>{next}</td><td>{created}</td></tr>",
            id = escape(&subscription.id),
            customer = customer_link(
                &subscription.customer_id,
                emails.get(&subscription.customer_id)
            ),
            status = status_badge(subscription.status),
            price = escape(&per_period(subscription)),
            period_end = when(subscription.current_period_end),
            next = escape(&next_invoice_text(subscription)),
            created = when(subscription.created),
        ));
    }
    table.push_str("</tbody></table></div>");
    Ok(table)
}

/// A table of invoices, each followed by its charge attempts (a subscription's, a customer's,
/// a session's); a succeeded one links to its refund, which comes back to `back`.
pub fn invoices_table(invoices: &[InvoiceAttempts], back: &str) -> String {
    let mut table = String::from(
        "<div class=\"table-wrap\"><table class=\"invoices\"><thead><tr><th scope=\"col\">Invoice</th>\
         <th scope=\"col\">Status</th><th scope=\"col\">Amount due</th><th scope=\"col\">Amount paid</th>\
         <th scope=\"col\">Attempts</th><th scope=\"col\">Next attempt</th><th scope=\"col\">Created</th>\
         </tr></thead><tbody>",
    );
    for InvoiceAttempts { invoice, charges } in invoices {
        let currency = Currency::from_stored(invoice.currency.clone());
        let id = escape(&invoice.id);
        let number = invoice
            .number
            .as_deref()
            .map(|n| format!("{}<br>", escape(n)))
            .unwrap_or_default();
        table.push_str(&format!(
            "<tr id=\"invoice-{id}\"><td>{number}<code class=\"hint\">{id}</code></td>\
             <td><span class=\"status status-{status}\">{status}</span></td><td>{due}</td><td>{paid}</td>\
             <td>{attempts}</td><td>{next}</td><td>{created}</td></tr>",
            status = invoice.status.as_str(),
            due = escape(&currency.display(invoice.amount_due)),
            paid = escape(&currency.display(invoice.amount_paid)),
            attempts = invoice.attempt_count,
            next = invoice.next_payment_attempt.map_or("—".to_string(), when),
            created = when(invoice.created),
        ));
        if charges.is_empty() {
            continue;
        }
        table.push_str(&format!(
            "<tr class=\"attempts-row\"><td colspan=\"7\"><ul class=\"attempts\" id=\"attempts-{id}\" \
             aria-label=\"Charge attempts of {id}\">"
        ));
        for charge in charges {
            let outcome = match &charge.failure {
                None => "Succeeded".to_string(),
                Some(failure) => format!("Declined: {}", escape(&failure.message)),
            };
            let card = charge
                .card
                .as_ref()
                .map(|c| format!(" · {} ending {}", escape(&c.brand), escape(&c.last4)))
                .unwrap_or_default();
            table.push_str(&format!(
                "<li class=\"attempt attempt-{kind}\">{at} · <strong>{outcome}</strong>{card} · {amount} \
                 <code class=\"hint\">{charge}</code>{refund}</li>",
                refund = super::refunds::attempt_note(charge, back),
                kind = if charge.succeeded() {
                    "succeeded"
                } else {
                    "failed"
                },
                at = when(charge.created),
                amount = escape(
                    &Currency::from_stored(charge.currency.clone()).display(charge.amount)
                ),
                charge = escape(&charge.id),
            ));
        }
        table.push_str("</ul></td></tr>");
    }
    table.push_str("</tbody></table></div>");
    table
}

/// The link to the page of invoices after the last shown, when more follow.
pub fn older_invoices_link(path: &str, invoices: &[InvoiceAttempts], has_more: bool) -> String {
    match invoices.last() {
        Some(last) if has_more => format!(
            "<p><a class=\"button secondary\" href=\"{path}?invoices_after={}\">Older invoices</a></p>",
            escape(&last.invoice.id)
        ),
        _ => String::new(),
    }
}

/// Subscriptions of the selected mode, newest first.
#[utoipa::path(get, path = "/dashboard/subscriptions", tag = "Pages", params(SubscriptionSearch),
    responses((status = 200, description = "The list (HTML)."), (status = 303, description = "Not signed in.")))]
pub async fn list_subscriptions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(search): Query<SubscriptionSearch>,
) -> Response {
    let signed = match signed_in(&state, &headers).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let status = search
        .status
        .as_deref()
        .filter(|s| STATUSES.iter().any(|(value, _)| value == s))
        .unwrap_or("all");
    let customer = search
        .customer
        .as_deref()
        .map(str::trim)
        .unwrap_or_default();
    let filter = SubscriptionFilter {
        statuses: billing::statuses(Some(status)).unwrap_or_default(),
        customer: (!customer.is_empty()).then(|| customer.to_string()),
        ..SubscriptionFilter::default()
    };
    let page = page_after(search.after.as_deref());
    let caller = signed.session.caller();
    let found = match billing::list_subscriptions(&state.db, &caller, &filter, &page).await {
        Ok(found) => found,
        Err(error) => return failure(error),
    };
    let mut options = String::new();
    for (value, label) in STATUSES {
        let selected = if value == status { " selected" } else { "" };
        options.push_str(&format!(
            "<option value=\"{value}\"{selected}>{label}</option>"
        ));
    }
    let mut main = format!(
        "<form method=\"get\" class=\"filters\" role=\"search\">\
         <label for=\"status\">Status</label><select id=\"status\" name=\"status\">{options}</select>\
         <label for=\"customer\">Customer</label><input id=\"customer\" name=\"customer\" type=\"search\" \
         value=\"{customer}\" placeholder=\"Customer id (cus_…)\">\
         <button type=\"submit\" class=\"secondary\">Filter</button></form>",
        customer = escape(customer),
    );
    if found.items.is_empty() {
        main.push_str(
            "<p class=\"empty\">No subscriptions here. A checkout in subscription mode \
             (<code>mode=subscription</code>) starts one when it is paid.</p>",
        );
    } else {
        match subscriptions_table(&state, &signed, &found.items).await {
            Ok(table) => main.push_str(&table),
            Err(error) => return failure(error),
        }
    }
    if found.has_more
        && let Some(last) = found.items.last()
    {
        main.push_str(&format!(
            "<p><a class=\"button secondary\" href=\"/dashboard/subscriptions?status={}&amp;customer={}&amp;after={}\">Next page</a></p>",
            escape(status),
            escape(customer),
            escape(&last.id)
        ));
    }
    layout(&signed, "/dashboard/subscriptions", "Subscriptions", &main)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoicePage {
    /// The page of invoices after this invoice id.
    pub invoices_after: Option<String>,
}

/// One subscription: its items, period, next invoice, cancellation, invoices with their charge
/// attempts, and events; with the forms that cancel it or resume it.
#[utoipa::path(get, path = "/dashboard/subscriptions/{id}", tag = "Pages", params(("id" = String, Path), InvoicePage),
    responses((status = 200, description = "The subscription (HTML)."), (status = 404, description = "Not in this account and mode.")))]
pub async fn show_subscription(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(page): Query<InvoicePage>,
) -> Response {
    match signed_in(&state, &headers).await {
        Ok(signed) => render(&state, &signed, &id, page.invoices_after.as_deref(), None).await,
        Err(response) => response,
    }
}

/// The subscription's page; `alert`: why an action was refused, with the status to answer.
async fn render(
    state: &AppState,
    signed: &Signed,
    id: &str,
    invoices_after: Option<&str>,
    alert: Option<(StatusCode, String)>,
) -> Response {
    match page_html(
        state,
        signed,
        id,
        invoices_after,
        alert.as_ref().map(|(_, a)| a),
    )
    .await
    {
        Ok(main) => {
            let mut response = layout(signed, "/dashboard/subscriptions", "Subscription", &main);
            if let Some((status, _)) = alert {
                *response.status_mut() = status;
            }
            response
        }
        Err(error) => failure(error),
    }
}

async fn page_html(
    state: &AppState,
    signed: &Signed,
    id: &str,
    invoices_after: Option<&str>,
    alert: Option<&String>,
) -> Result<String, DomainError> {
    let (db, caller) = (&state.db, signed.session.caller());
    let subscription = billing::get_subscription(db, &caller, id).await?;
    let emails = views::customer_emails(db, &caller, &[&subscription.customer_id]).await?;
    let currency = Currency::from_stored(subscription.currency.clone());
    let mut main = alert
        .map(|a| {
            format!(
                "<div class=\"alert\" role=\"alert\" id=\"form-alert\">{}</div>",
                escape(a)
            )
        })
        .unwrap_or_default();
    main.push_str(&format!(
        "<p>{status} <code id=\"subscription-id\">{id}</code></p><dl class=\"facts\">\
         <dt>Customer</dt><dd>{customer}</dd><dt>Price</dt><dd>{price}</dd>\
         <dt>Current period</dt><dd>{start} to {end}</dd><dt>Next invoice</dt><dd>{next}</dd>\
         <dt>Cancel at period end</dt><dd>{at_end}</dd>",
        status = status_badge(subscription.status),
        id = escape(&subscription.id),
        customer = customer_link(
            &subscription.customer_id,
            emails.get(&subscription.customer_id)
        ),
        price = escape(&per_period(&subscription)),
        start = when(subscription.current_period_start),
        end = when(subscription.current_period_end),
        next = escape(&next_invoice_text(&subscription)),
        at_end = if subscription.cancel_at_period_end {
            "Yes"
        } else {
            "No"
        },
    ));
    let facts = [
        ("Cancels at", subscription.cancel_at.map(when)),
        ("Canceled at", subscription.canceled_at.map(when)),
        ("Ended at", subscription.ended_at.map(when)),
        (
            "Cancellation reason",
            subscription.cancellation.reason.clone(),
        ),
        ("Started", Some(when(subscription.start_date))),
        ("Created", Some(when(subscription.created))),
        (
            "Payment method",
            subscription.default_payment_method.clone(),
        ),
    ];
    for (label, value) in facts {
        if let Some(value) = value {
            main.push_str(&format!("<dt>{label}</dt><dd>{}</dd>", escape(&value)));
        }
    }
    if let Some(session) = &subscription.checkout_session_id {
        main.push_str(&format!(
            "<dt>Checkout session</dt><dd><a href=\"/dashboard/sessions/{id}\"><code>{id}</code></a></dd>",
            id = escape(session)
        ));
    }
    main.push_str("</dl>");
    main.push_str(&actions(signed, &subscription));

    main.push_str(
        "<h2>Items</h2><div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Product</th>\
         <th scope=\"col\">Price</th><th scope=\"col\">Quantity</th><th scope=\"col\">Per period</th>\
         </tr></thead><tbody>",
    );
    for item in &subscription.items {
        let price = &item.price;
        let name = crate::domain::catalog::get_product(db, &caller, &price.product_id)
            .await
            .map(|p| p.name)
            .unwrap_or_else(|_| price.product_id.clone());
        let unit = price.terms.unit_amount.unwrap_or(0);
        let every = price
            .terms
            .recurring
            .map(|r| format!(" / {}", interval_text(r)))
            .unwrap_or_default();
        main.push_str(&format!(
            "<tr><td><a href=\"/dashboard/products/{product}\">{name}</a><br><code class=\"hint\">{price_id}</code></td>\
             <td>{unit}{every}</td><td>{quantity}</td><td>{total}</td></tr>",
            product = escape(&price.product_id),
            name = escape(&name),
            price_id = escape(&price.id),
            unit = escape(&currency.display(unit)),
            quantity = item.quantity,
            total = escape(&currency.display(unit * item.quantity)),
        ));
    }
    main.push_str("</tbody></table></div>");

    main.push_str("<h2>Invoices</h2>");
    let page = page_after(invoices_after);
    let invoices = views::invoices_of_subscription(db, &caller, &subscription, &page).await?;
    if invoices.items.is_empty() {
        main.push_str("<p class=\"empty\">No invoices on this page.</p>");
    } else {
        main.push_str(&invoices_table(
            &invoices.items,
            &format!("/dashboard/subscriptions/{}", subscription.id),
        ));
    }
    main.push_str(&older_invoices_link(
        &format!("/dashboard/subscriptions/{}", escape(&subscription.id)),
        &invoices.items,
        invoices.has_more,
    ));

    main.push_str("<h2>Events</h2>");
    let events = crate::store::events::events_for_object(db, &caller, &subscription.id).await?;
    if events.is_empty() {
        main.push_str("<p class=\"empty\">No events yet.</p>");
    } else {
        main.push_str("<ol class=\"timeline\" id=\"events\">");
        for event in &events {
            main.push_str(&format!(
                "<li><strong>{kind}</strong> <span class=\"hint\">{at} · <code>{id}</code></span></li>",
                kind = escape(&event.kind),
                at = when(event.created),
                id = escape(&event.id),
            ));
        }
        main.push_str("</ol>");
    }
    Ok(main)
}

/// The forms that end a subscription or take its end back: none once it has ended.
fn actions(signed: &Signed, subscription: &Subscription) -> String {
    if subscription.ended_at.is_some() {
        return String::new();
    }
    let csrf = escape(&signed.session.csrf_token);
    let id = escape(&subscription.id);
    let later = if subscription.cancel_at.is_some() {
        format!(
            "<form method=\"post\" action=\"/dashboard/subscriptions/{id}/resume\" class=\"inline-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\" class=\"secondary\">Resume</button></form>"
        )
    } else {
        format!(
            "<form method=\"post\" action=\"/dashboard/subscriptions/{id}/cancel-at-period-end\" class=\"inline-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\" class=\"secondary\">Cancel at period end</button></form>"
        )
    };
    format!(
        "<div class=\"actions compact\" id=\"subscription-actions\">{later}\
         <a class=\"button danger\" href=\"/dashboard/subscriptions/{id}/cancel\">Cancel now…</a></div>"
    )
}

/// Asks before cancelling a subscription now.
#[utoipa::path(get, path = "/dashboard/subscriptions/{id}/cancel", tag = "Pages", params(("id" = String, Path)),
    responses((status = 200, description = "The confirmation (HTML)."), (status = 404, description = "Not in this account and mode.")))]
pub async fn confirm_cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let signed = match signed_in(&state, &headers).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let subscription =
        match billing::get_subscription(&state.db, &signed.session.caller(), &id).await {
            Ok(subscription) => subscription,
            Err(error) => return failure(error),
        };
    if subscription.ended_at.is_some() {
        return see_other(&format!("/dashboard/subscriptions/{id}"));
    }
    let id = escape(&subscription.id);
    let main = format!(
        "<p>{status} <code>{id}</code>, {price}, current period until {end}.</p>\
         <p>Cancelling now ends the subscription at once: it is not billed again, and \
         <code>customer.subscription.deleted</code> is sent. Nothing already paid is refunded. \
         This cannot be undone; to let the customer keep what they paid for, cancel at the \
         period's end instead.</p>\
         <div class=\"actions compact\"><form method=\"post\" action=\"/dashboard/subscriptions/{id}/cancel\" class=\"inline-form\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" class=\"danger\">Cancel subscription now</button></form>\
         <a class=\"button secondary\" href=\"/dashboard/subscriptions/{id}\">Keep subscription</a></div>",
        status = status_badge(subscription.status),
        price = escape(&per_period(&subscription)),
        end = when(subscription.current_period_end),
        csrf = escape(&signed.session.csrf_token),
    );
    layout(
        &signed,
        "/dashboard/subscriptions",
        "Cancel this subscription now?",
        &main,
    )
}

/// What an action does to a subscription.
enum Action {
    CancelNow,
    AtPeriodEnd,
    Resume,
}

/// Applies `action` through the domain functions `/v1/subscriptions` uses; back to the
/// subscription's page, or that page with the refusal.
async fn act(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    fields: &[(String, String)],
    action: Action,
) -> Response {
    let signed = match signed_form(state, headers, fields).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let (db, caller, now) = (&state.db, signed.session.caller(), state.clock.now());
    let done = match action {
        Action::CancelNow => {
            billing::changes::cancel_subscription(
                db,
                &caller,
                id,
                CancellationInput::default(),
                now,
            )
            .await
        }
        Action::AtPeriodEnd | Action::Resume => {
            let change = SubscriptionChange {
                cancel_at_period_end: Some(matches!(action, Action::AtPeriodEnd)),
                ..SubscriptionChange::default()
            };
            billing::changes::update_subscription(db, &caller, id, change, now).await
        }
    };
    match done {
        Ok(_) => see_other(&format!("/dashboard/subscriptions/{id}")),
        Err(error @ DomainError::NotFound { .. }) => failure(error),
        Err(error) => {
            let status = match &error {
                DomainError::Conflict { .. } => StatusCode::CONFLICT,
                DomainError::Store(_) => return failure(error),
                _ => StatusCode::BAD_REQUEST,
            };
            render(state, &signed, id, None, Some((status, message(error)))).await
        }
    }
}

/// Cancels a subscription now (`customer.subscription.deleted`).
#[utoipa::path(post, path = "/dashboard/subscriptions/{id}/cancel", tag = "Pages", params(("id" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`."),
    responses((status = 303, description = "Back to the subscription."), (status = 409, description = "Already canceled (HTML)."),
        (status = 404, description = "Not in this account and mode.")))]
pub async fn cancel_now(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    act(&state, &headers, &id, &fields, Action::CancelNow).await
}

/// Sets a subscription to cancel at the end of its period (`customer.subscription.updated`).
#[utoipa::path(post, path = "/dashboard/subscriptions/{id}/cancel-at-period-end", tag = "Pages", params(("id" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`."),
    responses((status = 303, description = "Back to the subscription."), (status = 400, description = "It has ended (HTML)."),
        (status = 404, description = "Not in this account and mode.")))]
pub async fn cancel_at_period_end(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    act(&state, &headers, &id, &fields, Action::AtPeriodEnd).await
}

/// Takes back a cancellation at period end (or at a time): it renews again
/// (`customer.subscription.updated`).
#[utoipa::path(post, path = "/dashboard/subscriptions/{id}/resume", tag = "Pages", params(("id" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`."),
    responses((status = 303, description = "Back to the subscription."), (status = 400, description = "It has ended (HTML)."),
        (status = 404, description = "Not in this account and mode.")))]
pub async fn resume(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    act(&state, &headers, &id, &fields, Action::Resume).await
}
