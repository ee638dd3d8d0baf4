//! Idempotency keys (`Idempotency-Key` on POST): the first request with a key runs; every
//! retry with the same key and the same request gets the first response back; a different
//! request with the key is refused; a retry while the first is still running waits its turn
//! (409). All of it lives in the database, so it holds across processes.

use sha2::{Digest, Sha256};

use super::DomainError;
use super::accounts::Caller;
use crate::store::{self, Db};

/// How long a key is remembered.
pub const RETENTION_SECONDS: i64 = 24 * 3600;
/// How long a claim by a request in flight holds; after it the request is taken to have died
/// (a crashed process) and the key may run again.
pub const LEASE_SECONDS: i64 = 60;
pub const MAX_KEY_CHARS: usize = 255;

/// What to do with a request that carries an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's: run it, then [`record`] the response.
    Run,
    /// The key already answered this request: send this again.
    Replay { status: u16, body: String },
    /// The first request with this key is still running.
    InFlight,
    /// The key was used for another endpoint.
    OtherRoute { route: String },
    /// The key was used with other parameters.
    OtherParameters,
}

/// The fingerprint of a request: its route and exact body.
pub fn request_hash(route: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(route.as_bytes());
    hasher.update([0]);
    hasher.update(body);
    hex::encode(hasher.finalize())
}

pub fn validate_key(key: &str) -> Result<(), DomainError> {
    if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
        return Err(DomainError::invalid(
            "Idempotency-Key",
            format!("must be 1 to {MAX_KEY_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Claims `key` for a request, or says how the key was used before.
pub async fn claim(
    db: &Db,
    caller: &Caller,
    key: &str,
    route: &str,
    hash: &str,
    now: i64,
) -> Result<Claim, DomainError> {
    validate_key(key)?;
    let livemode = caller.mode.is_live();
    if store::idempotency::insert_claim(db, &caller.account_id, livemode, key, route, hash, now)
        .await?
    {
        return Ok(Claim::Run);
    }
    let Some(stored) = store::idempotency::get(db, &caller.account_id, livemode, key).await? else {
        // Forgotten between the insert and the read: claim again.
        return Ok(
            if store::idempotency::insert_claim(
                db,
                &caller.account_id,
                livemode,
                key,
                route,
                hash,
                now,
            )
            .await?
            {
                Claim::Run
            } else {
                Claim::InFlight
            },
        );
    };
    if stored.created < now - RETENTION_SECONDS {
        // Past retention the key is new again.
        return Ok(
            if store::idempotency::retake(
                db,
                &caller.account_id,
                livemode,
                key,
                route,
                hash,
                now,
                None,
            )
            .await?
            {
                Claim::Run
            } else {
                Claim::InFlight
            },
        );
    }
    if stored.route != route {
        return Ok(Claim::OtherRoute {
            route: stored.route,
        });
    }
    if stored.request_hash != hash {
        return Ok(Claim::OtherParameters);
    }
    match (stored.status, stored.body) {
        (Some(status), Some(body)) => Ok(Claim::Replay {
            status: status as u16,
            body,
        }),
        _ if stored.claimed_at < now - LEASE_SECONDS => {
            let taken = store::idempotency::retake(
                db,
                &caller.account_id,
                livemode,
                key,
                route,
                hash,
                now,
                Some(stored.claimed_at),
            )
            .await?;
            Ok(if taken { Claim::Run } else { Claim::InFlight })
        }
        _ => Ok(Claim::InFlight),
    }
}

/// Remembers the response to a claimed key.
pub async fn record(
    db: &Db,
    caller: &Caller,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), DomainError> {
    store::idempotency::record(
        db,
        &caller.account_id,
        caller.mode.is_live(),
        key,
        i64::from(status),
        body,
    )
    .await?;
    Ok(())
}

/// Forgets a claimed key whose request is not to be remembered (it failed validation), so a
/// corrected retry can use it.
pub async fn release(db: &Db, caller: &Caller, key: &str) -> Result<(), DomainError> {
    store::idempotency::delete(db, &caller.account_id, caller.mode.is_live(), key).await?;
    Ok(())
}

/// Deletes keys past retention.
pub async fn prune(db: &Db, now: i64) -> Result<u64, DomainError> {
    Ok(store::idempotency::prune(db, now - RETENTION_SECONDS).await?)
}
