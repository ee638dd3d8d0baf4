//! Extractors shared by every surface: the authenticated caller and JSON bodies.

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine as _;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::ApiError;
use crate::domain::accounts::{self, AuthError, Caller};

/// The account and mode of the request's secret key, from `Authorization: Bearer KEY` or HTTP
/// Basic with the key as the user name. Rejects with 401 in the surface's shape.
impl<S> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // Already authenticated by the idempotency layer.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let state = AppState::from_ref(state);
        let secret = presented_key(parts).ok_or(AuthError::Missing)?;
        Ok(accounts::authenticate(&state.db, &secret, state.clock.now()).await?)
    }
}

/// The key in the `Authorization` header, if the header holds one in a form kassa accepts.
fn presented_key(parts: &Parts) -> Option<String> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, credentials) = value.split_once(' ')?;
    let credentials = credentials.trim();
    let key = if scheme.eq_ignore_ascii_case("bearer") {
        credentials.to_string()
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials)
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        decoded
            .split_once(':')
            .map_or(decoded.clone(), |(user, _)| user.to_string())
    } else {
        return None;
    };
    (!key.is_empty()).then_some(key)
}

/// A JSON request body decoded into `T`. An empty body reads as `{}`. Decoding errors name the
/// parameter at fault (`line_items[0].quantity`).
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| {
                let mime = v.split(';').next().unwrap_or("").trim();
                mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
            });
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                        ApiError::payload_too_large(super::BODY_LIMIT_BYTES)
                    }
                    _ => ApiError::invalid_param(
                        "body",
                        format!("Could not read the request body: {rejection}"),
                    ),
                })?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        if !is_json && bytes != b"{}" {
            return Err(ApiError::unsupported_media_type(
                "Request bodies must be JSON, sent with 'Content-Type: application/json'.",
            ));
        }
        decode_json(bytes).map(JsonBody)
    }
}

/// Decodes JSON, naming the parameter at fault in the error.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let detail = strip_position(&inner.to_string());
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::invalid_param(
                "body",
                format!("The request body is not valid JSON: {detail}."),
            )
            .with_param_cleared();
        }
        if let Some(field) = detail
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
        {
            let param = if path == "." {
                field.to_string()
            } else {
                format!("{path}.{field}")
            };
            return ApiError::missing_param(param);
        }
        let param = if path == "." {
            "body".to_string()
        } else {
            path
        };
        ApiError::invalid_param(param.clone(), format!("Invalid {param}: {detail}."))
    })
}

/// serde_json appends " at line 1 column 9"; clients get the parameter name instead.
fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

impl ApiError {
    fn with_param_cleared(mut self) -> Self {
        self.param = None;
        self.code = Some("body_invalid_json");
        self
    }
}

/// Query parameters decoded like Stripe form bodies (`created[gte]=...`, `expand[]=...`),
/// whatever the surface.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        super::form::decode(query.as_bytes()).map(Query)
    }
}

/// A `/v1` request body: form-encoded (what the Stripe SDKs send) or JSON.
pub struct StripeBody<T>(pub T);

impl<S, T> FromRequest<S> for StripeBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("application/json")
            });
        let bytes = read_body(request, state).await?;
        if is_json && !bytes.iter().all(u8::is_ascii_whitespace) {
            decode_json(&bytes).map(StripeBody)
        } else {
            super::form::decode(&bytes).map(StripeBody)
        }
    }
}

async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| match rejection.status() {
            axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::payload_too_large(super::BODY_LIMIT_BYTES)
            }
            _ => ApiError::invalid_param(
                "body",
                format!("Could not read the request body: {rejection}"),
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        quantity: u32,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        #[serde(default)]
        items: Vec<Item>,
    }

    #[test]
    fn errors_name_the_parameter() {
        let missing = decode_json::<Body>(b"{}").unwrap_err();
        assert_eq!(missing.param.as_deref(), Some("name"));
        assert_eq!(missing.code, Some("parameter_missing"));

        let wrong =
            decode_json::<Body>(br#"{"name":"x","items":[{"quantity":"two"}]}"#).unwrap_err();
        assert_eq!(wrong.param.as_deref(), Some("items[0].quantity"));
        assert!(!wrong.message.contains("line"), "{}", wrong.message);

        let broken = decode_json::<Body>(b"{\"name\":").unwrap_err();
        assert_eq!(broken.code, Some("body_invalid_json"));
    }

    fn parts_with(auth: &str) -> Parts {
        let request = axum::http::Request::builder()
            .header("authorization", auth)
            .body(())
            .unwrap();
        request.into_parts().0
    }

    #[test]
    fn keys_come_from_bearer_or_basic() {
        assert_eq!(
            presented_key(&parts_with("Bearer sk_test_abc")).as_deref(),
            Some("sk_test_abc")
        );
        let basic = base64::engine::general_purpose::STANDARD.encode("sk_test_abc:");
        assert_eq!(
            presented_key(&parts_with(&format!("Basic {basic}"))).as_deref(),
            Some("sk_test_abc")
        );
        assert_eq!(presented_key(&parts_with("Token sk_test_abc")), None);
        assert_eq!(presented_key(&parts_with("Bearer ")), None);
    }
}
