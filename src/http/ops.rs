//! Operational routes: health, the OpenAPI document and, when asked for, metrics.

use axum::Json;
use axum::extract::{FromRef, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(openapi_json))
}

/// `/metrics` alone: on the main listener with `--metrics-public`, and as the whole of the
/// metrics listener's application.
pub fn metrics_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    MetricsSource: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(metrics))
}

/// What `/metrics` reads: the database for its gauges, and the server's clock.
#[derive(Clone)]
pub struct MetricsSource {
    pub db: crate::store::Db,
    pub clock: crate::clock::SharedClock,
}

impl FromRef<AppState> for MetricsSource {
    fn from_ref(state: &AppState) -> MetricsSource {
        MetricsSource {
            db: state.db.clone(),
            clock: state.clock.clone(),
        }
    }
}

/// Prometheus metrics of this server, in Prometheus' text format. Served only with
/// `--metrics-public` (and on `--metrics-addr`'s listener).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "Operations",
    responses(
        (status = 200, description = "Every metric, in Prometheus' text exposition format (version 0.0.4).", content_type = "text/plain", body = String),
        (status = 503, description = "The database, which the gauges are read from, does not answer.", content_type = "text/plain", body = String),
    )
)]
pub async fn metrics(State(source): State<MetricsSource>) -> Response {
    let unavailable = |why: &'static str| {
        let plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
        (StatusCode::SERVICE_UNAVAILABLE, plain, why).into_response()
    };
    let Some(handle) = crate::metrics::handle() else {
        return unavailable("metrics are not recorded in this process\n");
    };
    match crate::metrics::scrape(handle, &source.db, source.clock.now()).await {
        Ok(text) => {
            let format = [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )];
            (format, text).into_response()
        }
        Err(error) => {
            tracing::warn!(%error, "metrics: the database does not answer");
            unavailable("the database does not answer\n")
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the server can reach its database, `unavailable` otherwise.
    status: &'static str,
    /// `ok` or the reason the database is unreachable.
    database: String,
}

/// Whether the server is up and its database answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "Operations",
    responses(
        (status = 200, description = "The server and its database are up.", body = Health),
        (status = 503, description = "The database does not answer.", body = Health),
    )
)]
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                database: "ok".into(),
            }),
        ),
        Err(error) => {
            tracing::warn!(%error, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                    database: "unreachable".into(),
                }),
            )
        }
    }
}

/// This document: the OpenAPI 3.1 description of every route.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "Operations",
    responses((status = 200, description = "The OpenAPI document.", content_type = "application/json"))
)]
pub async fn openapi_json(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json.clone(),
    )
}
