//! Renewals under kill -9: customers on test clocks subscribe through the hosted page, then
//! their clocks are advanced month after month while `kassa serve` is killed with SIGKILL and
//! started again, so that kills land in the middle of advances (which the server's clock
//! worker runs: renewals, finalizations, charges). Afterwards, from the database and the
//! simulated processor's ledger: every period that came due was invoiced once, every renewal
//! invoice is paid by exactly one succeeded charge, every clock is ready, every event was
//! written once and reached a receiver that verified it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kassa::domain::billing::engine::FINALIZE_AFTER;
use kassa::domain::billing::periods::period_start;
use kassa::domain::catalog::{Interval, Recurring};
use kassa::store::Db;
use reqwest::Method;

use crate::harness::{Engine, KassaProcess, TestDatabase, on_both_engines};
use crate::receiver::{Receiver, verify};
use crate::shop::{Answer, Shop, count};

on_both_engines!(renewals_under_kill_9);

/// 2027-01-01T00:00:00Z, where the clocks start: periods are calendar months from the 1st.
const START: i64 = 1_798_761_600;
const MONTHLY: Recurring = Recurring {
    interval: Interval::Month,
    interval_count: 1,
};
/// The servers' `--billing-lease`: what a killed server held is taken over this soon.
const LEASE: &str = "2s";

async fn renewals_under_kill_9(engine: Engine) {
    let began = Instant::now();
    let (kills, clocks, customers, between) = if crate::full() {
        (10, 8, 25, 3000)
    } else {
        (4, 3, 8, 1200)
    };
    let database = TestDatabase::new(engine).await;
    let mut server = start(&database.url, "127.0.0.1:0").await;
    let base = server.base.clone();
    let addr = base.trim_start_matches("http://").to_string();
    let key = server.banner_value("test key").await.unwrap();
    let (receiver, url) = Receiver::start().await;
    let shop = Arc::new(Shop::new(&key));
    let secret = shop.endpoint(&base, &url, "*").await;
    let db = database.open().await;

    let price = acknowledged(
        shop.call(
            Method::POST,
            &base,
            "/v1/prices",
            "currency=usd&unit_amount=900&recurring[interval]=month&product_data[name]=Pro",
        )
        .await,
    );
    let price = price["id"].as_str().unwrap().to_string();
    let seeds = (0..clocks).map(|_| subscribe_on_a_clock(&shop, &base, &price, customers));
    let clock_ids: Vec<String> = futures_util::future::join_all(seeds).await;

    let stop = Arc::new(AtomicBool::new(false));
    let drivers: Vec<_> = (clock_ids.iter().cloned())
        .map(|clock| tokio::spawn(drive(shop.clone(), base.clone(), clock, stop.clone())))
        .collect();
    let mut during_an_advance = 0;
    for round in 0..kills {
        tokio::time::sleep(Duration::from_millis(
            between + rand::random_range(0..between),
        ))
        .await;
        let advancing = count(
            &db,
            "SELECT COUNT(*) FROM test_clocks WHERE status = 'advancing'",
        )
        .await;
        server.signal("KILL");
        server.wait().await;
        during_an_advance += usize::from(advancing > 0);
        println!(
            "kill {} of {kills}: {advancing} of {clocks} clocks advancing",
            round + 1
        );
        server = start(&database.url, &addr).await;
    }
    let restarted = Instant::now();
    tokio::time::sleep(Duration::from_millis(between)).await;
    stop.store(true, Ordering::Relaxed);
    // Each driver ends once its clock is ready: its last advance finished, after the leases
    // of the last killed server ran out.
    let mut reached = BTreeMap::new();
    for (clock, driver) in clock_ids.iter().zip(drivers) {
        let ended = tokio::time::timeout(Duration::from_secs(120), driver)
            .await
            .unwrap_or_else(|_| panic!("test clock {clock} never became ready"));
        let advanced = ended.unwrap().unwrap_or_else(|what| panic!("{what}"));
        reached.insert(clock.clone(), advanced);
    }

    let ready = restarted.elapsed();
    let renewals = check_billing(&db, &reached).await;
    let events = check_events(&db, &reached).await;
    let again = check_deliveries(&db, &receiver, &secret, &events).await;
    let months: i64 = reached.values().map(|a| a.months).sum();
    println!(
        "renewals on {engine:?} after {kills} kills ({during_an_advance} during an advance), \
         {:.0} s: \
         {clocks} clocks × {customers} subscriptions advanced {months} months in all, every \
         clock ready {:.1} s after the last restart; {renewals} renewals, each invoiced once \
         and paid by one succeeded charge in the ledger; {} events, each written once, all \
         delivered and verified {:.1} s after the last restart ({again} delivered again)",
        began.elapsed().as_secs_f64(),
        ready.as_secs_f64(),
        events.len(),
        restarted.elapsed().as_secs_f64(),
    );
    drop(server);
}

/// `kassa serve` with short billing leases.
async fn start(database_url: &str, addr: &str) -> KassaProcess {
    KassaProcess::start_with(database_url, addr, &[], &["--billing-lease", LEASE]).await
}

/// A new test clock at [`START`] with `customers` customers on it, each subscribed to `price`
/// through a checkout paid on its hosted page; returns the clock's id.
async fn subscribe_on_a_clock(shop: &Shop, base: &str, price: &str, customers: usize) -> String {
    let body = format!("frozen_time={START}&name=Renewals");
    let clock = acknowledged(
        shop.call(Method::POST, base, "/v1/test_helpers/test_clocks", &body)
            .await,
    );
    let clock = clock["id"].as_str().unwrap().to_string();
    for n in 0..customers {
        let body = format!("email=customer{n}%40example.com&test_clock={clock}");
        let customer = acknowledged(shop.call(Method::POST, base, "/v1/customers", &body).await);
        let customer = customer["id"].as_str().unwrap();
        let session = acknowledged(
            shop.create_subscription_session(base, customer, price)
                .await,
        );
        let form = acknowledged(shop.open_page(base, &session).await);
        assert!(
            acknowledged(shop.pay(base, &session, &form).await),
            "{session} was paid by its one payment"
        );
    }
    clock
}

/// How far a driver moved its clock: the months it advanced (one advance each) and the time
/// the clock stopped at.
#[derive(Debug, Clone, Copy)]
struct Advanced {
    months: i64,
    time: i64,
}

/// The time a clock is advanced to for `month`: two hours past that month's renewal, so that
/// its invoice, charged an hour after the renewal, is paid within the same advance.
fn goal(month: i64) -> i64 {
    period_start(START, MONTHLY, month) + FINALIZE_AFTER + 3600
}

/// Advances `clock` a month at a time, each time it is ready again, until `stop`; then waits
/// for it to be ready. An advance whose answer was cut by a kill is asked again only if the
/// clock did not take it (it is ready at the earlier time).
async fn drive(
    shop: Arc<Shop>,
    base: String,
    clock: String,
    stop: Arc<AtomicBool>,
) -> Result<Advanced, String> {
    let path = format!("/v1/test_helpers/test_clocks/{clock}");
    let mut months = 0;
    loop {
        let current = match shop.call(Method::GET, &base, &path, "").await {
            Answer::Acknowledged(current) => current,
            Answer::Lost => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Answer::Unexpected(what) => return Err(what),
        };
        if current["status"] != "ready" {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let time = current["frozen_time"].as_i64().unwrap();
        while time >= goal(months + 1) {
            months += 1;
        }
        if time != START && time != goal(months) {
            return Err(format!(
                "{clock} is ready at {time}, which no advance asked for"
            ));
        }
        if stop.load(Ordering::Relaxed) {
            return Ok(Advanced { months, time });
        }
        let body = format!("frozen_time={}", goal(months + 1));
        let advance = format!("{path}/advance");
        if let Answer::Unexpected(what) = shop.call(Method::POST, &base, &advance, &body).await {
            return Err(what);
        }
    }
}

/// Every clock is ready where its driver left it; every subscription was invoiced once for
/// each period that came due on its clock, and for no other; every renewal invoice is paid,
/// with no attempt in progress, by exactly one succeeded charge, which the processor's ledger
/// holds exactly once (and the ledger holds nothing else). Returns the number of renewals.
async fn check_billing(db: &Db, reached: &BTreeMap<String, Advanced>) -> usize {
    let clocks: Vec<(String, String, i64)> = rows(
        db,
        "SELECT id, status, frozen_time FROM test_clocks ORDER BY id",
    )
    .await;
    assert_eq!(clocks.len(), reached.len());
    for (id, status, time) in &clocks {
        assert_eq!(
            (status.as_str(), *time),
            ("ready", reached[id].time),
            "{id}"
        );
    }

    let subscriptions: Vec<(String, Option<String>, i64, String)> = rows(
        db,
        "SELECT id, test_clock_id, billing_cycle_anchor, status FROM subscriptions",
    )
    .await;
    let sql = format!(
        "SELECT {} FROM invoices WHERE billing_reason = 'subscription_cycle'",
        Renewal::COLUMNS
    );
    let invoices: Vec<Renewal> = rows(db, &sql).await;
    let mut invoiced: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for invoice in &invoices {
        let subscription = (invoice.subscription_id.as_deref()).expect("a renewal's subscription");
        invoiced
            .entry(subscription)
            .or_default()
            .push(invoice.period_end);
    }
    let mut due_in_all = 0;
    for (id, clock, anchor, status) in &subscriptions {
        let until = reached[clock.as_deref().expect("on a clock")].time;
        let due: Vec<i64> = (1..)
            .map(|n| period_start(*anchor, MONTHLY, n))
            .take_while(|start| *start <= until)
            .collect();
        let mut got = invoiced.remove(id.as_str()).unwrap_or_default();
        got.sort_unstable();
        assert_eq!(
            got, due,
            "{id}: one renewal invoice per period that came due"
        );
        assert_eq!(status, "active", "{id}");
        due_in_all += due.len();
    }
    assert!(invoiced.is_empty(), "renewals of no subscription");
    assert!(
        due_in_all > 0,
        "periods came due while the server was killed"
    );

    let ledger: Vec<(String, String, i64)> = rows(
        db,
        "SELECT idempotency_key, outcome, amount FROM processor_ledger",
    )
    .await;
    let charges: Vec<(String, String, String, i64)> = rows(
        db,
        "SELECT id, payment_intent_id, status, amount FROM charges",
    )
    .await;
    let mut ledger_of: BTreeMap<&str, Vec<&(String, String, i64)>> = BTreeMap::new();
    for entry in &ledger {
        let invoice = entry.0.split("-attempt-").next().unwrap();
        ledger_of.entry(invoice).or_default().push(entry);
    }
    for invoice in &invoices {
        let (id, due) = (&invoice.id, invoice.amount_due);
        assert_eq!(
            (invoice.status.as_str(), invoice.amount_paid),
            ("paid", due),
            "{id} is paid"
        );
        assert_eq!(
            invoice.charge_key, None,
            "{id}: no charge attempt in progress"
        );
        let entries = ledger_of.remove(id.as_str()).unwrap_or_default();
        assert_eq!(
            entries.len(),
            1,
            "{id}: one charge in the ledger: {entries:?}"
        );
        assert_eq!((entries[0].1.as_str(), entries[0].2), ("succeeded", due));
        let intent = invoice.payment_intent_id.as_deref();
        let of_intent: Vec<_> = charges
            .iter()
            .filter(|c| Some(c.1.as_str()) == intent)
            .collect();
        assert_eq!(of_intent.len(), 1, "{id}: one charge: {of_intent:?}");
        assert_eq!(Some(&of_intent[0].0), invoice.charge_id.as_ref());
        assert_eq!(
            (of_intent[0].2.as_str(), of_intent[0].3),
            ("succeeded", due)
        );
    }
    assert!(
        ledger_of.is_empty(),
        "ledger entries of no renewal: {ledger_of:?}"
    );
    invoices.len()
}

kassa::row_struct! {
    /// A renewal invoice (`period_end` is the time of its renewal; `charge_key` the charge
    /// attempt in progress).
    struct Renewal {
        id: String,
        subscription_id: Option<String>,
        period_end: i64,
        status: String,
        amount_due: i64,
        amount_paid: i64,
        payment_intent_id: Option<String>,
        charge_id: Option<String>,
        charge_key: Option<String>,
    }
}

/// Each renewal's events were written once (`invoice.created`, `invoice.finalized`,
/// `invoice.paid`, `invoice.payment_succeeded`, `charge.succeeded`,
/// `payment_intent.succeeded`, and `customer.subscription.updated` once per renewal), and each
/// clock's `advancing` and `ready` once per advance. Returns the ids of all events.
async fn check_events(db: &Db, reached: &BTreeMap<String, Advanced>) -> BTreeSet<String> {
    let events: Vec<(String, String, String)> =
        rows(db, "SELECT id, type, object_id FROM events").await;
    let mut written: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (_, kind, object) in &events {
        *written.entry((kind.as_str(), object.as_str())).or_default() += 1;
    }
    let once = |kind: &str, object: &str, times: usize| {
        let found = written.get(&(kind, object)).copied().unwrap_or(0);
        assert_eq!(found, times, "{kind} of {object}");
    };
    let renewals: Vec<(String, String, String, String)> = rows(
        db,
        "SELECT id, subscription_id, payment_intent_id, charge_id FROM invoices \
         WHERE billing_reason = 'subscription_cycle'",
    )
    .await;
    let mut per_subscription: BTreeMap<&str, usize> = BTreeMap::new();
    for (invoice, subscription, intent, charge) in &renewals {
        for kind in [
            "invoice.created",
            "invoice.finalized",
            "invoice.paid",
            "invoice.payment_succeeded",
        ] {
            once(kind, invoice, 1);
        }
        once("payment_intent.succeeded", intent, 1);
        once("charge.succeeded", charge, 1);
        *per_subscription.entry(subscription).or_default() += 1;
    }
    for (subscription, renewed) in per_subscription {
        once("customer.subscription.updated", subscription, renewed);
    }
    for (clock, advanced) in reached {
        let months = usize::try_from(advanced.months).unwrap();
        once("test_helpers.test_clock.advancing", clock, months);
        once("test_helpers.test_clock.ready", clock, months);
    }
    events.into_iter().map(|(id, _, _)| id).collect()
}

/// Every event reaches the receiver, answered 200, and every delivery verifies; an event
/// delivered again (its attempt was under way when the server was killed: delivery is at
/// least once) comes with the same bytes. Deliveries a killed server had claimed come back
/// when their lease (30 s) runs out. Returns how many deliveries were repeats.
async fn check_deliveries(
    db: &Db,
    receiver: &Receiver,
    secret: &str,
    events: &BTreeSet<String>,
) -> usize {
    let mut delivered = BTreeMap::new();
    for _ in 0..900 {
        delivered = BTreeMap::new();
        for delivery in receiver.received().iter().filter(|d| d.status == 200) {
            let id = delivery.json()["id"].as_str().unwrap().to_string();
            delivered
                .entry(id)
                .or_insert_with(Vec::new)
                .push(delivery.body.clone());
        }
        let pending = count(
            db,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE state <> 'succeeded'",
        )
        .await;
        if pending == 0 && delivered.keys().eq(events.iter()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ids: BTreeSet<&String> = delivered.keys().collect();
    assert_eq!(ids, events.iter().collect(), "every event delivered");
    assert!(
        receiver.received().iter().all(|d| verify(d, secret)),
        "every delivery verifies"
    );
    let mut again = 0;
    for (id, bodies) in &delivered {
        assert!(
            bodies.iter().all(|b| b == &bodies[0]),
            "{id} was delivered again with other bytes"
        );
        again += bodies.len() - 1;
    }
    again
}

async fn rows<R: kassa::store::sql::FromRow>(db: &Db, sql: &str) -> Vec<R> {
    db.fetch_all(sql, &[])
        .await
        .expect("query the drill's database")
}

fn acknowledged<T: std::fmt::Debug>(answer: Answer<T>) -> T {
    match answer {
        Answer::Acknowledged(value) => value,
        other => panic!("expected an acknowledged answer, got {other:?}"),
    }
}
