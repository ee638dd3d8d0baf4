//! Fault drills: kassa crashed with `kill -9` under load and while test clocks renew
//! subscriptions, a webhook receiver down while events happen, two `kassa serve` processes on
//! one PostgreSQL, and hostile clients holding half-sent requests past the open-file limit.
//! Each drill runs the built binary as real processes and
//! checks afterwards, from the database and from a real receiver that verifies every
//! signature, that nothing acknowledged was lost and nothing happened twice (the slow-client
//! drill checks what the real clients got while the attack ran).
//!
//! `cargo test --test drills` runs them in a short form; `drills/run.sh <drill>` runs the long
//! form (`KASSA_DRILL_FULL=1`). See DRILLS.md.

#[allow(dead_code, unused_imports, unused_macros)]
#[path = "../tests/it/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../tests/it/receiver.rs"]
mod receiver;

mod kill_9;
mod receiver_outage;
mod renewals;
mod shop;
mod slow_clients;
mod two_nodes;

/// Whether the long form was asked for.
pub fn full() -> bool {
    std::env::var_os("KASSA_DRILL_FULL").is_some_and(|v| !v.is_empty() && v != "0")
}
