//! Measures webhook delivery by a real `kassa serve` (in this process) to a local receiver, on
//! SQLite or PostgreSQL, in two phases:
//!
//! 1. backlog: 10 000 events are written before the server starts; then it starts and the time
//!    until the receiver has all of them gives the delivery rate;
//! 2. live: 10 000 more events are written while the server runs, at 500 per second (below the
//!    delivery rate, so the queue stays short), and each one's latency from its change's commit
//!    to the receiver's 2xx is measured.
//!
//! ```sh
//! cargo run --release --example webhook_throughput -- sqlite
//! cargo run --release --example webhook_throughput -- postgres postgres://postgres@127.0.0.1/postgres
//! ```
//!
//! Events are written by creating customers through the domain, 8 writers at a time, as fast as
//! the database takes them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use kassa::clock::{Clock, SystemClock};
use kassa::config::Config;
use kassa::domain::Mode;
use kassa::domain::accounts::{self, Caller};
use kassa::store::Db;

const EVENTS: usize = 10_000;
const WRITERS: usize = 8;
/// The live phase's pace: events per second, over all writers.
const LIVE_RATE: u64 = 500;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let engine = args.get(1).map(String::as_str).unwrap_or("sqlite");
    let folder = tempfile::tempdir()?;
    let url = match engine {
        "postgres" => {
            let server = args
                .get(2)
                .cloned()
                .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let name = format!(
                "kassa_bench_{}",
                kassa::domain::ids::random_base62(8).to_lowercase()
            );
            if let Db::Postgres(kassa::store::PostgresDb { pool, .. }) =
                Db::connect(&server).await?
            {
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&pool)
                    .await?;
            }
            let (base, _) = server.rsplit_once('/').expect("a database URL");
            format!("{base}/{name}")
        }
        _ => format!("sqlite://{}", folder.path().join("bench.db").display()),
    };
    let db = kassa::app::open_database(&url).await?;
    let now = SystemClock.now();
    let account = accounts::create_account(&db, "Bench", now).await?;
    let caller = Caller {
        account_id: account.account.id.clone(),
        mode: Mode::Test,
        key_id: String::new(),
    };

    // The receiver: notes when each event arrived.
    let arrived: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let sink = arrived.clone();
    let receiver = axum::Router::new().fallback(move |body: Bytes| {
        let sink = sink.clone();
        async move {
            let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let object = event["data"]["object"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            sink.lock()
                .unwrap()
                .entry(object)
                .or_insert_with(Instant::now);
            "ok"
        }
    });
    let receiver_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver_url = format!("http://{}/hooks", receiver_listener.local_addr()?);
    tokio::spawn(async move { axum::serve(receiver_listener, receiver).await });

    let endpoint = kassa::domain::webhooks::EndpointInput {
        url: Some(receiver_url),
        enabled_events: Some(vec!["customer.created".into()]),
        ..Default::default()
    };
    kassa::domain::webhooks::create_endpoint(
        &db,
        &caller,
        endpoint,
        kassa::domain::webhooks::PrivateTargets::default(),
        now,
    )
    .await?;

    println!("engine: {engine}, {EVENTS} events per phase, {WRITERS} writers");

    // Phase 1: a backlog, then the server starts.
    let written = write_events(&db, &caller, None).await;
    println!("backlog written in {:.2} s", written.1.as_secs_f64());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let started = Instant::now();
    tokio::spawn(kassa::app::serve(
        db.clone(),
        Arc::new(SystemClock),
        Config::for_database(addr, url.clone()),
        listener,
        std::future::pending(),
    ));
    wait_for(&arrived, EVENTS, started).await?;
    let drained = arrived
        .lock()
        .unwrap()
        .values()
        .max()
        .copied()
        .expect("arrivals");
    let drain = drained.duration_since(started);
    println!(
        "backlog delivered in {:.2} s: {:.0} deliveries/s",
        drain.as_secs_f64(),
        EVENTS as f64 / drain.as_secs_f64()
    );

    // Phase 2: live.
    arrived.lock().unwrap().clear();
    let started = Instant::now();
    let pause = Duration::from_micros(1_000_000 * WRITERS as u64 / LIVE_RATE);
    let (committed, written) = write_events(&db, &caller, Some(pause)).await;
    wait_for(&arrived, EVENTS, started).await?;
    let arrived = arrived.lock().unwrap();
    let mut latencies: Vec<f64> = committed
        .iter()
        .map(|(id, at)| arrived[id].saturating_duration_since(*at).as_secs_f64() * 1000.0)
        .collect();
    latencies.sort_by(f64::total_cmp);
    let percentile =
        |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "live: written in {:.2} s ({:.0} events/s), commit to receiver 2xx: median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        written.as_secs_f64(),
        EVENTS as f64 / written.as_secs_f64(),
        percentile(0.5),
        percentile(0.99),
        latencies[latencies.len() - 1]
    );
    Ok(())
}

/// Creates `EVENTS` customers (one `customer.created` event each) with `WRITERS` writers, each
/// waiting `pause` between two (none: as fast as they can); returns when each committed, and
/// how long it all took.
async fn write_events(
    db: &Db,
    caller: &Caller,
    pause: Option<Duration>,
) -> (HashMap<String, Instant>, Duration) {
    let started = Instant::now();
    let committed: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (db, caller, committed) = (db.clone(), caller.clone(), committed.clone());
        writers.push(tokio::spawn(async move {
            for _ in (w..EVENTS).step_by(WRITERS) {
                let customer = kassa::domain::customers::create_customer(
                    &db,
                    &caller,
                    Default::default(),
                    SystemClock.now(),
                )
                .await
                .expect("create a customer");
                committed
                    .lock()
                    .unwrap()
                    .insert(customer.id, Instant::now());
                if let Some(pause) = pause {
                    tokio::time::sleep(pause).await;
                }
            }
        }));
    }
    for writer in writers {
        writer.await.expect("a writer");
    }
    let committed = std::mem::take(&mut *committed.lock().unwrap());
    (committed, started.elapsed())
}

async fn wait_for(
    arrived: &Mutex<HashMap<String, Instant>>,
    count: usize,
    started: Instant,
) -> anyhow::Result<()> {
    loop {
        let have = arrived.lock().unwrap().len();
        if have >= count {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(600) {
            anyhow::bail!("only {have} of {count} events arrived in 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
