//! Events: written through [`insert_event`] inside the transaction of the change they record.

use super::{Db, StoreResult, Tx, args, row_struct};
use crate::domain::accounts::Caller;
use crate::domain::events::Event;

pub const INSERT_EVENT: &str = "INSERT INTO events (id, account_id, livemode, type, object_id, data, request_id, \
     idempotency_key, created, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// The enabled endpoints of an account and mode that want events of a type.
pub const MATCHING_ENDPOINTS: &str = "SELECT e.id FROM webhook_endpoints e \
     WHERE e.account_id = $1 AND e.livemode = $2 AND e.status = 'enabled' AND e.deleted = FALSE \
     AND EXISTS (SELECT 1 FROM webhook_endpoint_events t WHERE t.endpoint_id = e.id \
     AND (t.event_type = '*' OR t.event_type = $3)) ORDER BY e.id";

pub const INSERT_DELIVERY: &str = "INSERT INTO webhook_deliveries (id, account_id, endpoint_id, event_id, state, \
     attempts, next_attempt_at, lease_until, created, updated) VALUES ($1, $2, $3, $4, 'pending', 0, $5, NULL, $5, $5)";

/// Writes an event inside `tx` (the transaction of the change it records) and, in that same
/// transaction, one pending delivery per enabled endpoint that wants it: the transactional
/// outbox. No event is written without its deliveries, or the reverse.
pub async fn insert_event(tx: &mut Tx<'_>, event: &Event) -> StoreResult<()> {
    let endpoints: Vec<(String,)> = tx
        .fetch_all(
            MATCHING_ENDPOINTS,
            &args![&event.account_id, event.livemode, &event.kind],
        )
        .await?;
    tx.execute(
        INSERT_EVENT,
        &args![
            &event.id,
            &event.account_id,
            event.livemode,
            &event.kind,
            &event.object_id,
            event.object.to_string(),
            &event.request_id,
            &event.idempotency_key,
            event.created,
            event.payload(endpoints.len())
        ],
    )
    .await?;
    for (endpoint,) in &endpoints {
        let id = crate::domain::ids::new_id(
            crate::domain::ids::prefix::WEBHOOK_DELIVERY,
            crate::domain::ids::now_ms(),
        );
        tx.execute(
            INSERT_DELIVERY,
            &args![id, &event.account_id, endpoint, &event.id, event.created],
        )
        .await?;
    }
    if !endpoints.is_empty() {
        crate::delivery::WAKE.notify_one();
    }
    Ok(())
}

/// Writes each of `events` inside `tx` ([`insert_event`]).
pub async fn insert_events(tx: &mut Tx<'_>, events: &[Event]) -> StoreResult<()> {
    for event in events {
        insert_event(tx, event).await?;
    }
    Ok(())
}

row_struct! {
    struct EventRow {
        id: String,
        account_id: String,
        livemode: bool,
        r#type: String,
        object_id: String,
        data: String,
        request_id: Option<String>,
        idempotency_key: Option<String>,
        created: i64,
    }
}

/// The events about one object, oldest first.
pub async fn events_for_object(
    db: &Db,
    caller: &Caller,
    object_id: &str,
) -> StoreResult<Vec<Event>> {
    let rows: Vec<EventRow> = db
        .fetch_all(
            "SELECT id, account_id, livemode, type, object_id, data, request_id, idempotency_key, created \
             FROM events WHERE object_id = $1 AND account_id = $2 AND livemode = $3 ORDER BY id",
            &args![object_id, &caller.account_id, caller.mode.is_live()],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Event {
            id: r.id,
            account_id: r.account_id,
            livemode: r.livemode,
            kind: r.r#type,
            object_id: r.object_id,
            object: serde_json::from_str(&r.data).unwrap_or_default(),
            request_id: r.request_id,
            idempotency_key: r.idempotency_key,
            created: r.created,
        })
        .collect())
}

row_struct! {
    struct PayloadRow {
        payload: Option<String>,
        id: String,
        account_id: String,
        livemode: bool,
        r#type: String,
        object_id: String,
        data: String,
        request_id: Option<String>,
        idempotency_key: Option<String>,
        created: i64,
    }
}

impl PayloadRow {
    /// The stored bytes as JSON (events written before payloads were stored: the envelope).
    fn into_value(self) -> serde_json::Value {
        if let Some(value) = self.payload.and_then(|p| serde_json::from_str(&p).ok()) {
            return value;
        }
        Event {
            id: self.id,
            account_id: self.account_id,
            livemode: self.livemode,
            kind: self.r#type,
            object_id: self.object_id,
            object: serde_json::from_str(&self.data).unwrap_or_default(),
            request_id: self.request_id,
            idempotency_key: self.idempotency_key,
            created: self.created,
        }
        .envelope()
    }
}

/// The columns of [`PayloadRow`], for queries that name them in `format!`.
macro_rules! payload_columns {
    () => {
        "payload, id, account_id, livemode, type, object_id, data, request_id, idempotency_key, created"
    };
}
const PAYLOAD_COLUMNS: &str = payload_columns!();

pub async fn get_payload(
    db: &Db,
    caller: &Caller,
    id: &str,
) -> StoreResult<Option<serde_json::Value>> {
    let row: Option<PayloadRow> = db
        .fetch_optional(
            concat!(
                "SELECT ",
                payload_columns!(),
                " FROM events WHERE id = $1 AND account_id = $2 AND livemode = $3"
            ),
            &args![id, &caller.account_id, caller.mode.is_live()],
        )
        .await?;
    Ok(row.map(PayloadRow::into_value))
}

/// An event's delivered bytes by id alone, for the delivery workers. Events from before stored
/// payloads get their envelope, rendered the same way each time.
pub async fn payload_text(db: &Db, id: &str) -> StoreResult<Option<String>> {
    let row: Option<PayloadRow> = db
        .fetch_optional(
            concat!("SELECT ", payload_columns!(), " FROM events WHERE id = $1"),
            &args![id],
        )
        .await?;
    Ok(row.map(|r| match r.payload {
        Some(payload) => payload,
        None => r.into_value().to_string(),
    }))
}

/// A page of events, newest first; `checkout.session.*` in `types` matches by prefix.
pub async fn list_payloads(
    db: &Db,
    caller: &Caller,
    filter: &crate::domain::webhooks::EventFilter,
    page: &crate::domain::list::PageRequest,
) -> StoreResult<crate::domain::list::Page<serde_json::Value>> {
    use super::query::{Arg, Select};
    let mut select = Select::new(PAYLOAD_COLUMNS, "events");
    select.scope("", &caller.account_id, caller.mode.is_live());
    // Any of the types: exact names, or prefixes written `checkout.session.*` (compared
    // byte for byte, the same on both engines).
    let alternatives = filter
        .types
        .iter()
        .map(|kind| match kind.strip_suffix('*') {
            Some(prefix) => (
                format!("substr(type, 1, {}) = ?", prefix.len()),
                Arg::from(prefix.to_string()),
            ),
            None => ("type = ?".to_string(), Arg::from(kind.clone())),
        })
        .collect();
    select.filter_any(alternatives);
    select.created("created", &filter.created);
    let rows: crate::domain::list::Page<PayloadRow> = select.fetch_page(db, "id", page).await?;
    Ok(rows.map(PayloadRow::into_value))
}

/// Events of an account and mode created at or after `since` (unix seconds), in
/// `(created, id)` order, after the keyset `after` when given, at most `limit`: what
/// `kassa listen` streams, and replays after a reconnection.
pub async fn payloads_since(
    db: &Db,
    caller: &Caller,
    since: i64,
    after: Option<&(i64, String)>,
    limit: i64,
) -> StoreResult<Vec<(String, serde_json::Value)>> {
    let (after_created, after_id) = after.cloned().unwrap_or((i64::MIN, String::new()));
    let rows: Vec<PayloadRow> = db
        .fetch_all(
            concat!(
                "SELECT ",
                payload_columns!(),
                " FROM events WHERE account_id = $1 AND livemode = $2 AND created >= $3 \
                 AND (created > $4 OR (created = $4 AND id > $5)) ORDER BY created, id LIMIT $6"
            ),
            &args![
                &caller.account_id,
                caller.mode.is_live(),
                since,
                after_created,
                &after_id,
                limit
            ],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id.clone(), r.into_value()))
        .collect())
}

/// Deletes up to `limit` events older than `before`, with their deliveries and attempts, in
/// one transaction; returns how many. Batches keep the writer free for payments meanwhile.
pub async fn prune(db: &Db, before: i64, limit: i64) -> StoreResult<u64> {
    macro_rules! oldest {
        () => {
            "SELECT id FROM events WHERE created < $1 ORDER BY created LIMIT $2"
        };
    }
    db.write(async |tx| {
        tx.execute(
            concat!(
                "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries \
                 WHERE event_id IN (",
                oldest!(),
                "))"
            ),
            &args![before, limit],
        )
        .await?;
        tx.execute(
            concat!("DELETE FROM webhook_deliveries WHERE event_id IN (", oldest!(), ")"),
            &args![before, limit],
        )
        .await?;
        tx.execute(
            concat!("DELETE FROM events WHERE id IN (", oldest!(), ")"),
            &args![before, limit],
        )
        .await
    })
    .await
}
