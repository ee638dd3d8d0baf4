//! Checkout sessions on the Loops V3 surface: creation rules, amounts, lifecycle and lists.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Engine, TestAccount, TestServer, json_with_status, on_both_engines};

on_both_engines!(
    the_seed_example_returns_every_seed_field,
    product_sessions_compute_amounts_and_names,
    session_rules_name_the_parameter,
    overdue_sessions_expire_on_read_with_one_event,
    expire_works_from_open_only,
    concurrent_sweeps_expire_each_session_once,
    lists_filter_by_status_in_every_vocabulary_and_page_by_cursor,
    sessions_of_other_accounts_and_modes_are_not_found,
    v1_sessions_come_from_payment_links,
    v2_sessions_create_update_and_list,
    one_session_reads_the_same_on_every_surface,
    each_payment_link_visit_starts_a_fresh_session,
    paying_and_expiring_race_and_exactly_one_wins,
    two_payments_of_one_session_complete_it_once,
    offset_and_backward_paging_see_every_session_once,
);

async fn product(server: &TestServer, key: &str, body: Value) -> Value {
    let response = server
        .with_key(Method::POST, "/api/v3/products", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    json_with_status(response, 200).await
}

async fn create(server: &TestServer, key: &str, body: Value) -> reqwest::Response {
    server
        .with_key(Method::POST, "/api/v3/checkout/sessions", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn pro(server: &TestServer, account: &TestAccount) -> Value {
    product(
        server,
        &account.test_key,
        json!({"name": "Pro", "priceAmount": 29.99, "priceCurrency": "usd", "amountType": "FIXED"}),
    )
    .await
}

async fn the_seed_example_returns_every_seed_field(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let pro = pro(&server, &account).await;
    let body = json!({
        "line_items": [{"price": pro["default_price"], "quantity": 2, "adjustable_quantity": {"enabled": true, "minimum": 2, "maximum": 5}}],
        "mode": "payment",
        "success_url": "https://shop.example/success?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/cancel",
        "payment_method_types": ["card"],
        "customer": "cus_123",
        "customer_email": "jsmith@example.com",
        "client_reference_id": "order-42",
        "metadata": {"order": "42"},
        "externalCustomerId": "user-7",
    });
    let session = json_with_status(create(&server, &account.test_key, body).await, 200).await;
    let id = session["id"].as_str().unwrap();
    assert!(id.starts_with("cs_test_") && id.len() >= 8 + 30, "{id}");
    let expected_types = [
        ("object", "string"),
        ("amount_subtotal", "integer"),
        ("amount_total", "integer"),
        ("automatic_tax", "object"),
        ("cancel_url", "string"),
        ("client_reference_id", "string"),
        ("currency", "string"),
        ("customer", "string"),
        ("customer_email", "string"),
        ("expires_at", "integer"),
        ("livemode", "boolean"),
        ("metadata", "object"),
        ("mode", "string"),
        ("payment_method_types", "array"),
        ("payment_status", "string"),
        ("success_url", "string"),
        ("total_details", "object"),
        ("url", "string"),
        ("productName", "string"),
        ("externalCustomerId", "string"),
        ("status", "string"),
        ("created", "integer"),
    ];
    for (field, kind) in expected_types {
        let value = &session[field];
        let actual = match value {
            Value::String(_) => "string",
            Value::Number(n) if n.is_i64() => "integer",
            Value::Object(_) => "object",
            Value::Array(_) => "array",
            Value::Bool(_) => "boolean",
            _ => "other",
        };
        assert_eq!(actual, kind, "{field} = {value}");
    }
    for field in [
        "billing_address_collection",
        "locale",
        "payment_intent",
        "setup_intent",
        "shipping",
        "submit_type",
    ] {
        assert!(
            session.as_object().unwrap().contains_key(field),
            "{field} is missing"
        );
    }
    assert_eq!(session["object"], "checkout.session");
    assert_eq!(session["amount_subtotal"], 5998);
    assert_eq!(session["amount_total"], 5998);
    assert_eq!(session["currency"], "usd");
    assert_eq!(session["payment_status"], "unpaid");
    assert_eq!(session["status"], "open");
    assert_eq!(session["productName"], "Pro");
    assert_eq!(session["url"], format!("{}/checkout/{id}", server.base));
    assert_eq!(
        session["total_details"],
        json!({"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0})
    );
    let created = session["created"].as_i64().unwrap();
    assert_eq!(
        session["expires_at"].as_i64().unwrap(),
        created + 3600,
        "one hour by default"
    );

    let items = server
        .with_key(
            Method::GET,
            &format!("/api/v3/checkout/sessions/{id}/line_items"),
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    let items = json_with_status(items, 200).await;
    assert_eq!(items["data"][0]["quantity"], 2);
    assert_eq!(items["data"][0]["price"]["unit_amount"], 2999);
    assert_eq!(
        items["data"][0]["adjustable_quantity"],
        json!({"enabled": true, "maximum": 5, "minimum": 2})
    );

    let expanded = server
        .with_key(
            Method::GET,
            &format!("/api/v3/checkout/sessions/{id}?expand[]=line_items"),
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(expanded, 200).await["line_items"]["data"][0]["amount_total"],
        5998
    );
}

async fn product_sessions_compute_amounts_and_names(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let pro = pro(&server, &account).await;
    let session = create(
        &server,
        &account.test_key,
        json!({"productId": pro["id"], "quantity": 3}),
    )
    .await;
    let session = json_with_status(session, 200).await;
    assert_eq!(session["amount_total"], 8997);
    assert_eq!(session["mode"], "payment");

    let yen = product(
        &server,
        &account.test_key,
        json!({"name": "Tea", "priceAmount": "500", "priceCurrency": "jpy"}),
    )
    .await;
    let session = json_with_status(
        create(&server, &account.test_key, json!({"productId": yen["id"]})).await,
        200,
    )
    .await;
    assert_eq!(
        (
            session["amount_total"].as_i64(),
            session["currency"].as_str()
        ),
        (Some(500), Some("jpy"))
    );

    let free = product(
        &server,
        &account.test_key,
        json!({"name": "Sample", "amountType": "FREE"}),
    )
    .await;
    let session = json_with_status(
        create(&server, &account.test_key, json!({"productId": free["id"]})).await,
        200,
    )
    .await;
    assert_eq!(session["payment_status"], "no_payment_required");
    assert_eq!(session["amount_total"], 0);

    let monthly = product(
        &server,
        &account.test_key,
        json!({"name": "Club", "priceAmount": 9, "recurringInterval": "month"}),
    )
    .await;
    let session = json_with_status(
        create(
            &server,
            &account.test_key,
            json!({"productId": monthly["id"]}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(session["mode"], "subscription");

    let both =
        json!({"line_items": [{"price": pro["default_price"]}, {"price": yen["default_price"]}]});
    let mixed = json_with_status(create(&server, &account.test_key, both).await, 400).await;
    assert_eq!(mixed["error"]["param"], "line_items[1][price]");

    let two = json!({"line_items": [{"price": pro["default_price"]}, {"price": pro["default_price"], "quantity": 2}]});
    let session = json_with_status(create(&server, &account.test_key, two).await, 200).await;
    assert_eq!(session["productName"], "Pro and 1 more");
    assert_eq!(session["amount_total"], 8997);

    let setup = json_with_status(
        create(&server, &account.test_key, json!({"mode": "setup"})).await,
        200,
    )
    .await;
    assert_eq!(setup["payment_status"], "no_payment_required");
}

async fn session_rules_name_the_parameter(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let pro = pro(&server, &account).await;
    let monthly = product(
        &server,
        &account.test_key,
        json!({"name": "Club", "priceAmount": 9, "recurringInterval": "month"}),
    )
    .await;
    let archived = product(
        &server,
        &account.test_key,
        json!({"name": "Old", "priceAmount": 5}),
    )
    .await;
    let archive = server
        .with_key(
            Method::DELETE,
            &format!("/api/v3/products/{}", archived["id"].as_str().unwrap()),
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(archive.status(), 200);
    let now = kassa::clock::Clock::now(&server.clock);
    let price = pro["default_price"].clone();
    let cases = [
        (json!({}), "line_items"),
        (
            json!({"productId": pro["id"], "line_items": [{"price": price}]}),
            "productId",
        ),
        (json!({"productId": pro["id"], "quantity": 0}), "quantity"),
        (
            json!({"productId": pro["id"], "quantity": 1001}),
            "quantity",
        ),
        (
            json!({"line_items": [{"price": price, "quantity": 1001}]}),
            "line_items[0][quantity]",
        ),
        (
            json!({"line_items": [{"price": price, "quantity": 1, "adjustable_quantity": {"enabled": true, "minimum": 0}}]}),
            "line_items[0][adjustable_quantity][minimum]",
        ),
        (
            json!({"line_items": [{"price": price, "adjustable_quantity": {"enabled": true, "minimum": 2, "maximum": 1}}]}),
            "line_items[0][adjustable_quantity][maximum]",
        ),
        (
            json!({"line_items": [{"price": "price_nope"}]}),
            "line_items[0][price]",
        ),
        (
            json!({"line_items": [{"price": monthly["default_price"]}], "mode": "payment"}),
            "line_items[0][price]",
        ),
        (
            json!({"line_items": [{"price": price}], "mode": "subscription"}),
            "mode",
        ),
        (
            json!({"line_items": [{"price": price}], "mode": "donate"}),
            "mode",
        ),
        (json!({"productId": archived["id"]}), "productId"),
        (
            json!({"productId": pro["id"], "success_url": "/relative"}),
            "success_url",
        ),
        (
            json!({"productId": pro["id"], "cancel_url": "ftp://x.example"}),
            "cancel_url",
        ),
        (
            json!({"productId": pro["id"], "customer_email": "not-an-email"}),
            "customer_email",
        ),
        (
            json!({"productId": pro["id"], "expires_at": now + 60}),
            "expires_at",
        ),
        (
            json!({"productId": pro["id"], "expires_at": now + 25 * 3600}),
            "expires_at",
        ),
        (
            json!({"productId": pro["id"], "payment_method_types": ["bitcoin"]}),
            "payment_method_types[0]",
        ),
        (
            json!({"productId": pro["id"], "metadata": {"k": "v".repeat(501)}}),
            "metadata[k]",
        ),
    ];
    for (body, param) in cases {
        let response = create(&server, &account.test_key, body.clone()).await;
        let error = json_with_status(response, 400).await;
        assert_eq!(error["error"]["param"], param, "{body}: {error}");
    }
    let unknown_product = create(
        &server,
        &account.test_key,
        json!({"productId": "prod_nope"}),
    )
    .await;
    let error = json_with_status(unknown_product, 400).await;
    assert_eq!(error["error"]["code"], "resource_missing");
    assert_eq!(error["error"]["param"], "productId");
    assert_eq!(error["error"]["message"], "No such product: 'prod_nope'");
    let chosen = create(
        &server,
        &account.test_key,
        json!({"productId": pro["id"], "expires_at": now + 7200}),
    )
    .await;
    assert_eq!(
        json_with_status(chosen, 200).await["expires_at"],
        now + 7200
    );
}

async fn overdue_sessions_expire_on_read_with_one_event(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let pro = pro(&server, &account).await;
    let session = json_with_status(
        create(&server, &account.test_key, json!({"productId": pro["id"]})).await,
        200,
    )
    .await;
    let id = session["id"].as_str().unwrap().to_string();
    let path = format!("/api/v3/checkout/sessions/{id}");

    server.clock.advance(3599);
    let read = json_with_status(
        server
            .with_key(Method::GET, &path, &account.test_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(read["status"], "open");

    server.clock.advance(1);
    for _ in 0..3 {
        let read = json_with_status(
            server
                .with_key(Method::GET, &path, &account.test_key)
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        assert_eq!(read["status"], "expired");
        assert_eq!(read["url"], Value::Null);
    }
    let caller = account.caller(false);
    let events = kassa::store::events::events_for_object(&server.db, &caller, &id)
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "one transition, one event");
    assert_eq!(events[0].kind, "checkout.session.expired");
    assert_eq!(events[0].object["status"], "expired");
    assert_eq!(events[0].envelope()["data"]["object"]["id"], id.as_str());
}

async fn expire_works_from_open_only(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let pro = pro(&server, &account).await;
    let session = json_with_status(
        create(&server, &account.test_key, json!({"productId": pro["id"]})).await,
        200,
    )
    .await;
    let path = format!(
        "/api/v3/checkout/sessions/{}/expire",
        session["id"].as_str().unwrap()
    );
    let expired = json_with_status(
        server
            .with_key(Method::POST, &path, &account.test_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(expired["status"], "expired");
    let again = json_with_status(
        server
            .with_key(Method::POST, &path, &account.test_key)
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    assert_eq!(again["error"]["code"], "checkout_session_not_open");
    let missing = server
        .with_key(
            Method::POST,
            "/api/v3/checkout/sessions/cs_test_nope/expire",
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(missing, 404).await["error"]["message"],
        "No such checkout.session: 'cs_test_nope'"
    );
}

async fn concurrent_sweeps_expire_each_session_once(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let pro = pro(&server, &account).await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        let session = json_with_status(
            create(&server, &account.test_key, json!({"productId": pro["id"]})).await,
            200,
        )
        .await;
        ids.push(session["id"].as_str().unwrap().to_string());
    }
    let later = kassa::clock::Clock::now(&server.clock) + 3601;
    let sweep =
        || kassa::domain::checkout::expire_overdue(&server.db, later, "http://kassa.test", 500);
    let (a, b, c) = tokio::join!(sweep(), sweep(), sweep());
    assert_eq!(
        a.unwrap() + b.unwrap() + c.unwrap(),
        20,
        "each session expired by exactly one sweep"
    );
    // The running totals behind the Loops `total` moved with every transition, once.
    for (status, total) in [("EXPIRED", 20), ("PENDING", 0), ("COMPLETED", 0)] {
        let path = format!("/api/v1/checkout/sessions?status={status}");
        let listed = server
            .with_key(Method::GET, &path, &account.test_key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            json_with_status(listed, 200).await["total"],
            total,
            "{status}"
        );
    }
    let caller = account.caller(false);
    for id in ids {
        let events = kassa::store::events::events_for_object(&server.db, &caller, &id)
            .await
            .unwrap();
        assert_eq!(events.len(), 1, "{id}");
    }
}

async fn lists_filter_by_status_in_every_vocabulary_and_page_by_cursor(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let pro = pro(&server, &account).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let customer = if i % 2 == 0 { "even" } else { "odd" };
        let body = json!({"productId": pro["id"], "externalCustomerId": customer});
        let session = json_with_status(create(&server, &account.test_key, body).await, 200).await;
        ids.push(session["id"].as_str().unwrap().to_string());
    }
    for id in &ids[..3] {
        let path = format!("/api/v3/checkout/sessions/{id}/expire");
        assert_eq!(
            server
                .with_key(Method::POST, &path, &account.test_key)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let list = |query: String| {
        let request = server.with_key(
            Method::GET,
            &format!("/api/v3/checkout/sessions?{query}"),
            &account.test_key,
        );
        async move { json_with_status(request.send().await.unwrap(), 200).await }
    };
    for word in ["open", "PENDING", "pending", "Open"] {
        assert_eq!(
            list(format!("status={word}&limit=100")).await["data"]
                .as_array()
                .unwrap()
                .len(),
            9,
            "{word}"
        );
    }
    for word in ["expired", "EXPIRED"] {
        assert_eq!(
            list(format!("status={word}")).await["data"]
                .as_array()
                .unwrap()
                .len(),
            3,
            "{word}"
        );
    }
    for word in ["complete", "COMPLETED", "cancelled", "CANCELED", "failed"] {
        assert_eq!(
            list(format!("status={word}")).await["data"]
                .as_array()
                .unwrap()
                .len(),
            0,
            "{word}"
        );
    }
    let bad = server
        .with_key(
            Method::GET,
            "/api/v3/checkout/sessions?status=paid",
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(bad, 400).await["error"]["param"], "status");
    let evens = list("externalCustomerId=even".into()).await;
    assert_eq!(evens["data"].as_array().unwrap().len(), 6);

    // Cursor paging, newest first, while new sessions keep arriving.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("limit=5&cursor={c}"),
            None => "limit=5".to_string(),
        };
        let page = list(query).await;
        let data = page["data"].as_array().unwrap();
        seen.extend(data.iter().map(|s| s["id"].as_str().unwrap().to_string()));
        json_with_status(
            create(&server, &account.test_key, json!({"productId": pro["id"]})).await,
            200,
        )
        .await;
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        cursor = seen.last().cloned();
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected, "every session exactly once, newest first");
    assert_eq!(
        list("limit=1".into()).await["url"],
        "/api/v3/checkout/sessions"
    );
}

async fn sessions_of_other_accounts_and_modes_are_not_found(engine: Engine) {
    let server = TestServer::start(engine).await;
    let acme = server.account("Acme").await;
    let globex = server.account("Globex").await;
    let pro = pro(&server, &acme).await;
    let session = json_with_status(
        create(&server, &acme.test_key, json!({"productId": pro["id"]})).await,
        200,
    )
    .await;
    let path = format!(
        "/api/v3/checkout/sessions/{}",
        session["id"].as_str().unwrap()
    );
    for key in [&globex.test_key, &acme.live_key] {
        let response = server
            .with_key(Method::GET, &path, key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            json_with_status(response, 404).await["error"]["code"],
            "resource_missing"
        );
        let expire = server
            .with_key(Method::POST, &format!("{path}/expire"), key)
            .send()
            .await
            .unwrap();
        assert_eq!(expire.status(), 404);
        let listed = server
            .with_key(Method::GET, "/api/v3/checkout/sessions", key)
            .send()
            .await
            .unwrap();
        assert_eq!(json_with_status(listed, 200).await["data"], json!([]));
    }
    // Another account's product cannot be sold either: it names nothing, as an unknown id.
    let response = create(&server, &globex.test_key, json!({"productId": pro["id"]})).await;
    let error = json_with_status(response, 400).await;
    assert_eq!(error["error"]["code"], "resource_missing");
    assert_eq!(error["error"]["param"], "productId");
}

async fn link(server: &TestServer, account: &TestAccount, body: Value) -> Value {
    let response = server
        .with_key(Method::POST, "/api/v3/payment-links", &account.test_key)
        .json(&body)
        .send()
        .await
        .unwrap();
    json_with_status(response, 200).await
}

async fn v1_sessions_come_from_payment_links(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let pro = pro(&server, &account).await;
    let link = link(
        &server,
        &account,
        json!({"productIds": [pro["id"]], "successUrl": "https://shop.example/thanks", "metadata": {"campaign": "fall", "source": "link"}}),
    )
    .await;
    let body = json!({"paymentLinkId": link["id"], "externalCustomerId": "user-1", "metadata": {"source": "api"}});
    let response = server
        .with_key(Method::POST, "/api/v1/checkout/sessions", &account.test_key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let session = json_with_status(response, 200).await;
    assert_eq!(session["status"], "PENDING");
    assert_eq!(session["amount"], json!(29.99));
    assert_eq!(session["currency"], "USD");
    assert_eq!(session["productName"], "Pro");
    assert_eq!(session["externalCustomerId"], "user-1");
    assert_eq!(
        session["metadata"],
        json!({"campaign": "fall", "source": "api"})
    );
    assert_eq!(session["paymentLinkId"], link["id"]);
    assert!(session["createdAt"].as_str().unwrap().ends_with('Z'));
    let id = session["id"].as_str().unwrap();
    assert_eq!(session["url"], format!("{}/checkout/{id}", server.base));
    // The link's redirect travels with the session.
    let v3 = server
        .with_key(
            Method::GET,
            &format!("/api/v3/checkout/sessions/{id}"),
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    let v3 = json_with_status(v3, 200).await;
    assert_eq!(v3["success_url"], "https://shop.example/thanks");
    assert_eq!(v3["payment_link"], link["id"]);

    let unknown = json!({"paymentLinkId": "pl_nope"});
    let response = server
        .with_key(Method::POST, "/api/v1/checkout/sessions", &account.test_key)
        .json(&unknown)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(response, 404).await,
        json!({"statusCode": 404, "error": "Not Found", "message": "Payment link not found", "code": "resource_missing", "param": "id"})
    );
    let response = server
        .with_key(Method::POST, "/api/v1/checkout/sessions", &account.test_key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let missing = json_with_status(response, 400).await;
    assert_eq!(
        (missing["statusCode"].as_i64(), missing["param"].as_str()),
        (Some(400), Some("paymentLinkId"))
    );
    let by_product = json!({"productId": pro["id"]});
    let response = server
        .with_key(Method::POST, "/api/v1/checkout/sessions", &account.test_key)
        .json(&by_product)
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(response, 400).await["param"], "productId");

    let deactivate = server
        .with_key(
            Method::PUT,
            &format!("/api/v3/payment-links/{}", link["id"].as_str().unwrap()),
            &account.test_key,
        )
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(deactivate.status(), 200);
    let response = server
        .with_key(Method::POST, "/api/v1/checkout/sessions", &account.test_key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let inactive = json_with_status(response, 400).await;
    assert_eq!(inactive["param"], "paymentLinkId");
    assert!(
        inactive["message"]
            .as_str()
            .unwrap()
            .contains("no longer active"),
        "{inactive}"
    );

    let listed = server
        .with_key(
            Method::GET,
            "/api/v1/checkout/sessions?status=PENDING",
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    let listed = json_with_status(listed, 200).await;
    assert_eq!(
        (
            listed["total"].as_i64(),
            listed["limit"].as_i64(),
            listed["offset"].as_i64()
        ),
        (Some(1), Some(50), Some(0))
    );
    assert_eq!(listed["sessions"][0]["id"], id);
}

async fn v2_sessions_create_update_and_list(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let pro = pro(&server, &account).await;
    let now = kassa::clock::Clock::now(&server.clock);
    let expires = time::OffsetDateTime::from_unix_timestamp(now + 7200).unwrap();
    let expires = expires
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let body = json!({"productId": pro["id"], "quantity": 2, "successUrl": "https://shop.example/ok", "expiresAt": expires});
    let response = server
        .with_key(Method::POST, "/api/v2/checkout/sessions", &account.test_key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let session = json_with_status(response, 200).await;
    assert_eq!(session["amount"], json!(59.98));
    assert_eq!(session["pricingType"], "ONE_TIME");
    assert_eq!(session["successUrl"], "https://shop.example/ok");
    assert_eq!(session["allowedPaymentMethods"], json!(["card"]));
    assert_eq!(session["expiresAt"], expires);
    let path = format!(
        "/api/v2/checkout/sessions/{}",
        session["id"].as_str().unwrap()
    );

    let both = json!({"productId": pro["id"], "paymentLinkId": "pl_x"});
    let response = server
        .with_key(Method::POST, "/api/v2/checkout/sessions", &account.test_key)
        .json(&both)
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(response, 400).await["param"], "productId");
    let bad_time = json!({"productId": pro["id"], "expiresAt": "tomorrow"});
    let response = server
        .with_key(Method::POST, "/api/v2/checkout/sessions", &account.test_key)
        .json(&bad_time)
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(response, 400).await["param"], "expiresAt");

    let update = json!({"amount": 12.5, "productName": "Pro (discounted)", "metadata": {"note": "vip"}, "productDescription": "Yearly"});
    let updated = server
        .with_key(Method::PUT, &path, &account.test_key)
        .json(&update)
        .send()
        .await
        .unwrap();
    let updated = json_with_status(updated, 200).await;
    assert_eq!(updated["amount"], json!(12.5));
    assert_eq!(updated["productName"], "Pro (discounted)");
    assert_eq!(updated["productDescription"], "Yearly");
    assert_eq!(updated["metadata"], json!({"note": "vip"}));
    let v3 = server
        .with_key(
            Method::GET,
            &format!(
                "/api/v3/checkout/sessions/{}?expand[]=line_items",
                updated["id"].as_str().unwrap()
            ),
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    let v3 = json_with_status(v3, 200).await;
    assert_eq!(v3["amount_total"], 1250);
    assert_eq!(
        v3["line_items"]["data"][0]["amount_total"], 1250,
        "the lines agree with the total"
    );

    for (body, param) in [
        (json!({"amount": 0}), "amount"),
        (json!({"amount": 1.234}), "amount"),
        (json!({"productName": "x".repeat(201)}), "productName"),
        (json!({"pricingType": "RECURRING"}), "pricingType"),
        (json!({"successUrl": "nope"}), "successUrl"),
    ] {
        let response = server
            .with_key(Method::PUT, &path, &account.test_key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            json_with_status(response, 400).await["param"],
            param,
            "{body}"
        );
    }

    let expire = server
        .with_key(Method::POST, &format!("{path}/expire"), &account.test_key)
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(expire, 200).await["status"], "EXPIRED");
    let late = server
        .with_key(Method::PUT, &path, &account.test_key)
        .json(&json!({"productName": "Late"}))
        .send()
        .await
        .unwrap();
    let late = json_with_status(late, 409).await;
    assert_eq!(
        (late["statusCode"].as_i64(), late["code"].as_str()),
        (Some(409), Some("checkout_session_not_open"))
    );

    for _ in 0..4 {
        let response = server
            .with_key(Method::POST, "/api/v2/checkout/sessions", &account.test_key)
            .json(&json!({"productId": pro["id"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let page = server
        .with_key(
            Method::GET,
            "/api/v2/checkout/sessions?limit=2&offset=1&status=pending",
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    let page = json_with_status(page, 200).await;
    assert_eq!(
        (
            page["total"].as_i64(),
            page["limit"].as_i64(),
            page["offset"].as_i64()
        ),
        (Some(4), Some(2), Some(1))
    );
    assert_eq!(page["sessions"].as_array().unwrap().len(), 2);
    let expired = server
        .with_key(
            Method::GET,
            "/api/v2/checkout/sessions?status=EXPIRED",
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(expired, 200).await["total"], 1);
}

async fn one_session_reads_the_same_on_every_surface(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let pro = pro(&server, &account).await;
    let created = json_with_status(
        create(
            &server,
            &account.test_key,
            json!({"productId": pro["id"], "metadata": {"a": "1"}}),
        )
        .await,
        200,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    for version in ["v1", "v2"] {
        let response = server
            .with_key(
                Method::GET,
                &format!("/api/{version}/checkout/sessions/{id}"),
                &account.test_key,
            )
            .send()
            .await
            .unwrap();
        let session = json_with_status(response, 200).await;
        assert_eq!(session["id"], id);
        assert_eq!(session["amount"], json!(29.99));
        assert_eq!(session["status"], "PENDING");
        assert_eq!(session["metadata"], json!({"a": "1"}));
        assert_eq!(session["url"], created["url"]);
    }
    let response = server
        .with_key(
            Method::GET,
            "/api/v2/checkout/sessions/cs_test_nope",
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(response, 404).await["message"],
        "Checkout session not found"
    );
}

async fn each_payment_link_visit_starts_a_fresh_session(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let pro = pro(&server, &account).await;
    let link = link(&server, &account, json!({"line_items": [{"price": pro["default_price"], "quantity": 2}], "metadata": {"via": "link"}})).await;
    let link_id = link["id"].as_str().unwrap();
    assert_eq!(link["url"], format!("{}/l/{link_id}", server.base));
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let visit = browser
            .get(link["url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(visit.status(), 303);
        let location = visit.headers()["location"].to_str().unwrap().to_string();
        let id = location.rsplit('/').next().unwrap().to_string();
        assert_eq!(location, format!("{}/checkout/{id}", server.base));
        let session = server
            .with_key(
                Method::GET,
                &format!("/api/v3/checkout/sessions/{id}"),
                &account.test_key,
            )
            .send()
            .await
            .unwrap();
        let session = json_with_status(session, 200).await;
        assert_eq!(session["payment_link"], link_id);
        assert_eq!(session["amount_total"], 5998);
        assert_eq!(session["metadata"], json!({"via": "link"}));
        sessions.push(id);
    }
    assert_ne!(sessions[0], sessions[1], "every visit is a new session");

    let off = server
        .with_key(
            Method::POST,
            &format!("/v1/payment_links/{link_id}"),
            &account.test_key,
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body("active=false")
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), 200);
    let visit = browser
        .get(link["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(visit.status(), 410);
    assert!(
        visit.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(visit.text().await.unwrap().contains("no longer available"));
    let unknown = browser
        .get(format!("{}/l/pl_nope", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert!(unknown.text().await.unwrap().contains("does not exist"));
}

fn card() -> kassa::domain::payments::CardSummary {
    kassa::domain::payments::CardSummary {
        brand: "visa".into(),
        last4: "4242".into(),
        exp_month: 12,
        exp_year: 2030,
    }
}

async fn open_session(
    server: &TestServer,
    account: &TestAccount,
    product: &Value,
) -> kassa::domain::checkout::Session {
    let created = json_with_status(
        create(
            server,
            &account.test_key,
            json!({"productId": product["id"]}),
        )
        .await,
        200,
    )
    .await;
    let caller = account.caller(false);
    let now = kassa::clock::Clock::now(&server.clock);
    kassa::domain::checkout::get_session(
        &server.db,
        &caller,
        created["id"].as_str().unwrap(),
        now,
        &server.base,
    )
    .await
    .unwrap()
}

async fn paying_and_expiring_race_and_exactly_one_wins(engine: Engine) {
    use kassa::domain::checkout::{self, Completion, SessionState};
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let pro = pro(&server, &account).await;
    let caller = account.caller(false);
    let now = kassa::clock::Clock::now(&server.clock);
    for _ in 0..10 {
        let session = open_session(&server, &account, &pro).await;
        let pay = checkout::complete_session(
            &server.db,
            &account.id,
            &session,
            &[],
            checkout::PaidWith {
                card: Some(card()),
                email: None,
                name: None,
                ..Default::default()
            },
            now,
            &server.base,
        );
        let expire = checkout::expire_session(&server.db, &caller, &session.id, now, &server.base);
        let (paid, expired) = tokio::join!(pay, expire);
        let paid = matches!(paid.unwrap(), Completion::Completed { .. });
        let expired = expired.is_ok();
        assert!(
            paid != expired,
            "exactly one of the payment and the expiry wins"
        );
        let events = kassa::store::events::events_for_object(&server.db, &caller, &session.id)
            .await
            .unwrap();
        assert_eq!(events.len(), 1);
        let final_state =
            checkout::get_session(&server.db, &caller, &session.id, now, &server.base)
                .await
                .unwrap();
        if paid {
            assert_eq!(final_state.state, SessionState::Completed);
            assert_eq!(events[0].kind, "checkout.session.completed");
            assert!(final_state.payment_intent_id.is_some());
        } else {
            assert_eq!(final_state.state, SessionState::Expired);
            assert_eq!(events[0].kind, "checkout.session.expired");
            assert_eq!(final_state.payment_intent_id, None);
        }
    }
}

async fn two_payments_of_one_session_complete_it_once(engine: Engine) {
    use kassa::domain::checkout::{self, Completion, SessionState};
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let pro = pro(&server, &account).await;
    let caller = account.caller(false);
    let now = kassa::clock::Clock::now(&server.clock);
    let session = open_session(&server, &account, &pro).await;
    let pay = || {
        checkout::complete_session(
            &server.db,
            &account.id,
            &session,
            &[],
            checkout::PaidWith {
                card: Some(card()),
                email: Some("a@b.example".into()),
                name: None,
                ..Default::default()
            },
            now,
            &server.base,
        )
    };
    let (first, second) = tokio::join!(pay(), pay());
    let outcomes = [first.unwrap(), second.unwrap()];
    let completed: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, Completion::Completed { .. }))
        .collect();
    assert_eq!(completed.len(), 1, "charged once");
    assert!(outcomes.contains(&Completion::AlreadyFinal(SessionState::Completed)));
    let read = server
        .with_key(
            Method::GET,
            &format!("/api/v3/checkout/sessions/{}", session.id),
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    let read = json_with_status(read, 200).await;
    assert_eq!(
        (read["status"].as_str(), read["payment_status"].as_str()),
        (Some("complete"), Some("paid"))
    );
    assert_eq!(read["customer_details"]["email"], "a@b.example");
    let payment_intent = read["payment_intent"].as_str().unwrap().to_string();
    assert!(payment_intent.starts_with("pi_"));
    let kinds: Vec<String> =
        kassa::store::events::events_for_object(&server.db, &caller, &session.id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
    assert_eq!(kinds, ["checkout.session.completed"]);
    let payment_events =
        kassa::store::events::events_for_object(&server.db, &caller, &payment_intent)
            .await
            .unwrap();
    assert_eq!(payment_events.len(), 1);
    assert_eq!(payment_events[0].kind, "payment_intent.succeeded");
    assert_eq!(payment_events[0].object["amount"], 2999);
    // Completed is final: no expiry, no update.
    let expire = server
        .with_key(
            Method::POST,
            &format!("/api/v3/checkout/sessions/{}/expire", session.id),
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(expire.status(), 409);
    assert_eq!(expire.headers()["stripe-should-retry"], "false");
    server.clock.advance(7200);
    let later = server
        .with_key(
            Method::GET,
            &format!("/api/v2/checkout/sessions/{}", session.id),
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(later, 200).await["status"], "COMPLETED");
}

async fn offset_and_backward_paging_see_every_session_once(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let pro = pro(&server, &account).await;
    let mut created = Vec::new();
    for _ in 0..17 {
        let session = json_with_status(
            create(&server, &account.test_key, json!({"productId": pro["id"]})).await,
            200,
        )
        .await;
        created.push(session["id"].as_str().unwrap().to_string());
    }
    created.reverse();
    let get = |path: String| {
        let request = server.with_key(Method::GET, &path, &account.test_key);
        async move { json_with_status(request.send().await.unwrap(), 200).await }
    };
    // By offset on V1 and V2.
    for version in ["v1", "v2"] {
        let mut seen = Vec::new();
        for offset in (0..17).step_by(5) {
            let page = get(format!(
                "/api/{version}/checkout/sessions?limit=5&offset={offset}"
            ))
            .await;
            assert_eq!(page["total"], 17);
            seen.extend(
                page["sessions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["id"].as_str().unwrap().to_string()),
            );
        }
        assert_eq!(seen, created, "{version}");
    }
    // Backwards from the oldest with ending_before, on V3.
    let mut seen: Vec<String> = Vec::new();
    let mut before = created.last().cloned().unwrap();
    seen.push(before.clone());
    loop {
        let page = get(format!(
            "/api/v3/checkout/sessions?limit=4&ending_before={before}"
        ))
        .await;
        let ids: Vec<String> = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect();
        for id in ids.iter().rev() {
            seen.push(id.clone());
        }
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        before = ids.first().unwrap().clone();
    }
    seen.reverse();
    assert_eq!(seen, created);
    let unknown = server
        .with_key(
            Method::GET,
            "/api/v3/checkout/sessions?starting_after=cs_test_nope",
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(unknown, 400).await["error"]["param"],
        "starting_after"
    );
}
