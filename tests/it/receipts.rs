//! Receipts: a succeeded charge's `receipt_url` and a finalized invoice's `hosted_invoice_url`
//! are pages anyone holding the link can read, with the merchant, items, amounts, card brand
//! and last four (never the number), and refunds; the checkout's thank-you page links the
//! receipt; a failed charge and a draft invoice have none.

use kassa::domain::billing::engine::{LEASE_SECONDS, SimulatedProcessor, run_due};
use reqwest::Method;
use serde_json::Value;

use crate::harness::{
    Engine, TestAccount, TestDatabase, TestServer, json_with_status, on_both_engines,
};
use crate::mailbox::Mailbox;

on_both_engines!(
    a_paid_session_has_a_receipt_with_its_refunds,
    failed_charges_and_unknown_ids_have_no_receipt,
    invoices_have_pages_and_renewals_receipts,
    payments_refunds_and_renewals_are_emailed,
    a_refused_email_is_retried_and_a_resend_is_the_same_message,
    receipt_emails_follow_the_account_setting_and_the_server,
);

const DAY: i64 = 86_400;

async fn server(engine: Engine) -> TestServer {
    TestServer::start_configured(TestDatabase::new(engine).await, |config| {
        config.billing_interval = None;
    })
    .await
}

/// A server that emails receipts through `mailbox`, looking for due emails every 20 ms.
async fn mailing(engine: Engine, mailbox: &Mailbox) -> TestServer {
    let url = mailbox.url();
    TestServer::start_configured(TestDatabase::new(engine).await, move |config| {
        config.billing_interval = None;
        config.smtp = Some(kassa::config::SmtpSettings {
            url,
            from: None,
            test_mode: true,
        });
        config.mail_interval = std::time::Duration::from_millis(20);
    })
    .await
}

/// The state of each queued email, oldest first.
async fn email_states(server: &TestServer) -> Vec<(String, String, i64)> {
    server
        .db
        .fetch_all("SELECT kind, state, attempts FROM emails ORDER BY id", &[])
        .await
        .unwrap()
}

/// Emails under a claim's lease: being sent, their outcome not yet saved.
async fn claimed_emails(server: &TestServer) -> i64 {
    let (claimed,): (i64,) = server
        .db
        .fetch_one(
            "SELECT COUNT(*) FROM emails WHERE lease_until IS NOT NULL",
            &[],
        )
        .await
        .unwrap();
    claimed
}

async fn send(server: &TestServer, key: &str, method: Method, path: &str, body: &str) -> Value {
    let request = server
        .with_key(method, path, key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    json_with_status(request.send().await.unwrap(), 200).await
}

async fn post(server: &TestServer, account: &TestAccount, path: &str, body: &str) -> Value {
    send(server, &account.test_key, Method::POST, path, body).await
}

async fn get(server: &TestServer, account: &TestAccount, path: &str) -> Value {
    send(server, &account.test_key, Method::GET, path, "").await
}

/// A page, with no key (the customer's browser): its status and HTML.
async fn page(url: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.text().await.unwrap(), headers)
}

/// A session of 2 × Shirt at $25.00 paid with `card`; the session as it then is.
async fn paid_session(server: &TestServer, account: &TestAccount, card: &str) -> Value {
    let session = post(
        server,
        account,
        "/v1/checkout/sessions",
        "mode=payment&line_items[0][price_data][currency]=usd\
         &line_items[0][price_data][unit_amount]=2500\
         &line_items[0][price_data][product_data][name]=Shirt&line_items[0][quantity]=2",
    )
    .await;
    let id = session["id"].as_str().unwrap();
    server
        .form(
            account,
            Method::POST,
            &format!("/v1/test_helpers/checkout/sessions/{id}/pay"),
            &format!("card={card}&email=ada%40example.com"),
        )
        .await;
    get(server, account, &format!("/v1/checkout/sessions/{id}")).await
}

async fn latest_charge(server: &TestServer, account: &TestAccount, session: &Value) -> Value {
    let intent = session["payment_intent"].as_str().unwrap();
    let intent = get(server, account, &format!("/v1/payment_intents/{intent}")).await;
    let charge = intent["latest_charge"].as_str().unwrap();
    get(server, account, &format!("/v1/charges/{charge}")).await
}

async fn a_paid_session_has_a_receipt_with_its_refunds(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Corner Shop").await;
    let session = paid_session(&server, &account, "4242424242424242").await;
    let charge = latest_charge(&server, &account, &session).await;
    let charge_id = charge["id"].as_str().unwrap();
    let url = format!("{}/receipts/{charge_id}", server.base);
    assert_eq!(charge["receipt_url"], url.as_str());

    let (status, html, headers) = page(&url).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    for shown in [
        "Receipt from Corner Shop",
        "Shirt",
        "$50.00",
        "Visa ending 4242",
        "Test mode",
    ] {
        assert!(html.contains(shown), "the receipt shows {shown}: {html}");
    }
    assert!(!html.contains("4242424242424242"), "never the card number");
    assert!(!html.contains("Refunded on"));

    // The thank-you page links it.
    let checkout = format!(
        "{}/checkout/{}",
        server.base,
        session["id"].as_str().unwrap()
    );
    let (_, thanks, _) = page(&checkout).await;
    assert!(thanks.contains(&format!("href=\"{url}\"")), "{thanks}");
    // This server has no SMTP server: the page promises no email.
    assert!(!thanks.contains("on its way"), "{thanks}");

    // A refund shows, with what the customer paid net; the charge.succeeded event carried the
    // same link.
    post(
        &server,
        &account,
        "/v1/refunds",
        &format!("charge={charge_id}&amount=1000"),
    )
    .await;
    let (_, html, _) = page(&url).await;
    assert!(html.contains("Refunded on"), "{html}");
    assert!(html.contains("−$10.00"), "{html}");
    assert!(html.contains("Net paid"), "{html}");
    assert!(html.contains("$40.00"), "{html}");
    let events = get(&server, &account, "/v1/events?type=charge.succeeded").await;
    assert_eq!(
        events["data"][0]["data"]["object"]["receipt_url"],
        url.as_str()
    );
}

async fn failed_charges_and_unknown_ids_have_no_receipt(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Corner Shop").await;
    let session = paid_session(&server, &account, "4000000000000002").await;
    let charge = latest_charge(&server, &account, &session).await;
    assert_eq!(charge["status"], "failed");
    assert_eq!(charge["receipt_url"], Value::Null);
    let id = charge["id"].as_str().unwrap();
    for path in [
        format!("/receipts/{id}"),
        "/receipts/ch_unknown".to_string(),
        "/invoices/in_unknown".to_string(),
    ] {
        let (status, html, _) = page(&format!("{}{path}", server.base)).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("not found"), "{html}");
    }

    // A free trial whose first card was declined, then saved with another: nothing was paid,
    // so its thank-you page links no receipt (not the declined charge's).
    let price = post(
        &server,
        &account,
        "/v1/prices",
        "currency=eur&unit_amount=900&recurring[interval]=month&product_data[name]=Pro",
    )
    .await;
    let trial = post(
        &server,
        &account,
        "/v1/checkout/sessions",
        &format!(
            "mode=subscription&line_items[0][price]={}&subscription_data[trial_period_days]=14",
            price["id"].as_str().unwrap()
        ),
    )
    .await;
    let id = trial["id"].as_str().unwrap();
    let path = format!("/v1/test_helpers/checkout/sessions/{id}/pay");
    let pay = |card: &'static str| server.form(&account, Method::POST, &path, card);
    assert_eq!(pay("card=4000000000000002").await.status(), 402);
    assert_eq!(pay("card=4242424242424242").await.status(), 200);
    let (_, thanks, _) = page(&format!("{}/checkout/{id}", server.base)).await;
    assert!(
        thanks.contains("Card confirmed") || thanks.contains("has started"),
        "{thanks}"
    );
    assert!(!thanks.contains("/receipts/"), "{thanks}");
}

/// A monthly subscription of 2 × Pro at €9.00 paid through checkout; the subscription.
async fn subscribe(server: &TestServer, account: &TestAccount) -> Value {
    let price = post(
        server,
        account,
        "/v1/prices",
        "currency=eur&unit_amount=900&recurring[interval]=month&product_data[name]=Pro",
    )
    .await;
    let session = post(
        server,
        account,
        "/v1/checkout/sessions",
        &format!(
            "mode=subscription&line_items[0][price]={}&line_items[0][quantity]=2",
            price["id"].as_str().unwrap()
        ),
    )
    .await;
    let paid = post(
        server,
        account,
        &format!(
            "/v1/test_helpers/checkout/sessions/{}/pay",
            session["id"].as_str().unwrap()
        ),
        "card=4242424242424242&email=ada%40example.com&name=Ada",
    )
    .await;
    let id = paid["subscription"].as_str().unwrap();
    get(server, account, &format!("/v1/subscriptions/{id}")).await
}

async fn invoices_have_pages_and_renewals_receipts(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Cloud Co").await;
    let subscription = subscribe(&server, &account).await;
    let first = subscription["latest_invoice"].as_str().unwrap();
    let invoice = get(&server, &account, &format!("/v1/invoices/{first}")).await;
    let url = format!("{}/invoices/{first}", server.base);
    assert_eq!(invoice["hosted_invoice_url"], url.as_str());
    let (status, html, _) = page(&url).await;
    assert_eq!(status, 200);
    let number = invoice["number"].as_str().unwrap();
    for shown in [
        number,
        "Cloud Co",
        "Pro",
        "€18.00",
        "Visa ending 4242",
        "Paid",
    ] {
        assert!(
            html.contains(shown),
            "the invoice page shows {shown}: {html}"
        );
    }
    let charge = invoice["charge"].as_str().unwrap();
    assert!(
        html.contains(&format!("href=\"{}/receipts/{charge}\"", server.base)),
        "the invoice page links its payment's receipt: {html}"
    );

    // The renewal: a draft has no page yet; once charged, its receipt names the invoice and
    // the period it pays for.
    let end = subscription["current_period_end"].as_i64().unwrap();
    server.clock.set(end);
    run_due(
        &server.db,
        &SimulatedProcessor,
        end,
        LEASE_SECONDS,
        &server.base,
    )
    .await
    .unwrap();
    let renewed = get(
        &server,
        &account,
        &format!("/v1/subscriptions/{}", subscription["id"].as_str().unwrap()),
    )
    .await;
    let second = renewed["latest_invoice"].as_str().unwrap();
    let draft = get(&server, &account, &format!("/v1/invoices/{second}")).await;
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["hosted_invoice_url"], Value::Null);
    let (status, _, _) = page(&format!("{}/invoices/{second}", server.base)).await;
    assert_eq!(status, 404);

    server.clock.set(end + DAY);
    run_due(
        &server.db,
        &SimulatedProcessor,
        end + DAY,
        LEASE_SECONDS,
        &server.base,
    )
    .await
    .unwrap();
    let paid = get(&server, &account, &format!("/v1/invoices/{second}")).await;
    assert_eq!(paid["status"], "paid");
    let charge = paid["charge"].as_str().unwrap();
    let charge = get(&server, &account, &format!("/v1/charges/{charge}")).await;
    let (status, html, _) = page(charge["receipt_url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let renewal_number = paid["number"].as_str().unwrap();
    assert!(html.contains(renewal_number), "{html}");
    assert!(
        html.contains(&format!("href=\"{}/invoices/{second}\"", server.base)),
        "{html}"
    );
    assert!(html.contains("€18.00"), "{html}");
    assert!(html.contains(" – "), "the line's period: {html}");
}

async fn payments_refunds_and_renewals_are_emailed(engine: Engine) {
    let mailbox = Mailbox::start().await;
    let server = mailing(engine, &mailbox).await;
    let account = server.account("Corner Shop").await;
    let session = paid_session(&server, &account, "4242424242424242").await;
    let charge = latest_charge(&server, &account, &session).await;
    let receipt_url = charge["receipt_url"].as_str().unwrap();

    let mails = mailbox.wait_for(1).await;
    let checkout = format!(
        "{}/checkout/{}",
        server.base,
        session["id"].as_str().unwrap()
    );
    let (_, thanks, _) = page(&checkout).await;
    assert!(
        thanks.contains("A receipt is on its way to ada@example.com."),
        "{thanks}"
    );
    let receipt = &mails[0];
    assert_eq!(receipt.to, vec!["ada@example.com".to_string()]);
    assert_eq!(receipt.from, "receipts@127.0.0.1");
    assert_eq!(
        receipt.header("Subject").unwrap(),
        "Your receipt from Corner Shop"
    );
    assert!(
        receipt
            .header("From")
            .unwrap()
            .contains("receipts@127.0.0.1")
    );
    let message_id = receipt.header("Message-ID").unwrap();
    assert!(message_id.starts_with("<em_"), "{message_id}");
    let (text, html) = receipt.bodies();
    for body in [&text, &html] {
        assert!(body.contains("$50.00"), "{body}");
        assert!(body.contains("Visa ending 4242"), "{body}");
        assert!(body.contains(receipt_url), "the receipt's link: {body}");
        assert!(!body.contains("4242424242424242"), "never the card number");
    }
    assert!(text.contains("Shirt × 2"), "{text}");

    post(
        &server,
        &account,
        "/v1/refunds",
        &format!("charge={}&amount=1000", charge["id"].as_str().unwrap()),
    )
    .await;
    let mails = mailbox.wait_for(2).await;
    let refund = &mails[1];
    assert_eq!(
        refund.header("Subject").unwrap(),
        "Your refund from Corner Shop"
    );
    assert_ne!(refund.header("Message-ID").unwrap(), message_id);
    let (text, _) = refund.bodies();
    assert!(text.contains("refunded $10.00"), "{text}");
    assert!(text.contains("Net paid  $40.00"), "{text}");

    // A subscription's first payment and its renewal are receipts too.
    let subscription = subscribe(&server, &account).await;
    mailbox.wait_for(3).await;
    let end = subscription["current_period_end"].as_i64().unwrap();
    for at in [end, end + DAY] {
        server.clock.set(at);
        run_due(
            &server.db,
            &SimulatedProcessor,
            at,
            LEASE_SECONDS,
            &server.base,
        )
        .await
        .unwrap();
    }
    let mails = mailbox.wait_for(4).await;
    let (text, _) = mails[3].bodies();
    assert!(text.contains("€18.00"), "{text}");
    assert!(text.contains("Invoice: "), "{text}");
    assert_eq!(mails.len(), 4, "one email each");
    // Each is written sent once the SMTP server has taken it.
    let all_sent = |states: &[(String, String, i64)]| states.iter().all(|(_, s, _)| s == "sent");
    let mut states = email_states(&server).await;
    for _ in 0..500 {
        if all_sent(&states) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        states = email_states(&server).await;
    }
    assert!(all_sent(&states), "{states:?}");
    assert_eq!(mailbox.mails().len(), 4, "and none twice");
}

async fn a_refused_email_is_retried_and_a_resend_is_the_same_message(engine: Engine) {
    let mailbox = Mailbox::start().await;
    let server = mailing(engine, &mailbox).await;
    let account = server.account("Corner Shop").await;
    mailbox.refuse_next(1);
    paid_session(&server, &account, "4242424242424242").await;
    // Refused once (451): pending, due a minute later by the server's clock. The refusal is
    // saved when the claim's lease is let go; a retry saved after the clock moves would be due
    // a minute after the moved clock.
    for _ in 0..500 {
        if email_states(&server).await == [("receipt".into(), "pending".into(), 1)]
            && claimed_emails(&server).await == 0
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        email_states(&server).await,
        [("receipt".into(), "pending".into(), 1)]
    );
    assert!(mailbox.mails().is_empty());
    server.clock.advance(61);
    let first = mailbox.wait_for(1).await[0].clone();

    // A server that stopped after the SMTP server took the message, before it wrote so,
    // sends it again when the claim's lease ends: the same message, by its Message-ID.
    server
        .db
        .execute(
            "UPDATE emails SET state = 'pending', lease_until = NULL",
            &[],
        )
        .await
        .unwrap();
    let again = mailbox.wait_for(2).await[1].clone();
    assert_eq!(again.header("Message-ID"), first.header("Message-ID"));
    assert_eq!(again.header("Subject"), first.header("Subject"));
}

async fn receipt_emails_follow_the_account_setting_and_the_server(engine: Engine) {
    let mailbox = Mailbox::start().await;
    let server = mailing(engine, &mailbox).await;
    let account = server.account("Corner Shop").await;
    let request = |body: &'static str| {
        server
            .with_key(Method::POST, "/api/v3/account", &account.test_key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let off = json_with_status(request(r#"{"receipt_emails": false}"#).await.unwrap(), 200).await;
    assert_eq!(off["receipt_emails"], false);
    paid_session(&server, &account, "4242424242424242").await;
    assert!(email_states(&server).await.is_empty(), "none is queued");
    let on = json_with_status(request(r#"{"receipt_emails": true}"#).await.unwrap(), 200).await;
    assert_eq!(on["receipt_emails"], true);
    paid_session(&server, &account, "4242424242424242").await;
    assert_eq!(mailbox.wait_for(1).await.len(), 1);
    let refused = request(r#"{"receipt_emails": "yes"}"#).await.unwrap();
    assert_eq!(refused.status(), 400);

    // A server with no SMTP server sends none, and marks what it finds skipped, so that
    // configuring one later does not send old receipts.
    let plain = server_with_mail_interval(engine).await;
    let other = plain.account("Quiet Shop").await;
    paid_session(&plain, &other, "4242424242424242").await;
    for _ in 0..500 {
        if email_states(&plain).await == [("receipt".into(), "skipped".into(), 0)] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        email_states(&plain).await,
        [("receipt".into(), "skipped".into(), 0)]
    );

    // Nor are test-mode receipts emailed without --smtp-test-mode (as on Stripe): a test key
    // must not make the server email any address it likes.
    let url = mailbox.url();
    let live_only = TestServer::start_configured(TestDatabase::new(engine).await, move |config| {
        config.billing_interval = None;
        config.smtp = Some(kassa::config::SmtpSettings {
            url,
            from: None,
            test_mode: false,
        });
        config.mail_interval = std::time::Duration::from_millis(20);
    })
    .await;
    let shop = live_only.account("Live Shop").await;
    paid_session(&live_only, &shop, "4242424242424242").await;
    for _ in 0..500 {
        if email_states(&live_only).await == [("receipt".into(), "skipped".into(), 1)] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        email_states(&live_only).await,
        [("receipt".into(), "skipped".into(), 1)]
    );
    assert_eq!(mailbox.mails().len(), 1, "only the first server's");
}

/// A server with no SMTP server that looks for due emails every 20 ms.
async fn server_with_mail_interval(engine: Engine) -> TestServer {
    TestServer::start_configured(TestDatabase::new(engine).await, |config| {
        config.billing_interval = None;
        config.mail_interval = std::time::Duration::from_millis(20);
    })
    .await
}
