//! Slow clients: `kassa serve` runs under a small open-file limit while hostile connections
//! each send half a request head and hold it (opened again whenever the server closes them),
//! more of them than the limit allows. Meanwhile real clients keep creating sessions and a
//! probe asks `/healthz` ten times a second; then SIGTERM comes with the attack still on.
//!
//! It passes when the real clients get at least 99 % answers with a p99 under 1 s, every health
//! check answers 200 within 1 s, and the process exits 0 within its shutdown grace plus 1 s.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use crate::harness::{Engine, KassaProcess, TestDatabase, on_both_engines};
use crate::shop::Shop;

on_both_engines!(slow_clients);

/// A request head cut short: the blank line that ends it never comes.
const HALF_HEAD: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: kassa\r\nAccept: */*\r\n";

struct Form {
    /// The server's open-file limit (`prlimit --nofile`).
    nofile: u64,
    /// Hostile connections held at once.
    hostile: usize,
    /// Real clients creating sessions, one request at a time each.
    clients: usize,
    /// How long the attack runs before SIGTERM.
    attack: Duration,
    /// The server's `--shutdown-grace`.
    grace: Duration,
}

const SHORT: Form = Form {
    nofile: 256,
    hostile: 300,
    clients: 4,
    attack: Duration::from_secs(6),
    grace: Duration::from_secs(2),
};

const LONG: Form = Form {
    nofile: 1024,
    hostile: 2000,
    clients: 8,
    attack: Duration::from_secs(30),
    grace: Duration::from_secs(10),
};

#[derive(Default)]
struct Tally {
    /// Latency of each answered session create, in microseconds.
    answered: std::sync::Mutex<Vec<u64>>,
    failed: std::sync::Mutex<Vec<String>>,
    health: std::sync::Mutex<Vec<Result<u64, String>>>,
    /// Hostile connections opened, and closed by the server.
    opened: AtomicU64,
    closed: AtomicU64,
}

async fn slow_clients(engine: Engine) {
    let form = if crate::full() { LONG } else { SHORT };
    let own = rlimit::increase_nofile_limit(form.hostile as u64 + 1024)
        .expect("raise the drill's own open-file limit");
    assert!(
        own >= form.hostile as u64 + 256,
        "the drill needs {} open files for its own connections; its hard limit allows {own}",
        form.hostile + 256
    );
    let database = TestDatabase::new(engine).await;
    let nofile = format!("--nofile={}", form.nofile);
    let grace = format!("{}s", form.grace.as_secs());
    let mut server = KassaProcess::start_with(
        &database.url,
        "127.0.0.1:0",
        &["prlimit", &nofile],
        &["--shutdown-grace", &grace],
    )
    .await;
    let key = server.banner_value("test key").await.unwrap();
    let base = server.base.clone();
    let addr = base.trim_start_matches("http://").to_string();
    let pid = server.child.id().unwrap();
    let tally = Arc::new(Tally::default());

    let attacking = Arc::new(AtomicBool::new(true));
    let mut hostile = Vec::new();
    for _ in 0..form.hostile {
        hostile.push(tokio::spawn(hold_half_open(
            addr.clone(),
            attacking.clone(),
            tally.clone(),
        )));
    }
    // The hostile connections are all open (or in the backlog) before the clients start.
    while tally.opened.load(Ordering::Relaxed) < form.hostile as u64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let serving = Arc::new(AtomicBool::new(true));
    let mut clients = Vec::new();
    for _ in 0..form.clients {
        let shop = Shop::new(&key);
        let (base, serving, tally) = (base.clone(), serving.clone(), tally.clone());
        clients.push(tokio::spawn(async move {
            while serving.load(Ordering::Relaxed) {
                create_session(&shop, &base, &tally).await;
            }
        }));
    }
    let probe = tokio::spawn(probe_health(base.clone(), serving.clone(), tally.clone()));
    let mut peak_files = 0;
    let started = Instant::now();
    let cpu_before = cpu_seconds(pid);
    while started.elapsed() < form.attack {
        peak_files = peak_files.max(open_files(pid));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let server_cpu = (cpu_seconds(pid) - cpu_before) / started.elapsed().as_secs_f64();
    serving.store(false, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    probe.await.unwrap();

    // SIGTERM with the attack still on.
    let signalled = Instant::now();
    server.signal("TERM");
    let exit = server.wait().await;
    let shutdown = signalled.elapsed();
    attacking.store(false, Ordering::Relaxed);
    for task in hostile {
        task.abort();
    }

    let mut latencies = tally.answered.lock().unwrap().clone();
    latencies.sort_unstable();
    let failed = tally.failed.lock().unwrap().clone();
    let attempts = latencies.len() + failed.len();
    let success = latencies.len() as f64 / attempts.max(1) as f64;
    // No answer at all reads as an infinite latency, so that the checks below fail by name.
    let p = |q: f64| match latencies.len() {
        0 => Duration::MAX,
        n => Duration::from_micros(latencies[((n - 1) as f64 * q) as usize]),
    };
    let health = tally.health.lock().unwrap().clone();
    let health_max = health.iter().flatten().max().copied().unwrap_or(0);
    let health_failed: Vec<&String> = health.iter().filter_map(|h| h.as_ref().err()).collect();
    println!(
        "{engine:?}: server limited to {} open files (peak {peak_files} open); {} hostile \
         connections held, {} opened in all, {} closed by the server; {} real clients for {:?}; \
         the server used {:.0} % of a core",
        form.nofile,
        form.hostile,
        tally.opened.load(Ordering::Relaxed),
        tally.closed.load(Ordering::Relaxed),
        form.clients,
        form.attack,
        server_cpu * 100.0,
    );
    println!(
        "sessions: {} of {attempts} answered ({:.2} %), p50 {:?}, p99 {:?}, max {:?}; \
         health: {} checks, {} failed, slowest {:?}; SIGTERM: exit {exit:?} after {shutdown:?} \
         (grace {:?})",
        latencies.len(),
        success * 100.0,
        p(0.5),
        p(0.99),
        p(1.0),
        health.len(),
        health_failed.len(),
        Duration::from_micros(health_max),
        form.grace,
    );
    if !failed.is_empty() {
        println!("failed: {failed:?}");
    }
    assert!(success >= 0.99, "too many failed requests");
    assert!(p(0.99) < Duration::from_secs(1), "p99 {:?}", p(0.99));
    assert!(
        health_failed.is_empty(),
        "health checks failed: {health_failed:?}"
    );
    assert_eq!(exit, Some(0), "SIGTERM exits 0");
    assert!(
        shutdown <= form.grace + Duration::from_secs(1),
        "SIGTERM took {shutdown:?}"
    );
}

/// One hostile connection: sends half a head and holds it; when the server closes it, opens
/// another a moment later.
async fn hold_half_open(addr: String, attacking: Arc<AtomicBool>, tally: Arc<Tally>) {
    while attacking.load(Ordering::Relaxed) {
        let Ok(mut stream) = tokio::net::TcpStream::connect(&addr).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        tally.opened.fetch_add(1, Ordering::Relaxed);
        if stream.write_all(HALF_HEAD).await.is_ok() {
            // Whatever ends the read (end of stream or reset), the server closed it.
            let _ = stream.read(&mut [0u8; 64]).await;
        }
        tally.closed.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn create_session(shop: &Shop, base: &str, tally: &Tally) {
    let started = Instant::now();
    let response = shop
        .http
        .post(format!("{base}/v1/checkout/sessions"))
        .bearer_auth(&shop.key)
        .timeout(Duration::from_secs(5))
        .form(&[
            ("mode", "payment"),
            ("success_url", "https://shop.example/ok"),
            ("line_items[0][price_data][currency]", "usd"),
            ("line_items[0][price_data][unit_amount]", "2500"),
            ("line_items[0][price_data][product_data][name]", "Shirt"),
            ("line_items[0][quantity]", "1"),
        ])
        .send()
        .await;
    let outcome = match response {
        Ok(response) if response.status() == 200 => match response.bytes().await {
            Ok(_) => Ok(started.elapsed()),
            Err(error) => Err(format!("body: {error}")),
        },
        Ok(response) => Err(format!("status {}", response.status())),
        Err(error) => Err(format!("{error:?}")),
    };
    match outcome {
        Ok(latency) => tally
            .answered
            .lock()
            .unwrap()
            .push(latency.as_micros() as u64),
        Err(error) => tally.failed.lock().unwrap().push(error),
    }
}

/// `GET /healthz` every 100 ms on a new connection each time, as a load balancer checks.
async fn probe_health(base: String, serving: Arc<AtomicBool>, tally: Arc<Tally>) {
    while serving.load(Ordering::Relaxed) {
        let started = Instant::now();
        let response = reqwest::Client::new()
            .get(format!("{base}/healthz"))
            .timeout(Duration::from_secs(1))
            .send()
            .await;
        let outcome = match response {
            Ok(response) if response.status() == 200 => Ok(started.elapsed().as_micros() as u64),
            Ok(response) => Err(format!("status {}", response.status())),
            Err(error) => Err(format!("{error:?}")),
        };
        tally.health.lock().unwrap().push(outcome);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The processor time `pid` has used so far, in seconds (user and system).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may contain spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = fields
        .get(11..13)
        .map(|t| t.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    // Linux counts in clock ticks of 1/100 s (USER_HZ).
    ticks / 100.0
}

/// The files `pid` has open now.
fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|entries| entries.count())
        .unwrap_or(0)
}
