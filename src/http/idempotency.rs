//! `Idempotency-Key` on every POST of every API surface: the first request with a key runs and
//! its response is stored; retries get that response again with `Idempotent-Replayed: true`.
//! The rules themselves are in [`crate::domain::idempotency`].
//!
//! Pages (hosted checkout, payment links, the dashboard) have no API key to scope a key to, and
//! their forms are guarded by CSRF tokens instead: the header is ignored there.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::{ApiError, ErrorType, RenderError};
use super::surface::Surface;
use crate::domain::accounts::Caller;
use crate::domain::idempotency::{self, Claim};
use crate::metrics::Replay;

/// Responses that are not remembered: the request failed before doing anything (bad
/// parameters, bad key, a conflict), so a corrected retry with the same key must run.
fn is_forgettable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 400 | 401 | 409 | 413 | 415 | 429)
}

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let surface = Surface::of_path(request.uri().path());
    if matches!(surface, Surface::Pages | Surface::Operations) {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get("idempotency-key") else {
        return next.run(request).await;
    };
    let Ok(key) = key.to_str().map(str::to_string) else {
        return ApiError::invalid_param(
            "Idempotency-Key",
            "Invalid Idempotency-Key: it must be printable ASCII.",
        )
        .into_response();
    };
    let (mut parts, body) = request.into_parts();
    let caller = match Caller::from_request_parts(&mut parts, &state).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    parts.extensions.insert(caller.clone());
    let Ok(bytes) = to_bytes(body, super::BODY_LIMIT_BYTES).await else {
        return ApiError::payload_too_large(super::BODY_LIMIT_BYTES).into_response();
    };
    let route = format!("{} {}", parts.method, parts.uri.path());
    let hash = idempotency::request_hash(&route, &bytes);
    let now = state.clock.now();
    let claim = match idempotency::claim(&state.db, &caller, &key, &route, &hash, now).await {
        Ok(claim) => claim,
        Err(error) => return ApiError::from(error).into_response(),
    };
    match claim {
        Claim::Run => {}
        Claim::Replay { status, body } => {
            crate::metrics::idempotency(Replay::Replayed);
            let mut response =
                (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
            return response;
        }
        Claim::InFlight => {
            crate::metrics::idempotency(Replay::Conflict);
            return ApiError::conflict(
                "idempotency_key_in_use",
                format!(
                    "There is currently another in-progress request using the Idempotency-Key '{key}'. \
                     Retry this request later."
                ),
            )
            .with_type(ErrorType::Idempotency)
            .into_response();
        }
        Claim::OtherRoute { route: first } => {
            crate::metrics::idempotency(Replay::Mismatch);
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                Some("idempotency_key_reused"),
                format!(
                    "Keys for idempotent requests can only be used for the same endpoint they were first used \
                     for ('{first}' vs '{route}'). Try using a key other than '{key}' if you meant to execute a \
                     different request."
                ),
            )
            .with_type(ErrorType::Idempotency)
            .into_response();
        }
        Claim::OtherParameters => {
            crate::metrics::idempotency(Replay::Mismatch);
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                Some("idempotency_key_reused"),
                format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used \
                     with. Try using a key other than '{key}' if you meant to execute a different request."
                ),
            )
            .with_type(ErrorType::Idempotency)
            .into_response();
        }
    }

    let mut response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    // Errors are rendered here rather than in the frame, so the stored body is the one sent.
    let rendered_error = response.extensions_mut().remove::<RenderError>();
    if let Some(RenderError(error)) = &rendered_error {
        let mut rendered = error.render(surface);
        rendered.extensions_mut().insert(RenderError(error.clone()));
        response = rendered;
    }
    let status = response.status();
    if is_forgettable(status) {
        if let Err(error) = idempotency::release(&state.db, &caller, &key).await {
            tracing::warn!(%error, "could not release an idempotency key");
        }
        return response;
    }
    let (response_parts, body) = response.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&body).into_owned();
    if let Err(error) = idempotency::record(&state.db, &caller, &key, status.as_u16(), &text).await
    {
        // The request succeeded; a lost record only means a retry would run it again.
        tracing::error!(%error, "could not record an idempotent response");
    }
    Response::from_parts(response_parts, Body::from(body))
}
