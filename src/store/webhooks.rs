//! Webhook endpoints, the delivery outbox and the attempts log.

use sqlx::FromRow;

use super::query::{Arg, Select};
use super::{Db, StoreResult, on_reader, on_writer};
use crate::domain::accounts::Caller;
use crate::domain::ids::{self, prefix};
use crate::domain::list::{Page, PageRequest};
use crate::domain::metadata::Metadata;
use crate::domain::webhooks::{Attempt, WebhookEndpoint};

#[derive(FromRow)]
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
    on_writer!(db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, account_id, livemode, url, description, metadata, status, \
             disabled_reason, secret, previous_secret, previous_secret_until, failing_since, deleted, created, updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&endpoint.id)
        .bind(&caller.account_id)
        .bind(endpoint.livemode)
        .bind(&endpoint.url)
        .bind(endpoint.description.clone())
        .bind(endpoint.metadata.to_json())
        .bind(if endpoint.enabled { "enabled" } else { "disabled" })
        .bind(endpoint.disabled_reason.clone())
        .bind(&endpoint.secret)
        .bind(endpoint.previous_secret.clone())
        .bind(endpoint.previous_secret_until)
        .bind(endpoint.failing_since)
        .bind(endpoint.deleted)
        .bind(endpoint.created)
        .bind(endpoint.updated)
        .execute(&mut *tx)
        .await?;
        for event_type in &endpoint.enabled_events {
            sqlx::query(
                "INSERT INTO webhook_endpoint_events (endpoint_id, event_type) VALUES ($1, $2)",
            )
            .bind(&endpoint.id)
            .bind(event_type)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    })?;
    Ok(())
}

/// Saves every field and the event types; a disabled or deleted endpoint's pending deliveries
/// are canceled in the same transaction.
pub async fn update_endpoint(db: &Db, endpoint: &WebhookEndpoint) -> StoreResult<()> {
    on_writer!(db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "UPDATE webhook_endpoints SET url = $1, description = $2, metadata = $3, status = $4, \
             disabled_reason = $5, secret = $6, previous_secret = $7, previous_secret_until = $8, \
             failing_since = $9, deleted = $10, updated = $11 WHERE id = $12",
        )
        .bind(&endpoint.url)
        .bind(endpoint.description.clone())
        .bind(endpoint.metadata.to_json())
        .bind(if endpoint.enabled {
            "enabled"
        } else {
            "disabled"
        })
        .bind(endpoint.disabled_reason.clone())
        .bind(&endpoint.secret)
        .bind(endpoint.previous_secret.clone())
        .bind(endpoint.previous_secret_until)
        .bind(endpoint.failing_since)
        .bind(endpoint.deleted)
        .bind(endpoint.updated)
        .bind(&endpoint.id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM webhook_endpoint_events WHERE endpoint_id = $1")
            .bind(&endpoint.id)
            .execute(&mut *tx)
            .await?;
        for event_type in &endpoint.enabled_events {
            sqlx::query(
                "INSERT INTO webhook_endpoint_events (endpoint_id, event_type) VALUES ($1, $2)",
            )
            .bind(&endpoint.id)
            .bind(event_type)
            .execute(&mut *tx)
            .await?;
        }
        if !endpoint.enabled {
            sqlx::query(
                "UPDATE webhook_deliveries SET state = 'canceled', lease_until = NULL, updated = $1 \
                 WHERE endpoint_id = $2 AND state = 'pending'",
            )
            .bind(endpoint.updated)
            .bind(&endpoint.id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    })?;
    Ok(())
}

async fn event_types(db: &Db, endpoint_id: &str) -> StoreResult<Vec<String>> {
    Ok(on_reader!(db, |pool| {
        sqlx::query_scalar(
            "SELECT event_type FROM webhook_endpoint_events WHERE endpoint_id = $1 ORDER BY event_type",
        )
        .bind(endpoint_id)
        .fetch_all(pool)
        .await
    })?)
}

pub async fn get_endpoint(
    db: &Db,
    caller: &Caller,
    id: &str,
) -> StoreResult<Option<WebhookEndpoint>> {
    let row: Option<EndpointRow> = on_reader!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1 AND account_id = $2 AND livemode = $3"
        )))
        .bind(id)
        .bind(&caller.account_id)
        .bind(caller.mode.is_live())
        .fetch_optional(pool)
        .await
    })?;
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
    let row: Option<EndpointRow> = on_reader!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(pool)
        .await
    })?;
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
    Ok(on_reader!(db, |pool| {
        sqlx::query_scalar(super::events::MATCHING_ENDPOINTS)
            .bind(&caller.account_id)
            .bind(caller.mode.is_live())
            .bind(kind)
            .fetch_all(pool)
            .await
    })?)
}

/// New deliveries of an event, due at `now`.
pub async fn queue_deliveries(
    db: &Db,
    account_id: &str,
    event_id: &str,
    endpoints: &[String],
    now: i64,
) -> StoreResult<()> {
    on_writer!(db, |pool| {
        let mut tx = pool.begin().await?;
        for endpoint in endpoints {
            sqlx::query(super::events::INSERT_DELIVERY)
                .bind(ids::new_id(prefix::WEBHOOK_DELIVERY, ids::now_ms()))
                .bind(account_id)
                .bind(endpoint)
                .bind(event_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    })?;
    Ok(())
}

/// Makes the endpoint's deliveries that ended failed (or canceled) since `since` pending again,
/// due now, with a fresh count of attempts.
pub async fn requeue_failed(db: &Db, endpoint_id: &str, since: i64, now: i64) -> StoreResult<u64> {
    Ok(on_writer!(db, |pool| {
        sqlx::query(
            "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1, \
             lease_until = NULL, updated = $1 WHERE endpoint_id = $2 AND state IN ('failed', 'canceled') \
             AND updated >= $3",
        )
        .bind(now)
        .bind(endpoint_id)
        .bind(since)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?)
}

// ----- Delivering ----------------------------------------------------------------------------------

/// A delivery claimed by a worker, with what it needs to send it.
#[derive(Debug, Clone, FromRow)]
pub struct ClaimedDelivery {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub attempts: i64,
    /// The claim's lease: the token the attempt's result is saved with.
    pub lease_until: i64,
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
    Ok(on_writer!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(now + lease)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await
    })?)
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
/// batch): each attempt, its delivery's new state and its endpoint's failure streak. A delivery
/// changes only if its claim still holds its lease (a lease that ran out may have been claimed
/// again; then only the attempt itself is recorded).
pub async fn finish_attempts(db: &Db, batch: &[Finished], now: i64) -> StoreResult<()> {
    if batch.is_empty() {
        return Ok(());
    }
    on_writer!(db, |pool| {
        let mut tx = pool.begin().await?;
        for Finished {
            delivery,
            attempt,
            result,
        } in batch
        {
            if let Some(attempt) = attempt {
                sqlx::query(
                    "INSERT INTO webhook_attempts (id, delivery_id, endpoint_id, event_id, attempted_at, status_code, \
                     latency_ms, error, response_excerpt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&attempt.id)
                .bind(&attempt.delivery_id)
                .bind(&attempt.endpoint_id)
                .bind(&attempt.event_id)
                .bind(attempt.attempted_at)
                .bind(attempt.status_code)
                .bind(attempt.latency_ms)
                .bind(attempt.error.clone())
                .bind(attempt.response_excerpt.clone())
                .execute(&mut *tx)
                .await?;
            }
            let (state, next_attempt_at) = match result {
                AttemptResult::Succeeded => ("succeeded", now),
                AttemptResult::Retry { at } => ("pending", *at),
                AttemptResult::GiveUp { .. } => ("failed", now),
                AttemptResult::Canceled => ("canceled", now),
            };
            let still_held = sqlx::query(
                "UPDATE webhook_deliveries SET state = $1, next_attempt_at = $2, lease_until = NULL, updated = $3 \
                 WHERE id = $4 AND state = 'pending' AND lease_until = $5",
            )
            .bind(state)
            .bind(next_attempt_at)
            .bind(now)
            .bind(&delivery.id)
            .bind(delivery.lease_until)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !still_held {
                continue;
            }
            match result {
                AttemptResult::Canceled => continue,
                AttemptResult::Succeeded => {
                    sqlx::query(
                        "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
                    )
                    .bind(&delivery.endpoint_id)
                    .execute(&mut *tx)
                    .await?;
                }
                _ => {
                    sqlx::query(
                        "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $1) WHERE id = $2",
                    )
                    .bind(now)
                    .bind(&delivery.endpoint_id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            if let AttemptResult::GiveUp {
                disable_endpoint: Some(reason),
            } = result
            {
                sqlx::query(
                    "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $1, updated = $2 WHERE id = $3",
                )
                .bind(reason)
                .bind(now)
                .bind(&delivery.endpoint_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE webhook_deliveries SET state = 'canceled', lease_until = NULL, updated = $1 \
                     WHERE endpoint_id = $2 AND state = 'pending'",
                )
                .bind(now)
                .bind(&delivery.endpoint_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await
    })?;
    Ok(())
}

#[derive(FromRow)]
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
    select.filter("endpoint_id = ?", Arg::Text(endpoint_id.to_string()));
    select.filter_text("event_id = ?", event_id);
    let rows: Page<AttemptRow> = select.fetch_page(db, "id", page).await?;
    Ok(rows.map(AttemptRow::into_attempt))
}

/// Every attempt to deliver an event, oldest first.
pub async fn attempts_for_event(db: &Db, event_id: &str) -> StoreResult<Vec<Attempt>> {
    let rows: Vec<AttemptRow> = on_reader!(db, |pool| {
        sqlx::query_as(
            "SELECT a.id, a.delivery_id, a.endpoint_id, a.event_id, a.attempted_at, a.status_code, \
             a.latency_ms, a.error, a.response_excerpt FROM webhook_deliveries d \
             JOIN webhook_attempts a ON a.delivery_id = d.id WHERE d.event_id = $1 ORDER BY a.id",
        )
        .bind(event_id)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows.into_iter().map(AttemptRow::into_attempt).collect())
}
