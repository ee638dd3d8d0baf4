//! Events: the record of every state change, written in the transaction that makes it. The
//! webhook outbox delivers them; `/v1/events` lists them.

use serde_json::{Value, json};

use super::ids::{self, prefix};

/// The API request being served, if any: events record the request that caused them (Stripe's
/// `request.id` and `request.idempotency_key`). Changes made in the background (expiry, the
/// hosted page's payments) have none.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub id: String,
    pub idempotency_key: Option<String>,
}

tokio::task_local! {
    pub static REQUEST: RequestContext;
}

/// The API version events are rendered with.
pub const API_VERSION: &str = "2026-10-28.endive";

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub account_id: String,
    pub livemode: bool,
    pub kind: String,
    pub object_id: String,
    /// `data.object` as of the change.
    pub object: Value,
    pub request_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub created: i64,
}

pub fn new_event(
    account_id: &str,
    livemode: bool,
    kind: &str,
    object_id: &str,
    object: Value,
    now: i64,
) -> Event {
    let (request_id, idempotency_key) = REQUEST
        .try_with(|r| (Some(r.id.clone()), r.idempotency_key.clone()))
        .unwrap_or((None, None));
    Event {
        id: ids::new_id(prefix::EVENT, ids::now_ms()),
        account_id: account_id.to_string(),
        livemode,
        kind: kind.to_string(),
        object_id: object_id.to_string(),
        object,
        request_id,
        idempotency_key,
        created: now,
    }
}

impl Event {
    /// The event as delivered and listed, with the number of endpoints it is going to: these
    /// bytes are stored once and sent on every attempt.
    pub fn payload(&self, pending_webhooks: usize) -> String {
        let mut envelope = self.envelope();
        envelope["pending_webhooks"] = pending_webhooks.into();
        envelope.to_string()
    }

    /// Stripe's event envelope.
    pub fn envelope(&self) -> Value {
        json!({
            "id": self.id,
            "object": "event",
            "api_version": API_VERSION,
            "created": self.created,
            "data": {"object": self.object},
            "livemode": self.livemode,
            "pending_webhooks": 0,
            "request": {"id": self.request_id, "idempotency_key": self.idempotency_key},
            "type": self.kind,
        })
    }
}
