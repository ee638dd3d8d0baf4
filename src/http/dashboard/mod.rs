//! `/dashboard`: the merchant's pages, server-rendered, behind a sign-in. Every page shows one
//! account in one mode (test or live, switched from any page); every form carries the
//! session's CSRF token.

pub mod customers;
pub mod keys;
pub mod links;
pub mod overview;
pub mod products;
pub mod refunds;
pub mod sessions;
pub mod settings;
pub mod subscriptions;
pub mod webhooks;

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::pages::{escape, page};
use crate::domain::Mode;
use crate::domain::dashboard::{self, DashboardSession, SignInError};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in_page, sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(switch_mode))
        .merge(overview::routes())
        .merge(products::routes())
        .merge(links::routes())
        .merge(sessions::routes())
        .merge(refunds::routes())
        .merge(subscriptions::routes())
        .merge(customers::routes())
        .merge(webhooks::routes())
        .merge(keys::routes())
        .merge(settings::routes())
}

const COOKIE: &str = "kassa_dashboard";

/// A signed-in request: the session and its cookie token.
pub struct Signed {
    pub token: String,
    pub session: DashboardSession,
}

/// The value of the request's cookie `name`.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value.to_string())
}

/// `; Secure` when the dashboard is served over https.
fn secure_attribute(state: &AppState) -> &'static str {
    if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

/// The signed-in session, or the answer to give instead: a redirect to the sign-in page.
pub async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Signed, Response> {
    let Some(token) = cookie(headers, COOKIE) else {
        return Err(see_other("/dashboard/sign-in"));
    };
    match dashboard::session(&state.db, &token, state.clock.now()).await {
        Ok(Some(session)) => Ok(Signed { token, session }),
        Ok(None) => Err(see_other("/dashboard/sign-in")),
        Err(error) => Err(failure(error)),
    }
}

/// A signed-in form post carrying the session's CSRF token, or the answer to give instead.
pub async fn signed_form(
    state: &AppState,
    headers: &HeaderMap,
    fields: &[(String, String)],
) -> Result<Signed, Response> {
    let signed = signed_in(state, headers).await?;
    if !csrf_ok(&signed, fields) {
        return Err(refused());
    }
    Ok(signed)
}

/// Checks a form's CSRF token against the session's.
pub fn csrf_ok(signed: &Signed, fields: &[(String, String)]) -> bool {
    carries_token(fields, &signed.session.csrf_token)
}

/// Whether the form's `csrf` field is `expected` (compared in constant time).
fn carries_token(fields: &[(String, String)], expected: &str) -> bool {
    let expected = expected.as_bytes();
    fields.iter().any(|(name, value)| {
        name == "csrf"
            && value.len() == expected.len()
            && value
                .bytes()
                .zip(expected)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    })
}

pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

pub fn refused() -> Response {
    super::pages::message_page(
        StatusCode::FORBIDDEN,
        "Please reload the page",
        "This form has expired or was sent from another site. Reload the page and try again.",
    )
}

pub fn failure(error: crate::domain::DomainError) -> Response {
    match error {
        crate::domain::DomainError::NotFound { .. } => super::pages::message_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is nothing here in this account and mode.",
        ),
        // A hand-edited address, such as an unknown `after` cursor.
        error @ crate::domain::DomainError::MissingReference { .. } => super::pages::message_page(
            StatusCode::BAD_REQUEST,
            "This address is not valid",
            &format!("Go back and try again ({error})."),
        ),
        crate::domain::DomainError::Invalid { message, .. } => super::pages::message_page(
            StatusCode::BAD_REQUEST,
            "This address is not valid",
            &format!("Go back and try again ({message})."),
        ),
        error => {
            tracing::error!(%error, "dashboard page failed");
            super::pages::message_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Something went wrong on our side. Please try again in a moment.",
            )
        }
    }
}

/// A refused form's error, for the alert above the form again: `param: message.`
pub fn message(error: crate::domain::DomainError) -> String {
    use crate::domain::DomainError;
    match error {
        DomainError::Invalid { param, message, .. } => format!("{param}: {message}."),
        other => other.to_string(),
    }
}

/// The sections of the dashboard, for the navigation.
const SECTIONS: [(&str, &str); 8] = [
    ("/dashboard", "Overview"),
    ("/dashboard/products", "Products"),
    ("/dashboard/links", "Payment links"),
    ("/dashboard/sessions", "Checkout sessions"),
    ("/dashboard/subscriptions", "Subscriptions"),
    ("/dashboard/webhooks", "Webhooks"),
    ("/dashboard/keys", "API keys"),
    ("/dashboard/settings", "Settings"),
];

/// A dashboard page: the navigation, the mode switch, and `main` (already escaped HTML).
pub fn layout(signed: &Signed, active: &str, title: &str, main: &str) -> Response {
    let session = &signed.session;
    let csrf = escape(&session.csrf_token);
    let mut nav = String::new();
    for (href, label) in SECTIONS {
        let current = if href == active {
            " aria-current=\"page\""
        } else {
            ""
        };
        nav.push_str(&format!("<a href=\"{href}\"{current}>{label}</a>"));
    }
    // Outside the dashboard, for the developers among its users.
    nav.push_str("<a href=\"/docs\">API reference</a>");
    let (other, other_label) = match session.mode {
        Mode::Test => ("live", "Switch to live"),
        Mode::Live => ("test", "Switch to test"),
    };
    let banner = match session.mode {
        Mode::Test => {
            "<p class=\"mode-banner\">Test mode: test data, test keys, no real money.</p>"
        }
        Mode::Live => "",
    };
    let body = format!(
        "<header class=\"dash-header\"><a class=\"brand\" href=\"/dashboard\">kassa</a>\
         <nav aria-label=\"Dashboard\">{nav}</nav>\
         <div class=\"dash-user\"><span class=\"badge mode-{mode}\">{mode_label}</span>\
         <form method=\"post\" action=\"/dashboard/mode\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"mode\" value=\"{other}\"><button type=\"submit\" class=\"secondary small\">{other_label}</button></form>\
         <form method=\"post\" action=\"/dashboard/sign-out\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" class=\"link\">Sign out {email}</button></form></div></header>\
         {banner}<main class=\"dash\">\n<h1>{title}</h1>\n{main}\n</main>",
        mode = session.mode,
        mode_label = match session.mode {
            Mode::Test => "Test mode",
            Mode::Live => "Live mode",
        },
        email = escape(&session.email),
        title = escape(title),
    );
    page(StatusCode::OK, &format!("{title} · kassa"), &body, &[])
}

/// The sign-in form's CSRF token. There is no session yet, so the token lives in its own
/// cookie (`SameSite=Strict`, scoped to the form) and the form carries it too (double submit):
/// another site can make a browser post the form, but cannot know the token, so it cannot sign
/// the browser in to an account of its choosing (login CSRF).
struct SignInToken {
    token: String,
    /// The cookie to set, when the browser had none.
    set_cookie: Option<HeaderValue>,
}

const SIGN_IN_COOKIE: &str = "kassa_sign_in";
const SIGN_IN_TOKEN_CHARS: usize = 32;

impl SignInToken {
    /// The browser's token, or a new one.
    fn of(state: &AppState, headers: &HeaderMap) -> SignInToken {
        match cookie(headers, SIGN_IN_COOKIE).filter(|t| t.len() == SIGN_IN_TOKEN_CHARS) {
            Some(token) => SignInToken {
                token,
                set_cookie: None,
            },
            None => {
                let token = crate::domain::ids::random_base62(SIGN_IN_TOKEN_CHARS);
                let set_cookie = HeaderValue::from_str(&format!(
                    "{SIGN_IN_COOKIE}={token}; Path=/dashboard/sign-in; HttpOnly; SameSite=Strict{}",
                    secure_attribute(state)
                ))
                .ok();
                SignInToken { token, set_cookie }
            }
        }
    }

    /// Whether a posted sign-in form comes from kassa's own page: the browser's cookie and the
    /// form's field agree, and the browser does not say it was sent from another site.
    fn accepts(&self, state: &AppState, headers: &HeaderMap, fields: &[(String, String)]) -> bool {
        self.set_cookie.is_none()
            && carries_token(fields, &self.token)
            && !from_another_site(state, headers)
    }
}

/// What the browser says about where a post comes from: `Sec-Fetch-Site` (`same-site` too is
/// another site here: a sibling host may set cookies for the parent domain), and an `Origin`
/// other than kassa's own. kassa's pages send no referrer, so their own posts say
/// `Origin: null`: no evidence either way.
fn from_another_site(state: &AppState, headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site")
        && site != "same-origin"
        && site != "none"
    {
        return true;
    }
    match text("origin") {
        None | Some("null") => false,
        Some(origin) => {
            let public = &state.config.public_url;
            let is_public_origin = public
                .strip_prefix(origin)
                .is_some_and(|path| path.is_empty() || path.starts_with('/'));
            let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            !is_public_origin && text("host") != Some(authority)
        }
    }
}

/// The sign-in form, with an error when there is one.
fn sign_in_form(
    status: StatusCode,
    error: Option<&str>,
    email: &str,
    token: &SignInToken,
) -> Response {
    let alert = error
        .map(|e| {
            format!(
                "<div class=\"alert\" role=\"alert\" id=\"form-alert\">{}</div>",
                escape(e)
            )
        })
        .unwrap_or_default();
    let main = format!(
        "<main class=\"card\">\n<p class=\"merchant\">kassa</p><h1>Sign in to the dashboard</h1>\n{alert}\
         <form method=\"post\" action=\"/dashboard/sign-in\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <div class=\"field\"><label for=\"field-email\">Email</label>\
         <input id=\"field-email\" type=\"email\" name=\"email\" autocomplete=\"username\" required value=\"{email}\"></div>\
         <div class=\"field\"><label for=\"field-password\">Password</label>\
         <input id=\"field-password\" type=\"password\" name=\"password\" autocomplete=\"current-password\" required></div>\
         <div class=\"actions\"><button type=\"submit\" class=\"primary\">Sign in</button></div></form>\n</main>",
        email = escape(email),
        csrf = escape(&token.token),
    );
    let mut response = page(status, "Sign in · kassa", &main, &[]);
    if let Some(cookie) = &token.set_cookie {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie.clone());
    }
    response
}

/// The sign-in page.
#[utoipa::path(get, path = "/dashboard/sign-in", tag = "Pages",
    responses((status = 200, description = "The sign-in form (HTML), with its CSRF cookie.")))]
pub async fn sign_in_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    sign_in_form(StatusCode::OK, None, "", &SignInToken::of(&state, &headers))
}

/// Signs in with an email and password; five failures in a row lock the user out for 15 minutes.
#[utoipa::path(post, path = "/dashboard/sign-in", tag = "Pages",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf` (from the form's page and its cookie), `email`, `password`."),
    responses((status = 303, description = "Signed in: to the overview, with the session cookie."),
              (status = 401, description = "Wrong email or password (HTML)."),
              (status = 403, description = "The form was not sent from kassa's sign-in page (a missing or wrong CSRF token, or another site's post): the form again (HTML)."),
              (status = 429, description = "Locked after repeated failures (HTML).")))]
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let token = SignInToken::of(&state, &headers);
    if !token.accepts(&state, &headers, &fields) {
        // Nothing of the post is used: not even a wrong password counts towards the lock.
        return sign_in_form(
            StatusCode::FORBIDDEN,
            Some("This form has expired or was sent from another site. Please sign in again."),
            "",
            &token,
        );
    }
    let email = field(&fields, "email");
    let password = field(&fields, "password");
    match dashboard::sign_in(&state.db, email, password, state.clock.now()).await {
        Ok((session_token, session)) => {
            let mut response = see_other("/dashboard");
            let cookie = format!(
                "{COOKIE}={session_token}; Path=/dashboard; HttpOnly; SameSite=Lax; Max-Age={}{}",
                session.expires_at - state.clock.now(),
                secure_attribute(&state),
            );
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(SignInError::Invalid) => sign_in_form(
            StatusCode::UNAUTHORIZED,
            Some("The email or password is wrong."),
            email,
            &token,
        ),
        Err(SignInError::Locked) => sign_in_form(
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many failed sign-ins. Try again in 15 minutes."),
            email,
            &token,
        ),
        Err(SignInError::Domain(error)) => failure(error),
    }
}

/// Signs out: the session ends everywhere at once.
#[utoipa::path(post, path = "/dashboard/sign-out", tag = "Pages",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`."),
    responses((status = 303, description = "To the sign-in page.")))]
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let signed = match signed_form(&state, &headers, &fields).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    if let Err(error) = dashboard::sign_out(&state.db, &signed.token).await {
        return failure(error);
    }
    let mut response = see_other("/dashboard/sign-in");
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "kassa_dashboard=; Path=/dashboard; HttpOnly; SameSite=Lax; Max-Age=0",
        ),
    );
    response
}

/// Switches the dashboard between test and live data.
#[utoipa::path(post, path = "/dashboard/mode", tag = "Pages",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`, `mode` (test or live)."),
    responses((status = 303, description = "Back to the overview.")))]
pub async fn switch_mode(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let signed = match signed_form(&state, &headers, &fields).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let Ok(mode) = field(&fields, "mode").parse::<Mode>() else {
        return refused();
    };
    if let Err(error) = dashboard::switch_mode(&state.db, &signed.token, mode).await {
        return failure(error);
    }
    see_other("/dashboard")
}

/// Time as `2026-11-23 17:05` (UTC).
pub fn when(unix: i64) -> String {
    let at =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}
