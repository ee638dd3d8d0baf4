//! Events: written through [`insert_event`] inside the transaction of the change they record.

use super::{Db, Statement, StoreResult, Tx, args, row_struct};
use crate::domain::accounts::Caller;
use crate::domain::events::Event;
use crate::domain::ids::{self, prefix};

pub const INSERT_EVENT: &str = "INSERT INTO events (id, account_id, livemode, type, object_id, data, request_id, \
     idempotency_key, created, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// The enabled endpoints of an account and mode that want events of a type.
pub const MATCHING_ENDPOINTS: &str = "SELECT e.id FROM webhook_endpoints e \
     WHERE e.account_id = $1 AND e.livemode = $2 AND e.status = 'enabled' AND e.deleted = FALSE \
     AND EXISTS (SELECT 1 FROM webhook_endpoint_events t WHERE t.endpoint_id = e.id \
     AND (t.event_type = '*' OR t.event_type = $3)) ORDER BY e.id";

pub const INSERT_DELIVERY: &str = "INSERT INTO webhook_deliveries (id, account_id, endpoint_id, event_id, state, \
     attempts, next_attempt_at, lease_until, created, updated) VALUES ($1, $2, $3, $4, 'pending', 0, $5, NULL, $5, $5)";

/// The enabled endpoints of one account and mode, each with the event types it wants, read
/// once for all the events of a change.
#[derive(Debug, Default)]
pub struct Subscribers {
    /// (endpoint id, event type or `*`), by endpoint id.
    wants: Vec<(String, String)>,
}

impl Subscribers {
    pub async fn read(db: &Db, account_id: &str, livemode: bool) -> StoreResult<Subscribers> {
        let wants = db
            .fetch_all(SUBSCRIBERS, &args![account_id, livemode])
            .await?;
        Ok(Subscribers { wants })
    }

    async fn read_in(
        tx: &mut Tx<'_>,
        account_id: &str,
        livemode: bool,
    ) -> StoreResult<Subscribers> {
        let wants = tx
            .fetch_all(SUBSCRIBERS, &args![account_id, livemode])
            .await?;
        Ok(Subscribers { wants })
    }

    /// The endpoints that want events of type `kind`, each once, by id.
    fn wanting(&self, kind: &str) -> Vec<&str> {
        let mut ids: Vec<&str> = self
            .wants
            .iter()
            .filter(|(_, wanted)| wanted == "*" || wanted == kind)
            .map(|(id, _)| id.as_str())
            .collect();
        ids.dedup();
        ids
    }

    /// The statements that write `events` and, for each, one pending delivery per endpoint
    /// that wants it and the receipt email it calls for ([`super::emails::queue_for`]): the
    /// transactional outbox, run in the transaction of the change the events record. What was
    /// queued comes back with them, to wake the workers once they are durable.
    pub fn statements<'a>(&self, events: &'a [Event]) -> (Vec<Statement<'a>>, Queued) {
        let mut statements = Vec::with_capacity(events.len() * 2);
        let mut queued = Queued::default();
        for event in events {
            let endpoints = self.wanting(&event.kind);
            statements.push(Statement::new(
                INSERT_EVENT,
                args![
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
            ));
            for endpoint in endpoints {
                let id = ids::new_id(prefix::WEBHOOK_DELIVERY, ids::now_ms());
                statements.push(Statement::new(
                    INSERT_DELIVERY,
                    args![
                        id,
                        &event.account_id,
                        endpoint.to_string(),
                        &event.id,
                        event.created
                    ],
                ));
                queued.deliveries = true;
            }
            if let Some(email) = super::emails::queue_for(event) {
                statements.push(email);
                queued.emails = true;
            }
        }
        (statements, queued)
    }
}

/// What a change's events queued besides themselves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Queued {
    pub deliveries: bool,
    pub emails: bool,
}

impl Queued {
    /// Wakes the workers that have work now that the change is durable.
    pub fn wake(self) {
        if self.deliveries {
            crate::delivery::WAKE.notify_one();
        }
        if self.emails {
            crate::mail::WAKE.notify_one();
        }
    }
}

/// Every (endpoint, wanted event type) of an account and mode's enabled endpoints.
const SUBSCRIBERS: &str = "SELECT e.id, t.event_type FROM webhook_endpoints e \
     JOIN webhook_endpoint_events t ON t.endpoint_id = e.id \
     WHERE e.account_id = $1 AND e.livemode = $2 AND e.status = 'enabled' AND e.deleted = FALSE \
     ORDER BY e.id";

/// Writes events inside `tx` (the transaction of the change they record) and, in that same
/// transaction, one pending delivery per enabled endpoint that wants each and the receipt
/// emails they call for: the transactional outbox ([`Subscribers::statements`]). No event is
/// written without its deliveries and emails, or the reverse.
pub async fn insert_events(tx: &mut Tx<'_>, events: &[Event]) -> StoreResult<()> {
    let Some(first) = events.first() else {
        return Ok(());
    };
    let subscribers = Subscribers::read_in(tx, &first.account_id, first.livemode).await?;
    let (statements, queued) = subscribers.statements(events);
    for statement in &statements {
        tx.execute(statement.sql, &statement.args).await?;
    }
    // Woken early, a worker finds nothing until the commit, and looks again on its interval.
    queued.wake();
    Ok(())
}

/// Writes `guard` and, only if it changed a row, `statements` with `events` and their pending
/// deliveries (the outbox), as one transaction: one round trip on PostgreSQL
/// ([`Db::write_statements_if`]). The endpoints that want the events are read first, outside the
/// transaction. Returns whether the guard changed a row; nothing is written otherwise.
pub async fn write_if_with_events(
    db: &Db,
    account_id: &str,
    livemode: bool,
    guard: Statement<'_>,
    mut statements: Vec<Statement<'_>>,
    events: &[Event],
) -> StoreResult<bool> {
    let mut queued = Queued::default();
    if !events.is_empty() {
        let subscribers = Subscribers::read(db, account_id, livemode).await?;
        let (event_statements, any) = subscribers.statements(events);
        statements.extend(event_statements);
        queued = any;
    }
    let written = db.write_statements_if(guard, &statements).await?;
    if written {
        queued.wake();
    }
    Ok(written)
}

/// Writes one event inside `tx` ([`insert_events`]).
pub async fn insert_event(tx: &mut Tx<'_>, event: &Event) -> StoreResult<()> {
    insert_events(tx, std::slice::from_ref(event)).await
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
            previous_attributes: None,
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
            previous_attributes: None,
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

/// Deletes up to `limit` events older than `before`, with their deliveries, attempts and
/// receipt emails, in
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
        // Receipt emails (and the customers' addresses in them) go with their events.
        tx.execute(
            concat!("DELETE FROM emails WHERE event_id IN (", oldest!(), ")"),
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
