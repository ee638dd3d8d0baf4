//! Physical-limit baselines for the checkout API: one binary, several backends.
//!
//!   baseline seed-sqlite <path> <rows>      create + fill `sessions` (WAL)
//!   baseline seed-pg <url> <rows>           same for PostgreSQL
//!   baseline serve                           env: BACKEND=static|sqlite|sqlite-batch|pg|rusqlite|rusqlite-batch
//!                                            PORT (8080), DB (path or url), POOL, SYNC=NORMAL|FULL
//! Routes: GET /s/{id} -> row body (static: fixed ~1.5 KB JSON, or the bytes of BODY_FILE),
//!         POST /s -> insert body, echo it.
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header::CONTENT_TYPE, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use sqlx::{
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    Connection, PgPool, SqlitePool,
};
use std::{
    str::FromStr,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};
use tokio::sync::{mpsc, oneshot};

/// A ~1.5 KB JSON document shaped like a checkout session.
fn session_json(id: &str, n: u64) -> String {
    let mut items = String::new();
    for i in 0..5 {
        if i > 0 {
            items.push(',');
        }
        items.push_str(&format!(
            r#"{{"id":"li_{n:010}_{i}","price_id":"price_{i:04}_standard_monthly","description":"Line item {i} for order {n}","quantity":{q},"unit_amount":{u},"amount_subtotal":{s},"amount_total":{s},"currency":"usd"}}"#,
            q = 1 + i,
            u = 1999 + i * 100,
            s = (1 + i) * (1999 + i * 100)
        ));
    }
    format!(
        r#"{{"id":"{id}","object":"checkout.session","status":"open","payment_status":"unpaid","mode":"payment","currency":"usd","amount_subtotal":25980,"amount_total":25980,"customer_email":"customer{n}@example.com","client_reference_id":"order_{n:012}","success_url":"https://shop.example.com/checkout/success?session_id={{CHECKOUT_SESSION_ID}}","cancel_url":"https://shop.example.com/checkout/cancel","created":1767225600,"expires_at":1767312000,"line_items":[{items}],"metadata":{{"cart_id":"cart_{n:012}","channel":"web","campaign":"spring-sale"}},"url":"https://pay.example.com/c/{id}"}}"#
    )
}

fn json(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    (status, [(CONTENT_TYPE, "application/json")], body.into()).into_response()
}

static ID_CTR: AtomicU64 = AtomicU64::new(0);
fn new_id() -> String {
    // splitmix64 over (time seed ^ counter): random-looking, unique per process.
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let seed = *SEED.get_or_init(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    let mut z = seed.wrapping_add(ID_CTR.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
    z ^= z >> 31;
    format!("cs_w{z:016x}")
}

struct Job {
    id: String,
    body: String,
    done: oneshot::Sender<Result<String, String>>,
}

#[derive(Clone)]
enum Backend {
    Static(Bytes),
    Sqlite(SqlitePool),
    SqliteBatch(SqlitePool, mpsc::Sender<Job>),
    Pg(PgPool),
    /// A create that reads before it writes, as a checkout with a price id reads its price:
    /// one point read, then one INSERT, so two round trips per request.
    PgReadWrite(PgPool),
    /// Not via sqlx: rusqlite, one read-only connection per tokio worker thread, query run
    /// inline on the worker (no thread hop). Shows how much of sqlite-read is sqlx overhead.
    Rusqlite(std::sync::Arc<str>),
    /// Group commit without sqlx: one OS thread owns the rusqlite writer connection and
    /// commits whatever queued while the previous commit was being synced (max 256). A write
    /// costs one hand-off to that thread and back, not one per statement; reads as `Rusqlite`.
    RusqliteBatch(std::sync::Arc<str>, std::sync::mpsc::Sender<Job>),
}

thread_local! {
    static RCONN: std::cell::RefCell<Option<rusqlite::Connection>> = const { std::cell::RefCell::new(None) };
}

fn rusqlite_get(path: &str, id: &str) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    RCONN.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = Some(rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?);
        }
        let conn = c.as_ref().unwrap();
        let mut st = conn.prepare_cached("SELECT body FROM sessions WHERE id = ?1")?;
        st.query_row([id], |r| r.get(0)).optional()
    })
}

async fn get_session(State(b): State<Backend>, Path(id): Path<String>) -> Response {
    let row: Result<Option<String>, sqlx::Error> = match &b {
        Backend::Static(body) => return json(StatusCode::OK, body.clone()),
        Backend::Sqlite(p) | Backend::SqliteBatch(p, _) => {
            sqlx::query_scalar("SELECT body FROM sessions WHERE id = ?").bind(&id).fetch_optional(p).await
        }
        Backend::Pg(p) | Backend::PgReadWrite(p) => {
            sqlx::query_scalar("SELECT body FROM sessions WHERE id = $1").bind(&id).fetch_optional(p).await
        }
        Backend::Rusqlite(path) | Backend::RusqliteBatch(path, _) => {
            rusqlite_get(path, &id).map_err(|e| sqlx::Error::Protocol(e.to_string()))
        }
    };
    match row {
        Ok(Some(body)) => json(StatusCode::OK, body),
        Ok(None) => json(StatusCode::NOT_FOUND, r#"{"error":"not_found"}"#),
        Err(e) => json(StatusCode::INTERNAL_SERVER_ERROR, format!(r#"{{"error":"{e}"}}"#)),
    }
}

async fn create_session(State(b): State<Backend>, body: String) -> Response {
    let id = new_id();
    let res = match &b {
        Backend::Static(_) | Backend::Rusqlite(_) => Ok(body),
        Backend::Sqlite(p) => sqlx::query("INSERT INTO sessions (id, body) VALUES (?, ?)")
            .bind(&id)
            .bind(&body)
            .execute(p)
            .await
            .map(|_| body)
            .map_err(|e| e.to_string()),
        Backend::RusqliteBatch(_, tx) => {
            let (done, rx) = oneshot::channel();
            if tx.send(Job { id, body, done }).is_err() {
                Err("writer gone".into())
            } else {
                rx.await.unwrap_or_else(|_| Err("writer dropped job".into()))
            }
        }
        Backend::SqliteBatch(_, tx) => {
            let (done, rx) = oneshot::channel();
            if tx.send(Job { id, body, done }).await.is_err() {
                Err("writer gone".into())
            } else {
                rx.await.unwrap_or_else(|_| Err("writer dropped job".into()))
            }
        }
        Backend::PgReadWrite(p) => {
            let read: Result<Option<String>, _> =
                sqlx::query_scalar("SELECT body FROM sessions WHERE id = 'cs_00000042'").fetch_optional(p).await;
            match read {
                Ok(_) => sqlx::query("INSERT INTO sessions (id, body) VALUES ($1, $2)")
                    .bind(&id)
                    .bind(&body)
                    .execute(p)
                    .await
                    .map(|_| body)
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
        Backend::Pg(p) => sqlx::query("INSERT INTO sessions (id, body) VALUES ($1, $2)")
            .bind(&id)
            .bind(&body)
            .execute(p)
            .await
            .map(|_| body)
            .map_err(|e| e.to_string()),
    };
    match res {
        Ok(body) => json(StatusCode::OK, body),
        Err(e) => json(StatusCode::INTERNAL_SERVER_ERROR, format!(r#"{{"error":"{e}"}}"#)),
    }
}

/// Group commit: one task owns the single writer connection and commits whatever
/// requests queued up while the previous transaction was being fsynced (max 256).
async fn batch_writer(pool: SqlitePool, mut rx: mpsc::Receiver<Job>) {
    let mut conn = pool.acquire().await.expect("writer conn");
    let mut jobs = Vec::with_capacity(256);
    let (mut n_tx, mut n_jobs, mut last) = (0u64, 0u64, std::time::Instant::now());
    while rx.recv_many(&mut jobs, 256).await > 0 {
        (n_tx, n_jobs) = (n_tx + 1, n_jobs + jobs.len() as u64);
        if last.elapsed() > Duration::from_secs(5) {
            eprintln!("batch-writer: {n_jobs} rows in {n_tx} commits, {:.1} rows/commit", n_jobs as f64 / n_tx as f64);
            (n_tx, n_jobs, last) = (0, 0, std::time::Instant::now());
        }
        let res: Result<(), sqlx::Error> = async {
            let mut t = conn.begin().await?;
            for j in &jobs {
                sqlx::query("INSERT INTO sessions (id, body) VALUES (?, ?)")
                    .bind(&j.id)
                    .bind(&j.body)
                    .execute(&mut *t)
                    .await?;
            }
            t.commit().await
        }
        .await;
        for j in jobs.drain(..) {
            let _ = j.done.send(match &res {
                Ok(()) => Ok(j.body),
                Err(e) => Err(e.to_string()),
            });
        }
    }
}

/// The rusqlite writer thread of `RusqliteBatch`: blocks for a job, takes whatever else has
/// queued (up to 256), and commits them in one transaction.
fn rusqlite_batch_writer(path: &str, sync: &str, rx: std::sync::mpsc::Receiver<Job>) {
    let conn = rusqlite::Connection::open(path).expect("writer conn");
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", sync).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let mut jobs = Vec::with_capacity(256);
    while let Ok(first) = rx.recv() {
        jobs.push(first);
        while jobs.len() < 256 {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let res = (|| -> rusqlite::Result<()> {
            conn.execute_batch("BEGIN")?;
            {
                let mut st = conn.prepare_cached("INSERT INTO sessions (id, body) VALUES (?1, ?2)")?;
                for j in &jobs {
                    st.execute([&j.id, &j.body])?;
                }
            }
            conn.execute_batch("COMMIT")
        })();
        if res.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for j in jobs.drain(..) {
            let _ = j.done.send(match &res {
                Ok(()) => Ok(j.body),
                Err(e) => Err(e.to_string()),
            });
        }
    }
}

fn sqlite_opts(path: &str, sync: &str) -> SqliteConnectOptions {
    SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
        .unwrap()
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(match sync {
            "FULL" => SqliteSynchronous::Full,
            "OFF" => SqliteSynchronous::Off,
            _ => SqliteSynchronous::Normal,
        })
        .busy_timeout(Duration::from_secs(10))
}

fn env(k: &str, d: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| d.to_string())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("seed-sqlite") => {
            let n: u64 = args[3].parse().unwrap();
            let pool = SqlitePoolOptions::new().max_connections(1).connect_with(sqlite_opts(&args[2], "NORMAL")).await.unwrap();
            sqlx::query("CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, body TEXT NOT NULL)").execute(&pool).await.unwrap();
            let mut t = pool.begin().await.unwrap();
            for i in 0..n {
                let id = format!("cs_{i:08}");
                sqlx::query("INSERT INTO sessions (id, body) VALUES (?, ?)").bind(&id).bind(session_json(&id, i)).execute(&mut *t).await.unwrap();
            }
            t.commit().await.unwrap();
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await.unwrap();
            println!("seeded {n} rows into {}", args[2]);
        }
        Some("seed-pg") => {
            let n: u64 = args[3].parse().unwrap();
            let pool = PgPoolOptions::new().max_connections(1).connect(&args[2]).await.unwrap();
            sqlx::query("DROP TABLE IF EXISTS sessions").execute(&pool).await.unwrap();
            sqlx::query("CREATE TABLE sessions (id TEXT PRIMARY KEY, body TEXT NOT NULL)").execute(&pool).await.unwrap();
            let mut t = pool.begin().await.unwrap();
            for i in 0..n {
                let id = format!("cs_{i:08}");
                sqlx::query("INSERT INTO sessions (id, body) VALUES ($1, $2)").bind(&id).bind(session_json(&id, i)).execute(&mut *t).await.unwrap();
            }
            t.commit().await.unwrap();
            sqlx::query("VACUUM ANALYZE sessions").execute(&pool).await.unwrap();
            println!("seeded {n} rows into postgres");
        }
        Some("body") => println!("{}", session_json("cs_00000042", 42)),
        Some("serve") => {
            let pool_n: u32 = env("POOL", "4").parse().unwrap();
            let db = env("DB", "./.baseline-work/data/read.db");
            let backend = match env("BACKEND", "static").as_str() {
                // BODY_FILE: serve that file's bytes instead (a page of a list, say).
                "static" => Backend::Static(match std::env::var("BODY_FILE") {
                    Ok(path) if !path.is_empty() => Bytes::from(std::fs::read(path).unwrap()),
                    _ => Bytes::from(session_json("cs_00000042", 42)),
                }),
                "sqlite" => {
                    let opts = sqlite_opts(&db, &env("SYNC", "NORMAL"));
                    Backend::Sqlite(SqlitePoolOptions::new().max_connections(pool_n).min_connections(pool_n).connect_with(opts).await.unwrap())
                }
                "sqlite-batch" => {
                    let opts = sqlite_opts(&db, &env("SYNC", "NORMAL"));
                    let pool = SqlitePoolOptions::new().max_connections(pool_n).min_connections(pool_n).connect_with(opts).await.unwrap();
                    let (tx, rx) = mpsc::channel(4096);
                    tokio::spawn(batch_writer(pool.clone(), rx));
                    Backend::SqliteBatch(pool, tx)
                }
                "rusqlite" => Backend::Rusqlite(db.as_str().into()),
                "rusqlite-batch" => {
                    let (tx, rx) = std::sync::mpsc::channel();
                    let (path, sync) = (db.clone(), env("SYNC", "NORMAL"));
                    std::thread::spawn(move || rusqlite_batch_writer(&path, &sync, rx));
                    Backend::RusqliteBatch(db.as_str().into(), tx)
                }
                "pg" => Backend::Pg(PgPoolOptions::new().max_connections(pool_n).min_connections(pool_n).connect(&db).await.unwrap()),
                "pg-read-write" => Backend::PgReadWrite(PgPoolOptions::new().max_connections(pool_n).min_connections(pool_n).connect(&db).await.unwrap()),
                other => panic!("unknown BACKEND {other}"),
            };
            if let Backend::Sqlite(p) | Backend::SqliteBatch(p, _) = &backend {
                let v: String = sqlx::query_scalar("SELECT sqlite_version()").fetch_one(p).await.unwrap();
                let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(p).await.unwrap();
                let jm: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(p).await.unwrap();
                eprintln!("sqlite {v} journal_mode={jm} synchronous={sync} pool={pool_n}");
            }
            let app = Router::new()
                .route("/s/{id}", get(get_session))
                .route("/s", post(create_session))
                .with_state(backend);
            let addr = format!("127.0.0.1:{}", env("PORT", "8080"));
            let l = tokio::net::TcpListener::bind(&addr).await.unwrap();
            eprintln!("listening on {addr}");
            axum::serve(l, app).await.unwrap(); // stopped with SIGTERM by run.sh
        }
        _ => eprintln!("usage: baseline seed-sqlite|seed-pg|body|serve"),
    }
}
