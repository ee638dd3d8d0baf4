//! The API reference page, `/docs`: kassa's `/openapi.json` rendered by Swagger UI, whose
//! files (vendored in `assets/swagger-ui/`, see its README) are compiled into the binary and
//! served by kassa, under the same Content-Security-Policy as the other pages.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::assets::asset;
use crate::http::AppState;

/// The vendored `swagger-ui-dist` release; its asset paths carry it, so that they can be cached
/// for good.
pub const SWAGGER_UI_VERSION: &str = "5.35.0";
/// Swagger UI's script, with every library it needs (1.7 MB).
pub const BUNDLE_PATH: &str = "/assets/swagger-ui-5.35.0/swagger-ui-bundle.js";
/// Swagger UI's stylesheet.
pub const STYLESHEET_PATH: &str = "/assets/swagger-ui-5.35.0/swagger-ui.css";

const BUNDLE: &str = include_str!("assets/swagger-ui/swagger-ui-bundle.js");
const STYLESHEET: &str = include_str!("assets/swagger-ui/swagger-ui.css");
const START: &str = include_str!("assets/docs.js");

/// How long a browser keeps a versioned asset: a year, without asking again (a new version is
/// a new path).
const FOREVER: &str = "public, max-age=31536000, immutable";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_reference))
        .routes(routes!(api_reference_script))
        .routes(routes!(swagger_ui_script))
        .routes(routes!(swagger_ui_stylesheet))
}

/// The API reference: every route of `/openapi.json`, browsable, with "Try it out" sending
/// requests to this server (an API key goes in under "Authorize"). Needs JavaScript.
#[utoipa::path(get, path = "/docs", tag = "Operations",
    responses((status = 200, description = "HTML.", content_type = "text/html")))]
pub async fn api_reference() -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <title>API reference · kassa</title>\n\
         <link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\">\n\
         <script src=\"{BUNDLE_PATH}\" defer></script>\n\
         <script src=\"/assets/docs.js\" defer></script>\n\
         </head>\n<body>\n<main id=\"swagger-ui\">\n\
         <noscript><p>The API reference needs JavaScript. The document it shows is \
         <a href=\"/openapi.json\">/openapi.json</a>.</p></noscript>\n\
         </main>\n</body>\n</html>\n"
    );
    let mut response = (StatusCode::OK, Html(body)).into_response();
    super::secure(response.headers_mut(), &[]);
    response
}

/// The API reference page's script: starts Swagger UI on `/openapi.json`.
#[utoipa::path(get, path = "/assets/docs.js", tag = "Operations",
    responses((status = 200, description = "JavaScript.", content_type = "text/javascript")))]
pub async fn api_reference_script() -> Response {
    asset("text/javascript; charset=utf-8", START)
}

/// Swagger UI's script (`swagger-ui-dist`, Apache-2.0), unchanged; cached for a year.
#[utoipa::path(get, path = BUNDLE_PATH, tag = "Operations",
    responses((status = 200, description = "JavaScript.", content_type = "text/javascript")))]
pub async fn swagger_ui_script() -> Response {
    forever(asset("text/javascript; charset=utf-8", BUNDLE))
}

/// Swagger UI's stylesheet (`swagger-ui-dist`, Apache-2.0), unchanged; cached for a year.
#[utoipa::path(get, path = STYLESHEET_PATH, tag = "Operations",
    responses((status = 200, description = "CSS.", content_type = "text/css")))]
pub async fn swagger_ui_stylesheet() -> Response {
    forever(asset("text/css; charset=utf-8", STYLESHEET))
}

fn forever(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(FOREVER));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paths name the version that is vendored, so that a new version gets new paths and
    /// no browser keeps the old files.
    #[test]
    fn asset_paths_carry_the_vendored_version() {
        let package: serde_json::Value =
            serde_json::from_str(include_str!("assets/swagger-ui/package.json")).unwrap();
        assert_eq!(package["version"], SWAGGER_UI_VERSION);
        let directory = format!("/assets/swagger-ui-{SWAGGER_UI_VERSION}/");
        assert!(BUNDLE_PATH.starts_with(&directory), "{BUNDLE_PATH}");
        assert!(STYLESHEET_PATH.starts_with(&directory), "{STYLESHEET_PATH}");
    }
}
