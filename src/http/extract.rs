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
        refuse_query(&request)?;
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

/// Decodes JSON, naming the parameter at fault in the error as Stripe names it
/// (`line_items[0][quantity]`).
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let param = super::form::stripe_param(error.path());
        let inner = error.into_inner();
        let detail = strip_position(&inner.to_string());
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::invalid_param(
                "body",
                format!("The request body is not valid JSON: {detail}."),
            )
            .with_param_cleared();
        }
        decoding_error(param, &detail, "parameter_invalid")
    })
}

/// The error for a value that did not fit its parameter, from serde's `message`, in a form
/// body, a query string or a JSON body alike. `param` is where the decoder was (for an
/// unknown field, the unknown key itself); `code` is the decoder's guess for other failures.
pub fn decoding_error(param: String, message: &str, code: &'static str) -> ApiError {
    if let Some(refused) = super::unsupported::refusal(message, &param) {
        return refused;
    }
    if let Some((path, message)) = message
        .strip_prefix(BELOW)
        .and_then(|rest| rest.split_once(BELOW))
    {
        return decoding_error(format!("{param}{path}"), message, code);
    }
    let quoted = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string)
    };
    if let Some(field) = quoted("missing field `") {
        return ApiError::missing_param(nested(&param, &field));
    }
    if let Some(field) = quoted("unknown field `") {
        // The path ends at the unknown key where the decoder entered it, not always.
        let full = if param == field || param.ends_with(&format!("[{field}]")) {
            param
        } else {
            nested(&param, &field)
        };
        let expected = message
            .split_once(", expected")
            .map(|(_, names)| names.split('`').skip(1).step_by(2).collect::<Vec<_>>())
            .unwrap_or_default();
        return ApiError::unknown_param(&full, closest(&field, &expected));
    }
    let param = if param.is_empty() {
        "body".to_string()
    } else {
        param
    };
    ApiError::new(
        axum::http::StatusCode::BAD_REQUEST,
        Some(code),
        format!("Invalid {param}: {message}."),
    )
    .with_param(param)
}

/// Starts a serde error message about a place below the value being decoded: `BELOW`, the path
/// (`[nested]`), `BELOW` again, then the message. Only the decoders know where the value was.
const BELOW: &str = "\u{1}below\u{1}";

/// A serde error about `path` below the value a `Deserialize` impl is reading (a metadata
/// value under `metadata`), so that the decoders name the whole parameter.
pub fn error_below<E: serde::de::Error>(path: &str, message: &str) -> E {
    E::custom(format!("{BELOW}{path}{BELOW}{message}"))
}

/// `field` under `param`: `line_items[0][price]`, or `price` at the top.
fn nested(param: &str, field: &str) -> String {
    if param.is_empty() {
        field.to_string()
    } else {
        format!("{param}[{field}]")
    }
}

/// The defined name a misspelt one most likely meant, if one is close enough to say so.
fn closest<'a>(sent: &str, defined: &[&'a str]) -> Option<&'a str> {
    defined
        .iter()
        .map(|name| (strsim::normalized_damerau_levenshtein(sent, name), *name))
        .filter(|(similarity, _)| *similarity >= 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
}

/// serde_json appends " at line 1 column 9"; clients get the parameter name instead.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
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
/// whatever the surface. `T` refuses names it does not define (`deny_unknown_fields`), so that
/// a misspelt filter is an error rather than a list that silently ignores it.
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

/// A list's query string: its own filters `F` and the paging parameters `P` (Stripe's
/// `limit`, `starting_after`...; or the Loops ones with `offset`). Each is decoded from the
/// names it defines, and a name neither defines is refused as unknown.
pub struct ListQuery<F, P>(pub F, pub P);

impl<S, F, P> FromRequestParts<S> for ListQuery<F, P>
where
    S: Send + Sync,
    F: DeserializeOwned,
    P: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let mut filters = super::form::parse(parts.uri.query().unwrap_or("").as_bytes())?;
        let paging_names = serde_aux::serde_introspection::serde_introspect::<P>();
        let paging = paging_names
            .iter()
            .filter_map(|name| filters.remove_entry(*name))
            .collect();
        Ok(ListQuery(
            super::form::decode_tree(filters)?,
            super::form::decode_tree(paging)?,
        ))
    }
}

/// A body's operation takes its parameters in the body only: a query string on it would be
/// ignored, so its first name is refused as unknown.
fn refuse_query(request: &Request) -> Result<(), ApiError> {
    let query = request.uri().query().unwrap_or("");
    match form_urlencoded::parse(query.as_bytes()).next() {
        Some((name, _)) => Err(ApiError::unknown_param(&name, None)),
        None => Ok(()),
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
        refuse_query(&request)?;
        // Form-encoded as Stripe takes it, also without a Content-Type; JSON when it says so;
        // any other type is refused rather than misread as a form.
        let mime = request.headers().get(header::CONTENT_TYPE).map(|v| {
            let v = v.to_str().unwrap_or("?");
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
        let bytes = read_body(request, state).await?;
        let empty = bytes.iter().all(u8::is_ascii_whitespace);
        match mime.as_deref() {
            Some("application/json") if !empty => decode_json(&bytes).map(StripeBody),
            None | Some("application/x-www-form-urlencoded" | "application/json") => {
                super::form::decode(&bytes).map(StripeBody)
            }
            Some(_) if empty => super::form::decode(&bytes).map(StripeBody),
            Some(other) => Err(ApiError::unsupported_media_type(format!(
                "Request bodies must be form-encoded ('Content-Type: \
                 application/x-www-form-urlencoded') or JSON, not '{other}'."
            ))),
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
    #[serde(deny_unknown_fields)]
    struct Body {
        name: String,
        #[serde(default)]
        items: Vec<Item>,
        customer_email: Option<String>,
    }

    #[test]
    fn errors_name_the_parameter() {
        let missing = decode_json::<Body>(b"{}").unwrap_err();
        assert_eq!(missing.param.as_deref(), Some("name"));
        assert_eq!(missing.code, Some("parameter_missing"));

        let wrong =
            decode_json::<Body>(br#"{"name":"x","items":[{"quantity":"two"}]}"#).unwrap_err();
        assert_eq!(wrong.param.as_deref(), Some("items[0][quantity]"));
        assert!(!wrong.message.contains("line"), "{}", wrong.message);

        let typo = decode_json::<Body>(br#"{"name":"x","custmer_email":"a@b.c"}"#).unwrap_err();
        assert_eq!(typo.code, Some("parameter_unknown"));
        assert_eq!(typo.param.as_deref(), Some("custmer_email"));
        assert_eq!(
            typo.message,
            "Received unknown parameter: custmer_email. Did you mean customer_email?"
        );
        let unrelated = decode_json::<Body>(br#"{"name":"x","zz_unknown":1}"#).unwrap_err();
        assert_eq!(unrelated.message, "Received unknown parameter: zz_unknown");

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
