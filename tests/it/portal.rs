//! The customer portal over HTTP: sessions created on `/v1/billing_portal/sessions` and V3's
//! `/api/v3/customer-portal/sessions` (and refused for unknown customers, missing or unknown
//! parameters), and the page at a session's `url` as a browser without JavaScript uses it: its
//! subscriptions and invoices, cancel at period end and resume, name and email, a new card,
//! each through its form with the page's CSRF token and writing the API's state and events;
//! another customer's subscription refused; and the hour after which the link expires, moved
//! through the server's clock and a test clock.

use kassa::clock::Clock;
use kassa::domain::billing::engine::SimulatedProcessor;
use kassa::domain::test_clocks::run_advancing;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Engine, TestDatabase, TestServer, json_with_status, on_both_engines};
use crate::hosted_checkout::{everything_stored, stands_alone};

on_both_engines!(
    sessions_are_created_on_v1_with_stripes_object,
    sessions_are_created_on_v3_by_external_customer_id_or_customer,
    sessions_are_refused_for_unknown_customers_and_parameters,
    the_page_lists_subscriptions_card_and_invoices,
    subscriptions_are_canceled_at_period_end_and_resumed_through_the_form,
    forms_need_the_csrf_token_of_their_cookie,
    name_and_email_are_updated,
    the_card_is_replaced_and_charged_by_the_subscriptions,
    another_customers_subscription_is_refused,
    the_link_expires_after_an_hour,
    the_link_follows_the_customers_test_clock,
    test_and_live_mode_never_mix,
    an_external_customer_id_names_one_customer,
);

const RETURN_URL: &str = "https://shop.example/account";

/// A server whose billing engine and clock worker run only when a test says.
async fn server(engine: Engine) -> TestServer {
    TestServer::start_configured(TestDatabase::new(engine).await, |config| {
        config.billing_interval = None;
        config.test_clock_interval = None;
    })
    .await
}

async fn call(server: &TestServer, key: &str, method: Method, path: &str, body: &str) -> Value {
    let request = server
        .with_key(method, path, key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    json_with_status(request.send().await.unwrap(), 200).await
}

async fn get(server: &TestServer, key: &str, path: &str) -> Value {
    call(server, key, Method::GET, path, "").await
}

async fn post(server: &TestServer, key: &str, path: &str, body: &str) -> Value {
    call(server, key, Method::POST, path, body).await
}

/// The error of a form-encoded request that answers `status`.
async fn refused(server: &TestServer, key: &str, path: &str, body: &str, status: u16) -> Value {
    let request = server
        .with_key(Method::POST, path, key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    json_with_status(request.send().await.unwrap(), status).await["error"].clone()
}

/// A JSON request to V3.
async fn v3(server: &TestServer, key: &str, body: Value, status: u16) -> Value {
    let request = server
        .with_key(Method::POST, "/api/v3/customer-portal/sessions", key)
        .json(&body);
    json_with_status(request.send().await.unwrap(), status).await
}

/// A customer subscribed to `product` at €9.00 a month through a paid V3 checkout carrying
/// `external` as its `externalCustomerId`: the subscription.
async fn subscribe(server: &TestServer, key: &str, product: &str, external: &str) -> Value {
    let price = post(
        server,
        key,
        "/v1/prices",
        &format!(
            "currency=eur&unit_amount=900&recurring[interval]=month&product_data[name]={product}"
        ),
    )
    .await;
    let session = server
        .with_key(Method::POST, "/api/v3/checkout/sessions", key)
        .json(&json!({
            "mode": "subscription",
            "line_items": [{"price": price["id"], "quantity": 1}],
            "externalCustomerId": external,
        }))
        .send()
        .await
        .unwrap();
    let session = json_with_status(session, 200).await;
    let paid = post(
        server,
        key,
        &format!(
            "/v1/test_helpers/checkout/sessions/{}/pay",
            session["id"].as_str().unwrap()
        ),
        "card=4242424242424242&email=ada%40example.com&name=Ada",
    )
    .await;
    let id = paid["subscription"].as_str().unwrap();
    get(server, key, &format!("/v1/subscriptions/{id}")).await
}

/// A portal session on `/v1` for `customer`.
async fn portal_session(server: &TestServer, key: &str, customer: &str) -> Value {
    post(
        server,
        key,
        "/v1/billing_portal/sessions",
        &format!("customer={customer}&return_url={RETURN_URL}"),
    )
    .await
}

/// The path of a session's page, from its `url`.
fn page_path(server: &TestServer, session: &Value) -> String {
    let url = session["url"].as_str().unwrap();
    url.strip_prefix(&server.base).unwrap().to_string()
}

/// The types of the account's events about `object`, oldest first, with their
/// `previous_attributes`.
async fn events_of(server: &TestServer, key: &str, object: &str) -> Vec<(String, Value)> {
    let events = get(server, key, "/v1/events?limit=100").await;
    let mut found: Vec<(String, Value)> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["data"]["object"]["id"] == object)
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["data"]["previous_attributes"].clone(),
            )
        })
        .collect();
    found.reverse();
    found
}

/// A browser without JavaScript: keeps the CSRF cookie, follows no redirects.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

struct PageResponse {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Browser {
    fn new(server: &TestServer) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: server.base.clone(),
            cookie: None,
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> PageResponse {
        let request = match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        };
        let response = request.send().await.unwrap();
        if let Some(set) = response.headers().get("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_string();
            self.cookie = Some(pair);
        }
        PageResponse {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string()),
            body: response.text().await.unwrap(),
        }
    }

    async fn get(&mut self, path: &str) -> PageResponse {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    /// Posts `fields` plus the CSRF token of `page`.
    async fn post(
        &mut self,
        path: &str,
        page: &PageResponse,
        fields: &[(&str, &str)],
    ) -> PageResponse {
        let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf_of(&page.body))];
        form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let request = self.http.post(format!("{}{path}", self.base)).form(&form);
        self.send(request).await
    }
}

fn csrf_of(body: &str) -> String {
    let start = body
        .find("name=\"csrf\" value=\"")
        .expect("the page has a CSRF field")
        + 19;
    body[start..start + 32].to_string()
}

/// The page's text without its tags, spaces collapsed.
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn sessions_are_created_on_v1_with_stripes_object(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let subscription = subscribe(&server, key, "Pro", "user-1").await;
    let customer = subscription["customer"].as_str().unwrap();
    let session = portal_session(&server, key, customer).await;
    let id = session["id"].as_str().unwrap();
    assert!(id.starts_with("bps_") && id.len() >= 30, "{session}");
    let mut keys: Vec<&str> = session
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "after_expiration",
            "configuration",
            "created",
            "customer",
            "customer_account",
            "flow",
            "id",
            "livemode",
            "locale",
            "object",
            "on_behalf_of",
            "return_url",
            "url",
        ]
    );
    assert_eq!(session["object"], "billing_portal.session");
    assert_eq!(session["customer"], customer);
    assert_eq!(session["return_url"], RETURN_URL);
    assert_eq!(session["livemode"], false);
    assert_eq!(session["url"], format!("{}/portal/{id}", server.base));
    assert_eq!(
        (
            &session["locale"],
            &session["flow"],
            &session["on_behalf_of"]
        ),
        (&Value::Null, &Value::Null, &Value::Null)
    );
    assert_eq!(session["created"], server.clock.now());
    let configuration = session["configuration"].as_str().unwrap();
    assert!(configuration.starts_with("bpc_"), "{session}");

    // The account's default configuration, made once, is every session's.
    let again = post(
        &server,
        key,
        "/v1/billing_portal/sessions",
        &format!(
            "customer={customer}&return_url={RETURN_URL}&configuration={configuration}\
             &locale=en-GB&expand[]=configuration&expand[]=customer"
        ),
    )
    .await;
    assert_ne!(again["id"], session["id"]);
    assert_eq!(again["configuration"]["id"], configuration);
    assert_eq!(
        again["configuration"]["object"],
        "billing_portal.configuration"
    );
    assert_eq!(again["configuration"]["is_default"], true);
    assert_eq!(
        again["configuration"]["features"]["subscription_cancel"]["mode"],
        "at_period_end"
    );
    assert_eq!(again["customer"]["id"], customer);
    assert_eq!(again["locale"], "en-GB");

    let events = events_of(&server, key, id).await;
    assert_eq!(
        events,
        [("billing_portal.session.created".into(), Value::Null)]
    );
    let created = get(
        &server,
        key,
        "/v1/events?type=billing_portal.configuration.created",
    )
    .await;
    assert_eq!(created["data"].as_array().unwrap().len(), 1, "{created}");
    assert_eq!(created["data"][0]["data"]["object"]["id"], configuration);
}

async fn sessions_are_created_on_v3_by_external_customer_id_or_customer(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let subscription = subscribe(&server, key, "Pro", "user-1").await;
    let customer = subscription["customer"].as_str().unwrap();
    subscribe(&server, key, "Team", "user-2").await;

    let camel = v3(
        &server,
        key,
        json!({"externalCustomerId": "user-1", "returnUrl": RETURN_URL}),
        200,
    )
    .await;
    assert!(camel["id"].as_str().unwrap().starts_with("bps_"), "{camel}");
    assert_eq!(camel["object"], "billing_portal.session");
    assert_eq!(camel["customer"], customer);
    assert_eq!(camel["externalCustomerId"], "user-1");
    assert_eq!(
        (&camel["returnUrl"], &camel["return_url"]),
        (&json!(RETURN_URL), &json!(RETURN_URL))
    );
    assert_eq!(
        camel["url"],
        format!("{}/portal/{}", server.base, camel["id"].as_str().unwrap())
    );
    assert_eq!(camel["expires_at"], server.clock.now() + 3600);

    let snake = v3(
        &server,
        key,
        json!({"external_customer_id": "user-1", "return_url": RETURN_URL}),
        200,
    )
    .await;
    assert_eq!(snake["customer"], customer);
    let by_id = v3(
        &server,
        key,
        json!({"customer": customer, "returnUrl": RETURN_URL}),
        200,
    )
    .await;
    assert_eq!(by_id["customer"], customer);
    assert_eq!(by_id["externalCustomerId"], Value::Null);
    // The same sessions as /v1's: one configuration.
    let v1 = portal_session(&server, key, customer).await;
    assert_eq!(camel["configuration"], v1["configuration"]);
}

async fn sessions_are_refused_for_unknown_customers_and_parameters(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let other = server.account("Other").await;
    let key = &account.test_key;
    let customer = post(&server, key, "/v1/customers", "email=ada%40example.com").await;
    let customer = customer["id"].as_str().unwrap();
    let foreign = post(&server, &other.test_key, "/v1/customers", "name=Bo").await;
    let foreign = foreign["id"].as_str().unwrap();
    let path = "/v1/billing_portal/sessions";
    let url = format!("return_url={RETURN_URL}");

    for (body, status, code, param) in [
        (
            format!("customer=cus_nope&{url}"),
            400,
            "resource_missing",
            "customer",
        ),
        // Another account's customer is unknown here.
        (
            format!("customer={foreign}&{url}"),
            400,
            "resource_missing",
            "customer",
        ),
        (url.clone(), 400, "parameter_missing", "customer"),
        (
            format!("customer={customer}"),
            400,
            "parameter_missing",
            "return_url",
        ),
        (
            format!("customer={customer}&{url}&custmer=x"),
            400,
            "parameter_unknown",
            "custmer",
        ),
        (
            format!("customer={customer}&return_url=shop.example"),
            400,
            "url_invalid",
            "return_url",
        ),
        (
            format!("customer={customer}&{url}&configuration=bpc_nope"),
            400,
            "resource_missing",
            "configuration",
        ),
    ] {
        let error = refused(&server, key, path, &body, status).await;
        assert_eq!(
            (&error["code"], &error["param"]),
            (&json!(code), &json!(param)),
            "{body}: {error}"
        );
    }
    let error = refused(&server, key, path, &format!("customer=cus_nope&{url}"), 400).await;
    assert_eq!(error["message"], "No such customer: 'cus_nope'");
    // What kassa does not do is refused by name.
    for (body, param) in [
        (format!("customer={customer}&{url}&locale=de"), "locale"),
        (
            format!("customer={customer}&{url}&flow_data[type]=payment_method_update"),
            "flow_data[type]",
        ),
        (
            format!("customer={customer}&{url}&on_behalf_of=acct_1"),
            "on_behalf_of",
        ),
        (
            format!("customer={customer}&{url}&after_expiration[type]=customer_login"),
            "after_expiration[type]",
        ),
    ] {
        let error = refused(&server, key, path, &body, 400).await;
        assert_eq!(error["param"], param, "{body}: {error}");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .starts_with("kassa does not support"),
            "{error}"
        );
    }
    // A deleted customer has no portal.
    let gone = post(&server, key, "/v1/customers", "name=Gone").await;
    let gone = gone["id"].as_str().unwrap();
    call(
        &server,
        key,
        Method::DELETE,
        &format!("/v1/customers/{gone}"),
        "",
    )
    .await;
    let error = refused(&server, key, path, &format!("customer={gone}&{url}"), 400).await;
    assert_eq!(error["code"], "resource_missing");

    // V3.
    for (body, code, param) in [
        (
            json!({"externalCustomerId": "nobody", "returnUrl": RETURN_URL}),
            "resource_missing",
            "externalCustomerId",
        ),
        (
            json!({"returnUrl": RETURN_URL}),
            "parameter_missing",
            "externalCustomerId",
        ),
        (
            json!({"customer": customer}),
            "parameter_missing",
            "returnUrl",
        ),
        (
            json!({"customer": customer, "returnUrl": RETURN_URL, "returnURL": "x"}),
            "parameter_unknown",
            "returnURL",
        ),
        (
            json!({"customer": "cus_nope", "returnUrl": RETURN_URL}),
            "resource_missing",
            "customer",
        ),
        (
            json!({"customer": customer, "externalCustomerId": "user-1", "returnUrl": RETURN_URL}),
            "parameter_invalid",
            "externalCustomerId",
        ),
    ] {
        let error = v3(&server, key, body.clone(), 400).await;
        assert_eq!(
            (&error["error"]["code"], &error["error"]["param"]),
            (&json!(code), &json!(param)),
            "{body}: {error}"
        );
    }
    // Nothing was made by a refused request.
    let events = get(
        &server,
        key,
        "/v1/events?type=billing_portal.session.created",
    )
    .await;
    assert_eq!(events["data"], json!([]));
}

async fn the_page_lists_subscriptions_card_and_invoices(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let subscription = subscribe(&server, key, "Pro plan", "user-1").await;
    let customer = subscription["customer"].as_str().unwrap();
    let session = portal_session(&server, key, customer).await;
    let mut browser = Browser::new(&server);
    let page = browser.get(&page_path(&server, &session)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let text = text_of(&page.body);
    assert!(text.contains("Acme"), "{text}");
    assert!(text.contains("Test mode"), "{text}");
    assert!(text.contains("ada@example.com"), "{text}");
    assert!(text.contains("Pro plan"), "{text}");
    assert!(text.contains("Active"), "{text}");
    assert!(text.contains("€9.00 / month"), "{text}");
    let period_end = subscription["current_period_end"].as_i64().unwrap();
    let date = long_date(period_end);
    assert!(text.contains(&format!("Next charge on {date}")), "{text}");
    assert!(text.contains("Visa ending in 4242"), "{text}");
    assert!(
        page.body.contains("Cancel at end of period"),
        "{}",
        page.body
    );
    // Each invoice links to its page.
    let invoice = subscription["latest_invoice"].as_str().unwrap();
    let invoice = get(&server, key, &format!("/v1/invoices/{invoice}")).await;
    let link = invoice["hosted_invoice_url"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "{}/invoices/{}",
                server.base,
                invoice["id"].as_str().unwrap()
            )
        });
    assert!(
        page.body.contains(&format!("href=\"{link}\"")),
        "{}",
        page.body
    );
    assert!(text.contains(invoice["number"].as_str().unwrap()), "{text}");
    // The link opens the invoice's page.
    let opened = browser.get(link.strip_prefix(&server.base).unwrap()).await;
    assert_eq!(opened.status, 200, "{}", opened.body);
    assert!(
        text_of(&opened.body).contains(invoice["number"].as_str().unwrap()),
        "{}",
        opened.body
    );
    assert!(text.contains("paid"), "{text}");
    assert!(
        page.body.contains(&format!("href=\"{RETURN_URL}\"")),
        "{}",
        page.body
    );
    assert!(text.contains("Return to Acme"), "{text}");

    // The page's headers are the hosted pages'.
    let response = server
        .request(Method::GET, &page_path(&server, &session))
        .send()
        .await
        .unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("form-action 'self'"),
        "{csp}"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("Path=/portal") && cookie.contains("HttpOnly"),
        "{cookie}"
    );

    // An unknown session is a page, not an error body.
    let missing = browser.get("/portal/bps_nope").await;
    assert_eq!(missing.status, 404);
    assert!(
        text_of(&missing.body).contains("not valid"),
        "{}",
        missing.body
    );
}

/// "2 February 2027" (UTC), as the page writes dates.
fn long_date(at: i64) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(at).unwrap();
    format!("{} {} {}", date.day(), date.month(), date.year())
}

async fn subscriptions_are_canceled_at_period_end_and_resumed_through_the_form(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let subscription = subscribe(&server, key, "Pro", "user-1").await;
    let sub = subscription["id"].as_str().unwrap();
    let customer = subscription["customer"].as_str().unwrap();
    let session = portal_session(&server, key, customer).await;
    let path = page_path(&server, &session);
    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;

    let done = browser
        .post(
            &format!("{path}/subscription"),
            &page,
            &[("subscription", sub), ("action", "cancel")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some(format!("{path}?saved=canceled").as_str())
    );
    let read = get(&server, key, &format!("/v1/subscriptions/{sub}")).await;
    assert_eq!(read["cancel_at_period_end"], true);
    assert_eq!(read["cancel_at"], subscription["current_period_end"]);
    assert_eq!(read["status"], "active");
    let page = browser.get(done.location.as_deref().unwrap()).await;
    let text = text_of(&page.body);
    assert!(
        text.contains("will end at the end of its current period"),
        "{text}"
    );
    let end = long_date(subscription["current_period_end"].as_i64().unwrap());
    assert!(text.contains(&format!("Ends on {end}")), "{text}");
    assert!(page.body.contains("Resume subscription"), "{}", page.body);

    let done = browser
        .post(
            &format!("{path}/subscription"),
            &page,
            &[("subscription", sub), ("action", "resume")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let read = get(&server, key, &format!("/v1/subscriptions/{sub}")).await;
    assert_eq!(read["cancel_at_period_end"], false);
    assert_eq!(read["cancel_at"], Value::Null);

    // The API's events, with what changed.
    let updates: Vec<Value> = events_of(&server, key, sub)
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "customer.subscription.updated")
        .map(|(_, previous)| previous)
        .collect();
    assert_eq!(updates.len(), 2, "{updates:?}");
    assert_eq!(updates[0]["cancel_at_period_end"], false);
    assert_eq!(updates[0]["cancel_at"], Value::Null);
    assert_eq!(updates[1]["cancel_at_period_end"], true);

    // An unknown action changes nothing.
    let page = browser.get(&path).await;
    let odd = browser
        .post(
            &format!("{path}/subscription"),
            &page,
            &[("subscription", sub), ("action", "delete")],
        )
        .await;
    assert_eq!(odd.status, 400);
    let read = get(&server, key, &format!("/v1/subscriptions/{sub}")).await;
    assert_eq!(
        (&read["status"], &read["cancel_at_period_end"]),
        (&json!("active"), &json!(false))
    );
}

async fn forms_need_the_csrf_token_of_their_cookie(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let subscription = subscribe(&server, key, "Pro", "user-1").await;
    let sub = subscription["id"].as_str().unwrap();
    let session = portal_session(&server, key, subscription["customer"].as_str().unwrap()).await;
    let path = page_path(&server, &session);
    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;
    let token = csrf_of(&page.body);
    let form = |csrf: &str| {
        vec![
            ("csrf".to_string(), csrf.to_string()),
            ("subscription".to_string(), sub.to_string()),
            ("action".to_string(), "cancel".to_string()),
        ]
    };
    let target = format!("{}{path}/subscription", server.base);
    // Another site's form: the token, but not the cookie.
    let no_cookie = reqwest::Client::new()
        .post(&target)
        .form(&form(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(no_cookie.status(), 403);
    // The cookie with another token, or none.
    for csrf in ["x".repeat(32), String::new()] {
        let refused = browser
            .send(browser.http.post(&target).form(&form(&csrf)))
            .await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(
            text_of(&refused.body).contains("Reload"),
            "{}",
            refused.body
        );
    }
    let read = get(&server, key, &format!("/v1/subscriptions/{sub}")).await;
    assert_eq!(read["cancel_at_period_end"], false);
    // The page's own form goes through.
    let done = browser
        .post(
            &format!("{path}/subscription"),
            &page,
            &[("subscription", sub), ("action", "cancel")],
        )
        .await;
    assert_eq!(done.status, 303);
}

async fn name_and_email_are_updated(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let subscription = subscribe(&server, key, "Pro", "user-1").await;
    let customer = subscription["customer"].as_str().unwrap();
    let session = portal_session(&server, key, customer).await;
    let path = page_path(&server, &session);
    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;
    assert!(page.body.contains("value=\"Ada\""), "{}", page.body);

    let invalid = browser
        .post(
            &format!("{path}/details"),
            &page,
            &[("name", "Grace"), ("email", "not-an-email")],
        )
        .await;
    assert_eq!(invalid.status, 400, "{}", invalid.body);
    assert!(
        invalid.body.contains("aria-invalid=\"true\""),
        "{}",
        invalid.body
    );
    // What was typed is kept.
    assert!(
        invalid.body.contains("value=\"not-an-email\""),
        "{}",
        invalid.body
    );
    let read = get(&server, key, &format!("/v1/customers/{customer}")).await;
    assert_eq!(
        (&read["name"], &read["email"]),
        (&json!("Ada"), &json!("ada@example.com"))
    );

    let done = browser
        .post(
            &format!("{path}/details"),
            &page,
            &[("name", "Grace Hopper"), ("email", "grace@example.com")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let read = get(&server, key, &format!("/v1/customers/{customer}")).await;
    assert_eq!(
        (&read["name"], &read["email"]),
        (&json!("Grace Hopper"), &json!("grace@example.com"))
    );
    let updated: Vec<Value> = events_of(&server, key, customer)
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "customer.updated")
        .map(|(_, previous)| previous)
        .collect();
    assert_eq!(
        updated,
        [json!({"email": "ada@example.com", "name": "Ada"})],
        "{updated:?}"
    );
    let page = browser.get(done.location.as_deref().unwrap()).await;
    assert!(
        text_of(&page.body).contains("Your details have been saved"),
        "{}",
        page.body
    );

    // Saving what is already there changes nothing and writes no event.
    let again = browser
        .post(
            &format!("{path}/details"),
            &page,
            &[("name", "Grace Hopper"), ("email", "grace@example.com")],
        )
        .await;
    assert_eq!(again.status, 303);
    let events = events_of(&server, key, customer).await;
    assert_eq!(
        events
            .iter()
            .filter(|(k, _)| k == "customer.updated")
            .count(),
        1
    );
}

async fn the_card_is_replaced_and_charged_by_the_subscriptions(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let subscription = subscribe(&server, key, "Pro", "user-1").await;
    let sub = subscription["id"].as_str().unwrap();
    let customer = subscription["customer"].as_str().unwrap();
    let old_card = subscription["default_payment_method"].as_str().unwrap();
    let session = portal_session(&server, key, customer).await;
    let path = page_path(&server, &session);
    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;
    let card = |number: &'static str| {
        [
            ("card_number", number),
            ("card_expiry", "12 / 40"),
            ("card_cvc", "739"),
        ]
    };

    // A number that fails its checksum, and a card the processor declines: nothing is saved.
    let wrong = browser
        .post(&format!("{path}/card"), &page, &card("4242 4242 4242 4241"))
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(
        wrong.body.contains("id=\"field-card_number-error\""),
        "{}",
        wrong.body
    );
    let declined = browser
        .post(&format!("{path}/card"), &page, &card("4000 0000 0000 0002"))
        .await;
    assert_eq!(declined.status, 402, "{}", declined.body);
    assert!(
        text_of(&declined.body).contains("declined"),
        "{}",
        declined.body
    );
    let methods = get(
        &server,
        key,
        &format!("/v1/customers/{customer}/payment_methods"),
    )
    .await;
    assert_eq!(methods["data"].as_array().unwrap().len(), 1, "{methods}");

    let done = browser
        .post(&format!("{path}/card"), &page, &card("5555 5555 5555 4444"))
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let methods = get(
        &server,
        key,
        &format!("/v1/customers/{customer}/payment_methods"),
    )
    .await;
    let new_card = methods["data"][0].clone();
    assert_eq!(new_card["card"]["last4"], "4444");
    assert_eq!(new_card["customer"], customer);
    let new_id = new_card["id"].as_str().unwrap();
    assert_ne!(new_id, old_card);
    let read = get(&server, key, &format!("/v1/customers/{customer}")).await;
    assert_eq!(read["invoice_settings"]["default_payment_method"], new_id);
    let read = get(&server, key, &format!("/v1/subscriptions/{sub}")).await;
    assert_eq!(read["default_payment_method"], new_id);

    assert_eq!(
        events_of(&server, key, new_id).await,
        [("payment_method.attached".to_string(), Value::Null)]
    );
    let customer_updates: Vec<Value> = events_of(&server, key, customer)
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "customer.updated")
        .map(|(_, previous)| previous)
        .collect();
    assert_eq!(
        customer_updates,
        [json!({"invoice_settings": {"default_payment_method": null}})]
    );
    let sub_updates: Vec<Value> = events_of(&server, key, sub)
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "customer.subscription.updated")
        .map(|(_, previous)| previous)
        .collect();
    assert_eq!(sub_updates.len(), 1, "{sub_updates:?}");
    assert_eq!(sub_updates[0]["default_payment_method"], old_card);
    let page = browser.get(done.location.as_deref().unwrap()).await;
    assert!(
        text_of(&page.body).contains("Mastercard ending in 4444"),
        "{}",
        page.body
    );
    // Only the brand, last four digits and expiry are kept of a card typed here.
    let stored = everything_stored(&server.database).await;
    assert!(stored.contains("4444"), "the last four digits are kept");
    for number in [
        "5555555555554444",
        "5555 5555 5555 4444",
        "4000000000000002",
    ] {
        assert!(!stored.contains(number), "{number} is in the database");
    }
    assert!(!stands_alone(&stored, "739"), "the CVC is in the database");

    // The renewal is charged to the new card.
    let end = subscription["current_period_end"].as_i64().unwrap();
    for at in [end, end + 3600] {
        server.clock.set(at);
        kassa::domain::billing::engine::run_due(
            &server.db,
            &SimulatedProcessor,
            at,
            kassa::domain::billing::engine::LEASE_SECONDS,
            &server.base,
        )
        .await
        .unwrap();
    }
    let read = get(&server, key, &format!("/v1/subscriptions/{sub}")).await;
    let renewal = get(
        &server,
        key,
        &format!(
            "/v1/invoices/{}?expand[]=charge",
            read["latest_invoice"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(renewal["status"], "paid", "{renewal}");
    assert_eq!(renewal["charge"]["payment_method"], new_id);
}

async fn another_customers_subscription_is_refused(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let other = server.account("Other").await;
    let key = &account.test_key;
    let mine = subscribe(&server, key, "Pro", "user-1").await;
    let theirs = subscribe(&server, key, "Pro", "user-2").await;
    let foreign = subscribe(&server, &other.test_key, "Pro", "user-1").await;
    let session = portal_session(&server, key, mine["customer"].as_str().unwrap()).await;
    let path = page_path(&server, &session);
    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;
    // The page shows only the customer's own.
    assert!(page.body.contains(mine["id"].as_str().unwrap()));
    assert!(!page.body.contains(theirs["id"].as_str().unwrap()));

    for (target, key) in [(&theirs, key), (&foreign, &other.test_key)] {
        let id = target["id"].as_str().unwrap();
        let refused = browser
            .post(
                &format!("{path}/subscription"),
                &page,
                &[("subscription", id), ("action", "cancel")],
            )
            .await;
        assert_eq!(refused.status, 404, "{}", refused.body);
        let read = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
        assert_eq!(read["cancel_at_period_end"], false, "{read}");
        assert!(
            events_of(&server, key, id)
                .await
                .iter()
                .all(|(kind, _)| kind != "customer.subscription.updated")
        );
    }
    let unknown = browser
        .post(
            &format!("{path}/subscription"),
            &page,
            &[("subscription", "sub_nope"), ("action", "cancel")],
        )
        .await;
    assert_eq!(unknown.status, 404);
}

async fn the_link_expires_after_an_hour(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let subscription = subscribe(&server, key, "Pro", "user-1").await;
    let sub = subscription["id"].as_str().unwrap();
    let session = portal_session(&server, key, subscription["customer"].as_str().unwrap()).await;
    let path = page_path(&server, &session);
    let mut browser = Browser::new(&server);
    server.clock.advance(3599);
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200);

    server.clock.advance(1);
    let expired = browser.get(&path).await;
    assert_eq!(expired.status, 410, "{}", expired.body);
    let text = text_of(&expired.body);
    assert!(text.contains("This link has expired"), "{text}");
    assert!(
        expired.body.contains(&format!("href=\"{RETURN_URL}\"")),
        "{}",
        expired.body
    );
    assert!(!expired.body.contains("<form"), "{}", expired.body);
    // A form from the page before is refused and changes nothing.
    let late = browser
        .post(
            &format!("{path}/subscription"),
            &page,
            &[("subscription", sub), ("action", "cancel")],
        )
        .await;
    assert_eq!(late.status, 410, "{}", late.body);
    let late = browser
        .post(
            &format!("{path}/details"),
            &page,
            &[("name", "Eve"), ("email", "eve@example.com")],
        )
        .await;
    assert_eq!(late.status, 410);
    let read = get(&server, key, &format!("/v1/subscriptions/{sub}")).await;
    assert_eq!(read["cancel_at_period_end"], false);
    let customer = get(
        &server,
        key,
        &format!(
            "/v1/customers/{}",
            subscription["customer"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(customer["name"], "Ada");
}

async fn the_link_follows_the_customers_test_clock(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let start = 1_800_000_000;
    let clock = post(
        &server,
        key,
        "/v1/test_helpers/test_clocks",
        &format!("frozen_time={start}"),
    )
    .await;
    let clock = clock["id"].as_str().unwrap();
    let customer = post(
        &server,
        key,
        "/v1/customers",
        &format!("email=ada%40example.com&test_clock={clock}"),
    )
    .await;
    let session = portal_session(&server, key, customer["id"].as_str().unwrap()).await;
    assert_eq!(session["created"], start);
    let path = page_path(&server, &session);
    let mut browser = Browser::new(&server);
    // Real time passing does not expire it: the clock's time does.
    server.clock.advance(2 * 3600);
    assert_eq!(browser.get(&path).await.status, 200);
    post(
        &server,
        key,
        &format!("/v1/test_helpers/test_clocks/{clock}/advance"),
        &format!("frozen_time={}", start + 3600),
    )
    .await;
    let advanced = run_advancing(
        &server.db,
        &SimulatedProcessor,
        server.clock.now(),
        kassa::domain::billing::engine::LEASE_SECONDS,
        &server.base,
    )
    .await
    .unwrap();
    assert_eq!(advanced.clocks, 1);
    assert_eq!(browser.get(&path).await.status, 410);
}

async fn test_and_live_mode_never_mix(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let test = post(&server, &account.test_key, "/v1/customers", "name=Ada").await;
    let test = test["id"].as_str().unwrap();
    let live = post(&server, &account.live_key, "/v1/customers", "name=Bo").await;
    let live = live["id"].as_str().unwrap();
    let error = refused(
        &server,
        &account.live_key,
        "/v1/billing_portal/sessions",
        &format!("customer={test}&return_url={RETURN_URL}"),
        400,
    )
    .await;
    assert_eq!(error["code"], "resource_missing");
    let session = portal_session(&server, &account.live_key, live).await;
    assert_eq!(session["livemode"], true);
    let test_session = portal_session(&server, &account.test_key, test).await;
    // Each mode has its own default configuration.
    assert_ne!(session["configuration"], test_session["configuration"]);
    // A live portal says so, and cannot take test cards.
    let mut browser = Browser::new(&server);
    let path = page_path(&server, &session);
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(!text_of(&page.body).contains("Test mode"), "{}", page.body);
    assert!(!page.body.contains("card_number"), "{}", page.body);
    let refused = browser
        .post(
            &format!("{path}/card"),
            &page,
            &[
                ("card_number", "4242424242424242"),
                ("card_expiry", "12/40"),
                ("card_cvc", "123"),
            ],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    let methods = get(
        &server,
        &account.live_key,
        &format!("/v1/customers/{live}/payment_methods"),
    )
    .await;
    assert_eq!(methods["data"], json!([]));
}

/// A V3 session carrying `externalCustomerId`, for a one-time €20.00 price, paid through the
/// test helper: the paid session.
async fn pay_as(server: &TestServer, key: &str, price: &str, external: &str) -> Value {
    let session = server
        .with_key(Method::POST, "/api/v3/checkout/sessions", key)
        .json(&json!({
            "line_items": [{"price": price, "quantity": 1}],
            "externalCustomerId": external,
        }))
        .send()
        .await
        .unwrap();
    let session = json_with_status(session, 200).await;
    post(
        server,
        key,
        &format!(
            "/v1/test_helpers/checkout/sessions/{}/pay",
            session["id"].as_str().unwrap()
        ),
        "card=4242424242424242&email=ada%40example.com",
    )
    .await
}

/// decisions §11: an `externalCustomerId` names one customer per account and mode. The first
/// session carrying it that completes, in any mode, creates that customer; later ones (and two
/// completing at once) complete for it; the portal finds it by that id. A deleted customer frees
/// the id.
async fn an_external_customer_id_names_one_customer(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let price = post(
        &server,
        key,
        "/v1/prices",
        "currency=eur&unit_amount=2000&product_data[name]=Gift",
    )
    .await;
    let price = price["id"].as_str().unwrap();

    let first = pay_as(&server, key, price, "user-7").await;
    let customer = first["customer"]
        .as_str()
        .expect("a payment-mode session made a customer");
    let second = pay_as(&server, key, price, "user-7").await;
    assert_eq!(second["customer"], customer);
    let subscription = subscribe(&server, key, "Pro", "user-7").await;
    assert_eq!(subscription["customer"], customer);
    let created = get(&server, key, "/v1/events?type=customer.created").await;
    assert_eq!(created["data"].as_array().unwrap().len(), 1, "{created}");
    let portal = v3(
        &server,
        key,
        json!({"externalCustomerId": "user-7", "returnUrl": RETURN_URL}),
        200,
    )
    .await;
    assert_eq!(portal["customer"], customer);
    // Another id, another customer; in live mode the id names no test customer.
    let other = pay_as(&server, key, price, "user-8").await;
    assert_ne!(other["customer"], customer);
    let error = v3(
        &server,
        &account.live_key,
        json!({"externalCustomerId": "user-7", "returnUrl": RETURN_URL}),
        400,
    )
    .await;
    assert_eq!(error["error"]["code"], "resource_missing");

    // Two sessions with a new id completing at once make one customer.
    let (a, b) = tokio::join!(
        pay_as(&server, key, price, "user-9"),
        pay_as(&server, key, price, "user-9")
    );
    assert!(a["customer"].is_string(), "{a}");
    assert_eq!(a["customer"], b["customer"]);
    assert_eq!(
        (&a["status"], &b["status"]),
        (&json!("complete"), &json!("complete"))
    );

    // Once deleted, the next session carrying the id makes a new customer.
    call(
        &server,
        key,
        Method::DELETE,
        &format!("/v1/customers/{customer}"),
        "",
    )
    .await;
    let after = pay_as(&server, key, price, "user-7").await;
    assert!(
        after["customer"].is_string() && after["customer"] != customer,
        "{after}"
    );
}
