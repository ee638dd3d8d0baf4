//! Webhook endpoints, the delivery outbox and the attempts log.

use super::query::Select;
use super::{Arg, Db, StoreResult, Tx, args, row_struct};
use crate::domain::accounts::Caller;
use crate::domain::ids::{self, prefix};
use crate::domain::list::{Page, PageRequest};
use crate::domain::metadata::Metadata;
use crate::domain::webhooks::{Attempt, WebhookEndpoint};

row_struct! {
    struct EndpointRow {
        id: String,
        livemode: bool,
        url: String,
        description: Option<String>,
        metadata: String,
        status: String,
        disabled_reason: Option<String>,
        secret: String,
        previous_secret: Option<String>,
        previous_secret_until: Option<i64>,
        failing_since: Option<i64>,
        deleted: bool,
        created: i64,
        updated: i64,
    }
}

impl EndpointRow {
    fn into_endpoint(self, enabled_events: Vec<String>) -> WebhookEndpoint {
        WebhookEndpoint {
            id: self.id,
            livemode: self.livemode,
            url: self.url,
            description: self.description,
            metadata: Metadata::from_json(&self.metadata),
            enabled_events,
            enabled: self.status == "enabled",
            disabled_reason: self.disabled_reason,
            secret: self.secret,
            previous_secret: self.previous_secret,
            previous_secret_until: self.previous_secret_until,
            failing_since: self.failing_since,
            deleted: self.deleted,
            created: self.created,
            updated: self.updated,
        }
    }
}

const COLUMNS: &str = "id, livemode, url, description, metadata, status, disabled_reason, secret, \
     previous_secret, previous_secret_until, failing_since, deleted, created, updated";

pub async fn insert_endpoint(
    db: &Db,
    caller: &Caller,
    endpoint: &WebhookEndpoint,
) -> StoreResult<()> {
    db.write(async |tx| {
        tx.execute("INSERT INTO webhook_endpoints (id, account_id, livemode, url, description, metadata, status, \
             disabled_reason, secret, previous_secret, previous_secret_until, failing_since, deleted, created, updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)", &args![&endpoint.id, &caller.account_id, endpoint.livemode, &endpoint.url, endpoint.description.clone(), endpoint.metadata.to_json(), if endpoint.enabled { "enabled" } else { "disabled" }, endpoint.disabled_reason.clone(), &endpoint.secret, endpoint.previous_secret.clone(), endpoint.previous_secret_until, endpoint.failing_since, endpoint.deleted, endpoint.created, endpoint.updated])
        .await?;
        for event_type in &endpoint.enabled_events {
            tx.execute("INSERT INTO webhook_endpoint_events (endpoint_id, event_type) VALUES ($1, $2)", &args![&endpoint.id, event_type])
            .await?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// Saves every field and the event types; a disabled or deleted endpoint's pending deliveries
/// are canceled in the same transaction.
pub async fn update_endpoint(db: &Db, endpoint: &WebhookEndpoint) -> StoreResult<()> {
    db.write(async |tx| {
        tx.execute("UPDATE webhook_endpoints SET url = $1, description = $2, metadata = $3, status = $4, \
             disabled_reason = $5, secret = $6, previous_secret = $7, previous_secret_until = $8, \
             failing_since = $9, deleted = $10, updated = $11 WHERE id = $12", &args![&endpoint.url, endpoint.description.clone(), endpoint.metadata.to_json(), if endpoint.enabled {
            "enabled"
        } else {
            "disabled"
        }, endpoint.disabled_reason.clone(), &endpoint.secret, endpoint.previous_secret.clone(), endpoint.previous_secret_until, endpoint.failing_since, endpoint.deleted, endpoint.updated, &endpoint.id])
        .await?;
        tx.execute("DELETE FROM webhook_endpoint_events WHERE endpoint_id = $1", &args![&endpoint.id])
            .await?;
        for event_type in &endpoint.enabled_events {
            tx.execute("INSERT INTO webhook_endpoint_events (endpoint_id, event_type) VALUES ($1, $2)", &args![&endpoint.id, event_type])
            .await?;
        }
        if !endpoint.enabled {
            tx.execute("UPDATE webhook_deliveries SET state = 'canceled', lease_until = NULL, updated = $1 \
                 WHERE endpoint_id = $2 AND state = 'pending'", &args![endpoint.updated, &endpoint.id])
            .await?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

async fn event_types(db: &Db, endpoint_id: &str) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = db
        .fetch_all(
            "SELECT event_type FROM webhook_endpoint_events WHERE endpoint_id = $1 ORDER BY event_type",
            &args![endpoint_id],
        )
        .await?;
    Ok(rows.into_iter().map(|(t,)| t).collect())
}

pub async fn get_endpoint(
    db: &Db,
    caller: &Caller,
    id: &str,
) -> StoreResult<Option<WebhookEndpoint>> {
    let row: Option<EndpointRow> = db.fetch_optional(&format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1 AND account_id = $2 AND livemode = $3"
        ), &args![id, &caller.account_id, caller.mode.is_live()]).await?;
    match row {
        Some(row) => {
            let events = event_types(db, &row.id).await?;
            Ok(Some(row.into_endpoint(events)))
        }
        None => Ok(None),
    }
}

/// An endpoint by id alone, for the delivery workers.
pub async fn endpoint_by_id(db: &Db, id: &str) -> StoreResult<Option<WebhookEndpoint>> {
    let row: Option<EndpointRow> = db
        .fetch_optional(
            &format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1"),
            &args![id],
        )
        .await?;
    Ok(row.map(|r| r.into_endpoint(Vec::new())))
}

pub async fn list_endpoints(
    db: &Db,
    caller: &Caller,
    page: &PageRequest,
) -> StoreResult<Page<WebhookEndpoint>> {
    let mut select = Select::new(COLUMNS, "webhook_endpoints");
    select.scope("", &caller.account_id, caller.mode.is_live());
    select.condition("deleted = FALSE");
    let rows: Page<EndpointRow> = select.fetch_page(db, "id", page).await?;
    let mut items = Vec::with_capacity(rows.items.len());
    for row in rows.items {
        let events = event_types(db, &row.id).await?;
        items.push(row.into_endpoint(events));
    }
    Ok(Page {
        items,
        has_more: rows.has_more,
    })
}

pub async fn matching_endpoints(db: &Db, caller: &Caller, kind: &str) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = db
        .fetch_all(
            super::events::MATCHING_ENDPOINTS,
            &args![&caller.account_id, caller.mode.is_live(), kind],
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// New deliveries of an event, due at `now`.
pub async fn queue_deliveries(
    db: &Db,
    account_id: &str,
    event_id: &str,
    endpoints: &[String],
    now: i64,
) -> StoreResult<()> {
    db.write(async |tx| {
        for endpoint in endpoints {
            tx.execute(
                super::events::INSERT_DELIVERY,
                &args![
                    ids::new_id(prefix::WEBHOOK_DELIVERY, ids::now_ms()),
                    account_id,
                    endpoint,
                    event_id,
                    now
                ],
            )
            .await?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// Makes the endpoint's deliveries that ended failed (or canceled) since `since` pending again,
/// due now, with a fresh count of attempts.
pub async fn requeue_failed(db: &Db, endpoint_id: &str, since: i64, now: i64) -> StoreResult<u64> {
    db.execute(
        "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1, \
         lease_until = NULL, updated = $1 WHERE endpoint_id = $2 AND state IN ('failed', 'canceled') \
         AND updated >= $3",
        &args![now, endpoint_id, since],
    )
    .await
}

// ----- Delivering ----------------------------------------------------------------------------------

row_struct! {
    /// A delivery claimed by a worker, with what it needs to send it.
    #[derive(Debug, Clone)]
    pub struct ClaimedDelivery {
        pub id: String,
        pub endpoint_id: String,
        pub event_id: String,
        pub attempts: i64,
        /// The claim's lease: the token the attempt's result is saved with.
        pub lease_until: i64,
    }
}

/// Claims up to `limit` due deliveries for `lease` seconds: they are not due for anyone else
/// until the lease ends (a worker that dies mid-attempt leaves them to be claimed again then).
/// On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets processes claim side by side without waiting
/// on each other; SQLite has one writer, so the claiming UPDATE is atomic as it is.
pub async fn claim_due(
    db: &Db,
    now: i64,
    lease: i64,
    limit: i64,
) -> StoreResult<Vec<ClaimedDelivery>> {
    let lock = match db.engine() {
        super::Engine::Postgres => " FOR UPDATE SKIP LOCKED",
        super::Engine::Sqlite => "",
    };
    let sql = format!(
        "UPDATE webhook_deliveries SET lease_until = $1, attempts = attempts + 1, updated = $2 \
         WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $2 \
         AND (lease_until IS NULL OR lease_until <= $2) ORDER BY next_attempt_at LIMIT $3{lock}) \
         RETURNING id, endpoint_id, event_id, attempts, lease_until"
    );
    db.write_returning(&sql, &args![now + lease, now, limit])
        .await
}

/// How an attempt ended, for [`finish_attempt`].
#[derive(Debug, Clone)]
pub enum AttemptResult {
    Succeeded,
    /// Try again at this time.
    Retry {
        at: i64,
    },
    /// No more attempts; `disable_endpoint` says why the endpoint is disabled too, if it is.
    GiveUp {
        disable_endpoint: Option<String>,
    },
    /// Not attempted: the endpoint is gone or disabled, or the event was pruned.
    Canceled,
}

/// A delivery's attempt and what follows from it, to be saved.
#[derive(Debug, Clone)]
pub struct Finished {
    pub delivery: ClaimedDelivery,
    /// None when the delivery was canceled without an attempt (its endpoint is gone or
    /// disabled, or its event was pruned).
    pub attempt: Option<Attempt>,
    pub result: AttemptResult,
}

/// Saves a batch of attempts in one transaction (one commit, so one sync to disk, for the whole
/// batch): the attempts, their deliveries' new states and their endpoints' failure streaks. A
/// delivery changes only if its claim still holds its lease (a lease that ran out may have been
/// claimed again; then only the attempt itself is recorded). Each step is one statement for the
/// whole batch, so a batch costs a handful of round trips on PostgreSQL, not three per
/// delivery.
pub async fn finish_attempts(db: &Db, batch: &[Finished], now: i64) -> StoreResult<()> {
    if batch.is_empty() {
        return Ok(());
    }
    db.write(async |tx| {
        insert_attempts(tx, batch).await?;
        let held = release_deliveries(tx, batch, now).await?;
        let held: Vec<&Finished> = batch
            .iter()
            .filter(|f| held.contains(&f.delivery.id))
            .collect();
        update_failure_streaks(tx, &held, now).await?;
        for finished in held {
            if let AttemptResult::GiveUp {
                disable_endpoint: Some(reason),
            } = &finished.result
            {
                disable_endpoint(tx, &finished.delivery.endpoint_id, reason, now).await?;
            }
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// `(…), (…)`: `rows` groups of `width` placeholders, numbered on from `$after + 1`.
fn value_rows(rows: usize, width: usize, after: usize) -> String {
    let row = |r: usize| {
        let places: Vec<String> = (1..=width)
            .map(|c| format!("${}", after + r * width + c))
            .collect();
        format!("({})", places.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

/// Records the batch's attempts (those that were made) in one INSERT.
async fn insert_attempts(tx: &mut Tx<'_>, batch: &[Finished]) -> StoreResult<()> {
    let attempts: Vec<&Attempt> = batch.iter().filter_map(|f| f.attempt.as_ref()).collect();
    if attempts.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO webhook_attempts (id, delivery_id, endpoint_id, event_id, attempted_at, status_code, \
         latency_ms, error, response_excerpt) VALUES {}",
        value_rows(attempts.len(), 9, 0)
    );
    let mut bound = Vec::with_capacity(attempts.len() * 9);
    for a in attempts {
        bound.extend(args![
            &a.id,
            &a.delivery_id,
            &a.endpoint_id,
            &a.event_id,
            a.attempted_at,
            a.status_code,
            a.latency_ms,
            &a.error,
            &a.response_excerpt
        ]);
    }
    tx.execute(&sql, &bound).await?;
    Ok(())
}

/// Gives each delivery of the batch its new state, if its claim still holds its lease, in one
/// UPDATE; returns the ids of those whose claim held.
async fn release_deliveries(
    tx: &mut Tx<'_>,
    batch: &[Finished],
    now: i64,
) -> StoreResult<Vec<String>> {
    let sql = format!(
        "UPDATE webhook_deliveries SET state = v.column2, next_attempt_at = v.column3, lease_until = NULL, \
         updated = $1 FROM (VALUES {}) AS v WHERE webhook_deliveries.id = v.column1 \
         AND webhook_deliveries.state = 'pending' AND webhook_deliveries.lease_until = v.column4 \
         RETURNING webhook_deliveries.id",
        value_rows(batch.len(), 4, 1)
    );
    let mut bound = Vec::with_capacity(1 + batch.len() * 4);
    bound.push(Arg::from(now));
    for Finished {
        delivery, result, ..
    } in batch
    {
        let (state, next_attempt_at) = match result {
            AttemptResult::Succeeded => ("succeeded", now),
            AttemptResult::Retry { at } => ("pending", *at),
            AttemptResult::GiveUp { .. } => ("failed", now),
            AttemptResult::Canceled => ("canceled", now),
        };
        bound.extend(args![
            &delivery.id,
            state,
            next_attempt_at,
            delivery.lease_until
        ]);
    }
    let held: Vec<(String,)> = tx.fetch_all(&sql, &bound).await?;
    Ok(held.into_iter().map(|(id,)| id).collect())
}

/// Ends or starts each endpoint's failure streak from its attempts in the batch, taken in
/// order: the streak ends with a success, and a failure starts one unless one is running. So
/// an endpoint whose last attempt succeeded is not failing; one whose last attempt failed
/// after a success in the same batch has failed since now; one that only failed keeps its
/// streak's start, or starts one now.
async fn update_failure_streaks(tx: &mut Tx<'_>, held: &[&Finished], now: i64) -> StoreResult<()> {
    use std::collections::BTreeMap;
    #[derive(Clone, Copy, PartialEq)]
    enum Streak {
        Ended,
        Restarted,
        Continued,
    }
    let mut streaks: BTreeMap<&str, Streak> = BTreeMap::new();
    for finished in held {
        let endpoint = finished.delivery.endpoint_id.as_str();
        let streak = match (&finished.result, streaks.get(endpoint)) {
            (AttemptResult::Canceled, _) => continue,
            (AttemptResult::Succeeded, _) => Streak::Ended,
            (_, Some(Streak::Ended | Streak::Restarted)) => Streak::Restarted,
            (_, _) => Streak::Continued,
        };
        streaks.insert(endpoint, streak);
    }
    let updates = [
        (
            Streak::Ended,
            "UPDATE webhook_endpoints SET failing_since = NULL WHERE failing_since IS NOT NULL AND id IN",
        ),
        (
            Streak::Restarted,
            "UPDATE webhook_endpoints SET failing_since = $1 WHERE id IN",
        ),
        (
            Streak::Continued,
            "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $1) WHERE id IN",
        ),
    ];
    for (streak, update) in updates {
        let ids: Vec<&str> = streaks
            .iter()
            .filter(|(_, s)| **s == streak)
            .map(|(id, _)| *id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        // Only the updates that set a time take it, as `$1`.
        let mut bound = Vec::with_capacity(ids.len() + 1);
        if streak != Streak::Ended {
            bound.push(Arg::from(now));
        }
        let sql = format!("{update} {}", value_list(ids.len(), bound.len()));
        bound.extend(ids.into_iter().map(Arg::from));
        tx.execute(&sql, &bound).await?;
    }
    Ok(())
}

/// `($2, $3, …)`: `n` placeholders numbered on from `$after + 1`.
fn value_list(n: usize, after: usize) -> String {
    let places: Vec<String> = (1..=n).map(|i| format!("${}", after + i)).collect();
    format!("({})", places.join(", "))
}

/// Disables an endpoint whose deliveries gave up, and cancels its other pending deliveries.
async fn disable_endpoint(
    tx: &mut Tx<'_>,
    endpoint_id: &str,
    reason: &str,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $1, updated = $2 WHERE id = $3",
        &args![reason, now, endpoint_id],
    )
    .await?;
    tx.execute(
        "UPDATE webhook_deliveries SET state = 'canceled', lease_until = NULL, updated = $1 \
         WHERE endpoint_id = $2 AND state = 'pending'",
        &args![now, endpoint_id],
    )
    .await?;
    Ok(())
}

row_struct! {
    struct AttemptRow {
        id: String,
        delivery_id: String,
        endpoint_id: String,
        event_id: String,
        attempted_at: i64,
        status_code: Option<i64>,
        latency_ms: i64,
        error: Option<String>,
        response_excerpt: Option<String>,
    }
}

impl AttemptRow {
    fn into_attempt(self) -> Attempt {
        Attempt {
            id: self.id,
            delivery_id: self.delivery_id,
            endpoint_id: self.endpoint_id,
            event_id: self.event_id,
            attempted_at: self.attempted_at,
            status_code: self.status_code,
            latency_ms: self.latency_ms,
            error: self.error,
            response_excerpt: self.response_excerpt,
        }
    }
}

pub async fn list_attempts(
    db: &Db,
    endpoint_id: &str,
    event_id: Option<&str>,
    page: &PageRequest,
) -> StoreResult<Page<Attempt>> {
    let mut select = Select::new(
        "id, delivery_id, endpoint_id, event_id, attempted_at, status_code, latency_ms, error, response_excerpt",
        "webhook_attempts",
    );
    select.filter("endpoint_id = ?", endpoint_id.to_string());
    select.filter_text("event_id = ?", event_id);
    let rows: Page<AttemptRow> = select.fetch_page(db, "id", page).await?;
    Ok(rows.map(AttemptRow::into_attempt))
}

/// Every attempt to deliver an event, oldest first.
pub async fn attempts_for_event(db: &Db, event_id: &str) -> StoreResult<Vec<Attempt>> {
    let rows: Vec<AttemptRow> = db
        .fetch_all(
            "SELECT a.id, a.delivery_id, a.endpoint_id, a.event_id, a.attempted_at, a.status_code, \
             a.latency_ms, a.error, a.response_excerpt FROM webhook_deliveries d \
             JOIN webhook_attempts a ON a.delivery_id = d.id WHERE d.event_id = $1 ORDER BY a.id",
            &args![event_id],
        )
        .await?;
    Ok(rows.into_iter().map(AttemptRow::into_attempt).collect())
}
