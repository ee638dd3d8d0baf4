//! `/dashboard/settings`: the account's settings, for test and live mode alike: what ends a
//! subscription whose renewal could not be charged after every retry (`dunning_final_action`),
//! and whether customers are emailed receipts (`receipt_emails`).

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Signed, failure, field, layout, see_other, signed_form, signed_in};
use crate::domain::accounts::{self, DunningFinalAction};
use crate::http::AppState;
use crate::http::pages::escape;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show_settings, save_settings))
        .routes(routes!(save_receipt_emails))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Saved {
    /// `true` right after saving: the page says so.
    pub saved: Option<bool>,
}

/// The choices, with what each does.
const CHOICES: [(DunningFinalAction, &str, &str); 2] = [
    (
        DunningFinalAction::Cancel,
        "Cancel the subscription",
        "It ends at once (status canceled, cancellation reason payment_failed) and \
         customer.subscription.deleted is sent. The default, as on Stripe.",
    ),
    (
        DunningFinalAction::Unpaid,
        "Mark the subscription unpaid",
        "It stays, with status unpaid (customer.subscription.updated); its invoice stays open, \
         and a later payment makes it active again.",
    ),
];

async fn render(
    state: &AppState,
    signed: &Signed,
    notice: Option<&str>,
    alert: Option<&str>,
) -> Response {
    let account = &signed.session.account_id;
    let current = match accounts::dunning_final_action(&state.db, account).await {
        Ok(current) => current,
        Err(error) => return failure(error),
    };
    let receipts_on = match accounts::receipt_emails(&state.db, account).await {
        Ok(on) => on,
        Err(error) => return failure(error),
    };
    let mut main = String::new();
    if let Some(notice) = notice {
        main.push_str(&format!(
            "<div class=\"notice\" role=\"status\">{}</div>",
            escape(notice)
        ));
    }
    if let Some(alert) = alert {
        main.push_str(&format!(
            "<div class=\"alert\" role=\"alert\" id=\"form-alert\">{}</div>",
            escape(alert)
        ));
    }
    let mut choices = String::new();
    for (action, label, explanation) in CHOICES {
        let value = action.as_str();
        choices.push_str(&format!(
            "<label class=\"check\" for=\"dunning-{value}\"><input type=\"radio\" id=\"dunning-{value}\" \
             name=\"dunning_final_action\" value=\"{value}\"{checked} aria-describedby=\"dunning-{value}-hint\">\
             {label}</label><span class=\"hint choice-hint\" id=\"dunning-{value}-hint\">{explanation}</span>",
            checked = if action == current { " checked" } else { "" },
        ));
    }
    main.push_str(&format!(
        "<section class=\"card wide\"><h2>Failed renewals</h2>\
         <p id=\"dunning-explained\">When a subscription's renewal cannot be charged, it becomes past due \
         and kassa charges again 1, 3, 5 and 7 days after the first failure. This setting says what \
         happens to the subscription when the last of these retries fails too, in test and live mode.</p>\
         <form method=\"post\" action=\"/dashboard/settings\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <fieldset class=\"field\"><legend>After the last failed retry</legend>{choices}</fieldset>\
         <div class=\"actions compact\"><button type=\"submit\" class=\"primary\">Save settings</button></div>\
         </form></section>",
        csrf = escape(&signed.session.csrf_token),
    ));
    main.push_str(&receipts_section(state, signed, receipts_on));
    layout(signed, "/dashboard/settings", "Settings", &main)
}

/// The receipt emails' switch, and whether this server can send them at all.
fn receipts_section(state: &AppState, signed: &Signed, on: bool) -> String {
    let server = match &state.config.smtp {
        Some(smtp) if smtp.test_mode => "This server sends them, in test mode too.",
        Some(_) => {
            "This server sends them for live payments (test-mode receipts only with \
                    <code>--smtp-test-mode</code>)."
        }
        None => {
            "This server has no SMTP server (<code>--smtp-url</code>), so it sends no \
                 email whatever this says."
        }
    };
    format!(
        "<section class=\"card wide\"><h2>Receipt emails</h2>\
         <p id=\"receipts-explained\">A receipt goes to the customer's email address after each payment \
         (checkouts and renewals) and each refund, with a link to its receipt page. {server}</p>\
         <form method=\"post\" action=\"/dashboard/settings/receipts\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label class=\"check\" for=\"receipt-emails\"><input type=\"checkbox\" id=\"receipt-emails\" \
         name=\"receipt_emails\" value=\"on\"{checked} aria-describedby=\"receipts-explained\">\
         Email customers their receipts</label>\
         <div class=\"actions compact\"><button type=\"submit\" class=\"primary\">Save receipt emails</button></div>\
         </form></section>",
        csrf = escape(&signed.session.csrf_token),
        checked = if on { " checked" } else { "" },
    )
}

/// The account's settings.
#[utoipa::path(get, path = "/dashboard/settings", tag = "Pages", params(Saved),
    responses((status = 200, description = "The settings (HTML)."), (status = 303, description = "Not signed in.")))]
pub async fn show_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(saved): Query<Saved>,
) -> Response {
    match signed_in(&state, &headers).await {
        Ok(signed) => {
            let notice = saved.saved.unwrap_or(false).then_some("Settings saved.");
            render(&state, &signed, notice, None).await
        }
        Err(response) => response,
    }
}

/// Saves the account's settings.
#[utoipa::path(post, path = "/dashboard/settings", tag = "Pages",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`, `dunning_final_action` (cancel or unpaid)."),
    responses((status = 303, description = "Saved: back to the settings."), (status = 400, description = "No valid choice (HTML).")))]
pub async fn save_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let signed = match signed_form(&state, &headers, &fields).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let Some(action) = DunningFinalAction::parse(field(&fields, "dunning_final_action")) else {
        let mut response = render(
            &state,
            &signed,
            None,
            Some("Choose what happens after the last failed retry: cancel or unpaid."),
        )
        .await;
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return response;
    };
    match accounts::set_dunning_final_action(&state.db, &signed.session.account_id, action).await {
        Ok(()) => see_other("/dashboard/settings?saved=true"),
        Err(error) => failure(error),
    }
}

/// Turns receipt emails on (the box ticked) or off.
#[utoipa::path(post, path = "/dashboard/settings/receipts", tag = "Pages",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`, and `receipt_emails=on` to send them."),
    responses((status = 303, description = "Saved: back to the settings.")))]
pub async fn save_receipt_emails(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let signed = match signed_form(&state, &headers, &fields).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let on = field(&fields, "receipt_emails") == "on";
    match accounts::set_receipt_emails(&state.db, &signed.session.account_id, on).await {
        Ok(()) => see_other("/dashboard/settings?saved=true"),
        Err(error) => failure(error),
    }
}
