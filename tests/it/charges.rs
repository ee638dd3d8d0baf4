//! Charges (`/v1/charges`): one per attempt that reached the card network, succeeded or
//! failed, written with the attempt and matching the event that announced it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{
    Engine, TestAccount, TestDatabase, TestServer, json_with_status, on_both_engines,
};

on_both_engines!(
    a_payment_has_a_charge_as_its_event_announced_it,
    each_declined_attempt_leaves_a_failed_charge,
    charges_list_by_customer_and_payment_intent,
    charges_expand_and_are_expanded,
    charges_of_other_accounts_and_modes_are_not_found,
    charges_made_before_they_had_a_table_are_rebuilt_with_their_ids,
);

/// A session of 2 × $25.00, with the customer created on payment.
async fn session(server: &TestServer, account: &TestAccount) -> String {
    let created = json_with_status(
        server
            .form(
                account,
                Method::POST,
                "/v1/checkout/sessions",
                "mode=payment&customer_creation=always&line_items[0][price_data][currency]=usd\
                 &line_items[0][price_data][unit_amount]=2500\
                 &line_items[0][price_data][product_data][name]=Linen+shirt&line_items[0][quantity]=2\
                 &payment_intent_data[metadata][order]=42",
            )
            .await,
        200,
    )
    .await;
    created["id"].as_str().unwrap().to_string()
}

/// Pays the session through the test-payment API with `card`; the answer's status and body.
async fn pay(server: &TestServer, account: &TestAccount, id: &str, card: &str) -> (u16, Value) {
    let response = server
        .form(
            account,
            Method::POST,
            &format!("/v1/test_helpers/checkout/sessions/{id}/pay"),
            &format!("card={card}&email=ada%40example.com&name=Ada+Lovelace"),
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn get(server: &TestServer, key: &str, path: &str, status: u16) -> Value {
    json_with_status(
        server
            .with_key(Method::GET, path, key)
            .send()
            .await
            .unwrap(),
        status,
    )
    .await
}

/// The `data.object` of the account's events of type `kind`, newest first.
async fn announced(server: &TestServer, account: &TestAccount, kind: &str) -> Vec<Value> {
    let events = get(server, &account.test_key, "/v1/events?limit=100", 200).await;
    events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == kind)
        .map(|e| e["data"]["object"].clone())
        .collect()
}

async fn a_payment_has_a_charge_as_its_event_announced_it(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let id = session(&server, &account).await;
    let (status, paid) = pay(&server, &account, &id, "4242424242424242").await;
    assert_eq!(status, 200, "{paid}");
    let intent_id = paid["payment_intent"].as_str().unwrap();
    let intent = get(
        &server,
        &account.test_key,
        &format!("/v1/payment_intents/{intent_id}"),
        200,
    )
    .await;
    let charge_id = intent["latest_charge"].as_str().unwrap();
    assert!(charge_id.starts_with("ch_"), "{intent}");

    let charge = get(
        &server,
        &account.test_key,
        &format!("/v1/charges/{charge_id}"),
        200,
    )
    .await;
    assert_eq!(charge["object"], "charge");
    assert_eq!(charge["status"], "succeeded");
    assert_eq!(charge["paid"], true);
    assert_eq!(charge["captured"], true);
    assert_eq!(charge["amount"], 5000);
    assert_eq!(charge["amount_captured"], 5000);
    assert_eq!(charge["amount_refunded"], 0);
    assert_eq!(charge["refunded"], false);
    assert_eq!(charge["currency"], "usd");
    assert_eq!(charge["payment_intent"], intent_id);
    assert_eq!(charge["customer"], paid["customer"]);
    assert!(charge["customer"].as_str().unwrap().starts_with("cus_"));
    assert_eq!(charge["metadata"], json!({"order": "42"}));
    assert_eq!(charge["billing_details"]["email"], "ada@example.com");
    assert_eq!(charge["billing_details"]["name"], "Ada Lovelace");
    assert_eq!(charge["receipt_email"], "ada@example.com");
    assert_eq!(charge["payment_method_details"]["card"]["last4"], "4242");
    assert_eq!(charge["payment_method_details"]["card"]["brand"], "visa");
    assert_eq!(charge["outcome"]["type"], "authorized");
    assert_eq!(charge["failure_code"], Value::Null);
    assert_eq!(charge["livemode"], false);
    assert!(
        !charge.to_string().contains("4242424242424242"),
        "never the card number: {charge}"
    );

    let events = announced(&server, &account, "charge.succeeded").await;
    assert_eq!(
        events,
        vec![charge],
        "the charge is what its event announced"
    );
}

async fn each_declined_attempt_leaves_a_failed_charge(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let id = session(&server, &account).await;
    let (status, declined) = pay(&server, &account, &id, "4000000000009995").await;
    assert_eq!(status, 402, "{declined}");
    let failed_id = declined["error"]["charge"].as_str().unwrap().to_string();
    let failed = get(
        &server,
        &account.test_key,
        &format!("/v1/charges/{failed_id}"),
        200,
    )
    .await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["paid"], false);
    assert_eq!(failed["captured"], false);
    assert_eq!(failed["amount_captured"], 0);
    assert_eq!(failed["failure_code"], "card_declined");
    assert_eq!(failed["outcome"]["reason"], "insufficient_funds");
    assert_eq!(failed["outcome"]["type"], "issuer_declined");
    assert!(failed["failure_message"].as_str().unwrap().len() > 10);
    // No customer yet: it is created by the payment that succeeds.
    assert_eq!(failed["customer"], Value::Null);
    assert_eq!(
        announced(&server, &account, "charge.failed").await,
        vec![failed.clone()]
    );

    let (status, paid) = pay(&server, &account, &id, "4242424242424242").await;
    assert_eq!(status, 200, "{paid}");
    let intent_id = paid["payment_intent"].as_str().unwrap();
    let of_intent = get(
        &server,
        &account.test_key,
        &format!("/v1/charges?payment_intent={intent_id}"),
        200,
    )
    .await;
    let statuses: Vec<&str> = of_intent["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["succeeded", "failed"],
        "newest first: {of_intent}"
    );
    assert_eq!(
        of_intent["data"][1], failed,
        "a failed charge never changes"
    );
    assert_eq!(of_intent["url"], "/v1/charges");
}

async fn charges_list_by_customer_and_payment_intent(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let mut customers = Vec::new();
    for _ in 0..3 {
        let id = session(&server, &account).await;
        let (_, paid) = pay(&server, &account, &id, "4242424242424242").await;
        customers.push(paid["customer"].as_str().unwrap().to_string());
    }
    let all = get(&server, &account.test_key, "/v1/charges?limit=2", 200).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    assert_eq!(all["has_more"], true);
    let last = all["data"][1]["id"].as_str().unwrap();
    let rest = get(
        &server,
        &account.test_key,
        &format!("/v1/charges?starting_after={last}"),
        200,
    )
    .await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert_eq!(rest["has_more"], false);

    let mine = get(
        &server,
        &account.test_key,
        &format!("/v1/charges?customer={}", customers[1]),
        200,
    )
    .await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    assert_eq!(mine["data"][0]["customer"], customers[1].as_str());

    for (param, value) in [("customer", "cus_nobody"), ("payment_intent", "pi_nothing")] {
        let missing = get(
            &server,
            &account.test_key,
            &format!("/v1/charges?{param}={value}"),
            400,
        )
        .await;
        assert_eq!(missing["error"]["code"], "resource_missing", "{missing}");
        assert_eq!(missing["error"]["param"], param);
    }
    let refused = get(
        &server,
        &account.test_key,
        "/v1/charges?transfer_group=order_42",
        400,
    )
    .await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("transfer_group"),
        "{refused}"
    );
}

async fn charges_expand_and_are_expanded(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let id = session(&server, &account).await;
    let (_, paid) = pay(&server, &account, &id, "4242424242424242").await;
    let intent_id = paid["payment_intent"].as_str().unwrap();

    let intent = get(
        &server,
        &account.test_key,
        &format!("/v1/payment_intents/{intent_id}?expand[]=latest_charge"),
        200,
    )
    .await;
    assert_eq!(intent["latest_charge"]["object"], "charge");
    let charge_id = intent["latest_charge"]["id"].as_str().unwrap();

    let charge = get(
        &server,
        &account.test_key,
        &format!("/v1/charges/{charge_id}?expand[]=payment_intent&expand[]=customer"),
        200,
    )
    .await;
    assert_eq!(charge["payment_intent"]["id"], intent_id);
    assert_eq!(charge["customer"]["object"], "customer");

    let session = get(
        &server,
        &account.test_key,
        &format!("/v1/checkout/sessions/{id}?expand[]=payment_intent.latest_charge"),
        200,
    )
    .await;
    assert_eq!(session["payment_intent"]["latest_charge"]["id"], charge_id);

    let listed = get(
        &server,
        &account.test_key,
        "/v1/charges?expand[]=data.payment_intent",
        200,
    )
    .await;
    assert_eq!(
        listed["data"][0]["payment_intent"]["object"],
        "payment_intent"
    );
    get(
        &server,
        &account.test_key,
        &format!("/v1/charges/{charge_id}?expand[]=review"),
        400,
    )
    .await;
}

async fn charges_of_other_accounts_and_modes_are_not_found(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let other = server.account("Other").await;
    let id = session(&server, &account).await;
    let (_, paid) = pay(&server, &account, &id, "4242424242424242").await;
    let intent_id = paid["payment_intent"].as_str().unwrap();
    let intent = get(
        &server,
        &account.test_key,
        &format!("/v1/payment_intents/{intent_id}"),
        200,
    )
    .await;
    let path = format!("/v1/charges/{}", intent["latest_charge"].as_str().unwrap());

    for key in [&other.test_key, &account.live_key] {
        let missing = get(&server, key, &path, 404).await;
        assert_eq!(missing["error"]["code"], "resource_missing");
        let listed = get(&server, key, "/v1/charges", 200).await;
        assert_eq!(listed["data"], json!([]));
    }
}

/// Before charges had a table, a charge was an id on its PaymentIntent and an event; the
/// migration that adds the table rebuilds each PaymentIntent's latest charge with that id.
async fn charges_made_before_they_had_a_table_are_rebuilt_with_their_ids(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let mut server = TestServer::start_on(TestDatabase::reuse(&database)).await;
    let account = server.account("Acme").await;
    let paid = session(&server, &account).await;
    assert_eq!(
        pay(&server, &account, &paid, "4242424242424242").await.0,
        200
    );
    let declined = session(&server, &account).await;
    assert_eq!(
        pay(&server, &account, &declined, "4000000000000002")
            .await
            .0,
        402
    );
    let before = get(&server, &account.test_key, "/v1/charges", 200).await;
    server.shut_down().await.unwrap();

    // The database as it was before the migration that adds the table (and before the ones
    // that add to that table: PaymentMethods, refunds).
    let db = database.open().await;
    for statement in [
        "DROP TABLE refunds",
        "DROP TABLE payment_methods",
        "ALTER TABLE payment_intents DROP COLUMN payment_method_id",
        "ALTER TABLE setup_intents DROP COLUMN payment_method_id",
        "DROP TABLE charges",
        "DELETE FROM _sqlx_migrations WHERE version IN (16, 17, 22)",
    ] {
        db.execute(statement, &[]).await.unwrap();
    }
    db.close().await;

    let server = TestServer::start_on(TestDatabase::reuse(&database)).await;
    let after = get(&server, &account.test_key, "/v1/charges", 200).await;
    let mut expected = before["data"].as_array().unwrap().clone();
    // The declined attempt's payer name was never kept outside its charge.
    expected[0]["billing_details"]["name"] = Value::Null;
    // Each charge's card became a PaymentMethod again, its id made from the charge's.
    for charge in &mut expected {
        let id = charge["id"].as_str().unwrap().to_string();
        charge["payment_method"] = json!(format!("pm_{}", &id["ch_".len()..]));
        // The receipt is under the restarted server's address.
        if charge["receipt_url"].is_string() {
            charge["receipt_url"] = json!(format!("{}/receipts/{id}", server.base));
        }
    }
    assert_eq!(after["data"].as_array().unwrap(), &expected, "{after}");
}
