//! Pages for customers' browsers: HTML rendered on the server, no API key, no third-party
//! assets. Every page goes out through [`page`], which sets the security headers.

pub mod assets;
pub mod checkout;
pub mod csrf;
pub mod docs;
pub mod payment_link;
pub mod portal;
pub mod receipts;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;

use super::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(payment_link::routes())
        .merge(checkout::routes())
        .merge(receipts::routes())
        .merge(portal::routes())
        .merge(assets::routes())
        .merge(docs::routes())
}

/// What a test-mode page (or email) says under its content.
pub const TEST_NOTE: &str = "<p class=\"test-hint\">Test mode: no real money moved.</p>\n";

/// "2 February 2027" (UTC), for customers.
pub fn long_date(at: i64) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:long] [year]");
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A whole HTML document around `main` (already escaped HTML), with kassa's stylesheet and
/// script. `form_targets` are the origins a form on the page may end up at (the merchant's
/// success and cancel URLs, reached by redirect after a POST), for the CSP's `form-action`.
pub fn page(status: StatusCode, title: &str, main: &str, form_targets: &[String]) -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <title>{title}</title>\n\
         <link rel=\"stylesheet\" href=\"/assets/kassa.css\">\n\
         <script src=\"/assets/checkout.js\" defer></script>\n\
         </head>\n<body>\n{main}\n</body>\n</html>\n",
        title = escape(title),
    );
    let mut response = (status, Html(body)).into_response();
    secure(response.headers_mut(), form_targets);
    response
}

/// The headers every page carries: no inline or foreign scripts, no framing, no referrer (the
/// URL holds the session id, a capability), no caching, no sniffing.
fn secure(headers: &mut HeaderMap, form_targets: &[String]) {
    let mut form_action = String::from("'self'");
    for target in form_targets {
        form_action.push(' ');
        form_action.push_str(target);
    }
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    );
    let set = |headers: &mut HeaderMap, name: header::HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(headers, header::CONTENT_SECURITY_POLICY, &csp);
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::CACHE_CONTROL, "no-store");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
}

/// A short page with a title and a message, for states where there is nothing to do.
pub fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    let main = format!(
        "<main class=\"card message\">\n<h1>{}</h1>\n<p>{}</p>\n</main>",
        escape(title),
        escape(message)
    );
    page(status, title, &main, &[])
}
