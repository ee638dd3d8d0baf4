//! `GET /v1/events/stream`: the account's events as server-sent events, as they happen, for
//! `kassa listen`. A client that reconnects with `Last-Event-ID` gets the events written since
//! a few seconds before that one (so one committed late is not missed); it drops the ids it has
//! seen already.
//!
//! A stream lives no longer than its key: it follows the server's key changes and closes
//! within a second of its key's revocation, on whichever server the key was revoked. At most
//! [`event_streams::MAX_PER_KEY`] are open at once with one key, across every server.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use tokio::time::{Instant, sleep_until};

use crate::domain::accounts::{self, AuthError, Caller};
use crate::domain::event_streams::{self, LEASE_SECONDS, MAX_PER_KEY, StreamLease};
use crate::domain::webhooks;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::Query;
use crate::store::key_changes::{KeyChange, KeyChangeSubscription};

/// How often the stream looks for new events.
const POLL: Duration = Duration::from_millis(200);
/// Events are read from this many seconds before the newest one seen: a transaction that
/// committed late, with an earlier `created`, is still found (and sent once).
const LOOKBACK_SECONDS: i64 = 5;
const BATCH: i64 = 500;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StreamParams {
    /// Start after this event (the same as the `Last-Event-ID` header).
    pub after: Option<String>,
}

struct Follow {
    state: AppState,
    caller: Caller,
    /// Read events created at or after this time.
    since: i64,
    /// Ids already sent (or to skip), with their `created`, forgotten once out of the window.
    seen: HashMap<String, i64>,
    /// On a resumed stream, the event the client saw last (not sent again).
    resume_after: Option<String>,
    queue: VecDeque<SseEvent>,
    /// A new (not resumed) stream starts with events written from now on: those already in
    /// the look-back window at the first poll (before the client is answered) are marked seen,
    /// not sent.
    skip_existing: bool,
    /// The server's key changes, heard from before the key was last checked.
    key_changes: KeyChangeSubscription,
    /// The stream's slot among its key's; freed when the stream ends or is dropped.
    lease: StreamLease,
    next_poll: Instant,
    next_renewal: Instant,
    /// The stream ends once the queue is sent ([`Follow::end`]).
    ending: bool,
}

/// What the stream waits for between polls.
enum Wake {
    Shutdown,
    KeyChange(KeyChange),
    Renew,
    Poll,
}

impl Follow {
    async fn wait(&mut self) -> Wake {
        tokio::select! {
            biased;
            () = self.state.shutdown.cancelled() => Wake::Shutdown,
            change = self.key_changes.next() => Wake::KeyChange(change),
            () = sleep_until(self.next_renewal) => Wake::Renew,
            () = sleep_until(self.next_poll) => Wake::Poll,
        }
    }

    /// Ends the stream if `change` revoked its key. A reload looks the key up; when that
    /// fails, the stream ends too: the client reconnects and is authenticated again.
    async fn check_key(&mut self, change: KeyChange) {
        let key_id = &self.caller.key_id;
        if !change.may_revoke(key_id) {
            return;
        }
        let active = match change {
            KeyChange::Revoked { .. } => false,
            _ => match accounts::recheck_key(&self.state.db, key_id).await {
                Ok(()) => true,
                Err(AuthError::Store(error)) => {
                    tracing::warn!(%error, "cannot check an event stream's key; closing it");
                    self.end("the API key could not be checked; reconnect");
                    return;
                }
                Err(_) => false,
            },
        };
        if !active {
            tracing::info!(key_id, "closing an event stream: its API key was revoked");
            self.end("the API key has been revoked");
        }
    }

    /// Renews the stream's lease; ends the stream if it lost it (or its key, which the renewal
    /// checks too, in case a key change was missed).
    async fn renew(&mut self) {
        self.next_renewal = Instant::now() + event_streams::RENEW_EVERY;
        match self.lease.renew(self.state.clock.now()).await {
            Ok(true) => {}
            Ok(false) => {
                self.end("the stream's lease ended (its API key was revoked, or the lease lapsed)")
            }
            Err(error) => {
                tracing::warn!(%error, "renewing an event stream's lease failed; will retry")
            }
        }
    }

    /// Sends nothing more but a comment saying why, then closes the stream.
    fn end(&mut self, reason: &str) {
        self.queue.clear();
        self.queue
            .push_back(SseEvent::default().comment(format!("closed: {reason}")));
        self.ending = true;
    }

    async fn poll(&mut self) {
        self.next_poll = Instant::now() + POLL;
        // The whole look-back window, a batch at a time: a burst larger than one batch is read
        // in full, never re-reading the same first rows.
        let mut cursor: Option<(i64, String)> = None;
        let from = self.since - LOOKBACK_SECONDS;
        loop {
            let found = crate::store::events::payloads_since(
                &self.state.db,
                &self.caller,
                from,
                cursor.as_ref(),
                BATCH,
            )
            .await;
            let rows = match found {
                Ok(rows) => rows,
                Err(error) => {
                    tracing::warn!(%error, "reading events for a stream failed; will retry");
                    return;
                }
            };
            let full = rows.len() as i64 == BATCH;
            for (id, payload) in rows {
                let created = payload["created"].as_i64().unwrap_or(self.since);
                cursor = Some((created, id.clone()));
                if self.seen.contains_key(&id) || self.resume_after.as_ref() == Some(&id) {
                    continue;
                }
                self.since = self.since.max(created);
                if self.skip_existing {
                    self.seen.insert(id, created);
                    continue;
                }
                let kind = payload["type"].as_str().unwrap_or("event").to_string();
                self.queue.push_back(
                    SseEvent::default()
                        .id(id.clone())
                        .event(kind)
                        .data(payload.to_string()),
                );
                self.seen.insert(id, created);
            }
            if !full {
                break;
            }
        }
        self.skip_existing = false;
        let horizon = self.since - 2 * LOOKBACK_SECONDS;
        self.seen.retain(|_, created| *created >= horizon);
    }
}

/// Follows the account's events (test or live, by the key) as server-sent events: `id` is the
/// event id, `event` its type, `data` the event exactly as webhooks deliver it. The stream
/// closes (after a comment line `: closed: ...`) within a second of its key's revocation.
#[utoipa::path(get, path = "/v1/events/stream", tag = "Stripe", security(("secret_key" = [])),
    params(StreamParams),
    responses(
        (status = 200, description = "`text/event-stream`, until the client or the server stops, or the key is revoked."),
        (status = 429, description = "5 streams are open with this key already (`rate_limit`)."),
    ))]
pub async fn stream_events(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(params): Query<StreamParams>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let resume_after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(params.after);
    let since = match &resume_after {
        Some(id) => {
            // A cursor naming nothing is Stripe's `resource_missing`; a store failure stays a 500.
            let event = webhooks::get_event(&state.db, &caller, id)
                .await
                .map_err(crate::domain::DomainError::as_reference("after"))?;
            event["created"]
                .as_i64()
                .unwrap_or_else(|| state.clock.now())
        }
        None => state.clock.now(),
    };
    // Subscribed before the key is checked again: a revocation committed since the request was
    // authenticated is either seen by this check or heard of by the stream.
    let key_changes = state.key_changes.subscribe();
    accounts::recheck_key(&state.db, &caller.key_id).await?;
    let lease = event_streams::open(&state.db, &caller, state.clock.now())
        .await?
        .ok_or_else(too_many_streams)?;
    let now = Instant::now();
    let mut follow = Follow {
        skip_existing: resume_after.is_none(),
        state,
        caller,
        since,
        seen: HashMap::new(),
        resume_after,
        queue: VecDeque::new(),
        key_changes,
        lease,
        next_poll: now,
        next_renewal: now + event_streams::RENEW_EVERY,
        ending: false,
    };
    // The first read happens before the client is answered: every event written after it
    // sees the answer is sent (a new stream skips only what this read finds).
    follow.poll().await;
    let stream = futures_util::stream::unfold(follow, |mut follow| async move {
        loop {
            if let Some(event) = follow.queue.pop_front() {
                return Some((Ok(event), follow));
            }
            if follow.ending {
                follow.lease.release().await;
                return None;
            }
            match follow.wait().await {
                Wake::Shutdown => {
                    follow.lease.release().await;
                    return None;
                }
                Wake::KeyChange(change) => follow.check_key(change).await,
                Wake::Renew => follow.renew().await,
                Wake::Poll => follow.poll().await,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

fn too_many_streams() -> ApiError {
    ApiError::rate_limited(format!(
        "At most {MAX_PER_KEY} event streams may be open at once per API key, and this key has \
         {MAX_PER_KEY} open. Close one before opening another (the streams of a server that \
         stopped without closing them count for up to {LEASE_SECONDS} seconds)."
    ))
}
