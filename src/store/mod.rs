//! Persistence: one schema and one set of queries over two engines.
//!
//! [`Db`] is SQLite or PostgreSQL. Queries are written once, with `$N` placeholders that both
//! engines accept, and run through [`sql`]: [`Db::fetch_optional`] and its kin for reads,
//! [`Db::write`] for a transaction. Where the dialects really differ, a query picks its SQL by
//! [`Db::engine`].
//!
//! SQLite runs its statements inline, on the request's own thread, with one writer connection
//! whose writes share durable commits ([`sqlite`]). PostgreSQL goes through sqlx's pool.

pub mod accounts;
pub mod billing;
pub mod catalog;
pub mod checkout;
pub mod counts;
pub mod customers;
pub mod dashboard;
pub mod emails;
pub mod event_streams;
pub mod events;
pub mod figures;
pub mod idempotency;
pub mod import_mappings;
pub mod key_cache;
pub mod key_changes;
pub mod payment_methods;
pub mod payments;
pub mod portal;
pub mod query;
pub mod refunds;
pub mod sql;
pub mod sqlite;
pub mod test_clocks;
pub mod webhooks;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

pub use sql::{Arg, FromRow, Row, Statement, Tx, args, row_struct};
pub use sqlite::SqliteDb;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Connections per process in the PostgreSQL pool.
const POSTGRES_CONNECTIONS: u32 = 8;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the batch holding this write did not commit: {0}")]
    Commit(String),
    #[error("the database is closed")]
    Closed,
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
        match self {
            StoreError::Sqlx(e) => e
                .as_database_error()
                .is_some_and(|d| d.is_unique_violation()),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            _ => false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The database engine behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A connection to kassa's database. Cheap to clone (every request's state holds one).
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(Arc<SqliteDb>),
    Postgres(PostgresDb),
}

/// kassa's PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PostgresDb {
    pub pool: PgPool,
    /// Keys from memory ([`key_cache`]).
    pub keys: Arc<key_cache::KeyCache>,
}

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
        Ok(Db::Postgres(PostgresDb {
            pool,
            keys: Arc::default(),
        }))
    }

    async fn connect_sqlite(url: &str) -> StoreResult<Db> {
        let path = Path::new(sqlite_path(url));
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|source| StoreError::Folder {
                path: folder.display().to_string(),
                source,
            })?;
        }
        let setup = SetupLock::acquire(path).await?;
        let db = SqliteDb::open(path)?;
        drop(setup);
        Ok(Db::Sqlite(Arc::new(db)))
    }

    /// The keys this process holds in memory ([`key_cache`]).
    pub fn keys(&self) -> &key_cache::KeyCache {
        match self {
            Db::Sqlite(sqlite) => &sqlite.keys,
            Db::Postgres(postgres) => &postgres.keys,
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// Brings the schema up to date. Safe to run from several processes at once (PostgreSQL
    /// takes an advisory lock; SQLite serialises on a lock file).
    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Db::Sqlite(sqlite) => {
                // sqlx's migrator (which both engines share, with its record of applied
                // migrations) runs on a connection of its own, closed afterwards. sqlx does not
                // serialise SQLite migrations across processes; a lock file does.
                let lock = SetupLock::acquire(&sqlite.path).await?;
                let options = SqliteConnectOptions::new()
                    .filename(&sqlite.path)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                let mut conn: sqlx::SqliteConnection =
                    <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options).await?;
                SQLITE_MIGRATIONS.run(&mut conn).await?;
                sqlx::Connection::close(conn).await?;
                drop(lock);
            }
            Db::Postgres(postgres) => POSTGRES_MIGRATIONS.run(&postgres.pool).await?,
        }
        Ok(())
    }

    /// Waits until every write acknowledged to another request so far is visible to reads.
    /// SQLite's writes share commits, so a write that collided with another's row (a unique
    /// index) may not read it yet until the open batch commits; PostgreSQL's conflicting
    /// insert waits for the other transaction, which has committed by the time it fails.
    pub async fn settle(&self) {
        if let Db::Sqlite(sqlite) = self {
            sqlite.settle().await;
        }
    }

    /// A cheap round trip, for health checks.
    pub async fn ping(&self) -> StoreResult<()> {
        self.fetch_one::<(bool,)>("SELECT TRUE", &[]).await?;
        Ok(())
    }

    /// Finishes what is in flight (on SQLite, the last batch's commit) and closes the database:
    /// every use after it fails.
    pub async fn close(&self) {
        if let Err(error) = accounts::write_pending_key_use(self).await {
            tracing::warn!(%error, "could not record when keys were used");
        }
        match self {
            Db::Sqlite(sqlite) => sqlite.close().await,
            Db::Postgres(postgres) => postgres.pool.close().await,
        }
    }
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
/// The account and mode (`livemode`) of the row `id` of `table` (one of kassa's own table
/// names, never input), whoever asks: for the pages whose link is their capability.
pub async fn owner(db: &Db, table: &'static str, id: &str) -> StoreResult<Option<(String, bool)>> {
    let sql = format!("SELECT account_id, livemode FROM {table} WHERE id = $1");
    db.fetch_optional(&sql, &args![id]).await
}

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
    fn migrations_are_in_step_across_engines() {
        assert_eq!(
            migration_names(Engine::Sqlite),
            migration_names(Engine::Postgres)
        );
    }
}
