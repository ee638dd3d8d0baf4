//! Leases on the event stream slots of each key (`event_stream_leases`), which count a key's
//! open streams across every server.
//!
//! A key has a fixed number of slots, rows keyed by `(key_id, slot)`; a stream claims a slot
//! whose lease has expired (or that has no row yet). The primary key makes the claim safe
//! between servers with no engine-specific locking: two servers claiming the same slot at once
//! conflict, and the second one's upsert finds a live lease and takes nothing.

use super::{Db, StoreResult, args};

/// Takes slot `$2` of key `$1` for stream `$3` until `$4`, if the slot is free: no row, or a
/// lease that expired by `$5`.
const CLAIM: &str = "INSERT INTO event_stream_leases (key_id, slot, stream_id, expires) \
     VALUES ($1, $2, $3, $4) \
     ON CONFLICT (key_id, slot) DO UPDATE SET stream_id = excluded.stream_id, \
     expires = excluded.expires WHERE event_stream_leases.expires <= $5";

/// Claims the first free slot of `key_id` below `slots` for `stream_id`, leased until `expires`;
/// `None` when every slot is held by a live lease.
pub async fn claim(
    db: &Db,
    key_id: &str,
    stream_id: &str,
    slots: i64,
    now: i64,
    expires: i64,
) -> StoreResult<Option<i64>> {
    db.write(async |tx| {
        for slot in 0..slots {
            let claimed = tx
                .execute(CLAIM, &args![key_id, slot, stream_id, expires, now])
                .await?
                == 1;
            if claimed {
                return Ok(Some(slot));
            }
        }
        Ok(None)
    })
    .await
}

/// Extends the lease of `stream_id` on its slot to `expires`. False when the stream must end:
/// its key was revoked (checked here too, as a backstop for a missed key change), or its lease
/// lapsed and another stream took the slot.
pub async fn renew(
    db: &Db,
    key_id: &str,
    slot: i64,
    stream_id: &str,
    expires: i64,
) -> StoreResult<bool> {
    let affected = db
        .execute(
            "UPDATE event_stream_leases SET expires = $1 \
             WHERE key_id = $2 AND slot = $3 AND stream_id = $4 \
             AND EXISTS (SELECT 1 FROM api_keys WHERE id = $2 AND revoked IS NULL)",
            &args![expires, key_id, slot, stream_id],
        )
        .await?;
    Ok(affected == 1)
}

/// Frees the slot held by `stream_id` (if it still holds it).
pub async fn release(db: &Db, key_id: &str, slot: i64, stream_id: &str) -> StoreResult<()> {
    db.execute(
        "DELETE FROM event_stream_leases WHERE key_id = $1 AND slot = $2 AND stream_id = $3",
        &args![key_id, slot, stream_id],
    )
    .await?;
    Ok(())
}
