//! Webhooks end to end: endpoints, the outbox, signed deliveries to a real local receiver that
//! verifies both signatures, retries on an injected clock, and the events API.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{
    Engine, KassaProcess, TestAccount, TestDatabase, TestServer, json_with_status, on_both_engines,
};
use crate::receiver::{Delivery, Receiver, verify};

on_both_engines!(
    a_paid_session_delivers_a_verified_checkout_session_completed,
    failed_attempts_are_retried_with_the_same_bytes,
    a_receiver_down_for_a_thousand_events_gets_each_once,
    gone_disables_the_endpoint,
    rolled_secrets_sign_beside_the_new_one_for_a_day,
    live_endpoints_may_not_target_private_addresses,
    test_endpoints_reach_internal_addresses_by_default,
    test_private_deny_applies_the_live_rule_to_test_endpoints,
    the_serve_flag_denies_private_test_endpoints,
    endpoints_are_managed_on_both_surfaces,
    checkout_session_canceled_is_refused_with_its_replacement,
    events_are_listed_filtered_and_resent,
    catalog_changes_write_their_events_with_the_request,
    kill_9_while_delivering_loses_nothing,
    kassa_listen_forwards_events_across_a_server_restart,
    kassa_listen_says_which_server_failed_and_why,
    two_processes_attempt_each_delivery_once,
);

async fn endpoint(server: &TestServer, account: &TestAccount, url: &str, events: &str) -> Value {
    json_with_status(
        server
            .form(
                account,
                Method::POST,
                "/v1/webhook_endpoints",
                &format!(
                    "url={}&{events}&description=Orders",
                    form_urlencoded::byte_serialize(url.as_bytes()).collect::<String>()
                ),
            )
            .await,
        200,
    )
    .await
}

async fn customer(server: &TestServer, account: &TestAccount, name: &str) -> Value {
    json_with_status(
        server
            .form(
                account,
                Method::POST,
                "/v1/customers",
                &format!("name={name}"),
            )
            .await,
        200,
    )
    .await
}

async fn attempts(server: &TestServer, account: &TestAccount, endpoint: &str) -> Value {
    json_with_status(
        server
            .with_key(
                Method::GET,
                &format!("/v1/webhook_endpoints/{endpoint}/attempts?limit=100"),
                &account.test_key,
            )
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
}

async fn a_paid_session_delivers_a_verified_checkout_session_completed(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let (receiver, url) = Receiver::start().await;
    let created = endpoint(
        &server,
        &account,
        &url,
        "enabled_events[]=checkout.session.completed",
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    assert!(
        base64::engine::general_purpose::STANDARD
            .decode(&secret[6..])
            .unwrap()
            .len()
            >= 32
    );
    assert_eq!(created["status"], "enabled");

    // Pay a session on its hosted page.
    let session = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/checkout/sessions",
                "mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=1500\
                 &line_items[0][price_data][product_data][name]=Mug&line_items[0][quantity]=1&metadata[order]=42",
            )
            .await,
        200,
    )
    .await;
    let id = session["id"].as_str().unwrap();
    let page = server
        .request(Method::GET, &format!("/checkout/{id}"))
        .send()
        .await
        .unwrap();
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let body = page.text().await.unwrap();
    let at = body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let token = &body[at..at + 32];
    let paid = server
        .request(Method::POST, &format!("/checkout/{id}"))
        .header("cookie", cookie)
        .form(&[
            ("csrf", token),
            ("action", "pay"),
            ("email", "ada@example.com"),
            ("card_number", "4242 4242 4242 4242"),
            ("card_expiry", "12 / 40"),
            ("card_cvc", "123"),
        ])
        .send()
        .await
        .unwrap();
    assert!(paid.status().is_success() || paid.status().is_redirection());

    let delivered = receiver.wait_for(1).await;
    assert_eq!(delivered.len(), 1, "only the type the endpoint asked for");
    let delivery = &delivered[0];
    assert!(verify(delivery, &secret), "both signatures verify");
    assert!(!verify(delivery, &kassa::domain::webhooks::new_secret()));
    assert_eq!(delivery.headers["content-type"], "application/json");
    assert!(
        delivery.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("kassa/")
    );
    let event = delivery.json();
    assert_eq!(event["type"], "checkout.session.completed");
    assert_eq!(event["object"], "event");
    assert_eq!(event["api_version"], kassa::domain::events::API_VERSION);
    assert_eq!(event["data"]["object"]["id"], id);
    assert_eq!(event["data"]["object"]["status"], "complete");
    assert_eq!(event["data"]["object"]["payment_status"], "paid");
    assert_eq!(event["data"]["object"]["metadata"]["order"], "42");
    assert_eq!(event["pending_webhooks"], 1);
    assert_eq!(
        delivery.headers["webhook-id"],
        event["id"].as_str().unwrap()
    );

    // The events API serves the same bytes.
    let listed = server
        .with_key(
            Method::GET,
            &format!("/v1/events/{}", event["id"].as_str().unwrap()),
            &account.test_key,
        )
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(listed, delivery.body);
    // The attempt is written once the receiver has answered: a moment after it got the event.
    let endpoint = created["id"].as_str().unwrap();
    let mut log = attempts(&server, &account, endpoint).await;
    for _ in 0..500 {
        if log["data"][0].is_object() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        log = attempts(&server, &account, endpoint).await;
    }
    assert_eq!(log["data"][0]["status_code"], 200);
    assert_eq!(log["data"][0]["succeeded"], true);
    assert_eq!(log["data"][0]["response_body"], "received");
}

async fn failed_attempts_are_retried_with_the_same_bytes(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let (receiver, url) = Receiver::start().await;
    let created = endpoint(&server, &account, &url, "enabled_events[]=*").await;
    let endpoint_id = created["id"].as_str().unwrap();
    receiver.answer(&[500, 500]);
    customer(&server, &account, "Ada").await;

    receiver.wait_for(1).await;
    // Nothing more until the backoff has passed on the server's clock.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(receiver.received().len(), 1);
    attempts_saved(&server).await;
    server.clock.advance(34);
    receiver.wait_for(2).await;
    attempts_saved(&server).await;
    server.clock.advance(133);
    let delivered = receiver.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.clock.advance(100_000);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let delivered_after = receiver.received();
    assert_eq!(delivered_after.len(), 3, "no attempt after the success");

    let statuses: Vec<u16> = delivered.iter().map(|d| d.status).collect();
    assert_eq!(statuses, [500, 500, 200]);
    assert!(
        delivered.iter().all(|d| d.body == delivered[0].body),
        "the same bytes each time"
    );
    let ids: Vec<&str> = delivered
        .iter()
        .map(|d| d.headers["webhook-id"].to_str().unwrap())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]));
    let secret = created["secret"].as_str().unwrap();
    assert!(delivered.iter().all(|d| verify(d, secret)));

    let log = attempts(&server, &account, endpoint_id).await;
    let codes: Vec<i64> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [200, 500, 500], "newest first");
    assert_eq!(log["data"][1]["response_body"], "received");
}

async fn a_receiver_down_for_a_thousand_events_gets_each_once(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    // An address nothing listens on: bind a port, then free it.
    let down = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let created = endpoint(
        &server,
        &account,
        &format!("http://{down}/webhooks"),
        "enabled_events[]=customer.created",
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_string();
    let caller = account.caller(false);
    let now = kassa::clock::Clock::now(&server.clock);
    let mut made = Vec::new();
    for i in 0..1000 {
        let input = kassa::domain::customers::CustomerInput {
            name: Some(Some(format!("Customer {i}"))),
            ..Default::default()
        };
        let customer = kassa::domain::customers::create_customer(&server.db, &caller, input, now)
            .await
            .unwrap();
        made.push(customer.id);
    }
    // Every first attempt fails against the closed port.
    for _ in 0..400 {
        let log = attempts(&server, &account, created["id"].as_str().unwrap()).await;
        if log["data"].as_array().unwrap().len() == 100 && log["has_more"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The receiver comes up on that address; the retries are due.
    let (receiver, _) = {
        let receiver = Receiver::default();
        let state = receiver.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                state.received.lock().unwrap().push(Delivery {
                    headers,
                    body,
                    status: 200,
                });
                StatusCode::OK
            }
        });
        let listener = tokio::net::TcpListener::bind(down).await.unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, ())
    };
    // Wait until all first attempts are done, then let the retries fall due.
    attempts_saved(&server).await;
    server.clock.advance(40);
    let delivered = receiver.wait_for(1000).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let delivered_after = receiver.received();
    assert_eq!(delivered_after.len(), 1000, "none twice");
    let mut objects: Vec<String> = delivered
        .iter()
        .map(|d| {
            d.json()["data"]["object"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    objects.sort();
    made.sort();
    assert_eq!(objects, made, "every event, once");
    assert!(
        delivered.iter().all(|d| verify(d, &secret)),
        "none with a bad signature"
    );
}

/// Waits until every pending delivery has been attempted and its attempt saved: none waits
/// for its first claim, none is under a claim's lease. An attempt saved after the test moves
/// the clock schedules its retry from the moved clock, past the advance meant to make it due,
/// so tests wait for this before they advance.
async fn attempts_saved(server: &TestServer) {
    for _ in 0..600 {
        let (unsaved,): (i64,) = server
            .db
            .fetch_one(
                "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending' \
                 AND (attempts = 0 OR lease_until IS NOT NULL)",
                &[],
            )
            .await
            .unwrap();
        if unsaved == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("webhook attempts still unsaved after 30 s");
}

async fn gone_disables_the_endpoint(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let (receiver, url) = Receiver::start().await;
    let created = endpoint(&server, &account, &url, "enabled_events[]=*").await;
    let path = format!("/v1/webhook_endpoints/{}", created["id"].as_str().unwrap());
    receiver.answer(&[410]);
    customer(&server, &account, "Ada").await;
    receiver.wait_for(1).await;
    let mut status = Value::Null;
    for _ in 0..100 {
        let shown = json_with_status(
            server
                .with_key(Method::GET, &path, &account.test_key)
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        status = shown["status"].clone();
        if status == "disabled" {
            assert_eq!(shown["disabled_reason"], "the endpoint answered 410 Gone");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "disabled");
    customer(&server, &account, "Bo").await;
    server.clock.advance(100_000);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "a disabled endpoint gets nothing"
    );

    // Enabled again, and a failed delivery replayed.
    json_with_status(
        server
            .form(&account, Method::POST, &path, "disabled=false")
            .await,
        200,
    )
    .await;
    let replay = json_with_status(
        server
            .form(&account, Method::POST, &format!("{path}/replay"), "since=0")
            .await,
        200,
    )
    .await;
    assert_eq!(replay["requeued"], 1);
    let delivered = receiver.wait_for(2).await;
    assert_eq!(delivered[1].body, delivered[0].body);
}

async fn rolled_secrets_sign_beside_the_new_one_for_a_day(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let (receiver, url) = Receiver::start().await;
    let created = endpoint(&server, &account, &url, "enabled_events[]=customer.created").await;
    let old = created["secret"].as_str().unwrap().to_string();
    let path = format!("/v1/webhook_endpoints/{}", created["id"].as_str().unwrap());
    let rolled = json_with_status(
        server
            .form(&account, Method::POST, &format!("{path}/roll_secret"), "")
            .await,
        200,
    )
    .await;
    let new = rolled["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    let shown = json_with_status(
        server
            .with_key(Method::GET, &path, &account.test_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        shown.get("secret"),
        None,
        "the secret is shown on create and roll only"
    );

    customer(&server, &account, "Ada").await;
    let first = receiver.wait_for(1).await;
    assert!(verify(&first[0], &new) && verify(&first[0], &old));

    server.clock.advance(24 * 3600 + 1);
    customer(&server, &account, "Bo").await;
    let second = receiver.wait_for(2).await;
    assert!(verify(&second[1], &new));
    assert!(
        !verify(&second[1], &old),
        "the old secret stops signing after a day"
    );
}

async fn live_endpoints_may_not_target_private_addresses(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    for url in [
        "http://127.0.0.1:3000/hooks",
        "http://localhost/hooks",
        "http://10.0.0.8/hooks",
        "http://169.254.169.254/latest",
        "http://[::1]/hooks",
    ] {
        let refused = json_with_status(
            server
                .with_key(Method::POST, "/v1/webhook_endpoints", &account.live_key)
                .form(&[("url", url), ("enabled_events[]", "*")])
                .send()
                .await
                .unwrap(),
            400,
        )
        .await;
        assert_eq!(refused["error"]["param"], "url", "{url}");
    }
    // Test mode may: a developer's receiver is on their machine.
    let (_receiver, url) = Receiver::start().await;
    endpoint(&server, &account, &url, "enabled_events[]=*").await;

    // A live endpoint whose name resolves inside is refused where it resolves, at delivery.
    let (receiver, url) = Receiver::start().await;
    // The machine's own name passes the check at creation (it is not an address), but resolves
    // to one of the machine's addresses.
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let named = url.replace("127.0.0.1", hostname.trim());
    let created = json_with_status(
        server
            .with_key(Method::POST, "/v1/webhook_endpoints", &account.live_key)
            .form(&[("url", named.as_str()), ("enabled_events[]", "*")])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let live = account.caller(true);
    kassa::domain::customers::create_customer(
        &server.db,
        &live,
        Default::default(),
        kassa::clock::Clock::now(&server.clock),
    )
    .await
    .unwrap();
    let path = format!(
        "/v1/webhook_endpoints/{}/attempts",
        created["id"].as_str().unwrap()
    );
    let mut log = Value::Null;
    for _ in 0..100 {
        log = json_with_status(
            server
                .with_key(Method::GET, &path, &account.live_key)
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        if !log["data"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(log["data"][0]["status_code"], Value::Null);
    let error = log["data"][0]["error"].as_str().unwrap();
    assert!(error.contains("loopback, private or link-local"), "{error}");
    assert!(receiver.received().is_empty());
}

/// A receiver on every interface of this machine, and its URL with `host` (an address or a
/// name of this machine).
async fn receiver_on_every_interface() -> (Receiver, u16) {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    (Receiver::start_on(listener).0, port)
}

/// This machine's own name: it passes the check at creation (it is not an address) and
/// resolves to one of the machine's own (loopback or private) addresses.
fn machine_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let name = name.trim().to_string();
    let resolved: Vec<std::net::SocketAddr> =
        std::net::ToSocketAddrs::to_socket_addrs(&(name.as_str(), 0))
            .unwrap()
            .collect();
    assert!(
        !resolved.is_empty()
            && resolved
                .iter()
                .all(|a| kassa::domain::webhooks::is_internal(a.ip())),
        "{name} resolves to {resolved:?}: the test needs a name of this machine"
    );
    name
}

/// The endpoint's delivery attempts, once there are `count`, read with `key`.
async fn wait_for_attempts(server: &TestServer, key: &str, endpoint: &str, count: usize) -> Value {
    let path = format!("/v1/webhook_endpoints/{endpoint}/attempts?limit=100");
    for _ in 0..200 {
        let log = json_with_status(
            server
                .with_key(Method::GET, &path, key)
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        if log["data"].as_array().unwrap().len() >= count {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("expected {count} attempts for {endpoint}");
}

async fn test_endpoints_reach_internal_addresses_by_default(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let (receiver, port) = receiver_on_every_interface().await;
    let name = machine_name();
    let mut endpoints = Vec::new();
    for host in ["127.0.0.1", "localhost", name.as_str()] {
        let url = format!("http://{host}:{port}/webhooks");
        let created = endpoint(&server, &account, &url, "enabled_events[]=customer.created").await;
        endpoints.push(created["id"].as_str().unwrap().to_string());
    }
    customer(&server, &account, "Ada").await;
    let deliveries = receiver.wait_for(endpoints.len()).await;
    assert!(
        deliveries
            .iter()
            .all(|d| d.json()["type"] == "customer.created")
    );
    for id in &endpoints {
        let log = wait_for_attempts(&server, &account.test_key, id, 1).await;
        assert_eq!(log["data"][0]["status_code"], 200, "{log}");
    }
}

async fn test_private_deny_applies_the_live_rule_to_test_endpoints(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let server = TestServer::start_configured(database, |config| {
        config.webhooks_test_private = kassa::config::TestPrivate::Deny;
    })
    .await;
    let account = server.account("Acme").await;
    let refused = |response: Value, what: &str| {
        assert_eq!(
            response["error"]["code"], "url_invalid",
            "{what}: {response}"
        );
        assert_eq!(response["error"]["param"], "url", "{what}: {response}");
        let message = response["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("loopback, private or link-local"),
            "{what}: {message}"
        );
    };
    for url in [
        "http://127.0.0.1:3000/hooks",
        "http://localhost/hooks",
        "http://10.0.0.8/hooks",
        "http://169.254.169.254/latest",
        "http://[::1]/hooks",
        "http://2130706433/hooks",
    ] {
        let stripe = server
            .with_key(Method::POST, "/v1/webhook_endpoints", &account.test_key)
            .form(&[("url", url), ("enabled_events[]", "*")])
            .send()
            .await
            .unwrap();
        refused(json_with_status(stripe, 400).await, url);
        let v3 = server
            .with_key(Method::POST, "/api/v3/webhook-endpoints", &account.test_key)
            .json(&json!({"url": url, "enabled_events": ["*"]}))
            .send()
            .await
            .unwrap();
        refused(json_with_status(v3, 400).await, url);
    }
    // Nor may an endpoint be moved there.
    let public = endpoint(
        &server,
        &account,
        "https://shop.example/hooks",
        "enabled_events[]=checkout.session.completed",
    )
    .await;
    let moved = server
        .with_key(
            Method::POST,
            &format!("/v1/webhook_endpoints/{}", public["id"].as_str().unwrap()),
            &account.test_key,
        )
        .form(&[("url", "http://127.0.0.1:3000/hooks")])
        .send()
        .await
        .unwrap();
    refused(json_with_status(moved, 400).await, "update");

    // A name is checked where it resolves, at delivery: the attempt says why nothing was sent.
    let (receiver, port) = receiver_on_every_interface().await;
    let named = endpoint(
        &server,
        &account,
        &format!("http://{}:{port}/webhooks", machine_name()),
        "enabled_events[]=customer.created",
    )
    .await;
    customer(&server, &account, "Ada").await;
    let id = named["id"].as_str().unwrap();
    let log = wait_for_attempts(&server, &account.test_key, id, 1).await;
    assert_eq!(log["data"][0]["status_code"], Value::Null, "{log}");
    let error = log["data"][0]["error"].as_str().unwrap();
    assert!(error.contains("loopback, private or link-local"), "{error}");
    assert!(log["data"][0]["response_body"].is_null(), "{log}");
    assert!(
        receiver.received().is_empty(),
        "nothing reached the receiver"
    );
}

async fn the_serve_flag_denies_private_test_endpoints(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let (code, stdout, stderr) = crate::harness::kassa_command(&[
        "account",
        "create",
        "--name",
        "Shop",
        "--json",
        "--database-url",
        &database.url,
    ])
    .await;
    assert_eq!(code, 0, "{stderr}");
    let created: Value = serde_json::from_str(stdout.trim()).unwrap();
    let key = created["test_secret_key"].as_str().unwrap();
    let create = |base: String, url: &'static str| {
        let key = key.to_string();
        async move {
            reqwest::Client::new()
                .post(format!("{base}/v1/webhook_endpoints"))
                .bearer_auth(key)
                .form(&[("url", url), ("enabled_events[]", "*")])
                .send()
                .await
                .unwrap()
        }
    };
    let mut denying = KassaProcess::start_with_args(
        &database.url,
        "127.0.0.1:0",
        &["--webhooks-test-private", "deny"],
    )
    .await;
    let refused = json_with_status(
        create(denying.base.clone(), "http://127.0.0.1:3000/hooks").await,
        400,
    )
    .await;
    assert_eq!(refused["error"]["code"], "url_invalid");
    denying.signal("TERM");
    denying.wait().await;

    let mut allowing = KassaProcess::start_with_args(
        &database.url,
        "127.0.0.1:0",
        &["--webhooks-test-private", "allow"],
    )
    .await;
    json_with_status(
        create(allowing.base.clone(), "http://127.0.0.1:3000/hooks").await,
        200,
    )
    .await;
    allowing.signal("TERM");
    allowing.wait().await;

    let (code, _, stderr) =
        crate::harness::kassa_command(&["serve", "--webhooks-test-private", "sometimes"]).await;
    assert_ne!(code, 0);
    assert!(
        stderr.contains("allow") && stderr.contains("deny"),
        "{stderr}"
    );
    let (code, help, _) = crate::harness::kassa_command(&["serve", "--help"]).await;
    assert_eq!(code, 0);
    assert!(
        help.contains("--webhooks-test-private") && help.contains("KASSA_WEBHOOKS_TEST_PRIVATE"),
        "{help}"
    );
}

async fn endpoints_are_managed_on_both_surfaces(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let v3 = json_with_status(
        server
            .with_key(Method::POST, "/api/v3/webhook-endpoints", &account.test_key)
            .json(&json!({"url": "https://shop.example/hooks", "enabled_events": ["checkout.session.completed", "checkout.session.expired"], "metadata": {"team": "orders"}}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(v3["id"].as_str().unwrap().starts_with("we_"));
    assert!(v3["secret"].as_str().unwrap().starts_with("whsec_"));
    let id = v3["id"].as_str().unwrap();
    let path = format!("/v1/webhook_endpoints/{id}");
    let updated = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                &path,
                "enabled_events[]=*&description=&metadata[team]=&disabled=true",
            )
            .await,
        200,
    )
    .await;
    assert_eq!(updated["enabled_events"], json!(["*"]));
    assert_eq!(updated["metadata"], json!({}));
    assert_eq!(updated["status"], "disabled");
    let listed = json_with_status(
        server
            .with_key(Method::GET, "/api/v3/webhook-endpoints", &account.test_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(listed["data"][0]["id"], id);
    assert_eq!(listed["url"], "/api/v3/webhook-endpoints");

    for (body, param) in [
        ("enabled_events[]=*", "url"),
        ("url=ftp%3A%2F%2Fx.example&enabled_events[]=*", "url"),
        ("url=https%3A%2F%2Fx.example", "enabled_events"),
        (
            "url=https%3A%2F%2Fx.example&enabled_events[]=Not+A+Type",
            "enabled_events[0]",
        ),
    ] {
        let refused = json_with_status(
            server
                .form(&account, Method::POST, "/v1/webhook_endpoints", body)
                .await,
            400,
        )
        .await;
        assert_eq!(refused["error"]["param"], param, "{body}");
    }
    let deleted = json_with_status(
        server
            .with_key(Method::DELETE, &path, &account.test_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(deleted["deleted"], true);
    json_with_status(
        server
            .with_key(Method::GET, &path, &account.test_key)
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    // Another account sees nothing.
    let other = server.account("Globex").await;
    let response = server
        .with_key(Method::GET, "/v1/webhook_endpoints", &other.test_key)
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(response, 200).await["data"], json!([]));
}

async fn events_are_listed_filtered_and_resent(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let ada = customer(&server, &account, "Ada").await;
    json_with_status(
        server
            .form(
                &account,
                Method::POST,
                &format!("/v1/customers/{}", ada["id"].as_str().unwrap()),
                "email=ada%40example.com",
            )
            .await,
        200,
    )
    .await;
    customer(&server, &account, "Bo").await;
    let get = |path: String| {
        let request = server.with_key(Method::GET, &path, &account.test_key);
        async move { json_with_status(request.send().await.unwrap(), 200).await }
    };
    let all = get("/v1/events".into()).await;
    let types: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["customer.created", "customer.updated", "customer.created"]
    );
    assert_eq!(all["url"], "/v1/events");
    let created = get("/v1/events?type=customer.created".into()).await;
    assert_eq!(created["data"].as_array().unwrap().len(), 2);
    let prefixed = get("/v1/events?type=customer.*&limit=1".into()).await;
    assert_eq!(prefixed["has_more"], true);
    let next = get(format!(
        "/v1/events?type=customer.*&limit=5&starting_after={}",
        prefixed["data"][0]["id"].as_str().unwrap()
    ))
    .await;
    assert_eq!(next["data"].as_array().unwrap().len(), 2);
    let v3 = get("/api/v3/events?types[]=customer.updated".into()).await;
    assert_eq!(v3["data"][0]["data"]["object"]["email"], "ada@example.com");
    assert_eq!(v3["url"], "/api/v3/events");

    // Resend to an endpoint made later.
    let (receiver, url) = Receiver::start().await;
    let made = endpoint(&server, &account, &url, "enabled_events[]=customer.updated").await;
    let event_id = v3["data"][0]["id"].as_str().unwrap();
    let resent = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                &format!("/v1/events/{event_id}/resend"),
                "",
            )
            .await,
        200,
    )
    .await;
    assert_eq!(resent["queued"], 1);
    let delivered = receiver.wait_for(1).await;
    assert_eq!(delivered[0].json()["id"], event_id);
    assert!(verify(&delivered[0], made["secret"].as_str().unwrap()));

    let missing = server
        .with_key(Method::GET, "/v1/events/evt_nothere", &account.test_key)
        .send()
        .await
        .unwrap();
    json_with_status(missing, 404).await;
}

/// A receiver that takes `delay` to answer each request, then 200.
async fn slow_receiver(delay: Arc<Mutex<Duration>>) -> (Receiver, String) {
    let receiver = Receiver::default();
    let state = receiver.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let state = state.clone();
        let delay = delay.clone();
        async move {
            let wait = *delay.lock().unwrap();
            tokio::time::sleep(wait).await;
            state.received.lock().unwrap().push(Delivery {
                headers,
                body,
                status: 200,
            });
            StatusCode::OK
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (receiver, url)
}

async fn process_request(
    process: &KassaProcess,
    key: &str,
    path: &str,
    form: &[(&str, &str)],
) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", process.base))
        .bearer_auth(key)
        .form(form)
        .send()
        .await
        .unwrap();
    json_with_status(response, 200).await
}

/// The distinct event ids a receiver got with a 2xx.
fn delivered_events(receiver: &Receiver) -> std::collections::BTreeSet<String> {
    receiver
        .received()
        .iter()
        .filter(|d| d.status == 200)
        .map(|d| d.json()["id"].as_str().unwrap().to_string())
        .collect()
}

async fn kill_9_while_delivering_loses_nothing(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let mut first = KassaProcess::start(&database.url).await;
    let key = first.banner_value("test key").await.unwrap();
    let delay = Arc::new(Mutex::new(Duration::from_secs(3)));
    let (receiver, url) = slow_receiver(delay.clone()).await;
    let endpoint = process_request(
        &first,
        &key,
        "/v1/webhook_endpoints",
        &[
            ("url", url.as_str()),
            ("enabled_events[]", "customer.created"),
        ],
    )
    .await;
    let secret = endpoint["secret"].as_str().unwrap().to_string();
    let mut events = Vec::new();
    for i in 0..40 {
        let name = format!("Customer {i}");
        let customer =
            process_request(&first, &key, "/v1/customers", &[("name", name.as_str())]).await;
        events.push(customer["id"].as_str().unwrap().to_string());
    }
    // Attempts are in flight (the receiver takes 3 s each): kill the process in the middle.
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.signal("KILL");
    first.wait().await;
    assert!(
        receiver.received().is_empty(),
        "killed before any attempt finished"
    );

    *delay.lock().unwrap() = Duration::ZERO;
    let second = KassaProcess::start(&database.url).await;
    // The claimed deliveries come back when their lease ends (30 s).
    for _ in 0..900 {
        if delivered_events(&receiver).len() == 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivered = receiver.received();
    let objects: std::collections::BTreeSet<String> = delivered
        .iter()
        .map(|d| {
            d.json()["data"]["object"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        objects,
        events.into_iter().collect(),
        "every event delivered after the crash"
    );
    assert!(delivered.iter().all(|d| verify(d, &secret)));
    drop(second);
}

async fn two_processes_attempt_each_delivery_once(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let first = KassaProcess::start(&database.url).await;
    let key = first.banner_value("test key").await.unwrap();
    let second = KassaProcess::start(&database.url).await;
    let (receiver, url) = Receiver::start().await;
    process_request(
        &first,
        &key,
        "/v1/webhook_endpoints",
        &[("url", url.as_str()), ("enabled_events[]", "*")],
    )
    .await;
    for i in 0..100 {
        let process = if i % 2 == 0 { &first } else { &second };
        let name = format!("Customer {i}");
        process_request(process, &key, "/v1/customers", &[("name", name.as_str())]).await;
    }
    receiver.wait_for(100).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        receiver.received().len(),
        100,
        "no delivery attempted twice"
    );
    assert_eq!(delivered_events(&receiver).len(), 100);
    let db = database.open().await;
    let (attempts,): (i64,) = db
        .fetch_one("SELECT COUNT(*) FROM webhook_attempts", &[])
        .await
        .unwrap();
    assert_eq!(attempts, 100);
}

async fn catalog_changes_write_their_events_with_the_request(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let created = server
        .with_key(Method::POST, "/v1/products", &account.test_key)
        .header("idempotency-key", "create-mug-1")
        .form(&[
            ("name", "Mug"),
            ("default_price_data[currency]", "usd"),
            ("default_price_data[unit_amount]", "1200"),
        ])
        .send()
        .await
        .unwrap();
    let request_id = created.headers()["request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let product = json_with_status(created, 200).await;
    let product_id = product["id"].as_str().unwrap();
    let price_id = product["default_price"].as_str().unwrap();
    let path = format!("/v1/products/{product_id}");
    json_with_status(
        server
            .form(&account, Method::POST, &path, "description=Stoneware")
            .await,
        200,
    )
    .await;
    json_with_status(
        server
            .form(
                &account,
                Method::POST,
                &format!("/v1/prices/{price_id}"),
                "nickname=Standard",
            )
            .await,
        200,
    )
    .await;
    let link = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/payment_links",
                &format!("line_items[0][price]={price_id}&line_items[0][quantity]=1"),
            )
            .await,
        200,
    )
    .await;
    json_with_status(
        server
            .form(
                &account,
                Method::POST,
                &format!("/v1/payment_links/{}", link["id"].as_str().unwrap()),
                "active=false",
            )
            .await,
        200,
    )
    .await;
    let bare = json_with_status(
        server
            .form(&account, Method::POST, "/v1/products", "name=Sample")
            .await,
        200,
    )
    .await;
    json_with_status(
        server
            .with_key(
                Method::DELETE,
                &format!("/v1/products/{}", bare["id"].as_str().unwrap()),
                &account.test_key,
            )
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;

    let events = json_with_status(
        server
            .with_key(Method::GET, "/v1/events?limit=20", &account.test_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let mut types: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    types.reverse();
    assert_eq!(
        types,
        [
            "product.created",
            "price.created",
            "product.updated",
            "price.updated",
            "payment_link.created",
            "payment_link.updated",
            "product.created",
            "product.deleted",
        ]
    );
    let oldest = &events["data"][7];
    assert_eq!(oldest["data"]["object"]["id"], product_id);
    assert_eq!(oldest["request"]["id"], request_id.as_str());
    assert_eq!(oldest["request"]["idempotency_key"], "create-mug-1");
    assert_eq!(events["data"][2]["data"]["object"]["active"], false);
    assert_eq!(events["data"][4]["data"]["object"]["nickname"], "Standard");
}

async fn kassa_listen_forwards_events_across_a_server_restart(engine: Engine) {
    use tokio::io::AsyncBufReadExt;
    let database = TestDatabase::new(engine).await;
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let mut server = KassaProcess::start_at(&database.url, &addr).await;
    let key = server.banner_value("test key").await.unwrap();
    let (receiver, url) = Receiver::start().await;
    let mut listen = tokio::process::Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args([
            "listen",
            "--forward-to",
            &url,
            "--server",
            &server.base,
            "--events",
            "customer.*",
        ])
        .env("KASSA_API_KEY", &key)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(listen.stdout.take().unwrap()).lines();
    let secret = loop {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("kassa listen prints its secret")
            .unwrap()
            .expect("kassa listen is running");
        if let Some(rest) = line.strip_prefix("Your webhook signing secret is ") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let printed = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = printed.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });

    let made = process_request(&server, &key, "/v1/customers", &[("name", "Ada")]).await;
    // Not forwarded: another type.
    process_request(&server, &key, "/v1/products", &[("name", "Mug")]).await;
    let first = receiver.wait_for(1).await;
    assert!(verify(&first[0], &secret), "signed with the printed secret");
    assert_eq!(first[0].json()["data"]["object"]["id"], made["id"]);

    // The server stops; an event is written meanwhile; the server comes back on its address.
    server.signal("TERM");
    server.wait().await;
    let db = database.open().await;
    let caller = kassa_caller(&db, &key).await;
    let meanwhile = kassa::domain::customers::create_customer(
        &db,
        &caller,
        Default::default(),
        kassa::clock::Clock::now(&kassa::clock::SystemClock),
    )
    .await
    .unwrap();
    let _server = KassaProcess::start_at(&database.url, &addr).await;
    let delivered = receiver.wait_for(2).await;
    assert_eq!(
        delivered[1].json()["data"]["object"]["id"],
        meanwhile.id.as_str()
    );
    assert!(verify(&delivered[1], &secret));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver.received().len(),
        2,
        "each event once; the product's not at all"
    );
    let printed = printed.lock().unwrap().join("\n");
    assert!(printed.contains("--> customer.created"), "{printed}");
    assert!(printed.contains("<--  [200] POST"), "{printed}");
    listen.kill().await.unwrap();
}

/// `kassa listen` that cannot start says which server it tried and why: nothing listens there,
/// another program does, or kassa refused the key (in kassa's words).
async fn kassa_listen_says_which_server_failed_and_why(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let (_receiver, forward_to) = Receiver::start().await;
    let listen = |server: String, key: String| {
        let forward_to = forward_to.clone();
        async move {
            let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_kassa"))
                .args(["listen", "--forward-to", &forward_to, "--server", &server])
                .env("KASSA_API_KEY", &key)
                .output();
            let output = tokio::time::timeout(Duration::from_secs(30), output)
                .await
                .expect("kassa listen gives up")
                .unwrap();
            assert_eq!(output.status.code(), Some(1), "{output:?}");
            String::from_utf8(output.stderr).unwrap()
        }
    };

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let said = listen(closed.clone(), account.test_key.clone()).await;
    assert!(
        said.contains(&format!(
            "cannot reach the kassa server at {closed}: Connection refused"
        )),
        "{said}"
    );

    let (other, other_url) = Receiver::start().await;
    let other = {
        other.answers.lock().unwrap().push_back(401);
        other_url.trim_end_matches("/webhooks").to_string()
    };
    for status in ["401 Unauthorized", "200 OK"] {
        let said = listen(other.clone(), account.test_key.clone()).await;
        assert!(
            said.contains(&format!(
                "the server at {other} does not seem to be a kassa server: its answer ({status})"
            )),
            "{said}"
        );
    }

    let said = listen(server.base.clone(), "sk_test_invalid".into()).await;
    assert!(
        said.contains(&format!(
            "the kassa server at {} refused the API key: Invalid API Key provided",
            server.base
        )) && said.contains("--api-key"),
        "{said}"
    );
    let key = kassa_caller(&server.db, &account.test_key).await.key_id;
    kassa::domain::accounts::revoke_key(&server.db, &key, kassa::clock::Clock::now(&server.clock))
        .await
        .unwrap();
    let said = listen(server.base.clone(), account.test_key.clone()).await;
    assert!(
        said.contains(&format!(
            "the kassa server at {} refused the API key: This API key has been revoked",
            server.base
        )),
        "{said}"
    );
}

/// The test-mode caller a secret key stands for.
async fn kassa_caller(db: &kassa::store::Db, key: &str) -> kassa::domain::accounts::Caller {
    kassa::domain::accounts::authenticate(db, key, 0)
        .await
        .unwrap()
}

async fn checkout_session_canceled_is_refused_with_its_replacement(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let refused = server
        .form(
            &account,
            Method::POST,
            "/v1/webhook_endpoints",
            "url=https%3A%2F%2Fshop.example%2Fhooks&enabled_events[]=checkout.session.completed\
             &enabled_events[]=checkout.session.canceled",
        )
        .await;
    let refused = json_with_status(refused, 400).await;
    assert_eq!(refused["error"]["param"], "enabled_events[1]");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("sends checkout.session.expired; use checkout.session.expired instead"),
        "{message}"
    );
    let v3 = server
        .with_key(Method::POST, "/api/v3/webhook-endpoints", &account.test_key)
        .json(&json!({"url": "https://shop.example/hooks", "enabled_events": ["checkout.session.canceled"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(v3, 400).await["error"]["param"],
        "enabled_events[0]"
    );
    let made = endpoint(
        &server,
        &account,
        "https://shop.example/hooks",
        "enabled_events[]=checkout.session.expired",
    )
    .await;
    let path = format!("/v1/webhook_endpoints/{}", made["id"].as_str().unwrap());
    let update = server
        .form(
            &account,
            Method::POST,
            &path,
            "enabled_events[]=*&enabled_events[]=checkout.session.canceled",
        )
        .await;
    assert_eq!(
        json_with_status(update, 400).await["error"]["param"],
        "enabled_events[1]"
    );
    let kept = json_with_status(
        server
            .with_key(Method::GET, &path, &account.test_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(kept["enabled_events"], json!(["checkout.session.expired"]));
}
