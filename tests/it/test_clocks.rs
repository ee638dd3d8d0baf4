//! Test clocks (decisions §11): Stripe's `/v1/test_helpers/test_clocks`, customers that live on
//! one, and advances that run a clock's billing in time order: a year of monthly renewals on
//! calendar months, dunning, the lists that leave clock objects out, deletion, and live mode
//! that has none. Most tests run each advance themselves (no clock worker runs in their
//! server); one leaves it to the server's own worker.

use std::time::Duration;

use kassa::clock::Clock;
use kassa::domain::billing::engine::{LEASE_SECONDS, SimulatedProcessor};
use kassa::domain::test_clocks::run_advancing;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{
    Engine, TestAccount, TestDatabase, TestServer, json_with_status, on_both_engines,
};

on_both_engines!(
    test_clocks_are_created_listed_read_and_deleted_in_test_mode_only,
    an_advance_moves_forward_only_and_one_at_a_time,
    a_year_of_monthly_renewals_runs_on_calendar_months_and_each_is_charged_once,
    renewals_that_fail_on_a_clock_retry_then_cancel,
    lists_leave_out_clock_objects_unless_asked,
    deleting_a_clock_deletes_its_customers_and_ends_their_subscriptions,
    the_server_advances_clocks_on_its_own,
    a_session_on_a_clock_expires_by_the_clocks_time,
    two_servers_advancing_one_clock_charge_each_renewal_once,
    deleting_a_clock_writes_real_time_events_and_ends_its_sessions,
    trials_on_a_clock_count_from_the_clocks_time,
);

const DAY: i64 = 86_400;
/// 2027-01-31T00:00:00Z: a month anchored on the 31st.
const JAN_31_2027: i64 = 1_801_353_600;

/// A server whose clock worker does not run: the test advances clocks itself.
async fn server(engine: Engine) -> TestServer {
    TestServer::start_configured(TestDatabase::new(engine).await, |config| {
        config.billing_interval = None;
        config.test_clock_interval = None;
    })
    .await
}

async fn call(server: &TestServer, key: &str, method: Method, path: &str, body: &str) -> Value {
    let request = server
        .with_key(method, path, key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    json_with_status(request.send().await.unwrap(), 200).await
}

async fn get(server: &TestServer, key: &str, path: &str) -> Value {
    call(server, key, Method::GET, path, "").await
}

async fn post(server: &TestServer, key: &str, path: &str, body: &str) -> Value {
    call(server, key, Method::POST, path, body).await
}

/// The error a request answers with `status`.
async fn refused(
    server: &TestServer,
    key: &str,
    method: Method,
    path: &str,
    body: &str,
    status: u16,
) -> Value {
    let request = server
        .with_key(method, path, key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    json_with_status(request.send().await.unwrap(), status).await["error"].clone()
}

fn ids(list: &Value) -> Vec<&str> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect()
}

async fn new_clock(server: &TestServer, key: &str, at: i64) -> String {
    let clock = post(
        server,
        key,
        "/v1/test_helpers/test_clocks",
        &format!("frozen_time={at}&name=Renewals"),
    )
    .await;
    clock["id"].as_str().unwrap().to_string()
}

/// Advances the clock to `to` and runs the advance as a server's worker would.
async fn advance(server: &TestServer, key: &str, clock: &str, to: i64) -> Value {
    let advancing = post(
        server,
        key,
        &format!("/v1/test_helpers/test_clocks/{clock}/advance"),
        &format!("frozen_time={to}"),
    )
    .await;
    assert_eq!(advancing["status"], "advancing");
    assert_eq!(
        advancing["status_details"]["advancing"]["target_frozen_time"],
        to
    );
    let advanced = run_advancing(
        &server.db,
        &SimulatedProcessor,
        server.clock.now(),
        LEASE_SECONDS,
        &server.base,
    )
    .await
    .unwrap();
    assert_eq!(advanced.clocks, 1, "{advanced:?}");
    let ready = get(
        server,
        key,
        &format!("/v1/test_helpers/test_clocks/{clock}"),
    )
    .await;
    assert_eq!(
        (&ready["status"], &ready["frozen_time"]),
        (&json!("ready"), &json!(to))
    );
    ready
}

/// A customer on `clock` subscribed to 2 × €9.00 a month; the subscription.
async fn subscribe_on(server: &TestServer, account: &TestAccount, clock: &str) -> Value {
    let key = &account.test_key;
    let customer = post(
        server,
        key,
        "/v1/customers",
        &format!("email=ada%40example.com&test_clock={clock}"),
    )
    .await;
    let price = post(
        server,
        key,
        "/v1/prices",
        "currency=eur&unit_amount=900&recurring[interval]=month&product_data[name]=Pro",
    )
    .await;
    let session = post(
        server,
        key,
        "/v1/checkout/sessions",
        &format!(
            "mode=subscription&customer={}&line_items[0][price]={}&line_items[0][quantity]=2",
            customer["id"].as_str().unwrap(),
            price["id"].as_str().unwrap()
        ),
    )
    .await;
    let paid = post(
        server,
        key,
        &format!(
            "/v1/test_helpers/checkout/sessions/{}/pay",
            session["id"].as_str().unwrap()
        ),
        "card=4242424242424242",
    )
    .await;
    let id = paid["subscription"].as_str().unwrap();
    get(server, key, &format!("/v1/subscriptions/{id}")).await
}

async fn test_clocks_are_created_listed_read_and_deleted_in_test_mode_only(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let clock = post(
        &server,
        key,
        "/v1/test_helpers/test_clocks",
        "frozen_time=1800000000&name=Annual%20renewal",
    )
    .await;
    let id = clock["id"].as_str().unwrap();
    assert!(id.starts_with("clock_"), "{clock}");
    assert_eq!(clock["object"], "test_helpers.test_clock");
    assert_eq!(clock["frozen_time"], 1_800_000_000);
    assert_eq!(clock["name"], "Annual renewal");
    assert_eq!(clock["status"], "ready");
    assert_eq!(clock["status_details"], json!({}));
    assert_eq!(clock["livemode"], false);
    assert_eq!(
        clock["deletes_after"].as_i64().unwrap() - clock["created"].as_i64().unwrap(),
        30 * DAY
    );
    let other = new_clock(&server, key, 1_700_000_000).await;
    let listed = get(&server, key, "/v1/test_helpers/test_clocks").await;
    assert_eq!(ids(&listed), [other.as_str(), id]);
    let page = get(&server, key, "/v1/test_helpers/test_clocks?limit=1").await;
    assert_eq!(
        (ids(&page), &page["has_more"]),
        (vec![other.as_str()], &json!(true))
    );
    assert_eq!(
        get(&server, key, &format!("/v1/test_helpers/test_clocks/{id}")).await,
        clock
    );

    let error = refused(
        &server,
        key,
        Method::POST,
        "/v1/test_helpers/test_clocks",
        "name=x",
        400,
    )
    .await;
    assert_eq!(error["param"], "frozen_time", "{error}");
    let path = format!("/v1/test_helpers/test_clocks/{id}");
    let live = &account.live_key;
    for (method, path) in [
        (Method::GET, "/v1/test_helpers/test_clocks".to_string()),
        (Method::GET, path.clone()),
        (Method::DELETE, path.clone()),
    ] {
        refused(&server, live, method, &path, "", 404).await;
    }
    let error = refused(
        &server,
        live,
        Method::POST,
        "/v1/test_helpers/test_clocks",
        "frozen_time=1800000000",
        404,
    )
    .await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("test mode only"),
        "{error}"
    );
    let other_account = server.account("Other").await;
    refused(
        &server,
        &other_account.test_key,
        Method::GET,
        &path,
        "",
        404,
    )
    .await;

    let deleted = call(&server, key, Method::DELETE, &path, "").await;
    assert_eq!(
        deleted,
        json!({"id": id, "object": "test_helpers.test_clock", "deleted": true})
    );
    refused(&server, key, Method::GET, &path, "", 404).await;
}

async fn an_advance_moves_forward_only_and_one_at_a_time(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let clock = new_clock(&server, key, JAN_31_2027).await;
    let path = format!("/v1/test_helpers/test_clocks/{clock}/advance");
    let far = server.clock.now() + 101 * 365 * DAY;
    for to in [JAN_31_2027, JAN_31_2027 - 1, far] {
        let error = refused(
            &server,
            key,
            Method::POST,
            &path,
            &format!("frozen_time={to}"),
            400,
        )
        .await;
        assert_eq!(error["param"], "frozen_time", "{error}");
    }
    post(
        &server,
        key,
        &path,
        &format!("frozen_time={}", JAN_31_2027 + DAY),
    )
    .await;
    // No worker runs here: the clock stays advancing until the test runs the advance.
    let error = refused(
        &server,
        key,
        Method::POST,
        &path,
        &format!("frozen_time={}", JAN_31_2027 + 2 * DAY),
        400,
    )
    .await;
    assert_eq!(error["code"], "test_clock_advancing", "{error}");
    let advancing = get(
        &server,
        key,
        "/v1/events?type=test_helpers.test_clock.advancing",
    )
    .await;
    assert_eq!(
        advancing["data"][0]["data"]["object"]["status_details"]["advancing"]["target_frozen_time"],
        JAN_31_2027 + DAY
    );
    run_advancing(
        &server.db,
        &SimulatedProcessor,
        server.clock.now(),
        LEASE_SECONDS,
        &server.base,
    )
    .await
    .unwrap();
    let ready = get(
        &server,
        key,
        &format!("/v1/test_helpers/test_clocks/{clock}"),
    )
    .await;
    assert_eq!(ready["frozen_time"], JAN_31_2027 + DAY);
    let events = get(
        &server,
        key,
        "/v1/events?type=test_helpers.test_clock.ready",
    )
    .await;
    assert_eq!(events["data"][0]["data"]["object"]["id"], clock.as_str());
    assert_eq!(events["data"][0]["data"]["object"]["status"], "ready");
    // A year ahead in one step: no cap.
    advance(&server, key, &clock, JAN_31_2027 + 400 * DAY).await;
}

async fn a_year_of_monthly_renewals_runs_on_calendar_months_and_each_is_charged_once(
    engine: Engine,
) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let clock = new_clock(&server, key, JAN_31_2027).await;
    let started = subscribe_on(&server, &account, &clock).await;
    let id = started["id"].as_str().unwrap();
    assert_eq!(started["test_clock"], clock.as_str());
    assert_eq!(
        (&started["start_date"], &started["current_period_start"]),
        (&json!(JAN_31_2027), &json!(JAN_31_2027))
    );
    let customer = get(
        &server,
        key,
        &format!("/v1/customers/{}", started["customer"].as_str().unwrap()),
    )
    .await;
    assert_eq!(customer["test_clock"], clock.as_str());

    // A year and a day: twelve renewals, each finalized and charged an hour after it.
    let year_later = JAN_31_2027 + 366 * DAY;
    advance(&server, key, &clock, year_later).await;

    // Objects on a clock are listed with their customer (or clock) named.
    let invoices = get(
        &server,
        key,
        &format!(
            "/v1/invoices?customer={}&subscription={id}&limit=100",
            started["customer"].as_str().unwrap()
        ),
    )
    .await;
    let invoices = invoices["data"].as_array().unwrap();
    assert_eq!(invoices.len(), 13, "the first invoice and twelve renewals");
    assert!(
        invoices
            .iter()
            .all(|i| i["status"] == "paid" && i["amount_paid"] == 1800)
    );
    assert!(invoices.iter().all(|i| i["test_clock"] == clock.as_str()));
    assert!(invoices[..12].iter().all(|i| i["attempt_count"] == 1));
    // Renewals bill on calendar months from the anchor: the last day of shorter months, and
    // back to the 31st after them.
    let mut period_ends: Vec<String> = invoices[..12]
        .iter()
        .map(|i| date(i["lines"]["data"][0]["period"]["end"].as_i64().unwrap()))
        .collect();
    period_ends.reverse();
    assert_eq!(
        period_ends,
        [
            "2027-03-31",
            "2027-04-30",
            "2027-05-31",
            "2027-06-30",
            "2027-07-31",
            "2027-08-31",
            "2027-09-30",
            "2027-10-31",
            "2027-11-30",
            "2027-12-31",
            "2028-01-31",
            "2028-02-29",
        ]
    );
    let sub = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(sub["status"], "active");
    assert_eq!(
        date(sub["current_period_start"].as_i64().unwrap()),
        "2028-01-31"
    );
    assert_eq!(
        date(sub["current_period_end"].as_i64().unwrap()),
        "2028-02-29"
    );

    // The processor's own record agrees: one successful charge per renewal, none twice.
    let ledger = kassa::store::billing::ledger(&server.db, &account.caller(false))
        .await
        .unwrap();
    assert_eq!(ledger.len(), 12);
    assert!(
        ledger
            .iter()
            .all(|e| e.outcome == "succeeded" && e.amount == 1800)
    );
    let mut keys: Vec<&str> = ledger.iter().map(|e| e.idempotency_key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 12);
    let paid = get(&server, key, "/v1/events?type=invoice.paid&limit=100").await;
    assert_eq!(paid["data"].as_array().unwrap().len(), 13);
}

async fn renewals_that_fail_on_a_clock_retry_then_cancel(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let clock = new_clock(&server, key, JAN_31_2027).await;
    let started = subscribe_on(&server, &account, &clock).await;
    let id = started["id"].as_str().unwrap();
    let customer = started["customer"].as_str().unwrap();
    let method = post(
        &server,
        key,
        "/v1/payment_methods/pm_card_chargeCustomerFail/attach",
        &format!("customer={customer}"),
    )
    .await;
    post(
        &server,
        key,
        &format!("/v1/subscriptions/{id}"),
        &format!("default_payment_method={}", method["id"].as_str().unwrap()),
    )
    .await;
    let renewal = started["current_period_end"].as_i64().unwrap();
    advance(&server, key, &clock, renewal + 2 * 3600).await;
    let sub = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(sub["status"], "past_due");
    let invoice = get(
        &server,
        key,
        &format!("/v1/invoices/{}", sub["latest_invoice"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        invoice["next_payment_attempt"],
        renewal + 3600 + DAY,
        "the first retry a day after the failure"
    );
    advance(&server, key, &clock, renewal + 8 * DAY).await;
    let sub = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(sub["status"], "canceled");
    assert_eq!(sub["cancellation_details"]["reason"], "payment_failed");
    assert_eq!(sub["ended_at"], renewal + 3600 + 7 * DAY);
    let ledger = kassa::store::billing::ledger(&server.db, &account.caller(false))
        .await
        .unwrap();
    assert_eq!(ledger.len(), 5, "the first attempt and four retries");
    assert!(ledger.iter().all(|e| e.outcome == "declined"));
}

async fn lists_leave_out_clock_objects_unless_asked(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let clock = new_clock(&server, key, JAN_31_2027).await;
    let on_clock = subscribe_on(&server, &account, &clock).await;
    let customer = on_clock["customer"].as_str().unwrap();
    let plain = post(&server, key, "/v1/customers", "email=bob%40example.com").await;
    for list in ["/v1/subscriptions", "/v1/invoices"] {
        assert!(ids(&get(&server, key, list).await).is_empty(), "{list}");
        let with_clock = get(&server, key, &format!("{list}?test_clock={clock}")).await;
        assert_eq!(ids(&with_clock).len(), 1, "{list}");
        let with_customer = get(&server, key, &format!("{list}?customer={customer}")).await;
        assert_eq!(ids(&with_clock), ids(&with_customer), "{list}");
    }
    let customers = get(&server, key, "/v1/customers").await;
    assert_eq!(ids(&customers), [plain["id"].as_str().unwrap()]);
    let customers = get(&server, key, &format!("/v1/customers?test_clock={clock}")).await;
    assert_eq!(ids(&customers), [customer]);
    let error = refused(
        &server,
        key,
        Method::GET,
        "/v1/customers?test_clock=clock_missing",
        "",
        400,
    )
    .await;
    assert_eq!(
        (&error["code"], &error["param"]),
        (&json!("resource_missing"), &json!("test_clock"))
    );
    let error = refused(
        &server,
        key,
        Method::POST,
        "/v1/customers",
        "test_clock=clock_missing",
        400,
    )
    .await;
    assert_eq!(error["param"], "test_clock", "{error}");
    let error = refused(
        &server,
        key,
        Method::POST,
        &format!("/v1/customers/{customer}"),
        &format!("test_clock={clock}"),
        400,
    )
    .await;
    assert_eq!(error["code"], "parameter_unknown", "{error}");
}

async fn deleting_a_clock_deletes_its_customers_and_ends_their_subscriptions(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let clock = new_clock(&server, key, JAN_31_2027).await;
    let started = subscribe_on(&server, &account, &clock).await;
    let id = started["id"].as_str().unwrap();
    call(
        &server,
        key,
        Method::DELETE,
        &format!("/v1/test_helpers/test_clocks/{clock}"),
        "",
    )
    .await;
    let sub = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(sub["status"], "canceled");
    assert_eq!(sub["ended_at"], JAN_31_2027, "ended at the clock's time");
    let customer = get(
        &server,
        key,
        &format!("/v1/customers/{}", started["customer"].as_str().unwrap()),
    )
    .await;
    assert_eq!(customer["deleted"], true);
    let deleted = get(
        &server,
        key,
        "/v1/events?type=customer.subscription.deleted",
    )
    .await;
    assert_eq!(deleted["data"][0]["data"]["object"]["id"], id);
}

async fn the_server_advances_clocks_on_its_own(engine: Engine) {
    let server = TestServer::start_configured(TestDatabase::new(engine).await, |config| {
        config.billing_interval = None;
        config.test_clock_interval = Some(Duration::from_millis(20));
    })
    .await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let clock = new_clock(&server, key, JAN_31_2027).await;
    let started = subscribe_on(&server, &account, &clock).await;
    let to = started["current_period_end"].as_i64().unwrap() + 2 * 3600;
    post(
        &server,
        key,
        &format!("/v1/test_helpers/test_clocks/{clock}/advance"),
        &format!("frozen_time={to}"),
    )
    .await;
    // As a client does: poll until ready.
    let path = format!("/v1/test_helpers/test_clocks/{clock}");
    let mut polls = 0;
    while get(&server, key, &path).await["status"] != "ready" {
        polls += 1;
        assert!(polls < 500, "the clock never became ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sub = get(
        &server,
        key,
        &format!("/v1/subscriptions/{}", started["id"].as_str().unwrap()),
    )
    .await;
    let invoice = get(
        &server,
        key,
        &format!("/v1/invoices/{}", sub["latest_invoice"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        (&invoice["billing_reason"], &invoice["status"]),
        (&json!("subscription_cycle"), &json!("paid"))
    );
}

async fn a_session_on_a_clock_expires_by_the_clocks_time(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    // A clock in the past: by real time, its sessions would be long overdue.
    let past = 1_700_000_000;
    let clock = new_clock(&server, key, past).await;
    let customer = post(
        &server,
        key,
        "/v1/customers",
        &format!("test_clock={clock}"),
    )
    .await;
    let session = post(
        &server,
        key,
        "/v1/checkout/sessions",
        &format!(
            "mode=payment&customer={}&line_items[0][price_data][currency]=eur\
             &line_items[0][price_data][unit_amount]=500&line_items[0][price_data][product_data][name]=X",
            customer["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(
        (&session["created"], &session["expires_at"]),
        (&json!(past), &json!(past + 3600))
    );
    let path = format!("/v1/checkout/sessions/{}", session["id"].as_str().unwrap());
    assert_eq!(get(&server, key, &path).await["status"], "open");
    let swept =
        kassa::domain::checkout::expire_overdue(&server.db, server.clock.now(), &server.base, 100)
            .await
            .unwrap();
    assert_eq!(swept, 0, "real time leaves sessions on a clock alone");
    advance(&server, key, &clock, past + 3599).await;
    assert_eq!(get(&server, key, &path).await["status"], "open");
    advance(&server, key, &clock, past + DAY).await;
    assert_eq!(get(&server, key, &path).await["status"], "expired");
    let expired = get(&server, key, "/v1/events?type=checkout.session.expired").await;
    assert_eq!(expired["data"][0]["data"]["object"]["id"], session["id"]);
}

async fn two_servers_advancing_one_clock_charge_each_renewal_once(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let clock = new_clock(&server, key, JAN_31_2027).await;
    for _ in 0..5 {
        subscribe_on(&server, &account, &clock).await;
    }
    post(
        &server,
        key,
        &format!("/v1/test_helpers/test_clocks/{clock}/advance"),
        &format!("frozen_time={}", JAN_31_2027 + 125 * DAY),
    )
    .await;
    // Two servers' workers at once, and then again (as a server taking over would).
    let second = server.database.open().await;
    let now = server.clock.now();
    let (first, other) = tokio::join!(
        run_advancing(
            &server.db,
            &SimulatedProcessor,
            now,
            LEASE_SECONDS,
            &server.base
        ),
        run_advancing(
            &second,
            &SimulatedProcessor,
            now,
            LEASE_SECONDS,
            &server.base
        ),
    );
    let made_ready = first.unwrap().clocks + other.unwrap().clocks;
    if made_ready == 0 {
        run_advancing(
            &server.db,
            &SimulatedProcessor,
            now + LEASE_SECONDS + 1,
            LEASE_SECONDS,
            &server.base,
        )
        .await
        .unwrap();
    }
    let ready = get(
        &server,
        key,
        &format!("/v1/test_helpers/test_clocks/{clock}"),
    )
    .await;
    assert_eq!(ready["status"], "ready");
    let ledger = kassa::store::billing::ledger(&server.db, &account.caller(false))
        .await
        .unwrap();
    assert_eq!(ledger.len(), 5 * 4, "four renewals each, each charged once");
    let mut keys: Vec<&str> = ledger.iter().map(|e| e.idempotency_key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 20);
    let paid = get(
        &server,
        key,
        &format!("/v1/invoices?test_clock={clock}&status=paid&limit=100"),
    )
    .await;
    assert_eq!(paid["data"].as_array().unwrap().len(), 5 * 5);
}

async fn deleting_a_clock_writes_real_time_events_and_ends_its_sessions(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    // A clock in the past: events stamped with its time would be pruned at once.
    let clock = new_clock(&server, key, 1_700_000_000).await;
    let started = subscribe_on(&server, &account, &clock).await;
    let session = post(
        &server,
        key,
        "/v1/checkout/sessions",
        &format!(
            "mode=payment&customer={}&line_items[0][price_data][currency]=eur\
             &line_items[0][price_data][unit_amount]=500&line_items[0][price_data][product_data][name]=X",
            started["customer"].as_str().unwrap()
        ),
    )
    .await;
    call(
        &server,
        key,
        Method::DELETE,
        &format!("/v1/test_helpers/test_clocks/{clock}"),
        "",
    )
    .await;
    let now = server.clock.now();
    for kind in [
        "customer.subscription.deleted",
        "customer.deleted",
        "checkout.session.expired",
        "test_helpers.test_clock.deleted",
    ] {
        let events = get(&server, key, &format!("/v1/events?type={kind}")).await;
        assert_eq!(events["data"][0]["created"], now, "{kind}");
    }
    let path = format!("/v1/checkout/sessions/{}", session["id"].as_str().unwrap());
    assert_eq!(get(&server, key, &path).await["status"], "expired");
}

async fn trials_on_a_clock_count_from_the_clocks_time(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let past = 1_700_000_000;
    let clock = new_clock(&server, key, past).await;
    let customer = post(
        &server,
        key,
        "/v1/customers",
        &format!("test_clock={clock}"),
    )
    .await;
    let price = post(
        &server,
        key,
        "/v1/prices",
        "currency=eur&unit_amount=900&recurring[interval]=month&product_data[name]=Pro",
    )
    .await;
    // A trial end three days after the clock's time: in the past by real time.
    let trial_end = past + 3 * DAY;
    let session = post(
        &server,
        key,
        "/v1/checkout/sessions",
        &format!(
            "mode=subscription&customer={}&line_items[0][price]={}\
             &subscription_data[trial_end]={trial_end}",
            customer["id"].as_str().unwrap(),
            price["id"].as_str().unwrap()
        ),
    )
    .await;
    let paid = post(
        &server,
        key,
        &format!(
            "/v1/test_helpers/checkout/sessions/{}/pay",
            session["id"].as_str().unwrap()
        ),
        "card=4242424242424242",
    )
    .await;
    let id = paid["subscription"].as_str().unwrap();
    let sub = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(
        (&sub["status"], &sub["trial_start"], &sub["trial_end"]),
        (&json!("trialing"), &json!(past), &json!(trial_end))
    );
    advance(&server, key, &clock, trial_end + 2 * 3600).await;
    let sub = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(sub["status"], "active");
    let invoice = get(
        &server,
        key,
        &format!("/v1/invoices/{}", sub["latest_invoice"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        (&invoice["status"], &invoice["amount_paid"]),
        (&json!("paid"), &json!(900))
    );
}

/// A unix time's UTC date, `YYYY-MM-DD`.
fn date(at: i64) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(at)
        .unwrap()
        .date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}
