//! The billing engine (decisions §11): renewals at each period's end, collection an hour later,
//! retries and their end, cancellation at the period's end; and that a charge is made once per
//! attempt, by one server, whatever crashes or races. Time is the test's: the server's manual
//! clock moves, and the engine's steps run at the time given (no server here runs them on its
//! own).

use kassa::domain::billing::engine::{LEASE_SECONDS, Ran, SimulatedProcessor, run_due};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{
    Engine, TestAccount, TestDatabase, TestServer, json_with_status, on_both_engines,
};

on_both_engines!(
    a_subscription_renews_and_its_invoice_is_paid_an_hour_later,
    failed_renewals_retry_then_cancel_or_leave_the_subscription_unpaid,
    a_new_card_recovers_a_past_due_subscription,
    a_subscription_set_to_cancel_ends_at_its_period_end_without_an_invoice,
    a_charge_is_made_once_per_attempt_whatever_runs_it,
    invoices_are_paid_now_or_voided_on_request,
    a_charge_outcome_keeps_a_change_made_meanwhile,
);

const DAY: i64 = 86_400;

/// A server whose billing engine runs only when the test says.
async fn server(engine: Engine) -> TestServer {
    TestServer::start_configured(TestDatabase::new(engine).await, |config| {
        config.billing_interval = None;
    })
    .await
}

async fn send(server: &TestServer, key: &str, method: Method, path: &str, body: &str) -> Value {
    let request = server
        .with_key(method, path, key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    json_with_status(request.send().await.unwrap(), 200).await
}

async fn get(server: &TestServer, key: &str, path: &str) -> Value {
    send(server, key, Method::GET, path, "").await
}

/// A paid monthly subscription of 2 × €9.00; the subscription.
async fn subscribe(server: &TestServer, account: &TestAccount) -> Value {
    let key = &account.test_key;
    let price = send(
        server,
        key,
        Method::POST,
        "/v1/prices",
        "currency=eur&unit_amount=900&recurring[interval]=month&product_data[name]=Pro",
    )
    .await;
    let session = send(
        server,
        key,
        Method::POST,
        "/v1/checkout/sessions",
        &format!(
            "mode=subscription&line_items[0][price]={}&line_items[0][quantity]=2",
            price["id"].as_str().unwrap()
        ),
    )
    .await;
    let paid = send(
        server,
        key,
        Method::POST,
        &format!(
            "/v1/test_helpers/checkout/sessions/{}/pay",
            session["id"].as_str().unwrap()
        ),
        "card=4242424242424242&email=ada%40example.com&name=Ada",
    )
    .await;
    get(
        server,
        key,
        &format!(
            "/v1/subscriptions/{}",
            paid["subscription"].as_str().unwrap()
        ),
    )
    .await
}

/// Moves the server's clock to `at` and runs what is due.
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

/// Attaches Stripe's test method `test_id` to the subscription's customer and makes it the
/// subscription's default.
async fn charge_with(server: &TestServer, key: &str, subscription: &Value, test_id: &str) {
    let customer = subscription["customer"].as_str().unwrap();
    let method = send(
        server,
        key,
        Method::POST,
        &format!("/v1/payment_methods/{test_id}/attach"),
        &format!("customer={customer}"),
    )
    .await;
    let id = subscription["id"].as_str().unwrap();
    let updated = send(
        server,
        key,
        Method::POST,
        &format!("/v1/subscriptions/{id}"),
        &format!("default_payment_method={}", method["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(updated["default_payment_method"], method["id"]);
}

/// The types of the account's events since `after` (an event id, or the start), oldest first.
async fn events_since(server: &TestServer, key: &str, after: Option<&str>) -> Vec<String> {
    let events = get(server, key, "/v1/events?limit=100").await;
    let mut kinds: Vec<(String, String)> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_string(),
                e["type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    kinds.reverse();
    let start = after.map_or(0, |id| kinds.iter().position(|(e, _)| e == id).unwrap() + 1);
    kinds[start..]
        .iter()
        .map(|(_, kind)| kind.clone())
        .collect()
}

async fn last_event(server: &TestServer, key: &str) -> String {
    get(server, key, "/v1/events?limit=1").await["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn a_subscription_renews_and_its_invoice_is_paid_an_hour_later(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let started = subscribe(&server, &account).await;
    let id = started["id"].as_str().unwrap();
    let end = started["current_period_end"].as_i64().unwrap();
    let before = last_event(&server, key).await;

    assert_eq!(
        run_at(&server, end - 1).await,
        Ran::default(),
        "nothing is due before the end"
    );
    assert_eq!(
        run_at(&server, end).await,
        Ran {
            renewed: 1,
            ..Ran::default()
        }
    );
    let renewed = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(renewed["current_period_start"], end);
    let next_end = renewed["current_period_end"].as_i64().unwrap();
    assert!(next_end - end >= 28 * DAY && next_end - end <= 31 * DAY);
    assert_eq!(renewed["items"]["data"][0]["current_period_end"], next_end);
    let invoice_id = renewed["latest_invoice"].as_str().unwrap();
    assert_ne!(invoice_id, started["latest_invoice"].as_str().unwrap());
    let draft = get(&server, key, &format!("/v1/invoices/{invoice_id}")).await;
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["billing_reason"], "subscription_cycle");
    assert_eq!(
        (&draft["amount_due"], &draft["number"]),
        (&json!(1800), &Value::Null)
    );
    assert_eq!(draft["next_payment_attempt"], end + 3600);
    assert_eq!(
        draft["lines"]["data"][0]["period"],
        json!({"start": end, "end": next_end})
    );
    assert_eq!(draft["customer_email"], "ada@example.com");

    assert_eq!(run_at(&server, end + 3599).await, Ran::default());
    assert_eq!(
        run_at(&server, end + 3600).await,
        Ran {
            paid: 1,
            ..Ran::default()
        }
    );
    let invoice = get(&server, key, &format!("/v1/invoices/{invoice_id}")).await;
    assert_eq!(invoice["status"], "paid");
    assert_eq!(
        (&invoice["amount_paid"], &invoice["attempt_count"]),
        (&json!(1800), &json!(1))
    );
    assert!(
        invoice["number"].as_str().unwrap().ends_with("-0002"),
        "{invoice}"
    );
    assert_eq!(invoice["status_transitions"]["finalized_at"], end + 3600);
    let charge = get(
        &server,
        key,
        &format!("/v1/charges/{}", invoice["charge"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        (&charge["amount"], &charge["status"]),
        (&json!(1800), &json!("succeeded"))
    );
    assert_eq!(charge["payment_method"], started["default_payment_method"]);
    let intent = get(
        &server,
        key,
        &format!(
            "/v1/payment_intents/{}",
            invoice["payment_intent"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(intent["status"], "succeeded");
    assert_eq!(
        events_since(&server, key, Some(&before)).await,
        [
            "customer.subscription.updated",
            "invoice.created",
            "invoice.finalized",
            "charge.succeeded",
            "payment_intent.succeeded",
            "invoice.paid",
            "invoice.payment_succeeded",
            "invoice_payment.paid",
        ]
    );
    let ledger = kassa::store::billing::ledger(&server.db, &account.caller(false))
        .await
        .unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(
        (ledger[0].amount, ledger[0].outcome.as_str()),
        (1800, "succeeded")
    );

    // Three periods later, each is renewed and paid in turn.
    let much_later = next_end + 80 * DAY;
    let ran = run_at(&server, much_later).await;
    assert_eq!((ran.renewed, ran.paid), (3, 3), "{ran:?}");
    let invoices = get(
        &server,
        key,
        &format!("/v1/invoices?subscription={id}&limit=100"),
    )
    .await;
    assert_eq!(invoices["data"].as_array().unwrap().len(), 5);
}

async fn failed_renewals_retry_then_cancel_or_leave_the_subscription_unpaid(engine: Engine) {
    let server = server(engine).await;
    for final_action in ["cancel", "unpaid"] {
        let account = server.account(final_action).await;
        let key = &account.test_key;
        let set = server
            .with_key(Method::POST, "/api/v3/account", key)
            .json(&json!({"dunning_final_action": final_action}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            json_with_status(set, 200).await["dunning_final_action"],
            final_action
        );
        server
            .clock
            .set(time::OffsetDateTime::now_utc().unix_timestamp());
        let started = subscribe(&server, &account).await;
        let id = started["id"].as_str().unwrap();
        charge_with(&server, key, &started, "pm_card_chargeCustomerFail").await;
        let due = started["current_period_end"].as_i64().unwrap() + 3600;
        run_at(&server, due - 3600).await;

        assert_eq!(run_at(&server, due).await.failed, 1);
        let sub = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
        assert_eq!(sub["status"], "past_due");
        let invoice_path = format!("/v1/invoices/{}", sub["latest_invoice"].as_str().unwrap());
        let invoice = get(&server, key, &invoice_path).await;
        assert_eq!(
            (&invoice["status"], &invoice["attempt_count"]),
            (&json!("open"), &json!(1))
        );
        assert_eq!(invoice["next_payment_attempt"], due + DAY);
        let charge = get(
            &server,
            key,
            &format!("/v1/charges/{}", invoice["charge"].as_str().unwrap()),
        )
        .await;
        assert_eq!(
            (&charge["status"], &charge["failure_code"]),
            (&json!("failed"), &json!("card_declined"))
        );

        // Retries 1, 3, 5 and 7 days after the first failure; none after the last.
        for (attempt, day) in [(2, 1), (3, 3), (4, 5)] {
            assert_eq!(run_at(&server, due + day * DAY - 1).await, Ran::default());
            assert_eq!(
                run_at(&server, due + day * DAY).await.failed,
                1,
                "attempt {attempt}"
            );
            let invoice = get(&server, key, &invoice_path).await;
            assert_eq!(invoice["attempt_count"], attempt);
            assert_eq!(
                get(&server, key, &format!("/v1/subscriptions/{id}")).await["status"],
                "past_due"
            );
        }
        assert_eq!(run_at(&server, due + 7 * DAY).await.failed, 1);
        let invoice = get(&server, key, &invoice_path).await;
        assert_eq!(
            (&invoice["attempt_count"], &invoice["next_payment_attempt"]),
            (&json!(5), &Value::Null)
        );
        let sub = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
        if final_action == "cancel" {
            assert_eq!(sub["status"], "canceled");
            assert_eq!(sub["cancellation_details"]["reason"], "payment_failed");
            assert_eq!(sub["ended_at"], due + 7 * DAY);
        } else {
            assert_eq!(sub["status"], "unpaid");
            assert_eq!(sub["ended_at"], Value::Null);
        }
        let failures = get(&server, key, "/v1/events?type=invoice.payment_failed").await;
        assert_eq!(failures["data"].as_array().unwrap().len(), 5);
        let ledger = kassa::store::billing::ledger(&server.db, &account.caller(false))
            .await
            .unwrap();
        assert_eq!(ledger.len(), 5, "one ledger entry per attempt");
        assert!(ledger.iter().all(|e| e.outcome == "declined"));
    }
}

async fn a_new_card_recovers_a_past_due_subscription(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let started = subscribe(&server, &account).await;
    let id = started["id"].as_str().unwrap();
    charge_with(
        &server,
        key,
        &started,
        "pm_card_chargeDeclinedInsufficientFunds",
    )
    .await;
    let due = started["current_period_end"].as_i64().unwrap() + 3600;
    run_at(&server, due).await;
    let sub = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(sub["status"], "past_due");
    let invoice_path = format!("/v1/invoices/{}", sub["latest_invoice"].as_str().unwrap());
    let declined = get(&server, key, &invoice_path).await;
    let intent = get(
        &server,
        key,
        &format!(
            "/v1/payment_intents/{}",
            declined["payment_intent"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(
        intent["last_payment_error"]["decline_code"],
        "insufficient_funds"
    );

    charge_with(&server, key, &sub, "pm_card_visa").await;
    let ran = run_at(&server, due + DAY).await;
    assert_eq!(ran.paid, 1, "{ran:?}");
    let invoice = get(&server, key, &invoice_path).await;
    assert_eq!(
        (&invoice["status"], &invoice["attempt_count"]),
        (&json!("paid"), &json!(2))
    );
    assert_eq!(
        invoice["payment_intent"], intent["id"],
        "one PaymentIntent across the retries"
    );
    assert_eq!(
        get(&server, key, &format!("/v1/subscriptions/{id}")).await["status"],
        "active"
    );
    let charges = get(
        &server,
        key,
        &format!(
            "/v1/charges?payment_intent={}",
            intent["id"].as_str().unwrap()
        ),
    )
    .await;
    let statuses: Vec<&str> = charges["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["succeeded", "failed"]);
}

async fn a_subscription_set_to_cancel_ends_at_its_period_end_without_an_invoice(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let started = subscribe(&server, &account).await;
    let id = started["id"].as_str().unwrap();
    send(
        &server,
        key,
        Method::POST,
        &format!("/v1/subscriptions/{id}"),
        "cancel_at_period_end=true",
    )
    .await;
    let end = started["current_period_end"].as_i64().unwrap();
    assert_eq!(
        run_at(&server, end).await,
        Ran {
            ended: 1,
            ..Ran::default()
        }
    );
    let sub = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(sub["status"], "canceled");
    assert_eq!(sub["ended_at"], end);
    assert_eq!(
        sub["latest_invoice"], started["latest_invoice"],
        "no renewal invoice"
    );
    assert_eq!(
        run_at(&server, end + 40 * DAY).await,
        Ran::default(),
        "nothing follows"
    );
    let deleted = get(
        &server,
        key,
        "/v1/events?type=customer.subscription.deleted",
    )
    .await;
    assert_eq!(deleted["data"].as_array().unwrap().len(), 1);

    // With cancel_at inside the period, the subscription ends then.
    let other = subscribe(&server, &account).await;
    let other_id = other["id"].as_str().unwrap();
    let at = other["current_period_start"].as_i64().unwrap() + 10 * DAY;
    send(
        &server,
        key,
        Method::POST,
        &format!("/v1/subscriptions/{other_id}"),
        &format!("cancel_at={at}"),
    )
    .await;
    assert_eq!(run_at(&server, at).await.ended, 1);
    assert_eq!(
        get(&server, key, &format!("/v1/subscriptions/{other_id}")).await["ended_at"],
        at
    );
}

/// Two engines running at once (two servers), and a crash after the processor answered but
/// before the outcome was written: every invoice is charged once, and the ledger agrees with
/// the paid invoices.
async fn a_charge_is_made_once_per_attempt_whatever_runs_it(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let mut subscriptions = Vec::new();
    for _ in 0..6 {
        subscriptions.push(subscribe(&server, &account).await);
    }
    let due = subscriptions
        .iter()
        .map(|s| s["current_period_end"].as_i64().unwrap())
        .max()
        .unwrap()
        + 3600;
    server.clock.set(due);
    let second = server.database.open().await;
    let (a, b) = tokio::join!(
        run_due(
            &server.db,
            &SimulatedProcessor,
            due,
            LEASE_SECONDS,
            &server.base
        ),
        run_due(
            &second,
            &SimulatedProcessor,
            due,
            LEASE_SECONDS,
            &server.base
        )
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.renewed + b.renewed, 6, "{a:?} {b:?}");
    assert_eq!(a.paid + b.paid, 6, "{a:?} {b:?}");
    let ledger = kassa::store::billing::ledger(&server.db, &account.caller(false))
        .await
        .unwrap();
    assert_eq!(ledger.len(), 6);

    // A crash between the charge and its outcome: the attempt's key is on the invoice and the
    // processor has charged it, but nothing else was written.
    let sub = &subscriptions[0];
    let next_due = get(
        &server,
        key,
        &format!("/v1/subscriptions/{}", sub["id"].as_str().unwrap()),
    )
    .await["current_period_end"]
        .as_i64()
        .unwrap()
        + 3600;
    run_at(&server, next_due - 3600).await;
    let renewed = get(
        &server,
        key,
        &format!("/v1/subscriptions/{}", sub["id"].as_str().unwrap()),
    )
    .await;
    let invoice_id = renewed["latest_invoice"].as_str().unwrap();
    let attempt_key = format!("{invoice_id}-attempt-1");
    server
        .db
        .execute(
            "UPDATE invoices SET charge_key = $1 WHERE id = $2",
            &kassa::store::args![&attempt_key, invoice_id],
        )
        .await
        .unwrap();
    let method = kassa::store::payment_methods::get(
        &server.db,
        &account.caller(false),
        renewed["default_payment_method"].as_str().unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    use kassa::domain::billing::engine::{OffSessionCharge, Processor};
    let charged = SimulatedProcessor
        .charge(
            &server.db,
            &OffSessionCharge {
                idempotency_key: &attempt_key,
                account_id: &account.id,
                method: &method,
                amount: 1800,
                currency: "eur",
                now: next_due,
            },
        )
        .await
        .unwrap();
    assert!(charged.is_ok());
    let ran = run_at(&server, next_due).await;
    assert!(ran.paid >= 1, "{ran:?}");
    let ledger = kassa::store::billing::ledger(&server.db, &account.caller(false))
        .await
        .unwrap();
    let of_key: Vec<_> = ledger
        .iter()
        .filter(|e| e.idempotency_key == attempt_key)
        .collect();
    assert_eq!(of_key.len(), 1, "the retried attempt moved no money twice");
    let invoices = get(&server, key, "/v1/invoices?status=paid&limit=100").await;
    let paid_renewals = invoices["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["billing_reason"] == "subscription_cycle")
        .count();
    assert_eq!(
        paid_renewals,
        ledger.len(),
        "the ledger and the paid renewals agree"
    );
}

async fn post_status(server: &TestServer, key: &str, path: &str, body: &str, status: u16) -> Value {
    let request = server
        .with_key(Method::POST, path, key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    json_with_status(request.send().await.unwrap(), status).await
}

async fn invoices_are_paid_now_or_voided_on_request(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let started = subscribe(&server, &account).await;
    let id = started["id"].as_str().unwrap();
    charge_with(&server, key, &started, "pm_card_chargeCustomerFail").await;
    let end = started["current_period_end"].as_i64().unwrap();
    run_at(&server, end).await;
    let sub = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
    let invoice_id = sub["latest_invoice"].as_str().unwrap();
    let pay_path = format!("/v1/invoices/{invoice_id}/pay");

    // Paid now, before the engine's hour: finalized, then declined as a card error.
    let declined = post_status(&server, key, &pay_path, "", 402).await;
    assert_eq!(declined["error"]["type"], "card_error");
    assert_eq!(declined["error"]["code"], "card_declined");
    assert!(
        declined["error"]["charge"]
            .as_str()
            .unwrap()
            .starts_with("ch_")
    );
    let invoice = get(&server, key, &format!("/v1/invoices/{invoice_id}")).await;
    assert_eq!(
        (&invoice["status"], &invoice["attempt_count"]),
        (&json!("open"), &json!(1))
    );
    assert_eq!(
        get(&server, key, &format!("/v1/subscriptions/{id}")).await["status"],
        "past_due"
    );

    charge_with(&server, key, &sub, "pm_card_visa").await;
    let paid = post_status(&server, key, &pay_path, "", 200).await;
    assert_eq!(
        (&paid["status"], &paid["attempt_count"]),
        (&json!("paid"), &json!(2))
    );
    assert_eq!(
        get(&server, key, &format!("/v1/subscriptions/{id}")).await["status"],
        "active"
    );
    let again = post_status(&server, key, &pay_path, "", 400).await;
    assert_eq!(again["error"]["code"], "invoice_not_payable");
    let refused = post_status(&server, key, &pay_path, "paid_out_of_band=true", 400).await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("paid_out_of_band"),
        "{refused}"
    );

    // Voided: no longer owed, and never retried.
    let other = subscribe(&server, &account).await;
    charge_with(&server, key, &other, "pm_card_chargeCustomerFail").await;
    let due = other["current_period_end"].as_i64().unwrap() + 3600;
    run_at(&server, due - 3600).await;
    assert_eq!(run_at(&server, due).await.failed, 1);
    let other_sub = get(
        &server,
        key,
        &format!("/v1/subscriptions/{}", other["id"].as_str().unwrap()),
    )
    .await;
    let open_id = other_sub["latest_invoice"].as_str().unwrap();
    let draft_void = post_status(
        &server,
        key,
        &format!("/v1/invoices/{invoice_id}/void"),
        "",
        400,
    )
    .await;
    assert_eq!(
        draft_void["error"]["code"], "invoice_not_open",
        "a paid invoice is not void-able"
    );
    let voided = post_status(
        &server,
        key,
        &format!("/v1/invoices/{open_id}/void"),
        "",
        200,
    )
    .await;
    assert_eq!(voided["status"], "void");
    assert_eq!(voided["status_transitions"]["voided_at"], due);
    assert_eq!(voided["next_payment_attempt"], Value::Null);
    assert_eq!(
        run_at(&server, due + 8 * DAY).await.failed,
        0,
        "a void invoice is not retried"
    );
    let events = get(&server, key, "/v1/events?type=invoice.voided").await;
    assert_eq!(events["data"][0]["data"]["object"]["id"], open_id);
}

/// A charge's outcome is written over whatever changed on its subscription since the engine
/// read it (here a change through the API between the read and the write): both are kept.
async fn a_charge_outcome_keeps_a_change_made_meanwhile(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let started = subscribe(&server, &account).await;
    let id = started["id"].as_str().unwrap();
    let caller = account.caller(false);
    let mut read = kassa::domain::billing::get_subscription(&server.db, &caller, id)
        .await
        .unwrap();
    send(
        &server,
        key,
        Method::POST,
        &format!("/v1/subscriptions/{id}"),
        "metadata[seats]=3&cancel_at_period_end=true",
    )
    .await;
    read.status = kassa::domain::billing::SubscriptionStatus::PastDue;
    server
        .db
        .write_statements(&[kassa::store::billing::subscription_collected(&read)])
        .await
        .unwrap();
    let sub = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(sub["status"], "past_due");
    assert_eq!(sub["metadata"], json!({"seats": "3"}));
    assert_eq!(sub["cancel_at_period_end"], true);
    assert_eq!(sub["cancel_at"], started["current_period_end"]);
}
