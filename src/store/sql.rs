//! The one way kassa's queries reach either engine: SQL text with `$N` placeholders (which both
//! SQLite and PostgreSQL accept), [`Arg`]s bound in order, and rows decoded by [`FromRow`].
//!
//! Reads go through [`Db::fetch_optional`], [`Db::fetch_all`] and [`Db::fetch_one`]; writes
//! through [`Db::write`], whose body gets a [`Tx`] with the same methods plus
//! [`Tx::execute`]. On SQLite every statement runs inline, on the calling thread, with rusqlite:
//! a statement costs microseconds, less than handing it to another thread and back would
//! (`store::sqlite`). On PostgreSQL each goes through sqlx's pool.

use std::borrow::Cow;

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{Postgres, Row as _};

use super::sqlite;
use super::{Db, PostgresDb as Pg, StoreError, StoreResult};

/// A value bound to a `$N` placeholder. Nulls carry their type, which PostgreSQL needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<'a> {
    Text(Option<Cow<'a, str>>),
    Int(Option<i64>),
    Bool(Option<bool>),
}

impl Arg<'_> {
    /// The same value, owning its text (for arguments kept beyond the values they came from).
    pub fn into_owned(self) -> Arg<'static> {
        match self {
            Arg::Text(text) => Arg::Text(text.map(|t| Cow::Owned(t.into_owned()))),
            Arg::Int(v) => Arg::Int(v),
            Arg::Bool(v) => Arg::Bool(v),
        }
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(Cow::Borrowed(v)))
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(Cow::Borrowed(v)))
    }
}
impl From<String> for Arg<'_> {
    fn from(v: String) -> Self {
        Arg::Text(Some(Cow::Owned(v)))
    }
}
impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v.map(Cow::Borrowed))
    }
}
impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::Text(v.as_deref().map(Cow::Borrowed))
    }
}
impl From<Option<String>> for Arg<'_> {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v.map(Cow::Owned))
    }
}
impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<&Option<i64>> for Arg<'_> {
    fn from(v: &Option<i64>) -> Self {
        Arg::Int(*v)
    }
}
impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(Some(v))
    }
}
impl From<Option<bool>> for Arg<'_> {
    fn from(v: Option<bool>) -> Self {
        Arg::Bool(v)
    }
}

/// The arguments of a statement, in placeholder order: `args![id, caller.mode.is_live()]`.
#[macro_export]
macro_rules! args {
    ($($arg:expr),* $(,)?) => {
        [$($crate::store::sql::Arg::from($arg)),*]
    };
}
pub use crate::args;

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match self {
            Arg::Text(Some(text)) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Arg::Int(Some(v)) => ToSqlOutput::Owned(Value::Integer(*v)),
            Arg::Bool(Some(v)) => ToSqlOutput::Owned(Value::Integer(i64::from(*v))),
            Arg::Text(None) | Arg::Int(None) | Arg::Bool(None) => ToSqlOutput::Owned(Value::Null),
        })
    }
}

/// A PostgreSQL query of `sql` with `args` bound in order.
pub(crate) fn pg_query<'q>(sql: &'q str, args: &'q [Arg<'_>]) -> Query<'q, Postgres, PgArguments> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for arg in args {
        query = match arg {
            Arg::Text(v) => query.bind(v.as_deref()),
            Arg::Int(v) => query.bind(*v),
            Arg::Bool(v) => query.bind(*v),
        };
    }
    query
}

/// One row of a result, from either engine. Columns are read by position, in the order of the
/// SELECT list.
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r PgRow),
}

/// A column type both engines decode: `String`, `i64`, `bool` and their `Option`s.
pub trait Column: Sized {
    fn sqlite(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Self>;
    fn postgres(row: &PgRow, index: usize) -> sqlx::Result<Self>;
}

impl<T> Column for T
where
    T: rusqlite::types::FromSql + for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    fn sqlite(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Self> {
        row.get(index)
    }
    fn postgres(row: &PgRow, index: usize) -> sqlx::Result<Self> {
        row.try_get(index)
    }
}

impl Row<'_> {
    /// The column at `index` (0-based).
    pub fn get<T: Column>(&self, index: usize) -> StoreResult<T> {
        match self {
            Row::Sqlite(row) => Ok(T::sqlite(row, index)?),
            Row::Postgres(row) => Ok(T::postgres(row, index)?),
        }
    }
}

/// A value made from one result row.
pub trait FromRow: Sized {
    fn from_row(row: &Row<'_>) -> StoreResult<Self>;
}

macro_rules! tuple_from_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Column),+> FromRow for ($($t,)+) {
            fn from_row(row: &Row<'_>) -> StoreResult<Self> {
                Ok(($(row.get::<$t>($i)?,)+))
            }
        }
    };
}
tuple_from_row!(A 0);
tuple_from_row!(A 0, B 1);
tuple_from_row!(A 0, B 1, C 2);
tuple_from_row!(A 0, B 1, C 2, D 3);

/// A struct read from a row whose SELECT list is its fields, in order: defines the struct, its
/// [`FromRow`], and `COLUMNS`, the fields' names joined for a SELECT list, so the two cannot
/// drift apart. Queries that prefix columns (`li.id`) list them in the same order.
#[macro_export]
macro_rules! row_struct {
    ($(#[$meta:meta])* $vis:vis struct $name:ident {
        $(#[$first_meta:meta])* $first_vis:vis $first:ident: $first_ty:ty
        $(, $(#[$field_meta:meta])* $field_vis:vis $field:ident: $ty:ty)* $(,)?
    }) => {
        $(#[$meta])*
        $vis struct $name {
            $(#[$first_meta])* $first_vis $first: $first_ty,
            $($(#[$field_meta])* $field_vis $field: $ty,)*
        }

        impl $name {
            /// The fields' columns, in order, for a SELECT list.
            #[allow(dead_code)]
            pub const COLUMNS: &'static str =
                concat!(stringify!($first) $(, ", ", stringify!($field))*);
            /// How many columns `COLUMNS` lists: where the columns after them start.
            #[allow(dead_code)]
            pub const COUNT: usize = 1 $(+ { let _ = stringify!($field); 1 })*;
        }

        impl $crate::store::sql::FromRow for $name {
            fn from_row(row: &$crate::store::sql::Row<'_>) -> $crate::store::StoreResult<Self> {
                let mut index = 0..;
                let mut next = || index.next().expect("an unbounded range");
                Ok($name {
                    $first: row.get(next())?,
                    $($field: row.get(next())?,)*
                })
            }
        }
    };
}
pub use crate::row_struct;

impl Db {
    /// The first row `sql` returns, if any.
    pub async fn fetch_optional<R: FromRow>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> StoreResult<Option<R>> {
        match self {
            Db::Sqlite(db) => db.read(|conn| sqlite::fetch_optional(conn, sql, args)),
            Db::Postgres(Pg { pool, .. }) => {
                match pg_query(sql, args)
                    .fetch_optional(&mut *acquire(pool).await?)
                    .await?
                {
                    Some(row) => R::from_row(&Row::Postgres(&row)).map(Some),
                    None => Ok(None),
                }
            }
        }
    }

    /// Every row `sql` returns.
    pub async fn fetch_all<R: FromRow>(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Vec<R>> {
        match self {
            Db::Sqlite(db) => db.read(|conn| sqlite::fetch_all(conn, sql, args)),
            Db::Postgres(Pg { pool, .. }) => pg_rows(
                pg_query(sql, args)
                    .fetch_all(&mut *acquire(pool).await?)
                    .await?,
            ),
        }
    }

    /// The one row `sql` returns; none is an error.
    pub async fn fetch_one<R: FromRow>(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<R> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or(StoreError::Sqlx(sqlx::Error::RowNotFound))
    }

    /// Runs one statement as a transaction of its own; returns how many rows it changed.
    /// On PostgreSQL it runs outside any `BEGIN`/`COMMIT`, in one round trip (a statement is
    /// a transaction of its own there).
    pub async fn execute(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<u64> {
        match self {
            Db::Sqlite(_) => self.write(async |tx| tx.execute(sql, args).await).await,
            Db::Postgres(Pg { pool, .. }) => {
                let mut conn = acquire(pool).await?;
                Ok(pg_query(sql, args)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected())
            }
        }
    }

    /// Runs one writing statement with a `RETURNING` clause, as a transaction of its own, and
    /// returns its rows. On PostgreSQL it goes without `BEGIN`/`COMMIT` (a statement is atomic
    /// on its own), one round trip.
    pub async fn write_returning<R: FromRow>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> StoreResult<Vec<R>> {
        match self {
            Db::Sqlite(_) => self.write(async |tx| tx.fetch_all(sql, args).await).await,
            Db::Postgres(Pg { pool, .. }) => pg_rows(
                pg_query(sql, args)
                    .fetch_all(&mut *acquire(pool).await?)
                    .await?,
            ),
        }
    }

    /// Runs `statements` (INSERTs, UPDATEs and DELETEs whose rows do not depend on each other)
    /// as one transaction, in one round trip: on PostgreSQL they become the parts of one
    /// statement (`WITH s1 AS (...), s2 AS (...) SELECT 1`), which is atomic on its own; on
    /// SQLite they run in turn in one write. Two statements must not change the same row (they
    /// all see the database as it was before any of them).
    pub async fn write_statements(&self, statements: &[Statement<'_>]) -> StoreResult<()> {
        match self {
            Db::Sqlite(_) => {
                self.write(async |tx| {
                    for statement in statements {
                        tx.execute(statement.sql, &statement.args).await?;
                    }
                    Ok(())
                })
                .await
            }
            Db::Postgres(Pg { pool, .. }) => {
                let (sql, args) = one_statement(statements, Tail::Done);
                pg_query(&sql, &args)
                    .execute(&mut *acquire(pool).await?)
                    .await?;
                Ok(())
            }
        }
    }

    /// Runs `guard` and, only if it changed a row, `statements` after it, as one transaction;
    /// returns whether the guard changed a row (when it did not, nothing is written). A
    /// conditional write such as completing a session that must still be open, in one round
    /// trip on PostgreSQL: the statements become one `WITH` statement whose final `SELECT`
    /// calls `kassa_guard` (migration 0015) on the guard's rows, which raises and so undoes the
    /// whole statement when there were none. `guard` is an `UPDATE` or `DELETE` without a
    /// `RETURNING` clause.
    pub async fn write_statements_if(
        &self,
        guard: Statement<'_>,
        statements: &[Statement<'_>],
    ) -> StoreResult<bool> {
        match self {
            Db::Sqlite(_) => {
                self.write(async |tx| {
                    if tx.execute(guard.sql, &guard.args).await? == 0 {
                        return Ok(false);
                    }
                    for statement in statements {
                        tx.execute(statement.sql, &statement.args).await?;
                    }
                    Ok(true)
                })
                .await
            }
            Db::Postgres(Pg { pool, .. }) => {
                let all: Vec<Statement> = std::iter::once(guard)
                    .chain(statements.iter().cloned())
                    .collect();
                let (sql, args) = one_statement(&all, Tail::Guarded);
                match pg_query(&sql, &args)
                    .execute(&mut *acquire(pool).await?)
                    .await
                {
                    Ok(_) => Ok(true),
                    Err(error) if is_guard_failure(&error) => Ok(false),
                    Err(error) => Err(error.into()),
                }
            }
        }
    }

    /// Runs `body` as one transaction and returns its result once it is durable. On an error
    /// nothing `body` wrote is kept.
    ///
    /// On SQLite the body runs on the one writer connection inside a savepoint of the open
    /// group-commit batch (`store::sqlite`), and its result comes back once the batch has
    /// committed; on PostgreSQL it runs in a transaction on a pooled connection.
    pub async fn write<T>(
        &self,
        body: impl AsyncFnOnce(&mut Tx<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        match self {
            Db::Sqlite(db) => {
                let mut lease = db.lease().await?;
                lease.savepoint()?;
                let result = body(&mut Tx::Sqlite(lease.connection())).await;
                // The body's own error comes first; a failed savepoint's end fails the write.
                let ended = lease.end_savepoint(result.is_ok());
                let value = result?;
                ended?;
                lease.durable(Ok(value)).await
            }
            Db::Postgres(Pg { pool, .. }) => {
                let mut conn = acquire(pool).await?;
                let mut transaction = sqlx::Connection::begin(&mut *conn).await?;
                let value = body(&mut Tx::Postgres(&mut transaction)).await?;
                transaction.commit().await?;
                Ok(value)
            }
        }
    }
}

/// A connection of the PostgreSQL pool, the wait for it measured
/// ([`crate::metrics::pool_wait`]).
async fn acquire(pool: &sqlx::PgPool) -> StoreResult<sqlx::pool::PoolConnection<sqlx::Postgres>> {
    let started = std::time::Instant::now();
    let conn = pool.acquire().await?;
    crate::metrics::pool_wait("postgres", started.elapsed());
    Ok(conn)
}

/// A statement and its arguments, for [`Db::write_statements`].
#[derive(Debug, Clone)]
pub struct Statement<'a> {
    pub sql: &'static str,
    pub args: Vec<Arg<'a>>,
}

impl<'a> Statement<'a> {
    pub fn new(sql: &'static str, args: impl Into<Vec<Arg<'a>>>) -> Statement<'a> {
        Statement {
            sql,
            args: args.into(),
        }
    }
}

/// How [`one_statement`] ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// Every part runs.
    Done,
    /// The first part is a guard: the statement fails, undoing every part, unless the guard
    /// changed a row.
    Guarded,
}

/// The SQLSTATE `kassa_guard` raises (migration 0015).
const GUARD_FAILED: &str = "KG001";

fn is_guard_failure(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == GUARD_FAILED)
}

/// The statements as the parts of one PostgreSQL statement, with each one's `$N` placeholders
/// renumbered to follow the previous ones', and the arguments of all of them in order.
fn one_statement<'a>(statements: &[Statement<'a>], tail: Tail) -> (String, Vec<Arg<'a>>) {
    let mut sql = String::from("WITH ");
    let mut args = Vec::new();
    for (n, statement) in statements.iter().enumerate() {
        if n > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("s{n} AS ("));
        let offset = args.len();
        let mut rest = statement.sql;
        while let Some(dollar) = rest.find('$') {
            sql.push_str(&rest[..=dollar]);
            rest = &rest[dollar + 1..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let number: usize = rest[..digits].parse().expect("placeholders are $N");
            sql.push_str(&(number + offset).to_string());
            rest = &rest[digits..];
        }
        sql.push_str(rest);
        if n == 0 && tail == Tail::Guarded {
            sql.push_str(" RETURNING 1");
        }
        sql.push(')');
        args.extend(statement.args.iter().cloned());
    }
    match tail {
        Tail::Done => sql.push_str(" SELECT 1"),
        Tail::Guarded => sql.push_str(" SELECT kassa_guard(EXISTS (SELECT 1 FROM s0))"),
    }
    (sql, args)
}

fn pg_rows<R: FromRow>(rows: Vec<PgRow>) -> StoreResult<Vec<R>> {
    rows.iter()
        .map(|row| R::from_row(&Row::Postgres(row)))
        .collect()
}

/// A write in progress: statements run inside its transaction.
pub enum Tx<'t> {
    /// The writer connection, inside the write's savepoint. (`&mut`, which is `Send`, where
    /// `&` would not be: a connection may move between threads but not be shared.)
    Sqlite(&'t mut rusqlite::Connection),
    Postgres(&'t mut sqlx::PgConnection),
}

impl Tx<'_> {
    /// Runs a [`Statement`]; returns how many rows it changed.
    pub async fn run(&mut self, statement: &Statement<'_>) -> StoreResult<u64> {
        self.execute(statement.sql, &statement.args).await
    }

    /// Runs a statement; returns how many rows it changed.
    pub async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<u64> {
        match self {
            Tx::Sqlite(conn) => {
                sqlite::in_transaction(conn)?;
                sqlite::execute(conn, sql, args)
            }
            Tx::Postgres(conn) => Ok(pg_query(sql, args)
                .execute(&mut **conn)
                .await?
                .rows_affected()),
        }
    }

    /// The first row `sql` returns, if any (a SELECT, or a statement with `RETURNING`).
    pub async fn fetch_optional<R: FromRow>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> StoreResult<Option<R>> {
        match self {
            Tx::Sqlite(conn) => {
                sqlite::in_transaction(conn)?;
                sqlite::fetch_optional(conn, sql, args)
            }
            Tx::Postgres(conn) => match pg_query(sql, args).fetch_optional(&mut **conn).await? {
                Some(row) => R::from_row(&Row::Postgres(&row)).map(Some),
                None => Ok(None),
            },
        }
    }

    /// Every row `sql` returns.
    pub async fn fetch_all<R: FromRow>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> StoreResult<Vec<R>> {
        match self {
            Tx::Sqlite(conn) => {
                sqlite::in_transaction(conn)?;
                sqlite::fetch_all(conn, sql, args)
            }
            Tx::Postgres(conn) => pg_rows(pg_query(sql, args).fetch_all(&mut **conn).await?),
        }
    }

    /// The one row `sql` returns; none is an error.
    pub async fn fetch_one<R: FromRow>(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<R> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or(StoreError::Sqlx(sqlx::Error::RowNotFound))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_join_into_one_with_their_placeholders_in_turn() {
        let statements = [
            Statement::new("INSERT INTO a VALUES ($1, $2)", args![1i64, "x"]),
            Statement::new("UPDATE b SET x = $2 WHERE y = $1", args!["y", true]),
            Statement::new("DELETE FROM c", []),
        ];
        let (sql, args) = one_statement(&statements, Tail::Done);
        assert_eq!(
            sql,
            "WITH s0 AS (INSERT INTO a VALUES ($1, $2)), s1 AS (UPDATE b SET x = $4 WHERE y = $3), \
             s2 AS (DELETE FROM c) SELECT 1"
        );
        assert_eq!(args, args![1i64, "x", "y", true].to_vec());
    }

    #[test]
    fn a_guarded_statement_returns_the_guards_rows_to_its_check() {
        let statements = [
            Statement::new("UPDATE a SET x = 1 WHERE id = $1", args!["a"]),
            Statement::new("INSERT INTO b VALUES ($1)", args![2i64]),
        ];
        let (sql, _) = one_statement(&statements, Tail::Guarded);
        assert_eq!(
            sql,
            "WITH s0 AS (UPDATE a SET x = 1 WHERE id = $1 RETURNING 1), s1 AS (INSERT INTO b VALUES ($2)) \
             SELECT kassa_guard(EXISTS (SELECT 1 FROM s0))"
        );
    }
}
