//! Isolation, for every route of the OpenAPI document that takes an object id: another
//! account's key, and the same account's key of the other mode, are answered exactly as an id
//! that does not exist is, and never with the object.

use reqwest::Method;
use serde_json::Value;

use crate::harness::{Engine, TestServer, json_with_status, on_both_engines};

on_both_engines!(no_route_reveals_another_accounts_or_modes_objects);

/// Which object a route's `{id}` names, by the route's prefix.
fn object_for(path: &str) -> Option<&'static str> {
    const PREFIXES: [(&str, &str); 15] = [
        ("/v1/products/", "product"),
        ("/api/v2/products/", "product"),
        ("/api/v3/products/", "product"),
        ("/v1/prices/", "price"),
        ("/v1/payment_links/", "payment_link"),
        ("/api/v3/payment-links/", "payment_link"),
        ("/v1/checkout/sessions/", "session"),
        ("/api/v1/checkout/sessions/", "session"),
        ("/api/v2/checkout/sessions/", "session"),
        ("/api/v3/checkout/sessions/", "session"),
        ("/v1/customers/", "customer"),
        ("/v1/payment_intents/", "payment_intent"),
        ("/v1/payment_methods/", "payment_method"),
        ("/v1/webhook_endpoints/", "endpoint"),
        ("/api/v3/webhook-endpoints/", "endpoint"),
    ];
    if path.starts_with("/v1/events/{id}") || path.starts_with("/api/v3/events/{id}") {
        return Some("event");
    }
    PREFIXES
        .iter()
        .find(|(prefix, _)| path.starts_with(&format!("{prefix}{{id}}")))
        .map(|(_, object)| *object)
}

async fn no_route_reveals_another_accounts_or_modes_objects(engine: Engine) {
    let server = TestServer::start(engine).await;
    let owner = server.account("Acme").await;
    let stranger = server.account("Globex").await;

    // One object of each kind, in the owner's test mode.
    let post = |path: &str, body: &str| {
        let request = server
            .with_key(Method::POST, path, &owner.test_key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string());
        async move { json_with_status(request.send().await.unwrap(), 200).await }
    };
    let product = post(
        "/v1/products",
        "name=Mug&default_price_data[currency]=usd&default_price_data[unit_amount]=1200",
    )
    .await;
    let price = product["default_price"].as_str().unwrap().to_string();
    let link = post(
        "/v1/payment_links",
        &format!("line_items[0][price]={price}&line_items[0][quantity]=1"),
    )
    .await;
    let session = post(
        "/v1/checkout/sessions",
        &format!("mode=payment&line_items[0][price]={price}&line_items[0][quantity]=1"),
    )
    .await;
    let customer = post("/v1/customers", "name=Ada").await;
    let endpoint = post(
        "/v1/webhook_endpoints",
        "url=https%3A%2F%2Fshop.example%2Fhooks&enabled_events[]=*",
    )
    .await;
    let session_id = session["id"].as_str().unwrap().to_string();
    let paid = kassa::domain::checkout::complete_session(
        &server.db,
        &owner.id,
        &kassa::domain::checkout::get_session(
            &server.db,
            &owner.caller(false),
            &session_id,
            kassa::clock::Clock::now(&server.clock),
            &server.base,
        )
        .await
        .unwrap(),
        &[],
        kassa::domain::checkout::PaidWith {
            card: Some(kassa::domain::payments::CardSummary {
                brand: "visa".into(),
                last4: "4242".into(),
                exp_month: 12,
                exp_year: 2040,
            }),
            ..Default::default()
        },
        kassa::clock::Clock::now(&server.clock),
        &server.base,
    )
    .await
    .unwrap();
    let kassa::domain::checkout::Completion::Completed { payment, .. } = paid else {
        panic!("the session is paid");
    };
    let events =
        kassa::store::events::events_for_object(&server.db, &owner.caller(false), &session_id)
            .await
            .unwrap();
    let id_of = |object: &str| -> String {
        match object {
            "product" => product["id"].as_str().unwrap().to_string(),
            "price" => price.clone(),
            "payment_link" => link["id"].as_str().unwrap().to_string(),
            "session" => session_id.clone(),
            "customer" => customer["id"].as_str().unwrap().to_string(),
            "payment_intent" => payment.as_ref().unwrap().id.clone(),
            "payment_method" => payment.as_ref().unwrap().payment_method.clone().unwrap(),
            "endpoint" => endpoint["id"].as_str().unwrap().to_string(),
            "event" => events[0].id.clone(),
            other => panic!("no object for {other}"),
        }
    };

    let document: Value = server
        .request(Method::GET, "/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut checked = 0;
    for (template, operations) in document["paths"].as_object().unwrap() {
        let Some(object) = object_for(template) else {
            continue;
        };
        let real = template.replace("{id}", &id_of(object));
        let missing = template.replace("{id}", "x_doesnotexist");
        for method in operations.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            // An empty body in each surface's encoding: JSON on the Loops API, a form on /v1.
            let (content_type, empty) = if template.starts_with("/api/") {
                ("application/json", "{}")
            } else {
                ("application/x-www-form-urlencoded", "")
            };
            let call = |path: String, key: String| {
                let request = server
                    .with_key(method.clone(), &path, &key)
                    .header("content-type", content_type)
                    .body(empty);
                async move {
                    let response = request.send().await.unwrap();
                    let status = response.status().as_u16();
                    let body = response.text().await.unwrap();
                    (status, body)
                }
            };
            let (absent_status, _) = call(missing.clone(), owner.test_key.clone()).await;
            for (who, key) in [
                ("another account", &stranger.test_key),
                ("the live mode", &owner.live_key),
            ] {
                let (status, body) = call(real.clone(), key.clone()).await;
                assert_eq!(
                    status, absent_status,
                    "{method} {template} with {who}'s key answers as for an unknown id: {body}"
                );
                assert!(
                    !(200..300).contains(&status),
                    "{method} {template} with {who}'s key: {body}"
                );
                assert!(
                    !body.contains(&id_of(object)) || status == 404 && body.contains("No such"),
                    "{method} {template} with {who}'s key shows the object: {body}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} operations were checked");
    eprintln!("{checked} operations checked");
    // The owner still sees every object, after all those attempts.
    for path in [
        format!("/v1/products/{}", id_of("product")),
        format!("/v1/customers/{}", id_of("customer")),
        format!("/v1/webhook_endpoints/{}", id_of("endpoint")),
    ] {
        let response = server
            .with_key(Method::GET, &path, &owner.test_key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
}
