//! Prometheus metrics: every metric's name, help text, labels and buckets, and the one-line
//! helpers that record them where things happen. Names are stated here only.
//!
//! The recorder is process-wide ([`install`]), installed by `kassa serve` when metrics are
//! asked for (`--metrics-addr`, `--metrics-public`). Until then every helper is a no-op, so
//! servers started inside another program (the integration tests start several in one
//! process) record nothing and share nothing.
//!
//! Labels never carry ids, emails, keys or amounts: only the short, fixed values each helper
//! takes (a route is its template, `/v1/checkout/sessions/{id}`, never the path). The gauges
//! that describe the database (subscriptions, the webhook queue, billing's lag) are read from
//! it at each scrape ([`scrape`]), so several servers on one database report the same, true
//! values.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::store::{Db, StoreResult};

pub const HTTP_REQUESTS: &str = "kassa_http_requests_total";
pub const HTTP_DURATION: &str = "kassa_http_request_duration_seconds";
pub const CHECKOUT_SESSIONS: &str = "kassa_checkout_sessions_total";
pub const PAYMENT_ATTEMPTS: &str = "kassa_payment_attempts_total";
pub const PROCESSOR_DURATION: &str = "kassa_processor_request_duration_seconds";
pub const REFUNDS: &str = "kassa_refunds_total";
pub const REFUNDED_AMOUNT: &str = "kassa_refunded_amount_minor_total";
pub const SUBSCRIPTIONS: &str = "kassa_subscriptions";
pub const RENEWALS: &str = "kassa_renewals_total";
pub const WEBHOOK_DELIVERIES: &str = "kassa_webhook_deliveries_total";
pub const WEBHOOK_DURATION: &str = "kassa_webhook_delivery_duration_seconds";
pub const WEBHOOK_QUEUE_DEPTH: &str = "kassa_webhook_queue_depth";
pub const WEBHOOK_OLDEST_AGE: &str = "kassa_webhook_oldest_pending_age_seconds";
pub const BILLING_DUE_LAG: &str = "kassa_billing_due_lag_seconds";
pub const IDEMPOTENCY_REPLAYS: &str = "kassa_idempotency_replays_total";
pub const DB_COMMIT_BATCH: &str = "kassa_db_commit_batch_writes";
pub const DB_POOL_WAIT: &str = "kassa_db_pool_wait_seconds";

/// Buckets of request and call durations, in seconds: 1 ms to 30 s.
const SECONDS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Buckets of waits for a database connection, in seconds: 10 µs to 10 s.
const WAIT_SECONDS: [f64; 13] = [
    0.00001, 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 10.0,
];
/// Buckets of writes per SQLite group commit.
const BATCH_WRITES: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide Prometheus recorder, once; later calls return the same handle.
/// Errors when another recorder is already installed in the process.
pub fn install() -> anyhow::Result<&'static PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle);
    }
    let mut builder = PrometheusBuilder::new();
    for (name, buckets) in [
        (HTTP_DURATION, &SECONDS[..]),
        (PROCESSOR_DURATION, &SECONDS),
        (WEBHOOK_DURATION, &SECONDS),
        (DB_POOL_WAIT, &WAIT_SECONDS),
        (DB_COMMIT_BATCH, &BATCH_WRITES),
    ] {
        builder = builder.set_buckets_for_metric(Matcher::Full(name.into()), buckets)?;
    }
    let handle = builder.install_recorder()?;
    describe();
    Ok(HANDLE.get_or_init(|| handle))
}

/// The installed recorder's handle, if [`install`] ran in this process.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE.get()
}

/// The HELP text of every metric.
fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by surface, route template, method and status class."
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time from a request's arrival to its response's head, by surface, route, method and status class."
    );
    describe_counter!(
        CHECKOUT_SESSIONS,
        "Checkout sessions created and ended (completed, expired, canceled, failed), by mode and livemode."
    );
    describe_counter!(
        PAYMENT_ATTEMPTS,
        "Charges asked of a payment processor, by processor and outcome."
    );
    describe_histogram!(
        PROCESSOR_DURATION,
        Unit::Seconds,
        "Time a payment processor took to answer a charge or refund, by processor."
    );
    describe_counter!(
        REFUNDS,
        "Refunds that succeeded, by processor and currency."
    );
    describe_counter!(
        REFUNDED_AMOUNT,
        "Amount refunded, in the currency's minor units (cents), by processor and currency."
    );
    describe_gauge!(
        SUBSCRIPTIONS,
        "Subscriptions in the database by status (those on test clocks left out), read at scrape time."
    );
    describe_counter!(
        RENEWALS,
        "Charge attempts on subscriptions' renewal invoices, by outcome: paid, retried (a retry is scheduled), failed (no retry left, left unpaid), canceled_by_dunning."
    );
    describe_counter!(
        WEBHOOK_DELIVERIES,
        "Webhook delivery attempts, by outcome: the answer's status class, timeout or connect_error."
    );
    describe_histogram!(
        WEBHOOK_DURATION,
        Unit::Seconds,
        "Time a webhook delivery attempt took, by outcome."
    );
    describe_gauge!(
        WEBHOOK_QUEUE_DEPTH,
        "Webhook deliveries pending (due now or waiting for a retry), read from the database at scrape time."
    );
    describe_gauge!(
        WEBHOOK_OLDEST_AGE,
        Unit::Seconds,
        "Age of the oldest pending webhook delivery (0 when none), read from the database at scrape time."
    );
    describe_gauge!(
        BILLING_DUE_LAG,
        Unit::Seconds,
        "Now minus the due time of the oldest renewal or invoice collection not yet done (0 when none is due), on no test clock, read from the database at scrape time."
    );
    describe_counter!(
        IDEMPOTENCY_REPLAYS,
        "Requests with an Idempotency-Key seen before, by result: replayed, conflict (the first is still running), mismatch (another route or other parameters)."
    );
    describe_histogram!(
        DB_COMMIT_BATCH,
        "Writes committed together by one SQLite group commit."
    );
    describe_histogram!(
        DB_POOL_WAIT,
        Unit::Seconds,
        "Time waiting for a database connection, by pool (postgres, sqlite_writer)."
    );
}

/// The status class of an HTTP status: `2xx`, `4xx`...
fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// A request method as a label: the standard ones by name, any other as `other` (a client may
/// send any token as a method).
fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// The route label of a request no route matched.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// One answered request. `route` is the matched route's template ([`UNMATCHED_ROUTE`] when
/// none matched), never the path.
pub fn http_request(
    surface: &'static str,
    route: &str,
    method: &axum::http::Method,
    status: u16,
    took: Duration,
) {
    // Every request passes here: without a recorder, skip building the labels.
    if handle().is_none() {
        return;
    }
    let labels = [
        ("surface", surface.to_string()),
        ("route", route.to_string()),
        ("method", method_label(method).to_string()),
        ("status", status_class(status).to_string()),
    ];
    counter!(HTTP_REQUESTS, &labels).increment(1);
    histogram!(HTTP_DURATION, &labels).record(took);
}

/// What happened to a checkout session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionOutcome {
    Created,
    Completed,
    Expired,
    Canceled,
    Failed,
}

impl SessionOutcome {
    /// The outcome of a session that moved to `state`.
    pub fn of(state: crate::domain::checkout::SessionState) -> SessionOutcome {
        use crate::domain::checkout::SessionState;
        match state {
            SessionState::Open => SessionOutcome::Created,
            SessionState::Completed => SessionOutcome::Completed,
            SessionState::Expired => SessionOutcome::Expired,
            SessionState::Canceled => SessionOutcome::Canceled,
            SessionState::Failed => SessionOutcome::Failed,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            SessionOutcome::Created => "created",
            SessionOutcome::Completed => "completed",
            SessionOutcome::Expired => "expired",
            SessionOutcome::Canceled => "canceled",
            SessionOutcome::Failed => "failed",
        }
    }
}

/// A checkout session of `mode` (`payment`, `subscription`, `setup`) created or ended.
pub fn checkout_session(mode: &'static str, outcome: SessionOutcome, livemode: bool) {
    counter!(
        CHECKOUT_SESSIONS,
        "mode" => mode,
        "outcome" => outcome.as_str(),
        "livemode" => if livemode { "true" } else { "false" },
    )
    .increment(1);
}

/// How a charge asked of a processor ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Succeeded,
    Declined,
    RequiresAction,
    /// The processor's answer could not be known (a connector's timeout).
    Unknown,
    /// The request failed before the processor answered.
    Error,
}

impl AttemptOutcome {
    /// The outcome of a processor's answer: `Ok(Ok(_))` charged, `Ok(Err(_))` declined, `Err`
    /// a request that failed.
    pub fn of<T, Declined, Failed>(answer: &Result<Result<T, Declined>, Failed>) -> AttemptOutcome {
        match answer {
            Ok(Ok(_)) => AttemptOutcome::Succeeded,
            Ok(Err(_)) => AttemptOutcome::Declined,
            Err(_) => AttemptOutcome::Error,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Succeeded => "succeeded",
            AttemptOutcome::Declined => "declined",
            AttemptOutcome::RequiresAction => "requires_action",
            AttemptOutcome::Unknown => "unknown",
            AttemptOutcome::Error => "error",
        }
    }
}

/// A charge asked of `processor`, its outcome and how long the processor took.
pub fn payment_attempt(processor: &'static str, outcome: AttemptOutcome, took: Duration) {
    counter!(PAYMENT_ATTEMPTS, "processor" => processor, "outcome" => outcome.as_str())
        .increment(1);
    processor_request(processor, took);
}

/// A request to `processor` (a charge or a refund) that took `took`.
pub fn processor_request(processor: &'static str, took: Duration) {
    histogram!(PROCESSOR_DURATION, "processor" => processor).record(took);
}

/// A refund of `amount` minor units of `currency` (a lowercase ISO code) that succeeded.
pub fn refund(processor: &'static str, currency: &str, amount: i64) {
    let labels = [
        ("processor", processor.to_string()),
        ("currency", currency.to_ascii_lowercase()),
    ];
    counter!(REFUNDS, &labels).increment(1);
    counter!(REFUNDED_AMOUNT, &labels).increment(u64::try_from(amount).unwrap_or(0));
}

/// How a charge attempt on a renewal invoice ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewalOutcome {
    Paid,
    /// Declined; a retry is scheduled.
    Retried,
    /// Declined with no retry left; the subscription is left unpaid (or has none).
    Failed,
    /// Declined with no retry left; the subscription is canceled.
    CanceledByDunning,
}

/// A charge attempt on a subscription's invoice.
pub fn renewal(outcome: RenewalOutcome) {
    let outcome = match outcome {
        RenewalOutcome::Paid => "paid",
        RenewalOutcome::Retried => "retried",
        RenewalOutcome::Failed => "failed",
        RenewalOutcome::CanceledByDunning => "canceled_by_dunning",
    };
    counter!(RENEWALS, "outcome" => outcome).increment(1);
}

/// A webhook delivery attempt: the receiver's status, or no status and whether the attempt
/// timed out (otherwise it could not connect or was cut off).
pub fn webhook_delivery(status: Option<u16>, timed_out: bool, took: Duration) {
    let outcome = match status {
        Some(status) => status_class(status),
        None if timed_out => "timeout",
        None => "connect_error",
    };
    counter!(WEBHOOK_DELIVERIES, "outcome" => outcome).increment(1);
    histogram!(WEBHOOK_DURATION, "outcome" => outcome).record(took);
}

/// What became of a request whose Idempotency-Key was seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// The first response was sent again.
    Replayed,
    /// The first request is still running.
    Conflict,
    /// The key was used with another route or other parameters.
    Mismatch,
}

pub fn idempotency(result: Replay) {
    let result = match result {
        Replay::Replayed => "replayed",
        Replay::Conflict => "conflict",
        Replay::Mismatch => "mismatch",
    };
    counter!(IDEMPOTENCY_REPLAYS, "result" => result).increment(1);
}

/// One SQLite group commit of `writes` writes.
pub fn commit_batch(writes: u64) {
    histogram!(DB_COMMIT_BATCH).record(writes as f64);
}

/// A wait of `waited` for a connection of `pool` (`postgres`, `sqlite_writer`).
pub fn pool_wait(pool: &'static str, waited: Duration) {
    histogram!(DB_POOL_WAIT, "pool" => pool).record(waited);
}

/// Sets the gauges read from the database, then renders every metric in Prometheus' text
/// format. `now` is the server's clock, in Unix seconds.
pub async fn scrape(handle: &PrometheusHandle, db: &Db, now: i64) -> StoreResult<String> {
    let figures = crate::store::figures::metrics(db, now).await?;
    // Every status, also when none has it: a series that vanished would read as "no data".
    for status in crate::domain::billing::SubscriptionStatus::ALL.map(|s| s.as_str()) {
        let count = figures
            .subscriptions
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n);
        gauge!(SUBSCRIPTIONS, "status" => status).set(count as f64);
    }
    gauge!(WEBHOOK_QUEUE_DEPTH).set(figures.webhooks_pending as f64);
    let oldest = figures
        .oldest_pending_webhook
        .map_or(0, |at| (now - at).max(0));
    gauge!(WEBHOOK_OLDEST_AGE).set(oldest as f64);
    let lag = figures.oldest_due_billing.map_or(0, |at| (now - at).max(0));
    gauge!(BILLING_DUE_LAG).set(lag as f64);
    handle.run_upkeep();
    Ok(handle.render())
}

/// How often recorded histogram samples are folded into their buckets between scrapes, so
/// that a server nobody scrapes does not keep every sample.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Folds recorded samples into their buckets every [`UPKEEP_EVERY`], until `stop`; returns at
/// once in a process without a recorder.
pub async fn upkeep(stop: tokio_util::sync::CancellationToken) {
    let Some(handle) = handle() else {
        return;
    };
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(UPKEEP_EVERY) => handle.run_upkeep(),
        }
    }
}
