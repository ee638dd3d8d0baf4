//! The hosted checkout page over HTTP, as a browser without JavaScript uses it: the form,
//! test-mode payments, declines, cancel, redirects, and the pages of ended sessions.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{
    Engine, KassaProcess, TestAccount, TestDatabase, TestServer, json_with_status, on_both_engines,
};

on_both_engines!(
    paying_redirects_to_the_success_url_and_records_the_payment,
    submit_type_names_the_pay_button,
    declines_keep_the_session_open_until_the_fifth,
    mistakes_caught_before_the_processor_name_the_field,
    forms_need_the_csrf_token_of_their_cookie,
    cancel_redirects_with_status_canceled,
    ended_sessions_show_their_state_and_never_a_form,
    quantities_and_custom_amounts_are_chosen_on_the_page,
    chosen_totals_that_cannot_be_charged_are_said_on_the_form,
    free_sessions_complete_without_a_card,
    setup_sessions_save_the_card,
    pages_promise_only_what_kassa_does,
    customer_creation_makes_a_customer,
    live_sessions_cannot_be_paid_without_a_processor,
    concurrent_submissions_charge_once,
    a_decline_and_a_success_racing_keep_one_payment_intent,
    pages_carry_security_headers,
    card_numbers_reach_neither_the_database_nor_the_logs,
    two_processes_pay_a_session_once,
    subscription_pages_say_what_is_charged_now_and_then,
);

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
        Browser::at(&server.base)
    }

    fn at(base: &str) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_string(),
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

    /// Posts `fields` plus the CSRF token of the page last shown.
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

const GOOD_CARD: [(&str, &str); 4] = [
    ("card_number", "4242 4242 4242 4242"),
    ("card_expiry", "12 / 40"),
    ("card_cvc", "123"),
    ("email", "ada@example.com"),
];

fn card(number: &str) -> Vec<(&str, &str)> {
    vec![
        ("action", "pay"),
        ("card_number", number),
        ("card_expiry", "12 / 40"),
        ("card_cvc", "123"),
        ("email", "ada@example.com"),
    ]
}

async fn session(server: &TestServer, account: &TestAccount, extra: &str) -> Value {
    let body = format!(
        "mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=2500\
         &line_items[0][price_data][product_data][name]=Linen+shirt&line_items[0][quantity]=2{extra}"
    );
    json_with_status(
        server
            .form(account, Method::POST, "/v1/checkout/sessions", &body)
            .await,
        200,
    )
    .await
}

async fn read(server: &TestServer, account: &TestAccount, id: &str, expand: &str) -> Value {
    json_with_status(
        server
            .with_key(
                Method::GET,
                &format!("/v1/checkout/sessions/{id}{expand}"),
                &account.test_key,
            )
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
}

async fn event_types(server: &TestServer, account: &TestAccount, id: &str) -> Vec<String> {
    kassa::store::events::events_for_object(&server.db, &account.caller(false), id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

async fn paying_redirects_to_the_success_url_and_records_the_payment(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Linen & Co").await;
    let created = session(
        &server,
        &account,
        "&success_url=https%3A%2F%2Fshop.example%2Fthanks%3Forder%3D7%26s%3D%7BCHECKOUT_SESSION_ID%7D\
         &customer_email=ada%40example.com",
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/checkout/{id}");
    assert_eq!(created["url"], format!("{}{path}", server.base));

    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200);
    for text in [
        "Linen &amp; Co",
        "Linen shirt",
        "Qty 2",
        "$25.00 each",
        "$50.00",
        "Pay $50.00",
        "Expires in 1 hour",
        "value=\"ada@example.com\"",
        "Test mode",
    ] {
        assert!(page.body.contains(text), "the page shows {text:?}");
    }

    let paid = browser.post(&path, &page, &card("4242424242424242")).await;
    assert_eq!(paid.status, 303, "{}", paid.body);
    assert_eq!(
        paid.location.as_deref(),
        Some(
            format!("https://shop.example/thanks?order=7&s={id}&session_id={id}&status=completed")
                .as_str()
        )
    );

    let session = read(&server, &account, id, "?expand[]=payment_intent").await;
    assert_eq!(session["status"], "complete");
    assert_eq!(session["payment_status"], "paid");
    assert_eq!(session["customer_details"]["email"], "ada@example.com");
    let intent = &session["payment_intent"];
    assert_eq!(intent["status"], "succeeded");
    assert_eq!(intent["amount"], 5000);
    assert_eq!(intent["payment_method_details"]["card"]["last4"], "4242");
    assert_eq!(intent["payment_method_details"]["card"]["brand"], "visa");
    assert!(intent["latest_charge"].as_str().unwrap().starts_with("ch_"));
    assert_eq!(
        event_types(&server, &account, id).await,
        ["checkout.session.completed"]
    );
    assert_eq!(
        event_types(&server, &account, intent["id"].as_str().unwrap()).await,
        ["payment_intent.succeeded"]
    );
    let charge = intent["latest_charge"].as_str().unwrap();
    assert_eq!(
        event_types(&server, &account, charge).await,
        ["charge.succeeded"]
    );

    // Back on the page: the completed page, with a way back to the shop.
    let again = browser.get(&path).await;
    assert!(again.body.contains("Payment complete"));
    assert!(again.body.contains("You paid $50.00 to Linen &amp; Co."));
    assert!(!again.body.contains("pay-form"));
}

async fn declines_keep_the_session_open_until_the_fifth(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let id = session(&server, &account, "").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/checkout/{id}");
    let mut browser = Browser::new(&server);
    let mut page = browser.get(&path).await;
    for (attempt, (number, reason)) in [
        ("4000000000000002", "Your card was declined."),
        ("4000000000009995", "Your card has insufficient funds."),
        ("4000000000000069", "Your card has expired."),
        (
            "4000000000000127",
            "Your card's security code is incorrect.",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let declined = browser.post(&path, &page, &card(number)).await;
        assert_eq!(declined.status, 402);
        assert!(
            declined.body.contains(&pages_text(reason)),
            "{}",
            declined.body
        );
        let left = 4 - attempt;
        let left = if left == 1 {
            "1 attempt left".to_string()
        } else {
            format!("{left} attempts left")
        };
        assert!(declined.body.contains(&left), "{left}");
        assert!(declined.body.contains("id=\"pay-form\""));
        assert!(
            !declined.body.contains(number),
            "the card number is never shown back"
        );
        page = declined;
    }
    let session = read(&server, &account, &id, "?expand[]=payment_intent").await;
    assert_eq!(session["status"], "open");
    assert_eq!(
        session["payment_intent"]["status"],
        "requires_payment_method"
    );
    assert_eq!(
        session["payment_intent"]["last_payment_error"]["decline_code"],
        "incorrect_cvc"
    );

    let fifth = browser.post(&path, &page, &card("4000000000000119")).await;
    assert_eq!(fifth.status, 402);
    assert!(fifth.body.contains("The payment could not be completed"));
    assert!(!fifth.body.contains("pay-form"));
    let session = read(&server, &account, &id, "").await;
    assert_eq!(
        session["status"], "expired",
        "failed reads as expired in Stripe's words"
    );
    let v3 = json_with_status(
        server
            .with_key(
                Method::GET,
                &format!("/api/v2/checkout/sessions/{id}"),
                &account.test_key,
            )
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(v3["status"], "FAILED");
    let kinds = event_types(&server, &account, &id).await;
    assert_eq!(
        kinds,
        ["checkout.session.expired"],
        "ending unpaid is expired, whatever the reason"
    );
    let intent = session["payment_intent"].as_str().unwrap();
    assert_eq!(
        event_types(&server, &account, intent).await,
        vec!["payment_intent.payment_failed"; 5]
    );

    // A good card now changes nothing.
    let late = browser.post(&path, &page, &card("4242424242424242")).await;
    assert_eq!(late.status, 303);
    assert_eq!(late.location.as_deref(), Some(path.as_str()));
    assert_eq!(
        read(&server, &account, &id, "").await["payment_status"],
        "unpaid"
    );

    // Then a decline followed by a success, on a new session.
    let id = session_id(&server, &account).await;
    let path = format!("/checkout/{id}");
    let page = browser.get(&path).await;
    let declined = browser.post(&path, &page, &card("4000000000000002")).await;
    assert_eq!(declined.status, 402);
    let paid = browser
        .post(&path, &declined, &card("4242424242424242"))
        .await;
    assert_eq!(paid.status, 303);
    let session = read(&server, &account, &id, "?expand[]=payment_intent").await;
    assert_eq!(session["payment_status"], "paid");
    assert_eq!(session["payment_intent"]["status"], "succeeded");
    assert_eq!(session["payment_intent"]["last_payment_error"], Value::Null);
}

/// HTML as the page escapes it.
fn pages_text(text: &str) -> String {
    text.replace('\'', "&#39;")
}

async fn session_id(server: &TestServer, account: &TestAccount) -> String {
    session(server, account, "").await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn mistakes_caught_before_the_processor_name_the_field(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let id = session_id(&server, &account).await;
    let path = format!("/checkout/{id}");
    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;
    for (fields, field) in [
        (card("4242424242424241"), "card_number"),
        (card("4242"), "card_number"),
        (
            vec![
                ("card_number", "4242424242424242"),
                ("card_expiry", "01 / 20"),
                ("card_cvc", "123"),
                ("email", "ada@example.com"),
            ],
            "card_expiry",
        ),
        (
            vec![
                ("card_number", "4242424242424242"),
                ("card_expiry", "12 / 40"),
                ("card_cvc", "12"),
                ("email", "ada@example.com"),
            ],
            "card_cvc",
        ),
        (
            vec![
                ("card_number", "4242424242424242"),
                ("card_expiry", "12 / 40"),
                ("card_cvc", "123"),
                ("email", "not an email"),
            ],
            "email",
        ),
    ] {
        let answer = browser.post(&path, &page, &fields).await;
        assert_eq!(answer.status, 400, "{field}");
        let marker = format!("id=\"field-{field}-error\"");
        assert!(answer.body.contains(&marker), "{field}: {}", answer.body);
        assert!(answer.body.contains(&format!(
            "id=\"field-{field}\" aria-invalid=\"true\" aria-describedby=\"field-{field}-error\""
        )));
    }
    // None of these counted as a decline: five real declines are still allowed.
    let session = read(&server, &account, &id, "").await;
    assert_eq!(session["status"], "open");
    assert_eq!(session["payment_intent"], Value::Null);
}

async fn forms_need_the_csrf_token_of_their_cookie(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let id = session_id(&server, &account).await;
    let path = format!("/checkout/{id}");
    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;

    // Another site's form: no cookie.
    let mut stranger = Browser::new(&server);
    let forged = stranger.post(&path, &page, &card("4242424242424242")).await;
    assert_eq!(forged.status, 403);
    // The right cookie with a wrong token.
    let mut fields = card("4242424242424242");
    let wrong = "x".repeat(32);
    fields.push(("csrf", &wrong));
    let request = browser
        .http
        .post(format!("{}{path}", server.base))
        .form(&fields[..]);
    let mixed = browser.send(request).await;
    assert_eq!(mixed.status, 403);
    let cancel = stranger.post(&format!("{path}/cancel"), &page, &[]).await;
    assert_eq!(cancel.status, 403);
    assert_eq!(read(&server, &account, &id, "").await["status"], "open");
}

async fn cancel_redirects_with_status_canceled(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let (receiver, url) = crate::receiver::Receiver::start().await;
    let endpoint = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/webhook_endpoints",
                &format!(
                    "url={}&enabled_events[]=checkout.session.expired",
                    form_urlencoded::byte_serialize(url.as_bytes()).collect::<String>()
                ),
            )
            .await,
        200,
    )
    .await;
    let secret = endpoint["secret"].as_str().unwrap().to_string();
    let id = session(
        &server,
        &account,
        "&cancel_url=https%3A%2F%2Fshop.example%2Fcart%3Fid%3D%7BCHECKOUT_SESSION_ID%7D",
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/checkout/{id}");
    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;
    assert!(page.body.contains("Cancel and return to Acme"));
    let canceled = browser.post(&format!("{path}/cancel"), &page, &[]).await;
    assert_eq!(canceled.status, 303);
    assert_eq!(
        canceled.location.as_deref(),
        Some(format!("https://shop.example/cart?id={id}&session_id={id}&status=canceled").as_str())
    );
    assert_eq!(read(&server, &account, &id, "").await["status"], "expired");
    let v2 = json_with_status(
        server
            .with_key(
                Method::GET,
                &format!("/api/v2/checkout/sessions/{id}"),
                &account.test_key,
            )
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(v2["status"], "CANCELLED");
    assert_eq!(
        event_types(&server, &account, &id).await,
        ["checkout.session.expired"]
    );
    // Delivered to an endpoint that listens for it, as a shop releasing stock does.
    let delivered = receiver.wait_for(1).await;
    assert!(crate::receiver::verify(&delivered[0], &secret));
    let event = delivered[0].json();
    assert_eq!(event["type"], "checkout.session.expired");
    assert_eq!(event["data"]["object"]["id"], id.as_str());
    assert_eq!(event["data"]["object"]["status"], "expired");
    assert_eq!(event["data"]["object"]["payment_status"], "unpaid");
    // Paying a canceled session does nothing; the page says it was canceled.
    let late = browser.post(&path, &page, &card("4242424242424242")).await;
    assert_eq!(late.status, 303);
    let shown = browser.get(&path).await;
    assert!(shown.body.contains("This checkout was canceled"));
    assert!(!shown.body.contains("pay-form"));
}

async fn ended_sessions_show_their_state_and_never_a_form(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let mut browser = Browser::new(&server);

    let expired = session_id(&server, &account).await;
    server
        .form(
            &account,
            Method::POST,
            &format!("/v1/checkout/sessions/{expired}/expire"),
            "",
        )
        .await;
    let page = browser.get(&format!("/checkout/{expired}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("This checkout has expired"));
    assert!(!page.body.contains("pay-form"));

    // Past its deadline, a session expires when its page is opened.
    let overdue = session_id(&server, &account).await;
    server.clock.advance(3601);
    let page = browser.get(&format!("/checkout/{overdue}")).await;
    assert!(page.body.contains("This checkout has expired"));
    assert_eq!(
        read(&server, &account, &overdue, "").await["status"],
        "expired"
    );

    let unknown = browser.get("/checkout/cs_test_nothinghere").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("Checkout not found"));

    // No success URL: the confirmation page, with a payment link's own message.
    let link = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/payment_links",
                "line_items[0][price]=PRICE&line_items[0][quantity]=1\
                 &after_completion[type]=hosted_confirmation\
                 &after_completion[hosted_confirmation][custom_message]=Your+mug+ships+Monday."
                    .replace("PRICE", &price(&server, &account).await)
                    .as_str(),
            )
            .await,
        200,
    )
    .await;
    let visit = browser
        .get(&format!("/l/{}", link["id"].as_str().unwrap()))
        .await;
    assert_eq!(visit.status, 303);
    let page_path = visit
        .location
        .unwrap()
        .strip_prefix(&server.base)
        .unwrap()
        .to_string();
    let page = browser.get(&page_path).await;
    assert!(page.body.contains("Mug"));
    let paid = browser
        .post(&page_path, &page, &card("4242424242424242"))
        .await;
    assert_eq!(paid.status, 303);
    assert_eq!(paid.location.as_deref(), Some(page_path.as_str()));
    let done = browser.get(&page_path).await;
    assert!(done.body.contains("Payment complete"));
    assert!(
        done.body.contains("Your mug ships Monday."),
        "{}",
        done.body
    );
}

async fn price(server: &TestServer, account: &TestAccount) -> String {
    json_with_status(
        server
            .form(
                account,
                Method::POST,
                "/v1/prices",
                "currency=eur&unit_amount=1200&product_data[name]=Mug",
            )
            .await,
        200,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn quantities_and_custom_amounts_are_chosen_on_the_page(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let created = session(
        &server,
        &account,
        "&line_items[0][adjustable_quantity][enabled]=true&line_items[0][adjustable_quantity][maximum]=5",
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/checkout/{id}");
    let line =
        read(&server, &account, id, "?expand[]=line_items").await["line_items"]["data"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
    let quantity = format!("quantity[{line}]");
    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;
    assert!(page.body.contains(&format!("name=\"{quantity}\"")));
    assert!(page.body.contains("min=\"1\" max=\"5\""));
    assert!(page.body.contains("Update total"));

    let updated = browser
        .post(
            &path,
            &page,
            &[("action", "update"), (quantity.as_str(), "3")],
        )
        .await;
    assert_eq!(updated.status, 200);
    assert!(updated.body.contains("Pay $75.00"));
    let page = browser.get(&path).await;
    assert!(page.body.contains("Pay $75.00"));
    assert_eq!(read(&server, &account, id, "").await["amount_total"], 7500);

    let too_many = browser
        .post(
            &path,
            &page,
            &[("action", "update"), (quantity.as_str(), "6")],
        )
        .await;
    assert_eq!(too_many.status, 400);
    assert!(too_many.body.contains("Choose a quantity from 1 to 5."));
    assert!(too_many.body.contains("aria-invalid=\"true\""));

    let mut fields = card("4242424242424242");
    fields.push((quantity.as_str(), "4"));
    let paid = browser.post(&path, &page, &fields).await;
    assert_eq!(paid.status, 303);
    let session = read(&server, &account, id, "?expand[]=line_items").await;
    assert_eq!(session["amount_total"], 10000);
    assert_eq!(session["line_items"]["data"][0]["quantity"], 4);

    // A Loops CUSTOM product: the customer chooses the amount, at least the minimum.
    let product = json_with_status(
        server
            .with_key(Method::POST, "/api/v3/products", &account.test_key)
            .json(
                &json!({"name": "Donation", "amountType": "CUSTOM", "priceCurrency": "usd",
                          "minimumAmount": 5, "presetAmount": "20"}),
            )
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let donation = json_with_status(
        server
            .with_key(Method::POST, "/api/v3/checkout/sessions", &account.test_key)
            .json(&json!({"productId": product["id"]}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let id = donation["id"].as_str().unwrap();
    let path = format!("/checkout/{id}");
    let line =
        read(&server, &account, id, "?expand[]=line_items").await["line_items"]["data"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
    let amount = format!("amount[{line}]");
    let page = browser.get(&path).await;
    assert!(
        page.body.contains("value=\"20.00\""),
        "prefilled with the preset"
    );
    assert!(page.body.contains("At least $5.00"));
    let mut low = card("4242424242424242");
    low.push((amount.as_str(), "4.99"));
    let refused = browser.post(&path, &page, &low).await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("Choose an amount of at least $5.00."),
        "{}",
        refused.body
    );
    let mut fields = card("4242424242424242");
    fields.push((amount.as_str(), "12.50"));
    let paid = browser.post(&path, &page, &fields).await;
    assert_eq!(paid.status, 303);
    let session = read(&server, &account, id, "").await;
    assert_eq!(session["amount_total"], 1250);
    assert_eq!(session["payment_status"], "paid");
}

async fn free_sessions_complete_without_a_card(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let product = json_with_status(
        server
            .with_key(Method::POST, "/api/v3/products", &account.test_key)
            .json(&json!({"name": "Free guide", "amountType": "FREE"}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let created = json_with_status(
        server
            .with_key(Method::POST, "/api/v3/checkout/sessions", &account.test_key)
            .json(&json!({"productId": product["id"], "success_url": "https://shop.example/ok"}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(created["payment_status"], "no_payment_required");
    let id = created["id"].as_str().unwrap();
    let path = format!("/checkout/{id}");
    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;
    assert!(!page.body.contains("card_number"), "no card fields");
    assert!(page.body.contains("Complete order"));
    let done = browser
        .post(
            &path,
            &page,
            &[("action", "pay"), ("email", "free@example.com")],
        )
        .await;
    assert_eq!(done.status, 303);
    let session = read(&server, &account, id, "").await;
    assert_eq!(session["status"], "complete");
    assert_eq!(session["payment_status"], "no_payment_required");
    assert_eq!(session["payment_intent"], Value::Null);
}

async fn setup_sessions_save_the_card(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let created = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/checkout/sessions",
                "mode=setup&currency=usd&success_url=https%3A%2F%2Fshop.example%2Fsaved",
            )
            .await,
        200,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/checkout/{id}");
    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;
    assert!(page.body.contains("Save card"));
    assert!(page.body.contains("card_number"));
    let saved = browser.post(&path, &page, &card("5555555555554444")).await;
    assert_eq!(saved.status, 303);
    let session = read(&server, &account, id, "").await;
    assert_eq!(session["status"], "complete");
    assert_eq!(session["payment_status"], "no_payment_required");
    assert!(
        session["setup_intent"]
            .as_str()
            .unwrap()
            .starts_with("seti_")
    );
    assert_eq!(session["payment_intent"], Value::Null);
}

/// The page tells the customer only what happens: kassa sends no email, starts no
/// subscription and keeps no card to charge later; Cancel returns to the shop only when the
/// session has somewhere to return to; the test card hint works as written.
async fn pages_promise_only_what_kassa_does(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let recurring = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/prices",
                "currency=usd&unit_amount=900&recurring[interval]=month&product_data[name]=Plan",
            )
            .await,
        200,
    )
    .await;
    let mut browser = Browser::new(&server);
    let line = |amount: u32| {
        format!(
            "mode=payment&line_items[0][price_data][currency]=usd\
             &line_items[0][price_data][unit_amount]={amount}\
             &line_items[0][price_data][product_data][name]=Shirt&line_items[0][quantity]=2"
        )
    };
    for (body, heading, message) in [
        (line(2500), "Payment complete", "You paid $50.00 to Acme."),
        (
            format!(
                "mode=subscription&line_items[0][price]={}&line_items[0][quantity]=1",
                recurring["id"].as_str().unwrap()
            ),
            "Payment complete",
            "You paid $9.00 to Acme.",
        ),
        (
            "mode=setup&currency=usd".to_string(),
            "Card confirmed",
            "You have not been charged.",
        ),
        (
            line(0),
            "Order complete",
            "Your order with Acme is complete.",
        ),
    ] {
        let created = server
            .form(&account, Method::POST, "/v1/checkout/sessions", &body)
            .await;
        let id = json_with_status(created, 200).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let path = format!("/checkout/{id}");
        let page = browser.get(&path).await;
        assert!(page.body.contains("Cancel checkout"), "{body}");
        assert!(!page.body.contains("Cancel and return"), "{body}");
        let mut fields = vec![("action", "pay"), ("email", "ada@example.com")];
        if page.body.contains("card_number") {
            let hint =
                "Pay with 4242 4242 4242 4242, any future expiry and any 3-digit security code.";
            assert!(page.body.contains(hint), "{body}");
            fields.extend([
                ("card_number", "4242 4242 4242 4242"),
                ("card_expiry", "01 / 39"),
                ("card_cvc", "987"),
            ]);
        }
        let paid = browser.post(&path, &page, &fields).await;
        assert_eq!(paid.location.as_deref(), Some(path.as_str()), "{body}");
        let done = browser.get(&path).await;
        let text = visible_text(&done.body);
        assert!(
            text.contains(&format!("{heading} {message}")),
            "{body}: {text}"
        );
        for promise in [
            "confirmation",
            "ada@example.com",
            "subscription",
            "saved",
            "can now charge",
        ] {
            assert!(!text.to_lowercase().contains(promise), "{body}: {text}");
        }
    }
}

/// What a page shows: its text without tags, spaces collapsed.
fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn customer_creation_makes_a_customer(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let id = session(&server, &account, "&customer_creation=always").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/checkout/{id}");
    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;
    let mut fields = card("4242424242424242");
    fields.push(("name", "Ada Lovelace"));
    assert_eq!(browser.post(&path, &page, &fields).await.status, 303);
    let session = read(
        &server,
        &account,
        &id,
        "?expand[]=customer&expand[]=payment_intent",
    )
    .await;
    assert_eq!(session["customer"]["email"], "ada@example.com");
    assert_eq!(session["customer"]["name"], "Ada Lovelace");
    assert_eq!(
        session["payment_intent"]["customer"],
        session["customer"]["id"]
    );
    assert_eq!(session["customer_details"]["name"], "Ada Lovelace");
}

async fn live_sessions_cannot_be_paid_without_a_processor(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let created = json_with_status(
        server
            .with_key(Method::POST, "/v1/checkout/sessions", &account.live_key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                "mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=2500\
                 &line_items[0][price_data][product_data][name]=Shirt&line_items[0][quantity]=1",
            )
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("cs_live_"));
    let path = format!("/checkout/{id}");
    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Payments are not available yet"));
    assert!(!page.body.contains("card_number"));
    assert!(!page.body.contains("Test mode"));
    // The page has no form; post as a stale tab of this browser would.
    let token = browser.cookie.clone().unwrap()["kassa_csrf=".len()..].to_string();
    let mut fields = card("4242424242424242");
    fields.push(("csrf", &token));
    let request = browser
        .http
        .post(format!("{}{path}", server.base))
        .form(&fields[..]);
    let refused = browser.send(request).await;
    assert_eq!(refused.status, 409);
    let session = json_with_status(
        server
            .with_key(
                Method::GET,
                &format!("/v1/checkout/sessions/{id}"),
                &account.live_key,
            )
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(session["status"], "open");
    assert_eq!(session["payment_intent"], Value::Null);
}

async fn concurrent_submissions_charge_once(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let id = session(
        &server,
        &account,
        "&success_url=https%3A%2F%2Fshop.example%2Fok",
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/checkout/{id}");
    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;
    let token = csrf_of(&page.body);
    let cookie = browser.cookie.clone().unwrap();
    // Eight tabs press Pay at once.
    let mut tabs = Vec::new();
    for _ in 0..8 {
        let request = browser
            .http
            .post(format!("{}{path}", server.base))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", token.as_str()),
                ("action", "pay"),
                ("card_number", GOOD_CARD[0].1),
                ("card_expiry", GOOD_CARD[1].1),
                ("card_cvc", GOOD_CARD[2].1),
                ("email", GOOD_CARD[3].1),
            ]);
        tabs.push(tokio::spawn(async move { request.send().await.unwrap() }));
    }
    let mut locations: HashMap<String, usize> = HashMap::new();
    for tab in tabs {
        let response = tab.await.unwrap();
        assert_eq!(response.status(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_string();
        *locations.entry(location).or_default() += 1;
    }
    let success = format!("https://shop.example/ok?session_id={id}&status=completed");
    assert_eq!(locations.get(&success), Some(&1), "{locations:?}");
    assert_eq!(locations.get(&path), Some(&7), "{locations:?}");
    let intents = json_with_status(
        server
            .with_key(Method::GET, "/v1/payment_intents", &account.test_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(intents["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        event_types(&server, &account, &id).await,
        ["checkout.session.completed"]
    );
}

async fn pages_carry_security_headers(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let id = session(
        &server,
        &account,
        "&success_url=https%3A%2F%2Fshop.example%3A8443%2Fok",
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let response = server
        .request(Method::GET, &format!("/checkout/{id}"))
        .send()
        .await
        .unwrap();
    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("form-action 'self' https://shop.example:8443"),
        "{csp}"
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let body = response.text().await.unwrap();
    assert!(!body.contains("<script>"), "no inline script");
    assert!(!body.contains("style=\""), "no inline style");

    for asset in ["/assets/kassa.css", "/assets/checkout.js"] {
        let response = server.request(Method::GET, asset).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert!(response.text().await.unwrap().len() > 500, "{asset}");
    }
}

/// Creates a session through the API of a `kassa serve` process.
async fn process_session(process: &KassaProcess, key: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{}/v1/checkout/sessions", process.base))
        .bearer_auth(key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            "mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=2500\
             &line_items[0][price_data][product_data][name]=Shirt&line_items[0][quantity]=1\
             &success_url=https%3A%2F%2Fshop.example%2Fok",
        )
        .send()
        .await
        .unwrap();
    json_with_status(response, 200).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn card_numbers_reach_neither_the_database_nor_the_logs(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let server = KassaProcess::start(&database.url).await;
    let key = server.banner_value("test key").await.unwrap();
    let id = process_session(&server, &key).await;
    let path = format!("/checkout/{id}");
    let mut browser = Browser::at(&server.base);
    let page = browser.get(&path).await;
    let declined = browser
        .post(
            &path,
            &page,
            &[
                ("action", "pay"),
                ("card_number", "4000 0000 0000 0002"),
                ("card_expiry", "12 / 40"),
                ("card_cvc", "739"),
                ("email", "ada@example.com"),
            ],
        )
        .await;
    assert_eq!(declined.status, 402);
    let paid = browser
        .post(
            &path,
            &declined,
            &[
                ("action", "pay"),
                ("card_number", "4242 4242 4242 4242"),
                ("card_expiry", "12 / 40"),
                ("card_cvc", "739"),
                ("email", "ada@example.com"),
            ],
        )
        .await;
    assert_eq!(paid.status, 303);

    // A test payment through the API with an Idempotency-Key: the request's fingerprint is
    // kept, and must not be a hash of the card number either, yet still tell cards apart.
    let other = process_session(&server, &key).await;
    let pay_path = format!("/v1/test_helpers/checkout/sessions/{other}/pay");
    let pay = |body: &'static str| {
        reqwest::Client::new()
            .post(format!("{}{pay_path}", server.base))
            .bearer_auth(&key)
            .header("idempotency-key", "pay-once")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    assert_eq!(pay("card=4242424242424242").await.unwrap().status(), 200);
    let retried = pay("card=4242424242424242").await.unwrap();
    assert_eq!(retried.headers()["idempotent-replayed"], "true");
    let other_card = json_with_status(pay("card=5555555555554444").await.unwrap(), 400).await;
    assert_eq!(other_card["error"]["type"], "idempotency_error");
    let whole_body_hash = {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        hasher.update(format!("POST {pay_path}\0card=4242424242424242").as_bytes());
        hex::encode(hasher.finalize())
    };

    let secrets = [
        "4242424242424242",
        "4242 4242 4242 4242",
        "4000000000000002",
        "4000 0000 0000 0002",
        whole_body_hash.as_str(),
    ];
    let logs = [server.stdout(), server.stderr()].concat().join("\n");
    assert!(
        logs.contains("/checkout/{id}") && logs.contains("402"),
        "the log shows the requests: {logs}"
    );
    for secret in secrets.iter().chain(&["cvc=739", "\"739\""]) {
        assert!(!logs.contains(secret), "{secret} is in the log");
    }
    let stored = everything_stored(&database).await;
    assert!(stored.contains("4242"), "the last four digits are kept");
    for secret in secrets {
        assert!(!stored.contains(secret), "{secret} is in the database");
    }
    assert!(!stands_alone(&stored, "739"), "the CVC is in the database");
}

/// Whether `needle` occurs as a value of its own, not inside a longer run of letters and digits
/// (random ids and hashes contain any three digits now and then).
pub(crate) fn stands_alone(haystack: &str, needle: &str) -> bool {
    haystack.match_indices(needle).any(|(at, _)| {
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

/// Every row of every table as text (PostgreSQL), or the database files' bytes (SQLite).
pub(crate) async fn everything_stored(database: &TestDatabase) -> String {
    match database.url.strip_prefix("sqlite://") {
        Some(path) => {
            let mut all = Vec::new();
            for suffix in ["", "-wal"] {
                if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                    all.extend(bytes);
                }
            }
            String::from_utf8_lossy(&all).into_owned()
        }
        None => {
            let db = database.open().await;
            let kassa::store::Db::Postgres(kassa::store::PostgresDb { pool, .. }) = &db else {
                unreachable!("a non-SQLite URL is PostgreSQL")
            };
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            let mut all = String::new();
            for table in tables {
                let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT t::text FROM \"{table}\" t"
                )))
                .fetch_all(pool)
                .await
                .unwrap();
                all.push_str(&rows.join("\n"));
            }
            all
        }
    }
}

async fn two_processes_pay_a_session_once(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let first = KassaProcess::start(&database.url).await;
    let key = first.banner_value("test key").await.unwrap();
    let second = KassaProcess::start(&database.url).await;
    let id = process_session(&first, &key).await;
    let path = format!("/checkout/{id}");
    let mut browser = Browser::at(&first.base);
    let page = browser.get(&path).await;
    let token = csrf_of(&page.body);
    let cookie = browser.cookie.clone().unwrap();
    let mut tabs = Vec::new();
    for i in 0..8 {
        let base = if i % 2 == 0 {
            &first.base
        } else {
            &second.base
        };
        let request = browser
            .http
            .post(format!("{base}{path}"))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", token.as_str()),
                ("action", "pay"),
                ("card_number", GOOD_CARD[0].1),
                ("card_expiry", GOOD_CARD[1].1),
                ("card_cvc", GOOD_CARD[2].1),
                ("email", GOOD_CARD[3].1),
            ]);
        tabs.push(tokio::spawn(async move { request.send().await.unwrap() }));
    }
    let mut completed = 0;
    for tab in tabs {
        let response = tab.await.unwrap();
        assert_eq!(response.status(), 303);
        if response.headers()["location"]
            .to_str()
            .unwrap()
            .contains("status=completed")
        {
            completed += 1;
        }
    }
    assert_eq!(completed, 1, "one of the eight submissions pays");
    let intents = reqwest::Client::new()
        .get(format!("{}/v1/payment_intents", second.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(intents, 200).await["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn a_decline_and_a_success_racing_keep_one_payment_intent(engine: Engine) {
    use kassa::domain::checkout::{self, Completion, PaidWith};
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let id = session_id(&server, &account).await;
    let now = kassa::clock::Clock::now(&server.clock);
    // A tab that read the session before another tab's card was declined...
    let stale = checkout::get_session(&server.db, &account.caller(false), &id, now, &server.base)
        .await
        .unwrap();
    let path = format!("/checkout/{id}");
    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;
    let declined = browser.post(&path, &page, &card("4000000000000002")).await;
    assert_eq!(declined.status, 402);
    // ...then pays: both name the same PaymentIntent.
    let card = kassa::domain::payments::CardSummary {
        brand: "visa".into(),
        last4: "4242".into(),
        exp_month: 12,
        exp_year: 2040,
    };
    let paid = PaidWith {
        card: Some(card),
        email: Some("ada@example.com".into()),
        name: None,
        ..Default::default()
    };
    let completion = checkout::complete_session(
        &server.db,
        &account.id,
        &stale,
        &[],
        paid,
        now,
        &server.base,
    )
    .await
    .unwrap();
    assert!(matches!(completion, Completion::Completed { .. }));
    let intents = json_with_status(
        server
            .with_key(Method::GET, "/v1/payment_intents", &account.test_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let data = intents["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["status"], "succeeded");
    assert_eq!(data[0]["last_payment_error"], Value::Null);
}

/// The line item id of a session's line `index`.
async fn line_id(server: &TestServer, account: &TestAccount, id: &str, index: usize) -> String {
    read(server, account, id, "?expand[]=line_items").await["line_items"]["data"][index]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn chosen_totals_that_cannot_be_charged_are_said_on_the_form(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let mut browser = Browser::new(&server);
    let tip = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/checkout/sessions",
                &format!(
                    "line_items[0][price]={}",
                    custom_price(&server, &account, "").await
                ),
            )
            .await,
        200,
    )
    .await;
    let id = tip["id"].as_str().unwrap();
    let path = format!("/checkout/{id}");
    let amount = format!("amount[{}]", line_id(&server, &account, id, 0).await);
    let page = browser.get(&path).await;
    assert!(
        page.body.contains(">At least $0.50</span>"),
        "the hint says the least that can be charged"
    );
    for (action, chosen, message) in [
        (
            "pay",
            "0.49",
            "The total amount due ($0.49) must be at least $0.50, the smallest charge in USD.",
        ),
        (
            "update",
            "1000000.00",
            "The total amount due ($1,000,000.00) must be at most $999,999.99, the largest single charge.",
        ),
    ] {
        let mut fields = card("4242424242424242");
        fields[0] = ("action", action);
        fields.push((amount.as_str(), chosen));
        let refused = browser.post(&path, &page, &fields).await;
        assert_eq!(refused.status, 400, "{chosen}");
        assert!(
            refused.body.contains("id=\"pay-form\""),
            "the form again, not an error page"
        );
        assert!(
            refused.body.contains(&format!(
                "<div class=\"alert\" role=\"alert\" id=\"form-alert\">{message}</div>"
            )),
            "{chosen}: {}",
            refused.body
        );
        assert!(refused.body.contains("aria-invalid=\"true\""));
    }
    let shown = read(&server, &account, id, "").await;
    assert_eq!(shown["status"], "open");
    assert_eq!(shown["payment_intent"], Value::Null);
    let mut fields = card("4242424242424242");
    fields.push((amount.as_str(), "0.50"));
    let paid = browser.post(&path, &page, &fields).await;
    assert_eq!(paid.status, 303, "{}", paid.body);
    assert_eq!(read(&server, &account, id, "").await["amount_total"], 50);

    // Through a quantity: $600,000.00 each, two of them.
    let yacht = session(
        &server,
        &account,
        "&line_items[1][price_data][currency]=usd&line_items[1][price_data][unit_amount]=60000000\
         &line_items[1][price_data][product_data][name]=Yacht&line_items[1][quantity]=1\
         &line_items[1][adjustable_quantity][enabled]=true",
    )
    .await;
    let id = yacht["id"].as_str().unwrap();
    let path = format!("/checkout/{id}");
    let quantity = format!("quantity[{}]", line_id(&server, &account, id, 1).await);
    let page = browser.get(&path).await;
    let mut fields = card("4242424242424242");
    fields.push((quantity.as_str(), "2"));
    let refused = browser.post(&path, &page, &fields).await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("must be at most $999,999.99"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(&format!(
        "id=\"quantity-{}-error\"",
        &quantity[9..quantity.len() - 1]
    )));
    assert_eq!(
        read(&server, &account, id, "").await["amount_total"],
        60_005_000,
        "nothing saved"
    );
}

/// A price whose amount the customer chooses (`custom_unit_amount` plus `extra`).
async fn custom_price(server: &TestServer, account: &TestAccount, extra: &str) -> String {
    let price = server
        .form(
            account,
            Method::POST,
            "/v1/prices",
            &format!("currency=usd&custom_unit_amount[enabled]=true&product_data[name]=Tip{extra}"),
        )
        .await;
    json_with_status(price, 200).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `submit_type` chooses the pay button's word, as on Stripe's page.
async fn submit_type_names_the_pay_button(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    for (submit_type, label) in [
        ("auto", "Pay $50.00"),
        ("pay", "Pay $50.00"),
        ("book", "Book $50.00"),
        ("donate", "Donate $50.00"),
    ] {
        let created = session(&server, &account, &format!("&submit_type={submit_type}")).await;
        assert_eq!(created["submit_type"], submit_type);
        let mut browser = Browser::new(&server);
        let page = browser
            .get(&format!("/checkout/{}", created["id"].as_str().unwrap()))
            .await;
        assert!(
            page.body.contains(&format!(">{label}<")),
            "{submit_type}: {label}"
        );
        let prefix = label.split(' ').next().unwrap();
        assert!(
            page.body.contains(&format!("data-label=\"{prefix} \"")),
            "{submit_type}"
        );
    }
}

async fn subscription_pages_say_what_is_charged_now_and_then(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let new_price = async |body: &str| {
        let created = server
            .form(&account, Method::POST, "/v1/prices", body)
            .await;
        json_with_status(created, 200).await["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let quarterly = new_price(
        "currency=eur&unit_amount=900&recurring[interval]=month&recurring[interval_count]=3\
         &product_data[name]=Pro",
    )
    .await;
    let setup_fee = new_price("currency=eur&unit_amount=500&product_data[name]=Setup").await;
    let body = format!(
        "mode=subscription&line_items[0][price]={quarterly}&line_items[0][quantity]=2\
         &line_items[1][price]={setup_fee}&line_items[1][quantity]=1"
    );
    let created = server
        .form(&account, Method::POST, "/v1/checkout/sessions", &body)
        .await;
    let created = json_with_status(created, 200).await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/checkout/{id}");
    let mut browser = Browser::new(&server);
    let page = browser.get(&path).await;
    for text in [
        "Subscribe to Pro and 1 more",
        "€23.00</output> <span class=\"per\">now</span>",
        "Then €18.00 every 3 months",
    ] {
        assert!(
            page.body.contains(text),
            "the page shows {text:?}: {}",
            page.body
        );
    }
    let paid = browser.post(&path, &page, &card("4242424242424242")).await;
    assert_eq!(paid.status, 303, "{}", paid.body);
    let session = read(&server, &account, id, "").await;
    assert!(
        session["subscription"]
            .as_str()
            .unwrap()
            .starts_with("sub_")
    );
    assert!(session["invoice"].as_str().unwrap().starts_with("in_"));
}
