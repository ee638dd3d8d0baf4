//! Reading a Stripe-compatible API (Stripe itself, or another kassa at `/v1`): its lists, page
//! by page through the official cursors (`limit=100`, `starting_after`), with retries for the
//! answers worth retrying (429 after its `Retry-After`, 5xx and connection failures after a
//! growing pause), a bounded number of times.

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The largest page Stripe gives.
pub const PAGE_SIZE: u32 = 100;

/// How many times one request is retried before the import gives up.
pub const RETRIES: u32 = 5;

/// The longest pause taken for a `Retry-After`: a longer one is waited for that long only, then
/// the request is tried again (and counts as a retry).
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// The first pause after a 5xx or a connection failure; each next one doubles it.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A source API and the secret key that reads it.
pub struct Source {
    http: reqwest::Client,
    /// The base URL without a trailing slash, such as `https://api.stripe.com`.
    base: String,
    key: String,
}

/// One page of a list (`{object: "list", data, has_more}`).
#[derive(Debug, Deserialize)]
pub struct ListPage<T> {
    pub data: Vec<T>,
    pub has_more: bool,
}

impl Source {
    /// A source at `base` (an http or https URL; a trailing slash is dropped), read with `key`.
    pub fn new(base: &str, key: String) -> anyhow::Result<Source> {
        let parsed = url::Url::parse(base)
            .map_err(|e| anyhow::anyhow!("--from: '{base}' is not a URL: {e}"))?;
        // A user or password in the URL would be stored in every mapping row and shown in every
        // error; the key belongs in --from-api-key, which is never shown. The URL is not echoed,
        // as it holds that secret.
        if !parsed.username().is_empty() || parsed.password().is_some() {
            anyhow::bail!(
                "--from: give the URL without a user or password; the key goes in --from-api-key"
            );
        }
        if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
            anyhow::bail!("--from: '{base}' is not an http or https base URL without a query");
        }
        // An empty key would authenticate nobody, and would make every text "contain" it.
        if key.is_empty() {
            anyhow::bail!("--from-api-key: is empty");
        }
        crate::delivery::install_tls_provider();
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("kassa-import/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Source {
            http,
            base: parsed.as_str().trim_end_matches('/').to_string(),
            key,
        })
    }

    /// The base URL as the mapping table records it (no trailing slash).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The source's account id (`GET /v1/account`), when it has that route: Stripe does, kassa
    /// does not, and then the base URL alone names the source.
    pub async fn account(&self) -> anyhow::Result<Option<String>> {
        match self.get("/v1/account", &[]).await {
            Ok(body) => Ok(body["id"].as_str().map(str::to_string)),
            Err(SourceError::Refused { status, .. }) if status == StatusCode::NOT_FOUND => Ok(None),
            Err(error) => Err(self.failed("/v1/account", error)),
        }
    }

    /// A failed request as the import reports it: the URL (never the key) and, for a refused
    /// key, which option gives it.
    fn failed(&self, path: &str, error: SourceError) -> anyhow::Error {
        let hint = match &error {
            SourceError::Refused { status, .. }
                if *status == StatusCode::UNAUTHORIZED || *status == StatusCode::FORBIDDEN =>
            {
                " (check --from-api-key)"
            }
            SourceError::Unreachable(_) => " (check --from)",
            _ => "",
        };
        anyhow::anyhow!("reading {}{path}: {error}{hint}", self.base)
    }

    /// The page of `path` (a list such as `/v1/products`) after the object `after`, with the
    /// `expand[]` paths given.
    pub async fn page<T: DeserializeOwned>(
        &self,
        path: &str,
        after: Option<&str>,
        expand: &[&str],
    ) -> anyhow::Result<ListPage<T>> {
        let limit = PAGE_SIZE.to_string();
        let mut query = vec![("limit", limit.as_str())];
        if let Some(after) = after {
            query.push(("starting_after", after));
        }
        for path in expand {
            query.push(("expand[]", path));
        }
        let body = self
            .get(path, &query)
            .await
            .map_err(|e| self.failed(path, e))?;
        serde_path_to_error::deserialize(body).map_err(|e| {
            anyhow::anyhow!(
                "the source's answer to {path} is not a list of the expected objects: {e}"
            )
        })
    }

    /// GETs `path` with `query`, retrying as the module says; the answer as JSON.
    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, SourceError> {
        let mut url = url::Url::parse(&format!("{}{path}", self.base)).expect("a valid base");
        url.query_pairs_mut().extend_pairs(query);
        let mut attempt = 0;
        loop {
            let error = match self.attempt(&url).await {
                Ok(body) => return Ok(body),
                Err(error) => error,
            };
            let wait = match error.retry_after(attempt) {
                Some(wait) if attempt < RETRIES => wait,
                _ => return Err(error),
            };
            attempt += 1;
            tracing::debug!(path, attempt, ?wait, %error, "retrying the source");
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, url: &url::Url) -> Result<Value, SourceError> {
        let response = self
            .http
            .get(url.clone())
            .basic_auth(&self.key, Some(""))
            .header("stripe-version", "2024-06-20")
            .send()
            .await
            .map_err(|e| SourceError::Unreachable(e.without_url()))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response
            .text()
            .await
            .map_err(|e| SourceError::Unreachable(e.without_url()))?;
        if !status.is_success() {
            // A source may echo the key it was given (Stripe masks it, a proxy may not): the
            // message is printed and logged, the key never is.
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|b| b["error"]["message"].as_str().map(str::to_string))
                .map(|m| m.replace(&self.key, "[--from-api-key]"))
                .unwrap_or_else(|| "(no error message)".into());
            return Err(SourceError::Refused {
                status,
                message,
                retry_after,
            });
        }
        serde_json::from_str(&text).map_err(|_| SourceError::NotJson(status))
    }
}

/// Why a request to the source failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot reach the source: {0}")]
    Unreachable(reqwest::Error),
    #[error("the source answered {status}: {message}")]
    Refused {
        status: StatusCode,
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("the source answered {0} with a body that is not JSON")]
    NotJson(StatusCode),
}

impl SourceError {
    /// How long to wait before retry number `attempt + 1`, if this failure is worth retrying:
    /// a 429 (its `Retry-After`, in seconds, else the backoff), a 5xx, or no answer at all.
    fn retry_after(&self, attempt: u32) -> Option<Duration> {
        let backoff = FIRST_BACKOFF * 2u32.saturating_pow(attempt);
        match self {
            SourceError::Refused {
                status,
                retry_after,
                ..
            } if *status == StatusCode::TOO_MANY_REQUESTS => {
                Some(retry_after.unwrap_or(backoff).min(LONGEST_WAIT))
            }
            SourceError::Refused { status, .. } if status.is_server_error() => Some(backoff),
            SourceError::Unreachable(error) if error.is_connect() || error.is_timeout() => {
                Some(backoff)
            }
            SourceError::Unreachable(error) if error.is_request() || error.is_body() => {
                Some(backoff)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16, retry_after: Option<u64>) -> SourceError {
        SourceError::Refused {
            status: StatusCode::from_u16(status).unwrap(),
            message: String::new(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn only_rate_limits_and_server_errors_are_retried() {
        assert_eq!(
            refused(429, Some(3)).retry_after(0),
            Some(Duration::from_secs(3))
        );
        assert_eq!(refused(429, Some(3600)).retry_after(0), Some(LONGEST_WAIT));
        assert_eq!(
            refused(429, None).retry_after(2),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            refused(503, None).retry_after(1),
            Some(Duration::from_secs(1))
        );
        for status in [400, 401, 403, 404] {
            assert_eq!(refused(status, Some(1)).retry_after(0), None, "{status}");
        }
    }

    #[test]
    fn the_base_url_must_be_http() {
        assert!(Source::new("ftp://example.com", "k".into()).is_err());
        assert!(Source::new("https://api.stripe.com?x=1", "k".into()).is_err());
        let source = Source::new("https://api.stripe.com/", "k".into()).unwrap();
        assert_eq!(source.base(), "https://api.stripe.com");
    }

    #[test]
    fn no_secret_is_taken_in_the_url_and_the_key_is_not_empty() {
        for base in [
            "https://sk_test_1@api.stripe.com",
            "https://user:sk_test_1@api.stripe.com",
        ] {
            let error = Source::new(base, "k".into()).err().unwrap().to_string();
            assert!(error.contains("--from-api-key"), "{error}");
            assert!(!error.contains("sk_test_1"), "{error}");
        }
        let error = Source::new("https://api.stripe.com", String::new())
            .err()
            .unwrap();
        assert!(error.to_string().contains("--from-api-key"), "{error}");
    }
}
