//! Webhooks: the endpoints a merchant registers, how deliveries are signed, when a failed one
//! is tried again, and which addresses a live endpoint may not reach.
//!
//! Delivery itself (claiming due deliveries, sending, recording attempts) is in
//! [`crate::delivery`]; the outbox rows are written with each event by the store.

use std::net::IpAddr;

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use serde_json::Value;

use super::accounts::Caller;
use super::ids::{self, prefix};
use super::list::{CreatedRange, Page, PageRequest};
use super::metadata::{Metadata, MetadataUpdate};
use super::{DomainError, validate};
use crate::objects;
use crate::store::{self, Db};

/// How long a rolled secret keeps signing beside the new one.
pub const PREVIOUS_SECRET_SECONDS: i64 = 24 * 3600;
/// An endpoint whose every attempt has failed for this long is disabled.
pub const DISABLE_AFTER_FAILING_SECONDS: i64 = 5 * 24 * 3600;
/// Events (and their deliveries) are kept this long.
pub const EVENT_RETENTION_SECONDS: i64 = 30 * 24 * 3600;

/// Seconds to wait after each failed attempt: 14 attempts over about three days (the first
/// immediately, then after 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h and five times 12 h).
/// Each wait gets up to 10% jitter, so retries from many deliveries spread out.
pub const RETRY_SCHEDULE: [i64; 13] = [
    30, 120, 600, 1800, 3600, 7200, 14_400, 28_800, 43_200, 43_200, 43_200, 43_200, 43_200,
];

/// When to try a delivery again after its `attempts`-th failed attempt, or `None` to give up.
/// A `Retry-After` from the receiver is honoured when it asks for longer (up to a day).
pub fn next_attempt(attempts: i64, now: i64, retry_after: Option<i64>) -> Option<i64> {
    let wait = *RETRY_SCHEDULE.get(usize::try_from(attempts).ok()?.checked_sub(1)?)?;
    let jitter = rand::random_range(0..=wait / 10);
    let wait = (wait + jitter).max(retry_after.unwrap_or(0).min(24 * 3600));
    Some(now + wait)
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEndpoint {
    pub id: String,
    pub livemode: bool,
    pub url: String,
    pub description: Option<String>,
    pub metadata: Metadata,
    /// Event types, or `*` for all.
    pub enabled_events: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<i64>,
    pub failing_since: Option<i64>,
    pub deleted: bool,
    pub created: i64,
    pub updated: i64,
}

impl WebhookEndpoint {
    /// Stripe's WebhookEndpoint object. The secret is shown only when it was just made.
    pub fn object(&self, with_secret: bool) -> Value {
        if self.deleted {
            return objects::to_value(&objects::Deleted::new(&self.id, "webhook_endpoint"));
        }
        objects::to_value(&objects::WebhookEndpoint::new(self, with_secret))
    }

    /// The secrets that sign a delivery now: the current one, and the previous one for a day
    /// after a roll.
    pub fn signing_secrets(&self, now: i64) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_secret_until)
            && now < until
        {
            secrets.push(previous);
        }
        secrets
    }
}

/// A new `whsec_` secret: 32 random bytes, base64 (as Standard Webhooks expects).
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The headers that sign `body`, sent as message `id` at unix time `timestamp`, with each of
/// `secrets`: Stripe's `Stripe-Signature` (HMAC-SHA256 keyed with the secret's text, over
/// `t.body`, hex) and Standard Webhooks' `webhook-id`, `webhook-timestamp` and
/// `webhook-signature` (keyed with the secret's base64-decoded bytes, over `id.t.body`, base64).
pub fn signature_headers(
    secrets: &[&str],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let mut stripe = format!("t={timestamp}");
    let mut standard = Vec::new();
    for secret in secrets {
        let signed = [timestamp.to_string().as_bytes(), b".", body].concat();
        stripe.push_str(&format!(
            ",v1={}",
            hex::encode(hmac(secret.as_bytes(), &signed))
        ));
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret.trim_start_matches("whsec_"))
            .unwrap_or_else(|_| secret.as_bytes().to_vec());
        let signed = [
            id.as_bytes(),
            b".",
            timestamp.to_string().as_bytes(),
            b".",
            body,
        ]
        .concat();
        standard.push(format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(hmac(&key, &signed))
        ));
    }
    vec![
        ("stripe-signature", stripe),
        ("webhook-id", id.to_string()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", standard.join(" ")),
    ]
}

/// How far a signature's timestamp may be from now, by default, before it is refused (the
/// Stripe and Standard Webhooks libraries use the same five minutes).
pub const SIGNATURE_TOLERANCE_SECONDS: i64 = 300;

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// The header does not have the expected form.
    Malformed,
    /// The timestamp is further from now than the tolerance.
    OutsideTolerance,
    /// No signature in the header matches.
    NoMatch,
}

fn timestamp_within(timestamp: &str, now: i64, tolerance: i64) -> Result<i64, SignatureError> {
    let t: i64 = timestamp.parse().map_err(|_| SignatureError::Malformed)?;
    if now.abs_diff(t) > tolerance.unsigned_abs() {
        return Err(SignatureError::OutsideTolerance);
    }
    Ok(t)
}

fn mac_matches(key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.verify_slice(signature).is_ok()
}

/// Verifies a `Stripe-Signature` header (`t=<unix>,v1=<hex>[,v1=...]`) for `body` with
/// `secret`, as the Stripe libraries do: one `v1` must match and `t` must be within
/// `tolerance` seconds of `now`. Comparisons take constant time.
pub fn verify_stripe_signature(
    header: &str,
    body: &[u8],
    secret: &str,
    now: i64,
    tolerance: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = Some(value),
            Some(("v1", value)) => signatures.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    timestamp_within(timestamp, now, tolerance)?;
    let signed = [timestamp.as_bytes(), b".", body].concat();
    let matched = signatures.iter().any(|signature| {
        hex::decode(signature).is_ok_and(|bytes| mac_matches(secret.as_bytes(), &signed, &bytes))
    });
    if matched {
        Ok(())
    } else {
        Err(SignatureError::NoMatch)
    }
}

/// Verifies Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`
/// of space-separated `v1,<base64>`) for `body` with a `whsec_` secret.
pub fn verify_standard_signature(
    id: &str,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    secret: &str,
    now: i64,
    tolerance: i64,
) -> Result<(), SignatureError> {
    timestamp_within(timestamp, now, tolerance)?;
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap_or_else(|_| secret.as_bytes().to_vec());
    let signed = [id.as_bytes(), b".", timestamp.as_bytes(), b".", body].concat();
    let mut any = false;
    for candidate in signature.split(' ') {
        let Some(encoded) = candidate.strip_prefix("v1,") else {
            continue;
        };
        any = true;
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded);
        if decoded.is_ok_and(|bytes| mac_matches(&key, &signed, &bytes)) {
            return Ok(());
        }
    }
    Err(if any {
        SignatureError::NoMatch
    } else {
        SignatureError::Malformed
    })
}

/// Whether an address is one a live endpoint may not reach: loopback, private, link-local,
/// shared (CGNAT), unspecified, multicast or documentation ranges, in IPv4 or IPv6.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240
                || a == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let segments = v6.segments();
            let first = segments[0];
            // IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed an
            // IPv4 address that may be internal.
            let embedded = |high: u16, low: u16| {
                IpAddr::V4(std::net::Ipv4Addr::new(
                    (high >> 8) as u8,
                    high as u8,
                    (low >> 8) as u8,
                    low as u8,
                ))
            };
            if segments[..6].iter().all(|s| *s == 0) && !v6.is_loopback() && !v6.is_unspecified() {
                return is_internal(embedded(segments[6], segments[7]));
            }
            if first == 0x64 && segments[1] == 0xff9b {
                return is_internal(embedded(segments[6], segments[7]));
            }
            if first == 0x2002 {
                return is_internal(embedded(segments[1], segments[2]));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// Which webhook endpoints may target loopback, private and link-local addresses (and
/// `localhost`): by mode, as the operator configured it (`--webhooks-allow-private` for live
/// mode, `--webhooks-test-private` for test mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivateTargets {
    pub live: bool,
    pub test: bool,
}

impl Default for PrivateTargets {
    /// kassa's defaults: test endpoints anywhere, live endpoints only on public addresses.
    fn default() -> Self {
        PrivateTargets {
            live: false,
            test: true,
        }
    }
}

impl PrivateTargets {
    /// Whether an endpoint of this mode may target internal addresses.
    pub fn allowed(self, livemode: bool) -> bool {
        if livemode { self.live } else { self.test }
    }
}

/// Checks an endpoint URL: absolute http(s), stored as the URL standard normalises it (the
/// form the HTTP client will connect to). Where `targets` refuses internal addresses for the
/// endpoint's mode, a host that is an internal address in any spelling (`127.1`, `2130706433`,
/// `[::ffff:7f00:1]`) or `localhost` is refused here; names are checked again where they
/// resolve, at delivery time. Errors: `url_invalid`, naming `url`.
pub fn validate_url(
    url: &str,
    livemode: bool,
    targets: PrivateTargets,
) -> Result<String, DomainError> {
    let invalid = |message: String| DomainError::invalid_with("url_invalid", "url", message);
    validate::url(url, "url", false).map_err(|error| match error {
        DomainError::Invalid { message, .. } => invalid(message),
        other => other,
    })?;
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| invalid(format!("'{url}' is not a valid URL: {e}")))?;
    if !targets.allowed(livemode) && internal_host(&parsed).is_some() {
        let endpoints = if livemode {
            "live endpoints"
        } else {
            "endpoints"
        };
        return Err(invalid(format!(
            "{endpoints} must be reachable on the public internet, not a loopback, private or link-local address"
        )));
    }
    Ok(parsed.to_string())
}

/// The URL's host, when it is an internal address or a name for this machine.
pub fn internal_host(url: &reqwest::Url) -> Option<String> {
    match url.host()? {
        url::Host::Ipv4(ip) if is_internal(IpAddr::V4(ip)) => Some(ip.to_string()),
        url::Host::Ipv6(ip) if is_internal(IpAddr::V6(ip)) => Some(ip.to_string()),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            (name == "localhost" || name.ends_with(".localhost")).then_some(name)
        }
        _ => None,
    }
}

/// The fields a create or update sets.
#[derive(Debug, Default)]
pub struct EndpointInput {
    pub url: Option<String>,
    pub enabled_events: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    pub metadata: Option<MetadataUpdate>,
    pub disabled: Option<bool>,
}

/// What canceled sessions used to send; endpoints subscribed to it were moved to
/// `checkout.session.expired` (migration 0011), and new subscriptions are refused.
const RETIRED_CANCELED_EVENT: &str = "checkout.session.canceled";

fn validate_events(events: Vec<String>) -> Result<Vec<String>, DomainError> {
    if events.is_empty() {
        return Err(DomainError::invalid(
            "enabled_events",
            "must name at least one event type, or '*'",
        ));
    }
    let mut seen = Vec::new();
    for (i, event) in events.into_iter().enumerate() {
        let valid = event == "*"
            || (!event.is_empty()
                && event.len() <= 100
                && event
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'));
        if !valid {
            return Err(DomainError::invalid(
                format!("enabled_events[{i}]"),
                format!(
                    "'{event}' is not an event type (such as checkout.session.completed) or '*'"
                ),
            ));
        }
        if event == RETIRED_CANCELED_EVENT {
            return Err(DomainError::invalid(
                format!("enabled_events[{i}]"),
                format!(
                    "'{event}' is no longer sent: a session that ends unpaid (expired, canceled \
                     or failed) sends {}; use {} instead",
                    super::checkout::ENDED_UNPAID_EVENT,
                    super::checkout::ENDED_UNPAID_EVENT
                ),
            ));
        }
        if !seen.contains(&event) {
            seen.push(event);
        }
    }
    Ok(seen)
}

impl EndpointInput {
    fn apply(
        self,
        endpoint: &mut WebhookEndpoint,
        targets: PrivateTargets,
    ) -> Result<(), DomainError> {
        if let Some(url) = self.url {
            endpoint.url = validate_url(&url, endpoint.livemode, targets)?;
        }
        if let Some(events) = self.enabled_events {
            endpoint.enabled_events = validate_events(events)?;
        }
        if let Some(description) = self.description {
            endpoint.description = validate::optional_text(description, "description", 5000)?;
        }
        if let Some(update) = self.metadata {
            endpoint.metadata = endpoint.metadata.updated(update, "metadata")?;
        }
        if let Some(disabled) = self.disabled {
            endpoint.enabled = !disabled;
            endpoint.disabled_reason = disabled.then(|| "disabled by the merchant".to_string());
            if !disabled {
                endpoint.failing_since = None;
            }
        }
        Ok(())
    }
}

pub async fn create_endpoint(
    db: &Db,
    caller: &Caller,
    input: EndpointInput,
    targets: PrivateTargets,
    now: i64,
) -> Result<WebhookEndpoint, DomainError> {
    if input.url.is_none() {
        return Err(DomainError::invalid("url", "is required"));
    }
    if input.enabled_events.is_none() {
        return Err(DomainError::invalid("enabled_events", "is required"));
    }
    let mut endpoint = WebhookEndpoint {
        id: ids::new_id(prefix::WEBHOOK_ENDPOINT, ids::now_ms()),
        livemode: caller.mode.is_live(),
        url: String::new(),
        description: None,
        metadata: Metadata::default(),
        enabled_events: Vec::new(),
        enabled: true,
        disabled_reason: None,
        secret: new_secret(),
        previous_secret: None,
        previous_secret_until: None,
        failing_since: None,
        deleted: false,
        created: now,
        updated: now,
    };
    input.apply(&mut endpoint, targets)?;
    store::webhooks::insert_endpoint(db, caller, &endpoint).await?;
    Ok(endpoint)
}

/// An endpoint that exists and is not deleted.
pub async fn get_endpoint(
    db: &Db,
    caller: &Caller,
    id: &str,
) -> Result<WebhookEndpoint, DomainError> {
    store::webhooks::get_endpoint(db, caller, id)
        .await?
        .filter(|e| !e.deleted)
        .ok_or_else(|| DomainError::not_found("webhook_endpoint", id))
}

pub async fn update_endpoint(
    db: &Db,
    caller: &Caller,
    id: &str,
    input: EndpointInput,
    targets: PrivateTargets,
    now: i64,
) -> Result<WebhookEndpoint, DomainError> {
    let mut endpoint = get_endpoint(db, caller, id).await?;
    input.apply(&mut endpoint, targets)?;
    endpoint.updated = now;
    store::webhooks::update_endpoint(db, &endpoint).await?;
    Ok(endpoint)
}

/// Deletes an endpoint; its pending deliveries are canceled.
pub async fn delete_endpoint(
    db: &Db,
    caller: &Caller,
    id: &str,
    now: i64,
) -> Result<WebhookEndpoint, DomainError> {
    let mut endpoint = get_endpoint(db, caller, id).await?;
    endpoint.deleted = true;
    endpoint.enabled = false;
    endpoint.updated = now;
    store::webhooks::update_endpoint(db, &endpoint).await?;
    Ok(endpoint)
}

/// Makes a new secret; the old one keeps signing, beside it, for 24 hours.
pub async fn roll_secret(
    db: &Db,
    caller: &Caller,
    id: &str,
    now: i64,
) -> Result<WebhookEndpoint, DomainError> {
    let mut endpoint = get_endpoint(db, caller, id).await?;
    endpoint.previous_secret = Some(std::mem::replace(&mut endpoint.secret, new_secret()));
    endpoint.previous_secret_until = Some(now + PREVIOUS_SECRET_SECONDS);
    endpoint.updated = now;
    store::webhooks::update_endpoint(db, &endpoint).await?;
    Ok(endpoint)
}

pub async fn list_endpoints(
    db: &Db,
    caller: &Caller,
    page: &PageRequest,
) -> Result<Page<WebhookEndpoint>, DomainError> {
    page.check_cursor(|id| async move { get_endpoint(db, caller, &id).await })
        .await?;
    Ok(store::webhooks::list_endpoints(db, caller, page).await?)
}

// ----- Events --------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Exact types, or prefixes written `checkout.session.*`.
    pub types: Vec<String>,
    pub created: CreatedRange,
}

/// An event as stored: its delivered bytes.
pub async fn get_event(db: &Db, caller: &Caller, id: &str) -> Result<Value, DomainError> {
    store::events::get_payload(db, caller, id)
        .await?
        .ok_or_else(|| DomainError::not_found("event", id))
}

pub async fn list_events(
    db: &Db,
    caller: &Caller,
    filter: &EventFilter,
    page: &PageRequest,
) -> Result<Page<Value>, DomainError> {
    page.check_cursor(|id| async move { get_event(db, caller, &id).await })
        .await?;
    Ok(store::events::list_payloads(db, caller, filter, page).await?)
}

/// Sends an event again: a new delivery, due now, to `endpoint` or to every enabled endpoint
/// that wants its type. Returns how many deliveries were queued.
pub async fn resend_event(
    db: &Db,
    caller: &Caller,
    event_id: &str,
    endpoint: Option<&str>,
    now: i64,
) -> Result<usize, DomainError> {
    let event = get_event(db, caller, event_id).await?;
    let kind = event["type"].as_str().unwrap_or_default().to_string();
    let targets = match endpoint {
        Some(id) => {
            let endpoint = get_endpoint(db, caller, id)
                .await
                .map_err(DomainError::as_reference("endpoint"))?;
            if !endpoint.enabled {
                return Err(DomainError::invalid(
                    "endpoint",
                    "is disabled; enable it first",
                ));
            }
            vec![endpoint.id]
        }
        None => store::webhooks::matching_endpoints(db, caller, &kind).await?,
    };
    store::webhooks::queue_deliveries(db, &caller.account_id, event_id, &targets, now).await?;
    Ok(targets.len())
}

/// Queues again every delivery to an endpoint that ended failed (or canceled while the endpoint
/// was disabled) since `since`. Returns how many.
pub async fn replay_failed(
    db: &Db,
    caller: &Caller,
    endpoint_id: &str,
    since: i64,
    now: i64,
) -> Result<u64, DomainError> {
    let endpoint = get_endpoint(db, caller, endpoint_id).await?;
    if !endpoint.enabled {
        return Err(DomainError::Conflict {
            code: "webhook_endpoint_disabled",
            message: format!("webhook endpoint '{endpoint_id}' is disabled; enable it first"),
        });
    }
    Ok(store::webhooks::requeue_failed(db, endpoint_id, since, now).await?)
}

/// One recorded delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub id: String,
    pub delivery_id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub attempted_at: i64,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
}

impl Attempt {
    pub fn object(&self) -> Value {
        objects::to_value(&objects::WebhookAttempt::new(self))
    }
}

pub async fn list_attempts(
    db: &Db,
    caller: &Caller,
    endpoint_id: &str,
    event_id: Option<&str>,
    page: &PageRequest,
) -> Result<Page<Attempt>, DomainError> {
    get_endpoint(db, caller, endpoint_id).await?;
    if let Some(event) = event_id {
        get_event(db, caller, event)
            .await
            .map_err(DomainError::as_reference("event"))?;
    }
    Ok(store::webhooks::list_attempts(db, endpoint_id, event_id, page).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_published_algorithms() {
        // Standard Webhooks' own test vector.
        let headers = signature_headers(
            &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        let standard = headers
            .iter()
            .find(|(n, _)| *n == "webhook-signature")
            .unwrap();
        assert_eq!(
            standard.1,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let stripe = &headers[0].1;
        assert!(stripe.starts_with("t=1614265330,v1="), "{stripe}");
        assert_eq!(stripe.len(), "t=1614265330,v1=".len() + 64);
    }

    #[test]
    fn a_rolled_secret_signs_beside_the_new_one_for_a_day() {
        let headers = signature_headers(&[&new_secret(), &new_secret()], "evt_1", 1, b"{}");
        assert_eq!(headers[0].1.matches(",v1=").count(), 2);
        assert_eq!(headers[3].1.split(' ').count(), 2);
    }

    #[test]
    fn internal_addresses() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in [
            "93.184.216.34",
            "2606:2800:220:1:248:1893:25c8:1946",
            "8.8.8.8",
        ] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    /// The defaults: test endpoints anywhere, live endpoints only on public addresses.
    const LIVE_ONLY_PUBLIC: PrivateTargets = PrivateTargets {
        live: false,
        test: true,
    };
    const EVERYWHERE: PrivateTargets = PrivateTargets {
        live: true,
        test: true,
    };

    #[test]
    fn live_urls_may_not_be_internal_literals() {
        assert!(validate_url("http://127.0.0.1:3000/hook", true, LIVE_ONLY_PUBLIC).is_err());
        assert!(validate_url("http://[::1]/hook", true, LIVE_ONLY_PUBLIC).is_err());
        assert!(validate_url("http://localhost/hook", true, LIVE_ONLY_PUBLIC).is_err());
        assert!(validate_url("http://127.0.0.1:3000/hook", false, LIVE_ONLY_PUBLIC).is_ok());
        assert!(validate_url("http://127.0.0.1:3000/hook", true, EVERYWHERE).is_ok());
        assert!(validate_url("https://shop.example/hook", true, LIVE_ONLY_PUBLIC).is_ok());
        // `--webhooks-test-private deny`: test endpoints follow the live rule.
        let public_only = PrivateTargets {
            live: false,
            test: false,
        };
        let refused = validate_url("http://127.0.0.1:3000/hook", false, public_only).unwrap_err();
        assert!(
            matches!(&refused, DomainError::Invalid { code: "url_invalid", param, .. } if param == "url"),
            "{refused:?}"
        );
        assert!(validate_url("https://shop.example/hook", false, public_only).is_ok());
        assert!(validate_url("ftp://shop.example/hook", false, LIVE_ONLY_PUBLIC).is_err());
        // Every spelling of an internal address, as the HTTP client would read it.
        for sneaky in [
            "http://2130706433/",
            "http://127.1/",
            "http://0x7f.0.0.1/",
            "http://127.0.0.1./",
            "http://2852039166/latest",
            "http://[::ffff:7f00:1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://LOCALHOST./x",
        ] {
            assert!(
                validate_url(sneaky, true, LIVE_ONLY_PUBLIC).is_err(),
                "{sneaky}"
            );
        }
        assert_eq!(
            validate_url("https://Shop.Example:443/hook", true, LIVE_ONLY_PUBLIC).unwrap(),
            "https://shop.example/hook"
        );
    }

    #[test]
    fn retries_spread_over_about_three_days() {
        let total: i64 = RETRY_SCHEDULE.iter().sum();
        assert!((2 * 86_400..4 * 86_400).contains(&total), "{total}");
        assert_eq!(next_attempt(RETRY_SCHEDULE.len() as i64 + 1, 0, None), None);
        let first = next_attempt(1, 1000, None).unwrap();
        assert!((1030..=1033).contains(&first), "{first}");
        assert_eq!(next_attempt(1, 0, Some(600)), Some(600));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> &'a str {
        &headers.iter().find(|(n, _)| *n == name).unwrap().1
    }

    fn secret() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(()).prop_map(|_| new_secret()),
            "whsec_[A-Za-z0-9+/]{8,60}",
            "[ -~]{1,80}",
        ]
    }

    fn verify_both(
        headers: &[(&'static str, String)],
        body: &[u8],
        secret: &str,
        now: i64,
    ) -> (Result<(), SignatureError>, Result<(), SignatureError>) {
        let tolerance = SIGNATURE_TOLERANCE_SECONDS;
        (
            verify_stripe_signature(
                header(headers, "stripe-signature"),
                body,
                secret,
                now,
                tolerance,
            ),
            verify_standard_signature(
                header(headers, "webhook-id"),
                header(headers, "webhook-timestamp"),
                header(headers, "webhook-signature"),
                body,
                secret,
                now,
                tolerance,
            ),
        )
    }

    proptest! {
        /// What `signature_headers` signs verifies, on both schemes, within the tolerance.
        #[test]
        fn signed_deliveries_verify(
            secret in secret(),
            id in "evt_[A-Za-z0-9]{1,30}",
            body in prop::collection::vec(any::<u8>(), 0..300),
            skew in -SIGNATURE_TOLERANCE_SECONDS..=SIGNATURE_TOLERANCE_SECONDS,
        ) {
            let headers = signature_headers(&[&secret], &id, NOW + skew, &body);
            let (stripe, standard) = verify_both(&headers, &body, &secret, NOW);
            prop_assert_eq!(stripe, Ok(()));
            prop_assert_eq!(standard, Ok(()));
        }

        /// Changing any one byte of the body fails both schemes.
        #[test]
        fn a_changed_body_fails(
            secret in secret(),
            body in prop::collection::vec(any::<u8>(), 1..300),
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let headers = signature_headers(&[&secret], "evt_1", NOW, &body);
            let mut changed = body.clone();
            let i = at.index(changed.len());
            changed[i] ^= flip;
            let (stripe, standard) = verify_both(&headers, &changed, &secret, NOW);
            prop_assert_eq!(stripe, Err(SignatureError::NoMatch));
            prop_assert_eq!(standard, Err(SignatureError::NoMatch));
        }

        /// Changing any one character of the secret fails both schemes.
        #[test]
        fn a_changed_secret_fails(
            secret in secret(),
            body in prop::collection::vec(any::<u8>(), 0..100),
            at in any::<prop::sample::Index>(),
            replacement in "[ -~]",
        ) {
            let i = at.index(secret.len());
            prop_assume!(secret.is_char_boundary(i) && secret[i..].chars().next().unwrap().to_string() != replacement);
            let mut changed = secret.clone();
            let width = changed[i..].chars().next().unwrap().len_utf8();
            changed.replace_range(i..i + width, &replacement);
            let headers = signature_headers(&[&secret], "evt_1", NOW, &body);
            let (stripe, standard) = verify_both(&headers, &body, &changed, NOW);
            prop_assert_eq!(stripe, Err(SignatureError::NoMatch));
            // Standard Webhooks keys with the decoded bytes. HMAC pads a short key with zero
            // bytes, so a change that only adds trailing zero bytes (the padding `=` turned
            // into `A`) is the same key, rightly.
            let key = |text: &str| {
                base64::engine::general_purpose::STANDARD
                    .decode(text.trim_start_matches("whsec_"))
                    .map(|mut bytes| {
                        while bytes.last() == Some(&0) {
                            bytes.pop();
                        }
                        bytes
                    })
            };
            if key(&changed).ok() != key(&secret).ok() {
                prop_assert!(standard.is_err());
            }
        }

        /// A timestamp changed in the headers (even inside the tolerance) fails both schemes.
        #[test]
        fn a_changed_timestamp_fails(
            secret in secret(),
            body in prop::collection::vec(any::<u8>(), 0..100),
            shift in (-SIGNATURE_TOLERANCE_SECONDS..=SIGNATURE_TOLERANCE_SECONDS).prop_filter("a change", |s| *s != 0),
        ) {
            let headers = signature_headers(&[&secret], "evt_1", NOW, &body);
            let stripe = header(&headers, "stripe-signature")
                .replacen(&format!("t={NOW}"), &format!("t={}", NOW + shift), 1);
            prop_assert_eq!(
                verify_stripe_signature(&stripe, &body, &secret, NOW, SIGNATURE_TOLERANCE_SECONDS),
                Err(SignatureError::NoMatch)
            );
            prop_assert_eq!(
                verify_standard_signature(
                    "evt_1",
                    &(NOW + shift).to_string(),
                    header(&headers, "webhook-signature"),
                    &body,
                    &secret,
                    NOW,
                    SIGNATURE_TOLERANCE_SECONDS,
                ),
                Err(SignatureError::NoMatch)
            );
        }

        /// A correct signature made too long ago (or too far ahead) is refused.
        #[test]
        fn timestamps_outside_the_tolerance_fail(
            secret in secret(),
            distance in (SIGNATURE_TOLERANCE_SECONDS + 1)..1_000_000_000,
            ahead in any::<bool>(),
        ) {
            let t = if ahead { NOW + distance } else { NOW - distance };
            let headers = signature_headers(&[&secret], "evt_1", t, b"{}");
            let (stripe, standard) = verify_both(&headers, b"{}", &secret, NOW);
            prop_assert_eq!(stripe, Err(SignatureError::OutsideTolerance));
            prop_assert_eq!(standard, Err(SignatureError::OutsideTolerance));
        }

        /// Any header text is refused cleanly, never a panic (and never accepted).
        #[test]
        fn arbitrary_headers_never_panic(
            stripe in any::<String>(),
            id in any::<String>(),
            timestamp in prop_oneof![any::<String>(), any::<i64>().prop_map(|t| t.to_string())],
            signature in any::<String>(),
            now in any::<i64>(),
            tolerance in any::<i64>(),
        ) {
            let _ = verify_stripe_signature(&stripe, b"{}", "whsec_x", now, tolerance);
            let _ = verify_standard_signature(&id, &timestamp, &signature, b"{}", "whsec_x", now, tolerance);
            let accepted = verify_stripe_signature(&stripe, b"{}", "whsec_x", NOW, 300).is_ok();
            prop_assert!(!accepted);
        }
    }
}
