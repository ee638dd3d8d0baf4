//! One connection: what it is waiting for, its deadline, and the task that serves it.
//!
//! hyper serves the HTTP/1.1 protocol; this module watches what the connection is doing, so
//! that the accept loop can tell a client that is being answered from one the server is only
//! waiting for, and closes it when its deadline passes:
//!
//! - a request head (the first one, or one that has started to arrive on a kept-alive
//!   connection) must arrive within `header_timeout`;
//! - a kept-alive connection may wait `idle_timeout` for its next request's first byte;
//! - a request whose handler waits for a body that has not arrived has no deadline of its
//!   own, but the server is waiting on the client, so it can be shed at the cap like the two
//!   above;
//! - a request being answered (the handler running, the response going out) is never shed,
//!   even before its handler has read a body that the client did send.
//!
//! When hyper closes a connection whose request body was not read (a body refused with a 413
//! before it was read), the socket sends its FIN and then reads and discards what still
//! arrives, for at most [`LINGER`] and [`LINGER_BYTES`]: closing a socket with unread data
//! makes the kernel answer with a reset, and a reset destroys the response in the client's
//! receive buffer before the client reads it (nginx's `lingering_close`).
//!
//! hyper's own `header_read_timeout` is not used: it starts again as soon as a response is
//! written, so it would close a kept-alive connection after the header timeout rather than
//! the idle timeout, and it cannot tell the accept loop which connections are waiting.

use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::header::CONNECTION;
use axum::http::{HeaderValue, Request, Response};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::config::ConnectionLimits;

/// The largest request head (request line and headers) read, in bytes.
const MAX_HEAD_BYTES: usize = 32 * 1024;

/// How long a closing connection keeps reading what its client still sends.
const LINGER: Duration = Duration::from_secs(5);

/// The most a closing connection reads and discards before it closes anyway.
const LINGER_BYTES: usize = 8 * 1024 * 1024;

/// What a connection is doing, as far as its client's speed matters.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for a request head: a new connection, or a kept-alive one whose next request
    /// has started to arrive.
    Head {
        waiting_since: Instant,
        deadline: Instant,
    },
    /// A kept-alive connection between requests.
    Idle {
        waiting_since: Instant,
        deadline: Instant,
    },
    /// The handler waits for the rest of a request body that has not arrived.
    Body { waiting_since: Instant },
    /// The request is complete and the server is answering it.
    Answering,
}

impl Phase {
    fn waiting_since(self) -> Option<Instant> {
        match self {
            Phase::Head { waiting_since, .. }
            | Phase::Idle { waiting_since, .. }
            | Phase::Body { waiting_since } => Some(waiting_since),
            Phase::Answering => None,
        }
    }

    fn deadline(self) -> Option<Instant> {
        match self {
            Phase::Head { deadline, .. } | Phase::Idle { deadline, .. } => Some(deadline),
            Phase::Body { .. } | Phase::Answering => None,
        }
    }
}

/// The instant [`Watch::waiting`] counts from (forced when the server starts).
pub(super) static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

/// [`Watch::waiting`] of a connection being answered.
const NOT_WAITING: u64 = u64::MAX;

/// The shared view of one connection: updated from inside its task (as bytes, requests and
/// responses pass), read by the accept loop to choose whom to shed.
#[derive(Debug)]
pub(super) struct Watch {
    phase: Mutex<Phase>,
    /// The phase's `waiting_since` in nanoseconds from [`EPOCH`], or [`NOT_WAITING`]: a copy
    /// the accept loop reads without a lock, for every connection, at each shedding.
    waiting: AtomicU64,
    /// Set when the accept loop chose this connection to shed.
    shed: AtomicBool,
    /// The request has a body that has not been read to its end (yet).
    body_unread: AtomicBool,
    header_timeout: Duration,
    idle_timeout: Duration,
    /// Cancelled to close the connection at once: shed at the cap, or the shutdown grace is over.
    close: CancellationToken,
}

impl Watch {
    pub(super) fn new(limits: &ConnectionLimits, close: CancellationToken) -> Arc<Watch> {
        let now = Instant::now();
        let watch = Arc::new(Watch {
            phase: Mutex::new(Phase::Answering),
            waiting: AtomicU64::new(NOT_WAITING),
            shed: AtomicBool::new(false),
            body_unread: AtomicBool::new(false),
            header_timeout: limits.header_timeout,
            idle_timeout: limits.idle_timeout,
            close,
        });
        watch.update(|_| {
            Some(Phase::Head {
                waiting_since: now,
                deadline: now + limits.header_timeout,
            })
        });
        watch
    }

    /// Moves to the phase `next` returns (none: stays), keeping `waiting` in step.
    fn update(&self, next: impl FnOnce(Phase) -> Option<Phase>) {
        // A panic while holding this lock cannot leave a phase half-written (it is `Copy`).
        let mut phase = self.phase.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(new) = next(*phase) {
            *phase = new;
            let waiting = new.waiting_since().map_or(NOT_WAITING, |since| {
                since.saturating_duration_since(*EPOCH).as_nanos() as u64
            });
            self.waiting.store(waiting, Ordering::Relaxed);
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.phase
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .deadline()
    }

    /// Since when the server has been waiting on this client without a request to answer, in
    /// nanoseconds from a common epoch (smaller: waited longer); `None` while it is answering
    /// one, or once it is being shed.
    pub(super) fn waiting_since(&self) -> Option<u64> {
        let waiting = self.waiting.load(Ordering::Relaxed);
        (waiting != NOT_WAITING && !self.was_shed()).then_some(waiting)
    }

    /// Closes the connection at once, to make room (its task drops the socket on its next turn).
    pub(super) fn shed(&self) {
        self.shed.store(true, Ordering::Relaxed);
        self.close.cancel();
    }

    pub(super) fn was_shed(&self) -> bool {
        self.shed.load(Ordering::Relaxed)
    }

    /// Bytes arrived: on an idle connection they start a request head, which now has the
    /// header timeout to complete, and the wait counts from them (a client that has just
    /// started a request is not the one to shed).
    fn bytes_arrived(&self) {
        self.update(|phase| match phase {
            Phase::Idle { .. } => {
                let now = Instant::now();
                Some(Phase::Head {
                    waiting_since: now,
                    deadline: now + self.header_timeout,
                })
            }
            _ => None,
        });
    }

    /// hyper parsed a whole request head: the handler runs.
    fn head_complete(&self) {
        self.update(|_| Some(Phase::Answering));
    }

    /// The handler asked for more of the request body than has arrived: it waits on the client.
    fn body_awaited(&self) {
        self.update(|phase| match phase {
            Phase::Answering => Some(Phase::Body {
                waiting_since: Instant::now(),
            }),
            _ => None,
        });
    }

    /// The request body ended: read to its end, or failed or dropped by the handler.
    fn body_complete(&self, read_to_end: bool) {
        if read_to_end {
            self.body_unread.store(false, Ordering::Relaxed);
        }
        self.update(|phase| match phase {
            Phase::Body { .. } => Some(Phase::Answering),
            _ => None,
        });
    }

    /// The response body has been handed to hyper: the connection waits for the next request.
    fn response_complete(&self, _: bool) {
        let now = Instant::now();
        self.update(|_| {
            Some(Phase::Idle {
                waiting_since: now,
                deadline: now + self.idle_timeout,
            })
        });
    }
}

/// How a connection ended, for the debug log.
enum End {
    /// hyper finished with it: the client closed it, or it was closed after a response.
    Served(Result<(), hyper::Error>),
    /// Its head or idle deadline passed.
    TimedOut,
    /// Shed at the cap, or closed when the shutdown grace was over.
    Closed,
}

/// Serves `stream` until the client or hyper closes it, its deadline passes, or its watch is
/// closed. Once `draining` is cancelled (shutdown), hyper finishes the request in flight and
/// closes the connection instead of waiting for another.
pub(super) async fn serve(
    stream: TcpStream,
    app: Router,
    watch: Arc<Watch>,
    draining: CancellationToken,
) {
    let io = TokioIo::new(Watched {
        stream,
        watch: watch.clone(),
        linger: None,
    });
    let service = hyper::service::service_fn({
        let watch = watch.clone();
        move |request| handle(app.clone(), watch.clone(), request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The head deadline is kept by `Watch` (see the module's comment).
    builder.header_read_timeout(None);
    // A larger request head is answered 431: without a limit hyper reads heads up to its
    // buffer's ~400 KiB, which every connection at the cap could hold.
    builder.max_header_size(MAX_HEAD_BYTES);
    let mut connection = pin!(builder.serve_connection(io, service));
    let mut closed = pin!(watch.close.cancelled());
    let mut drain = pin!(draining.cancelled());
    let mut draining_started = false;
    let mut timer = pin!(tokio::time::sleep_until(
        watch.deadline().unwrap_or_else(Instant::now)
    ));

    let end = poll_fn(|cx: &mut Context<'_>| {
        if closed.as_mut().poll(cx).is_ready() {
            return Poll::Ready(End::Closed);
        }
        if !draining_started && drain.as_mut().poll(cx).is_ready() {
            draining_started = true;
            connection.as_mut().graceful_shutdown();
        }
        if let Poll::Ready(result) = connection.as_mut().poll(cx) {
            return Poll::Ready(End::Served(result));
        }
        // Polling the connection is what moves its phase, so its deadline is read after it.
        if let Some(deadline) = watch.deadline() {
            if timer.deadline() != deadline {
                timer.as_mut().reset(deadline);
            }
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(End::TimedOut);
            }
        }
        Poll::Pending
    })
    .await;
    match end {
        End::Served(Ok(())) => tracing::trace!("connection closed"),
        End::Served(Err(error)) => tracing::debug!(%error, "connection closed on an error"),
        End::TimedOut => tracing::debug!("connection closed: no complete request in time"),
        End::Closed => tracing::debug!("connection closed: shed, or the shutdown grace is over"),
    }
}

/// One request: notes its phases on the connection's watch and runs the application.
fn handle(
    app: Router,
    watch: Arc<Watch>,
    request: Request<Incoming>,
) -> impl Future<Output = Result<Response<Reported<Body>>, Infallible>> {
    watch.head_complete();
    watch
        .body_unread
        .store(!request.body().is_end_stream(), Ordering::Relaxed);
    let request = request.map(|body| {
        Body::new(Reported {
            body,
            watch: watch.clone(),
            awaited: Some(Watch::body_awaited),
            ended: Some(Watch::body_complete),
        })
    });
    async move {
        let mut response = app.oneshot(request).await?;
        if watch.body_unread.load(Ordering::Relaxed) {
            // A body left unread (refused with a 413, say) makes hyper close the connection
            // after this response; saying so keeps the client from sending its next request
            // into a connection that is closing.
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        Ok(response.map(|body| Reported {
            body,
            watch,
            awaited: None,
            ended: Some(Watch::response_complete),
        }))
    }
}

/// A body that tells the watch when it is waited for (polled with nothing there yet) and once
/// it has ended: read to its end, failed, or dropped.
struct Reported<B> {
    body: B,
    watch: Arc<Watch>,
    awaited: Option<fn(&Watch)>,
    /// Told whether the body was read to its end (or failed, or was dropped).
    ended: Option<fn(&Watch, bool)>,
}

impl<B> Reported<B> {
    fn end(&mut self, read_to_end: bool) {
        if let Some(note) = self.ended.take() {
            note(&self.watch, read_to_end);
        }
    }
}

impl<B: HttpBody + Unpin> HttpBody for Reported<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => this.end(true),
            Poll::Ready(Some(Err(_))) => this.end(false),
            Poll::Ready(Some(Ok(_))) if this.body.is_end_stream() => this.end(true),
            Poll::Ready(Some(Ok(_))) => {}
            Poll::Pending => {
                if let Some(note) = this.awaited {
                    note(&this.watch);
                }
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl<B> Drop for Reported<B> {
    fn drop(&mut self) {
        self.end(false);
    }
}

/// The socket, noting on the watch when bytes arrive, and lingering when it closes.
struct Watched {
    stream: TcpStream,
    watch: Arc<Watch>,
    /// Once the FIN is sent: when lingering ends, and how many bytes were discarded.
    linger: Option<(Pin<Box<tokio::time::Sleep>>, usize)>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.watch.bytes_arrived();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    /// Sends the FIN, then, when the client may still be sending a body the server did not
    /// read, discards what arrives until it closes its side (see the module's comment). Other
    /// connections (idle keep-alives closed at shutdown) close at once.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.linger.is_none() {
            std::task::ready!(Pin::new(&mut this.stream).poll_shutdown(cx))?;
            if !this.watch.body_unread.load(Ordering::Relaxed) {
                return Poll::Ready(Ok(()));
            }
        }
        let (until, discarded) = this
            .linger
            .get_or_insert_with(|| (Box::pin(tokio::time::sleep(LINGER)), 0));
        let mut scratch = [0u8; 8192];
        loop {
            if until.as_mut().poll(cx).is_ready() || *discarded > LINGER_BYTES {
                return Poll::Ready(Ok(()));
            }
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.stream).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => {
                    *discarded += buf.filled().len();
                }
                // The client closed its side, or the connection failed: nothing to protect.
                Poll::Ready(_) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
