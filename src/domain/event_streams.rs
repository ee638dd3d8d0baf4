//! Event streams (`GET /v1/events/stream`, what `kassa listen` reads) and their limit: at most
//! [`MAX_PER_KEY`] open at once with one key, counted across every server on the database.
//!
//! An open stream holds a lease on one of its key's slots, renewed every [`RENEW_EVERY`] while
//! it stays open and freed when it closes; the streams of a server that stopped without closing
//! them stop counting once their leases lapse, [`LEASE_SECONDS`] after the last renewal.

use std::time::Duration;

use super::DomainError;
use super::accounts::Caller;
use super::ids;
use crate::store::{self, Db};

/// Streams open at once with one key, at most.
pub const MAX_PER_KEY: i64 = 5;
/// How long a stream's lease lasts after each renewal (seconds of the clock).
pub const LEASE_SECONDS: i64 = 30;
/// How often an open stream renews its lease: three renewals fit in a lease, so a slow
/// renewal or two do not lose it.
pub const RENEW_EVERY: Duration = Duration::from_secs(10);

/// The slot an open stream holds, until [`StreamLease::release`] or the lease is dropped (a
/// client that went away).
#[derive(Debug)]
pub struct StreamLease {
    db: Db,
    key_id: String,
    slot: i64,
    stream_id: String,
    released: bool,
}

/// Takes a slot for a new stream of `caller`'s key; `None` when the key already has
/// [`MAX_PER_KEY`] streams open.
pub async fn open(db: &Db, caller: &Caller, now: i64) -> Result<Option<StreamLease>, DomainError> {
    let stream_id = ids::random_base62(24);
    let slot = store::event_streams::claim(
        db,
        &caller.key_id,
        &stream_id,
        MAX_PER_KEY,
        now,
        now + LEASE_SECONDS,
    )
    .await?;
    Ok(slot.map(|slot| StreamLease {
        db: db.clone(),
        key_id: caller.key_id.clone(),
        slot,
        stream_id,
        released: false,
    }))
}

impl StreamLease {
    /// Extends the lease. False when the stream must end: its key has been revoked, or the
    /// lease lapsed (the database was out of reach too long) and another stream took the slot.
    pub async fn renew(&self, now: i64) -> Result<bool, DomainError> {
        Ok(store::event_streams::renew(
            &self.db,
            &self.key_id,
            self.slot,
            &self.stream_id,
            now + LEASE_SECONDS,
        )
        .await?)
    }

    /// Frees the slot now, for a stream the server ends: on a graceful shutdown the slot is
    /// free before the server stops, so clients that reconnect to another server (or to this
    /// one restarted) find it free.
    pub async fn release(&mut self) {
        if !std::mem::replace(&mut self.released, true) {
            free(&self.db, &self.key_id, self.slot, &self.stream_id).await;
        }
    }
}

async fn free(db: &Db, key_id: &str, slot: i64, stream_id: &str) {
    if let Err(error) = store::event_streams::release(db, key_id, slot, stream_id).await {
        tracing::warn!(%error, "freeing an event stream's slot failed; it lapses on its own");
    }
}

impl Drop for StreamLease {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // the process is ending; the lease lapses on its own
        };
        let (db, key_id, slot, stream_id) = (
            self.db.clone(),
            std::mem::take(&mut self.key_id),
            self.slot,
            std::mem::take(&mut self.stream_id),
        );
        runtime.spawn(async move { free(&db, &key_id, slot, &stream_id).await });
    }
}
