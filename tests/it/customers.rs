//! `/v1/customers`, and sessions that point to a customer.

use reqwest::Method;
use serde_json::json;

use crate::harness::{Engine, TestServer, json_with_status, on_both_engines};

on_both_engines!(
    customers_are_created_updated_listed_and_deleted,
    sessions_point_to_an_existing_customer,
    customers_stay_in_their_account_and_mode,
    a_field_with_an_empty_name_is_an_unknown_parameter,
    the_default_payment_method_is_one_attached_to_the_customer,
);

async fn customers_are_created_updated_listed_and_deleted(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let created = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/customers",
                "email=ada%40example.com&name=Ada+Lovelace&phone=%2B44+20+7946+0000\
                 &address[line1]=12+St+James%27s+Sq&address[city]=London&address[country]=gb\
                 &metadata[crm]=7&preferred_locales[]=",
            )
            .await,
        200,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("cus_"), "{id}");
    assert_eq!(created["object"], "customer");
    assert_eq!(created["email"], "ada@example.com");
    assert_eq!(created["name"], "Ada Lovelace");
    assert_eq!(created["address"]["country"], "GB");
    assert_eq!(created["address"]["line2"], json!(null));
    assert_eq!(created["metadata"], json!({"crm": "7"}));
    assert_eq!(created["livemode"], false);
    assert_eq!(created["balance"], 0);
    assert_eq!(
        created["invoice_settings"]["default_payment_method"],
        json!(null)
    );

    // Update: an empty value clears a field and removes a metadata key.
    let path = format!("/v1/customers/{id}");
    let updated = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                &path,
                "phone=&metadata[crm]=&metadata[tier]=gold&address=",
            )
            .await,
        200,
    )
    .await;
    assert_eq!(updated["phone"], json!(null));
    assert_eq!(updated["address"], json!(null));
    assert_eq!(updated["metadata"], json!({"tier": "gold"}));
    assert_eq!(updated["email"], "ada@example.com");
    // The event says what changed, as it was (Stripe's `previous_attributes`).
    let events = json_with_status(
        server
            .with_key(
                Method::GET,
                "/v1/events?type=customer.updated",
                &account.test_key,
            )
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let previous = &events["data"][0]["data"]["previous_attributes"];
    assert_eq!(previous["phone"], "+44 20 7946 0000");
    assert_eq!(previous["address"], created["address"]);
    assert_eq!(previous["metadata"], json!({"crm": "7", "tier": null}));
    assert_eq!(previous.get("email"), None, "{previous}");

    let other = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/customers",
                "email=bo%40example.com",
            )
            .await,
        200,
    )
    .await;

    let listed = json_with_status(
        server
            .with_key(Method::GET, "/v1/customers?limit=1", &account.test_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(listed["url"], "/v1/customers");
    assert_eq!(listed["has_more"], true);
    assert_eq!(listed["data"][0]["id"], other["id"]);
    let by_email = json_with_status(
        server
            .with_key(
                Method::GET,
                "/v1/customers?email=ada%40example.com",
                &account.test_key,
            )
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(by_email["data"].as_array().unwrap().len(), 1);
    assert_eq!(by_email["data"][0]["id"], id.as_str());

    // Errors name the parameter.
    let bad = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/customers",
                "email=not-an-email",
            )
            .await,
        400,
    )
    .await;
    assert_eq!(bad["error"]["param"], "email");
    let unknown = json_with_status(
        server
            .form(&account, Method::POST, "/v1/customers", "colour=blue")
            .await,
        400,
    )
    .await;
    assert_eq!(unknown["error"]["param"], "colour");

    // Delete: a stub on retrieve, gone from lists, no more updates.
    let deleted = json_with_status(
        server
            .with_key(Method::DELETE, &path, &account.test_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        deleted,
        json!({"id": id, "object": "customer", "deleted": true})
    );
    let retrieved = json_with_status(
        server
            .with_key(Method::GET, &path, &account.test_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(retrieved["deleted"], true);
    let listed = json_with_status(
        server
            .with_key(Method::GET, "/v1/customers", &account.test_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let again = json_with_status(
        server.form(&account, Method::POST, &path, "name=X").await,
        404,
    )
    .await;
    assert_eq!(again["error"]["code"], "resource_missing");

    let events = kassa::store::events::events_for_object(&server.db, &account.caller(false), &id)
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["customer.created", "customer.updated", "customer.deleted"]
    );
}

async fn sessions_point_to_an_existing_customer(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let customer = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/customers",
                "email=cy%40example.com",
            )
            .await,
        200,
    )
    .await;
    let customer_id = customer["id"].as_str().unwrap();
    let line = "mode=payment&line_items[0][price_data][currency]=usd\
                &line_items[0][price_data][unit_amount]=900\
                &line_items[0][price_data][product_data][name]=Mug&line_items[0][quantity]=1";
    let session = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/checkout/sessions",
                &format!("{line}&customer={customer_id}&expand[]=customer"),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(session["customer"]["id"], customer_id);
    assert_eq!(session["customer"]["email"], "cy@example.com");
    let plain = json_with_status(
        server
            .with_key(
                Method::GET,
                &format!("/v1/checkout/sessions/{}", session["id"].as_str().unwrap()),
                &account.test_key,
            )
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(plain["customer"], customer_id);

    for (extra, param) in [
        ("customer=cus_nothere".to_string(), "customer"),
        (
            format!("customer={customer_id}&customer_email=a%40b.example"),
            "customer_email",
        ),
        (
            format!("customer={customer_id}&customer_creation=always"),
            "customer_creation",
        ),
        (
            "customer_creation=sometimes".to_string(),
            "customer_creation",
        ),
    ] {
        let error = json_with_status(
            server
                .form(
                    &account,
                    Method::POST,
                    "/v1/checkout/sessions",
                    &format!("{line}&{extra}"),
                )
                .await,
            400,
        )
        .await;
        assert_eq!(error["error"]["param"], param, "{extra}: {error}");
    }
}

async fn customers_stay_in_their_account_and_mode(engine: Engine) {
    let server = TestServer::start(engine).await;
    let acme = server.account("Acme").await;
    let globex = server.account("Globex").await;
    let customer = json_with_status(
        server
            .form(&acme, Method::POST, "/v1/customers", "name=Dee")
            .await,
        200,
    )
    .await;
    let path = format!("/v1/customers/{}", customer["id"].as_str().unwrap());
    for key in [&globex.test_key, &acme.live_key] {
        let response = server
            .with_key(Method::GET, &path, key)
            .send()
            .await
            .unwrap();
        json_with_status(response, 404).await;
        let listed = json_with_status(
            server
                .with_key(Method::GET, "/v1/customers", key)
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        assert_eq!(listed["data"], json!([]));
    }
}

/// `=x` in a form is a parameter with an empty name: refused like any unknown parameter
/// (it used to be dropped silently while `colour=red` was refused).
async fn a_field_with_an_empty_name_is_an_unknown_parameter(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    for body in ["email=ada%40example.com&=x", "=&name=Ada", "colour=red"] {
        let error = json_with_status(
            server
                .form(&account, Method::POST, "/v1/customers", body)
                .await,
            400,
        )
        .await;
        assert_eq!(error["error"]["code"], "parameter_unknown", "{body}");
    }
    let listed = json_with_status(
        server
            .form(&account, Method::GET, "/v1/customers", "")
            .await,
        200,
    )
    .await;
    assert_eq!(listed["data"], json!([]), "nothing was created");
}

/// `invoice_settings[default_payment_method]`: set to a method attached to the customer (and
/// to no other), cleared with an empty value or when the method is detached.
async fn the_default_payment_method_is_one_attached_to_the_customer(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let send = async |path: &str, body: &str, status: u16| {
        let response = server.form(&account, Method::POST, path, body).await;
        json_with_status(response, status).await
    };
    let ada = send("/v1/customers", "name=Ada", 200).await;
    let ada = ada["id"].as_str().unwrap();
    let bo = send("/v1/customers", "name=Bo", 200).await;
    let bo = bo["id"].as_str().unwrap();
    let attach = format!("customer={ada}");
    let card = send("/v1/payment_methods/pm_card_visa/attach", &attach, 200).await;
    let card = card["id"].as_str().unwrap();
    let setting = format!("invoice_settings[default_payment_method]={card}");

    // Not on another customer, nor on a new one, to which nothing is attached yet.
    for path in [format!("/v1/customers/{bo}"), "/v1/customers".to_string()] {
        let error = send(&path, &setting, 400).await;
        assert_eq!(
            error["error"]["param"], "invoice_settings[default_payment_method]",
            "{error}"
        );
    }
    let error = send(
        &format!("/v1/customers/{ada}"),
        "invoice_settings[default_payment_method]=pm_nope",
        400,
    )
    .await;
    assert_eq!(error["error"]["code"], "resource_missing");

    let set = send(&format!("/v1/customers/{ada}"), &setting, 200).await;
    assert_eq!(set["invoice_settings"]["default_payment_method"], card);
    let cleared = send(
        &format!("/v1/customers/{ada}"),
        "invoice_settings[default_payment_method]=",
        200,
    )
    .await;
    assert_eq!(
        cleared["invoice_settings"]["default_payment_method"],
        json!(null)
    );
    send(&format!("/v1/customers/{ada}"), &setting, 200).await;
    send(&format!("/v1/payment_methods/{card}/detach"), "", 200).await;
    let read = json_with_status(
        server
            .form(&account, Method::GET, &format!("/v1/customers/{ada}"), "")
            .await,
        200,
    )
    .await;
    assert_eq!(
        read["invoice_settings"]["default_payment_method"],
        json!(null)
    );
    // Other invoice settings are Stripe's that kassa does not keep.
    let error = send(
        &format!("/v1/customers/{ada}"),
        "invoice_settings[footer]=Thanks",
        400,
    )
    .await;
    assert_eq!(error["error"]["param"], "invoice_settings[footer]");
}
