//! Webhook delivery: workers inside `kassa serve` claim due deliveries from the outbox, POST
//! each event's stored bytes to its endpoint with both signatures, and record the attempt and
//! what follows (success, a retry with backoff, or giving up and perhaps disabling the
//! endpoint).
//!
//! Every fact lives in the database: a claim is a lease on the delivery row, so several
//! processes deliver side by side, each delivery attempted by one of them at a time, and a
//! process that dies mid-attempt leaves its deliveries to be claimed again when their lease
//! ends. Delivery is at least once: a receiver may see an event again after such a crash (or
//! after an attempt that outlived its lease), with the same id and bytes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::domain::ids::{self, prefix};
use crate::domain::webhooks::{
    self, Attempt, DISABLE_AFTER_FAILING_SECONDS, PrivateTargets, WebhookEndpoint,
};
use crate::store::webhooks::{AttemptResult, ClaimedDelivery, Finished};
use crate::store::{Db, StoreResult};

/// Wakes this process's delivery worker when an event has been written, so a delivery starts
/// at once instead of at the next poll. Other processes find it by polling.
pub static WAKE: Notify = Notify::const_new();

/// How often a worker looks for due deliveries when nothing woke it.
const POLL: Duration = Duration::from_millis(500);
/// How long a claim holds a delivery: well beyond one attempt's 10 s timeout, and the longest
/// a delivery waits after a crash of the process that claimed it.
const LEASE_SECONDS: i64 = 30;
/// Deliveries claimed at once, and sent at once.
const BATCH: i64 = 64;
const CONCURRENCY: usize = 32;
const TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a receiver's answer is kept with the attempt.
const EXCERPT_BYTES: usize = 4096;
const USER_AGENT: &str = concat!("kassa/", env!("CARGO_PKG_VERSION"), " (webhooks)");

/// Installs ring as the process's TLS provider (kassa builds reqwest without a bundled one);
/// a no-op when one is installed already. Every HTTP client needs it first.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub struct Deliverer {
    db: Db,
    clock: SharedClock,
    /// For endpoints that may target any address (test mode by default: a developer's laptop).
    any_client: reqwest::Client,
    /// For endpoints that only reach public addresses (live mode, unless the operator allows
    /// others; test mode too with `--webhooks-test-private deny`).
    public_client: reqwest::Client,
    targets: PrivateTargets,
}

impl Deliverer {
    pub fn new(db: Db, clock: SharedClock, targets: PrivateTargets) -> Deliverer {
        install_tls_provider();
        let builder = || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(TIMEOUT)
                .connect_timeout(Duration::from_secs(5))
                .user_agent(USER_AGENT)
        };
        let any_client = builder().build().expect("the HTTP client builds");
        // No proxy either: a proxy would resolve names itself, past the check.
        let public_client = builder()
            .no_proxy()
            .dns_resolver(Arc::new(PublicOnly))
            .build()
            .expect("the HTTP client builds");
        Deliverer {
            db,
            clock,
            any_client,
            public_client,
            targets,
        }
    }

    /// Delivers until `stop` is cancelled.
    pub async fn run(self, stop: CancellationToken) {
        loop {
            match self.deliver_due().await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "claiming webhook deliveries failed; will retry")
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = WAKE.notified() => {
                    // The event's transaction may not have committed yet: look again shortly.
                    for _ in 0..5 {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        if matches!(self.deliver_due().await, Ok(n) if n > 0) {
                            break;
                        }
                    }
                }
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Claims the deliveries due now, attempts each once, and saves the results in one
    /// transaction. Returns how many it claimed.
    pub async fn deliver_due(&self) -> StoreResult<usize> {
        let now = self.clock.now();
        let claimed =
            crate::store::webhooks::claim_due(&self.db, now, LEASE_SECONDS, BATCH).await?;
        let count = claimed.len();
        // Each endpoint is read once per batch.
        let mut endpoints: HashMap<String, Option<WebhookEndpoint>> = HashMap::new();
        for delivery in &claimed {
            if !endpoints.contains_key(&delivery.endpoint_id) {
                let endpoint =
                    crate::store::webhooks::endpoint_by_id(&self.db, &delivery.endpoint_id).await?;
                endpoints.insert(delivery.endpoint_id.clone(), endpoint);
            }
        }
        let endpoints = &endpoints;
        let finished: Vec<StoreResult<Finished>> = futures_util::stream::iter(claimed)
            .map(|delivery| async move {
                let endpoint = endpoints.get(&delivery.endpoint_id).cloned().flatten();
                self.attempt(delivery, endpoint).await
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut saved = Vec::with_capacity(finished.len());
        for outcome in finished {
            match outcome {
                Ok(finished) => saved.push(finished),
                Err(error) => {
                    tracing::warn!(%error, "reading a webhook's event failed; the lease will expire and it will be retried")
                }
            }
        }
        crate::store::webhooks::finish_attempts(&self.db, &saved, self.clock.now()).await?;
        Ok(count)
    }

    async fn attempt(
        &self,
        delivery: ClaimedDelivery,
        endpoint: Option<WebhookEndpoint>,
    ) -> StoreResult<Finished> {
        let now = self.clock.now();
        let payload = crate::store::events::payload_text(&self.db, &delivery.event_id).await?;
        let usable = endpoint.filter(|e| e.enabled && !e.deleted);
        let (Some(endpoint), Some(payload)) = (usable, payload) else {
            return Ok(Finished {
                delivery,
                attempt: None,
                result: AttemptResult::Canceled,
            });
        };
        let started = Instant::now();
        let outcome = self.send(&endpoint, &delivery.event_id, payload, now).await;
        let took = started.elapsed();
        crate::metrics::webhook_delivery(outcome.status, outcome.timed_out, took);
        let latency_ms = took.as_millis() as i64;
        let attempt = Attempt {
            id: ids::new_id(prefix::WEBHOOK_ATTEMPT, ids::now_ms()),
            delivery_id: delivery.id.clone(),
            endpoint_id: endpoint.id.clone(),
            event_id: delivery.event_id.clone(),
            attempted_at: now,
            status_code: outcome.status.map(i64::from),
            latency_ms,
            error: outcome.error.clone(),
            response_excerpt: outcome.excerpt.clone(),
        };
        let result = decide(&endpoint, delivery.attempts, &outcome, self.clock.now());
        match &result {
            AttemptResult::Succeeded | AttemptResult::Canceled => {}
            AttemptResult::Retry { at } => tracing::info!(
                delivery = %delivery.id, status = ?outcome.status, error = ?outcome.error,
                retry_in = at - now, "webhook attempt failed; will retry"
            ),
            AttemptResult::GiveUp { disable_endpoint } => tracing::warn!(
                delivery = %delivery.id, endpoint = %endpoint.id, disabled = ?disable_endpoint,
                "webhook delivery gave up"
            ),
        }
        Ok(Finished {
            delivery,
            attempt: Some(attempt),
            result,
        })
    }

    async fn send(
        &self,
        endpoint: &WebhookEndpoint,
        event_id: &str,
        payload: String,
        now: i64,
    ) -> Outcome {
        let public_only = !self.targets.allowed(endpoint.livemode);
        if public_only {
            // Addresses are never resolved for an IP literal, so check it here, as the client
            // reads the URL.
            let parsed = reqwest::Url::parse(&endpoint.url);
            if let Some(host) = parsed.as_ref().ok().and_then(webhooks::internal_host) {
                return Outcome::error(format!(
                    "{host} is a loopback, private or link-local address"
                ));
            }
        }
        let client = if public_only {
            &self.public_client
        } else {
            &self.any_client
        };
        let mut request = client
            .post(&endpoint.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for (name, value) in webhooks::signature_headers(
            &endpoint.signing_secrets(now),
            event_id,
            now,
            payload.as_bytes(),
        ) {
            request = request.header(name, value);
        }
        let response = match request.body(payload).send().await {
            Ok(response) => response,
            Err(error) => {
                return Outcome {
                    timed_out: error.is_timeout(),
                    ..Outcome::error(error_chain(&error))
                };
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, now));
        let mut response = response;
        let mut excerpt = Vec::new();
        while excerpt.len() < EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                _ => break,
            }
        }
        excerpt.truncate(EXCERPT_BYTES);
        Outcome {
            status: Some(status),
            error: None,
            excerpt: Some(String::from_utf8_lossy(&excerpt).into_owned()),
            retry_after,
            timed_out: false,
        }
    }
}

/// What an attempt got back.
#[derive(Debug, Clone, Default)]
struct Outcome {
    status: Option<u16>,
    error: Option<String>,
    excerpt: Option<String>,
    /// Seconds the receiver asked to wait.
    retry_after: Option<i64>,
    /// Whether the attempt ended for taking too long (no status then).
    timed_out: bool,
}

impl Outcome {
    fn error(message: String) -> Outcome {
        Outcome {
            error: Some(message),
            ..Outcome::default()
        }
    }
}

/// Any 2xx succeeds. 410 Gone disables the endpoint. Anything else is retried on the schedule,
/// until it runs out or the endpoint has failed every attempt for five days (then it is
/// disabled).
fn decide(endpoint: &WebhookEndpoint, attempts: i64, outcome: &Outcome, now: i64) -> AttemptResult {
    match outcome.status {
        Some(200..=299) => return AttemptResult::Succeeded,
        Some(410) => {
            return AttemptResult::GiveUp {
                disable_endpoint: Some("the endpoint answered 410 Gone".into()),
            };
        }
        _ => {}
    }
    if endpoint
        .failing_since
        .is_some_and(|since| now - since >= DISABLE_AFTER_FAILING_SECONDS)
    {
        return AttemptResult::GiveUp {
            disable_endpoint: Some("every delivery attempt failed for 5 days".into()),
        };
    }
    match webhooks::next_attempt(attempts, now, outcome.retry_after) {
        Some(at) => AttemptResult::Retry { at },
        None => AttemptResult::GiveUp {
            disable_endpoint: None,
        },
    }
}

/// `Retry-After: 120` or an HTTP date, as seconds from `now`.
fn parse_retry_after(value: &str, now: i64) -> Option<i64> {
    if let Ok(seconds) = value.trim().parse::<i64>() {
        return Some(seconds.max(0));
    }
    let date =
        time::OffsetDateTime::parse(value.trim(), &time::format_description::well_known::Rfc2822)
            .ok()?;
    Some((date.unix_timestamp() - now).max(0))
}

/// An error and its causes on one line (reqwest's own message alone is vague).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Resolves names for endpoints that only reach public addresses, refusing internal ones: the check happens where
/// the name resolves, at delivery time, so a name that later points inside is caught too.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !webhooks::is_internal(a.ip()))
                .collect();
            if addresses.is_empty() {
                return Err(format!(
                    "{host} resolves only to loopback, private or link-local addresses"
                )
                .into());
            }
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_a_date() {
        assert_eq!(parse_retry_after("120", 0), Some(120));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_717),
            Some(60)
        );
        assert_eq!(parse_retry_after("soon", 0), None);
    }
}
