//! `/dashboard/webhooks`: the endpoints of the selected mode: Add Webhook, View Secret, roll
//! the secret, disable or enable, the delivery log with response codes, and Resend an event.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Signed, failure, field, layout, message, see_other, signed_form, signed_in, when};
use crate::domain::DomainError;
use crate::domain::list::{PageRequest, PageStart};
use crate::domain::webhooks::{self, EndpointInput, WebhookEndpoint};
use crate::http::AppState;
use crate::http::pages::escape;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, add_endpoint))
        .routes(routes!(show_endpoint))
        .routes(routes!(endpoint_action))
}

fn first_page(limit: u32) -> PageRequest {
    PageRequest {
        limit,
        start: PageStart::Offset(0),
        after_param: "after",
    }
}

async fn render_list(state: &AppState, signed: &Signed, error: Option<&str>) -> Response {
    let caller = signed.session.caller();
    let endpoints = match webhooks::list_endpoints(&state.db, &caller, &first_page(100)).await {
        Ok(page) => page.items,
        Err(error) => return failure(error),
    };
    let alert = error
        .map(|e| {
            format!(
                "<div class=\"alert\" role=\"alert\" id=\"form-alert\">{}</div>",
                escape(e)
            )
        })
        .unwrap_or_default();
    let mut main = format!(
        "{alert}<details class=\"card wide\"{open}><summary><strong>Add Webhook</strong></summary>\
         <form method=\"post\" action=\"/dashboard/webhooks\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <div class=\"field\"><label for=\"w-url\">Endpoint URL</label><input id=\"w-url\" name=\"url\" type=\"url\" required placeholder=\"https://shop.example/webhooks\"></div>\
         <div class=\"field\"><label for=\"w-events\">Events to send</label><input id=\"w-events\" name=\"events\" value=\"checkout.session.completed\" aria-describedby=\"w-events-hint\">\
         <span class=\"hint\" id=\"w-events-hint\">Comma-separated event types, or * for all.</span></div>\
         <div class=\"field\"><label for=\"w-description\">Description</label><input id=\"w-description\" name=\"description\"></div>\
         <div class=\"actions\"><button type=\"submit\" class=\"primary\">Add endpoint</button></div></form></details>",
        open = if error.is_some() { " open" } else { "" },
        csrf = escape(&signed.session.csrf_token),
    );
    if endpoints.is_empty() {
        main.push_str(
            "<p class=\"empty\">No webhook endpoints yet — add one to hear about payments.</p>",
        );
    } else {
        main.push_str("<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Endpoint</th><th scope=\"col\">Events</th><th scope=\"col\">Status</th><th scope=\"col\">Created</th></tr></thead><tbody>");
        for endpoint in &endpoints {
            main.push_str(&format!(
                "<tr><td><a href=\"/dashboard/webhooks/{id}\">{url}</a><br><code class=\"hint\">{id}</code></td><td>{events}</td><td><span class=\"status\">{status}</span></td><td>{created}</td></tr>",
                id = escape(&endpoint.id),
                url = escape(&endpoint.url),
                events = escape(&endpoint.enabled_events.join(", ")),
                status = if endpoint.enabled { "enabled" } else { "disabled" },
                created = when(endpoint.created),
            ));
        }
        main.push_str("</tbody></table></div>");
    }
    layout(signed, "/dashboard/webhooks", "Webhooks", &main)
}

/// The webhook endpoints of the selected mode.
#[utoipa::path(get, path = "/dashboard/webhooks", tag = "Pages",
    responses((status = 200, description = "The endpoints (HTML)."), (status = 303, description = "Not signed in.")))]
pub async fn list_endpoints(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers).await {
        Ok(signed) => render_list(&state, &signed, None).await,
        Err(response) => response,
    }
}

/// Adds an endpoint (Add Webhook).
#[utoipa::path(post, path = "/dashboard/webhooks", tag = "Pages",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`, `url`, `events`, `description`."),
    responses((status = 303, description = "To the new endpoint."), (status = 400, description = "The form again, with the error.")))]
pub async fn add_endpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let signed = match signed_form(&state, &headers, &fields).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let events = field(&fields, "events")
        .split(',')
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .collect();
    // The description is kept as typed.
    let description = field(&fields, "description");
    let input = EndpointInput {
        url: Some(field(&fields, "url").trim().to_string()),
        enabled_events: Some(events),
        description: Some((!description.is_empty()).then(|| description.to_string())),
        ..Default::default()
    };
    let targets = state.config.webhook_targets();
    match webhooks::create_endpoint(
        &state.db,
        &signed.session.caller(),
        input,
        targets,
        state.clock.now(),
    )
    .await
    {
        Ok(endpoint) => see_other(&format!("/dashboard/webhooks/{}", endpoint.id)),
        Err(error) => {
            let mut response = render_list(&state, &signed, Some(&message(error))).await;
            *response.status_mut() = StatusCode::BAD_REQUEST;
            response
        }
    }
}

async fn render_endpoint(
    state: &AppState,
    signed: &Signed,
    endpoint: &WebhookEndpoint,
    secret: bool,
) -> Response {
    let caller = signed.session.caller();
    let attempts = match webhooks::list_attempts(
        &state.db,
        &caller,
        &endpoint.id,
        None,
        &first_page(50),
    )
    .await
    {
        Ok(page) => page.items,
        Err(error) => return failure(error),
    };
    let csrf = escape(&signed.session.csrf_token);
    let id = escape(&endpoint.id);
    let button = |action: &str, label: &str, class: &str, confirm: Option<&str>| {
        let confirm = confirm
            .map(|c| format!(" data-confirm=\"{}\"", escape(c)))
            .unwrap_or_default();
        format!(
            "<form method=\"post\" action=\"/dashboard/webhooks/{id}/{action}\"{confirm} class=\"inline-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\" class=\"{class}\">{label}</button></form>"
        )
    };
    let secret_html = if secret {
        format!(
            "<p><code id=\"secret\">{}</code> <button type=\"button\" class=\"secondary small\" data-copy=\"#secret\">Copy</button></p>",
            escape(&endpoint.secret)
        )
    } else {
        button("secret", "View Secret", "secondary", None)
    };
    let toggle = if endpoint.enabled {
        button(
            "disable",
            "Disable",
            "danger",
            Some("Disable this endpoint? Deliveries stop until it is enabled again."),
        )
    } else {
        button("enable", "Enable", "secondary", None)
    };
    let mut main = format!(
        "<dl class=\"facts\"><dt>URL</dt><dd>{url}</dd><dt>Events</dt><dd>{events}</dd><dt>Status</dt><dd>{status}{reason}</dd>\
         <dt>Signing secret</dt><dd>{secret_html}</dd></dl><div class=\"actions\">{roll}{toggle}</div>\
         <h2>Deliveries</h2>",
        url = escape(&endpoint.url),
        events = escape(&endpoint.enabled_events.join(", ")),
        status = if endpoint.enabled {
            "enabled"
        } else {
            "disabled"
        },
        reason = endpoint
            .disabled_reason
            .as_ref()
            .map(|r| format!(" ({})", escape(r)))
            .unwrap_or_default(),
        roll = button(
            "roll",
            "Roll secret",
            "secondary",
            Some("Make a new secret? The current one keeps working for 24 hours.")
        ),
    );
    if attempts.is_empty() {
        main.push_str("<p class=\"empty\">No deliveries yet.</p>");
    } else {
        main.push_str("<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Time</th><th scope=\"col\">Event</th><th scope=\"col\">Response</th><th scope=\"col\">Latency</th><th scope=\"col\"><span class=\"visually-hidden\">Actions</span></th></tr></thead><tbody>");
        for attempt in &attempts {
            let response = match (attempt.status_code, &attempt.error) {
                (Some(code), _) => code.to_string(),
                (None, Some(error)) => escape(error),
                (None, None) => "no answer".into(),
            };
            main.push_str(&format!(
                "<tr><td>{at}</td><td><code>{event}</code></td><td>{response}</td><td>{latency} ms</td><td>\
                 <form method=\"post\" action=\"/dashboard/webhooks/{id}/resend\" class=\"inline-form\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <input type=\"hidden\" name=\"event\" value=\"{event}\"><button type=\"submit\" class=\"secondary small\">Resend</button></form></td></tr>",
                at = when(attempt.attempted_at),
                event = escape(&attempt.event_id),
                latency = attempt.latency_ms,
            ));
        }
        main.push_str("</tbody></table></div>");
    }
    layout(signed, "/dashboard/webhooks", "Webhook endpoint", &main)
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShowParams {
    /// Show the signing secret (after a roll).
    #[serde(default)]
    pub reveal: bool,
}

/// An endpoint: its settings, secret (on request) and delivery log.
#[utoipa::path(get, path = "/dashboard/webhooks/{id}", tag = "Pages", params(("id" = String, Path), ShowParams),
    responses((status = 200, description = "The endpoint (HTML)."), (status = 404, description = "Not in this account and mode.")))]
pub async fn show_endpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::extract::Query(params): axum::extract::Query<ShowParams>,
) -> Response {
    let signed = match signed_in(&state, &headers).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    match webhooks::get_endpoint(&state.db, &signed.session.caller(), &id).await {
        Ok(endpoint) => render_endpoint(&state, &signed, &endpoint, params.reveal).await,
        Err(error) => failure(error),
    }
}

/// An action on an endpoint: `secret` (view it), `roll`, `disable`, `enable`, `resend` (an event).
#[utoipa::path(post, path = "/dashboard/webhooks/{id}/{action}", tag = "Pages",
    params(("id" = String, Path), ("action" = String, Path, description = "secret, roll, disable, enable or resend")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`; `event` for resend."),
    responses((status = 200, description = "The endpoint with its secret (secret, roll)."), (status = 303, description = "Back to the endpoint.")))]
pub async fn endpoint_action(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let signed = match signed_form(&state, &headers, &fields).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let (db, caller, now) = (&state.db, signed.session.caller(), state.clock.now());
    let targets = state.config.webhook_targets();
    let result = match action.as_str() {
        "secret" => webhooks::get_endpoint(db, &caller, &id).await.map(Some),
        // After a roll, a redirect: reloading the page must not roll again.
        "roll" => {
            return match webhooks::roll_secret(db, &caller, &id, now).await {
                Ok(_) => see_other(&format!("/dashboard/webhooks/{id}?reveal=true")),
                Err(error) => failure(error),
            };
        }
        "disable" | "enable" => {
            let input = EndpointInput {
                disabled: Some(action == "disable"),
                ..Default::default()
            };
            webhooks::update_endpoint(db, &caller, &id, input, targets, now)
                .await
                .map(|_| None)
        }
        "resend" => {
            let event = field(&fields, "event");
            let resent = webhooks::resend_event(db, &caller, event, Some(&id), now).await;
            crate::delivery::WAKE.notify_one();
            resent.map(|_| None)
        }
        _ => Err(DomainError::not_found("page", &action)),
    };
    match result {
        Ok(Some(endpoint)) => render_endpoint(&state, &signed, &endpoint, true).await,
        Ok(None) => see_other(&format!("/dashboard/webhooks/{id}")),
        Err(error) => failure(error),
    }
}
