//! `GET /v1/events/stream`: the account's events as server-sent events, as they happen, for
//! `kassa listen`. A client that reconnects with `Last-Event-ID` gets the events written since
//! a few seconds before that one (so one committed late is not missed); it drops the ids it has
//! seen already.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;

use crate::domain::accounts::Caller;
use crate::domain::webhooks;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::Query;

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
    first: bool,
    /// A new (not resumed) stream starts with events written from now on: those already in
    /// the look-back window at the first poll are marked seen, not sent.
    skip_existing: bool,
}

impl Follow {
    async fn poll(&mut self) {
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
/// event id, `event` its type, `data` the event exactly as webhooks deliver it.
#[utoipa::path(get, path = "/v1/events/stream", tag = "Stripe", security(("secret_key" = [])),
    params(StreamParams),
    responses((status = 200, description = "`text/event-stream`, until the client or the server stops.")))]
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
            let event = webhooks::get_event(&state.db, &caller, id)
                .await
                .map_err(|_| {
                    ApiError::invalid_param(
                        "after",
                        format!("Invalid after: no such event: '{id}'."),
                    )
                })?;
            event["created"]
                .as_i64()
                .unwrap_or_else(|| state.clock.now())
        }
        None => state.clock.now(),
    };
    let skip_existing = resume_after.is_none();
    let follow = Follow {
        skip_existing,
        state,
        caller,
        since,
        seen: HashMap::new(),
        resume_after,
        queue: VecDeque::new(),
        first: true,
    };
    let stream = futures_util::stream::unfold(follow, |mut follow| async move {
        loop {
            if let Some(event) = follow.queue.pop_front() {
                return Some((Ok(event), follow));
            }
            if !follow.first {
                tokio::select! {
                    () = follow.state.shutdown.cancelled() => return None,
                    () = tokio::time::sleep(POLL) => {}
                }
            }
            follow.first = false;
            follow.poll().await;
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
