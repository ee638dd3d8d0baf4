//! The server's lifetime: open the database, serve until told to stop, finish in-flight
//! requests, close. `kassa serve` and the integration tests start kassa through the same
//! [`serve`] function.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::store::Db;

/// Connects to the configured database and brings its schema up to date.
pub async fn open_database(database_url: &str) -> anyhow::Result<Db> {
    let db = Db::connect(database_url).await?;
    db.migrate().await?;
    Ok(db)
}

/// The listeners a server answers on.
pub struct Listeners {
    /// Every route (`--addr`).
    pub api: TcpListener,
    /// `/metrics` alone (`--metrics-addr`), if metrics have a listener of their own.
    pub metrics: Option<TcpListener>,
}

/// Serves the application on `listener`, with the background workers, until `shutdown`
/// completes; then stops accepting, lets in-flight requests finish within the configured
/// grace (closing whatever is still open after it), stops the workers and returns. A
/// `config.metrics_addr` is bound here ([`serve_on`] takes it bound).
pub async fn serve(
    db: Db,
    clock: SharedClock,
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let metrics = match config.metrics_addr {
        Some(addr) => Some(crate::http::server::bind(addr)?),
        None => None,
    };
    let listeners = Listeners {
        api: listener,
        metrics,
    };
    serve_on(db, clock, config, listeners, shutdown).await
}

/// [`serve`] on listeners already bound.
pub async fn serve_on(
    db: Db,
    clock: SharedClock,
    config: Config,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let Listeners {
        api: listener,
        metrics,
    } = listeners;
    let stop = CancellationToken::new();
    let sweeper = tokio::spawn(crate::workers::expiry_sweeper(
        db.clone(),
        clock.clone(),
        config.public_url.clone(),
        stop.clone(),
    ));
    let lease = config.billing_lease_seconds();
    let billing = config.billing_interval.map(|every| {
        tokio::spawn(crate::workers::billing(
            db.clone(),
            clock.clone(),
            config.public_url.clone(),
            every,
            lease,
            stop.clone(),
        ))
    });
    let test_clocks = config.test_clock_interval.map(|every| {
        tokio::spawn(crate::workers::test_clocks(
            db.clone(),
            clock.clone(),
            config.public_url.clone(),
            every,
            lease,
            stop.clone(),
        ))
    });
    let mailer = match &config.smtp {
        Some(smtp) => Some(crate::mail::Mailer::new(smtp, &config.public_url)?),
        None => None,
    };
    let mail = tokio::spawn(crate::mail::run(
        db.clone(),
        clock.clone(),
        mailer,
        config.public_url.clone(),
        config.mail_interval,
        stop.clone(),
    ));
    let deliverer =
        crate::delivery::Deliverer::new(db.clone(), clock.clone(), config.webhook_targets());
    let delivery = tokio::spawn(deliverer.run(stop.clone()));
    let upkeep = tokio::spawn(crate::metrics::upkeep(stop.clone()));
    let limits = config.connections;
    let config = Arc::new(config);
    let metrics_server = metrics.map(|listener| {
        let app = crate::http::metrics_app(db.clone(), clock.clone());
        tokio::spawn(crate::http::server::serve(
            listener,
            app,
            limits,
            stop.clone(),
        ))
    });
    let app = crate::http::app(db.clone(), clock, config, stop.clone());
    release_freed_memory();
    let signal = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        signal.cancel();
    });
    let shutdown_began = crate::http::server::serve(listener, app, limits, stop.clone()).await;
    stop.cancel();
    // The workers finish within what is left of the grace, so a slow webhook receiver cannot
    // hold the shutdown either; a delivery cut short is retried when its lease ends.
    let mut workers = vec![
        sweeper.abort_handle(),
        delivery.abort_handle(),
        mail.abort_handle(),
        upkeep.abort_handle(),
    ];
    workers.extend(
        metrics_server
            .as_ref()
            .map(tokio::task::JoinHandle::abort_handle),
    );
    workers.extend(billing.as_ref().map(tokio::task::JoinHandle::abort_handle));
    workers.extend(
        test_clocks
            .as_ref()
            .map(tokio::task::JoinHandle::abort_handle),
    );
    let finished = tokio::time::timeout_at(shutdown_began + limits.shutdown_grace, async {
        let _ = sweeper.await;
        let _ = delivery.await;
        let _ = mail.await;
        let _ = upkeep.await;
        if let Some(server) = metrics_server {
            let _ = server.await;
        }
        for worker in billing.into_iter().chain(test_clocks) {
            let _ = worker.await;
        }
    })
    .await;
    if finished.is_err() {
        tracing::warn!("shutdown grace over: stopping the background work still running");
        workers.iter().for_each(tokio::task::AbortHandle::abort);
    }
    db.close().await;
    Ok(())
}

/// Returns to the system, now, the memory the start-up has freed. The start-up (migrations on
/// sqlx's connection thread, the routes and their OpenAPI document on this one) frees tens of
/// MB; mimalloc, `kassa serve`'s allocator, returns a thread's freed memory only when that
/// thread next allocates, which this thread, left awaiting the server, seldom does, and an
/// exited thread never does (BENCHMARKS.md: an idle server held 80 MB, 26 MB with this and
/// without huge pages). `force` also takes over what exited threads left behind and purges
/// every arena; any live blocks among them then belong to this thread, and their pages' free
/// space stays unused by the others, which costs less than keeping the rest resident. Without
/// mimalloc as the global allocator (the tests) it has nothing to do.
fn release_freed_memory() {
    // SAFETY: `mi_collect` takes no pointer and may be called from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
