//! `kassa import`: a second kassa serves as the Stripe-compatible source (its `/v1`), and the
//! `kassa` binary copies its catalog and customers into another database.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::future::join_all;
use kassa::clock::Clock;
use kassa::domain::accounts::{self, Caller};
use kassa::domain::catalog::{
    self, Interval, LinkItemInput, PaymentLinkInput, PriceInput, PriceTerms, ProductInput,
    Recurring,
};
use kassa::domain::customers::{self, CustomerInput};
use kassa::domain::metadata::MetadataUpdate;
use kassa::domain::money::Currency;
use kassa::store::{Db, args};

use crate::harness::{
    Engine, TestAccount, TestDatabase, TestServer, kassa_command, on_both_engines,
};

on_both_engines!(
    an_import_copies_everything_and_a_second_run_changes_nothing,
    an_interrupted_import_resumes_without_duplicates,
    a_rate_limited_source_is_waited_for_and_refusals_are_listed,
    a_source_echoing_the_key_does_not_get_it_printed,
    a_source_repeating_a_page_stops_the_import,
    ctrl_c_stops_an_import_waiting_for_the_source_account,
    a_product_whose_default_price_kassa_refuses_comes_alone,
);

/// 2 000 products (each with a price) and customers in CI; 200 otherwise, to keep a debug
/// build's run short on a small machine.
fn object_count() -> usize {
    let count = if std::env::var("CI").as_deref() == Ok("true") {
        2000
    } else {
        200
    };
    println!("importing {count} products, {count} prices and {count} customers");
    count
}

/// A source kassa with `count` products each with a price (every third monthly, every other in
/// euros), `count` customers, and three payment links.
async fn seed_source(server: &TestServer, account: &TestAccount, count: usize) {
    let caller = account.caller(false);
    let now = server.clock.now();
    for chunk in (0..count).collect::<Vec<_>>().chunks(50) {
        let made = chunk.iter().map(|&i| {
            let caller = caller.clone();
            async move {
                let product = ProductInput {
                    name: Some(format!("Product {i}")),
                    description: Some(Some(format!("The product number {i}"))),
                    metadata: Some(MetadataUpdate::Replace(BTreeMap::from([(
                        "n".to_string(),
                        i.to_string(),
                    )]))),
                    ..Default::default()
                };
                let price = PriceInput {
                    nickname: Some(format!("Price {i}")),
                    ..PriceInput::with_terms(terms(i))
                };
                catalog::create_product(&server.db, &caller, product, Some(price), now)
                    .await
                    .unwrap();
                let customer = CustomerInput {
                    email: Some(Some(format!("customer{i}@example.com"))),
                    name: Some(Some(format!("Customer {i}"))),
                    metadata: Some(MetadataUpdate::Replace(BTreeMap::from([(
                        "n".to_string(),
                        i.to_string(),
                    )]))),
                    ..Default::default()
                };
                customers::create_customer(&server.db, &caller, customer, now)
                    .await
                    .unwrap();
            }
        });
        join_all(made).await;
    }
    let prices = source_prices(server, account).await;
    let usd: Vec<&String> = prices
        .iter()
        .filter(|(_, (currency, recurring))| currency == "usd" && !recurring)
        .map(|(id, _)| id)
        .collect();
    for n in 0..3 {
        let input = PaymentLinkInput {
            line_items: Some(vec![
                LinkItemInput {
                    price: usd[n * 2].clone(),
                    quantity: Some(2),
                    adjustable_quantity: None,
                },
                LinkItemInput {
                    price: usd[n * 2 + 1].clone(),
                    quantity: Some(1),
                    adjustable_quantity: Some(catalog::AdjustableQuantity {
                        enabled: true,
                        minimum: Some(1),
                        maximum: Some(5),
                    }),
                },
            ]),
            success_url: Some(Some(format!("https://shop.example/thanks/{n}"))),
            metadata: Some(MetadataUpdate::Replace(BTreeMap::from([(
                "link".to_string(),
                n.to_string(),
            )]))),
            ..Default::default()
        };
        catalog::create_payment_link(&server.db, &caller, input, &server.base, now)
            .await
            .unwrap();
    }
}

fn terms(i: usize) -> PriceTerms {
    PriceTerms {
        currency: Currency::from_stored(if i.is_multiple_of(2) { "usd" } else { "eur" }.into()),
        unit_amount: Some(100 + i as i64),
        custom: None,
        recurring: i.is_multiple_of(3).then_some(Recurring {
            interval: Interval::Month,
            interval_count: 1,
        }),
    }
}

/// Every price of the source: id to (currency, recurring).
async fn source_prices(
    server: &TestServer,
    account: &TestAccount,
) -> HashMap<String, (String, bool)> {
    let rows: Vec<(String, String, Option<String>)> = server
        .db
        .fetch_all(
            "SELECT id, currency, recurring_interval FROM prices WHERE account_id = $1",
            &args![&account.id],
        )
        .await
        .unwrap();
    rows.into_iter()
        .map(|(id, currency, interval)| (id, (currency, interval.is_some())))
        .collect()
}

/// The target: its own database with one account.
struct Target {
    database: TestDatabase,
    db: Db,
    account: String,
}

impl Target {
    async fn new(engine: Engine) -> Target {
        let database = TestDatabase::new(engine).await;
        let db = database.open().await;
        let created = accounts::create_account(&db, "Imported", 1_800_000_000)
            .await
            .unwrap();
        Target {
            database,
            db,
            account: created.account.id,
        }
    }

    fn caller(&self) -> Caller {
        Caller::without_key(&self.account, false)
    }

    async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE account_id = $1");
        let (n,): (i64,) = self
            .db
            .fetch_one(&sql, &args![&self.account])
            .await
            .unwrap();
        n
    }

    /// Rows of products, prices, customers, payment links, events and mappings.
    async fn counts(&self) -> [i64; 6] {
        let mut counts = [0; 6];
        for (n, table) in [
            "products",
            "prices",
            "customers",
            "payment_links",
            "events",
            "import_mappings",
        ]
        .iter()
        .enumerate()
        {
            counts[n] = self.count(table).await;
        }
        counts
    }

    /// Source id to kassa id, of one type.
    async fn mappings(&self, object_type: &str) -> HashMap<String, String> {
        let rows: Vec<(String, String)> = self
            .db
            .fetch_all(
                "SELECT source_id, kassa_id FROM import_mappings WHERE account_id = $1 AND object_type = $2",
                &args![&self.account, object_type],
            )
            .await
            .unwrap();
        rows.into_iter().collect()
    }

    fn args<'a>(&'a self, source: &'a TestServer, key: &'a str) -> Vec<&'a str> {
        vec![
            "import",
            "--from",
            &source.base,
            "--from-api-key",
            key,
            "--account",
            &self.account,
            "--mode",
            "test",
            "--database-url",
            &self.database.url,
        ]
    }
}

/// The summary's row for `kind`: created, updated, unchanged, skipped, immutable changes.
fn row(summary: &str, kind: &str) -> Vec<u64> {
    let line = summary
        .lines()
        .find(|l| l.starts_with(kind))
        .unwrap_or_else(|| panic!("no {kind} row in: {summary}"));
    line[kind.len()..]
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect()
}

async fn an_import_copies_everything_and_a_second_run_changes_nothing(engine: Engine) {
    let count = object_count();
    let source = TestServer::start(engine).await;
    let account = source.account("Source").await;
    seed_source(&source, &account, count).await;
    let target = Target::new(engine).await;
    let args = target.args(&source, &account.test_key);

    // A dry run reads everything and writes nothing, not even mappings.
    let before = target.counts().await;
    let (code, out, err) = kassa_command(&[&args[..], &["--dry-run"]].concat()).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(row(&out, "products"), [count as u64, 0, 0, 0, 0], "{out}");
    assert!(
        out.contains("would create") && out.contains("Dry run"),
        "{out}"
    );
    assert_eq!(target.counts().await, before);

    let started = std::time::Instant::now();
    let (code, out, err) = kassa_command(&args).await;
    let took = started.elapsed();
    assert_eq!(code, 0, "{out}{err}");
    let objects = 3 * count + 3;
    println!(
        "imported {objects} objects in {took:.1?}: {:.0} objects/s",
        objects as f64 / took.as_secs_f64()
    );
    assert_eq!(row(&out, "products"), [count as u64, 0, 0, 0, 0], "{out}");
    // Each product's price came with it; the price pass finds it imported.
    assert_eq!(row(&out, "prices"), [0, 0, count as u64, 0, 0], "{out}");
    assert_eq!(row(&out, "customers"), [count as u64, 0, 0, 0, 0], "{out}");
    assert_eq!(row(&out, "payment links"), [3, 0, 0, 0, 0], "{out}");
    check_copies(&source, &account, &target, count).await;

    // A second run finds everything as it is: nothing written, no event.
    let after_first = target.counts().await;
    let (code, out, err) = kassa_command(&args).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("everything was already up to date"), "{out}");
    assert_eq!(row(&out, "customers"), [0, 0, count as u64, 0, 0], "{out}");
    assert_eq!(target.counts().await, after_first);

    // A change in the source: a dry run says it would update it, and does not.
    let caller = account.caller(false);
    let products = target.mappings("product").await;
    let (changed, _) = products.iter().next().unwrap();
    let renamed = ProductInput {
        name: Some("Renamed".into()),
        ..Default::default()
    };
    catalog::update_product(&source.db, &caller, changed, renamed, None, None, 0)
        .await
        .unwrap();
    let (code, out, _) = kassa_command(&[&args[..], &["--dry-run"]].concat()).await;
    assert_eq!(code, 0);
    assert_eq!(
        row(&out, "products"),
        [0, 1, count as u64 - 1, 0, 0],
        "{out}"
    );
    assert_eq!(target.counts().await, after_first);
    let (code, out, _) = kassa_command(&args).await;
    assert_eq!(code, 0);
    assert_eq!(
        row(&out, "products"),
        [0, 1, count as u64 - 1, 0, 0],
        "{out}"
    );
    let copy = catalog::get_product(&target.db, &target.caller(), &products[changed])
        .await
        .unwrap();
    assert_eq!(copy.name, "Renamed");
    let mut expected = after_first;
    expected[4] += 1; // product.updated
    assert_eq!(target.counts().await, expected);

    // A price whose amount changed in the source (kassa's API cannot do that, so the source's
    // database is changed) and its nickname: the nickname is copied, the amount is reported.
    let prices = target.mappings("price").await;
    let (price, copy) = prices.iter().next().unwrap();
    source
        .db
        .execute(
            "UPDATE prices SET unit_amount = 99999 WHERE id = $1",
            &args![price],
        )
        .await
        .unwrap();
    let nickname = catalog::PriceUpdate {
        nickname: Some(Some("Renamed price".into())),
        ..Default::default()
    };
    catalog::update_price(&source.db, &caller, price, nickname, 0)
        .await
        .unwrap();
    let (code, out, _) = kassa_command(&args).await;
    assert_eq!(code, 0);
    assert_eq!(row(&out, "prices"), [0, 1, count as u64 - 1, 0, 1], "{out}");
    assert!(
        out.contains(&format!("price {price}: unit_amount changed in the source")),
        "{out}"
    );
    let copied = catalog::get_price(&target.db, &target.caller(), copy)
        .await
        .unwrap();
    assert_eq!(copied.nickname.as_deref(), Some("Renamed price"));
    assert_ne!(copied.terms.unit_amount, Some(99999));
    expected[4] += 1; // price.updated
    assert_eq!(target.counts().await, expected);
}

/// Every source object has its copy, with the same fields, and links sell the copies' prices.
async fn check_copies(source: &TestServer, account: &TestAccount, target: &Target, count: usize) {
    let (from, to) = (account.caller(false), target.caller());
    let products = target.mappings("product").await;
    let prices = target.mappings("price").await;
    assert_eq!(products.len(), count);
    assert_eq!(prices.len(), count);
    assert_eq!(
        target.counts().await[..4],
        [count as i64, count as i64, count as i64, 3]
    );
    for (source_id, kassa_id) in &products {
        let original = catalog::get_product(&source.db, &from, source_id)
            .await
            .unwrap();
        let copy = catalog::get_product(&target.db, &to, kassa_id)
            .await
            .unwrap();
        assert_eq!(copy.name, original.name);
        assert_eq!(copy.description, original.description);
        assert_eq!(copy.metadata, original.metadata);
        let (price, copied) = (
            original.default_price.unwrap(),
            copy.default_price.expect("the default price came along"),
        );
        assert_eq!(prices[&price.id], copied.id);
        assert_eq!(copied.terms, price.terms);
        assert_eq!(copied.nickname, price.nickname);
    }
    let customers = target.mappings("customer").await;
    assert_eq!(customers.len(), count);
    for (source_id, kassa_id) in customers.iter().take(100) {
        let original = customers::get_customer(&source.db, &from, source_id)
            .await
            .unwrap();
        let copy = customers::get_customer(&target.db, &to, kassa_id)
            .await
            .unwrap();
        assert_eq!(
            (copy.email, copy.name, copy.metadata),
            (original.email, original.name, original.metadata)
        );
    }
    let links = target.mappings("payment_link").await;
    assert_eq!(links.len(), 3);
    for (source_id, kassa_id) in &links {
        let original = catalog::get_payment_link(&source.db, &from, source_id)
            .await
            .unwrap();
        let copy = catalog::get_payment_link(&target.db, &to, kassa_id)
            .await
            .unwrap();
        let lines = |link: &catalog::PaymentLink, map: Option<&HashMap<String, String>>| {
            link.items
                .iter()
                .map(|i| {
                    let price = map.map_or(i.price.clone(), |m| m[&i.price].clone());
                    (price, i.quantity, i.adjustable_quantity)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(lines(&copy, None), lines(&original, Some(&prices)));
        assert_eq!(copy.success_url, original.success_url);
        assert_eq!(copy.metadata, original.metadata);
    }
}

async fn an_interrupted_import_resumes_without_duplicates(engine: Engine) {
    let count = object_count();
    let source = TestServer::start(engine).await;
    let account = source.account("Source").await;
    seed_source(&source, &account, count).await;
    let target = Target::new(engine).await;
    let args = target.args(&source, &account.test_key);

    let mut child = spawn_import(&args);
    // Once a quarter of the products are in, Ctrl-C; an import that ended before is a failure,
    // not a wait without end.
    loop {
        if target.count("import_mappings").await >= count as i64 / 4 {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the import ended before it was interrupted: {status}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (code, out, err) = interrupt(child).await;
    assert_eq!(code, Some(130), "{out}{err}");
    assert!(out.contains("Interrupted"), "{out}");
    // Stopped part of the way, and every object written has its mapping, and the other way.
    let [products, prices, customers, _, _, mappings] = target.counts().await;
    assert!(
        mappings < 3 * count as i64,
        "the import was not interrupted: {out}"
    );
    assert_eq!(products + prices + customers, mappings);
    let imported = row(&out, "products")[0] + row(&out, "customers")[0];
    assert_eq!(imported as i64, products + customers, "{out}");

    let (code, out, err) = kassa_command(&args).await;
    assert_eq!(code, 0, "{out}{err}");
    let [products, prices, customers, links, _, mappings] = target.counts().await;
    assert_eq!(
        [products, prices, customers, links],
        [count as i64, count as i64, count as i64, 3]
    );
    assert_eq!(mappings, 3 * count as i64 + 3);
    let distinct: Vec<(i64,)> = target
        .db
        .fetch_all(
            "SELECT COUNT(DISTINCT kassa_id) FROM import_mappings WHERE account_id = $1",
            &args![&target.account],
        )
        .await
        .unwrap();
    assert_eq!(distinct[0].0, mappings);
}

/// A stub source that answers its first request for products with a 429 and `Retry-After: 1`,
/// and then a product with two prices, one of them tiered.
async fn a_rate_limited_source_is_waited_for_and_refusals_are_listed(engine: Engine) {
    let product_calls = Arc::new(AtomicUsize::new(0));
    let calls = product_calls.clone();
    let app = axum::Router::new()
        .route(
            "/v1/products",
            axum::routing::get(move || {
                let calls = calls.clone();
                async move {
                    use axum::response::IntoResponse;
                    if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                        return (
                            axum::http::StatusCode::TOO_MANY_REQUESTS,
                            [("retry-after", "1")],
                            axum::Json(
                                serde_json::json!({"error": {"message": "Too many requests"}}),
                            ),
                        )
                            .into_response();
                    }
                    axum::Json(list(vec![serde_json::json!({
                        "id": "prod_stub", "object": "product", "name": "Stub", "active": true,
                        "metadata": {"from": "stub"}, "default_price": "price_flat",
                    })]))
                    .into_response()
                }
            }),
        )
        .route(
            "/v1/prices",
            axum::routing::get(|| async {
                let price = |id: &str, scheme: &str, amount: Option<i64>| {
                    serde_json::json!({
                        "id": id, "object": "price", "product": "prod_stub", "active": true,
                        "currency": "usd", "unit_amount": amount, "billing_scheme": scheme,
                        "recurring": null, "metadata": {},
                    })
                };
                axum::Json(list(vec![
                    price("price_flat", "per_unit", Some(500)),
                    price("price_tiered", "tiered", None),
                ]))
            }),
        )
        .route(
            "/v1/customers",
            axum::routing::get(|| async { axum::Json(list(vec![])) }),
        )
        .route(
            "/v1/payment_links",
            axum::routing::get(|| async { axum::Json(list(vec![])) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let target = Target::new(engine).await;
    let (code, out, err) = kassa_command(&[
        "import",
        "--from",
        &base,
        "--from-api-key",
        "sk_test_stub",
        "--account",
        &target.account,
        "--mode",
        "test",
        "--database-url",
        &target.database.url,
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        product_calls.load(Ordering::SeqCst),
        2,
        "one 429, then the answer"
    );
    assert_eq!(row(&out, "products"), [1, 0, 0, 0, 0], "{out}");
    assert_eq!(row(&out, "prices"), [1, 0, 0, 1, 0], "{out}");
    assert!(
        out.contains("price price_tiered: kassa has no tiered prices"),
        "{out}"
    );
    assert!(!err.contains("sk_test_stub") && !out.contains("sk_test_stub"));
    let [products, prices, ..] = target.counts().await;
    assert_eq!([products, prices], [1, 1]);
}

fn list(data: Vec<serde_json::Value>) -> serde_json::Value {
    serde_json::json!({"object": "list", "data": data, "has_more": false, "url": "/v1/x"})
}

/// Serves `app` as a stub source; its base URL.
async fn serve_stub(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// `kassa import` from `base` with `key` into `target`'s test mode.
/// `kassa import` with `args`, running, its output piped.
fn spawn_import(args: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(args)
        .env_remove("KASSA_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Ctrl-C (SIGINT) to a running import, then its exit code, stdout and stderr once it ends.
async fn interrupt(child: tokio::process::Child) -> (Option<i32>, String, String) {
    let pid = child.id().expect("the import is running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().await.unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr),
    )
}

fn stub_args<'a>(target: &'a Target, base: &'a str, key: &'a str) -> Vec<&'a str> {
    vec![
        "import",
        "--from",
        base,
        "--from-api-key",
        key,
        "--account",
        &target.account,
        "--mode",
        "test",
        "--database-url",
        &target.database.url,
    ]
}

/// A source that refuses the key and repeats it whole in its message (Stripe masks it; a proxy
/// in front of a source may not): the import's error says which option to check, not the key.
async fn a_source_echoing_the_key_does_not_get_it_printed(engine: Engine) {
    let key = "sk_test_echoed_secret";
    let app = axum::Router::new().route(
        "/v1/account",
        axum::routing::get(|| async {
            (
                axum::http::StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({"error": {
                    "message": "Invalid API Key provided: sk_test_echoed_secret"
                }})),
            )
        }),
    );
    let base = serve_stub(app).await;
    let target = Target::new(engine).await;
    let (code, out, err) = kassa_command(&stub_args(&target, &base, key)).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("401") && err.contains("--from-api-key"),
        "{err}"
    );
    assert!(!err.contains(key) && !out.contains(key), "{out}{err}");
}

/// A source that ignores `starting_after` and says there is more: the import stops with an
/// error naming the list, rather than reading the same page forever.
async fn a_source_repeating_a_page_stops_the_import(engine: Engine) {
    let app = axum::Router::new().route(
        "/v1/products",
        axum::routing::get(|| async {
            let mut page = list(vec![serde_json::json!({
                "id": "prod_again", "object": "product", "name": "Again", "active": true,
            })]);
            page["has_more"] = true.into();
            axum::Json(page)
        }),
    );
    let base = serve_stub(app).await;
    let target = Target::new(engine).await;
    let (code, out, err) = kassa_command(&stub_args(&target, &base, "sk_test_stub")).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("/v1/products gave prod_again again"),
        "{out}{err}"
    );
    assert_eq!(target.count("products").await, 1);
}

/// Ctrl-C while the source has not answered the first request (`GET /v1/account`) stops the
/// import there, rather than after that request's timeout and every retry of it.
async fn ctrl_c_stops_an_import_waiting_for_the_source_account(engine: Engine) {
    let (asked, mut was_asked) = tokio::sync::mpsc::unbounded_channel::<()>();
    let app = axum::Router::new().route(
        "/v1/account",
        axum::routing::get(move || {
            let asked = asked.clone();
            async move {
                asked.send(()).unwrap();
                std::future::pending::<()>().await
            }
        }),
    );
    let base = serve_stub(app).await;
    let target = Target::new(engine).await;
    let child = spawn_import(&stub_args(&target, &base, "sk_test_stub"));
    was_asked.recv().await.unwrap();
    let (code, out, err) = interrupt(child).await;
    assert_eq!(code, Some(130), "{out}{err}");
    assert!(out.contains("Interrupted"), "{out}");
    assert_eq!(target.count("import_mappings").await, 0);
}

/// A product whose default price kassa refuses (its lookup_key is taken in the account) is
/// created without it, and the price is listed with kassa's reason, rather than the unique
/// violation stopping the whole import.
async fn a_product_whose_default_price_kassa_refuses_comes_alone(engine: Engine) {
    let target = Target::new(engine).await;
    let product = ProductInput {
        name: Some("Already here".into()),
        ..Default::default()
    };
    let taken = PriceInput {
        lookup_key: Some("standard".into()),
        ..PriceInput::with_terms(terms(0))
    };
    catalog::create_product(&target.db, &target.caller(), product, Some(taken), 0)
        .await
        .unwrap();
    let price = serde_json::json!({
        "id": "price_std", "object": "price", "product": "prod_std", "active": true,
        "currency": "usd", "unit_amount": 900, "billing_scheme": "per_unit", "recurring": null,
        "lookup_key": "standard", "metadata": {},
    });
    let expanded = price.clone();
    let app = axum::Router::new()
        .route(
            "/v1/products",
            axum::routing::get(move || {
                let price = expanded.clone();
                async move {
                    axum::Json(list(vec![serde_json::json!({
                        "id": "prod_std", "object": "product", "name": "Standard",
                        "active": true, "default_price": price,
                    })]))
                }
            }),
        )
        .route(
            "/v1/prices",
            axum::routing::get(move || {
                let price = price.clone();
                async move { axum::Json(list(vec![price])) }
            }),
        )
        .route(
            "/v1/customers",
            axum::routing::get(|| async { axum::Json(list(vec![])) }),
        )
        .route(
            "/v1/payment_links",
            axum::routing::get(|| async { axum::Json(list(vec![])) }),
        );
    let base = serve_stub(app).await;
    let (code, out, err) = kassa_command(&stub_args(&target, &base, "sk_test_stub")).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(row(&out, "products"), [1, 0, 0, 0, 0], "{out}");
    assert_eq!(row(&out, "prices"), [0, 0, 0, 1, 0], "{out}");
    assert!(
        out.contains("price price_std: kassa refused it") && out.contains("lookup_key"),
        "{out}"
    );
    let copy = &target.mappings("product").await["prod_std"];
    let copy = catalog::get_product(&target.db, &target.caller(), copy)
        .await
        .unwrap();
    assert_eq!((copy.name.as_str(), copy.default_price), ("Standard", None));
}
