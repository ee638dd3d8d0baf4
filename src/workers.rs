//! Background work inside `kassa serve`. Everything a worker needs to coordinate with other
//! processes lives in the database, so any number of servers can run these at once.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::domain::checkout;
use crate::store::Db;

/// How often the sweeper looks for sessions past their deadline. Reads expire overdue sessions
/// on their own, so this only bounds how late the `checkout.session.expired` event can be.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(5);
/// Sessions expired per sweep step; the step repeats while it finds a full batch.
const SWEEP_BATCH: i64 = 500;
/// Events past retention deleted per sweep, at most.
const PRUNE_BATCH: i64 = 1000;

/// Expires open sessions past `expires_at`, deletes test clocks past `deletes_after`, and
/// forgets idempotency keys and events past retention, until `stop` is cancelled.
pub async fn expiry_sweeper(
    db: Db,
    clock: SharedClock,
    public_url: String,
    stop: CancellationToken,
) {
    loop {
        loop {
            match checkout::expire_overdue(&db, clock.now(), &public_url, SWEEP_BATCH).await {
                Ok(expired) if expired as i64 == SWEEP_BATCH => continue,
                Ok(expired) => {
                    if expired > 0 {
                        tracing::info!(expired, "expired overdue checkout sessions");
                    }
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, "expiry sweep failed; will retry");
                    break;
                }
            }
        }
        if let Err(error) = crate::domain::idempotency::prune(&db, clock.now()).await {
            tracing::warn!(%error, "pruning idempotency keys failed; will retry");
        }
        if let Err(error) =
            crate::domain::test_clocks::delete_expired(&db, clock.now(), &public_url).await
        {
            tracing::warn!(%error, "deleting expired test clocks failed; will retry");
        }
        let retention = crate::domain::webhooks::EVENT_RETENTION_SECONDS;
        if let Err(error) =
            crate::store::events::prune(&db, clock.now() - retention, PRUNE_BATCH).await
        {
            tracing::warn!(%error, "pruning old events failed; will retry");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(SWEEP_INTERVAL) => {}
        }
    }
}

/// Runs the billing engine every `every` until `stop` is cancelled: renewals, finalizations,
/// charges and retries due at the clock's time (`domain::billing::engine`), each row claimed
/// for `lease` seconds, and refunds a stopped server left pending (`domain::refunds`).
pub async fn billing(
    db: Db,
    clock: SharedClock,
    public_url: String,
    every: Duration,
    lease: i64,
    stop: CancellationToken,
) {
    let processor = crate::domain::billing::engine::SimulatedProcessor;
    loop {
        let now = clock.now();
        match crate::domain::billing::engine::run_due(&db, &processor, now, lease, &public_url)
            .await
        {
            Ok(ran) if ran != Default::default() => tracing::info!(?ran, "billing run"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "billing run failed; will retry"),
        }
        match crate::domain::refunds::recover_pending(&db, &processor, clock.now(), &public_url)
            .await
        {
            Ok(0) => {}
            Ok(recovered) => tracing::info!(recovered, "pending refunds finished"),
            Err(error) => tracing::warn!(%error, "finishing pending refunds failed; will retry"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// How often each server looks, by default, for test clocks being advanced.
pub const TEST_CLOCK_POLL: Duration = Duration::from_millis(250);

/// Advances the test clocks that `advance` set moving (`domain::test_clocks`), on any server,
/// every `every` until `stop` is cancelled, each claimed for `lease` seconds.
pub async fn test_clocks(
    db: Db,
    clock: SharedClock,
    public_url: String,
    every: Duration,
    lease: i64,
    stop: CancellationToken,
) {
    let processor = crate::domain::billing::engine::SimulatedProcessor;
    loop {
        let now = clock.now();
        match crate::domain::test_clocks::run_advancing(&db, &processor, now, lease, &public_url)
            .await
        {
            Ok(advanced) if advanced.clocks > 0 => {
                tracing::info!(clocks = advanced.clocks, ran = ?advanced.ran, "test clocks advanced");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "advancing test clocks failed; will retry"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}
