//! Generated from `/openapi.json`, so that an operation or parameter added later is covered
//! without a test of its own: every `/v1` and V3 operation refuses a parameter it does not
//! define with `parameter_unknown`, and every parameter the document lists (each leaf of a
//! nested body, to Stripe's depth) is sent once on top of a valid request and is either
//! acted on (its value comes back at its path in the answer, or, for the few listed in
//! [`ACTED_ON_ELSEWHERE`], is accepted where its effect shows elsewhere) or refused by name
//! (the error's `param` is that parameter, a part of it, or a parameter inside it).

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{
    Engine, TestAccount, TestDatabase, TestServer, json_with_status, on_both_engines,
};

on_both_engines!(
    every_operation_refuses_an_undefined_parameter,
    every_documented_parameter_comes_back_or_is_refused_by_name,
);

/// Nested parameters are followed this deep (Stripe's own limit for `expand[]` paths too).
const MAX_DEPTH: usize = 4;

/// Parameters that are acted on without coming back as sent at their own path in the answer,
/// and why; any other parameter answered 200 must come back. (operation path suffix,
/// parameter, why.)
const ACTED_ON_ELSEWHERE: &[(&str, &str, &str)] = &[
    (
        "",
        "line_items",
        "lines sit behind the unexpanded line_items of sessions and links",
    ),
    (
        "",
        "default_price_data",
        "the price sits behind default_price, an id",
    ),
    (
        "",
        "payment_intent_data",
        "it is on the PaymentIntent (test_payments.rs checks it)",
    ),
    (
        "/prices",
        "transfer_lookup_key",
        "it moves the lookup key from another price",
    ),
    (
        "/prices/{id}",
        "transfer_lookup_key",
        "it moves the lookup key from another price",
    ),
    ("/{id}", "disabled", "webhook endpoints show it as status"),
    (
        "/pay",
        "card",
        "the card is never shown, only its brand and last 4",
    ),
    ("/pay", "email", "it is the customer's, in customer_details"),
    ("/pay", "name", "it is the customer's, in customer_details"),
    (
        "/advance",
        "frozen_time",
        "it is status_details.advancing.target_frozen_time until the clock is ready",
    ),
];

/// One documented operation on a surface the test covers.
struct Operation {
    method: Method,
    path: String,
    /// The query parameters, or the body's properties: name → schema.
    parameters: Vec<(String, Value)>,
    /// V3 takes JSON bodies; `/v1` takes Stripe's form encoding.
    json_body: bool,
}

fn operations(document: &Value) -> Vec<Operation> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        if !(path.starts_with("/v1/") || path.starts_with("/api/v3/")) {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            let method = match method.as_str() {
                "get" => Method::GET,
                "post" => Method::POST,
                "put" => Method::PUT,
                "delete" => Method::DELETE,
                _ => continue,
            };
            let mut parameters: Vec<(String, Value)> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .map(|p| (p["name"].as_str().unwrap().to_string(), p["schema"].clone()))
                .collect();
            let content = &operation["requestBody"]["content"];
            let json_body = content.get("application/json").is_some();
            if let Some((_, media)) = content.as_object().and_then(|c| c.iter().next()) {
                let schema = resolve(document, &media["schema"]);
                for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                    parameters.push((name.clone(), property.clone()));
                }
            }
            operations.push(Operation {
                method,
                path: path.clone(),
                parameters,
                json_body,
            });
        }
    }
    operations
}

/// `schema` without its `$ref` and without the `null` of an optional value.
fn resolve(document: &Value, schema: &Value) -> Value {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return resolve(document, &document["components"]["schemas"][name]);
    }
    if let Some(choices) = schema["oneOf"].as_array()
        && let Some(choice) = choices.iter().find(|c| c["type"] != "null")
    {
        return resolve(document, choice);
    }
    schema.clone()
}

fn has_type(schema: &Value, wanted: &str) -> bool {
    match &schema["type"] {
        Value::String(t) => t == wanted,
        Value::Array(types) => types.iter().any(|t| t == wanted),
        _ => false,
    }
}

/// The ids a valid request refers to: made once per test, through the API.
struct Fixtures<'a> {
    server: &'a TestServer,
    account: &'a TestAccount,
    product: String,
    price: String,
    customer: String,
    event: String,
    subscription: String,
    /// A succeeded charge of $1 000.00, which refunds take cents of.
    charge: String,
}

impl<'a> Fixtures<'a> {
    async fn new(server: &'a TestServer, account: &'a TestAccount) -> Fixtures<'a> {
        let product = post(
            server,
            account,
            "/v1/products",
            "name=Shirt&default_price_data[currency]=usd&default_price_data[unit_amount]=2500",
        )
        .await;
        let customer = post(server, account, "/v1/customers", "email=ada%40example.com").await;
        let events = get(server, account, "/v1/events?limit=1").await;
        let product_id = product["id"].as_str().unwrap();
        let subscribed = paid_subscription(server, account, product_id).await;
        let session = post(
            server,
            account,
            "/v1/checkout/sessions",
            &format!(
                "mode=payment&line_items[0][price]={}&line_items[0][quantity]=40",
                product["default_price"].as_str().unwrap()
            ),
        )
        .await;
        let id = session["id"].as_str().unwrap();
        let path = format!("/v1/test_helpers/checkout/sessions/{id}/pay");
        let paid = post(
            server,
            account,
            &path,
            "card=4242424242424242&expand[]=payment_intent",
        )
        .await;
        Fixtures {
            server,
            account,
            product: product["id"].as_str().unwrap().into(),
            price: product["default_price"].as_str().unwrap().into(),
            customer: customer["id"].as_str().unwrap().into(),
            event: events["data"][0]["id"].as_str().unwrap().into(),
            subscription: subscribed["subscription"].as_str().unwrap().into(),
            charge: paid["payment_intent"]["latest_charge"]
                .as_str()
                .unwrap()
                .into(),
        }
    }

    /// A new object for the `{id}` of `path`: each probe gets its own, so that one probe's
    /// update, expiry or deletion cannot change what the next one finds.
    async fn object_for(&self, path: &str) -> String {
        let (server, account) = (self.server, self.account);
        let created = if path.contains("/checkout/sessions/") {
            let price = &self.price;
            post(
                server,
                account,
                "/v1/checkout/sessions",
                &format!("mode=payment&line_items[0][price]={price}&line_items[0][quantity]=1"),
            )
            .await
        } else if path.contains("/products/") {
            post(server, account, "/v1/products", "name=Hat").await
        } else if path.contains("/prices/") {
            let product = &self.product;
            post(
                server,
                account,
                "/v1/prices",
                &format!("product={product}&currency=usd&unit_amount=900"),
            )
            .await
        } else if path.contains("/payment_links/") || path.contains("/payment-links/") {
            let price = &self.price;
            post(
                server,
                account,
                "/v1/payment_links",
                &format!("line_items[0][price]={price}&line_items[0][quantity]=1"),
            )
            .await
        } else if path.contains("/customers/") {
            post(server, account, "/v1/customers", "name=Ada").await
        } else if path.contains("/webhook_endpoints/") || path.contains("/webhook-endpoints/") {
            post(
                server,
                account,
                "/v1/webhook_endpoints",
                "url=https%3A%2F%2Fhooks.example%2Fk&enabled_events[0]=*",
            )
            .await
        } else if path.contains("/payment_intents/") {
            let session = Box::pin(self.object_for("/v1/checkout/sessions/")).await;
            let paid = post(
                server,
                account,
                &format!("/v1/test_helpers/checkout/sessions/{session}/pay"),
                "card=4242424242424242",
            )
            .await;
            return paid["payment_intent"].as_str().unwrap().into();
        } else if path.contains("/invoices/") && (path.ends_with("/pay") || path.ends_with("/void"))
        {
            return self.renewal_invoice(path.ends_with("/void")).await;
        } else if path.contains("/subscriptions/")
            || path.contains("/subscription_items/")
            || path.contains("/invoices/")
        {
            let paid = paid_subscription(server, account, &self.product).await;
            return if path.contains("/subscriptions/") {
                paid["subscription"].as_str().unwrap().into()
            } else if path.contains("/invoices/") {
                paid["invoice"].as_str().unwrap().into()
            } else {
                let id = paid["subscription"].as_str().unwrap();
                let sub = get(server, account, &format!("/v1/subscriptions/{id}")).await;
                sub["items"]["data"][0]["id"].as_str().unwrap().into()
            };
        } else if path.contains("/charges/") {
            let intent = Box::pin(self.object_for("/v1/payment_intents/")).await;
            let intent = get(server, account, &format!("/v1/payment_intents/{intent}")).await;
            return intent["latest_charge"].as_str().unwrap().into();
        } else if path.contains("/payment_methods/") {
            // Stripe's test id makes a new method with each attach; the other operations get
            // one attached to the customer (updating and detaching need one).
            if path.ends_with("/attach") {
                return "pm_card_visa".into();
            }
            let customer = &self.customer;
            post(
                server,
                account,
                "/v1/payment_methods/pm_card_visa/attach",
                &format!("customer={customer}"),
            )
            .await
        } else if path.contains("/events/") {
            return self.event.clone();
        } else if path.contains("/refunds/") {
            post(
                server,
                account,
                "/v1/refunds",
                &format!("charge={}&amount=1", self.charge),
            )
            .await
        } else if path.contains("/test_clocks/") {
            post(
                server,
                account,
                "/v1/test_helpers/test_clocks",
                "frozen_time=1800000000",
            )
            .await
        } else {
            panic!("no object for {path}: add one to Fixtures::object_for");
        };
        created["id"].as_str().unwrap().into()
    }

    /// A subscription's renewal invoice: a draft, to pay; or, to void, open after a declined
    /// charge. The server's clock moves to the renewal's time and the engine runs.
    async fn renewal_invoice(&self, open: bool) -> String {
        let (server, account) = (self.server, self.account);
        let paid = paid_subscription(server, account, &self.product).await;
        let id = paid["subscription"].as_str().unwrap();
        let sub = get(server, account, &format!("/v1/subscriptions/{id}")).await;
        if open {
            let method = post(
                server,
                account,
                "/v1/payment_methods/pm_card_chargeCustomerFail/attach",
                &format!("customer={}", sub["customer"].as_str().unwrap()),
            )
            .await;
            let method = method["id"].as_str().unwrap();
            post(
                server,
                account,
                &format!("/v1/subscriptions/{id}"),
                &format!("default_payment_method={method}"),
            )
            .await;
        }
        let end = sub["current_period_end"].as_i64().unwrap();
        let processor = kassa::domain::billing::engine::SimulatedProcessor;
        for at in [end, end + 3600].into_iter().take(if open { 2 } else { 1 }) {
            server.clock.set(at);
            kassa::domain::billing::engine::run_due(
                &server.db,
                &processor,
                at,
                kassa::domain::billing::engine::LEASE_SECONDS,
                &server.base,
            )
            .await
            .unwrap();
        }
        let sub = get(server, account, &format!("/v1/subscriptions/{id}")).await;
        sub["latest_invoice"].as_str().unwrap().into()
    }

    /// The least request `operation` accepts, as JSON (form-encoded for `/v1`).
    fn base(&self, operation: &Operation) -> Value {
        let price = &self.price;
        if operation.path.starts_with("/v1/test_helpers/") && operation.path.ends_with("/pay") {
            return json!({"card": "4242424242424242"});
        }
        if operation.path == "/v1/subscription_items" {
            return json!({"subscription": self.subscription});
        }
        if operation.path.ends_with("/attach") {
            return json!({"customer": self.customer});
        }
        if operation.path.ends_with("/advance") {
            return json!({"frozen_time": 1_900_000_000});
        }
        let is_create = operation.method == Method::POST && !operation.path.contains('{');
        if !is_create {
            return json!({});
        }
        match operation.path.as_str() {
            "/v1/checkout/sessions" => json!({
                "mode": "payment",
                "line_items": [{"price": price, "quantity": 1}],
                "success_url": "https://shop.example/ok",
            }),
            "/api/v3/checkout/sessions" => json!({
                "line_items": [{"price": price, "quantity": 1}],
                "success_url": "https://shop.example/ok",
            }),
            "/v1/payment_links" | "/api/v3/payment-links" => {
                json!({"line_items": [{"price": price, "quantity": 1}]})
            }
            "/v1/prices" => json!({"product": self.product, "currency": "usd", "unit_amount": 900}),
            "/v1/products" | "/api/v3/products" => json!({"name": "Shirt"}),
            "/v1/customers" | "/api/v3/account" => json!({}),
            "/v1/test_helpers/test_clocks" => json!({"frozen_time": 1_800_000_000}),
            "/v1/refunds" | "/api/v3/refunds" => json!({"charge": self.charge, "amount": 1}),
            "/v1/billing_portal/sessions" => json!({
                "customer": self.customer,
                "return_url": "https://shop.example/account",
            }),
            "/api/v3/customer-portal/sessions" => json!({
                "customer": self.customer,
                "returnUrl": "https://shop.example/ok",
            }),
            "/v1/webhook_endpoints" | "/api/v3/webhook-endpoints" => json!({
                "url": "https://hooks.example/k",
                "enabled_events": ["*"],
            }),
            other => panic!("no valid request for POST {other}: add one to Fixtures::base"),
        }
    }

    /// A value for the parameter `name` of `schema`: a valid one where the name says what
    /// it is, else one of the schema's type.
    fn value(&self, name: &str, schema: &Value) -> Value {
        match name {
            "url" | "success_url" | "cancel_url" | "return_url" => json!("https://shop.example/ok"),
            "email" | "customer_email" | "receipt_email" => json!("ada@example.com"),
            "currency" => json!("usd"),
            "price" => json!(self.price),
            "product" | "productId" => json!(self.product),
            "customer" => json!(self.customer),
            "card" => json!("4242424242424242"),
            "unit_amount" | "amount" => json!(1500),
            "quantity" | "limit" => json!(2),
            "minimum" => json!(1),
            "interval" => json!("month"),
            // The one amount type that needs no amount beside it.
            "amountType" => json!("FREE"),
            "country" => json!("DE"),
            // After the fixtures' clocks' time (1800000000), as an advance needs.
            "frozen_time" => json!(1_900_000_000),
            _ => {
                if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
                    first.clone()
                } else if has_type(schema, "boolean") {
                    json!(true)
                } else if has_type(schema, "integer") {
                    json!(2)
                } else if has_type(schema, "number") {
                    json!(2.5)
                } else if has_type(schema, "object") {
                    json!({"zz": "1"})
                } else {
                    json!("zz")
                }
            }
        }
    }
}

/// Each leaf under a parameter: its path (`a[b][0][c]`) and the value to send for it,
/// nested as the request carries it.
fn leaves(
    document: &Value,
    fixtures: &Fixtures<'_>,
    name: &str,
    schema: &Value,
    depth: usize,
) -> Vec<(Vec<String>, Value)> {
    let schema = resolve(document, schema);
    let properties = schema["properties"].as_object().filter(|p| !p.is_empty());
    if let (Some(properties), true) = (properties, depth < MAX_DEPTH) {
        return properties
            .iter()
            .flat_map(|(key, property)| {
                leaves(document, fixtures, key, property, depth + 1)
                    .into_iter()
                    .map(move |(mut path, value)| {
                        path.insert(0, name.to_string());
                        (path, json!({ key: value }))
                    })
            })
            .collect();
    }
    if has_type(&schema, "array") {
        let items = resolve(document, &schema["items"]);
        if items["properties"].is_object() && depth < MAX_DEPTH {
            return leaves(document, fixtures, "0", &items, depth + 1)
                .into_iter()
                .map(|(mut path, value)| {
                    path.insert(0, name.to_string());
                    (path, json!([value]))
                })
                .collect();
        }
        return vec![(
            vec![name.to_string()],
            json!([fixtures.value(name, &items)]),
        )];
    }
    vec![(vec![name.to_string()], fixtures.value(name, &schema))]
}

/// `a[b][0][c]`, as Stripe names a nested parameter.
fn bracketed(path: &[String]) -> String {
    let mut name = path[0].clone();
    for part in &path[1..] {
        name.push_str(&format!("[{part}]"));
    }
    name
}

/// `extra` merged into `base` (objects key by key; arrays item by item).
fn merge(base: &mut Value, extra: Value) {
    match (base, extra) {
        (Value::Object(base), Value::Object(extra)) => {
            for (key, value) in extra {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (Value::Array(base), Value::Array(extra)) => {
            for (i, value) in extra.into_iter().enumerate() {
                match base.get_mut(i) {
                    Some(existing) => merge(existing, value),
                    None => base.push(value),
                }
            }
        }
        (base, extra) => *base = extra,
    }
}

/// Stripe's form encoding of a JSON object: `a[b][0]=v`.
fn form_encode(value: &Value) -> String {
    fn walk(prefix: &str, value: &Value, out: &mut form_urlencoded::Serializer<'_, String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    let name = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}[{key}]")
                    };
                    walk(&name, value, out);
                }
            }
            Value::Array(items) => {
                for (i, value) in items.iter().enumerate() {
                    walk(&format!("{prefix}[{i}]"), value, out);
                }
            }
            Value::String(text) => {
                out.append_pair(prefix, text);
            }
            Value::Null => {}
            other => {
                out.append_pair(prefix, &other.to_string());
            }
        }
    }
    let mut out = form_urlencoded::Serializer::new(String::new());
    walk("", value, &mut out);
    out.finish()
}

/// Sends `params` to `operation`, in the query or the body as the operation takes them.
async fn send(fixtures: &Fixtures<'_>, operation: &Operation, params: &Value) -> (u16, Value) {
    let mut path = operation.path.clone();
    if path.contains("{id}") {
        let id = fixtures.object_for(&path).await;
        path = path.replace("{id}", &id);
    }
    let server = fixtures.server;
    let key = &fixtures.account.test_key;
    let query = operation.method == Method::GET || operation.method == Method::DELETE;
    let request = if query {
        let encoded = form_encode(params);
        let separator = if encoded.is_empty() { "" } else { "?" };
        server.with_key(
            operation.method.clone(),
            &format!("{path}{separator}{encoded}"),
            key,
        )
    } else if operation.json_body {
        server
            .with_key(operation.method.clone(), &path, key)
            .json(params)
    } else {
        server
            .with_key(operation.method.clone(), &path, key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_encode(params))
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let streaming = response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
    if streaming {
        return (status, Value::Null);
    }
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn every_operation_refuses_an_undefined_parameter(engine: Engine) {
    // Invoices to pay or void come from the billing engine, run here at the fixtures' times.
    let server = TestServer::start_configured(TestDatabase::new(engine).await, |config| {
        config.billing_interval = None;
    })
    .await;
    let account = server.account("Acme").await;
    let fixtures = Fixtures::new(&server, &account).await;
    let document = get(&server, &account, "/openapi.json").await;
    let operations = operations(&document);
    assert!(operations.len() > 40, "{} operations", operations.len());
    for operation in &operations {
        let mut params = fixtures.base(operation);
        merge(&mut params, json!({"zz_unknown": 1}));
        let (status, body) = send(&fixtures, operation, &params).await;
        let what = format!("{} {}", operation.method, operation.path);
        assert_eq!(status, 400, "{what}: {body}");
        assert_eq!(body["error"]["code"], "parameter_unknown", "{what}: {body}");
        assert_eq!(body["error"]["param"], "zz_unknown", "{what}: {body}");
    }
}

async fn every_documented_parameter_comes_back_or_is_refused_by_name(engine: Engine) {
    // Invoices to pay or void come from the billing engine, run here at the fixtures' times.
    let server = TestServer::start_configured(TestDatabase::new(engine).await, |config| {
        config.billing_interval = None;
    })
    .await;
    let account = server.account("Acme").await;
    let fixtures = Fixtures::new(&server, &account).await;
    let document = get(&server, &account, "/openapi.json").await;
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for operation in &operations(&document) {
        for (name, schema) in &operation.parameters {
            let all = leaves(&document, &fixtures, name, schema, 1);
            for (path, value) in &all {
                let parameter = bracketed(path);
                let mut params = fixtures.base(operation);
                merge(&mut params, json!({ name: value }));
                let (mut status, mut body) = send(&fixtures, operation, &params).await;
                // A nested parameter may need another of its object (`enabled` beside
                // `maximum`): when the refusal names one that was not sent, it is added.
                while let Some(needed) = needed_sibling(status, &body, &all, &params, path) {
                    merge(&mut params, json!({ name: needed }));
                    (status, body) = send(&fixtures, operation, &params).await;
                }
                let what = format!("{} {} {parameter}", operation.method, operation.path);
                match judge(operation, status, &body, path, &params) {
                    Ok(outcome) => *outcomes.entry(outcome).or_default() += 1,
                    Err(why) => failures.push(format!("{what}: {why}: {status} {body}")),
                }
            }
        }
    }
    // What the run covered, in the test's output.
    println!("parameters: {outcomes:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let count = |outcome: &str| outcomes.get(outcome).copied().unwrap_or(0);
    assert!(count("came back") > 50, "{outcomes:?}");
    assert!(count("refused by name") > 50, "{outcomes:?}");
}

/// The value of the parameter a refusal names, when it is another leaf of the same
/// parameter that the request lacks.
fn needed_sibling(
    status: u16,
    body: &Value,
    all: &[(Vec<String>, Value)],
    sent: &Value,
    path: &[String],
) -> Option<Value> {
    if status != 400 {
        return None;
    }
    let named = body["error"]["param"].as_str()?;
    let (sibling, value) = all.iter().find(|(p, _)| bracketed(p) == named)?;
    if sibling.as_slice() == path || !at(sent, sibling).is_null() {
        return None;
    }
    // Stripe's `type` says which of its object's sub-objects is given: the one sent.
    let parent = &sibling[..sibling.len() - 1];
    if sibling.last().is_some_and(|last| last == "type")
        && path.starts_with(parent)
        && let Some(chosen) = path.get(parent.len())
    {
        let mut value = value.clone();
        *at_mut(&mut value, &sibling[1..]) = json!(chosen);
        return Some(value);
    }
    Some(value.clone())
}

/// The value at `path` in `value` (`Null` when absent).
fn at<'v>(value: &'v Value, path: &[String]) -> &'v Value {
    path.iter()
        .fold(value, |value, part| match part.parse::<usize>() {
            Ok(i) => &value[i],
            Err(_) => &value[part.as_str()],
        })
}

/// The value at `path` in `value`, if the answer has a field there (`null` included).
fn lookup<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter()
        .try_fold(value, |value, part| match part.parse::<usize>() {
            Ok(i) => value.get(i),
            Err(_) => value.get(part.as_str()),
        })
}

fn at_mut<'v>(value: &'v mut Value, path: &[String]) -> &'v mut Value {
    path.iter()
        .fold(value, |value, part| match part.parse::<usize>() {
            Ok(i) => &mut value[i],
            Err(_) => &mut value[part.as_str()],
        })
}

/// How the answer treated the one parameter at `path`: it came back (the answer has a field
/// at that path, with the value sent), was accepted (no field to compare), or was refused
/// by name; anything else is a failure.
fn judge(
    operation: &Operation,
    status: u16,
    body: &Value,
    path: &[String],
    sent: &Value,
) -> Result<&'static str, String> {
    if status == 200 && body["object"] == "list" {
        // A filter: what it selects is the lists' own tests' concern.
        return Ok("accepted");
    }
    if status == 200 {
        let wanted = at(sent, path);
        let elsewhere = ACTED_ON_ELSEWHERE
            .iter()
            .any(|(suffix, name, _)| operation.path.ends_with(suffix) && path[0] == *name);
        return match lookup(body, path) {
            Some(shown) if comes_back(shown, wanted) => Ok("came back"),
            _ if elsewhere => Ok("accepted"),
            None => Err("answered 200 without showing it".into()),
            Some(shown) => Err(format!("sent {wanted}, the answer shows {shown}")),
        };
    }
    if !(400..500).contains(&status) || status == 404 {
        return Err("neither accepted nor refused as a bad request".into());
    }
    let param = body["error"]["param"].as_str().unwrap_or_default();
    let sent_name = bracketed(path);
    // Stripe names a path `expand[]` cannot follow in its message, without a `param`.
    let message = body["error"]["message"].as_str().unwrap_or_default();
    if path[0] == "expand"
        && message.contains(&format!("({})", at(sent, path)[0].as_str().unwrap_or("?")))
    {
        return Ok("refused by name");
    }
    let named = !param.is_empty()
        && (param == sent_name
            || sent_name.starts_with(&format!("{param}["))
            || param.starts_with(&format!("{sent_name}[")));
    if named {
        Ok("refused by name")
    } else {
        Err(format!("refused without naming {sent_name}"))
    }
}

/// Whether the answer shows what was sent: equal, or holding every key sent (metadata).
fn comes_back(shown: &Value, sent: &Value) -> bool {
    match (shown, sent) {
        (Value::Object(shown), Value::Object(sent)) => sent
            .iter()
            .all(|(k, v)| shown.get(k).is_some_and(|s| comes_back(s, v))),
        // Loops' major-unit amounts come back as decimal strings (2.5 → "2.50").
        (Value::String(shown), Value::Number(sent)) => shown.parse::<f64>().ok() == sent.as_f64(),
        (Value::String(shown), Value::Bool(sent)) => *shown == sent.to_string(),
        (shown, sent) => shown == sent,
    }
}

/// A paid checkout in subscription mode, as its session.
async fn paid_subscription(server: &TestServer, account: &TestAccount, product: &str) -> Value {
    let price = post(
        server,
        account,
        "/v1/prices",
        &format!("product={product}&currency=usd&unit_amount=900&recurring[interval]=month"),
    )
    .await;
    let session = post(
        server,
        account,
        "/v1/checkout/sessions",
        &format!(
            "mode=subscription&line_items[0][price]={}&line_items[0][quantity]=1",
            price["id"].as_str().unwrap()
        ),
    )
    .await;
    let id = session["id"].as_str().unwrap();
    post(
        server,
        account,
        &format!("/v1/test_helpers/checkout/sessions/{id}/pay"),
        "card=4242424242424242",
    )
    .await
}

async fn post(server: &TestServer, account: &TestAccount, path: &str, body: &str) -> Value {
    json_with_status(server.form(account, Method::POST, path, body).await, 200).await
}

async fn get(server: &TestServer, account: &TestAccount, path: &str) -> Value {
    let response = server
        .with_key(Method::GET, path, &account.test_key)
        .send()
        .await
        .unwrap();
    json_with_status(response, 200).await
}
