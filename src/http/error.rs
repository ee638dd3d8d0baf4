//! The one place where errors become HTTP responses.
//!
//! Handlers and extractors return [`ApiError`]. Its `IntoResponse` only records the error in
//! the response's extensions; the [`frame`](super::frame) middleware, which knows the request's
//! [`Surface`], renders it in that surface's shape. Errors produced below the handlers (unknown
//! routes, wrong methods, bodies over the limit, panics) are turned into `ApiError` there too,
//! so every API response, whatever went wrong, is JSON in the caller's dialect.

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::surface::Surface;
use crate::domain::DomainError;
use crate::domain::accounts::AuthError;

/// Stripe's error `type`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    InvalidRequest,
    Api,
    Idempotency,
    Card,
}

impl ErrorType {
    fn as_str(self) -> &'static str {
        match self {
            ErrorType::InvalidRequest => "invalid_request_error",
            ErrorType::Api => "api_error",
            ErrorType::Idempotency => "idempotency_error",
            ErrorType::Card => "card_error",
        }
    }
}

/// An error answered to an API client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: ErrorType,
    pub code: Option<&'static str>,
    /// The Stripe-style message (`No such product: 'prod_1'`).
    pub message: String,
    /// The Loops V1/V2 message, where it differs (`Product not found`).
    pub loops_message: Option<String>,
    pub param: Option<String>,
    /// Further fields of Stripe's error object (`decline_code`, `charge`, `payment_intent`);
    /// boxed, as most errors have none.
    pub fields: Option<Box<serde_json::Map<String, serde_json::Value>>>,
    /// What went wrong inside, for the log only; never sent. (A boxed `str` keeps the error
    /// small, as results carry it.)
    pub internal: Option<Box<str>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: Option<&'static str>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind: ErrorType::InvalidRequest,
            code,
            message: message.into(),
            loops_message: None,
            param: None,
            fields: None,
            internal: None,
        }
    }

    /// Adds a field to the Stripe error object, such as `decline_code`.
    pub fn with_field(mut self, name: &str, value: serde_json::Value) -> Self {
        self.fields
            .get_or_insert_default()
            .insert(name.to_string(), value);
        self
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    pub fn with_type(mut self, kind: ErrorType) -> Self {
        self.kind = kind;
        self
    }

    /// 400 for a parameter that failed validation.
    pub fn invalid_param(param: impl Into<String>, message: impl Into<String>) -> Self {
        let param = param.into();
        ApiError::new(StatusCode::BAD_REQUEST, Some("parameter_invalid"), message).with_param(param)
    }

    /// 400 for a required parameter that is absent.
    pub fn missing_param(param: impl Into<String>) -> Self {
        let param = param.into();
        ApiError::new(
            StatusCode::BAD_REQUEST,
            Some("parameter_missing"),
            format!("Missing required param: {param}."),
        )
        .with_param(param)
    }

    /// 404 for an object the caller cannot see. `object` is the Stripe object name.
    pub fn not_found(object: &str, id: &str) -> Self {
        let mut error = ApiError::new(
            StatusCode::NOT_FOUND,
            Some("resource_missing"),
            format!("No such {object}: '{id}'"),
        )
        .with_param("id");
        error.loops_message = Some(format!("{} not found", human_object_name(object)));
        error
    }

    /// 400 for a parameter naming an object the caller cannot see, as Stripe answers it
    /// (`No such customer: 'cus_1'`, `param=customer`). Loops V1/V2 answer 404 instead, as
    /// they document (see [`ApiError::status_for`]).
    pub fn missing_reference(param: &str, object: &str, id: &str) -> Self {
        let mut error = ApiError::new(
            StatusCode::BAD_REQUEST,
            Some("resource_missing"),
            format!("No such {object}: '{id}'"),
        )
        .with_param(param);
        error.loops_message = Some(format!("{} not found", human_object_name(object)));
        error
    }

    /// 400 for a parameter Stripe defines that kassa does not implement, sent with a value
    /// that would change something (decisions: never a 200 that ignores it). Stripe's shape for
    /// such refusals: `param` set, no `code`.
    pub fn unsupported(param: &str, value: &str) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            None,
            format!("kassa does not support {param}={value}."),
        )
        .with_param(param)
    }

    /// 400 for a parameter the operation does not define, with the closest defined name as a
    /// suggestion when one is close (`custmer_email` → `customer_email`).
    pub fn unknown_param(param: &str, suggestion: Option<&str>) -> Self {
        let mut message = format!("Received unknown parameter: {param}");
        if let Some(suggestion) = suggestion {
            message.push_str(&format!(". Did you mean {suggestion}?"));
        }
        ApiError::new(StatusCode::BAD_REQUEST, Some("parameter_unknown"), message).with_param(param)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, None, message)
    }

    pub fn unknown_route(method: &str, path: &str) -> Self {
        let mut error = ApiError::new(
            StatusCode::NOT_FOUND,
            None,
            format!("Unrecognized request URL ({method}: {path})."),
        );
        error.loops_message = Some(format!("Route {method}:{path} not found"));
        error
    }

    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            format!("The method {method} is not allowed on {path}."),
        )
    }

    pub fn payload_too_large(limit_bytes: usize) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("request_too_large"),
            format!("The request body is larger than the limit of {limit_bytes} bytes."),
        )
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type"),
            message,
        )
    }

    /// 429, as Stripe answers it: `invalid_request_error` with the code `rate_limit`.
    pub fn rate_limited(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, Some("rate_limit"), message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, Some(code), message)
    }

    /// 500. `detail` goes to the log; the client sees only a generic message.
    pub fn internal(detail: impl Into<String>) -> Self {
        let mut error = ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            "An internal error occurred. The request id identifies it in the server log.",
        )
        .with_type(ErrorType::Api);
        error.internal = Some(detail.into().into_boxed_str());
        error
    }

    /// The error for a response that left the router as a bare status, without an `ApiError`.
    pub fn from_bare_status(status: StatusCode, method: &str, path: &str) -> Self {
        match status {
            StatusCode::NOT_FOUND => ApiError::unknown_route(method, path),
            StatusCode::METHOD_NOT_ALLOWED => ApiError::method_not_allowed(method, path),
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large(super::BODY_LIMIT_BYTES),
            StatusCode::INTERNAL_SERVER_ERROR => ApiError::internal("the handler panicked"),
            other => ApiError::new(
                other,
                None,
                other
                    .canonical_reason()
                    .unwrap_or("The request failed.")
                    .to_string(),
            ),
        }
    }

    fn loops_message(&self) -> &str {
        self.loops_message.as_deref().unwrap_or(&self.message)
    }

    /// The body in `surface`'s shape.
    pub fn body(&self, surface: Surface) -> serde_json::Value {
        if surface.has_loops_errors() {
            let status = self.status_for(surface);
            let mut body = json!({
                "statusCode": status.as_u16(),
                "error": status.canonical_reason().unwrap_or("Error"),
                "message": self.loops_message(),
            });
            if let Some(code) = self.code {
                body["code"] = json!(code);
            }
            if let Some(param) = &self.param {
                body["param"] = json!(param);
            }
            body
        } else {
            let mut error = json!({ "type": self.kind.as_str(), "message": self.message });
            if let Some(code) = self.code {
                error["code"] = json!(code);
            }
            if let Some(param) = &self.param {
                error["param"] = json!(param);
            }
            for (name, value) in self.fields.iter().flat_map(|fields| fields.iter()) {
                error[name] = value.clone();
            }
            json!({ "error": error })
        }
    }

    /// The complete response for `surface`.
    pub fn render(&self, surface: Surface) -> Response {
        let body = crate::objects::to_json(&self.body(surface)).expect("error bodies serialize");
        let mut response = (self.status_for(surface), body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        // The Stripe SDKs retry every 409 unless told not to; only a key in use is worth it.
        if self.status == StatusCode::CONFLICT {
            let retry = self.code == Some("idempotency_key_in_use");
            headers.insert(
                "stripe-should-retry",
                HeaderValue::from_static(if retry { "true" } else { "false" }),
            );
        }
        response
    }

    /// Where surfaces answer the same fault with different statuses:
    /// - a state that forbids the action is 409 on the Loops surfaces, but 400 on `/v1`, as in
    ///   Stripe, where the SDKs choose the exception class by status (400: InvalidRequestError);
    /// - a body naming an object that does not exist is Stripe's 400 `resource_missing`, but
    ///   the 404 "not found" that Loops V1/V2 document.
    fn status_for(&self, surface: Surface) -> StatusCode {
        let state_conflict =
            self.status == StatusCode::CONFLICT && self.code != Some("idempotency_key_in_use");
        let missing_reference =
            self.status == StatusCode::BAD_REQUEST && self.code == Some("resource_missing");
        if surface == Surface::Stripe && state_conflict {
            StatusCode::BAD_REQUEST
        } else if surface.has_loops_errors() && missing_reference {
            StatusCode::NOT_FOUND
        } else {
            self.status
        }
    }
}

/// "checkout.session" → "Checkout session", for the Loops messages.
fn human_object_name(object: &str) -> String {
    let words = object.replace(['.', '_'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Marks a response as carrying this error, to be rendered by the frame.
#[derive(Clone)]
pub struct RenderError(pub Arc<ApiError>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response
            .extensions_mut()
            .insert(RenderError(Arc::new(self)));
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::NotFound { object, id } => ApiError::not_found(object, &id),
            DomainError::MissingReference { object, id, param } => {
                ApiError::missing_reference(&param, object, &id)
            }
            DomainError::Invalid {
                code,
                param,
                message,
            } => {
                let text = format!("Invalid {param}: {message}.");
                ApiError::new(StatusCode::BAD_REQUEST, Some(code), text).with_param(param)
            }
            DomainError::Unsupported { param, value } => ApiError::unsupported(&param, &value),
            DomainError::Conflict { code, message } => ApiError::conflict(code, message),
            DomainError::Store(e) => ApiError::internal(e.to_string()),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Missing => ApiError::unauthenticated(
                "You did not provide an API key. You need to provide your API key in the \
                 Authorization header, using Bearer auth (e.g. 'Authorization: Bearer \
                 YOUR_SECRET_KEY') or HTTP Basic auth with the key as the user name.",
            ),
            AuthError::Invalid { redacted } => {
                ApiError::unauthenticated(format!("Invalid API Key provided: {redacted}"))
            }
            AuthError::Revoked { redacted } => {
                let mut error =
                    ApiError::unauthenticated(format!("This API key has been revoked: {redacted}"));
                error.code = Some("api_key_expired");
                error
            }
            AuthError::Store(e) => ApiError::internal(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loops_and_stripe_shapes() {
        let error = ApiError::not_found("payment_link", "pl_1");
        assert_eq!(
            error.body(Surface::LoopsV1),
            json!({"statusCode":404,"error":"Not Found","message":"Payment link not found","code":"resource_missing","param":"id"})
        );
        assert_eq!(
            error.body(Surface::Stripe),
            json!({"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such payment_link: 'pl_1'","param":"id"}})
        );
        assert_eq!(human_object_name("checkout.session"), "Checkout session");
    }

    #[test]
    fn internal_details_are_never_rendered() {
        let error = ApiError::internal("password authentication failed for user kassa");
        let text = error.body(Surface::LoopsV3).to_string();
        assert!(!text.contains("password"), "{text}");
        assert!(
            error
                .body(Surface::LoopsV2)
                .to_string()
                .contains("\"statusCode\":500")
        );
    }
}
