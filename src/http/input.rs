//! What every request's text must be before any handler sees it, decided once for every
//! surface and both engines: no NUL character (U+0000). PostgreSQL cannot store one in text and
//! SQLite would truncate at it in places, so instead of each engine failing its own way, a NUL
//! in the path is a 404 (no id or route contains one), and a NUL in a query parameter or in a
//! form or JSON body is a 400 naming the parameter.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;

pub async fn refuse_nul(request: Request, next: Next) -> Response {
    if percent_decoded_has_nul(request.uri().path()) {
        return ApiError::unknown_route(request.method().as_str(), request.uri().path())
            .into_response();
    }
    if let Some(param) = request.uri().query().and_then(form_param_with_nul) {
        return nul_error(param).into_response();
    }
    let kind = body_kind(&request);
    if kind == BodyKind::Other {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, super::BODY_LIMIT_BYTES).await else {
        return ApiError::payload_too_large(super::BODY_LIMIT_BYTES).into_response();
    };
    let found = match kind {
        BodyKind::Form => std::str::from_utf8(&bytes)
            .ok()
            .and_then(form_param_with_nul)
            .or_else(|| bytes.contains(&0).then(|| "body".to_string())),
        BodyKind::Json => json_param_with_nul(&bytes),
        BodyKind::Other => None,
    };
    if let Some(param) = found {
        return nul_error(param).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn nul_error(param: String) -> ApiError {
    ApiError::invalid_param(
        param.clone(),
        format!("Invalid {param}: text must not contain a NUL character (U+0000)."),
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Form,
    Json,
    Other,
}

/// Form bodies (Stripe, pages, the dashboard) and JSON bodies (the Loops surfaces) carry text;
/// anything else is refused by the extractors anyway.
fn body_kind(request: &Request) -> BodyKind {
    let mime = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match mime.as_deref() {
        Some("application/x-www-form-urlencoded") => BodyKind::Form,
        Some(m) if m == "application/json" || m.ends_with("+json") => BodyKind::Json,
        // A body without a content type is read as JSON on the Loops surfaces and as a form
        // everywhere else (`/v1` reads it so, as Stripe does).
        None if request.uri().path().starts_with("/api/") => BodyKind::Json,
        None => BodyKind::Form,
        _ => BodyKind::Other,
    }
}

fn percent_decoded_has_nul(text: &str) -> bool {
    text.contains('\0') || text.as_bytes().windows(3).any(|w| w == b"%00")
}

/// The first parameter of urlencoded `text` whose name or value holds a NUL, named as sent.
fn form_param_with_nul(text: &str) -> Option<String> {
    if !percent_decoded_has_nul(text) {
        return None;
    }
    form_urlencoded::parse(text.as_bytes())
        .find(|(key, value)| key.contains('\0') || value.contains('\0'))
        .map(|(key, _)| printable(&key))
}

/// The parameter of a JSON body holding a NUL (only an escape can write one), Stripe-style
/// (`line_items[0][price_data][product_data][name]`).
fn json_param_with_nul(bytes: &[u8]) -> Option<String> {
    if !has_nul_escape(bytes) {
        return None;
    }
    // Not JSON: the extractor will say so.
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let mut path = String::new();
    find_nul(&value, &mut path).then(|| {
        if path.is_empty() {
            "body".to_string()
        } else {
            path
        }
    })
}

/// Whether the JSON text has a `\u0000` escape (not an escaped backslash followed by `u0000`).
fn has_nul_escape(bytes: &[u8]) -> bool {
    let needle = b"\\u0000";
    bytes.windows(needle.len()).enumerate().any(|(at, window)| {
        window == needle
            && bytes[..at]
                .iter()
                .rev()
                .take_while(|b| **b == b'\\')
                .count()
                % 2
                == 0
    })
}

fn find_nul(value: &Value, path: &mut String) -> bool {
    let enter = |path: &mut String, key: &str, item: &Value| {
        let len = path.len();
        if path.is_empty() {
            path.push_str(&printable(key));
        } else {
            path.push_str(&format!("[{}]", printable(key)));
        }
        if key.contains('\0') || find_nul(item, path) {
            return true;
        }
        path.truncate(len);
        false
    };
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .any(|(i, item)| enter(path, &i.to_string(), item)),
        Value::Object(fields) => fields.iter().any(|(key, item)| enter(path, key, item)),
        _ => false,
    }
}

/// A name that may itself hold the NUL, written so that it can be read.
fn printable(name: &str) -> String {
    name.replace('\0', "\\u0000")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_found_where_it_is() {
        assert_eq!(form_param_with_nul("name=a%00b").as_deref(), Some("name"));
        assert_eq!(
            form_param_with_nul("metadata[k%00]=v").as_deref(),
            Some("metadata[k\\u0000]")
        );
        assert_eq!(form_param_with_nul("name=a%2500b"), None);
        assert_eq!(
            json_param_with_nul(br#"{"line_items":[{"price_data":{"name":"a\u0000"}}]}"#)
                .as_deref(),
            Some("line_items[0][price_data][name]")
        );
        assert_eq!(json_param_with_nul(br#"{"name":"a\\u0000"}"#), None);
        assert_eq!(
            json_param_with_nul(br#"{"name":"a\\\u0000"}"#).as_deref(),
            Some("name")
        );
    }
}
