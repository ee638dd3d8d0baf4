//! Refunds (decisions §11): partial refunds repeat until the charge is fully refunded, more than
//! remains is refused with Stripe's codes, only the Refund and the Charge change, events
//! `refund.created` and `charge.refunded`, the processor's ledger records each refund once
//! (a refund left pending by a stopped server is finished under the same key), and V3 serves
//! the same objects.

use kassa::clock::Clock;
use kassa::domain::billing::engine::SimulatedProcessor;
use kassa::domain::refunds::recover_pending;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{
    Engine, TestAccount, TestDatabase, TestServer, json_with_status, on_both_engines,
};

on_both_engines!(
    partial_refunds_repeat_until_the_charge_is_refunded,
    refunds_are_refused_by_stripes_rules,
    refunds_list_filter_and_update,
    v3_serves_the_same_refunds,
    a_pending_refund_is_finished_once_after_a_crash,
    two_full_refunds_at_once_refund_once,
    a_renewals_charge_is_refunded_and_its_invoice_stays_paid,
);

async fn server(engine: Engine) -> TestServer {
    TestServer::start_configured(TestDatabase::new(engine).await, |config| {
        config.billing_interval = None;
    })
    .await
}

async fn call(
    server: &TestServer,
    account: &TestAccount,
    method: Method,
    path: &str,
    body: &str,
    status: u16,
) -> Value {
    let response = server
        .with_key(method, path, &account.test_key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    json_with_status(response, status).await
}

async fn post(server: &TestServer, account: &TestAccount, path: &str, body: &str) -> Value {
    call(server, account, Method::POST, path, body, 200).await
}

async fn get(server: &TestServer, account: &TestAccount, path: &str) -> Value {
    call(server, account, Method::GET, path, "", 200).await
}

/// A paid session of $50.00 (`decline` card: a failed charge instead); its PaymentIntent.
async fn paid(server: &TestServer, account: &TestAccount, card: &str) -> Value {
    let session = post(
        server,
        account,
        "/v1/checkout/sessions",
        "mode=payment&line_items[0][price_data][currency]=usd\
         &line_items[0][price_data][unit_amount]=2500\
         &line_items[0][price_data][product_data][name]=Shirt&line_items[0][quantity]=2",
    )
    .await;
    let id = session["id"].as_str().unwrap();
    server
        .form(
            account,
            Method::POST,
            &format!("/v1/test_helpers/checkout/sessions/{id}/pay"),
            &format!("card={card}"),
        )
        .await;
    let session = get(server, account, &format!("/v1/checkout/sessions/{id}")).await;
    let intent = session["payment_intent"].as_str().unwrap();
    get(server, account, &format!("/v1/payment_intents/{intent}")).await
}

fn ids(list: &Value) -> Vec<&str> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect()
}

async fn partial_refunds_repeat_until_the_charge_is_refunded(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let intent = paid(&server, &account, "4242424242424242").await;
    let charge = intent["latest_charge"].as_str().unwrap();
    let first = post(
        &server,
        &account,
        "/v1/refunds",
        &format!("charge={charge}&amount=1000&reason=requested_by_customer&metadata[ticket]=7"),
    )
    .await;
    assert!(first["id"].as_str().unwrap().starts_with("re_"), "{first}");
    assert_eq!(first["object"], "refund");
    assert_eq!(
        (&first["amount"], &first["status"], &first["charge"]),
        (&json!(1000), &json!("succeeded"), &json!(charge))
    );
    assert_eq!(first["payment_intent"], intent["id"]);
    assert_eq!(first["reason"], "requested_by_customer");
    assert_eq!(first["metadata"], json!({"ticket": "7"}));
    let after = get(&server, &account, &format!("/v1/charges/{charge}")).await;
    assert_eq!(
        (&after["amount_refunded"], &after["refunded"]),
        (&json!(1000), &json!(false))
    );
    // By PaymentIntent, the rest: then nothing is left.
    let rest = post(
        &server,
        &account,
        "/v1/refunds",
        &format!("payment_intent={}", intent["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(rest["amount"], 4000);
    let refunded = get(
        &server,
        &account,
        &format!("/v1/charges/{charge}?expand[]=refunds"),
    )
    .await;
    assert_eq!(
        (&refunded["amount_refunded"], &refunded["refunded"]),
        (&json!(5000), &json!(true))
    );
    assert_eq!(
        ids(&refunded["refunds"]),
        [rest["id"].as_str().unwrap(), first["id"].as_str().unwrap()]
    );
    // Only the Refund and the Charge change.
    let intent_after = get(
        &server,
        &account,
        &format!("/v1/payment_intents/{}", intent["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(intent_after, intent);
    let events = get(&server, &account, "/v1/events?limit=100").await;
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .take(4)
        .collect();
    assert_eq!(
        kinds,
        [
            "charge.refunded",
            "refund.created",
            "charge.refunded",
            "refund.created"
        ]
    );
    assert_eq!(events["data"][0]["data"]["object"]["amount_refunded"], 5000);
    // The processor refunded each once.
    let ledger = kassa::store::billing::ledger(&server.db, &account.caller(false))
        .await
        .unwrap();
    let refunds: Vec<i64> = ledger
        .iter()
        .filter(|e| e.outcome == "refunded")
        .map(|e| e.amount)
        .collect();
    assert_eq!(refunds.iter().sum::<i64>(), 5000);
    assert_eq!(refunds.len(), 2);
}

async fn refunds_are_refused_by_stripes_rules(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let intent = paid(&server, &account, "4242424242424242").await;
    let charge = intent["latest_charge"].as_str().unwrap();
    let refuse = async |body: String| {
        call(&server, &account, Method::POST, "/v1/refunds", &body, 400).await["error"].clone()
    };
    let error = refuse(format!("charge={charge}&amount=5001")).await;
    assert_eq!(
        (&error["code"], &error["param"]),
        (&json!("amount_too_large"), &json!("amount"))
    );
    assert!(
        error["message"].as_str().unwrap().contains("($50.01)"),
        "{error}"
    );
    let error = refuse(format!("charge={charge}&amount=0")).await;
    assert_eq!(error["param"], "amount", "{error}");
    let error = refuse(format!("charge={charge}&reason=changed_mind")).await;
    assert_eq!(error["param"], "reason", "{error}");
    let error = refuse(String::new()).await;
    assert_eq!(error["code"], "parameter_missing", "{error}");
    let error = refuse("charge=ch_nope".into()).await;
    assert_eq!(
        (&error["code"], &error["param"]),
        (&json!("resource_missing"), &json!("charge"))
    );
    post(
        &server,
        &account,
        "/v1/refunds",
        &format!("charge={charge}"),
    )
    .await;
    let error = refuse(format!("charge={charge}")).await;
    assert_eq!(error["code"], "charge_already_refunded", "{error}");

    let other = paid(&server, &account, "4242424242424242").await;
    let error = refuse(format!(
        "charge={charge}&payment_intent={}",
        other["id"].as_str().unwrap()
    ))
    .await;
    assert_eq!(error["param"], "charge", "{error}");
    // A declined charge has nothing to refund.
    let session = post(
        &server,
        &account,
        "/v1/checkout/sessions",
        "mode=payment&line_items[0][price_data][currency]=usd\
         &line_items[0][price_data][unit_amount]=2500&line_items[0][price_data][product_data][name]=X",
    )
    .await;
    let id = session["id"].as_str().unwrap();
    server
        .form(
            &account,
            Method::POST,
            &format!("/v1/test_helpers/checkout/sessions/{id}/pay"),
            "card=4000000000000002",
        )
        .await;
    let failed = get(
        &server,
        &account,
        &format!("/v1/charges?payment_intent=pi_{}", &id[8..]),
    )
    .await;
    let failed = failed["data"][0]["id"].as_str().unwrap();
    let error = refuse(format!("charge={failed}")).await;
    assert_eq!(error["code"], "charge_not_refundable", "{error}");
    // Another account's charge does not exist for this one.
    let stranger = server.account("Other").await;
    let response = call(
        &server,
        &stranger,
        Method::POST,
        "/v1/refunds",
        &format!("charge={}", other["latest_charge"].as_str().unwrap()),
        400,
    )
    .await;
    assert_eq!(response["error"]["code"], "resource_missing");
}

async fn refunds_list_filter_and_update(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let one = paid(&server, &account, "4242424242424242").await;
    let two = paid(&server, &account, "4242424242424242").await;
    let charge = |i: &Value| i["latest_charge"].as_str().unwrap().to_string();
    let a = post(
        &server,
        &account,
        "/v1/refunds",
        &format!("charge={}&amount=100", charge(&one)),
    )
    .await;
    let b = post(
        &server,
        &account,
        "/v1/refunds",
        &format!("charge={}&amount=200", charge(&two)),
    )
    .await;
    let all = get(&server, &account, "/v1/refunds").await;
    assert_eq!(
        ids(&all),
        [b["id"].as_str().unwrap(), a["id"].as_str().unwrap()]
    );
    assert_eq!(all["url"], "/v1/refunds");
    let of_one = get(
        &server,
        &account,
        &format!("/v1/refunds?charge={}", charge(&one)),
    )
    .await;
    assert_eq!(ids(&of_one), [a["id"].as_str().unwrap()]);
    let of_two = get(
        &server,
        &account,
        &format!("/v1/refunds?payment_intent={}", two["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(ids(&of_two), [b["id"].as_str().unwrap()]);
    let page = get(&server, &account, "/v1/refunds?limit=1").await;
    assert_eq!((ids(&page).len(), &page["has_more"]), (1, &json!(true)));
    let path = format!("/v1/refunds/{}", a["id"].as_str().unwrap());
    assert_eq!(get(&server, &account, &path).await, a);
    let expanded = get(
        &server,
        &account,
        &format!("{path}?expand[]=charge&expand[]=payment_intent"),
    )
    .await;
    assert_eq!(expanded["charge"]["id"], one["latest_charge"]);
    assert_eq!(expanded["charge"]["amount_refunded"], 100);
    assert_eq!(expanded["payment_intent"]["id"], one["id"]);
    let updated = post(&server, &account, &path, "metadata[note]=late").await;
    assert_eq!(updated["metadata"], json!({"note": "late"}));
    let error = call(&server, &account, Method::POST, &path, "amount=5", 400).await;
    assert_eq!(error["error"]["code"], "parameter_unknown");
    let stranger = server.account("Other").await;
    call(&server, &stranger, Method::GET, &path, "", 404).await;
}

async fn v3_serves_the_same_refunds(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let intent = paid(&server, &account, "4242424242424242").await;
    let response = server
        .with_key(Method::POST, "/api/v3/refunds", &account.test_key)
        .json(&json!({"payment_intent": intent["id"], "amount": 700, "metadata": {"via": "v3"}}))
        .send()
        .await
        .unwrap();
    let refund = json_with_status(response, 200).await;
    assert_eq!(
        (&refund["amount"], &refund["object"]),
        (&json!(700), &json!("refund"))
    );
    let id = refund["id"].as_str().unwrap();
    assert_eq!(
        get(&server, &account, &format!("/api/v3/refunds/{id}")).await,
        refund
    );
    assert_eq!(
        get(&server, &account, &format!("/v1/refunds/{id}")).await,
        refund
    );
    let listed = get(&server, &account, "/api/v3/refunds").await;
    assert_eq!(listed["data"][0], refund);
    assert_eq!(listed["url"], "/api/v3/refunds");
}

async fn a_pending_refund_is_finished_once_after_a_crash(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let intent = paid(&server, &account, "4242424242424242").await;
    let charge = intent["latest_charge"].as_str().unwrap();
    // A server stopped after writing the pending refund, before the processor answered.
    let now = server.clock.now();
    let refund = kassa::domain::refunds::Refund {
        id: "re_crashed".into(),
        livemode: false,
        charge_id: charge.into(),
        payment_intent_id: intent["id"].as_str().unwrap().into(),
        amount: 1500,
        currency: "usd".into(),
        reason: None,
        metadata: Default::default(),
        status: kassa::domain::refunds::RefundStatus::Pending,
        failure_reason: None,
        created: now,
    };
    assert!(
        kassa::store::refunds::reserve(&server.db, &account.id, &refund, now + 60)
            .await
            .unwrap()
    );
    let pending = get(&server, &account, "/v1/refunds/re_crashed").await;
    assert_eq!(pending["status"], "pending");
    let charged = get(&server, &account, &format!("/v1/charges/{charge}")).await;
    assert_eq!(
        charged["amount_refunded"], 1500,
        "the amount is held for it"
    );
    // Within its lease it is left alone; after it, the worker finishes it, once.
    let early = recover_pending(&server.db, &SimulatedProcessor, now + 30, &server.base)
        .await
        .unwrap();
    assert_eq!(early, 0);
    for at in [now + 61, now + 200] {
        recover_pending(&server.db, &SimulatedProcessor, at, &server.base)
            .await
            .unwrap();
    }
    let done = get(&server, &account, "/v1/refunds/re_crashed").await;
    assert_eq!(done["status"], "succeeded");
    let ledger = kassa::store::billing::ledger(&server.db, &account.caller(false))
        .await
        .unwrap();
    let entries: Vec<_> = ledger
        .iter()
        .filter(|e| e.idempotency_key == "re_crashed")
        .collect();
    assert_eq!(entries.len(), 1);
    let created = get(&server, &account, "/v1/events?type=refund.created").await;
    assert_eq!(created["data"].as_array().unwrap().len(), 1);
}

async fn two_full_refunds_at_once_refund_once(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let intent = paid(&server, &account, "4242424242424242").await;
    let body = format!("charge={}", intent["latest_charge"].as_str().unwrap());
    let send = || {
        server
            .with_key(Method::POST, "/v1/refunds", &account.test_key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
    };
    let (a, b) = tokio::join!(send(), send());
    let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses[0], 200);
    assert_ne!(statuses[1], 200, "the second finds nothing left");
    // Two partial refunds that cannot both fit: one is refused for its amount.
    let other = paid(&server, &account, "4242424242424242").await;
    let body = format!(
        "charge={}&amount=3000",
        other["latest_charge"].as_str().unwrap()
    );
    let send = || {
        server
            .with_key(Method::POST, "/v1/refunds", &account.test_key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
    };
    let (a, b) = tokio::join!(send(), send());
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut outcomes = vec![a.status().as_u16(), b.status().as_u16()];
    let bodies: Vec<Value> = vec![a.json().await.unwrap(), b.json().await.unwrap()];
    outcomes.sort_unstable();
    assert_eq!(outcomes, [200, 400], "{bodies:?}");
    assert!(
        bodies
            .iter()
            .any(|b| b["error"]["code"] == "amount_too_large"),
        "{bodies:?}"
    );
    let ledger = kassa::store::billing::ledger(&server.db, &account.caller(false))
        .await
        .unwrap();
    let refunded: i64 = ledger
        .iter()
        .filter(|e| e.outcome == "refunded")
        .map(|e| e.amount)
        .sum();
    assert_eq!(refunded, 5000 + 3000);
}

/// A monthly subscription of €9.00 renewed once: its renewal invoice, paid by the engine.
async fn renewed_invoice(server: &TestServer, account: &TestAccount) -> Value {
    let price = post(
        server,
        account,
        "/v1/prices",
        "currency=eur&unit_amount=900&recurring[interval]=month&product_data[name]=Pro",
    )
    .await;
    let session = post(
        server,
        account,
        "/v1/checkout/sessions",
        &format!(
            "mode=subscription&line_items[0][price]={}",
            price["id"].as_str().unwrap()
        ),
    )
    .await;
    let id = session["id"].as_str().unwrap();
    let paid = post(
        server,
        account,
        &format!("/v1/test_helpers/checkout/sessions/{id}/pay"),
        "card=4242424242424242&email=ada%40example.com",
    )
    .await;
    let subscription = paid["subscription"].as_str().unwrap();
    let sub = get(
        server,
        account,
        &format!("/v1/subscriptions/{subscription}"),
    )
    .await;
    let end = sub["current_period_end"].as_i64().unwrap();
    for at in [end, end + 86_400] {
        server.clock.set(at);
        kassa::domain::billing::engine::run_due(
            &server.db,
            &SimulatedProcessor,
            at,
            kassa::domain::billing::engine::LEASE_SECONDS,
            &server.base,
        )
        .await
        .unwrap();
    }
    let sub = get(
        server,
        account,
        &format!("/v1/subscriptions/{subscription}"),
    )
    .await;
    let invoice = sub["latest_invoice"].as_str().unwrap();
    get(server, account, &format!("/v1/invoices/{invoice}")).await
}

async fn a_renewals_charge_is_refunded_and_its_invoice_stays_paid(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let invoice = renewed_invoice(&server, &account).await;
    assert_eq!(
        (&invoice["status"], &invoice["billing_reason"]),
        (&json!("paid"), &json!("subscription_cycle"))
    );
    let charge = invoice["charge"].as_str().unwrap();
    let refund = post(
        &server,
        &account,
        "/v1/refunds",
        &format!("charge={charge}&amount=400"),
    )
    .await;
    assert_eq!(
        (&refund["status"], &refund["amount"], &refund["currency"]),
        (&json!("succeeded"), &json!(400), &json!("eur"))
    );
    let after = get(&server, &account, &format!("/v1/charges/{charge}")).await;
    assert_eq!(
        (&after["amount_refunded"], &after["refunded"]),
        (&json!(400), &json!(false))
    );
    // Only the Refund and the Charge change (decisions §11).
    let id = invoice["id"].as_str().unwrap();
    let unchanged = get(&server, &account, &format!("/v1/invoices/{id}")).await;
    assert_eq!(
        (&unchanged["status"], &unchanged["amount_paid"]),
        (&json!("paid"), &json!(900))
    );
    // The processor's ledger: the renewal charged once, and refunded 400 of it once.
    let ledger = kassa::store::billing::ledger(&server.db, &account.caller(false))
        .await
        .unwrap();
    let refunded: Vec<i64> = (ledger.iter())
        .filter(|e| e.outcome == "refunded")
        .map(|e| e.amount)
        .collect();
    assert_eq!(refunded, [400]);
}
