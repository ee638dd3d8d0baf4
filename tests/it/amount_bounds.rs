//! A session's payable total is what one charge can be: at least the currency's minimum charge
//! (Stripe's table), at most 99 999 999 minor units, or 0 (a free session). Checked when a
//! session is created, on every surface, and again at payment (see `test_payments` and
//! `hosted_checkout` for the totals customers choose). A price's own `unit_amount` is never
//! bounded by it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Engine, TestAccount, TestServer, json_with_status, on_both_engines};

on_both_engines!(
    stripe_sessions_are_bounded_by_the_currency,
    loops_sessions_and_payment_links_are_bounded,
);

/// Creates a `/v1` session of one line; returns the response.
async fn v1_session(
    server: &TestServer,
    account: &TestAccount,
    currency: &str,
    unit_amount: i64,
    quantity: i64,
) -> reqwest::Response {
    server
        .form(
            account,
            Method::POST,
            "/v1/checkout/sessions",
            &format!(
                "line_items[0][price_data][currency]={currency}\
                 &line_items[0][price_data][unit_amount]={unit_amount}\
                 &line_items[0][price_data][product_data][name]=Thing&line_items[0][quantity]={quantity}"
            ),
        )
        .await
}

async fn stripe_error(response: reqwest::Response) -> (String, String, String) {
    let body = json_with_status(response, 400).await;
    let error = &body["error"];
    assert_eq!(error["type"], "invalid_request_error", "{body}");
    (
        error["code"].as_str().unwrap().to_string(),
        error["param"].as_str().unwrap().to_string(),
        error["message"].as_str().unwrap().to_string(),
    )
}

async fn stripe_sessions_are_bounded_by_the_currency(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;

    let (code, param, message) =
        stripe_error(v1_session(&server, &account, "usd", 49, 1).await).await;
    assert_eq!(
        (code.as_str(), param.as_str()),
        ("amount_too_small", "line_items")
    );
    assert_eq!(
        message,
        "Invalid line_items: the total amount due ($0.49) must be at least $0.50, the smallest charge in USD."
    );
    let (code, param, message) =
        stripe_error(v1_session(&server, &account, "usd", 100_000_000, 1).await).await;
    assert_eq!(
        (code.as_str(), param.as_str()),
        ("amount_too_large", "line_items")
    );
    assert!(message.contains("must be at most $999,999.99"), "{message}");
    // Through the quantity, the total is what counts.
    let (code, _, _) =
        stripe_error(v1_session(&server, &account, "usd", 50_000_000, 2).await).await;
    assert_eq!(code, "amount_too_large");
    for (currency, unit_amount, quantity, code) in [
        ("gbp", 29, 1, "amount_too_small"),
        ("jpy", 49, 1, "amount_too_small"),
        ("dkk", 249, 1, "amount_too_small"),
        ("chf", 49, 1, "amount_too_small"),
    ] {
        let (got, _, _) =
            stripe_error(v1_session(&server, &account, currency, unit_amount, quantity).await)
                .await;
        assert_eq!(got, code, "{currency} {unit_amount}");
    }

    for (currency, unit_amount, quantity, total) in [
        ("usd", 50, 1, 50),
        ("usd", 99_999_999, 1, 99_999_999),
        // A price of one cent is fine; the session's total is what is bounded.
        ("usd", 1, 50, 50),
        ("gbp", 30, 1, 30),
        ("jpy", 50, 1, 50),
        ("isk", 1, 1, 1),
    ] {
        let created = json_with_status(
            v1_session(&server, &account, currency, unit_amount, quantity).await,
            200,
        )
        .await;
        assert_eq!(created["amount_total"], total, "{currency} {unit_amount}");
        assert_eq!(created["payment_status"], "unpaid");
    }
    // A total of 0 is a free session, not an error.
    let free = json_with_status(v1_session(&server, &account, "usd", 0, 3).await, 200).await;
    assert_eq!(free["amount_total"], 0);
    assert_eq!(free["payment_status"], "no_payment_required");

    // Prices themselves are not bounded by what one charge can be.
    for unit_amount in ["0", "1", "100000000"] {
        let price = server
            .form(
                &account,
                Method::POST,
                "/v1/prices",
                &format!("currency=usd&unit_amount={unit_amount}&product_data[name]=Part"),
            )
            .await;
        let price = json_with_status(price, 200).await;
        assert_eq!(price["unit_amount"].to_string(), unit_amount);
    }

    // V3, by price and by product.
    let cent = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/prices",
                "currency=usd&unit_amount=25&product_data[name]=Sticker",
            )
            .await,
        200,
    )
    .await;
    let v3 = |body: Value| {
        server
            .with_key(Method::POST, "/api/v3/checkout/sessions", &account.test_key)
            .json(&body)
            .send()
    };
    let (code, param, _) = stripe_error(
        v3(json!({"line_items": [{"price": cent["id"], "quantity": 1}]}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (code.as_str(), param.as_str()),
        ("amount_too_small", "line_items")
    );
    let two = json_with_status(
        v3(json!({"line_items": [{"price": cent["id"], "quantity": 2}]}))
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(two["amount_total"], 50);
    let kroner = loops_product(
        &server,
        &account,
        json!({"name": "Pin", "priceAmount": "2", "priceCurrency": "dkk"}),
    )
    .await;
    let (code, param, message) =
        stripe_error(v3(json!({"productId": kroner["id"]})).await.unwrap()).await;
    assert_eq!(
        (code.as_str(), param.as_str()),
        ("amount_too_small", "productId")
    );
    assert!(message.contains("at least DKK 2.50"), "{message}");
}

async fn loops_product(server: &TestServer, account: &TestAccount, body: Value) -> Value {
    json_with_status(
        server
            .with_key(Method::POST, "/api/v3/products", &account.test_key)
            .json(&body)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
}

async fn loops_post(
    server: &TestServer,
    account: &TestAccount,
    method: Method,
    path: &str,
    body: Value,
) -> reqwest::Response {
    server
        .with_key(method, path, &account.test_key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A Loops error: (code, param).
async fn loops_error(response: reqwest::Response) -> (String, String) {
    let body = json_with_status(response, 400).await;
    assert_eq!(body["statusCode"], 400, "{body}");
    assert_eq!(body["error"], "Bad Request", "{body}");
    (
        body["code"].as_str().unwrap().to_string(),
        body["param"].as_str().unwrap().to_string(),
    )
}

async fn loops_sessions_and_payment_links_are_bounded(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    // Loops' own product bound (0.50) stays, and is below the Danish minimum charge.
    let pin = loops_product(
        &server,
        &account,
        json!({"name": "Pin", "priceAmount": 0.5, "priceCurrency": "dkk"}),
    )
    .await;
    let boat = loops_product(
        &server,
        &account,
        json!({"name": "Boat", "priceAmount": 200000, "priceCurrency": "usd"}),
    )
    .await;

    // V2 by product: the total, with its quantity.
    let v2 = "/api/v2/checkout/sessions";
    let small = loops_post(
        &server,
        &account,
        Method::POST,
        v2,
        json!({"productId": pin["id"]}),
    )
    .await;
    assert_eq!(
        loops_error(small).await,
        ("amount_too_small".into(), "productId".into())
    );
    let large = loops_post(
        &server,
        &account,
        Method::POST,
        v2,
        json!({"productId": boat["id"], "quantity": 5}),
    )
    .await;
    assert_eq!(
        loops_error(large).await,
        ("amount_too_large".into(), "quantity".into())
    );
    let fine = loops_post(
        &server,
        &account,
        Method::POST,
        v2,
        json!({"productId": boat["id"], "quantity": 4}),
    )
    .await;
    let fine = json_with_status(fine, 200).await;
    assert_eq!(fine["amount"].as_f64(), Some(800_000.0));

    // V2 updates set the amount again.
    let path = format!("/api/v2/checkout/sessions/{}", fine["id"].as_str().unwrap());
    for (amount, code) in [
        (json!(0.49), "amount_too_small"),
        (json!(1000000), "amount_too_large"),
    ] {
        let refused = loops_post(
            &server,
            &account,
            Method::PUT,
            &path,
            json!({"amount": amount, "currency": "USD"}),
        )
        .await;
        assert_eq!(loops_error(refused).await, (code.into(), "amount".into()));
    }
    let updated = loops_post(
        &server,
        &account,
        Method::PUT,
        &path,
        json!({"amount": 0.5}),
    )
    .await;
    assert_eq!(json_with_status(updated, 200).await["amount"], json!(0.5));

    // Payment links: V1 and V2 sessions from the link, and its public page.
    let link = json_with_status(
        loops_post(
            &server,
            &account,
            Method::POST,
            "/api/v3/payment-links",
            json!({"productIds": [pin["id"]]}),
        )
        .await,
        200,
    )
    .await;
    for version in ["v1", "v2"] {
        let refused = loops_post(
            &server,
            &account,
            Method::POST,
            &format!("/api/{version}/checkout/sessions"),
            json!({"paymentLinkId": link["id"]}),
        )
        .await;
        assert_eq!(
            loops_error(refused).await,
            ("amount_too_small".into(), "paymentLinkId".into()),
            "{version}"
        );
    }
    let visit = server
        .http
        .get(format!(
            "{}/l/{}",
            server.base,
            link["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(visit.status(), 409);
    let page = visit.text().await.unwrap();
    assert!(page.contains("cannot take payments"), "{page}");
    assert!(page.contains("you have not been charged"), "{page}");

    let sessions = json_with_status(
        server
            .with_key(
                Method::GET,
                "/v1/checkout/sessions?limit=100",
                &account.test_key,
            )
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        sessions["data"].as_array().unwrap().len(),
        1,
        "only the one that could be charged was created"
    );
}
