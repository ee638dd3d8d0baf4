//! The HTTP layer: surfaces, the request frame every response passes through, and routing.

pub mod api_v1;
pub mod api_v2;
pub mod api_v3;
pub mod dashboard;
pub mod document;
pub mod error;
pub mod expand;
pub mod extract;
pub mod form;
pub mod idempotency;
pub mod input;
pub mod ops;
pub mod pages;
pub mod params;
pub mod server;
pub mod stripe;
pub mod surface;
pub mod unsupported;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tracing::Instrument;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use self::error::{ApiError, RenderError};
use self::surface::Surface;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::domain::ids;
use crate::store::Db;
use crate::store::key_changes::KeyChanges;

/// Largest accepted request body.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// A JSON answer, written to bytes inside the handler. kassa's objects (`crate::objects`)
/// borrow from what the handler read, so they are serialised before the handler returns
/// rather than handed to axum as `Json<T>`, which needs a `T` that owns its data.
pub struct JsonBytes(Vec<u8>);

impl JsonBytes {
    pub fn of<T: serde::Serialize + ?Sized>(object: &T) -> Result<JsonBytes, ApiError> {
        crate::objects::to_json(object)
            .map(JsonBytes)
            .map_err(|e| ApiError::internal(e.to_string()))
    }
}

impl axum::response::IntoResponse for JsonBytes {
    fn into_response(self) -> Response {
        let content_type = HeaderValue::from_static("application/json");
        ([(header::CONTENT_TYPE, content_type)], self.0).into_response()
    }
}

/// What every handler can reach. Every extractor that needs it clones it, several times a
/// request, so it is one shared allocation: a clone is one reference count, not one per field
/// (the shutdown token's alone takes a lock).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Shared {
    pub db: Db,
    pub clock: SharedClock,
    pub config: Arc<Config>,
    /// The OpenAPI document, serialized once at start.
    pub openapi_json: Bytes,
    /// Cancelled when the server shuts down: long-lived responses (event streams) end then,
    /// so a graceful shutdown does not wait on them.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Secret keys created and revoked, on any server: what a key opened ends with the key.
    pub key_changes: KeyChanges,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kassa",
        description = "A self-hostable payments checkout server. It speaks the Loops checkout API \
                       (`/api/v1`, `/api/v2`, `/api/v3`) and the Stripe API (`/v1`).",
    ),
    modifiers(&SecuritySchemes, &ObjectComponents),
    tags(
        (name = "Account", description = "The account of the API key in use."),
        (name = "Products", description = "Loops products (V2, V3): the catalog sessions draw from."),
        (name = "Checkout sessions", description = "One purchase each: create, send the customer to `url`, read the outcome."),
        (name = "Payment links", description = "Reusable links that start a checkout session per visit."),
        (name = "Webhooks", description = "Webhook endpoints and events on the Loops V3 surface."),
        (name = "Customer portal", description = "Sessions of the customer portal, where a customer manages their subscriptions, card, invoices and details."),
        (name = "Pages", description = "HTML pages for customers' browsers."),
        (name = "Stripe", description = "The Stripe API at `/v1`, for the official Stripe SDKs."),
        (name = "Operations", description = "Health and documentation."),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

/// Adds every object's schema to the components, so that each `$ref` of an answer resolves.
struct ObjectComponents;

impl utoipa::Modify for ObjectComponents {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, schema) in crate::objects::components() {
            components.schemas.entry(name).or_insert(schema);
        }
    }
}

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "secret_key",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A secret key, `sk_test_...` or `sk_live_...`, as a Bearer token or as the \
                         user name of HTTP Basic authentication.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every route with its OpenAPI description; `/metrics` only when `metrics_public`. Routes are
/// only ever added here, through `routes!`, so none can be served without being documented.
fn documented_routes(metrics_public: bool) -> OpenApiRouter<AppState> {
    let metrics = match metrics_public {
        true => ops::metrics_routes(),
        false => OpenApiRouter::new(),
    };
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::routes())
        .merge(metrics)
        .merge(api_v1::routes())
        .merge(api_v2::routes())
        .merge(api_v3::routes())
        .merge(stripe::routes())
        .merge(pages::routes())
        .merge(dashboard::routes())
}

/// What all operations share (error answers, operation ids, the `Idempotency-Key` header),
/// added once the routes are merged, so no annotation has to repeat it.
struct Conventions;

impl utoipa::Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        document::apply(openapi);
    }
}

/// The routes and their complete OpenAPI document.
fn routes_and_document(metrics_public: bool) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut doc) = documented_routes(metrics_public).split_for_parts();
    utoipa::Modify::modify(&Conventions, &mut doc);
    (routes, doc)
}

/// The OpenAPI document of every route kassa can serve (`/metrics` included, which is served
/// with `--metrics-public`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes_and_document(true).1
}

/// The application of the metrics listener (`--metrics-addr`): `/metrics` and nothing else.
pub fn metrics_app(db: Db, clock: SharedClock) -> Router {
    let (routes, _) = ops::metrics_routes().split_for_parts();
    routes.with_state(ops::MetricsSource { db, clock })
}

/// The complete application: routes, their documentation, and the frame around them. Starts
/// following the database's key changes, until `shutdown` is cancelled.
pub fn app(
    db: Db,
    clock: SharedClock,
    config: Arc<Config>,
    shutdown: tokio_util::sync::CancellationToken,
) -> Router {
    let (routes, doc) = routes_and_document(config.metrics_public);
    let openapi_json = Bytes::from(
        doc.to_pretty_json()
            .expect("the OpenAPI document serializes"),
    );
    let state = AppState(Arc::new(Shared {
        key_changes: KeyChanges::follow(&db, shutdown.clone()),
        db,
        clock,
        config,
        openapi_json,
        shutdown,
    }));
    routes
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ))
        .route_layer(middleware::from_fn(record_route))
        .fallback(unknown_route)
        .layer(middleware::from_fn(input::refuse_nul))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(CatchPanicLayer::new())
        .layer(middleware::from_fn(frame))
        .with_state(state)
}

async fn unknown_route(method: Method, uri: Uri) -> Response {
    let mut response = axum::response::IntoResponse::into_response(ApiError::unknown_route(
        method.as_str(),
        uri.path(),
    ));
    response.extensions_mut().insert(UnknownRoute);
    response
}

/// Marks the answer to a path no route matched, whose path [`frame`] logs: any other answer
/// without a matched route (a 405, a refusal before routing) may have an id in its path.
#[derive(Clone, Copy)]
struct UnknownRoute;

/// Notes the matched route template (`/api/v3/products/{id}`) in the request's log span, and
/// on the response for [`frame`]'s metrics.
async fn record_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().cloned();
    if let Some(route) = &route {
        tracing::Span::current().record("route", route.as_str());
    }
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(route);
    }
    response
}

/// The frame around every request: a `Request-Id`, one log line with the request id, method,
/// route (or, when no route matched the path, the path), status and latency, the request's
/// metrics (by route template), and every error rendered in the shape of the request's surface. Headers (which carry keys), query strings and bodies
/// (which may carry card data) are never logged, nor the ids in a routed path: a session's id
/// opens its hosted page.
async fn frame(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = format!("{}{}", ids::prefix::REQUEST, ids::random_base62(16));
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let surface = Surface::of_path(&path);
    let span = tracing::info_span!(
        "request",
        id = %request_id,
        method = %method,
        route = tracing::field::Empty,
        path = tracing::field::Empty,
    );

    // Only API calls are requests in Stripe's sense; a customer's payment on the hosted page is not.
    let context = crate::domain::events::RequestContext {
        id: request_id.clone(),
        idempotency_key: request
            .headers()
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    let run = next.run(request).instrument(span.clone());
    let mut response = if surface == Surface::Pages {
        run.await
    } else {
        crate::domain::events::REQUEST.scope(context, run).await
    };
    if response.extensions().get::<UnknownRoute>().is_some() {
        span.record("path", path.as_str());
    }
    // Taken before an error is rendered anew, which leaves the extensions behind.
    let route = response.extensions_mut().remove::<MatchedPath>();

    let error = match response.extensions_mut().remove::<RenderError>() {
        Some(RenderError(error)) => Some(error),
        None if is_bare_error(&response) => Some(Arc::new(ApiError::from_bare_status(
            response.status(),
            method.as_str(),
            &path,
        ))),
        None => None,
    };
    if let Some(error) = error {
        if let Some(detail) = &error.internal {
            span.in_scope(|| tracing::error!(detail = %detail, "internal error"));
        }
        let original_headers = std::mem::take(response.headers_mut());
        response = match surface {
            Surface::Pages => error_page(&error),
            _ => error.render(surface),
        };
        for (name, value) in &original_headers {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                response.headers_mut().insert(name.clone(), value.clone());
            }
        }
    }

    response.headers_mut().insert(
        "request-id",
        HeaderValue::from_str(&request_id).expect("request ids are ASCII"),
    );
    let status = response.status().as_u16();
    let took = started.elapsed();
    let route = (route.as_ref()).map_or(crate::metrics::UNMATCHED_ROUTE, MatchedPath::as_str);
    let surface_label = surface.metric_label(&path);
    crate::metrics::http_request(surface_label, route, &method, status, took);
    let latency_ms = millis(took);
    span.in_scope(|| tracing::info!(status, latency_ms, "request"));
    response
}

/// A duration in milliseconds to the microsecond (`0.069`), as logs show it: whole
/// microseconds divided once print as that decimal, not as `0.06917000000000001`.
fn millis(duration: std::time::Duration) -> f64 {
    duration.as_micros() as f64 / 1000.0
}

/// An error status that did not come from kassa's own code: produced by the router or a layer
/// (405, 413, a caught panic) with no body or a plain-text one, so it still needs a body in the
/// surface's shape. JSON errors and HTML pages are already complete.
fn is_bare_error(response: &Response) -> bool {
    let status = response.status();
    let is_plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    (status.is_client_error() || status.is_server_error()) && is_plain
}

/// A plain HTML page for errors on the page surface.
fn error_page(error: &ApiError) -> Response {
    let title = error.status.canonical_reason().unwrap_or("Error");
    let message = if error.status == StatusCode::NOT_FOUND {
        "This page does not exist."
    } else if error.status.is_server_error() {
        "Something went wrong on our side. Please try again in a moment."
    } else {
        "This request could not be handled."
    };
    pages::message_page(error.status, title, message)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn latencies_are_logged_to_the_microsecond() {
        for (nanos, shown) in [
            (69_170_000, "69.17"),
            (69_170_001, "69.17"),
            (69_171_600, "69.171"),
            (1_234, "0.001"),
            (400, "0"),
            (2_000_000_000, "2000"),
        ] {
            let ms = super::millis(Duration::from_nanos(nanos));
            assert_eq!(ms.to_string(), shown, "{nanos} ns");
            assert_eq!(
                serde_json::json!(ms).to_string().trim_end_matches(".0"),
                shown
            );
        }
    }
}
