//! Test payments without a browser: `POST /v1/test_helpers/checkout/sessions/{id}/pay` and
//! `kassa pay`, which run what the hosted page's form runs, events and webhooks included.

use kassa::clock::Clock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Engine, TestAccount, TestServer, json_with_status, on_both_engines};
use crate::receiver::{Receiver, verify};

on_both_engines!(
    paying_completes_the_session_with_its_events_and_webhook,
    declines_are_card_errors_and_leave_the_session_open_until_the_fifth,
    live_mode_answers_like_an_unknown_session,
    quantities_and_amounts_are_chosen_as_on_the_page,
    a_session_that_is_not_open_cannot_be_paid,
    kassa_pay_pays_from_the_shell,
    payment_intent_data_reaches_the_payment_intent_and_its_charges,
);

/// A session of `extra` over 2 × $25.00 "Linen shirt".
async fn session(server: &TestServer, account: &TestAccount, extra: &str) -> Value {
    let body = format!(
        "mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=2500\
         &line_items[0][price_data][product_data][name]=Linen+shirt&line_items[0][quantity]=2{extra}"
    );
    json_with_status(
        server
            .form(account, Method::POST, "/v1/checkout/sessions", &body)
            .await,
        200,
    )
    .await
}

async fn pay(server: &TestServer, key: &str, id: &str, body: &str) -> reqwest::Response {
    server
        .with_key(
            Method::POST,
            &format!("/v1/test_helpers/checkout/sessions/{id}/pay"),
            key,
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn get(server: &TestServer, key: &str, path: &str) -> Value {
    json_with_status(
        server
            .with_key(Method::GET, path, key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
}

/// The types of the account's test events about `object_id`, oldest first.
async fn event_types(server: &TestServer, account: &TestAccount, object_id: &str) -> Vec<String> {
    kassa::store::events::events_for_object(&server.db, &account.caller(false), object_id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

async fn endpoint(server: &TestServer, account: &TestAccount, url: &str, event: &str) -> String {
    let created = json_with_status(
        server
            .form(
                account,
                Method::POST,
                "/v1/webhook_endpoints",
                &format!(
                    "url={}&enabled_events[]={event}",
                    form_urlencoded::byte_serialize(url.as_bytes()).collect::<String>()
                ),
            )
            .await,
        200,
    )
    .await;
    created["secret"].as_str().unwrap().to_string()
}

async fn paying_completes_the_session_with_its_events_and_webhook(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let (receiver, url) = Receiver::start().await;
    let secret = endpoint(&server, &account, &url, "checkout.session.completed").await;
    let created = session(&server, &account, "&metadata[order]=42").await;
    let id = created["id"].as_str().unwrap();

    let paid = pay(
        &server,
        &account.test_key,
        id,
        "card=4242+4242+4242+4242&email=ada%40example.com&name=Ada+Lovelace",
    )
    .await;
    let paid = json_with_status(paid, 200).await;
    assert_eq!(paid["object"], "checkout.session");
    assert_eq!(paid["status"], "complete");
    assert_eq!(paid["payment_status"], "paid");
    assert_eq!(paid["customer_details"]["email"], "ada@example.com");
    assert_eq!(paid["customer_details"]["name"], "Ada Lovelace");
    // The answer is the session as the API shows it.
    let shown = get(
        &server,
        &account.test_key,
        &format!("/v1/checkout/sessions/{id}"),
    )
    .await;
    assert_eq!(paid, shown);

    // The same events as a payment on the page, in the order they were written.
    let events = get(&server, &account.test_key, "/v1/events?limit=100").await;
    let mut kinds: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    kinds.reverse();
    assert_eq!(
        kinds,
        [
            "charge.succeeded",
            "payment_intent.succeeded",
            "checkout.session.completed"
        ]
    );
    let intent = get(
        &server,
        &account.test_key,
        &format!(
            "/v1/payment_intents/{}",
            paid["payment_intent"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(intent["status"], "succeeded");
    assert_eq!(intent["amount"], 5000);
    let card = &intent["payment_method_details"]["card"];
    assert_eq!(
        (card["brand"].as_str(), card["last4"].as_str()),
        (Some("visa"), Some("4242"))
    );
    let this_year = time::OffsetDateTime::from_unix_timestamp(server.clock.now())
        .unwrap()
        .year();
    assert!(card["exp_year"].as_i64().unwrap() > i64::from(this_year));

    let delivered = receiver.wait_for(1).await;
    assert!(verify(&delivered[0], &secret), "both signatures verify");
    let event = delivered[0].json();
    assert_eq!(event["type"], "checkout.session.completed");
    assert_eq!(event["data"]["object"]["id"], id);
    assert_eq!(event["data"]["object"]["payment_status"], "paid");
    assert_eq!(event["data"]["object"]["metadata"]["order"], "42");

    // An Amex card pays too: the CVC kassa fills has its 4 digits.
    let amex = session(&server, &account, "").await;
    let amex_id = amex["id"].as_str().unwrap();
    let paid = pay(
        &server,
        &account.test_key,
        amex_id,
        "card=3782+822463+10005",
    )
    .await;
    let paid = json_with_status(paid, 200).await;
    assert_eq!(paid["payment_status"], "paid");
    assert_eq!(paid["customer_details"]["email"], Value::Null);
    // JSON bodies work as on every /v1 route, and `expand[]` as on retrieve.
    let third = session(&server, &account, "&customer_email=bob%40example.com").await;
    let third_id = third["id"].as_str().unwrap();
    let paid = server
        .with_key(
            Method::POST,
            &format!("/v1/test_helpers/checkout/sessions/{third_id}/pay"),
            &account.test_key,
        )
        .json(&json!({"card": "5555555555554444", "expand": ["payment_intent"]}))
        .send()
        .await
        .unwrap();
    let paid = json_with_status(paid, 200).await;
    assert_eq!(paid["customer_details"]["email"], "bob@example.com");
    assert_eq!(
        paid["payment_intent"]["payment_method_details"]["card"]["brand"],
        "mastercard"
    );

    // What the helper does not define is refused, not ignored.
    let fourth = session(&server, &account, "").await;
    let fourth_id = fourth["id"].as_str().unwrap();
    for (body, code, param) in [
        (
            "card=4242424242424242&card_cvc=123",
            "parameter_unknown",
            "card_cvc",
        ),
        ("email=ada%40example.com", "parameter_missing", "card"),
        (
            "card=4242424242424242&email=not+an+email",
            "parameter_invalid",
            "email",
        ),
    ] {
        let refused =
            json_with_status(pay(&server, &account.test_key, fourth_id, body).await, 400).await;
        assert_eq!(refused["error"]["code"], code, "{body}: {refused}");
        assert_eq!(refused["error"]["param"], param, "{body}: {refused}");
    }
    assert_eq!(
        get(
            &server,
            &account.test_key,
            &format!("/v1/checkout/sessions/{fourth_id}")
        )
        .await["status"],
        "open"
    );
}

async fn declines_are_card_errors_and_leave_the_session_open_until_the_fifth(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let (receiver, url) = Receiver::start().await;
    let secret = endpoint(&server, &account, &url, "checkout.session.expired").await;
    let created = session(&server, &account, "").await;
    let id = created["id"].as_str().unwrap();
    let session_path = format!("/v1/checkout/sessions/{id}");

    // Numbers kassa refuses itself are card errors without a decline, and count as no attempt.
    for (number, code) in [
        ("4242424242424241", "incorrect_number"),
        ("4242", "invalid_number"),
    ] {
        let refused = pay(&server, &account.test_key, id, &format!("card={number}")).await;
        let refused = json_with_status(refused, 402).await;
        assert_eq!(refused["error"]["type"], "card_error");
        assert_eq!(refused["error"]["code"], code);
        assert_eq!(refused["error"]["param"], "card");
        assert_eq!(refused["error"].get("decline_code"), None);
    }
    assert_eq!(
        get(&server, &account.test_key, &session_path).await["payment_intent"],
        Value::Null
    );

    let declines = [
        (
            "4000000000000002",
            "card_declined",
            Some("generic_decline"),
            "Your card was declined.",
        ),
        (
            "4000000000009995",
            "card_declined",
            Some("insufficient_funds"),
            "Your card has insufficient funds.",
        ),
        (
            "4000000000000069",
            "expired_card",
            Some("expired_card"),
            "Your card has expired.",
        ),
        (
            "4000000000000127",
            "incorrect_cvc",
            Some("incorrect_cvc"),
            "Your card's security code is incorrect.",
        ),
    ];
    for (number, code, decline_code, message) in declines {
        let declined = pay(&server, &account.test_key, id, &format!("card={number}")).await;
        let declined = json_with_status(declined, 402).await;
        let error = &declined["error"];
        assert_eq!(error["type"], "card_error", "{number}");
        assert_eq!(error["code"], code, "{number}");
        assert_eq!(error["decline_code"].as_str(), decline_code, "{number}");
        assert_eq!(error["message"], message, "{number}");
        assert!(error["charge"].as_str().unwrap().starts_with("ch_"));
        let intent = &error["payment_intent"];
        assert_eq!(intent["object"], "payment_intent");
        assert_eq!(intent["status"], "requires_payment_method");
        assert_eq!(intent["latest_charge"], error["charge"]);
        assert_eq!(
            intent["last_payment_error"]["decline_code"].as_str(),
            decline_code
        );
        let shown = get(&server, &account.test_key, &session_path).await;
        assert_eq!(shown["status"], "open", "a decline leaves the session open");
        assert_eq!(shown["payment_status"], "unpaid");
    }
    assert_eq!(
        event_types(&server, &account, id).await,
        Vec::<String>::new()
    );

    // The fifth decline fails the session, as on the page: expired in Stripe's words.
    let fifth = pay(&server, &account.test_key, id, "card=4000000000000119").await;
    let fifth = json_with_status(fifth, 402).await;
    assert_eq!(fifth["error"]["code"], "processing_error");
    assert_eq!(fifth["error"].get("decline_code"), None);
    assert!(
        fifth["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the checkout session has expired"),
        "{fifth}"
    );
    let shown = get(&server, &account.test_key, &session_path).await;
    assert_eq!(shown["status"], "expired");
    let loops = get(
        &server,
        &account.test_key,
        &format!("/api/v2/checkout/sessions/{id}"),
    )
    .await;
    assert_eq!(loops["status"], "FAILED");
    assert_eq!(
        event_types(&server, &account, id).await,
        ["checkout.session.expired"]
    );
    let intent = shown["payment_intent"].as_str().unwrap();
    assert_eq!(
        event_types(&server, &account, intent).await,
        vec!["payment_intent.payment_failed"; 5]
    );
    let delivered = receiver.wait_for(1).await;
    assert!(verify(&delivered[0], &secret));
    let event = delivered[0].json();
    assert_eq!(event["type"], "checkout.session.expired");
    assert_eq!(event["data"]["object"]["id"], id);
    assert_eq!(event["data"]["object"]["status"], "expired");

    // A good card now changes nothing.
    let late = pay(&server, &account.test_key, id, "card=4242424242424242").await;
    let late = json_with_status(late, 400).await;
    assert_eq!(late["error"]["code"], "checkout_session_not_open");
    assert_eq!(
        get(&server, &account.test_key, &session_path).await["payment_status"],
        "unpaid"
    );

    // A decline, then a success, on a new session.
    let second = session(&server, &account, "").await;
    let second = second["id"].as_str().unwrap();
    json_with_status(
        pay(&server, &account.test_key, second, "card=4000000000000002").await,
        402,
    )
    .await;
    let paid = pay(&server, &account.test_key, second, "card=4242424242424242").await;
    assert_eq!(json_with_status(paid, 200).await["payment_status"], "paid");
}

async fn live_mode_answers_like_an_unknown_session(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let other = server.account("Other").await;
    let live = json_with_status(
        server
            .with_key(Method::POST, "/v1/checkout/sessions", &account.live_key)
            .form(&[
                ("line_items[0][price_data][currency]", "usd"),
                ("line_items[0][price_data][unit_amount]", "2500"),
                ("line_items[0][price_data][product_data][name]", "Shirt"),
                ("line_items[0][quantity]", "1"),
            ])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let live_id = live["id"].as_str().unwrap();
    assert!(live_id.starts_with("cs_live_"));
    let test_id = session(&server, &account, "").await["id"]
        .as_str()
        .unwrap()
        .to_string();

    for (key, id) in [
        (&account.live_key, live_id),
        (&account.live_key, test_id.as_str()),
        (&account.test_key, live_id),
        (&other.test_key, test_id.as_str()),
        (&account.test_key, "cs_test_nope"),
    ] {
        let missing = pay(&server, key, id, "card=4242424242424242").await;
        assert_eq!(
            json_with_status(missing, 404).await,
            json!({"error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "message": format!("No such checkout.session: '{id}'"),
                "param": "id",
            }}),
            "{id}"
        );
    }
    for (key, id) in [
        (&account.live_key, live_id),
        (&account.test_key, test_id.as_str()),
    ] {
        let shown = get(&server, key, &format!("/v1/checkout/sessions/{id}")).await;
        assert_eq!(shown["status"], "open", "{id}");
        assert_eq!(shown["payment_intent"], Value::Null, "{id}");
    }
}

async fn quantities_and_amounts_are_chosen_as_on_the_page(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    // Line 0 fixed, line 1 adjustable from 1 to 5.
    let created = session(
        &server,
        &account,
        "&line_items[1][price_data][currency]=usd&line_items[1][price_data][unit_amount]=1000\
         &line_items[1][price_data][product_data][name]=Socks&line_items[1][quantity]=1\
         &line_items[1][adjustable_quantity][enabled]=true&line_items[1][adjustable_quantity][maximum]=5",
    )
    .await;
    let id = created["id"].as_str().unwrap();
    for (body, param, message) in [
        (
            "line_items[0][quantity]=3",
            "line_items[0][quantity]",
            "not adjustable",
        ),
        (
            "line_items[2][quantity]=1",
            "line_items[2][quantity]",
            "2 line item",
        ),
        (
            "line_items[1][quantity]=6",
            "line_items[1][quantity]",
            "choose a quantity from 1 to 5",
        ),
        ("amount=500", "amount", "no line of this session"),
        (
            "line_items[x][quantity]=1",
            "line_items",
            "not a line item index",
        ),
    ] {
        let refused = pay(&server, key, id, &format!("card=4242424242424242&{body}")).await;
        let refused = json_with_status(refused, 400).await;
        assert_eq!(refused["error"]["param"], param, "{body}: {refused}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{body}: {refused}"
        );
    }
    let paid = pay(
        &server,
        key,
        id,
        "card=4242424242424242&line_items[1][quantity]=4",
    )
    .await;
    let paid = json_with_status(paid, 200).await;
    assert_eq!(paid["amount_total"], 5000 + 4000);
    let lines = get(
        &server,
        key,
        &format!("/v1/checkout/sessions/{id}/line_items"),
    )
    .await;
    assert_eq!(lines["data"][1]["quantity"], 4);
    assert_eq!(lines["data"][1]["amount_total"], 4000);
    let intent = get(
        &server,
        key,
        &format!(
            "/v1/payment_intents/{}",
            paid["payment_intent"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(intent["amount"], 9000);

    // A JSON list of lines, the first left as it is.
    let created = session(
        &server,
        &account,
        "&line_items[0][adjustable_quantity][enabled]=true",
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let paid = server
        .with_key(
            Method::POST,
            &format!("/v1/test_helpers/checkout/sessions/{id}/pay"),
            key,
        )
        .json(&json!({"card": "4242424242424242", "line_items": [{"quantity": 3}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(paid, 200).await["amount_total"], 7500);

    // A customer-chosen amount, at least $5.00.
    let custom = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/checkout/sessions",
                &format!(
                    "line_items[0][price]={}",
                    custom_price(&server, &account, "&custom_unit_amount[minimum]=500").await
                ),
            )
            .await,
        200,
    )
    .await;
    let id = custom["id"].as_str().unwrap();
    for (body, code, message) in [
        (
            "&amount=300",
            "parameter_invalid",
            "choose an amount of at least $5.00",
        ),
        ("&amount=-5", "parameter_invalid", "must not be negative"),
        (
            "&amount=100000000",
            "amount_too_large",
            "at most $999,999.99",
        ),
    ] {
        let refused = pay(&server, key, id, &format!("card=4242424242424242{body}")).await;
        let refused = json_with_status(refused, 400).await;
        assert_eq!(refused["error"]["code"], code, "{body}: {refused}");
        assert_eq!(refused["error"]["param"], "amount", "{body}: {refused}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{body}: {refused}"
        );
    }
    let paid = pay(&server, key, id, "card=4242424242424242&amount=1234").await;
    let paid = json_with_status(paid, 200).await;
    assert_eq!(paid["amount_total"], 1234);
    assert_eq!(paid["payment_status"], "paid");
    // Without `amount`, what the page's field holds at first: the minimum here.
    let again = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/checkout/sessions",
                &format!(
                    "line_items[0][price]={}",
                    custom_price(&server, &account, "&custom_unit_amount[minimum]=500").await
                ),
            )
            .await,
        200,
    )
    .await;
    let paid = pay(
        &server,
        key,
        again["id"].as_str().unwrap(),
        "card=4242424242424242",
    )
    .await;
    assert_eq!(json_with_status(paid, 200).await["amount_total"], 500);

    // Totals the customer chooses are bounded like any other: below the minimum charge...
    let tip = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/checkout/sessions",
                &format!(
                    "line_items[0][price]={}",
                    custom_price(&server, &account, "").await
                ),
            )
            .await,
        200,
    )
    .await;
    let tip = tip["id"].as_str().unwrap();
    let unchosen = pay(&server, key, tip, "card=4242424242424242").await;
    let unchosen = json_with_status(unchosen, 400).await;
    assert_eq!(unchosen["error"]["param"], "amount");
    assert!(
        unchosen["error"]["message"]
            .as_str()
            .unwrap()
            .contains("choose an amount of at least $0.01"),
        "{unchosen}"
    );
    let small = pay(&server, key, tip, "card=4242424242424242&amount=49").await;
    let small = json_with_status(small, 400).await;
    assert_eq!(small["error"]["code"], "amount_too_small");
    assert_eq!(small["error"]["param"], "amount");
    // ...or above the largest charge, reached through a quantity.
    let big = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/checkout/sessions",
                "line_items[0][price_data][currency]=usd&line_items[0][price_data][product_data][name]=Yacht\
                 &line_items[0][price_data][unit_amount]=60000000&line_items[0][quantity]=1\
                 &line_items[0][adjustable_quantity][enabled]=true",
            )
            .await,
        200,
    )
    .await;
    let big = big["id"].as_str().unwrap();
    let large = pay(
        &server,
        key,
        big,
        "card=4242424242424242&line_items[0][quantity]=2",
    )
    .await;
    let large = json_with_status(large, 400).await;
    assert_eq!(large["error"]["code"], "amount_too_large");
    assert_eq!(large["error"]["param"], "line_items[0][quantity]");
    for id in [tip, big] {
        let shown = get(&server, key, &format!("/v1/checkout/sessions/{id}")).await;
        assert_eq!(shown["status"], "open");
        assert_eq!(shown["payment_intent"], Value::Null);
    }
    let paid = pay(&server, key, tip, "card=4242424242424242&amount=50").await;
    assert_eq!(json_with_status(paid, 200).await["amount_total"], 50);
}

async fn a_session_that_is_not_open_cannot_be_paid(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let id = session(&server, &account, "").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    json_with_status(pay(&server, key, &id, "card=4242424242424242").await, 200).await;
    let again = pay(&server, key, &id, "card=4242424242424242").await;
    let again = json_with_status(again, 400).await;
    assert_eq!(again["error"]["type"], "invalid_request_error");
    assert_eq!(again["error"]["code"], "checkout_session_not_open");
    assert!(
        again["error"]["message"]
            .as_str()
            .unwrap()
            .contains("completed"),
        "{again}"
    );
    // Charged once.
    let intent = get(&server, key, &format!("/v1/checkout/sessions/{id}")).await["payment_intent"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        event_types(&server, &account, &intent).await,
        ["payment_intent.succeeded"]
    );
    assert_eq!(
        event_types(&server, &account, &id).await,
        ["checkout.session.completed"]
    );

    // Expired by the merchant, or past its deadline.
    let expired = session(&server, &account, "").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    json_with_status(
        server
            .form(
                &account,
                Method::POST,
                &format!("/v1/checkout/sessions/{expired}/expire"),
                "",
            )
            .await,
        200,
    )
    .await;
    let overdue = session(&server, &account, "").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    server.clock.advance(3601);
    for id in [&expired, &overdue] {
        let refused = pay(&server, key, id, "card=4242424242424242").await;
        let refused = json_with_status(refused, 400).await;
        assert_eq!(
            refused["error"]["code"], "checkout_session_not_open",
            "{id}"
        );
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains("expired"),
            "{refused}"
        );
    }
}

/// Runs the built `kassa pay` with `args` and extra environment; returns (code, stdout, stderr).
async fn kassa_pay(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_kassa"))
        .arg("pay")
        .args(args)
        .env_remove("KASSA_CONFIG")
        .env_remove("KASSA_API_KEY")
        .env_remove("KASSA_SERVER")
        .envs(env.iter().copied())
        .output()
        .await
        .expect("run kassa pay");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn kassa_pay_pays_from_the_shell(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let key = account.test_key.as_str();
    let base = server.base.as_str();

    let id = session(&server, &account, "").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, stdout, stderr) = kassa_pay(
        &[
            &id,
            "--card",
            "4242 4242 4242 4242",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
            "--server",
            base,
            "--api-key",
            key,
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("{id}: status complete, payment status paid")
    );
    let shown = get(&server, key, &format!("/v1/checkout/sessions/{id}")).await;
    assert_eq!(shown["customer_details"]["email"], "ada@example.com");
    assert_eq!(shown["customer_details"]["name"], "Ada");

    // From the environment, with a quantity.
    let id = session(
        &server,
        &account,
        "&line_items[0][adjustable_quantity][enabled]=true",
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let env = [("KASSA_SERVER", base), ("KASSA_API_KEY", key)];
    let (code, stdout, stderr) = kassa_pay(
        &[&id, "--card", "4000000000000002", "--quantity", "0=3"],
        &env,
    )
    .await;
    assert_eq!(code, 3, "a refused card exits 3: {stdout}{stderr}");
    assert_eq!(
        stderr.trim(),
        "declined: Your card was declined. (card_declined, generic_decline)"
    );
    let shown = get(&server, key, &format!("/v1/checkout/sessions/{id}")).await;
    assert_eq!(shown["status"], "open");
    let (code, stdout, stderr) = kassa_pay(
        &[&id, "--card", "4242424242424242", "--quantity", "0=3"],
        &env,
    )
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let shown = get(&server, key, &format!("/v1/checkout/sessions/{id}")).await;
    assert_eq!(shown["amount_total"], 7500);
    assert_eq!(shown["payment_status"], "paid");
    let (code, _, stderr) = kassa_pay(
        &[&id, "--card", "4242424242424242", "--amount", "500"],
        &env,
    )
    .await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!(
            "the kassa server at {base} answered 400 Bad Request"
        )) && stderr.contains("is completed"),
        "{stderr}"
    );

    // Errors name the server that was tried.
    let (code, _, stderr) = kassa_pay(&["cs_test_nope", "--card", "4242424242424242"], &env).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!(
            "the kassa server at {base} answered 404 Not Found"
        )) && stderr.contains("No such checkout.session: 'cs_test_nope'"),
        "{stderr}"
    );
    let (code, _, stderr) = kassa_pay(
        &[
            &id,
            "--card",
            "4242424242424242",
            "--server",
            base,
            "--api-key",
            "sk_test_wrong",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!("the kassa server at {base} refused the API key"))
            && stderr.contains("--api-key"),
        "{stderr}"
    );
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let (code, _, stderr) = kassa_pay(
        &[
            &id,
            "--card",
            "4242424242424242",
            "--server",
            &closed,
            "--api-key",
            key,
        ],
        &[],
    )
    .await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!(
            "cannot reach the kassa server at {closed}: Connection refused"
        )) && !stderr.contains("os error"),
        "{stderr}"
    );
    // Another program on the address: said so, whatever it answers.
    let (other, other_url) = Receiver::start().await;
    let other_base = other_url.trim_end_matches("/webhooks");
    other.answers.lock().unwrap().push_back(401);
    for status in ["401 Unauthorized", "200 OK"] {
        let (code, _, stderr) = kassa_pay(
            &[
                &id,
                "--card",
                "4242424242424242",
                "--server",
                other_base,
                "--api-key",
                key,
            ],
            &[],
        )
        .await;
        assert_eq!(code, 1);
        assert!(
            stderr.contains(&format!(
                "the server at {other_base} does not seem to be a kassa server: its answer \
                 ({status})"
            )),
            "{stderr}"
        );
    }
    let (code, _, stderr) = kassa_pay(
        &[&id, "--card", "4242424242424242", "--quantity", "3"],
        &env,
    )
    .await;
    assert_eq!(code, 2, "a usage error: {stderr}");
    assert!(stderr.contains("LINE=QUANTITY"), "{stderr}");
}

/// A price whose amount the customer chooses (`custom_unit_amount` plus `extra`).
async fn custom_price(server: &TestServer, account: &TestAccount, extra: &str) -> String {
    let price = server
        .form(
            account,
            Method::POST,
            "/v1/prices",
            &format!("currency=usd&custom_unit_amount[enabled]=true&product_data[name]=Tip{extra}"),
        )
        .await;
    json_with_status(price, 200).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `payment_intent_data` given at creation is on the PaymentIntent and its charges, in the
/// events, and after a decline too (the declined attempt already made the PaymentIntent).
async fn payment_intent_data_reaches_the_payment_intent_and_its_charges(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let created = session(
        &server,
        &account,
        "&payment_intent_data[metadata][order]=42&payment_intent_data[description]=Order+42\
         &payment_intent_data[statement_descriptor_suffix]=ORDER+42",
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let declined = pay(&server, &account.test_key, id, "card=4000000000000002").await;
    json_with_status(declined, 402).await;
    let paid = json_with_status(
        pay(&server, &account.test_key, id, "card=4242424242424242").await,
        200,
    )
    .await;
    let intent_id = paid["payment_intent"].as_str().unwrap();
    let intent = get(
        &server,
        &account.test_key,
        &format!("/v1/payment_intents/{intent_id}"),
    )
    .await;
    assert_eq!(intent["metadata"], json!({"order": "42"}));
    assert_eq!(intent["description"], "Order 42");
    assert_eq!(intent["statement_descriptor_suffix"], "ORDER 42");
    assert_eq!(intent["statement_descriptor"], Value::Null);

    let events = get(&server, &account.test_key, "/v1/events?limit=100").await;
    let of = |kind: &str| -> Vec<Value> {
        events["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == kind)
            .map(|e| e["data"]["object"].clone())
            .collect()
    };
    assert_eq!(of("payment_intent.succeeded")[0]["metadata"]["order"], "42");
    let charges = [of("charge.failed"), of("charge.succeeded")].concat();
    assert_eq!(charges.len(), 2, "{events}");
    for charge in charges {
        assert_eq!(charge["description"], "Order 42");
        assert_eq!(charge["statement_descriptor_suffix"], "ORDER 42");
    }

    // Checked at creation: a payment could not refuse it later.
    let long = server
        .form(
            &account,
            Method::POST,
            "/v1/checkout/sessions",
            "mode=payment&line_items[0][price_data][currency]=usd\
             &line_items[0][price_data][unit_amount]=2500\
             &line_items[0][price_data][product_data][name]=Shirt&line_items[0][quantity]=1\
             &payment_intent_data[statement_descriptor]=ABCDEFGHIJKLMNOPQRSTUVW",
        )
        .await;
    assert_eq!(
        json_with_status(long, 400).await["error"]["param"],
        "payment_intent_data[statement_descriptor]"
    );
}
