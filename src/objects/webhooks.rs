//! Webhook endpoints, their delivery attempts, events, and what replaying and resending answer.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::Null;
use crate::domain::events::{self, API_VERSION};
use crate::domain::metadata::Metadata;
use crate::domain::webhooks;

/// A webhook endpoint (`object: "webhook_endpoint"`). `secret` is there only in the answer that
/// made it (creating it, rolling it).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpoint<'a> {
    id: &'a str,
    object: &'static str,
    api_version: Null,
    application: Null,
    created: i64,
    #[schema(required = true)]
    description: Option<&'a str>,
    /// Event types, or `*` for all.
    enabled_events: &'a [String],
    livemode: bool,
    metadata: &'a Metadata,
    #[schema(value_type = WebhookEndpointStatus)]
    status: &'static str,
    /// Why kassa disabled it (`failing`), if it did.
    #[schema(required = true)]
    disabled_reason: Option<&'a str>,
    url: &'a str,
    /// The `whsec_` secret deliveries are signed with.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
}

/// A webhook endpoint's status.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // Named for the document only: the field writes the domain's string.
pub enum WebhookEndpointStatus {
    Enabled,
    Disabled,
}

impl<'a> WebhookEndpoint<'a> {
    pub fn new(endpoint: &'a webhooks::WebhookEndpoint, with_secret: bool) -> Self {
        WebhookEndpoint {
            id: &endpoint.id,
            object: "webhook_endpoint",
            api_version: Null,
            application: Null,
            created: endpoint.created,
            description: endpoint.description.as_deref(),
            enabled_events: &endpoint.enabled_events,
            livemode: endpoint.livemode,
            metadata: &endpoint.metadata,
            status: if endpoint.enabled {
                "enabled"
            } else {
                "disabled"
            },
            disabled_reason: endpoint.disabled_reason.as_deref(),
            url: &endpoint.url,
            secret: with_secret.then_some(endpoint.secret.as_str()),
        }
    }
}

/// One delivery attempt to an endpoint (`object: "webhook_attempt"`).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAttempt<'a> {
    id: &'a str,
    object: &'static str,
    /// When it was made, unix seconds.
    created: i64,
    /// The delivery's id (`wd_…`).
    delivery: &'a str,
    /// The endpoint's id.
    endpoint: &'a str,
    /// The event's id.
    event: &'a str,
    /// The receiver's HTTP status; null when none answered.
    #[schema(required = true)]
    status_code: Option<i64>,
    /// Whether the receiver answered 2xx.
    succeeded: bool,
    latency_ms: i64,
    /// Why no answer was had (connection refused, timeout...).
    #[schema(required = true)]
    error: Option<&'a str>,
    /// The start of the receiver's answer.
    #[schema(required = true)]
    response_body: Option<&'a str>,
}

impl<'a> WebhookAttempt<'a> {
    pub fn new(attempt: &'a webhooks::Attempt) -> Self {
        WebhookAttempt {
            id: &attempt.id,
            object: "webhook_attempt",
            created: attempt.attempted_at,
            delivery: &attempt.delivery_id,
            endpoint: &attempt.endpoint_id,
            event: &attempt.event_id,
            status_code: attempt.status_code,
            succeeded: attempt.status_code.is_some_and(|s| (200..300).contains(&s)),
            latency_ms: attempt.latency_ms,
            error: attempt.error.as_deref(),
            response_body: attempt.response_excerpt.as_deref(),
        }
    }
}

/// An event (`object: "event"`), as delivered and listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Event<'a> {
    id: &'a str,
    object: &'static str,
    api_version: &'static str,
    created: i64,
    data: EventData<'a>,
    livemode: bool,
    /// How many endpoints it was going to when it was written.
    pending_webhooks: usize,
    request: EventRequest<'a>,
    /// `checkout.session.completed`, `invoice.paid`...
    #[serde(rename = "type")]
    kind: &'a str,
}

/// An event's `data`: the object as of the change and, for an update, what changed.
#[derive(Debug, Serialize, ToSchema)]
struct EventData<'a> {
    /// The object the event is about, of the type its `type` names (a `checkout.session`,
    /// `customer`, `invoice`...), as it was right after the change.
    #[schema(value_type = Object)]
    object: &'a Value,
    /// For an update: the fields that changed, with the values they had before.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    previous_attributes: Option<&'a Value>,
}

/// The API request that caused the event; both null for a change made in the background.
#[derive(Debug, Serialize, ToSchema)]
struct EventRequest<'a> {
    #[schema(required = true)]
    id: Option<&'a str>,
    #[schema(required = true)]
    idempotency_key: Option<&'a str>,
}

impl<'a> Event<'a> {
    pub fn new(event: &'a events::Event, pending_webhooks: usize) -> Self {
        Event {
            id: &event.id,
            object: "event",
            api_version: API_VERSION,
            created: event.created,
            data: EventData {
                object: &event.object,
                previous_attributes: event.previous_attributes.as_ref(),
            },
            livemode: event.livemode,
            pending_webhooks,
            request: EventRequest {
                id: event.request_id.as_deref(),
                idempotency_key: event.idempotency_key.as_deref(),
            },
            kind: &event.kind,
        }
    }
}

/// What replaying an endpoint's failed deliveries answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookReplay<'a> {
    /// Always `webhook_replay`.
    object: &'static str,
    webhook_endpoint: &'a str,
    /// Deliveries that ended failed since this time (unix seconds) were queued again.
    since: i64,
    /// How many deliveries were queued again.
    requeued: u64,
}

impl<'a> WebhookReplay<'a> {
    pub fn new(webhook_endpoint: &'a str, since: i64, requeued: u64) -> Self {
        WebhookReplay {
            object: "webhook_replay",
            webhook_endpoint,
            since,
            requeued,
        }
    }
}

/// What resending an event answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResend<'a> {
    /// Always `event_resend`.
    object: &'static str,
    event: &'a str,
    /// How many deliveries were queued.
    queued: usize,
}

impl<'a> EventResend<'a> {
    pub fn new(event: &'a str, queued: usize) -> Self {
        EventResend {
            object: "event_resend",
            event,
            queued,
        }
    }
}
