//! `Idempotency-Key`: replays, mismatches, requests in flight, and several servers.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Engine, TestAccount, TestServer, json_with_status, on_both_engines};

on_both_engines!(
    a_retried_create_replays_the_first_response,
    a_reused_key_with_other_parameters_or_endpoint_is_refused,
    failed_validation_is_not_remembered,
    a_key_in_flight_gets_409_until_its_lease_ends,
    keys_are_shared_by_servers_on_one_database_and_scoped_by_account,
    stripe_form_posts_replay_too,
    concurrent_requests_with_one_key_create_one_session,
    hosted_page_forms_ignore_the_idempotency_key,
);

async fn product_id(server: &TestServer, account: &TestAccount) -> String {
    let body = json!({"name": "Pro", "priceAmount": "29.99"});
    let response = server
        .with_key(Method::POST, "/api/v3/products", &account.test_key)
        .json(&body)
        .send()
        .await
        .unwrap();
    json_with_status(response, 200).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn post(
    server: &TestServer,
    key: &str,
    path: &str,
    idempotency_key: &str,
    body: &Value,
) -> reqwest::Response {
    server
        .with_key(Method::POST, path, key)
        .header("idempotency-key", idempotency_key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn session_count(server: &TestServer, account: &TestAccount) -> usize {
    let response = server
        .with_key(
            Method::GET,
            "/api/v3/checkout/sessions?limit=100",
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    json_with_status(response, 200).await["data"]
        .as_array()
        .unwrap()
        .len()
}

async fn a_retried_create_replays_the_first_response(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let body = json!({"productId": product_id(&server, &account).await});
    let first = post(
        &server,
        &account.test_key,
        "/api/v3/checkout/sessions",
        "order-1",
        &body,
    )
    .await;
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = json_with_status(first, 200).await;
    for _ in 0..3 {
        let again = post(
            &server,
            &account.test_key,
            "/api/v3/checkout/sessions",
            "order-1",
            &body,
        )
        .await;
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(json_with_status(again, 200).await, first);
    }
    assert_eq!(
        session_count(&server, &account).await,
        1,
        "one session, however many retries"
    );
    let other = post(
        &server,
        &account.test_key,
        "/api/v3/checkout/sessions",
        "order-2",
        &body,
    )
    .await;
    assert_ne!(json_with_status(other, 200).await["id"], first["id"]);
}

async fn a_reused_key_with_other_parameters_or_endpoint_is_refused(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let product = product_id(&server, &account).await;
    let first = post(
        &server,
        &account.test_key,
        "/api/v3/checkout/sessions",
        "k",
        &json!({"productId": product}),
    )
    .await;
    assert_eq!(first.status(), 200);
    let changed = json!({"productId": product, "quantity": 2});
    let response = post(
        &server,
        &account.test_key,
        "/api/v3/checkout/sessions",
        "k",
        &changed,
    )
    .await;
    let error = json_with_status(response, 400).await;
    assert_eq!(error["error"]["type"], "idempotency_error");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("same parameters")
    );
    let response = post(
        &server,
        &account.test_key,
        "/api/v3/products",
        "k",
        &json!({"name": "X"}),
    )
    .await;
    let error = json_with_status(response, 400).await;
    assert_eq!(error["error"]["type"], "idempotency_error");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("same endpoint")
    );
    // Loops V2 callers get their own error shape.
    let response = post(
        &server,
        &account.test_key,
        "/api/v2/checkout/sessions",
        "k",
        &json!({"productId": product}),
    )
    .await;
    let error = json_with_status(response, 400).await;
    assert_eq!(
        (error["statusCode"].as_i64(), error["code"].as_str()),
        (Some(400), Some("idempotency_key_reused"))
    );
    assert_eq!(session_count(&server, &account).await, 1);
}

async fn failed_validation_is_not_remembered(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let product = product_id(&server, &account).await;
    let bad = json!({"productId": product, "quantity": 0});
    let response = post(
        &server,
        &account.test_key,
        "/api/v3/checkout/sessions",
        "retry-me",
        &bad,
    )
    .await;
    assert_eq!(
        json_with_status(response, 400).await["error"]["param"],
        "quantity"
    );
    let response = post(
        &server,
        &account.test_key,
        "/api/v3/checkout/sessions",
        "retry-me",
        &bad,
    )
    .await;
    assert!(
        response.headers().get("idempotent-replayed").is_none(),
        "a 400 is not replayed"
    );
    let fixed = json!({"productId": product, "quantity": 1});
    let response = post(
        &server,
        &account.test_key,
        "/api/v3/checkout/sessions",
        "retry-me",
        &fixed,
    )
    .await;
    assert_eq!(json_with_status(response, 200).await["amount_total"], 2999);
    let too_long = "k".repeat(256);
    let response = post(
        &server,
        &account.test_key,
        "/api/v3/checkout/sessions",
        &too_long,
        &fixed,
    )
    .await;
    assert_eq!(
        json_with_status(response, 400).await["error"]["param"],
        "Idempotency-Key"
    );
}

async fn a_key_in_flight_gets_409_until_its_lease_ends(engine: Engine) {
    use kassa::domain::idempotency::{self, Claim};
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let product = product_id(&server, &account).await;
    let body = json!({"productId": product});
    let bytes = serde_json::to_vec(&body).unwrap();
    let route = "POST /api/v3/checkout/sessions";
    let caller = kassa::domain::accounts::Caller {
        account_id: account.id.clone(),
        mode: kassa::domain::Mode::Test,
        key_id: String::new(),
    };
    let now = kassa::clock::Clock::now(&server.clock);
    // Another process has claimed the key and is still working on it.
    let claim = idempotency::claim(
        &server.db,
        &caller,
        "busy",
        route,
        &idempotency::request_hash(route, &bytes),
        now,
    )
    .await;
    assert_eq!(claim.unwrap(), Claim::Run);
    let response = post(
        &server,
        &account.test_key,
        "/api/v3/checkout/sessions",
        "busy",
        &body,
    )
    .await;
    let error = json_with_status(response, 409).await;
    assert_eq!(error["error"]["code"], "idempotency_key_in_use");
    assert_eq!(session_count(&server, &account).await, 0);
    // That process died: after the lease the key runs again.
    server.clock.advance(idempotency::LEASE_SECONDS + 1);
    let response = post(
        &server,
        &account.test_key,
        "/api/v3/checkout/sessions",
        "busy",
        &body,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(session_count(&server, &account).await, 1);
}

async fn keys_are_shared_by_servers_on_one_database_and_scoped_by_account(engine: Engine) {
    let first = TestServer::start(engine).await;
    let account = first.account("Acme").await;
    let other = first.account("Globex").await;
    let body = json!({"productId": product_id(&first, &account).await});
    let created = json_with_status(
        post(
            &first,
            &account.test_key,
            "/api/v3/checkout/sessions",
            "shared",
            &body,
        )
        .await,
        200,
    )
    .await;

    let second = TestServer::start_on(crate::harness::TestDatabase::reuse(&first.database)).await;
    let replayed = post(
        &second,
        &account.test_key,
        "/api/v3/checkout/sessions",
        "shared",
        &body,
    )
    .await;
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    assert_eq!(json_with_status(replayed, 200).await["id"], created["id"]);

    // The same key in another account, or in the other mode, is a different key.
    let other_body = json!({"productId": product_id(&first, &other).await});
    let response = post(
        &second,
        &other.test_key,
        "/api/v3/checkout/sessions",
        "shared",
        &other_body,
    )
    .await;
    assert!(response.headers().get("idempotent-replayed").is_none());
    assert_eq!(response.status(), 200);
    let response = post(
        &second,
        &account.live_key,
        "/api/v3/products",
        "shared",
        &json!({"name": "Live"}),
    )
    .await;
    assert!(response.headers().get("idempotent-replayed").is_none());
    assert_eq!(response.status(), 200);
}

async fn stripe_form_posts_replay_too(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let send = || {
        server
            .with_key(Method::POST, "/v1/products", &account.test_key)
            .header("idempotency-key", "form-1")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("name=Tee&metadata[size]=L")
            .send()
    };
    let first = json_with_status(send().await.unwrap(), 200).await;
    let again = send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(json_with_status(again, 200).await["id"], first["id"]);
}

async fn concurrent_requests_with_one_key_create_one_session(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let body = json!({"productId": product_id(&server, &account).await});
    let requests = (0..10).map(|_| {
        post(
            &server,
            &account.test_key,
            "/api/v3/checkout/sessions",
            "race",
            &body,
        )
    });
    let responses = futures_util::future::join_all(requests).await;
    let mut ids = std::collections::HashSet::new();
    let mut conflicts = 0;
    for response in responses {
        match response.status().as_u16() {
            200 => {
                ids.insert(
                    response.json::<Value>().await.unwrap()["id"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                );
            }
            409 => conflicts += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ids.len(), 1, "every successful answer is the same session");
    assert!(conflicts < 10);
    assert_eq!(session_count(&server, &account).await, 1);
}

/// The hosted checkout page's forms have no API key: an `Idempotency-Key` header (sent by a
/// browser extension or a proxy) is ignored there, never a 401. The dashboard's forms are
/// checked in the dashboard's tests.
async fn hosted_page_forms_ignore_the_idempotency_key(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pay = [
        ("action", "pay"),
        ("card_number", "4242 4242 4242 4242"),
        ("card_expiry", "12 / 40"),
        ("card_cvc", "123"),
        ("email", "ada@example.com"),
    ];
    for (action, fields, status) in [("", &pay[..], "complete"), ("/cancel", &[][..], "expired")] {
        let created = server
            .form(
                &account,
                Method::POST,
                "/v1/checkout/sessions",
                "mode=payment&line_items[0][price_data][currency]=usd\
                 &line_items[0][price_data][unit_amount]=2500\
                 &line_items[0][price_data][product_data][name]=Shirt&line_items[0][quantity]=1\
                 &success_url=https%3A%2F%2Fshop.example%2Fok&cancel_url=https%3A%2F%2Fshop.example%2Fcart",
            )
            .await;
        let id = json_with_status(created, 200).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let page = browser
            .get(format!("{}/checkout/{id}", server.base))
            .send()
            .await
            .unwrap();
        let cookie = page.headers()["set-cookie"].to_str().unwrap();
        let cookie = cookie.split(';').next().unwrap().to_string();
        let body = page.text().await.unwrap();
        let at = body.find("name=\"csrf\" value=\"").unwrap() + 19;
        let mut form = vec![("csrf", &body[at..at + 32])];
        form.extend_from_slice(fields);
        let posted = browser
            .post(format!("{}/checkout/{id}{action}", server.base))
            .header("cookie", cookie)
            .header("idempotency-key", "page-form-1")
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            posted.status(),
            303,
            "{action}: {}",
            posted.text().await.unwrap()
        );
        let session = json_with_status(
            server
                .with_key(
                    Method::GET,
                    &format!("/v1/checkout/sessions/{id}"),
                    &account.test_key,
                )
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        assert_eq!(session["status"], status, "{action}");
    }
}
