//! Events: the record of every state change, written in the transaction that makes it. The
//! webhook outbox delivers them; `/v1/events` lists them.

use serde_json::{Value, json};

use super::ids::{self, prefix};

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
    Event {
        id: ids::new_id(prefix::EVENT, ids::now_ms()),
        account_id: account_id.to_string(),
        livemode,
        kind: kind.to_string(),
        object_id: object_id.to_string(),
        object,
        request_id: None,
        idempotency_key: None,
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
