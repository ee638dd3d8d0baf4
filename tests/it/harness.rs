//! Starting servers and databases for tests.

use std::sync::Arc;

use kassa::clock::{Clock, ManualClock};
use kassa::config::Config;
use kassa::domain::accounts;
use kassa::store::Db;
use reqwest::{Method, RequestBuilder};
use tokio::sync::oneshot;

/// Runs each named `async fn(Engine)` as two tests: `sqlite::name` and `postgres::name`.
macro_rules! on_both_engines {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    kassa::delivery::install_tls_provider();
                    super::$test($crate::harness::Engine::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(
                    not(kassa_postgres_tests),
                    ignore = "KASSA_TEST_POSTGRES_URL is not set, so the PostgreSQL variant is skipped"
                )]
                async fn $test() {
                    kassa::delivery::install_tls_provider();
                    super::$test($crate::harness::Engine::Postgres).await
                }
            )*
        }
    };
}
pub(crate) use on_both_engines;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A database of its own for one test: an SQLite file in a temporary folder, or a new
/// PostgreSQL database on the KASSA_TEST_POSTGRES_URL server, dropped afterwards.
pub struct TestDatabase {
    pub url: String,
    postgres: Option<(String, String)>,
    _folder: tempfile::TempDir,
}

impl TestDatabase {
    pub async fn new(engine: Engine) -> TestDatabase {
        let folder = tempfile::tempdir().expect("temporary folder");
        match engine {
            Engine::Sqlite => {
                let url = format!("sqlite://{}", folder.path().join("kassa.db").display());
                TestDatabase {
                    url,
                    postgres: None,
                    _folder: folder,
                }
            }
            Engine::Postgres => {
                let server = std::env::var("KASSA_TEST_POSTGRES_URL").expect(
                    "the PostgreSQL tests were built with KASSA_TEST_POSTGRES_URL set, \
                     but it is not set now",
                );
                let name = format!(
                    "kassa_test_{}",
                    kassa::domain::ids::random_base62(16).to_lowercase()
                );
                let admin = Db::connect(&server)
                    .await
                    .expect("connect to KASSA_TEST_POSTGRES_URL");
                if let Db::Postgres(kassa::store::PostgresDb { pool, .. }) = &admin {
                    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(pool)
                        .await
                        .expect("create the test database");
                }
                admin.close().await;
                let url = with_database(&server, &name);
                TestDatabase {
                    url,
                    postgres: Some((server, name)),
                    _folder: folder,
                }
            }
        }
    }

    /// The same database again, for a second server; only the original drops it.
    pub fn reuse(other: &TestDatabase) -> TestDatabase {
        TestDatabase {
            url: other.url.clone(),
            postgres: None,
            _folder: tempfile::tempdir().expect("temporary folder"),
        }
    }

    /// Connects and migrates, as `kassa serve` does.
    pub async fn open(&self) -> Db {
        kassa::app::open_database(&self.url)
            .await
            .expect("open the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else {
            return;
        };
        // Drop is synchronous; the cleanup gets a runtime of its own on a plain thread.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(Db::Postgres(kassa::store::PostgresDb { pool, .. })) =
                    Db::connect(&server).await
                {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                    pool.close().await;
                }
            });
        })
        .join();
    }
}

/// `postgres://user@host:5432/postgres?x=y` with its database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let (authority_and_path, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let authority = authority_and_path.split('/').next().unwrap();
    let mut out = format!("{scheme}://{authority}/{name}");
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// An account made for a test, with its secrets.
pub struct TestAccount {
    pub id: String,
    pub test_key: String,
    pub live_key: String,
}

impl TestAccount {
    /// The account as the domain sees a caller in test mode (or live mode).
    pub fn caller(&self, live: bool) -> kassa::domain::accounts::Caller {
        kassa::domain::accounts::Caller::without_key(&self.id, live)
    }
}

/// A kassa server running inside the test process on 127.0.0.1:0.
pub struct TestServer {
    pub base: String,
    pub db: Db,
    pub clock: ManualClock,
    pub http: reqwest::Client,
    pub database: TestDatabase,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    pub async fn start(engine: Engine) -> TestServer {
        let database = TestDatabase::new(engine).await;
        Self::start_on(database).await
    }

    pub async fn start_on(database: TestDatabase) -> TestServer {
        Self::start_configured(database, |_| {}).await
    }

    /// Starts a server whose configuration `configure` adjusts first (timeouts, limits...).
    pub async fn start_configured(
        database: TestDatabase,
        configure: impl FnOnce(&mut Config),
    ) -> TestServer {
        let db = database.open().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = Config::for_database(addr, database.url.clone());
        configure(&mut config);
        let clock = ManualClock::new(time::OffsetDateTime::now_utc().unix_timestamp());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(kassa::app::serve(
            db.clone(),
            Arc::new(clock.clone()),
            config,
            listener,
            async move {
                let _ = stopped.await;
            },
        ));
        TestServer {
            base: format!("http://{addr}"),
            db,
            clock,
            http: reqwest::Client::new(),
            database,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Creates an account directly in the database.
    pub async fn account(&self, name: &str) -> TestAccount {
        let created = accounts::create_account(&self.db, name, self.clock.now())
            .await
            .unwrap();
        TestAccount {
            id: created.account.id,
            test_key: created.test_key.secret,
            live_key: created.live_key.secret,
        }
    }

    /// Shuts the server down as SIGTERM does, and waits until `kassa::app::serve` returns.
    pub async fn shut_down(&mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self.task.take().expect("the server is running");
        task.await.expect("the server task does not panic")
    }

    /// The address the server listens on, `127.0.0.1:port`.
    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    /// A request authenticated with `key` as a Bearer token.
    pub fn with_key(&self, method: Method, path: &str, key: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(key)
    }

    /// Sends a form-encoded body (as the Stripe SDKs do) with the account's test key.
    pub async fn form(
        &self,
        account: &TestAccount,
        method: Method,
        path: &str,
        body: &str,
    ) -> reqwest::Response {
        self.with_key(method, path, &account.test_key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Reads a response as JSON, asserting its status first (and showing the body if it differs).
pub async fn json_with_status(response: reqwest::Response, status: u16) -> serde_json::Value {
    let actual = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"))
}

/// A `kassa serve` process of the built binary, for tests of the whole program (signals,
/// crashes, first start, several processes).
pub struct KassaProcess {
    pub child: tokio::process::Child,
    pub base: String,
    stdout: Arc<std::sync::Mutex<Vec<String>>>,
    stderr: Arc<std::sync::Mutex<Vec<String>>>,
}

impl KassaProcess {
    /// Starts `kassa serve` on a free port of 127.0.0.1 and waits until it answers.
    pub async fn start(database_url: &str) -> KassaProcess {
        KassaProcess::start_at(database_url, "127.0.0.1:0").await
    }

    /// Starts `kassa serve` on `addr` (a fixed port, to restart a server where clients expect it).
    pub async fn start_at(database_url: &str, addr: &str) -> KassaProcess {
        KassaProcess::start_with(database_url, addr, &[], &[]).await
    }

    /// Starts `kassa serve` on `addr` with more flags (`--webhooks-test-private deny`).
    pub async fn start_with_args(database_url: &str, addr: &str, more: &[&str]) -> KassaProcess {
        KassaProcess::start_with(database_url, addr, &[], more).await
    }

    /// Starts `kassa serve` with `args` added, run through `wrapper` when it is not empty
    /// (such as `["prlimit", "--nofile=1024"]`).
    pub async fn start_with(
        database_url: &str,
        addr: &str,
        wrapper: &[&str],
        args: &[&str],
    ) -> KassaProcess {
        use tokio::io::AsyncBufReadExt;
        let kassa = env!("CARGO_BIN_EXE_kassa");
        let mut command = match wrapper.split_first() {
            Some((program, wrapper_args)) => {
                let mut command = tokio::process::Command::new(program);
                command.args(wrapper_args).arg(kassa);
                command
            }
            None => tokio::process::Command::new(kassa),
        };
        let mut child = command
            .args(["serve", "--addr", addr, "--database-url", database_url])
            .args(args)
            .env_remove("KASSA_CONFIG")
            .env("KASSA_LOG", "info")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start kassa serve");
        let stdout = Arc::new(std::sync::Mutex::new(Vec::new()));
        let stderr = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut out_lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut err_lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let (found, mut listening) = tokio::sync::mpsc::channel::<String>(1);
        let out_store = stdout.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = out_lines.next_line().await {
                if let Some(url) = line.strip_prefix("kassa is listening on ") {
                    let _ = found.send(url.trim().to_string()).await;
                }
                out_store.lock().unwrap().push(line);
            }
        });
        let err_store = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                err_store.lock().unwrap().push(line);
            }
        });
        let base = tokio::time::timeout(std::time::Duration::from_secs(60), listening.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "kassa serve did not start; stderr: {:?}",
                    stderr.lock().unwrap()
                )
            })
            .unwrap_or_else(|| panic!("kassa serve exited; stderr: {:?}", stderr.lock().unwrap()));
        let process = KassaProcess {
            child,
            base,
            stdout,
            stderr,
        };
        process.wait_until_healthy().await;
        process
    }

    async fn wait_until_healthy(&self) {
        let client = reqwest::Client::new();
        for _ in 0..600 {
            let response = client.get(format!("{}/healthz", self.base)).send().await;
            if response.is_ok_and(|r| r.status() == 200) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("kassa serve never became healthy");
    }

    /// Everything the process printed on standard output so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Standard error once `done` holds for what was read of it (lines reach the reader a
    /// moment after they are written); panics after 10 s.
    pub async fn stderr_until(&self, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        for _ in 0..500 {
            let lines = self.stderr();
            if done(&lines) {
                return lines;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!(
            "standard error never had what was expected: {:#?}",
            self.stderr()
        );
    }

    /// The value printed after `label` on the first-start banner (`test key`, `account`...).
    pub async fn banner_value(&self, label: &str) -> Option<String> {
        // The banner is written before the server answers; give the reader a moment to catch up.
        // It ends with `Try it:` on the first start, with the `API keys` hint on later ones.
        for _ in 0..100 {
            let lines = self.stdout();
            let last = |l: &String| l.starts_with("Try it:") || l.starts_with("  API keys");
            if lines.iter().any(last) || lines.len() > 4 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.stdout().iter().find_map(|line| {
            let rest = line.trim_start().strip_prefix(label)?;
            Some(rest.trim().to_string())
        })
    }

    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("the process is running");
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end and returns its exit code (None if killed by a signal).
    pub async fn wait(&mut self) -> Option<i32> {
        let status = tokio::time::timeout(std::time::Duration::from_secs(30), self.child.wait())
            .await
            .expect("kassa serve did not exit")
            .unwrap();
        status.code()
    }
}

/// Runs the `kassa` binary with `args`; returns (exit code, stdout, stderr).
pub async fn kassa_command(args: &[&str]) -> (i32, String, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(args)
        .env_remove("KASSA_CONFIG")
        .output()
        .await
        .expect("run kassa");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
