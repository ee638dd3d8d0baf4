//! Receipt emails: queued with the events they tell of (the outbox of [`super::events`]), then
//! claimed with a lease and sent by [`crate::mail`], at least once.

use serde_json::Value;

use super::{Db, Statement, StoreResult, args, row_struct};
use crate::domain::accounts::Caller;
use crate::domain::events::Event;
use crate::domain::ids::{self, prefix};

/// A receipt for a payment: to the charge's `receipt_email`, as the event's object gives it,
/// while the account sends receipts.
const QUEUE_RECEIPT: &str = "INSERT INTO emails (id, account_id, livemode, event_id, kind, \
     object_id, recipient, state, attempts, next_attempt_at, created) \
     SELECT $1, $2, $3, $4, 'receipt', $5, $6, 'pending', 0, $7, $7 FROM accounts \
     WHERE id = $2 AND receipt_emails";

/// A refund's email: to its charge's `receipt_email`, while the account sends receipts.
const QUEUE_REFUND: &str = "INSERT INTO emails (id, account_id, livemode, event_id, kind, \
     object_id, recipient, state, attempts, next_attempt_at, created) \
     SELECT $1, c.account_id, c.livemode, $2, 'refund', $3, c.receipt_email, 'pending', 0, $4, $4 \
     FROM charges c JOIN accounts a ON a.id = c.account_id \
     WHERE c.id = $5 AND a.receipt_emails AND c.receipt_email IS NOT NULL";

/// The statement that queues the email `event` calls for, if any: a receipt for each
/// `charge.succeeded` with an address, a refund email for each `refund.created` that
/// succeeded. Run in the event's transaction, so that no payment is recorded without its
/// email queued, or the reverse.
pub fn queue_for(event: &Event) -> Option<Statement<'_>> {
    let object = &event.object;
    let id = ids::new_id(prefix::EMAIL, ids::now_ms());
    match event.kind.as_str() {
        "charge.succeeded" => {
            let recipient = object["receipt_email"].as_str()?.to_string();
            Some(Statement::new(
                QUEUE_RECEIPT,
                args![
                    id,
                    &event.account_id,
                    event.livemode,
                    &event.id,
                    &event.object_id,
                    recipient,
                    event.created
                ],
            ))
        }
        "refund.created" if object["status"] == "succeeded" => {
            let charge = match &object["charge"] {
                Value::String(charge) => charge.clone(),
                _ => return None,
            };
            Some(Statement::new(
                QUEUE_REFUND,
                args![id, &event.id, &event.object_id, event.created, charge],
            ))
        }
        _ => None,
    }
}

row_struct! {
    /// An email claimed for sending.
    pub struct ClaimedEmail {
        pub id: String,
        pub account_id: String,
        pub livemode: bool,
        /// `receipt` or `refund`.
        pub kind: String,
        /// The charge (a receipt) or the refund.
        pub object_id: String,
        pub recipient: String,
        /// Attempts so far, this one included.
        pub attempts: i64,
        pub lease_until: i64,
    }
}

/// Claims up to `limit` due emails for `lease` seconds, as webhook deliveries are claimed
/// (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so that servers claim side by side).
pub async fn claim_due(
    db: &Db,
    now: i64,
    lease: i64,
    limit: i64,
) -> StoreResult<Vec<ClaimedEmail>> {
    let lock = match db.engine() {
        super::Engine::Postgres => " FOR UPDATE SKIP LOCKED",
        super::Engine::Sqlite => "",
    };
    let sql = format!(
        "UPDATE emails SET lease_until = $1, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM emails WHERE state = 'pending' AND next_attempt_at <= $2 \
         AND (lease_until IS NULL OR lease_until <= $2) ORDER BY next_attempt_at LIMIT $3{lock}) \
         RETURNING id, account_id, livemode, kind, object_id, recipient, attempts, lease_until"
    );
    db.write_returning(&sql, &args![now + lease, now, limit])
        .await
}

/// How an attempt to send an email ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The SMTP server accepted it.
    Accepted,
    /// Refused or unreachable: tried again at `at`.
    Retry { at: i64, error: String },
    /// Refused for good, or every attempt failed.
    Failed { error: String },
    /// Not to be sent by this server's settings.
    Skipped { why: &'static str },
}

/// Marks every email due at `now` and not claimed `skipped`, in one statement: for a server
/// with no SMTP server to send through. Returns how many.
pub async fn skip_due(db: &Db, now: i64) -> StoreResult<u64> {
    db.execute(
        "UPDATE emails SET state = 'skipped', last_error = 'no SMTP server is configured' \
         WHERE state = 'pending' AND next_attempt_at <= $1 \
         AND (lease_until IS NULL OR lease_until <= $1)",
        &args![now],
    )
    .await
}

/// Writes how `email`'s attempt ended, if its claim still holds (a lease that ran out may have
/// been claimed again meanwhile).
pub async fn finish(db: &Db, email: &ClaimedEmail, sent: &Sent, now: i64) -> StoreResult<()> {
    let (state, next, error, sent_at) = match sent {
        Sent::Accepted => ("sent", now, None, Some(now)),
        Sent::Retry { at, error } => ("pending", *at, Some(error.as_str()), None),
        Sent::Failed { error } => ("failed", now, Some(error.as_str()), None),
        Sent::Skipped { why } => ("skipped", now, Some(*why), None),
    };
    db.execute(
        "UPDATE emails SET state = $1, next_attempt_at = $2, last_error = $3, sent_at = $4, \
         lease_until = NULL WHERE id = $5 AND lease_until = $6",
        &args![state, next, error, sent_at, &email.id, email.lease_until],
    )
    .await?;
    Ok(())
}

row_struct! {
    /// An email and how its sending went.
    pub struct EmailRow {
        pub id: String,
        /// `receipt` or `refund`.
        pub kind: String,
        pub recipient: String,
        /// `pending`, `sent`, `failed` or `skipped`.
        pub state: String,
    }
}

/// The emails about `object_id` (a charge or a refund) of the caller's account and mode,
/// oldest first.
pub async fn of_object(db: &Db, caller: &Caller, object_id: &str) -> StoreResult<Vec<EmailRow>> {
    let sql = format!(
        "SELECT {} FROM emails WHERE object_id = $1 AND account_id = $2 AND livemode = $3 \
         ORDER BY id",
        EmailRow::COLUMNS
    );
    db.fetch_all(
        &sql,
        &args![object_id, &caller.account_id, caller.mode.is_live()],
    )
    .await
}

/// Whether an account emails receipts.
pub async fn receipt_emails(db: &Db, account_id: &str) -> StoreResult<bool> {
    let row: Option<(bool,)> = db
        .fetch_optional(
            "SELECT receipt_emails FROM accounts WHERE id = $1",
            &args![account_id],
        )
        .await?;
    Ok(row.is_none_or(|(on,)| on))
}

pub async fn set_receipt_emails(db: &Db, account_id: &str, on: bool) -> StoreResult<()> {
    db.execute(
        "UPDATE accounts SET receipt_emails = $1 WHERE id = $2",
        &args![on, account_id],
    )
    .await?;
    Ok(())
}
