//! Events: written through [`insert_event!`] inside the transaction of the change they record.

use sqlx::FromRow;

use super::{Db, StoreResult, on_reader};
use crate::domain::accounts::Caller;
use crate::domain::events::Event;

pub const INSERT_EVENT: &str = "INSERT INTO events (id, account_id, livemode, type, object_id, data, request_id, \
     idempotency_key, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Inserts an event through `$executor` (inside the transaction of its change).
macro_rules! insert_event {
    ($executor:expr, $event:expr) => {
        sqlx::query($crate::store::events::INSERT_EVENT)
            .bind(&$event.id)
            .bind(&$event.account_id)
            .bind($event.livemode)
            .bind(&$event.kind)
            .bind(&$event.object_id)
            .bind($event.object.to_string())
            .bind($event.request_id.clone())
            .bind($event.idempotency_key.clone())
            .bind($event.created)
            .execute($executor)
    };
}
pub(crate) use insert_event;

#[derive(FromRow)]
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

/// The events about one object, oldest first.
pub async fn events_for_object(
    db: &Db,
    caller: &Caller,
    object_id: &str,
) -> StoreResult<Vec<Event>> {
    let rows: Vec<EventRow> = on_reader!(db, |pool| {
        sqlx::query_as(
            "SELECT id, account_id, livemode, type, object_id, data, request_id, idempotency_key, created \
             FROM events WHERE object_id = $1 AND account_id = $2 AND livemode = $3 ORDER BY id",
        )
        .bind(object_id)
        .bind(&caller.account_id)
        .bind(caller.mode.is_live())
        .fetch_all(pool)
        .await
    })?;
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
