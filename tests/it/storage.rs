//! The storage layer: migrations in step across engines, and id ordering.

use std::collections::BTreeMap;

use kassa::domain::Mode;
use kassa::domain::accounts;
use kassa::store::{Db, Statement, args};

use crate::harness::{Engine, TestDatabase, on_both_engines};

on_both_engines!(
    migrations_run_twice_without_harm,
    ids_sort_in_creation_order,
    subscriptions_to_checkout_session_canceled_move_to_expired,
    a_conditional_write_writes_nothing_unless_its_guard_changed_a_row,
);

async fn migrations_run_twice_without_harm(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let db = database.open().await;
    db.migrate().await.expect("a second migration is a no-op");
    let again = database.open().await;
    again.ping().await.unwrap();
}

async fn ids_sort_in_creation_order(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let db = database.open().await;
    let account = accounts::create_account(&db, "Acme", 0).await.unwrap();
    let mut created = vec![
        account.test_key.key.id.clone(),
        account.live_key.key.id.clone(),
    ];
    for _ in 0..20 {
        created.push(
            accounts::create_key(&db, &account.account.id, Mode::Test, 0)
                .await
                .unwrap()
                .key
                .id,
        );
    }
    let listed: Vec<String> = accounts::list_keys(&db, &account.account.id)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    let mut by_time = created.clone();
    by_time.sort();
    // Ids lead with their creation time, so byte order is creation order; the database must
    // sort them the same way (PostgreSQL's default collation would not).
    assert_eq!(listed, by_time, "the database orders ids as bytes");
}

/// `Db::write_statements_if`, which pays sessions in one round trip on PostgreSQL: the
/// statements after the guard are written only with it, and not at all when it changed no row.
async fn a_conditional_write_writes_nothing_unless_its_guard_changed_a_row(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let db = database.open().await;
    let first = accounts::create_account(&db, "First", 0)
        .await
        .unwrap()
        .account;
    let second = accounts::create_account(&db, "Second", 0)
        .await
        .unwrap()
        .account;
    let rename = |id: &str, from: &str, to: &str| {
        Statement::new(
            "UPDATE accounts SET name = $1 WHERE id = $2 AND name = $3",
            args![to.to_string(), id.to_string(), from.to_string()],
        )
    };
    let name = async |id: &str| accounts::get_account(&db, id).await.unwrap().name;

    let guard = rename(&first.id, "Nobody", "First again");
    let written = db
        .write_statements_if(guard, &[rename(&second.id, "Second", "Renamed")])
        .await
        .unwrap();
    assert!(!written, "the guard matched no row");
    assert_eq!(
        name(&second.id).await,
        "Second",
        "nothing after the guard is written"
    );

    let guard = rename(&first.id, "First", "First again");
    let written = db
        .write_statements_if(guard, &[rename(&second.id, "Second", "Renamed")])
        .await
        .unwrap();
    assert!(written);
    assert_eq!(name(&first.id).await, "First again");
    assert_eq!(name(&second.id).await, "Renamed");
}

/// Every table's columns, with a portable type name, as each engine reports them.
async fn schema(db: &Db) -> BTreeMap<String, Vec<(String, String, bool)>> {
    let mut tables: BTreeMap<String, Vec<(String, String, bool)>> = BTreeMap::new();
    match db {
        Db::Sqlite(_) => {
            let names: Vec<(String,)> = db
                .fetch_all(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                     AND name NOT LIKE '_sqlx%'",
                    &[],
                )
                .await
                .unwrap();
            for (name,) in names {
                let columns: Vec<(String, String, bool)> = db
                    .fetch_all(
                        "SELECT name, type, \"notnull\" OR pk FROM pragma_table_info($1)",
                        &kassa::store::args![&name],
                    )
                    .await
                    .unwrap();
                let columns = columns
                    .into_iter()
                    .map(|(c, t, n)| (c, portable(&t), n))
                    .collect();
                tables.insert(name, columns);
            }
        }
        Db::Postgres(kassa::store::PostgresDb { pool, .. }) => {
            let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
                 FROM information_schema.columns WHERE table_schema = 'public' \
                 AND table_name NOT LIKE '_sqlx%' ORDER BY table_name, ordinal_position",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            for (table, column, data_type, nullable) in rows {
                tables.entry(table).or_default().push((
                    column,
                    portable(&data_type),
                    nullable == "NO",
                ));
            }
        }
    }
    tables
}

fn portable(sql_type: &str) -> String {
    match sql_type.to_ascii_lowercase().as_str() {
        "text" => "text",
        "bigint" => "bigint",
        "boolean" => "boolean",
        "integer" => "integer",
        "bytea" | "blob" => "bytes",
        other => return other.to_string(),
    }
    .to_string()
}

/// The two migration trees must describe the same tables and columns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(kassa_postgres_tests),
    ignore = "KASSA_TEST_POSTGRES_URL is not set, so the schemas cannot be compared with PostgreSQL"
)]
async fn both_engines_have_the_same_schema() {
    let sqlite = TestDatabase::new(Engine::Sqlite).await;
    let postgres = TestDatabase::new(Engine::Postgres).await;
    let sqlite_schema = schema(&sqlite.open().await).await;
    let postgres_schema = schema(&postgres.open().await).await;
    assert!(!sqlite_schema.is_empty());
    assert_eq!(
        sqlite_schema, postgres_schema,
        "the migration trees have drifted apart"
    );
}

#[test]
fn migration_files_are_in_step() {
    let names = |engine: &str| -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(engine);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    assert!(!names("sqlite").is_empty());
    assert_eq!(
        names("sqlite"),
        names("postgres"),
        "every migration needs its twin in the other tree"
    );
}

/// Migration 0011: endpoints subscribed to the retired `checkout.session.canceled` are moved
/// to `checkout.session.expired`, which canceled sessions now send; written before the
/// migration, read after it.
async fn subscriptions_to_checkout_session_canceled_move_to_expired(engine: Engine) {
    use kassa::domain::webhooks::{self, EndpointInput};

    let database = TestDatabase::new(engine).await;
    let db = Db::connect(&database.url).await.unwrap();
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(match engine {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        });
    let before = sqlx::migrate::Migrator::new(folder.as_path())
        .await
        .unwrap();
    match &db {
        Db::Sqlite(sqlite) => {
            let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&sqlite.path);
            let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options)
                .await
                .unwrap();
            before.run_to(10, &mut conn).await.unwrap();
        }
        Db::Postgres(kassa::store::PostgresDb { pool, .. }) => {
            before.run_to(10, pool).await.unwrap()
        }
    }
    let account = accounts::create_account(&db, "Acme", 0).await.unwrap();
    let caller = kassa::domain::accounts::Caller::without_key(&account.account.id, false);
    let mut ids = Vec::new();
    // Each endpoint with its subscriptions as an older kassa stored them.
    let olds: [&[&str]; 4] = [
        &["checkout.session.completed", "checkout.session.canceled"],
        &["checkout.session.canceled", "checkout.session.expired"],
        &["*", "checkout.session.canceled"],
        &["customer.created"],
    ];
    for events in olds {
        let input = EndpointInput {
            url: Some("https://shop.example/hooks".into()),
            enabled_events: Some(vec!["product.created".into()]),
            ..EndpointInput::default()
        };
        let endpoint = webhooks::create_endpoint(&db, &caller, input, Default::default(), 0)
            .await
            .unwrap();
        // Replaces the endpoint's subscriptions.
        db.write(async |tx| {
            tx.execute(
                "DELETE FROM webhook_endpoint_events WHERE endpoint_id = $1",
                &kassa::store::args![&endpoint.id],
            )
            .await?;
            for event in events {
                tx.execute(
                    "INSERT INTO webhook_endpoint_events (endpoint_id, event_type) VALUES ($1, $2)",
                    &kassa::store::args![&endpoint.id, *event],
                )
                .await?;
            }
            Ok(())
        })
        .await
        .unwrap();
        ids.push(endpoint.id);
    }

    db.migrate().await.unwrap();
    let mut after = Vec::new();
    for id in &ids {
        after.push(
            webhooks::get_endpoint(&db, &caller, id)
                .await
                .unwrap()
                .enabled_events,
        );
    }
    assert_eq!(
        after,
        [
            vec!["checkout.session.completed", "checkout.session.expired"],
            vec!["checkout.session.expired"],
            vec!["*", "checkout.session.expired"],
            vec!["customer.created"],
        ]
    );
}
