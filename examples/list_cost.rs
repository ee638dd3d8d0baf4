//! Measures what one page of a list costs as the table grows: products (100 → 100 000) and
//! checkout sessions (1 000 → 1 000 000), on SQLite or PostgreSQL.
//!
//!     cargo run --release --example list_cost -- sqlite
//!     cargo run --release --example list_cost -- postgres postgres://postgres@127.0.0.1/postgres
//!
//! Rows are seeded with plain SQL in large transactions (the API would take hours for a
//! million); the pages are then read over HTTP from a real server, and the median and p95 of
//! 200 requests are printed per scenario.

use std::sync::Arc;
use std::time::Instant;

use kassa::clock::{Clock, SystemClock};
use kassa::config::Config;
use kassa::domain::Mode;
use kassa::domain::accounts::{self, Caller};
use kassa::store::{Db, args};

const SAMPLES: usize = 200;

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
            if let admin @ Db::Postgres(_) = Db::connect(&server).await? {
                admin
                    .execute(&format!("CREATE DATABASE {name}"), &[])
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
    let key = account.test_key.secret.clone();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let config = Config::for_database(addr, url.clone());
    tokio::spawn(kassa::app::serve(
        db.clone(),
        Arc::new(SystemClock),
        config,
        listener,
        std::future::pending(),
    ));
    let base = format!("http://{addr}");
    kassa::delivery::install_tls_provider();
    let http = reqwest::Client::new();

    println!("engine: {engine}");
    println!("| list | rows | p50 ms | p95 ms |");
    println!("| --- | ---: | ---: | ---: |");
    let mut products = 0;
    for target in [100, 100_000] {
        seed_products(&db, &caller, products, target, now).await?;
        kassa::store::counts::rebuild(&db).await?;
        products = target;
        for (label, path) in [
            (
                "GET /api/v3/products?limit=100",
                "/api/v3/products?limit=100",
            ),
            (
                "GET /v1/products?limit=100&active=true",
                "/v1/products?limit=100&active=true",
            ),
            (
                "GET /api/v2/products?limit=100&status=ACTIVE (with total)",
                "/api/v2/products?limit=100&status=ACTIVE",
            ),
        ] {
            let (p50, p95) = measure(&http, &base, path, &key).await?;
            println!("| {label} | {products} | {p50:.2} | {p95:.2} |");
        }
    }
    let (price_id,): (String,) = db.fetch_one("SELECT id FROM prices LIMIT 1", &[]).await?;
    let mut sessions = 0;
    for target in [1_000, 1_000_000] {
        seed_sessions(&db, &caller, &price_id, sessions, target, now).await?;
        kassa::store::counts::rebuild(&db).await?;
        sessions = target;
        for (label, path) in [
            (
                "GET /api/v3/checkout/sessions?limit=10&status=open",
                "/api/v3/checkout/sessions?limit=10&status=open",
            ),
            (
                "GET /api/v3/checkout/sessions?limit=100&status=open",
                "/api/v3/checkout/sessions?limit=100&status=open",
            ),
            (
                "GET /api/v3/checkout/sessions?limit=100&externalCustomerId=c7",
                "/api/v3/checkout/sessions?limit=100&externalCustomerId=c7",
            ),
            (
                "GET /api/v2/checkout/sessions?limit=100&status=PENDING (with total)",
                "/api/v2/checkout/sessions?limit=100&status=PENDING",
            ),
        ] {
            let (p50, p95) = measure(&http, &base, path, &key).await?;
            println!("| {label} | {sessions} | {p50:.2} | {p95:.2} |");
        }
    }
    Ok(())
}

async fn measure(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    key: &str,
) -> anyhow::Result<(f64, f64)> {
    let mut times = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES + 20 {
        let started = Instant::now();
        let response = http
            .get(format!("{base}{path}"))
            .bearer_auth(key)
            .send()
            .await?;
        anyhow::ensure!(response.status() == 200, "{path}: {}", response.status());
        response.bytes().await?;
        if i >= 20 {
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    Ok((times[SAMPLES / 2], times[SAMPLES * 95 / 100]))
}

/// Inserts products `from..to` (each with its own price), 5 000 rows per transaction.
async fn seed_products(
    db: &Db,
    caller: &Caller,
    from: usize,
    to: usize,
    now: i64,
) -> anyhow::Result<()> {
    for chunk_start in (from..to).step_by(5_000) {
        let chunk_end = (chunk_start + 5_000).min(to);
        db.write(async |tx| {
            for i in chunk_start..chunk_end {
                let product = format!("prod_{:012}bench{i:010}", now);
                let price = format!("price_{:012}bench{i:010}", now);
                tx.execute("INSERT INTO products (id, account_id, livemode, name, description, status, amount_type, \
                     default_price_id, images, thumbnail_url, statement_descriptor, tax_code, unit_label, url, \
                     shippable, type, metadata, created, updated) VALUES ($1, $2, FALSE, $3, NULL, $4, \
                     'FIXED', $5, '[]', NULL, NULL, NULL, NULL, NULL, NULL, 'service', '{}', $6, $6)", &args![&product, &caller.account_id, format!("Product {i}"), if i % 10 == 0 { "INACTIVE" } else { "ACTIVE" }, &price, now])
                .await?;
                tx.execute("INSERT INTO prices (id, account_id, livemode, product_id, active, currency, unit_amount, \
                     custom_enabled, tax_behavior, metadata, created) VALUES ($1, $2, FALSE, $3, TRUE, 'usd', $4, \
                     FALSE, 'unspecified', '{}', $5)", &args![&price, &caller.account_id, &product, 1000 + i as i64, now])
                .await?;
            }
            Ok(())
        })
        .await?;
    }
    Ok(())
}

/// Inserts sessions `from..to` with one line each: 70 % open, 20 % completed, 10 % expired.
async fn seed_sessions(
    db: &Db,
    caller: &Caller,
    price: &str,
    from: usize,
    to: usize,
    now: i64,
) -> anyhow::Result<()> {
    for chunk_start in (from..to).step_by(10_000) {
        let chunk_end = (chunk_start + 10_000).min(to);
        db.write(async |tx| {
            for i in chunk_start..chunk_end {
                let id = format!("cs_test_{:012}bench{i:010}", now);
                let state = match i % 10 {
                    0 | 1 => "completed",
                    2 => "expired",
                    _ => "open",
                };
                tx.execute("INSERT INTO checkout_sessions (id, account_id, livemode, state, mode, payment_status, currency, \
                     amount_subtotal, amount_total, product_name, metadata, settings, declined_attempts, created, \
                     updated, expires_at, external_customer_id) VALUES ($1, $2, FALSE, $3, 'payment', 'unpaid', 'usd', \
                     2999, 2999, 'Pro', '{}', '{}', 0, $4, $4, $5, $6)", &args![&id, &caller.account_id, state, now, now + 86_400, format!("c{}", i % 1000)])
                .await?;
                tx.execute("INSERT INTO checkout_line_items (id, session_id, position, price_id, description, currency, \
                     unit_amount, quantity, adjustable_enabled, amount_subtotal, amount_total) VALUES ($1, $2, 0, $3, \
                     'Pro', 'usd', 2999, 1, FALSE, 2999, 2999)", &args![format!("li_{:012}bench{i:010}", now), &id, price])
                .await?;
            }
            Ok(())
        })
        .await?;
    }
    Ok(())
}
