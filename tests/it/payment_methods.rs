//! PaymentMethods (`/v1/payment_methods`): every card used at checkout is one, named by the
//! PaymentIntent, the charges and the SetupIntent that used it; a saved card is attached to its
//! customer; Stripe's test ids attach in test mode; a saved 4000 0000 0000 0341 declines every
//! later charge.

use kassa::clock::Clock as _;
use kassa::domain::payment_methods;
use kassa::domain::processor;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{
    Engine, TestAccount, TestDatabase, TestServer, json_with_status, on_both_engines,
};

on_both_engines!(
    a_paid_sessions_card_is_a_payment_method_with_its_brand_and_last4_only,
    a_declined_card_is_a_payment_method_of_its_failed_charge,
    a_setup_session_attaches_its_card_to_its_customer,
    attach_list_update_and_detach,
    stripes_test_ids_attach_in_test_mode_only,
    payment_methods_of_other_accounts_and_modes_are_not_found,
    the_card_that_can_only_be_saved_declines_every_charge,
    cards_saved_before_payment_methods_had_a_table_are_rebuilt,
);

async fn call(
    server: &TestServer,
    key: &str,
    method: Method,
    path: &str,
    body: &str,
    status: u16,
) -> Value {
    let request = server.with_key(method.clone(), path, key);
    let request = if method == Method::GET {
        request
    } else {
        request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string())
    };
    json_with_status(request.send().await.unwrap(), status).await
}

async fn get(server: &TestServer, account: &TestAccount, path: &str, status: u16) -> Value {
    call(server, &account.test_key, Method::GET, path, "", status).await
}

async fn post(
    server: &TestServer,
    account: &TestAccount,
    path: &str,
    body: &str,
    status: u16,
) -> Value {
    call(server, &account.test_key, Method::POST, path, body, status).await
}

/// A new customer's id.
async fn customer(server: &TestServer, key: &str) -> String {
    let created = call(server, key, Method::POST, "/v1/customers", "name=Ada", 200).await;
    created["id"].as_str().unwrap().to_string()
}

/// Creates a session with `params` and pays it with `card`; the answer's status and body.
async fn checkout(
    server: &TestServer,
    account: &TestAccount,
    params: &str,
    card: &str,
) -> (u16, Value) {
    let session = post(server, account, "/v1/checkout/sessions", params, 200).await;
    let id = session["id"].as_str().unwrap();
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

const PAYMENT: &str = "mode=payment&customer_creation=always&line_items[0][price_data][currency]=usd\
     &line_items[0][price_data][unit_amount]=2500&line_items[0][price_data][product_data][name]=Shirt\
     &line_items[0][quantity]=1";

/// The `data.object` of the account's events of type `kind`, newest first.
async fn announced(server: &TestServer, account: &TestAccount, kind: &str) -> Vec<Value> {
    let events = get(server, account, "/v1/events?limit=100", 200).await;
    events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == kind)
        .map(|e| e["data"]["object"].clone())
        .collect()
}

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

async fn a_paid_sessions_card_is_a_payment_method_with_its_brand_and_last4_only(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let (status, paid) = checkout(&server, &account, PAYMENT, "5555555555554444").await;
    assert_eq!(status, 200, "{paid}");
    let intent_id = paid["payment_intent"].as_str().unwrap();
    let intent = get(
        &server,
        &account,
        &format!("/v1/payment_intents/{intent_id}"),
        200,
    )
    .await;
    let method_id = intent["payment_method"].as_str().unwrap();
    assert!(method_id.starts_with("pm_"), "{intent}");
    let charge = get(
        &server,
        &account,
        &format!("/v1/charges/{}", intent["latest_charge"].as_str().unwrap()),
        200,
    )
    .await;
    assert_eq!(charge["payment_method"], method_id);

    let method = get(
        &server,
        &account,
        &format!("/v1/payment_methods/{method_id}"),
        200,
    )
    .await;
    assert_eq!(method["object"], "payment_method");
    assert_eq!(method["type"], "card");
    assert_eq!(method["card"]["brand"], "mastercard");
    assert_eq!(method["card"]["display_brand"], "mastercard");
    assert_eq!(method["card"]["last4"], "4444");
    assert_eq!(method["card"]["exp_month"], 12);
    assert!(method["card"]["exp_year"].as_i64().unwrap() > 2025);
    assert_eq!(method["card"]["wallet"], Value::Null);
    assert_eq!(
        method["card"]["networks"]["available"],
        json!(["mastercard"])
    );
    assert_eq!(method["billing_details"]["email"], "ada@example.com");
    assert_eq!(method["billing_details"]["name"], "Ada Lovelace");
    assert_eq!(method["livemode"], false);
    assert_eq!(method["metadata"], json!({}));
    assert_eq!(method["allow_redisplay"], "unspecified");
    // A payment does not save the card, not even for the customer it created.
    assert!(paid["customer"].as_str().unwrap().starts_with("cus_"));
    assert_eq!(method["customer"], Value::Null);
    assert!(
        announced(&server, &account, "payment_method.attached")
            .await
            .is_empty()
    );
    for object in [&method, &intent, &charge] {
        assert!(
            !object.to_string().contains("5555555555554444"),
            "never the card number: {object}"
        );
    }

    // The PaymentIntent's method expands, and the events carry its id.
    let expanded = get(
        &server,
        &account,
        &format!("/v1/payment_intents/{intent_id}?expand[]=payment_method"),
        200,
    )
    .await;
    assert_eq!(expanded["payment_method"], method);
    let succeeded = announced(&server, &account, "payment_intent.succeeded").await;
    assert_eq!(succeeded[0]["payment_method"], method_id);

    // Used without being saved, it can never be attached (as on Stripe).
    let customer = customer(&server, &account.test_key).await;
    let refused = post(
        &server,
        &account,
        &format!("/v1/payment_methods/{method_id}/attach"),
        &format!("customer={customer}"),
        400,
    )
    .await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("may not be used again"),
        "{refused}"
    );
    let still = get(
        &server,
        &account,
        &format!("/v1/payment_methods/{method_id}"),
        200,
    )
    .await;
    assert_eq!(still, method);
}

async fn a_declined_card_is_a_payment_method_of_its_failed_charge(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let session = post(&server, &account, "/v1/checkout/sessions", PAYMENT, 200).await;
    let id = session["id"].as_str().unwrap();
    let pay = |card: &'static str| {
        let server = &server;
        let account = &account;
        async move {
            let response = server
                .form(
                    account,
                    Method::POST,
                    &format!("/v1/test_helpers/checkout/sessions/{id}/pay"),
                    &format!("card={card}"),
                )
                .await;
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, declined) = pay("4000000000009995").await;
    assert_eq!(status, 402, "{declined}");
    let error = &declined["error"];
    assert_eq!(error["payment_method"]["card"]["last4"], "9995");
    let declined_method = error["payment_method"]["id"].as_str().unwrap().to_string();
    assert!(declined_method.starts_with("pm_"));
    let failed = get(
        &server,
        &account,
        &format!("/v1/charges/{}", error["charge"].as_str().unwrap()),
        200,
    )
    .await;
    assert_eq!(failed["payment_method"], declined_method.as_str());
    // The PaymentIntent lets the declined method go, and keeps it in its error.
    assert_eq!(error["payment_intent"]["payment_method"], Value::Null);
    assert_eq!(
        error["payment_intent"]["last_payment_error"]["payment_method"]["id"],
        declined_method.as_str()
    );
    let stored = get(
        &server,
        &account,
        &format!("/v1/payment_methods/{declined_method}"),
        200,
    )
    .await;
    assert_eq!(stored, error["payment_method"]);

    let (status, paid) = pay("4242424242424242").await;
    assert_eq!(status, 200, "{paid}");
    let intent = get(
        &server,
        &account,
        &format!(
            "/v1/payment_intents/{}",
            paid["payment_intent"].as_str().unwrap()
        ),
        200,
    )
    .await;
    let paid_method = intent["payment_method"].as_str().unwrap();
    assert_ne!(
        paid_method, declined_method,
        "each card entered is a method"
    );
    let all = get(&server, &account, "/v1/payment_methods", 200).await;
    assert_eq!(ids(&all), [paid_method, declined_method.as_str()]);
    assert_eq!(all["url"], "/v1/payment_methods");
}

async fn a_setup_session_attaches_its_card_to_its_customer(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let customer = customer(&server, &account.test_key).await;
    let (status, saved) = checkout(
        &server,
        &account,
        &format!("mode=setup&currency=usd&customer={customer}"),
        "4242424242424242",
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    let listed = get(
        &server,
        &account,
        &format!("/v1/customers/{customer}/payment_methods"),
        200,
    )
    .await;
    assert_eq!(
        listed["url"],
        format!("/v1/customers/{customer}/payment_methods")
    );
    let methods = listed["data"].as_array().unwrap();
    assert_eq!(methods.len(), 1, "{listed}");
    let method = &methods[0];
    assert_eq!(method["customer"], customer.as_str());
    assert_eq!(method["card"]["last4"], "4242");
    assert_eq!(method["billing_details"]["email"], "ada@example.com");
    // Announced as attached, in the transaction that completed the session, and named by the
    // SetupIntent.
    assert_eq!(
        announced(&server, &account, "payment_method.attached").await,
        vec![method.clone()]
    );
    let setups = announced(&server, &account, "setup_intent.succeeded").await;
    assert_eq!(setups[0]["id"], saved["setup_intent"]);
    assert_eq!(setups[0]["payment_method"], method["id"]);
    let events = get(&server, &account, "/v1/events?limit=3", 200).await;
    let newest: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        newest,
        [
            "checkout.session.completed",
            "setup_intent.succeeded",
            "payment_method.attached",
        ]
    );

    // A setup session that creates its customer attaches the card to it.
    let (_, created) = checkout(
        &server,
        &account,
        "mode=setup&currency=usd&customer_creation=always",
        "378282246310005",
    )
    .await;
    let new_customer = created["customer"].as_str().unwrap();
    let theirs = get(
        &server,
        &account,
        &format!("/v1/customers/{new_customer}/payment_methods?type=card"),
        200,
    )
    .await;
    assert_eq!(theirs["data"][0]["card"]["brand"], "amex");
    assert_eq!(theirs["data"][0]["customer"], new_customer);

    // Without a customer the card is saved unattached, and can be attached later.
    let (_, unattached) = checkout(
        &server,
        &account,
        "mode=setup&currency=usd",
        "4242424242424242",
    )
    .await;
    assert_eq!(unattached["customer"], Value::Null);
    let setups = announced(&server, &account, "setup_intent.succeeded").await;
    let method_id = setups[0]["payment_method"].as_str().unwrap();
    let method = get(
        &server,
        &account,
        &format!("/v1/payment_methods/{method_id}"),
        200,
    )
    .await;
    assert_eq!(method["customer"], Value::Null);
    let attached = post(
        &server,
        &account,
        &format!("/v1/payment_methods/{method_id}/attach"),
        &format!("customer={customer}"),
        200,
    )
    .await;
    assert_eq!(attached["customer"], customer.as_str());
    let listed = get(
        &server,
        &account,
        &format!("/v1/customers/{customer}/payment_methods"),
        200,
    )
    .await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
}

async fn attach_list_update_and_detach(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let ada = customer(&server, &account.test_key).await;
    let bob = customer(&server, &account.test_key).await;
    let attach = |id: &str, customer: &str| {
        (
            format!("/v1/payment_methods/{id}/attach"),
            format!("customer={customer}"),
        )
    };
    let (path, body) = attach("pm_card_visa", &ada);
    let visa = post(&server, &account, &path, &body, 200).await;
    let (path, body) = attach("pm_card_mastercard", &ada);
    let mastercard = post(&server, &account, &path, &body, 200).await;
    let visa_id = visa["id"].as_str().unwrap().to_string();
    let mastercard_id = mastercard["id"].as_str().unwrap().to_string();
    assert_eq!(visa["customer"], ada.as_str());
    assert_eq!(
        announced(&server, &account, "payment_method.attached").await,
        vec![mastercard.clone(), visa.clone()]
    );

    // Lists: newest first, by customer, type and cursors.
    let of_ada = format!("/v1/customers/{ada}/payment_methods");
    let listed = get(&server, &account, &of_ada, 200).await;
    assert_eq!(ids(&listed), [mastercard_id.as_str(), visa_id.as_str()]);
    let page = get(&server, &account, &format!("{of_ada}?limit=1"), 200).await;
    assert_eq!(
        (ids(&page), &page["has_more"]),
        (vec![mastercard_id.clone()], &json!(true))
    );
    let rest = get(
        &server,
        &account,
        &format!("{of_ada}?starting_after={mastercard_id}"),
        200,
    )
    .await;
    assert_eq!(
        (ids(&rest), &rest["has_more"]),
        (vec![visa_id.clone()], &json!(false))
    );
    let back = get(
        &server,
        &account,
        &format!("{of_ada}?ending_before={visa_id}"),
        200,
    )
    .await;
    assert_eq!(ids(&back), [mastercard_id.as_str()]);
    assert_eq!(
        ids(&get(&server, &account, &format!("{of_ada}?type=card"), 200).await).len(),
        2
    );
    let none = get(&server, &account, &format!("{of_ada}?type=sepa_debit"), 200).await;
    assert_eq!(none["data"], json!([]));
    let bad_type = get(&server, &account, &format!("{of_ada}?type=crad"), 400).await;
    assert_eq!(bad_type["error"]["param"], "type");
    let by_query = get(
        &server,
        &account,
        &format!("/v1/payment_methods?customer={ada}&type=card"),
        200,
    )
    .await;
    assert_eq!(ids(&by_query), ids(&listed));
    let of_bob = get(
        &server,
        &account,
        &format!("/v1/customers/{bob}/payment_methods"),
        200,
    )
    .await;
    assert_eq!(of_bob["data"], json!([]));
    let expanded = get(
        &server,
        &account,
        &format!("{of_ada}?expand[]=data.customer"),
        200,
    )
    .await;
    assert_eq!(expanded["data"][0]["customer"]["id"], ada.as_str());
    let missing = get(
        &server,
        &account,
        "/v1/customers/cus_nobody/payment_methods",
        404,
    )
    .await;
    assert_eq!(missing["error"]["code"], "resource_missing");
    let missing = get(
        &server,
        &account,
        "/v1/payment_methods?customer=cus_nobody",
        400,
    )
    .await;
    assert_eq!(
        (&missing["error"]["code"], &missing["error"]["param"]),
        (&json!("resource_missing"), &json!("customer"))
    );
    let cursor = get(
        &server,
        &account,
        &format!("{of_ada}?starting_after=pm_nothing"),
        400,
    )
    .await;
    assert_eq!(cursor["error"]["param"], "starting_after");

    // Update: billing details, expiry, allow_redisplay, metadata.
    let updated = post(
        &server,
        &account,
        &format!("/v1/payment_methods/{visa_id}"),
        "billing_details[name]=Ada+L.&billing_details[email]=ada%40example.com&card[exp_month]=3\
         &allow_redisplay=always&metadata[tier]=gold",
        200,
    )
    .await;
    assert_eq!(updated["billing_details"]["name"], "Ada L.");
    assert_eq!(updated["billing_details"]["email"], "ada@example.com");
    assert_eq!(updated["card"]["exp_month"], 3);
    assert_eq!(updated["allow_redisplay"], "always");
    assert_eq!(updated["metadata"], json!({"tier": "gold"}));
    assert_eq!(
        announced(&server, &account, "payment_method.updated").await,
        vec![updated.clone()]
    );
    assert_eq!(
        get(
            &server,
            &account,
            &format!("/v1/payment_methods/{visa_id}"),
            200
        )
        .await,
        updated
    );
    let redisplayed = get(
        &server,
        &account,
        &format!("{of_ada}?allow_redisplay=always"),
        200,
    )
    .await;
    assert_eq!(ids(&redisplayed), [visa_id.as_str()]);
    let cleared = post(
        &server,
        &account,
        &format!("/v1/payment_methods/{visa_id}"),
        "billing_details[name]=&metadata[tier]=",
        200,
    )
    .await;
    assert_eq!(cleared["billing_details"]["name"], Value::Null);
    assert_eq!(cleared["metadata"], json!({}));
    for (body, param) in [
        ("card[exp_month]=13", "card[exp_month]"),
        ("card[exp_year]=1999", "card[exp_year]"),
        (
            "billing_details[email]=not-an-email",
            "billing_details[email]",
        ),
        (
            "billing_details[phone]=%2B4912345",
            "billing_details[phone]",
        ),
        ("allow_redisplay=sometimes", "allow_redisplay"),
        ("card[number]=4242424242424242", "card[number]"),
    ] {
        let refused = post(
            &server,
            &account,
            &format!("/v1/payment_methods/{visa_id}"),
            body,
            400,
        )
        .await;
        assert_eq!(refused["error"]["param"], param, "{body}: {refused}");
    }

    // Attached already: to another customer, or to this one again.
    for customer in [&bob, &ada] {
        let (path, body) = attach(&visa_id, customer);
        let refused = post(&server, &account, &path, &body, 400).await;
        assert_eq!(
            refused["error"]["message"],
            "The payment method you provided has already been attached to a customer.",
        );
    }
    let (path, _) = attach("pm_card_visa", &ada);
    let no_customer = post(&server, &account, &path, "", 400).await;
    assert_eq!(no_customer["error"]["code"], "parameter_missing");
    assert_eq!(no_customer["error"]["param"], "customer");
    let (path, body) = attach("pm_card_visa", "cus_nobody");
    let unknown = post(&server, &account, &path, &body, 400).await;
    assert_eq!(
        (&unknown["error"]["code"], &unknown["error"]["param"]),
        (&json!("resource_missing"), &json!("customer"))
    );
    call(
        &server,
        &account.test_key,
        Method::DELETE,
        &format!("/v1/customers/{bob}"),
        "",
        200,
    )
    .await;
    let (path, body) = attach("pm_card_visa", &bob);
    let deleted = post(&server, &account, &path, &body, 400).await;
    assert_eq!(deleted["error"]["param"], "customer");
    let (path, body) = attach("pm_nothing", &ada);
    let nothing = post(&server, &account, &path, &body, 404).await;
    assert_eq!(
        nothing["error"]["message"],
        "No such PaymentMethod: 'pm_nothing'"
    );

    // Detach: for good.
    let detached = post(
        &server,
        &account,
        &format!("/v1/payment_methods/{visa_id}/detach"),
        "",
        200,
    )
    .await;
    assert_eq!(detached["customer"], Value::Null);
    assert_eq!(
        announced(&server, &account, "payment_method.detached").await,
        vec![detached.clone()]
    );
    assert_eq!(
        ids(&get(&server, &account, &of_ada, 200).await),
        [mastercard_id.as_str()]
    );
    let again = post(
        &server,
        &account,
        &format!("/v1/payment_methods/{visa_id}/detach"),
        "",
        400,
    )
    .await;
    assert!(
        again["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not attached to a customer"),
        "{again}"
    );
    let (path, body) = attach(&visa_id, &ada);
    post(&server, &account, &path, &body, 400).await;
    let not_saved = post(
        &server,
        &account,
        &format!("/v1/payment_methods/{visa_id}"),
        "metadata[a]=b",
        400,
    )
    .await;
    assert!(
        not_saved["error"]["message"]
            .as_str()
            .unwrap()
            .contains("save this PaymentMethod to a customer"),
        "{not_saved}"
    );
    let retrieved = get(
        &server,
        &account,
        &format!("/v1/payment_methods/{visa_id}?expand[]=customer"),
        200,
    )
    .await;
    assert_eq!(retrieved, detached);
    let expanded = get(
        &server,
        &account,
        &format!("/v1/payment_methods/{mastercard_id}?expand[]=customer"),
        200,
    )
    .await;
    assert_eq!(expanded["customer"]["object"], "customer");
    get(
        &server,
        &account,
        &format!("/v1/payment_methods/{mastercard_id}?expand[]=card"),
        400,
    )
    .await;
}

async fn stripes_test_ids_attach_in_test_mode_only(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let ada = customer(&server, &account.test_key).await;
    let mut made = Vec::new();
    for (id, brand, last4) in [
        ("pm_card_visa", "visa", "4242"),
        ("pm_card_mastercard", "mastercard", "4444"),
        ("pm_card_amex", "amex", "0005"),
        ("pm_card_chargeDeclined", "visa", "0002"),
        ("pm_card_chargeDeclinedInsufficientFunds", "visa", "9995"),
        ("pm_card_chargeCustomerFail", "visa", "0341"),
        ("pm_card_visa", "visa", "4242"),
    ] {
        let method = post(
            &server,
            &account,
            &format!("/v1/payment_methods/{id}/attach"),
            &format!("customer={ada}"),
            200,
        )
        .await;
        let new_id = method["id"].as_str().unwrap().to_string();
        assert!(
            new_id.starts_with("pm_") && !new_id.starts_with("pm_card"),
            "{method}"
        );
        assert_eq!(
            (&method["card"]["brand"], &method["card"]["last4"]),
            (&json!(brand), &json!(last4)),
            "{id}"
        );
        assert_eq!(method["customer"], ada.as_str());
        assert_eq!(method["livemode"], false);
        made.push(new_id);
    }
    made.reverse();
    let listed = get(
        &server,
        &account,
        &format!("/v1/customers/{ada}/payment_methods?limit=100"),
        200,
    )
    .await;
    assert_eq!(ids(&listed), made, "each attach makes a new method");
    // A test id is no object of its own.
    get(&server, &account, "/v1/payment_methods/pm_card_visa", 404).await;

    // In live mode they are unknown ids.
    let live_customer = customer(&server, &account.live_key).await;
    let unknown = call(
        &server,
        &account.live_key,
        Method::POST,
        "/v1/payment_methods/pm_card_visa/attach",
        &format!("customer={live_customer}"),
        404,
    )
    .await;
    assert_eq!(unknown["error"]["code"], "resource_missing");
    assert_eq!(
        unknown["error"]["message"],
        "No such PaymentMethod: 'pm_card_visa'"
    );
}

async fn payment_methods_of_other_accounts_and_modes_are_not_found(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let other = server.account("Other").await;
    let ada = customer(&server, &account.test_key).await;
    let saved = post(
        &server,
        &account,
        "/v1/payment_methods/pm_card_visa/attach",
        &format!("customer={ada}"),
        200,
    )
    .await;
    let id = saved["id"].as_str().unwrap();
    let (_, paid) = checkout(&server, &account, PAYMENT, "4242424242424242").await;
    let intent = get(
        &server,
        &account,
        &format!(
            "/v1/payment_intents/{}",
            paid["payment_intent"].as_str().unwrap()
        ),
        200,
    )
    .await;
    let spent = intent["payment_method"].as_str().unwrap();

    for key in [&other.test_key, &account.live_key] {
        let theirs = customer(&server, key).await;
        for method in [id, spent] {
            let missing = call(
                &server,
                key,
                Method::GET,
                &format!("/v1/payment_methods/{method}"),
                "",
                404,
            )
            .await;
            assert_eq!(missing["error"]["code"], "resource_missing");
            for (action, body) in [
                ("attach", format!("customer={theirs}")),
                ("detach", String::new()),
            ] {
                call(
                    &server,
                    key,
                    Method::POST,
                    &format!("/v1/payment_methods/{method}/{action}"),
                    &body,
                    404,
                )
                .await;
            }
            call(
                &server,
                key,
                Method::POST,
                &format!("/v1/payment_methods/{method}"),
                "metadata[a]=b",
                404,
            )
            .await;
        }
        let listed = call(&server, key, Method::GET, "/v1/payment_methods", "", 200).await;
        assert_eq!(listed["data"], json!([]));
        call(
            &server,
            key,
            Method::GET,
            &format!("/v1/customers/{ada}/payment_methods"),
            "",
            404,
        )
        .await;
        let foreign = call(
            &server,
            key,
            Method::GET,
            &format!("/v1/payment_methods?customer={ada}"),
            "",
            400,
        )
        .await;
        assert_eq!(foreign["error"]["param"], "customer");
        // Nor can the account attach its own method to their customer.
        let refused = post(
            &server,
            &account,
            "/v1/payment_methods/pm_card_visa/attach",
            &format!("customer={theirs}"),
            400,
        )
        .await;
        assert_eq!(refused["error"]["param"], "customer");
    }
    // Nothing of theirs changed ours.
    assert_eq!(
        get(&server, &account, &format!("/v1/payment_methods/{id}"), 200).await,
        saved
    );
}

async fn the_card_that_can_only_be_saved_declines_every_charge(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let caller = account.caller(false);
    let today = processor::year_month(server.clock.now());

    // Saving it at checkout succeeds...
    let ada = customer(&server, &account.test_key).await;
    let (status, saved) = checkout(
        &server,
        &account,
        &format!("mode=setup&currency=usd&customer={ada}"),
        "4000000000000341",
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["status"], "complete");
    let listed = get(
        &server,
        &account,
        &format!("/v1/customers/{ada}/payment_methods"),
        200,
    )
    .await;
    assert_eq!(listed["data"][0]["card"]["last4"], "0341");
    let id = listed["data"][0]["id"].as_str().unwrap();
    // ...and every later charge of it is declined.
    let method = payment_methods::get_payment_method(&server.db, &caller, id)
        .await
        .unwrap();
    for _ in 0..2 {
        let decline = processor::charge_saved_card(&method, today).unwrap_err();
        assert_eq!(
            (decline.code, decline.decline_code),
            ("card_declined", Some("generic_decline"))
        );
    }

    // In payment mode its first charge is declined too.
    let (status, declined) = checkout(&server, &account, PAYMENT, "4000000000000341").await;
    assert_eq!(status, 402, "{declined}");
    assert_eq!(declined["error"]["code"], "card_declined");
    assert_eq!(declined["error"]["decline_code"], "generic_decline");

    // Stripe's test ids: the failing ones fail later charges, the others pass.
    for (test_id, decline_code) in [
        ("pm_card_chargeCustomerFail", Some("generic_decline")),
        ("pm_card_chargeDeclined", Some("generic_decline")),
        (
            "pm_card_chargeDeclinedInsufficientFunds",
            Some("insufficient_funds"),
        ),
        ("pm_card_visa", None),
        ("pm_card_amex", None),
    ] {
        let attached = post(
            &server,
            &account,
            &format!("/v1/payment_methods/{test_id}/attach"),
            &format!("customer={ada}"),
            200,
        )
        .await;
        let method = payment_methods::get_payment_method(
            &server.db,
            &caller,
            attached["id"].as_str().unwrap(),
        )
        .await
        .unwrap();
        let charged = processor::charge_saved_card(&method, today);
        assert_eq!(
            charged.err().and_then(|d| d.decline_code),
            decline_code,
            "{test_id}"
        );
    }
}

/// Before PaymentMethods had a table, a setup session's card lived on its SetupIntent and a
/// payment's on its charge; the migration that adds the table makes each a PaymentMethod.
async fn cards_saved_before_payment_methods_had_a_table_are_rebuilt(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let mut server = TestServer::start_on(TestDatabase::reuse(&database)).await;
    let account = server.account("Acme").await;
    let ada = customer(&server, &account.test_key).await;
    let (status, _) = checkout(
        &server,
        &account,
        &format!("mode=setup&currency=usd&customer={ada}"),
        "5555555555554444",
    )
    .await;
    assert_eq!(status, 200);
    let (_, paid) = checkout(&server, &account, PAYMENT, "4242424242424242").await;
    let intent_path = format!(
        "/v1/payment_intents/{}",
        paid["payment_intent"].as_str().unwrap()
    );
    server.shut_down().await.unwrap();

    // The database as it was before the migration that adds the table.
    let db = database.open().await;
    for statement in [
        "DROP TABLE payment_methods",
        "ALTER TABLE payment_intents DROP COLUMN payment_method_id",
        "ALTER TABLE charges DROP COLUMN payment_method_id",
        "ALTER TABLE setup_intents DROP COLUMN payment_method_id",
        "DELETE FROM _sqlx_migrations WHERE version = 17",
    ] {
        db.execute(statement, &[]).await.unwrap();
    }
    db.close().await;

    let server = TestServer::start_on(TestDatabase::reuse(&database)).await;
    let saved = get(
        &server,
        &account,
        &format!("/v1/customers/{ada}/payment_methods"),
        200,
    )
    .await;
    let method = &saved["data"][0];
    assert_eq!(method["card"]["last4"], "4444");
    assert_eq!(method["customer"], ada.as_str());
    assert_eq!(method["billing_details"]["email"], "ada@example.com");
    let intent = get(&server, &account, &intent_path, 200).await;
    let spent = intent["payment_method"].as_str().unwrap();
    let charge = get(
        &server,
        &account,
        &format!("/v1/charges/{}", intent["latest_charge"].as_str().unwrap()),
        200,
    )
    .await;
    assert_eq!(charge["payment_method"], spent);
    let method = get(
        &server,
        &account,
        &format!("/v1/payment_methods/{spent}"),
        200,
    )
    .await;
    assert_eq!(
        (&method["card"]["last4"], &method["customer"]),
        (&json!("4242"), &Value::Null)
    );
    assert_eq!(method["billing_details"]["name"], "Ada Lovelace");
}
