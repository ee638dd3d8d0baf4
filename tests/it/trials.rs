//! Free first periods of subscriptions started by checkout (decisions §11): trials with and
//! without a card (`trial_period_days`, `trial_end`, `payment_method_collection=if_required`,
//! `trial_settings`), `trial_will_end` three days before the end or at once, and a
//! `billing_cycle_anchor` with `proration_behavior=none`. Time is the test's: the server's
//! manual clock moves and the engine runs at the time given.

use kassa::clock::Clock;
use kassa::domain::billing::engine::{LEASE_SECONDS, Ran, SimulatedProcessor, run_due};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{
    Engine, TestAccount, TestDatabase, TestServer, json_with_status, on_both_engines,
};

on_both_engines!(
    a_trial_with_a_card_starts_trialing_then_charges_at_its_end,
    a_short_trial_says_it_ends_at_once,
    a_trial_without_a_card_ends_or_invoices_as_its_settings_say,
    one_time_lines_are_charged_now_beside_a_trial,
    an_anchor_makes_the_stub_period_free_and_bills_from_it,
    trial_and_anchor_parameters_are_checked,
    the_hosted_page_says_what_the_trial_costs,
);

const DAY: i64 = 86_400;

async fn server(engine: Engine) -> TestServer {
    TestServer::start_configured(TestDatabase::new(engine).await, |config| {
        config.billing_interval = None;
    })
    .await
}

async fn post(server: &TestServer, account: &TestAccount, path: &str, body: &str) -> Value {
    json_with_status(server.form(account, Method::POST, path, body).await, 200).await
}

async fn refused(server: &TestServer, account: &TestAccount, body: &str) -> Value {
    let response = server
        .form(account, Method::POST, "/v1/checkout/sessions", body)
        .await;
    json_with_status(response, 400).await["error"].clone()
}

async fn get(server: &TestServer, account: &TestAccount, path: &str) -> Value {
    let response = server
        .with_key(Method::GET, path, &account.test_key)
        .send()
        .await
        .unwrap();
    json_with_status(response, 200).await
}

/// A monthly price of €9.00 for "Pro"; its id.
async fn monthly(server: &TestServer, account: &TestAccount) -> String {
    let price = post(
        server,
        account,
        "/v1/prices",
        "currency=eur&unit_amount=900&recurring[interval]=month&product_data[name]=Pro",
    )
    .await;
    price["id"].as_str().unwrap().to_string()
}

/// A subscription-mode session for 2 × Pro with `extra` parameters.
async fn session(server: &TestServer, account: &TestAccount, extra: &str) -> Value {
    let price = monthly(server, account).await;
    post(
        server,
        account,
        "/v1/checkout/sessions",
        &format!("mode=subscription&line_items[0][price]={price}&line_items[0][quantity]=2{extra}"),
    )
    .await
}

/// Pays `session` through the test helper; the session's subscription.
async fn pay(server: &TestServer, account: &TestAccount, session: &Value) -> Value {
    let paid = post(
        server,
        account,
        &format!(
            "/v1/test_helpers/checkout/sessions/{}/pay",
            session["id"].as_str().unwrap()
        ),
        "card=4242424242424242&email=ada%40example.com",
    )
    .await;
    assert_eq!(paid["status"], "complete");
    let id = paid["subscription"].as_str().unwrap();
    get(server, account, &format!("/v1/subscriptions/{id}")).await
}

async fn run_at(server: &TestServer, at: i64) -> Ran {
    server.clock.set(at);
    run_due(
        &server.db,
        &SimulatedProcessor,
        at,
        LEASE_SECONDS,
        &server.base,
    )
    .await
    .unwrap()
}

/// The types of the account's events, oldest first.
async fn event_types(server: &TestServer, account: &TestAccount) -> Vec<String> {
    let events = get(server, account, "/v1/events?limit=100").await;
    let mut kinds: Vec<String> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    kinds.reverse();
    kinds
}

async fn a_trial_with_a_card_starts_trialing_then_charges_at_its_end(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let now = server.clock.now();
    let session = session(
        &server,
        &account,
        "&subscription_data[trial_period_days]=14",
    )
    .await;
    assert_eq!(
        (&session["amount_total"], &session["payment_status"]),
        (&json!(0), &json!("no_payment_required"))
    );
    let sub = pay(&server, &account, &session).await;
    let trial_end = now + 14 * DAY;
    assert_eq!(sub["status"], "trialing");
    assert_eq!(
        (&sub["trial_start"], &sub["trial_end"]),
        (&json!(now), &json!(trial_end))
    );
    assert_eq!(
        (&sub["current_period_end"], &sub["billing_cycle_anchor"]),
        (&json!(trial_end), &json!(trial_end))
    );
    assert!(
        sub["default_payment_method"]
            .as_str()
            .unwrap()
            .starts_with("pm_"),
        "the card is saved for the first charge: {sub}"
    );
    let first = get(
        &server,
        &account,
        &format!("/v1/invoices/{}", sub["latest_invoice"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        (
            &first["status"],
            &first["amount_due"],
            &first["payment_intent"]
        ),
        (&json!("paid"), &json!(0), &Value::Null)
    );
    let line = &first["lines"]["data"][0];
    assert_eq!(line["description"], "2 × Trial period for Pro");
    assert_eq!(
        (&line["amount"], &line["period"]["end"]),
        (&json!(0), &json!(trial_end))
    );
    let completed = event_types(&server, &account).await;
    assert!(!completed.contains(&"customer.subscription.trial_will_end".to_string()));
    assert!(
        !completed.contains(&"charge.succeeded".to_string()),
        "{completed:?}"
    );

    // Three days before the end: the notice, and nothing billed.
    let ran = run_at(&server, trial_end - 3 * DAY).await;
    assert_eq!(ran, Ran::default());
    let kinds = event_types(&server, &account).await;
    assert_eq!(
        kinds.last().unwrap(),
        "customer.subscription.trial_will_end"
    );
    // The end: active, and the first real invoice, charged an hour later.
    let ran = run_at(&server, trial_end).await;
    assert_eq!(ran.renewed, 1, "{ran:?}");
    let id = sub["id"].as_str().unwrap();
    let active = get(&server, &account, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(active["status"], "active");
    assert_eq!(active["current_period_start"], trial_end);
    let updated = get(
        &server,
        &account,
        "/v1/events?type=customer.subscription.updated",
    )
    .await;
    let previous = &updated["data"][0]["data"]["previous_attributes"];
    assert_eq!(
        (&previous["status"], &previous["current_period_start"]),
        (&json!("trialing"), &json!(now)),
        "{previous}"
    );
    let ran = run_at(&server, trial_end + 3600).await;
    assert_eq!(ran.paid, 1, "{ran:?}");
    let invoice = get(
        &server,
        &account,
        &format!(
            "/v1/invoices/{}",
            active["latest_invoice"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(
        (
            &invoice["status"],
            &invoice["amount_paid"],
            &invoice["billing_reason"]
        ),
        (&json!("paid"), &json!(1800), &json!("subscription_cycle"))
    );
    let ledger = kassa::store::billing::ledger(&server.db, &account.caller(false))
        .await
        .unwrap();
    assert_eq!(ledger.len(), 1, "the trial itself charged nothing");
}

async fn a_short_trial_says_it_ends_at_once(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let session = session(&server, &account, "&subscription_data[trial_period_days]=2").await;
    pay(&server, &account, &session).await;
    let kinds = event_types(&server, &account).await;
    let created = kinds
        .iter()
        .position(|k| k == "customer.subscription.created")
        .unwrap();
    assert_eq!(
        kinds[created + 1],
        "customer.subscription.trial_will_end",
        "{kinds:?}"
    );
    // And not again from the engine.
    run_at(&server, server.clock.now() + DAY).await;
    let again = event_types(&server, &account).await;
    let notices = again
        .iter()
        .filter(|k| *k == "customer.subscription.trial_will_end")
        .count();
    assert_eq!(notices, 1);
}

async fn a_trial_without_a_card_ends_or_invoices_as_its_settings_say(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    for (behavior, status) in [("cancel", "canceled"), ("create_invoice", "past_due")] {
        let now = server.clock.now();
        let session = session(
            &server,
            &account,
            &format!(
                "&payment_method_collection=if_required&subscription_data[trial_period_days]=7\
                 &subscription_data[trial_settings][end_behavior][missing_payment_method]={behavior}"
            ),
        )
        .await;
        assert_eq!(session["payment_method_collection"], "if_required");
        let page = server
            .http
            .get(session["url"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!page.contains("card_number"), "no card is asked for");
        let sub = pay(&server, &account, &session).await;
        assert_eq!(
            (&sub["status"], &sub["default_payment_method"]),
            (&json!("trialing"), &Value::Null)
        );
        assert_eq!(
            sub["trial_settings"]["end_behavior"]["missing_payment_method"],
            behavior
        );
        let trial_end = now + 7 * DAY;
        run_at(&server, trial_end - 3 * DAY).await;
        run_at(&server, trial_end).await;
        run_at(&server, trial_end + 3600).await;
        let id = sub["id"].as_str().unwrap();
        let ended = get(&server, &account, &format!("/v1/subscriptions/{id}")).await;
        assert_eq!(ended["status"], status, "{behavior}: {ended}");
        if behavior == "cancel" {
            assert_eq!(ended["ended_at"], trial_end);
            assert_eq!(
                ended["latest_invoice"], sub["latest_invoice"],
                "no invoice after the trial"
            );
        }
        server.clock.set(now);
    }
}

async fn one_time_lines_are_charged_now_beside_a_trial(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let price = monthly(&server, &account).await;
    let fee = post(
        &server,
        &account,
        "/v1/prices",
        "currency=eur&unit_amount=500&product_data[name]=Setup",
    )
    .await;
    let session = post(
        &server,
        &account,
        "/v1/checkout/sessions",
        &format!(
            "mode=subscription&line_items[0][price]={price}&line_items[0][quantity]=1\
             &line_items[1][price]={}&line_items[1][quantity]=1\
             &subscription_data[trial_period_days]=30",
            fee["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(
        (&session["amount_total"], &session["payment_status"]),
        (&json!(500), &json!("unpaid"))
    );
    let sub = pay(&server, &account, &session).await;
    assert_eq!(sub["status"], "trialing");
    let first = get(
        &server,
        &account,
        &format!("/v1/invoices/{}", sub["latest_invoice"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        (&first["amount_paid"], &first["status"]),
        (&json!(500), &json!("paid"))
    );
    let amounts: Vec<&Value> = first["lines"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["amount"])
        .collect();
    assert_eq!(amounts, [&json!(0), &json!(500)]);
    let charge = get(
        &server,
        &account,
        &format!("/v1/charges/{}", first["charge"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        (&charge["amount"], &charge["status"]),
        (&json!(500), &json!("succeeded"))
    );
}

async fn an_anchor_makes_the_stub_period_free_and_bills_from_it(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let now = server.clock.now();
    let anchor = now + 10 * DAY;
    let error = refused(
        &server,
        &account,
        &format!(
            "mode=subscription&line_items[0][price]={}&subscription_data[billing_cycle_anchor]={anchor}",
            monthly(&server, &account).await
        ),
    )
    .await;
    assert_eq!(error["param"], "subscription_data[billing_cycle_anchor]");
    assert!(
        error["message"].as_str().unwrap().contains("prorat"),
        "{error}"
    );

    let session = session(
        &server,
        &account,
        &format!(
            "&subscription_data[billing_cycle_anchor]={anchor}\
             &subscription_data[proration_behavior]=none"
        ),
    )
    .await;
    assert_eq!(session["amount_total"], 0);
    let sub = pay(&server, &account, &session).await;
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["trial_end"], Value::Null);
    assert_eq!(
        (&sub["billing_cycle_anchor"], &sub["current_period_end"]),
        (&json!(anchor), &json!(anchor))
    );
    run_at(&server, anchor).await;
    let ran = run_at(&server, anchor + 3600).await;
    assert_eq!(ran.paid, 1, "{ran:?}");
    let id = sub["id"].as_str().unwrap();
    let renewed = get(&server, &account, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(renewed["current_period_start"], anchor);
    // A month on from the anchor, not from the payment.
    let expected = kassa::domain::billing::periods::period_start(
        anchor,
        kassa::domain::catalog::Recurring {
            interval: kassa::domain::catalog::Interval::Month,
            interval_count: 1,
        },
        1,
    );
    assert_eq!(renewed["current_period_end"], expected);
}

async fn trial_and_anchor_parameters_are_checked(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let now = server.clock.now();
    let price = monthly(&server, &account).await;
    let base = format!("mode=subscription&line_items[0][price]={price}");
    for (extra, param) in [
        (
            "subscription_data[trial_period_days]=0",
            "subscription_data[trial_period_days]",
        ),
        (
            "subscription_data[trial_period_days]=731",
            "subscription_data[trial_period_days]",
        ),
        (
            &format!("subscription_data[trial_end]={}", now + 47 * 3600) as &str,
            "subscription_data[trial_end]",
        ),
        (
            &format!(
                "subscription_data[trial_period_days]=7&subscription_data[trial_end]={}",
                now + 9 * DAY
            ),
            "subscription_data[trial_end]",
        ),
        (
            &format!(
                "subscription_data[billing_cycle_anchor]={}&subscription_data[proration_behavior]=none",
                now - 1
            ),
            "subscription_data[billing_cycle_anchor]",
        ),
        (
            "payment_method_collection=sometimes",
            "payment_method_collection",
        ),
        (
            &format!("subscription_data[trial_end]={}", now + 731 * DAY) as &str,
            "subscription_data[trial_end]",
        ),
        (
            // A month's price: the anchor may be at most a month away.
            &format!(
                "subscription_data[billing_cycle_anchor]={}&subscription_data[proration_behavior]=none",
                now + 32 * DAY
            ),
            "subscription_data[billing_cycle_anchor]",
        ),
    ] {
        let error = refused(&server, &account, &format!("{base}&{extra}")).await;
        assert_eq!(error["param"], param, "{extra}: {error}");
    }
    let payment_mode = refused(
        &server,
        &account,
        "mode=payment&line_items[0][price_data][currency]=eur\
         &line_items[0][price_data][unit_amount]=100\
         &line_items[0][price_data][product_data][name]=X&payment_method_collection=if_required",
    )
    .await;
    assert_eq!(payment_mode["param"], "payment_method_collection");

    let trial_end = now + 5 * DAY;
    let session = post(
        &server,
        &account,
        "/v1/checkout/sessions",
        &format!("{base}&subscription_data[trial_end]={trial_end}"),
    )
    .await;
    let sub = pay(&server, &account, &session).await;
    assert_eq!(
        (&sub["status"], &sub["trial_end"]),
        (&json!("trialing"), &json!(trial_end))
    );
}

async fn the_hosted_page_says_what_the_trial_costs(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let session = session(
        &server,
        &account,
        "&subscription_data[trial_period_days]=14",
    )
    .await;
    let page = server
        .http
        .get(session["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("14 days free, then €18.00 every month"),
        "{page}"
    );
    assert!(page.contains("Start trial"), "{page}");
    assert!(page.contains("card_number"), "the card is saved for later");
    assert!(page.contains("data-deferred"), "{page}");
}
