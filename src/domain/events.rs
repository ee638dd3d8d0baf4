//! Events: the record of every state change, written in the transaction that makes it. The
//! webhook outbox delivers them; `/v1/events` lists them.

use serde_json::{Value, json};

use super::ids::{self, prefix};
use crate::objects;

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
    /// `data.previous_attributes` of an update: what changed, as it was.
    pub previous_attributes: Option<Value>,
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
        previous_attributes: None,
        request_id,
        idempotency_key,
        created: now,
    }
}

impl Event {
    /// This event of an update with Stripe's `data.previous_attributes`: the fields of
    /// `before` (the object before the change) whose values changed, as they were; inside
    /// nested objects, only what changed in them.
    pub fn with_previous(mut self, before: &Value) -> Event {
        self.previous_attributes = Some(changed(before, &self.object).unwrap_or_else(|| json!({})));
        self
    }

    /// The event as delivered and listed, with the number of endpoints it is going to: these
    /// bytes are stored once and sent on every attempt.
    pub fn payload(&self, pending_webhooks: usize) -> String {
        let bytes = objects::to_json(&objects::Event::new(self, pending_webhooks))
            .expect("an event serialises: every key is a string");
        String::from_utf8(bytes).expect("JSON is UTF-8")
    }

    /// Stripe's event envelope.
    pub fn envelope(&self) -> Value {
        objects::to_value(&objects::Event::new(self, 0))
    }
}

/// What of `before` differs in `after`: for two objects, the keys whose values differ (nested
/// objects compared the same way), with `before`'s values; otherwise `before` itself. `None`
/// when nothing differs.
fn changed(before: &Value, after: &Value) -> Option<Value> {
    if before == after {
        return None;
    }
    match (before, after) {
        (Value::Object(before), Value::Object(after)) => {
            let mut previous = serde_json::Map::new();
            for (key, was) in before {
                let now = after.get(key).unwrap_or(&Value::Null);
                if let Some(difference) = changed(was, now) {
                    previous.insert(key.clone(), difference);
                }
            }
            // A key the change added was absent before: Stripe shows it as null.
            for key in after.keys().filter(|k| !before.contains_key(*k)) {
                previous.insert(key.clone(), Value::Null);
            }
            Some(Value::Object(previous))
        }
        _ => Some(before.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_attributes_hold_what_changed_as_it_was() {
        let before =
            json!({"status": "active", "metadata": {"a": "1", "b": "2"}, "items": [1], "x": 1});
        let after = json!({"status": "past_due", "metadata": {"a": "1", "b": "3", "c": "4"}, "items": [1], "x": 1});
        assert_eq!(
            changed(&before, &after),
            Some(json!({"status": "active", "metadata": {"b": "2", "c": null}}))
        );
        assert_eq!(changed(&before, &before), None);
    }
}
