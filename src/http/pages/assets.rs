//! The pages' stylesheet and script, compiled into the binary.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::AppState;

const STYLESHEET: &str = include_str!("assets/kassa.css");
const SCRIPT: &str = include_str!("assets/checkout.js");

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stylesheet))
        .routes(routes!(script))
}

/// A compiled-in file as `content_type`, cached for an hour.
pub(super) fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The pages' stylesheet.
#[utoipa::path(get, path = "/assets/kassa.css", tag = "Pages",
    responses((status = 200, description = "CSS.", content_type = "text/css")))]
pub async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET)
}

/// The hosted checkout page's script (the page works without it).
#[utoipa::path(get, path = "/assets/checkout.js", tag = "Pages",
    responses((status = 200, description = "JavaScript.", content_type = "text/javascript")))]
pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}
