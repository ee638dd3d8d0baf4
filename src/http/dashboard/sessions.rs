//! `/dashboard/sessions`: checkout sessions, filtered by status and found by id,
//! `externalCustomerId` or email; and each session's amounts, line items, customer, payment
//! (in subscription mode: its subscription and invoices), and the timeline of its events with
//! their webhook deliveries.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{failure, layout, signed_in, subscriptions, when};
use crate::domain::accounts::Caller;
use crate::domain::billing::{self, views};
use crate::domain::checkout::{self, SessionFilter, SessionState};
use crate::domain::list::{PageRequest, PageStart};
use crate::domain::money::Currency;
use crate::http::AppState;
use crate::http::pages::escape;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions))
        .routes(routes!(show_session))
}

const PAGE: u32 = 25;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionSearch {
    /// open, completed, expired, canceled or failed.
    pub status: Option<String>,
    /// A session id, an `externalCustomerId` or a customer's email.
    pub q: Option<String>,
    /// The page after this session id.
    pub after: Option<String>,
}

fn status_label(state: SessionState) -> &'static str {
    match state {
        SessionState::Open => "Open",
        SessionState::Completed => "Completed",
        SessionState::Expired => "Expired",
        SessionState::Canceled => "Canceled",
        SessionState::Failed => "Failed",
    }
}

/// Checkout sessions of the selected mode, newest first.
#[utoipa::path(get, path = "/dashboard/sessions", tag = "Pages", params(SessionSearch),
    responses((status = 200, description = "The list (HTML)."), (status = 303, description = "Not signed in.")))]
pub async fn list_sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(search): Query<SessionSearch>,
) -> Response {
    let signed = match signed_in(&state, &headers).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let caller = signed.session.caller();
    let query = search.q.as_deref().map(str::trim).unwrap_or_default();
    let status = search.status.as_deref().unwrap_or_default();
    let mut filter = SessionFilter::default();
    if !status.is_empty() {
        filter.states = SessionState::parse_filter(status, false).ok();
    }
    let (now, public_url) = (state.clock.now(), &state.config.public_url);
    let sessions = if query.starts_with("cs_") {
        match checkout::get_session(&state.db, &caller, query, now, public_url).await {
            Ok(session) => {
                let wanted = filter
                    .states
                    .as_ref()
                    .is_none_or(|states| states.contains(&session.state));
                Ok((if wanted { vec![session] } else { Vec::new() }, false))
            }
            Err(crate::domain::DomainError::NotFound { .. }) => Ok((Vec::new(), false)),
            Err(error) => Err(error),
        }
    } else {
        if query.contains('@') {
            filter.customer_email = Some(query.to_string());
        } else if !query.is_empty() {
            filter.external_customer_id = Some(query.to_string());
        }
        let page = PageRequest {
            limit: PAGE,
            start: match &search.after {
                Some(after) => PageStart::After(after.clone()),
                None => PageStart::Offset(0),
            },
            after_param: "after",
        };
        checkout::list_sessions(&state.db, &caller, &filter, &page, now, public_url)
            .await
            .map(|p| (p.items, p.has_more))
    };
    let (sessions, has_more) = match sessions {
        Ok(found) => found,
        Err(error) => return failure(error),
    };
    let mut options = String::new();
    for (value, label) in [
        ("", "Any status"),
        ("open", "Open"),
        ("completed", "Completed"),
        ("expired", "Expired"),
        ("canceled", "Canceled"),
        ("failed", "Failed"),
    ] {
        let selected = if value == status { " selected" } else { "" };
        options.push_str(&format!(
            "<option value=\"{value}\"{selected}>{label}</option>"
        ));
    }
    let mut main = format!(
        "<form method=\"get\" class=\"filters\" role=\"search\">\
         <label for=\"status\">Status</label><select id=\"status\" name=\"status\">{options}</select>\
         <label for=\"q\">Find</label><input id=\"q\" name=\"q\" type=\"search\" value=\"{q}\" \
         placeholder=\"Session id, externalCustomerId or email\">\
         <button type=\"submit\" class=\"secondary\">Search</button></form>",
        q = escape(query),
    );
    if sessions.is_empty() {
        main.push_str(
            "<p class=\"empty\">No checkout sessions here yet. Create one through the API \
             (<code>POST /v1/checkout/sessions</code>) and it appears here.</p>",
        );
    } else {
        main.push_str(
            "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Session</th><th scope=\"col\">Amount</th>\
             <th scope=\"col\">Status</th><th scope=\"col\">Customer</th><th scope=\"col\">Created</th></tr></thead><tbody>",
        );
        for session in &sessions {
            let customer = session
                .customer_details
                .as_ref()
                .and_then(|d| d["email"].as_str().map(str::to_string))
                .or_else(|| session.customer_email.clone())
                .or_else(|| session.external_customer_id.clone())
                .unwrap_or_default();
            main.push_str(&format!(
                "<tr><td><a href=\"/dashboard/sessions/{id}\"><code>{id}</code></a><br><span class=\"hint\">{name}</span></td>\
                 <td>{amount}</td><td><span class=\"status status-{state}\">{status}</span></td><td>{customer}</td><td>{created}</td></tr>",
                id = escape(&session.id),
                name = escape(&session.product_name),
                amount = escape(&session.currency.display(session.amount_total)),
                state = session.state.as_str(),
                status = status_label(session.state),
                customer = escape(&customer),
                created = when(session.created),
            ));
        }
        main.push_str("</tbody></table></div>");
    }
    if has_more && let Some(last) = sessions.last() {
        main.push_str(&format!(
            "<p><a class=\"button secondary\" href=\"/dashboard/sessions?status={}&amp;q={}&amp;after={}\">Next page</a></p>",
            escape(status),
            escape(query),
            escape(&last.id)
        ));
    }
    layout(&signed, "/dashboard/sessions", "Checkout sessions", &main)
}

/// One checkout session: amounts, line items, customer, metadata, the payment, and the
/// timeline of its events with their webhook deliveries.
#[utoipa::path(get, path = "/dashboard/sessions/{id}", tag = "Pages", params(("id" = String, Path)),
    responses((status = 200, description = "The session (HTML)."), (status = 404, description = "Not in this account and mode.")))]
pub async fn show_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let signed = match signed_in(&state, &headers).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let caller = signed.session.caller();
    let (db, now, public_url) = (&state.db, state.clock.now(), &state.config.public_url);
    let session = match checkout::get_session(db, &caller, &id, now, public_url).await {
        Ok(session) => session,
        Err(error) => return failure(error),
    };
    let lines = match checkout::line_items(db, &caller, &id).await {
        Ok(lines) => lines,
        Err(error) => return failure(error),
    };
    let currency = &session.currency;
    let mut main = format!(
        "<p><span class=\"status status-{state}\">{status}</span> <code>{id}</code></p>\
         <dl class=\"facts\"><dt>Total</dt><dd>{total}</dd><dt>Created</dt><dd>{created}</dd>\
         <dt>Expires</dt><dd>{expires}</dd><dt>Hosted page</dt><dd><a href=\"{url}\">{url}</a></dd>",
        state = session.state.as_str(),
        status = status_label(session.state),
        id = escape(&session.id),
        total = escape(&currency.display(session.amount_total)),
        created = when(session.created),
        expires = when(session.expires_at),
        url = escape(&session.url(public_url)),
    );
    let email = session
        .customer_details
        .as_ref()
        .and_then(|d| d["email"].as_str().map(str::to_string))
        .or_else(|| session.customer_email.clone());
    if let Some(email) = email {
        main.push_str(&format!(
            "<dt>Customer email</dt><dd>{}</dd>",
            escape(&email)
        ));
    }
    if let Some(customer) = &session.customer_id {
        main.push_str(&format!(
            "<dt>Customer</dt><dd><a href=\"/dashboard/customers/{id}\">{id}</a></dd>",
            id = escape(customer)
        ));
    }
    for (label, value) in [
        ("externalCustomerId", session.external_customer_id.clone()),
        ("client_reference_id", session.client_reference_id.clone()),
    ] {
        if let Some(value) = value {
            main.push_str(&format!("<dt>{label}</dt><dd>{}</dd>", escape(&value)));
        }
    }
    main.push_str("</dl><h2>Line items</h2><div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Item</th><th scope=\"col\">Quantity</th><th scope=\"col\">Unit price</th><th scope=\"col\">Amount</th></tr></thead><tbody>");
    for line in &lines {
        main.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&line.description),
            line.quantity,
            escape(&currency.display(line.unit_amount)),
            escape(&currency.display(line.amount_total)),
        ));
    }
    main.push_str("</tbody></table></div>");
    if !session.metadata.0.is_empty() {
        main.push_str("<h2>Metadata</h2><dl class=\"facts\">");
        for (key, value) in &session.metadata.0 {
            main.push_str(&format!(
                "<dt>{}</dt><dd>{}</dd>",
                escape(key),
                escape(value)
            ));
        }
        main.push_str("</dl>");
    }
    main.push_str("<h2>Payment</h2>");
    match &session.payment_intent_id {
        Some(intent_id) => {
            match crate::domain::payments::get_payment_intent(db, &caller, intent_id).await {
                Ok(intent) => {
                    let card = intent
                        .card
                        .as_ref()
                        .map(|c| format!("{} ending {}", c.brand, c.last4))
                        .unwrap_or_default();
                    main.push_str(&format!(
                    "<dl class=\"facts\"><dt>PaymentIntent</dt><dd><code>{}</code></dd><dt>Status</dt><dd>{}</dd>\
                     <dt>Amount</dt><dd>{}</dd><dt>Card</dt><dd>{}</dd></dl>",
                    escape(&intent.id),
                    escape(&intent.status),
                    escape(&Currency::from_stored(intent.currency.clone()).display(intent.amount)),
                    escape(&card),
                ));
                    if let Some(charge_id) = &intent.latest_charge {
                        let back = format!("/dashboard/sessions/{}", session.id);
                        let refunds =
                            match crate::domain::payments::get_charge(db, &caller, charge_id).await
                            {
                                Ok(charge) => {
                                    if let Some(url) = charge.receipt_url(&state.config.public_url)
                                    {
                                        main.push_str(&format!(
                                            "<p><a href=\"{}\">View the customer's receipt</a></p>",
                                            escape(&url)
                                        ));
                                    }
                                    super::refunds::section(db, &caller, &charge, &back).await
                                }
                                Err(error) => Err(error),
                            };
                        match refunds {
                            Ok(html) => main.push_str(&html),
                            Err(error) => return failure(error),
                        }
                    }
                }
                Err(error) => return failure(error),
            }
        }
        None if session.invoice_id.is_some() => {
            main.push_str("<p>Paid with the subscription's first invoice (below).</p>")
        }
        None => main.push_str("<p class=\"empty\">No payment yet.</p>"),
    }
    if let Some(subscription_id) = &session.subscription_id {
        let back = format!("/dashboard/sessions/{}", session.id);
        match subscription_section(db, &caller, subscription_id, &back).await {
            Ok(section) => main.push_str(&section),
            Err(error) => return failure(error),
        }
    }
    let mut object_ids = vec![session.id.clone()];
    object_ids.extend(session.payment_intent_id.clone());
    object_ids.extend(session.subscription_id.clone());
    object_ids.extend(session.invoice_id.clone());
    main.push_str("<h2>Events and webhook deliveries</h2>");
    let mut timeline = Vec::new();
    for object_id in &object_ids {
        match crate::store::events::events_for_object(db, &caller, object_id).await {
            Ok(events) => timeline.extend(events),
            Err(error) => return failure(error.into()),
        }
    }
    timeline.sort_by(|a, b| a.id.cmp(&b.id));
    if timeline.is_empty() {
        main.push_str("<p class=\"empty\">No events yet: they come with each change of state.</p>");
    } else {
        main.push_str("<ol class=\"timeline\">");
        for event in &timeline {
            let attempts = match crate::store::webhooks::attempts_for_event(db, &event.id).await {
                Ok(attempts) => attempts,
                Err(error) => return failure(error.into()),
            };
            let mut deliveries = String::new();
            for attempt in &attempts {
                let outcome = match (attempt.status_code, &attempt.error) {
                    (Some(code), _) => code.to_string(),
                    (None, Some(error)) => escape(error),
                    (None, None) => "no answer".into(),
                };
                deliveries.push_str(&format!(
                    "<li>{} to <code>{}</code>: {outcome} in {} ms</li>",
                    when(attempt.attempted_at),
                    escape(&attempt.endpoint_id),
                    attempt.latency_ms
                ));
            }
            if deliveries.is_empty() {
                deliveries.push_str("<li class=\"hint\">No webhook endpoint wanted it.</li>");
            }
            main.push_str(&format!(
                "<li><strong>{kind}</strong> <span class=\"hint\">{at} · <code>{id}</code></span><ul>{deliveries}</ul></li>",
                kind = escape(&event.kind),
                at = when(event.created),
                id = escape(&event.id),
            ));
        }
        main.push_str("</ol>");
    }
    layout(&signed, "/dashboard/sessions", "Checkout session", &main)
}

/// A subscription-mode session's subscription (a link to its page) and its invoices, each with
/// its charge attempts.
async fn subscription_section(
    db: &crate::store::Db,
    caller: &Caller,
    subscription_id: &str,
    back: &str,
) -> Result<String, crate::domain::DomainError> {
    let subscription = billing::get_subscription(db, caller, subscription_id).await?;
    let mut section = format!(
        "<h2>Subscription</h2><p id=\"session-subscription\">{status} \
         <a href=\"/dashboard/subscriptions/{id}\"><code>{id}</code></a> {price}</p>",
        status = subscriptions::status_badge(subscription.status),
        id = escape(&subscription.id),
        price = escape(&subscriptions::per_period(&subscription)),
    );
    let first_page = subscriptions::page_after(None);
    let invoices = views::invoices_of_subscription(db, caller, &subscription, &first_page).await?;
    section.push_str("<h3>Invoices</h3>");
    section.push_str(&subscriptions::invoices_table(&invoices.items, back));
    if invoices.has_more {
        section.push_str(&format!(
            "<p><a href=\"/dashboard/subscriptions/{}\">Every invoice, on the subscription's page</a></p>",
            escape(&subscription.id)
        ));
    }
    Ok(section)
}
