//! Measures webhook delivery: 10 000 events written while a local receiver is up, delivered by
//! a real `kassa serve` (in this process) to that receiver, on SQLite or PostgreSQL.
//!
//!     cargo run --release --example webhook_throughput -- sqlite
//!     cargo run --release --example webhook_throughput -- postgres postgres://postgres@127.0.0.1/postgres
//!
//! Events are written by creating customers through the domain, 8 writers at a time, as fast as
//! the database takes them. Prints the delivery rate (events per second from the first write to
//! the last 2xx) and the median and p99 latency from each change's commit to its receiver's 2xx.

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
            if let Db::Postgres(pool) = Db::connect(&server).await? {
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
    kassa::domain::webhooks::create_endpoint(&db, &caller, endpoint, false, now).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(kassa::app::serve(
        db.clone(),
        Arc::new(SystemClock),
        Config::for_database(addr, url.clone()),
        listener,
        std::future::pending(),
    ));

    println!("engine: {engine}, {EVENTS} events, {WRITERS} writers");
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
            }
        }));
    }
    for writer in writers {
        writer.await?;
    }
    let written = started.elapsed();
    loop {
        let count = arrived.lock().unwrap().len();
        if count >= EVENTS {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            anyhow::bail!("only {count} of {EVENTS} events arrived in 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let arrived = arrived.lock().unwrap();
    let last = arrived.values().max().copied().expect("events arrived");
    let total = last.duration_since(started);
    let committed = committed.lock().unwrap();
    let mut latencies: Vec<f64> = committed
        .iter()
        .map(|(id, at)| arrived[id].saturating_duration_since(*at).as_secs_f64() * 1000.0)
        .collect();
    latencies.sort_by(f64::total_cmp);
    let percentile =
        |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "written in {:.2} s ({:.0} events/s); all delivered after {:.2} s: {:.0} events/s",
        written.as_secs_f64(),
        EVENTS as f64 / written.as_secs_f64(),
        total.as_secs_f64(),
        EVENTS as f64 / total.as_secs_f64()
    );
    println!(
        "commit to receiver 2xx: median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(0.5),
        percentile(0.99),
        latencies[latencies.len() - 1]
    );
    Ok(())
}
