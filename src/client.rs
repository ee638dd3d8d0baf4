//! What `kassa listen` and `kassa pay` say when a kassa server does not give them what they
//! asked for: always the server they tried, and why: it could not be reached, it is not a
//! kassa server, or it refused (the API key, or the request) in its own words.

use reqwest::StatusCode;
use serde_json::Value;

/// A request to `server` that got no answer.
pub fn unreachable(server: &str, error: &reqwest::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "cannot reach the kassa server at {server}: {} (check --server or KASSA_SERVER)",
        root_cause(error)
    )
}

/// An answer from `server` other than the one asked for: kassa's error (its message quoted),
/// or an answer kassa never gives, from another program on that address.
pub fn refusal(server: &str, status: StatusCode, body: &str) -> anyhow::Error {
    match kassa_error(body) {
        Some(message) if status == StatusCode::UNAUTHORIZED => anyhow::anyhow!(
            "the kassa server at {server} refused the API key: {message} \
             (check --api-key or KASSA_API_KEY)"
        ),
        Some(message) => {
            anyhow::anyhow!("the kassa server at {server} answered {status}: {message}")
        }
        None => not_kassa(server, status),
    }
}

/// An answer in a shape kassa never gives.
pub fn not_kassa(server: &str, status: StatusCode) -> anyhow::Error {
    anyhow::anyhow!(
        "the server at {server} does not seem to be a kassa server: its answer ({status}) is \
         not one kassa gives (check --server or KASSA_SERVER)"
    )
}

/// The message of an error in kassa's shape, `{"error": {"message": ...}}`.
fn kassa_error(body: &str) -> Option<String> {
    let body: Value = serde_json::from_str(body).ok()?;
    body["error"]["message"].as_str().map(str::to_string)
}

/// The innermost cause, the one that says what happened ("Connection refused"), without the
/// layers around it ("error sending request for url (...)") or the OS's error number.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    match text.find(" (os error ") {
        Some(end) => text[..end].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: &str = "http://127.0.0.1:4242";

    #[test]
    fn refusals_name_the_server_and_quote_kassa() {
        let revoked = r#"{"error":{"type":"invalid_request_error","message":"This API key has been revoked: sk_test_...abcd"}}"#;
        assert_eq!(
            refusal(SERVER, StatusCode::UNAUTHORIZED, revoked).to_string(),
            "the kassa server at http://127.0.0.1:4242 refused the API key: This API key has \
             been revoked: sk_test_...abcd (check --api-key or KASSA_API_KEY)"
        );
        let missing = r#"{"error":{"message":"No such checkout.session: 'cs_test_1'"}}"#;
        assert_eq!(
            refusal(SERVER, StatusCode::NOT_FOUND, missing).to_string(),
            "the kassa server at http://127.0.0.1:4242 answered 404 Not Found: No such \
             checkout.session: 'cs_test_1'"
        );
        for body in ["<html>Not Found</html>", "", r#"{"detail":"Unauthorized"}"#] {
            let error = refusal(SERVER, StatusCode::UNAUTHORIZED, body).to_string();
            assert_eq!(
                error,
                "the server at http://127.0.0.1:4242 does not seem to be a kassa server: its \
                 answer (401 Unauthorized) is not one kassa gives (check --server or KASSA_SERVER)"
            );
        }
    }
}
