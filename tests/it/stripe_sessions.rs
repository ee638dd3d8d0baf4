//! `/v1/checkout/sessions` as the Stripe SDKs use it: form bodies, Stripe objects and errors.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Engine, TestAccount, TestServer, json_with_status, on_both_engines};

on_both_engines!(
    form_encoded_sessions_with_price_and_price_data,
    sessions_list_update_expire_and_line_items_the_stripe_way,
    stripe_errors_name_the_parameter,
    paid_sessions_show_their_payment_intent,
);

async fn price(server: &TestServer, account: &TestAccount) -> String {
    let response = server
        .form(
            account,
            Method::POST,
            "/v1/prices",
            "currency=usd&unit_amount=2000&product_data[name]=T-shirt",
        )
        .await;
    json_with_status(response, 200).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn form_encoded_sessions_with_price_and_price_data(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let price = price(&server, &account).await;
    let body = format!(
        "mode=payment&line_items[0][price]={price}&line_items[0][quantity]=2\
         &line_items[1][price_data][currency]=usd&line_items[1][price_data][unit_amount]=500\
         &line_items[1][price_data][product_data][name]=Gift+wrap&line_items[1][quantity]=1\
         &success_url=https%3A%2F%2Fshop.example%2Fok%3Fs%3D%7BCHECKOUT_SESSION_ID%7D&cancel_url=https%3A%2F%2Fshop.example%2Fcancel\
         &metadata[order_id]=42&client_reference_id=ref-1&customer_email=a%40b.example&ui_mode=hosted_page\
         &allowed_payment_method_types[0]=card&locale=auto&submit_type=pay&billing_address_collection=auto\
         &automatic_tax[enabled]=false&phone_number_collection[enabled]=false"
    );
    let session = json_with_status(
        server
            .form(&account, Method::POST, "/v1/checkout/sessions", &body)
            .await,
        200,
    )
    .await;
    assert_eq!(session["object"], "checkout.session");
    assert_eq!(session["amount_total"], 4500);
    assert_eq!(
        session["success_url"],
        "https://shop.example/ok?s={CHECKOUT_SESSION_ID}"
    );
    assert_eq!(session["metadata"], json!({"order_id": "42"}));
    assert_eq!(session["status"], "open");
    assert_eq!(session["ui_mode"], "hosted_page");
    assert_eq!(session["locale"], "auto");
    assert_eq!(session["submit_type"], "pay");
    assert_eq!(session["billing_address_collection"], "auto");
    assert_eq!(session["payment_method_types"], json!(["card"]));
    for field in [
        "customer",
        "payment_intent",
        "setup_intent",
        "subscription",
        "discounts",
        "custom_fields",
        "shipping_options",
    ] {
        assert!(session.as_object().unwrap().contains_key(field), "{field}");
    }
    let id = session["id"].as_str().unwrap();
    let expanded = server
        .with_key(
            Method::GET,
            &format!("/v1/checkout/sessions/{id}?expand%5B0%5D=line_items"),
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    let expanded = json_with_status(expanded, 200).await;
    let items = expanded["line_items"]["data"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["price"]["id"], price.as_str());
    assert_eq!(items[1]["description"], "Gift wrap");
    assert_eq!(items[1]["price"]["unit_amount"], 500);
    assert_eq!(
        items[1]["price"]["active"], false,
        "inline prices exist for their session only"
    );
    // The same session on the Loops surfaces.
    let v2 = server
        .with_key(
            Method::GET,
            &format!("/api/v2/checkout/sessions/{id}"),
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    let v2 = json_with_status(v2, 200).await;
    assert_eq!(
        (v2["amount"].clone(), v2["productName"].clone()),
        (json!(45.0), json!("T-shirt and 1 more"))
    );
}

async fn sessions_list_update_expire_and_line_items_the_stripe_way(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let price = price(&server, &account).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let body = format!(
            "line_items[0][price]={price}&line_items[0][quantity]={}",
            i + 1
        );
        let session = json_with_status(
            server
                .form(&account, Method::POST, "/v1/checkout/sessions", &body)
                .await,
            200,
        )
        .await;
        ids.push(session["id"].as_str().unwrap().to_string());
    }
    ids.reverse();
    // Auto-pagination as the SDKs do it: limit, then starting_after the last id, filters kept.
    let mut seen = Vec::new();
    let mut query = "limit=2&status=open".to_string();
    loop {
        let page = server
            .with_key(
                Method::GET,
                &format!("/v1/checkout/sessions?{query}"),
                &account.test_key,
            )
            .send()
            .await
            .unwrap();
        let page = json_with_status(page, 200).await;
        assert_eq!(page["url"], "/v1/checkout/sessions");
        let data = page["data"].as_array().unwrap();
        seen.extend(data.iter().map(|s| s["id"].as_str().unwrap().to_string()));
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        query = format!(
            "limit=2&status=open&starting_after={}",
            seen.last().unwrap()
        );
    }
    assert_eq!(seen, ids);

    let path = format!("/v1/checkout/sessions/{}", ids[0]);
    let updated = server
        .form(&account, Method::POST, &path, "metadata[a]=1&metadata[b]=2")
        .await;
    assert_eq!(
        json_with_status(updated, 200).await["metadata"],
        json!({"a": "1", "b": "2"})
    );
    let updated = server
        .form(&account, Method::POST, &path, "metadata[a]=")
        .await;
    assert_eq!(
        json_with_status(updated, 200).await["metadata"],
        json!({"b": "2"})
    );

    let expired = server
        .form(&account, Method::POST, &format!("{path}/expire"), "")
        .await;
    let expired = json_with_status(expired, 200).await;
    assert_eq!(
        (expired["status"].as_str(), expired["url"].clone()),
        (Some("expired"), Value::Null)
    );
    let listed = server
        .with_key(
            Method::GET,
            "/v1/checkout/sessions?status=expired",
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(listed, 200).await["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let again = server
        .form(&account, Method::POST, &format!("{path}/expire"), "")
        .await;
    // Stripe answers 400 (the SDKs raise InvalidRequestError) and says not to retry.
    assert_eq!(again.headers()["stripe-should-retry"], "false");
    assert_eq!(
        json_with_status(again, 400).await["error"]["code"],
        "checkout_session_not_open"
    );

    let items = server
        .with_key(
            Method::GET,
            &format!("/v1/checkout/sessions/{}/line_items?limit=1", ids[4]),
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    let items = json_with_status(items, 200).await;
    assert_eq!(items["data"][0]["quantity"], 1);
    assert_eq!(items["has_more"], false);
    assert_eq!(
        items["url"],
        format!("/v1/checkout/sessions/{}/line_items", ids[4])
    );
}

async fn stripe_errors_name_the_parameter(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let price = price(&server, &account).await;
    let cases = [
        ("mode=payment", "parameter_missing", "line_items"),
        (
            &*format!("line_items[0][price]={price}&line_items[0][quantity]=two"),
            "parameter_invalid_integer",
            "line_items[0][quantity]",
        ),
        (
            "line_items[0][price]=price_nope",
            "resource_missing",
            "line_items[0][price]",
        ),
        (
            "line_items[0][price_data][unit_amount]=5",
            "parameter_missing",
            "line_items[0][price_data][currency]",
        ),
        (
            &*format!("line_items[0][price]={price}&success_url=not-a-url"),
            "url_invalid",
            "success_url",
        ),
        (
            &*format!("line_items[0][price]={price}&return_url=ftp%3A%2F%2Fx"),
            "url_invalid",
            "return_url",
        ),
    ];
    for (body, code, param) in cases {
        let response = server
            .form(&account, Method::POST, "/v1/checkout/sessions", body)
            .await;
        let error = json_with_status(response, 400).await;
        assert_eq!(error["error"]["type"], "invalid_request_error", "{body}");
        assert_eq!(error["error"]["code"], code, "{body}: {error}");
        assert_eq!(error["error"]["param"], param, "{body}: {error}");
    }
    let missing = server
        .with_key(
            Method::GET,
            "/v1/checkout/sessions/cs_test_nope",
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    let missing = json_with_status(missing, 404).await;
    assert_eq!(
        missing["error"]["message"],
        "No such checkout.session: 'cs_test_nope'"
    );
    let unknown = server
        .form(
            &account,
            Method::POST,
            "/v1/checkout/sessions/cs_test_nope",
            "colour=red",
        )
        .await;
    assert_eq!(
        json_with_status(unknown, 400).await["error"]["code"],
        "parameter_unknown"
    );
}

async fn paid_sessions_show_their_payment_intent(engine: Engine) {
    use kassa::domain::checkout::{self, Completion};
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let other = server.account("Globex").await;
    let price = price(&server, &account).await;
    let body = format!("line_items[0][price]={price}&customer_email=buyer%40shop.example");
    let created = json_with_status(
        server
            .form(&account, Method::POST, "/v1/checkout/sessions", &body)
            .await,
        200,
    )
    .await;
    let caller = kassa::domain::accounts::Caller {
        account_id: account.id.clone(),
        mode: kassa::domain::Mode::Test,
        key_id: String::new(),
    };
    let now = kassa::clock::Clock::now(&server.clock);
    let session = checkout::get_session(
        &server.db,
        &caller,
        created["id"].as_str().unwrap(),
        now,
        &server.base,
    )
    .await
    .unwrap();
    let card = kassa::domain::payments::CardSummary {
        brand: "visa".into(),
        last4: "4242".into(),
        exp_month: 12,
        exp_year: 2030,
    };
    let completion = checkout::complete_session(
        &server.db,
        &account.id,
        &session,
        &[],
        checkout::PaidWith {
            card: Some(card),
            email: None,
            name: None,
            ..Default::default()
        },
        now,
        &server.base,
    )
    .await;
    assert!(matches!(completion.unwrap(), Completion::Completed { .. }));

    let path = format!(
        "/v1/checkout/sessions/{}?expand[]=payment_intent",
        session.id
    );
    let read = json_with_status(
        server
            .with_key(Method::GET, &path, &account.test_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let intent = &read["payment_intent"];
    assert_eq!(intent["object"], "payment_intent");
    assert_eq!(
        (intent["amount"].as_i64(), intent["status"].as_str()),
        (Some(2000), Some("succeeded"))
    );
    assert_eq!(intent["payment_method_details"]["card"]["last4"], "4242");
    assert_eq!(intent["receipt_email"], "buyer@shop.example");
    let id = intent["id"].as_str().unwrap();
    let direct = server
        .with_key(
            Method::GET,
            &format!("/v1/payment_intents/{id}"),
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(&json_with_status(direct, 200).await, intent);
    let listed = server
        .with_key(
            Method::GET,
            "/v1/payment_intents?limit=10",
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    let listed = json_with_status(listed, 200).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["url"], "/v1/payment_intents");
    let filtered = server
        .with_key(
            Method::GET,
            &format!("/v1/checkout/sessions?payment_intent={id}"),
            &account.test_key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(filtered, 200).await["data"][0]["id"],
        session.id.as_str()
    );
    for key in [&other.test_key, &account.live_key] {
        let hidden = server
            .with_key(Method::GET, &format!("/v1/payment_intents/{id}"), key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            json_with_status(hidden, 404).await["error"]["message"],
            format!("No such payment_intent: '{id}'")
        );
    }
}
