//! Test clocks (Stripe's `test_helpers.test_clock`; decisions §11): a time of its own for the
//! customers created on it and their subscriptions and invoices, so that a test goes through a
//! year of renewals in seconds. Test mode only, without Stripe's caps.
//!
//! `advance` answers at once with `status=advancing`; the clock worker of any server claims the
//! clock (a lease in real time), runs every step of its objects due up to the new time in time
//! order (renewals, finalizations, charges, retries, trial ends, cancellations, the expiry of
//! open checkout sessions), each at its own time, then sets the clock `ready` and writes `test_helpers.test_clock.ready`. The
//! time reached is stored as it goes, so a server that takes over after a crash goes on from
//! there; each step is the billing engine's own, idempotent under its claim.

use serde_json::Value;

use super::DomainError;
use super::accounts::Caller;
use super::billing::engine::{self, Processor};
use super::checkout;
use super::events::new_event;
use super::ids::{self, prefix};
use super::list::{Page, PageRequest};
use super::validate;
use crate::objects;
use crate::store::{self, Db};

/// How long a clock lives: Stripe deletes a clock, and what is on it, 30 days after creation.
pub const LIFETIME: i64 = 30 * 86_400;
/// How far ahead of now a clock may go, in seconds: a hundred years.
pub const MAX_AHEAD: i64 = 100 * 365 * 86_400;
/// Clocks advanced per pass of the worker.
const BATCH: i64 = 10;

/// A test clock's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum TestClockStatus {
    Ready,
    Advancing,
    /// Stripe's status for a clock whose advance failed; kassa retries instead, so it only
    /// reads it back if a store says so.
    InternalFailure,
}

impl TestClockStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TestClockStatus::Ready => "ready",
            TestClockStatus::Advancing => "advancing",
            TestClockStatus::InternalFailure => "internal_failure",
        }
    }

    pub fn parse(value: &str) -> TestClockStatus {
        match value {
            "advancing" => TestClockStatus::Advancing,
            "ready" => TestClockStatus::Ready,
            _ => TestClockStatus::InternalFailure,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestClock {
    pub id: String,
    pub livemode: bool,
    pub name: Option<String>,
    /// The clock's time, in unix seconds.
    pub frozen_time: i64,
    pub status: TestClockStatus,
    /// While advancing: the time it is moving to.
    pub target_frozen_time: Option<i64>,
    /// When kassa deletes it (real time, unix seconds).
    pub deletes_after: i64,
    pub created: i64,
}

impl TestClock {
    /// Stripe's `test_helpers.test_clock` object.
    pub fn object(&self) -> Value {
        objects::to_value(&objects::TestClock::new(self))
    }
}

/// Creates a clock at `frozen_time` (unix seconds, after 1970 and at most [`MAX_AHEAD`] from
/// now), named `name` (at most 300 characters), with `test_helpers.test_clock.created`. `now`
/// is real time.
pub async fn create(
    db: &Db,
    caller: &Caller,
    frozen_time: i64,
    name: Option<String>,
    now: i64,
) -> Result<TestClock, DomainError> {
    check_time(frozen_time, now)?;
    let clock = TestClock {
        id: ids::new_id(prefix::TEST_CLOCK, ids::now_ms()),
        livemode: caller.mode.is_live(),
        name: validate::optional_text(name, "name", 300)?,
        frozen_time,
        status: TestClockStatus::Ready,
        target_frozen_time: None,
        deletes_after: now + LIFETIME,
        created: now,
    };
    let created = clock.event(caller, "test_helpers.test_clock.created", now);
    store::test_clocks::insert(db, &caller.account_id, &clock, &created).await?;
    Ok(clock)
}

/// A clock's time must be after 1970 and at most [`MAX_AHEAD`] after now: far enough for any
/// test, and within what calendars compute.
fn check_time(frozen_time: i64, now: i64) -> Result<(), DomainError> {
    if frozen_time <= 0 || frozen_time > now + MAX_AHEAD {
        return Err(DomainError::invalid(
            "frozen_time",
            "must be a unix time in seconds after 1970 and at most 100 years from now",
        ));
    }
    Ok(())
}

impl TestClock {
    fn event(&self, caller: &Caller, kind: &str, now: i64) -> super::events::Event {
        new_event(
            &caller.account_id,
            self.livemode,
            kind,
            &self.id,
            self.object(),
            now,
        )
    }
}

pub async fn get(db: &Db, caller: &Caller, id: &str) -> Result<TestClock, DomainError> {
    store::test_clocks::get(db, caller, id)
        .await?
        .ok_or_else(|| DomainError::not_found("test_helpers.test_clock", id))
}

/// A clock given as a parameter (`test_clock` of a customer or a list): the caller's.
pub async fn reference(
    db: &Db,
    caller: &Caller,
    id: &str,
    param: &str,
) -> Result<TestClock, DomainError> {
    get(db, caller, id)
        .await
        .map_err(DomainError::as_reference(param))
}

pub async fn list(
    db: &Db,
    caller: &Caller,
    page: &PageRequest,
) -> Result<Page<TestClock>, DomainError> {
    page.check_cursor(|id| async move { get(db, caller, &id).await })
        .await?;
    Ok(store::test_clocks::list(db, caller, page).await?)
}

/// Starts moving the clock to `frozen_time`, which must be after its time (and at most
/// [`MAX_AHEAD`] from now), with `test_helpers.test_clock.advancing`; a clock already advancing
/// is a conflict. Returns the clock as `advancing`. `now` is real time.
pub async fn advance(
    db: &Db,
    caller: &Caller,
    id: &str,
    frozen_time: i64,
    now: i64,
) -> Result<TestClock, DomainError> {
    let mut clock = get(db, caller, id).await?;
    let busy = || DomainError::Conflict {
        code: "test_clock_advancing",
        message: format!(
            "The test clock {id} is already advancing; wait until its status is ready."
        ),
    };
    if clock.status == TestClockStatus::Advancing {
        return Err(busy());
    }
    if frozen_time <= clock.frozen_time {
        return Err(DomainError::invalid(
            "frozen_time",
            format!(
                "must be after the clock's current frozen_time ({}): a test clock only moves \
                 forward",
                clock.frozen_time
            ),
        ));
    }
    check_time(frozen_time, now)?;
    clock.status = TestClockStatus::Advancing;
    clock.target_frozen_time = Some(frozen_time);
    let advancing = clock.event(caller, "test_helpers.test_clock.advancing", now);
    let guard = store::test_clocks::begin_advance(caller, id, frozen_time);
    if !store::events::write_if_with_events(
        db,
        &caller.account_id,
        false,
        guard,
        Vec::new(),
        &[advancing],
    )
    .await?
    {
        return Err(busy());
    }
    Ok(clock)
}

/// Deletes the clock and what lives on it, with `test_helpers.test_clock.deleted`: its
/// customers are deleted as `DELETE /v1/customers/{id}` deletes them (which cancels their
/// subscriptions), and its open checkout sessions expire. `now` is real time; `public_url`
/// renders the sessions in their events.
pub async fn delete(
    db: &Db,
    caller: &Caller,
    id: &str,
    now: i64,
    public_url: &str,
) -> Result<Value, DomainError> {
    let clock = get(db, caller, id).await?;
    for customer in store::test_clocks::customers_on(db, id).await? {
        super::customers::delete_customer(db, caller, &customer, now).await?;
    }
    // Every open session on the clock, whatever its deadline.
    let all = engine::When {
        at: i64::MAX,
        real: now,
    };
    while checkout::expire_overdue_on(db, Some(id), all, public_url, BATCH).await? == BATCH as usize
    {
    }
    let deleted = clock.event(caller, "test_helpers.test_clock.deleted", now);
    store::events::write_if_with_events(
        db,
        &caller.account_id,
        false,
        store::test_clocks::delete(caller, id),
        Vec::new(),
        &[deleted],
    )
    .await?;
    Ok(objects::to_value(&objects::Deleted::new(
        id,
        "test_helpers.test_clock",
    )))
}

/// The time of an object that may live on a clock: the clock's, or `now` (also once the clock
/// is deleted).
pub async fn time_of(db: &Db, clock_id: Option<&str>, now: i64) -> Result<i64, DomainError> {
    match clock_id {
        None => Ok(now),
        Some(id) => Ok(store::test_clocks::frozen_time(db, id)
            .await?
            .unwrap_or(now)),
    }
}

/// What one pass of the clock worker did: clocks made ready, and the engine's work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Advanced {
    pub clocks: usize,
    pub ran: engine::Ran,
}

/// Advances every clock that is advancing and not claimed by another server (`now` is real
/// time, for the claims). A clock is claimed for `lease` real seconds, renewed at each time its
/// advance reaches, and its objects' rows as the billing engine claims them. A clock whose step
/// fails is left to its lease's end and retried.
pub async fn run_advancing<P: Processor>(
    db: &Db,
    processor: &P,
    now: i64,
    lease: i64,
    public_url: &str,
) -> Result<Advanced, DomainError> {
    let mut advanced = Advanced::default();
    for mut clock in store::test_clocks::claim_advancing(db, now, lease, BATCH).await? {
        match advance_one(db, processor, &mut clock, now, lease, public_url).await {
            Ok(Some(ran)) => {
                advanced.clocks += 1;
                advanced.ran += ran;
            }
            // Deleted meanwhile, or taken over by another server.
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, clock = %clock.id, "advancing a test clock failed; will retry");
            }
        }
    }
    Ok(advanced)
}

/// Runs a claimed clock's due steps in time order up to its target: at each next due time,
/// everything due then (the billing engine's steps, then the sessions' expiry), until nothing
/// is due before the target; then the clock is ready. Each time reached is stored with the
/// claim renewed, so a server that takes over after a crash goes on from there. `None` when
/// the clock was deleted or its claim lost meanwhile.
async fn advance_one<P: Processor>(
    db: &Db,
    processor: &P,
    clock: &mut store::test_clocks::Advancing,
    now: i64,
    lease: i64,
    public_url: &str,
) -> Result<Option<engine::Ran>, DomainError> {
    let mut ran = engine::Ran::default();
    let mut last = None;
    while let Some(due) = store::test_clocks::next_due(db, &clock.id).await? {
        if due > clock.target {
            break;
        }
        let at = due.max(clock.frozen_time);
        if last == Some(at) {
            // What was due then is still due: a step failed, and its lease must run out.
            return Err(DomainError::Conflict {
                code: "test_clock_stalled",
                message: format!(
                    "test clock {}: a step due at {at} did not complete",
                    clock.id
                ),
            });
        }
        last = Some(at);
        if !store::test_clocks::reach(db, clock, at, now + lease).await? {
            return Ok(None);
        }
        let when = engine::When { at, real: now };
        let scope = engine::Scope::Clock(&clock.id);
        ran += engine::run_due_in(db, processor, scope, when, lease, public_url).await?;
        while checkout::expire_overdue_on(db, Some(&clock.id), when, public_url, BATCH).await?
            == BATCH as usize
        {}
    }
    let caller = Caller::without_key(&clock.account_id, false);
    let mut ready = match get(db, &caller, &clock.id).await {
        Ok(clock) => clock,
        Err(DomainError::NotFound { .. }) => return Ok(None),
        Err(error) => return Err(error),
    };
    ready.frozen_time = clock.target;
    ready.status = TestClockStatus::Ready;
    ready.target_frozen_time = None;
    let event = ready.event(&caller, "test_helpers.test_clock.ready", now);
    let guard = store::test_clocks::ready(clock);
    let made = store::events::write_if_with_events(
        db,
        &clock.account_id,
        false,
        guard,
        Vec::new(),
        &[event],
    )
    .await?;
    Ok(made.then_some(ran))
}

/// Deletes the clocks whose `deletes_after` (real time) has passed, with what lives on them;
/// returns how many.
pub async fn delete_expired(db: &Db, now: i64, public_url: &str) -> Result<usize, DomainError> {
    let expired = store::test_clocks::expired(db, now, BATCH).await?;
    for (id, account_id) in &expired {
        let caller = Caller::without_key(account_id, false);
        delete(db, &caller, id, now, public_url).await?;
    }
    Ok(expired.len())
}
