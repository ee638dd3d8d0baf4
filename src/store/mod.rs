//! Persistence: one schema and one set of queries over two engines.
//!
//! [`Db`] holds concrete pools for SQLite or PostgreSQL. Queries are written once, with `$N`
//! placeholders that both engines accept, inside [`on_reader!`] / [`on_writer!`], which expand
//! the same code once per engine. Where the dialects really differ, a query picks its SQL per
//! arm with [`Db::engine`].
//!
//! SQLite gets one writer connection (SQLite has a single writer; several writer connections
//! only add lock waits) and a pool of readers. Commits are durable: WAL with
//! `synchronous=FULL`, so an acknowledged write survives `kill -9` and power loss; concurrent
//! writes share commits ([`group_commit`]) so that one fsync covers many of them.

pub mod accounts;
pub mod catalog;
pub mod checkout;
pub mod counts;
pub mod customers;
pub mod dashboard;
pub mod event_streams;
pub mod events;
pub mod group_commit;
pub mod idempotency;
pub mod key_changes;
pub mod payments;
pub mod query;
pub mod webhooks;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Readers in the SQLite pool; measured best for point reads on two cores.
const SQLITE_READERS: u32 = 4;
/// Connections per process in the PostgreSQL pool.
const POSTGRES_CONNECTIONS: u32 = 8;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("invalid database URL '{url}': {reason}")]
    Url { url: String, reason: String },
    #[error("stored data is unreadable: {what}: {reason}")]
    Corrupt { what: String, reason: String },
    #[error("could not create the database folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
}

impl StoreError {
    /// Whether the error is a violated unique constraint (a duplicate key).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Sqlx(e) if e.as_database_error().is_some_and(|d| d.is_unique_violation()))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The database engine behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct SqliteDb {
    pub reader: SqlitePool,
    pub writer: group_commit::GroupWriter,
    /// The database file; migrations lock a file beside it.
    pub path: std::path::PathBuf,
    /// Key changes made durable by this process, announced at once to its subscribers
    /// ([`key_changes`]).
    pub key_changes: tokio::sync::broadcast::Sender<key_changes::KeyChange>,
}

/// A connection to kassa's database. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to a pool that may only read.
#[macro_export]
macro_rules! on_reader {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite(sqlite) => {
                let $pool = &sqlite.reader;
                $body
            }
            $crate::store::Db::Postgres(postgres) => {
                let $pool = postgres;
                $body
            }
        }
    };
}

/// Runs `$body`, which returns a `Result`, with `$pool` bound to where writes go: the
/// PostgreSQL pool, or SQLite's writer connection inside a group-commit batch, where `begin()`
/// opens a savepoint. On SQLite the result comes back once the batch is durable. `return` and
/// `?` in `$body` leave the body, not the enclosing function.
#[macro_export]
macro_rules! on_writer {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite(sqlite) => match sqlite.writer.lease().await {
                Ok(mut lease) => {
                    let result = async {
                        // `begin()` on the connection.
                        #[allow(unused_imports)]
                        use sqlx::Connection as _;
                        let $pool = lease.connection();
                        $body
                    }
                    .await;
                    lease.durable(result).await
                }
                Err(error) => Err(error.into()),
            },
            $crate::store::Db::Postgres(postgres) => {
                let $pool = postgres;
                async { $body }.await
            }
        }
    };
}

pub use crate::{on_reader, on_writer};

impl Db {
    /// Connects to `url`: `postgres://...` / `postgresql://...` for PostgreSQL, anything else
    /// (`sqlite://path`, `sqlite:path` or a plain path) is an SQLite file, created with its folder.
    pub async fn connect(url: &str) -> StoreResult<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::connect_postgres(url).await
        } else {
            Self::connect_sqlite(url).await
        }
    }

    async fn connect_postgres(url: &str) -> StoreResult<Db> {
        let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::Url {
            url: redact_url(url),
            reason: e.to_string(),
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(POSTGRES_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Db::Postgres(pool))
    }

    async fn connect_sqlite(url: &str) -> StoreResult<Db> {
        let path = sqlite_path(url);
        if let Some(folder) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder).map_err(|source| StoreError::Folder {
                path: folder.display().to_string(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let setup = SetupLock::acquire(Path::new(path)).await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(SQLITE_READERS)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await?;
        drop(setup);
        Ok(Db::Sqlite(SqliteDb {
            reader,
            writer: group_commit::GroupWriter::new(writer),
            path: path.into(),
            key_changes: key_changes::sqlite_channel(),
        }))
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// Brings the schema up to date. Safe to run from several processes at once (PostgreSQL
    /// takes an advisory lock; SQLite serialises on its write lock).
    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Db::Sqlite(sqlite) => {
                // sqlx does not serialise SQLite migrations across processes; a lock file does.
                let lock = SetupLock::acquire(&sqlite.path).await?;
                SQLITE_MIGRATIONS.run(sqlite.writer.pool()).await?;
                drop(lock);
            }
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// A cheap round trip, for health checks.
    pub async fn ping(&self) -> StoreResult<()> {
        on_reader!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(sqlite) => {
                sqlite.reader.close().await;
                sqlite.writer.pool().close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// SQL statements joined into one multi-statement text, with each statement's `$N` placeholders
/// renumbered to follow the previous statements' (SQLite binds `$N` across the whole text), so
/// that the statements' binds can be chained in order on one query.
pub(crate) fn joined_statements(statements: &[&str]) -> String {
    let mut joined = String::new();
    let mut offset = 0;
    for statement in statements {
        let mut highest = 0;
        let mut rest = *statement;
        while let Some(dollar) = rest.find('$') {
            joined.push_str(&rest[..=dollar]);
            rest = &rest[dollar + 1..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let n: usize = rest[..digits].parse().expect("placeholders are $N");
            highest = highest.max(n);
            joined.push_str(&(n + offset).to_string());
            rest = &rest[digits..];
        }
        joined.push_str(rest);
        joined.push_str(";\n");
        offset += highest;
    }
    joined
}

/// An exclusive lock on `<database>.setup.lock`, held while one process opens a new database
/// (switching it to WAL) or migrates it: SQLite answers "database is locked" at once, rather than
/// waiting, to a second process doing either at the same moment.
struct SetupLock(std::fs::File);

impl SetupLock {
    async fn acquire(database: &Path) -> StoreResult<SetupLock> {
        let mut name = database.as_os_str().to_owned();
        name.push(".setup.lock");
        let path = std::path::PathBuf::from(name);
        let locked = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)?;
            file.lock()?;
            Ok(file)
        })
        .await
        .expect("the lock task does not panic");
        locked.map(SetupLock).map_err(|source| StoreError::Folder {
            path: database.display().to_string(),
            source,
        })
    }
}

impl Drop for SetupLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// The file path inside an SQLite URL.
fn sqlite_path(url: &str) -> &str {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    path.split('?').next().unwrap_or(path)
}

/// The URL with any password replaced, safe to print and log.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Every migration's version and description, per engine; both lists must agree.
pub fn migration_names(engine: Engine) -> Vec<(i64, String)> {
    let migrator = match engine {
        Engine::Sqlite => &SQLITE_MIGRATIONS,
        Engine::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator
        .iter()
        .map(|m| (m.version, m.description.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_a_file() {
        assert_eq!(sqlite_path("sqlite://./data/k.db"), "./data/k.db");
        assert_eq!(sqlite_path("sqlite:k.db?mode=rwc"), "k.db");
        assert_eq!(sqlite_path("/var/lib/kassa.db"), "/var/lib/kassa.db");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://kassa:secret@db:5432/kassa"),
            "postgres://kassa:***@db:5432/kassa"
        );
        assert_eq!(redact_url("postgres://db/kassa"), "postgres://db/kassa");
    }

    #[test]
    fn joined_statements_number_their_placeholders_in_turn() {
        assert_eq!(
            joined_statements(&[
                "INSERT INTO a VALUES ($1, $2)",
                "UPDATE b SET x = $2 WHERE y = $1",
                "DELETE FROM c"
            ]),
            "INSERT INTO a VALUES ($1, $2);\nUPDATE b SET x = $4 WHERE y = $3;\nDELETE FROM c;\n"
        );
    }

    #[test]
    fn migrations_are_in_step_across_engines() {
        assert_eq!(
            migration_names(Engine::Sqlite),
            migration_names(Engine::Postgres)
        );
    }
}
