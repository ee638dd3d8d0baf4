//! The accept loop: kassa's own rather than `axum::serve`, which has no header or idle
//! timeout, no connection cap, and on shutdown waits for every connection to close, so that
//! clients that send half a request could exhaust the process's file descriptors and hold a
//! shutdown forever.
//!
//! - Each connection has a deadline while the server waits on its client (see
//!   [`connection`]): the request head within the header timeout, the next request within the
//!   idle timeout.
//! - At most `max_connections` are kept. The loop keeps accepting at the cap and closes the
//!   connection that has waited longest for its client instead (a head still arriving, an idle
//!   keep-alive, a body still arriving), never one being answered (when all are, the new
//!   connection is the one closed). A real client sends its request as soon as it connects,
//!   so it is the newest of those waiting and gets its answer, while connections that hold a
//!   slot without sending are the oldest and go first. Refusing new connections at the cap
//!   instead would let a few thousand half-open connections fill the cap and the kernel's
//!   backlog, and every real client would stall.
//! - Connections are accepted in batches of what the kernel has queued, and one pass over the
//!   open connections (reading each one's wait without a lock) makes room for a whole batch:
//!   a pass per connection cost most of the accept loop's time under a flood of them.
//! - The cap stays below the open-file limit, with a reserve for the database, outbound
//!   webhooks and files; should `accept` still fail (`EMFILE`, `ENFILE`, `ENOBUFS`), the loop
//!   sheds a waiting connection, backs off briefly and logs once a minute, rather than spin.
//! - On shutdown the listener closes at once (new connections are refused), requests in
//!   flight finish, idle connections close, and after the grace whatever is still open is
//!   closed.

mod connection;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use futures_util::FutureExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use self::connection::Watch;
use crate::config::ConnectionLimits;

/// File descriptors kept out of the default cap: the database pool (SQLite opens three files
/// per connection; PostgreSQL uses 8 sockets), outbound webhook deliveries (32 at a time, and
/// their kept-alive connections), the log, TLS roots and the runtime's own, and
/// [`SHED_SLACK`]. An idle server holds about 20; see DRILLS.md for the measurements.
pub const FD_RESERVE: u64 = 128;

/// Connections shed at the cap still hold their descriptor until their task runs; the loop
/// accepts at most this many past the cap meanwhile, and waits for them to close beyond it.
/// Also the most connections accepted at once, to make room for with one look.
const SHED_SLACK: usize = 32;

/// Connections the kernel queues for `accept` (capped by `net.core.somaxconn`): the standard
/// library's 128 fills in an instant when a crowd of clients connects at once, and the
/// kernel then drops new connections' first packets, which clients resend only a second
/// later (then 3 s, 7 s...).
const LISTEN_BACKLOG: u32 = 1024;

/// How long `accept` rests after a failure other than a connection's own (most likely too
/// many open files), unless a connection closes first.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A condition that can repeat thousands of times a second is logged at most this often.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// The default connection cap: the open-file soft limit less [`FD_RESERVE`] (or half the
/// limit, when the limit is that small), and the limit it was computed from.
pub fn default_max_connections() -> (usize, Option<u64>) {
    let limit = open_file_limit();
    let max = match limit {
        Some(limit) => limit.saturating_sub(FD_RESERVE).max(limit / 2).max(1),
        None => 1024,
    };
    (usize::try_from(max).unwrap_or(usize::MAX), limit)
}

/// The process's open-file soft limit (`ulimit -n`), when the platform has one.
pub fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rlimit::Resource::NOFILE
            .get_soft()
            .ok()
            .filter(|&soft| soft != rlimit::INFINITY)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Listens on `addr` with a [`LISTEN_BACKLOG`] queue.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // As `TcpListener::bind` does: a restarted server can listen again at once (on Windows
    // the option would let another process take the address, so it is left off there).
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves `app` on `listener` until `draining` is cancelled; then stops accepting, lets the
/// requests in flight finish within `limits.shutdown_grace`, closes what is still open and
/// returns when the shutdown began, so that what else stops can share the same grace.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    draining: CancellationToken,
) -> Instant {
    std::sync::LazyLock::force(&connection::EPOCH);
    let mut server = Server {
        max: resolve_max_connections(limits.max_connections),
        open: Arc::new(Open::default()),
        force_close: CancellationToken::new(),
        logs: Logs::default(),
        app,
        limits,
        draining,
    };
    while let Some(accepted) =
        accept_batch(&listener, &server.open, server.max, &server.draining).await
    {
        server.take(accepted).await;
    }
    let shutdown_began = Instant::now();
    drop(listener);
    shut_down(&server.open, &server.force_close, limits.shutdown_grace).await;
    shutdown_began
}

/// The accept loop's state.
struct Server {
    max: usize,
    open: Arc<Open>,
    /// The parent of every connection's close token: cancelled when the shutdown grace is over.
    force_close: CancellationToken,
    logs: Logs,
    app: Router,
    limits: ConnectionLimits,
    draining: CancellationToken,
}

impl Server {
    /// Serves a batch of accepted connections; past the cap, closes as many of the connections
    /// that have waited longest for their client, the new ones included (one of those is the
    /// oldest when every other connection is answering a request).
    async fn take(&mut self, accepted: Vec<io::Result<(TcpStream, SocketAddr)>>) {
        for result in accepted {
            match result {
                Ok((stream, _)) => self.spawn(stream),
                Err(error) if is_connection_error(&error) => {}
                Err(error) => self.accept_failed(&error).await,
            }
        }
        let over = self.open.live().saturating_sub(self.max);
        if over > 0 {
            let shed = self.open.shed_longest_waiting(over);
            if shed > 0
                && let Some(times) = self.logs.shedding.occurred(shed as u64)
            {
                tracing::warn!(
                    max_connections = self.max,
                    times,
                    "connection cap reached: closing the connections that waited longest for their client"
                );
            }
        }
    }

    /// `accept` failed for want of resources (most likely too many open files): frees a
    /// descriptor by shedding the connection waiting longest, and rests until one closes, at
    /// most [`ACCEPT_BACKOFF`], rather than retry at once.
    async fn accept_failed(&mut self, error: &io::Error) {
        if let Some(times) = self.logs.failing.occurred(1) {
            tracing::error!(%error, times, open = self.open.len(),
                "cannot accept connections: shedding waiting ones and backing off");
        }
        self.open.shed_longest_waiting(1);
        let _ = tokio::time::timeout(ACCEPT_BACKOFF, self.open.closed.notified()).await;
    }

    fn spawn(&self, stream: TcpStream) {
        let watch = Watch::new(&self.limits, self.force_close.child_token());
        let registered = self.open.register(watch.clone());
        let (app, draining) = (self.app.clone(), self.draining.clone());
        tokio::spawn(async move {
            connection::serve(stream, app, watch, draining).await;
            drop(registered);
        });
    }
}

/// Waits for a connection, then takes the others already waiting in the kernel's queue (up to
/// [`SHED_SLACK`]), so that one look over the open connections makes room for all of them;
/// `None` once `draining` is cancelled. Waits first while shed connections still hold more
/// than [`SHED_SLACK`] descriptors past the cap.
async fn accept_batch(
    listener: &TcpListener,
    open: &Open,
    max: usize,
    draining: &CancellationToken,
) -> Option<Vec<io::Result<(TcpStream, SocketAddr)>>> {
    while open.len() >= max + SHED_SLACK {
        tokio::select! {
            () = open.closed.notified() => {}
            () = draining.cancelled() => return None,
        }
    }
    let first = tokio::select! {
        accepted = listener.accept() => accepted,
        () = draining.cancelled() => return None,
    };
    let room = (max + SHED_SLACK).saturating_sub(open.len()).max(1);
    let mut batch = vec![first];
    while batch.len() < room.min(SHED_SLACK) {
        match listener.accept().now_or_never() {
            // A failure for want of resources would repeat at once: one in a batch is enough
            // to shed a connection and back off.
            Some(Err(error)) if !is_connection_error(&error) => {
                batch.push(Err(error));
                break;
            }
            Some(accepted) => batch.push(accepted),
            None => break,
        }
    }
    Some(batch)
}
fn resolve_max_connections(configured: Option<usize>) -> usize {
    let (default, limit) = default_max_connections();
    match configured {
        None => {
            tracing::info!(
                max_connections = default,
                open_file_limit = limit,
                "connection cap set from the open-file limit"
            );
            default
        }
        Some(max) => {
            if max > default {
                tracing::warn!(
                    max_connections = max,
                    open_file_limit = limit,
                    "max_connections leaves too few file descriptors below the open-file limit \
                     for the database and webhooks; raise the limit (ulimit -n) or lower it"
                );
            }
            max
        }
    }
}

/// After the listener closed: waits for the connections to finish (hyper closes each after
/// its request in flight, and idle ones at once), at most `grace`; then closes the rest.
async fn shut_down(open: &Open, force_close: &CancellationToken, grace: Duration) {
    let started = Instant::now();
    if tokio::time::timeout(grace, open.until_empty())
        .await
        .is_err()
    {
        tracing::warn!(
            open = open.len(),
            grace_ms = grace.as_millis() as u64,
            "shutdown grace over: closing the connections still open"
        );
        force_close.cancel();
        open.until_empty().await;
    }
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "connections closed"
    );
}

/// Errors of one connection (it was reset before it could be accepted): not the listener's.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// The open connections: counted until their socket is closed, and watched for shedding.
#[derive(Default)]
struct Open {
    connections: Mutex<Connections>,
    /// Notified each time a connection has closed.
    closed: Notify,
}

#[derive(Default)]
struct Connections {
    next_id: u64,
    by_id: HashMap<u64, Arc<Watch>>,
    /// Of those, how many are shed and about to close.
    shedding: usize,
}

impl Open {
    fn lock(&self) -> std::sync::MutexGuard<'_, Connections> {
        self.connections
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Connections holding a descriptor.
    fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Connections that count against the cap: open and not being shed.
    fn live(&self) -> usize {
        let connections = self.lock();
        connections.by_id.len() - connections.shedding
    }

    fn register(self: &Arc<Self>, watch: Arc<Watch>) -> Registered {
        let mut connections = self.lock();
        let id = connections.next_id;
        connections.next_id += 1;
        connections.by_id.insert(id, watch);
        Registered {
            open: self.clone(),
            id,
        }
    }

    /// Closes the `count` connections that have waited longest for their client, or as many
    /// as are waiting (those answering a request are never shed); returns how many (a newly
    /// accepted connection is waiting, so at least one when one was just accepted). One pass
    /// over the connections: it runs only at the cap, once per batch of accepted
    /// connections, and reads each connection's wait without a lock.
    fn shed_longest_waiting(&self, count: usize) -> usize {
        let mut connections = self.lock();
        let mut waiting: Vec<(u64, &Arc<Watch>)> = connections
            .by_id
            .values()
            .filter_map(|watch| watch.waiting_since().map(|since| (since, watch)))
            .collect();
        let count = count.min(waiting.len());
        if count == 0 {
            return 0;
        }
        if count < waiting.len() {
            waiting.select_nth_unstable_by_key(count - 1, |(since, _)| *since);
        }
        for (_, watch) in &waiting[..count] {
            watch.shed();
        }
        connections.shedding += count;
        count
    }

    async fn until_empty(&self) {
        // `notify_one` keeps a permit when nobody waits, so a close between the check and
        // the wait is not missed.
        while self.len() > 0 {
            self.closed.notified().await;
        }
    }
}

/// A connection's place in [`Open`], given back when its task ends (its socket closed).
struct Registered {
    open: Arc<Open>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut connections = self.open.lock();
        if let Some(watch) = connections.by_id.remove(&self.id)
            && watch.was_shed()
        {
            connections.shedding -= 1;
        }
        drop(connections);
        self.open.closed.notify_one();
    }
}

/// The conditions the accept loop reports, each at most once per [`LOG_EVERY`].
#[derive(Default)]
struct Logs {
    shedding: Throttled,
    failing: Throttled,
}

/// Counts a recurring condition and says when to log it: the first time, then at most once
/// per [`LOG_EVERY`], with the number of times since the last line.
#[derive(Default)]
struct Throttled {
    last_logged: Option<Instant>,
    since_logged: u64,
}

impl Throttled {
    fn occurred(&mut self, times: u64) -> Option<u64> {
        self.since_logged += times;
        let due = self
            .last_logged
            .is_none_or(|last| last.elapsed() >= LOG_EVERY);
        if !due {
            return None;
        }
        self.last_logged = Some(Instant::now());
        Some(std::mem::take(&mut self.since_logged))
    }
}
