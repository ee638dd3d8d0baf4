//! Nothing a client sends is dropped in silence, and every refusal is Stripe's exact answer:
//! unknown and misspelt parameters, Stripe parameters kassa does not implement, `expand[]`,
//! ids that name nothing, clearing metadata, NUL characters and merchant URLs.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Engine, TestAccount, TestServer, json_with_status, on_both_engines};

on_both_engines!(
    misspelt_and_undefined_parameters_are_refused_by_name,
    stripe_parameters_kassa_lacks_change_nothing_or_are_refused,
    expand_follows_stripe,
    ids_that_name_nothing_are_resource_missing,
    an_empty_metadata_removes_every_key,
    nul_characters_are_refused_on_every_surface,
    merchant_urls_are_read_as_browsers_read_them,
);

/// Requests on one account with its test key.
struct Client<'a> {
    server: &'a TestServer,
    account: &'a TestAccount,
}

impl<'a> Client<'a> {
    async fn form(&self, method: Method, path: &str, body: &str, status: u16) -> Value {
        let response = self.server.form(self.account, method, path, body).await;
        json_with_status(response, status).await
    }

    async fn json(&self, method: Method, path: &str, body: Value, status: u16) -> Value {
        let response = self
            .server
            .with_key(method, path, &self.account.test_key)
            .json(&body)
            .send()
            .await
            .unwrap();
        json_with_status(response, status).await
    }

    async fn get(&self, path: &str, status: u16) -> Value {
        let response = self
            .server
            .with_key(Method::GET, path, &self.account.test_key)
            .send()
            .await
            .unwrap();
        json_with_status(response, status).await
    }

    async fn price(&self) -> String {
        let product = self
            .form(
                Method::POST,
                "/v1/products",
                "name=Shirt&default_price_data[currency]=usd&default_price_data[unit_amount]=2500",
                200,
            )
            .await;
        product["default_price"].as_str().unwrap().to_string()
    }
}

/// A Stripe error: its `code` (or none), `param` and message.
fn refused(body: &Value, code: Option<&str>, param: &str) -> String {
    let error = &body["error"];
    assert_eq!(error["type"], "invalid_request_error", "{body}");
    assert_eq!(error["code"].as_str(), code, "{body}");
    assert_eq!(error["param"], param, "{body}");
    error["message"].as_str().unwrap().to_string()
}

async fn misspelt_and_undefined_parameters_are_refused_by_name(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Client {
        server: &server,
        account: &account,
    };
    let price = api.price().await;

    // A misspelt name is refused, with the name it most likely meant; the customer's email is
    // never lost in silence.
    let typo = format!("line_items[0][price]={price}&custmer_email=x%40example.com");
    let error = api
        .form(Method::POST, "/v1/checkout/sessions", &typo, 400)
        .await;
    let message = refused(&error, Some("parameter_unknown"), "custmer_email");
    assert_eq!(
        message,
        "Received unknown parameter: custmer_email. Did you mean customer_email?"
    );
    let error = api
        .json(
            Method::POST,
            "/api/v3/checkout/sessions",
            json!({"line_items": [{"price": price}], "custmer_email": "x@example.com"}),
            400,
        )
        .await;
    refused(&error, Some("parameter_unknown"), "custmer_email");
    // Nested names are named in full, and names nothing resembles get no suggestion.
    let nested = format!("line_items[0][price]={price}&line_items[0][quantiy]=2");
    let error = api
        .form(Method::POST, "/v1/checkout/sessions", &nested, 400)
        .await;
    let message = refused(&error, Some("parameter_unknown"), "line_items[0][quantiy]");
    assert!(message.ends_with("Did you mean quantity?"), "{message}");
    let error = api
        .form(Method::POST, "/v1/products", "name=P&zz_unknown=1", 400)
        .await;
    assert_eq!(
        refused(&error, Some("parameter_unknown"), "zz_unknown"),
        "Received unknown parameter: zz_unknown"
    );

    // V3 products take Stripe's default_price_data, and refuse what they do not define.
    let product = api
        .json(
            Method::POST,
            "/api/v3/products",
            json!({"name": "Pro", "default_price_data": {"currency": "eur", "unit_amount": 900},
                   "expand": ["default_price"]}),
            200,
        )
        .await;
    assert_eq!(product["default_price"]["unit_amount"], 900);
    assert_eq!(product["default_price"]["currency"], "eur");
    assert_eq!(product["priceAmount"], "9.00");
    let error = api
        .json(
            Method::POST,
            "/api/v3/products",
            json!({"name": "Pro", "colour": "red"}),
            400,
        )
        .await;
    refused(&error, Some("parameter_unknown"), "colour");
    let error = api
        .json(
            Method::POST,
            "/api/v3/products",
            json!({"name": "Pro", "priceAmount": 9,
                   "default_price_data": {"currency": "eur", "unit_amount": 900}}),
            400,
        )
        .await;
    refused(&error, Some("parameter_invalid"), "default_price_data");

    // The Loops V1/V2 surfaces refuse unknown names too, in their own shape.
    let response = server
        .with_key(Method::POST, "/api/v2/products", &account.test_key)
        .json(&json!({"name": "P", "colour": "red"}))
        .send()
        .await
        .unwrap();
    let error = json_with_status(response, 400).await;
    assert_eq!(error["statusCode"], 400);
    assert_eq!(error["code"], "parameter_unknown");
    assert_eq!(error["param"], "colour");

    // Query strings: a list filter a list does not have, a retrieve's and a delete's
    // parameters, and a query string on an operation that takes a body.
    let customer = api
        .form(Method::POST, "/v1/customers", "email=a%40b.example", 200)
        .await;
    let customer = customer["id"].as_str().unwrap();
    for (method, path) in [
        (Method::GET, "/v1/webhook_endpoints?created=1".to_string()),
        (Method::GET, "/v1/payment_links?created[gte]=1".to_string()),
        (
            Method::GET,
            format!("/v1/customers/{customer}?zz_unknown=1"),
        ),
        (
            Method::DELETE,
            format!("/v1/customers/{customer}?zz_unknown=1"),
        ),
        (Method::GET, "/api/v3/products?zz_unknown=1".to_string()),
        (Method::POST, "/v1/products?zz_unknown=1".to_string()),
    ] {
        let response = server
            .with_key(method.clone(), &path, &account.test_key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("name=P")
            .send()
            .await
            .unwrap();
        let error = json_with_status(response, 400).await;
        assert_eq!(
            error["error"]["code"], "parameter_unknown",
            "{method} {path}: {error}"
        );
    }
    // Expiring takes `expand` only, as on Stripe.
    let session = api
        .form(
            Method::POST,
            "/v1/checkout/sessions",
            &format!("line_items[0][price]={price}"),
            200,
        )
        .await;
    let expire = format!(
        "/v1/checkout/sessions/{}/expire",
        session["id"].as_str().unwrap()
    );
    let error = api.form(Method::POST, &expire, "reason=late", 400).await;
    refused(&error, Some("parameter_unknown"), "reason");
    assert_eq!(
        api.get(&expire.replace("/expire", ""), 200).await["status"],
        "open"
    );
}

async fn stripe_parameters_kassa_lacks_change_nothing_or_are_refused(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Client {
        server: &server,
        account: &account,
    };
    let price = api.price().await;
    let line = format!("line_items[0][price]={price}");

    // Values that change nothing are accepted and show in the answer.
    let inert = format!(
        "{line}&automatic_tax[enabled]=false&phone_number_collection[enabled]=false\
         &locale=auto&ui_mode=hosted&consent_collection[terms_of_service]=none\
         &allow_promotion_codes=false&customer_update[address]=never&origin_context=web\
         &payment_method_collection=always&custom_fields=&discounts="
    );
    let session = api
        .form(Method::POST, "/v1/checkout/sessions", &inert, 200)
        .await;
    assert_eq!(session["automatic_tax"]["enabled"], false);
    assert_eq!(session["phone_number_collection"]["enabled"], false);
    assert_eq!(session["locale"], "auto");
    assert_eq!(session["ui_mode"], "hosted");

    // Any other value is refused by name, without a code, never a 200 that ignores it.
    for (extra, param, value) in [
        (
            "automatic_tax[enabled]=true",
            "automatic_tax[enabled]",
            "true",
        ),
        ("ui_mode=embedded", "ui_mode", "embedded"),
        ("ui_mode=elements", "ui_mode", "elements"),
        ("locale=fr", "locale", "fr"),
        (
            "allow_promotion_codes=true",
            "allow_promotion_codes",
            "true",
        ),
        (
            "subscription_data[trial_settings][end_behavior][missing_payment_method]=pause",
            "subscription_data[trial_settings][end_behavior][missing_payment_method]",
            "pause",
        ),
        (
            "subscription_data[proration_behavior]=create_prorations",
            "subscription_data[proration_behavior]",
            "create_prorations",
        ),
        (
            "consent_collection[terms_of_service]=required",
            "consent_collection[terms_of_service]",
            "required",
        ),
        (
            "payment_method_types[0]=card&payment_method_types[1]=ideal",
            "payment_method_types[1]",
            "ideal",
        ),
        (
            "billing_address_collection=required",
            "billing_address_collection",
            "required",
        ),
        (
            "line_items[0][tax_rates][0]=txr_1",
            "line_items[0][tax_rates][0]",
            "txr_1",
        ),
    ] {
        let error = api
            .form(
                Method::POST,
                "/v1/checkout/sessions",
                &format!("{line}&{extra}"),
                400,
            )
            .await;
        let message = refused(&error, None, param);
        assert_eq!(message, format!("kassa does not support {param}={value}."));
    }
    // The same on V3, in JSON.
    let error = api
        .json(
            Method::POST,
            "/api/v3/checkout/sessions",
            json!({"line_items": [{"price": price}], "ui_mode": "embedded"}),
            400,
        )
        .await;
    refused(&error, None, "ui_mode");
    // And on other objects.
    let error = api
        .form(
            Method::POST,
            "/v1/customers",
            "email=a%40b.example&preferred_locales[0]=de",
            400,
        )
        .await;
    refused(&error, None, "preferred_locales[0]");
    let error = api
        .form(
            Method::POST,
            "/v1/webhook_endpoints",
            "url=https%3A%2F%2Fshop.example%2Fhooks&enabled_events[0]=*&api_version=2020-08-27",
            400,
        )
        .await;
    refused(&error, None, "api_version");
}

async fn expand_follows_stripe(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Client {
        server: &server,
        account: &account,
    };
    let price = api.price().await;
    let line = format!("line_items[0][price]={price}");

    // Only paths that reach objects can be expanded, and nothing is created for a refused one.
    for path in [
        "metadata",
        "line_items.price",
        "payment_intent.latest_charge.balance_transaction",
        "line_items.data.price.product.default_price",
    ] {
        let error = api
            .form(
                Method::POST,
                "/v1/checkout/sessions",
                &format!("{line}&expand[0]={path}"),
                400,
            )
            .await;
        assert_eq!(
            error["error"]["message"],
            format!("This property cannot be expanded ({path})."),
            "{error}"
        );
    }
    let listed = api.get("/v1/checkout/sessions", 200).await;
    assert_eq!(listed["data"], json!([]), "no session was made");

    // Nested paths reach their objects, to four levels.
    let session = api
        .form(
            Method::POST,
            "/v1/checkout/sessions",
            &format!("{line}&expand[0]=line_items.data.price.product"),
            200,
        )
        .await;
    let product = &session["line_items"]["data"][0]["price"]["product"];
    assert_eq!(product["object"], "product", "{session}");
    assert_eq!(product["name"], "Shirt");
    let id = session["id"].as_str().unwrap();
    let retrieved = api
        .get(
            &format!("/v1/checkout/sessions/{id}?expand[]=line_items"),
            200,
        )
        .await;
    assert_eq!(retrieved["line_items"]["data"][0]["price"]["id"], price);
    let plain = api.get(&format!("/v1/checkout/sessions/{id}"), 200).await;
    assert!(
        plain.get("line_items").is_none(),
        "line_items is includable"
    );
    let price_object = api
        .get(
            &format!("/v1/prices/{price}?expand[]=product.default_price"),
            200,
        )
        .await;
    assert_eq!(price_object["product"]["default_price"]["id"], price);

    // Lists expand under `data.`.
    let prices = api.get("/v1/prices?expand[]=data.product", 200).await;
    assert_eq!(prices["data"][0]["product"]["object"], "product");
    let error = api.get("/v1/prices?expand[]=product", 400).await;
    assert_eq!(
        error["error"]["message"],
        "This property cannot be expanded (product)."
    );
}

async fn ids_that_name_nothing_are_resource_missing(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let other = server.account("Globex").await;
    let api = Client {
        server: &server,
        account: &account,
    };
    let price = api.price().await;
    let line = format!("line_items[0][price]={price}");

    let error = api
        .form(
            Method::POST,
            "/v1/checkout/sessions",
            &format!("{line}&customer=5"),
            400,
        )
        .await;
    assert_eq!(
        refused(&error, Some("resource_missing"), "customer"),
        "No such customer: '5'"
    );
    // Another account's customer and price name nothing either.
    let theirs = Client {
        server: &server,
        account: &other,
    };
    let their_customer = theirs
        .form(Method::POST, "/v1/customers", "name=Them", 200)
        .await;
    let their_customer = their_customer["id"].as_str().unwrap();
    let error = api
        .form(
            Method::POST,
            "/v1/checkout/sessions",
            &format!("{line}&customer={their_customer}"),
            400,
        )
        .await;
    refused(&error, Some("resource_missing"), "customer");
    let their_price = theirs.price().await;
    let error = api
        .form(
            Method::POST,
            "/v1/checkout/sessions",
            &format!("line_items[0][price]={their_price}"),
            400,
        )
        .await;
    refused(&error, Some("resource_missing"), "line_items[0][price]");

    // Filters and cursors too, each under its own name.
    for (path, param) in [
        ("/v1/checkout/sessions?customer=cus_nope", "customer"),
        ("/v1/checkout/sessions?payment_link=pl_nope", "payment_link"),
        (
            "/v1/checkout/sessions?payment_intent=pi_nope",
            "payment_intent",
        ),
        ("/v1/prices?product=prod_nope", "product"),
        ("/v1/payment_intents?customer=cus_nope", "customer"),
        ("/v1/customers?starting_after=cus_nope", "starting_after"),
        ("/v1/customers?ending_before=cus_nope", "ending_before"),
        ("/v1/events?ending_before=evt_nope", "ending_before"),
        ("/v1/payment_intents?ending_before=pi_nope", "ending_before"),
    ] {
        let error = api.get(path, 400).await;
        refused(&error, Some("resource_missing"), param);
    }
    // On V3 `customer` is the merchant's own reference, not an id that must exist.
    let session = api
        .json(
            Method::POST,
            "/api/v3/checkout/sessions",
            json!({"line_items": [{"price": price}], "customer": "crm-42"}),
            200,
        )
        .await;
    assert_eq!(session["customer"], "crm-42");

    // Loops V1/V2 keep the 404 they document.
    let response = server
        .with_key(Method::POST, "/api/v2/checkout/sessions", &account.test_key)
        .json(&json!({"productId": "prod_nope"}))
        .send()
        .await
        .unwrap();
    let error = json_with_status(response, 404).await;
    assert_eq!(error["statusCode"], 404);
    assert_eq!(error["message"], "Product not found");
    assert_eq!(error["code"], "resource_missing");
}

async fn an_empty_metadata_removes_every_key(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Client {
        server: &server,
        account: &account,
    };
    let price = api.price().await;
    let keys = "metadata[a]=1&metadata[b]=2";
    let session = api
        .form(
            Method::POST,
            "/v1/checkout/sessions",
            &format!("line_items[0][price]={price}&{keys}"),
            200,
        )
        .await;
    let session_path = format!("/v1/checkout/sessions/{}", session["id"].as_str().unwrap());
    let product = api
        .form(Method::POST, "/v1/products", &format!("name=P&{keys}"), 200)
        .await;
    let customer = api
        .form(
            Method::POST,
            "/v1/customers",
            &format!("name=C&{keys}"),
            200,
        )
        .await;
    let link = api
        .form(
            Method::POST,
            "/v1/payment_links",
            &format!("line_items[0][price]={price}&line_items[0][quantity]=1&{keys}"),
            200,
        )
        .await;
    let endpoint = api
        .form(
            Method::POST,
            "/v1/webhook_endpoints",
            &format!("url=https%3A%2F%2Fshop.example%2Fh&enabled_events[0]=*&{keys}"),
            200,
        )
        .await;
    let paths = [
        session_path,
        format!("/v1/products/{}", product["id"].as_str().unwrap()),
        format!("/v1/prices/{price}"),
        format!("/v1/customers/{}", customer["id"].as_str().unwrap()),
        format!("/v1/payment_links/{}", link["id"].as_str().unwrap()),
        format!("/v1/webhook_endpoints/{}", endpoint["id"].as_str().unwrap()),
    ];
    for path in &paths {
        let set = api.form(Method::POST, path, keys, 200).await;
        assert_eq!(set["metadata"], json!({"a": "1", "b": "2"}), "{path}");
        let one_removed = api.form(Method::POST, path, "metadata[a]=", 200).await;
        assert_eq!(one_removed["metadata"], json!({"b": "2"}), "{path}");
        let cleared = api.form(Method::POST, path, "metadata=", 200).await;
        assert_eq!(cleared["metadata"], json!({}), "{path}");
    }
    // V3: `{}` changes nothing; `""` and `null` remove every key.
    let v3 = api
        .json(
            Method::POST,
            "/api/v3/products",
            json!({"name": "P", "metadata": {"a": "1"}}),
            200,
        )
        .await;
    let v3_path = format!("/api/v3/products/{}", v3["id"].as_str().unwrap());
    let unchanged = api
        .json(Method::PUT, &v3_path, json!({"metadata": {}}), 200)
        .await;
    assert_eq!(
        unchanged["metadata"],
        json!({}),
        "a Loops PUT replaces metadata"
    );
    let again = api
        .json(Method::PUT, &v3_path, json!({"metadata": {"a": "1"}}), 200)
        .await;
    assert_eq!(again["metadata"], json!({"a": "1"}));
    let kept = api
        .json(Method::PUT, &v3_path, json!({"name": "Q"}), 200)
        .await;
    assert_eq!(
        kept["metadata"],
        json!({"a": "1"}),
        "absent changes nothing"
    );
    for empty in [json!(""), json!(null)] {
        api.json(Method::PUT, &v3_path, json!({"metadata": {"a": "1"}}), 200)
            .await;
        let cleared = api
            .json(Method::PUT, &v3_path, json!({"metadata": empty}), 200)
            .await;
        assert_eq!(cleared["metadata"], json!({}), "{empty}");
    }
}

async fn nul_characters_are_refused_on_every_surface(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Client {
        server: &server,
        account: &account,
    };
    let error = api
        .form(Method::POST, "/v1/products", "name=a%00b", 400)
        .await;
    let message = refused(&error, Some("parameter_invalid"), "name");
    assert!(message.contains("NUL"), "{message}");
    // A form without a Content-Type is read as a form, and checked as one.
    let untyped = server
        .with_key(Method::POST, "/v1/customers", &account.test_key)
        .body("name=a%00b")
        .send()
        .await
        .unwrap();
    refused(
        &json_with_status(untyped, 400).await,
        Some("parameter_invalid"),
        "name",
    );
    let error = api
        .form(
            Method::POST,
            "/v1/checkout/sessions",
            "line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=500\
             &line_items[0][price_data][product_data][name]=x%00",
            400,
        )
        .await;
    refused(
        &error,
        Some("parameter_invalid"),
        "line_items[0][price_data][product_data][name]",
    );
    let error = api
        .json(
            Method::POST,
            "/api/v3/products",
            json!({"name": "ok", "metadata": {"note": "a\u{0}b"}}),
            400,
        )
        .await;
    refused(&error, Some("parameter_invalid"), "metadata[note]");
    let error = api.get("/v1/customers?email=a%00b", 400).await;
    refused(&error, Some("parameter_invalid"), "email");
    let response = server
        .with_key(Method::POST, "/api/v2/products", &account.test_key)
        .json(&json!({"name": "a\u{0}"}))
        .send()
        .await
        .unwrap();
    let error = json_with_status(response, 400).await;
    assert_eq!(error["param"], "name");

    // An id with a NUL names nothing: a 404, in JSON on the API and HTML on the pages.
    let error = api.get("/v1/products/prod_%00x", 404).await;
    assert_eq!(error["error"]["type"], "invalid_request_error");
    for path in ["/checkout/cs_test_%00", "/l/pl_%00"] {
        let response = server.request(Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(kind.starts_with("text/html"), "{path}: {kind}");
    }
    // Nothing was stored on either engine.
    assert_eq!(api.get("/v1/products", 200).await["data"], json!([]));
}

async fn merchant_urls_are_read_as_browsers_read_them(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Client {
        server: &server,
        account: &account,
    };
    let price = api.price().await;
    // An international domain name, credentials, and the template as an SDK encodes it are
    // accepted and kept as sent; the page's CSP names the ASCII origin.
    let session = api
        .json(
            Method::POST,
            "/api/v3/checkout/sessions",
            json!({
                "line_items": [{"price": price}],
                "success_url": "https://bücher.example/danke?s=%7BCHECKOUT_SESSION_ID%7D",
                "cancel_url": "https://user:secret@shop.example:8443/back",
            }),
            200,
        )
        .await;
    assert_eq!(
        session["success_url"],
        "https://bücher.example/danke?s=%7BCHECKOUT_SESSION_ID%7D"
    );
    let page = server
        .request(
            Method::GET,
            &format!("/checkout/{}", session["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("form-action 'self' https://xn--bcher-kva.example https://shop.example:8443;"),
        "{csp}"
    );

    // A host a CSP cannot name is refused at creation, wherever a URL is taken.
    let error = api
        .json(
            Method::POST,
            "/api/v3/checkout/sessions",
            json!({"line_items": [{"price": price}], "success_url": "https://my_shop.example/ok"}),
            400,
        )
        .await;
    refused(&error, Some("url_invalid"), "success_url");
    let error = api
        .form(
            Method::POST,
            "/v1/checkout/sessions",
            &format!("line_items[0][price]={price}&cancel_url=shop.example%2Fback"),
            400,
        )
        .await;
    refused(&error, Some("url_invalid"), "cancel_url");
    let error = api
        .form(
            Method::POST,
            "/v1/webhook_endpoints",
            "url=https%3A%2F%2Fmy_hooks.example%2Fh&enabled_events[0]=*",
            400,
        )
        .await;
    refused(&error, Some("url_invalid"), "url");
    let error = api
        .json(
            Method::POST,
            "/api/v3/payment-links",
            json!({"line_items": [{"price": price}], "successUrl": "ftp://shop.example"}),
            400,
        )
        .await;
    refused(&error, Some("url_invalid"), "successUrl");
}
