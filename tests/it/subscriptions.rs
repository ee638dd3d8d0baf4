//! Subscriptions started by checkout (decisions §11): a paid session in subscription mode
//! creates its customer, subscription and first invoice, paid, with the events in order; the
//! objects read back through `/v1/subscriptions`, `/v1/subscription_items` and `/v1/invoices`.

use kassa::clock::Clock;
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::harness::{Engine, TestAccount, TestServer, json_with_status, on_both_engines};

on_both_engines!(
    a_paid_subscription_checkout_starts_a_subscription_with_its_first_invoice,
    subscriptions_and_invoices_list_with_stripes_filters,
    subscription_objects_expand_and_belong_to_their_account,
    subscriptions_cancel_at_period_end_at_a_time_or_now,
    loops_v3_serves_the_same_subscriptions_and_invoices,
    subscription_data_reaches_the_subscription,
    loops_v1_and_v2_sessions_on_a_recurring_product_start_subscriptions,
);

async fn post(server: &TestServer, account: &TestAccount, path: &str, body: &str) -> Value {
    json_with_status(server.form(account, Method::POST, path, body).await, 200).await
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

/// A paid session for "Pro" at €9.00 a month and a €5.00 setup fee; the session as paid.
async fn subscribe(server: &TestServer, account: &TestAccount) -> (Value, Value, Value) {
    let monthly = post(
        server,
        account,
        "/v1/prices",
        "currency=eur&unit_amount=900&recurring[interval]=month&product_data[name]=Pro",
    )
    .await;
    let setup_fee = post(
        server,
        account,
        "/v1/prices",
        "currency=eur&unit_amount=500&product_data[name]=Setup",
    )
    .await;
    let session = post(
        server,
        account,
        "/v1/checkout/sessions",
        &format!(
            "mode=subscription&success_url=https%3A%2F%2Fshop.example%2Fthanks\
             &line_items[0][price]={}&line_items[0][quantity]=2\
             &line_items[1][price]={}&line_items[1][quantity]=1",
            monthly["id"].as_str().unwrap(),
            setup_fee["id"].as_str().unwrap()
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
        "card=4242424242424242&email=ada%40example.com&name=Ada+Lovelace",
    )
    .await;
    (paid, monthly, setup_fee)
}

/// One calendar month after `at` (the test runs at the server clock's now, never on a day
/// that a shorter month lacks).
fn a_month_after(at: i64) -> i64 {
    let at = OffsetDateTime::from_unix_timestamp(at).unwrap();
    let (year, month) = match at.month() {
        time::Month::December => (at.year() + 1, time::Month::January),
        m => (at.year(), m.next()),
    };
    let day = at.day().min(time::util::days_in_month(month, year));
    at.replace_date(time::Date::from_calendar_date(year, month, day).unwrap())
        .unix_timestamp()
}

async fn a_paid_subscription_checkout_starts_a_subscription_with_its_first_invoice(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let now = server.clock.now();
    let (paid, monthly, setup_fee) = subscribe(&server, &account).await;
    let key = &account.test_key;

    assert_eq!(paid["status"], "complete");
    assert_eq!(paid["payment_status"], "paid");
    assert_eq!(paid["amount_total"], 2300);
    assert_eq!(paid["payment_intent"], Value::Null, "{paid}");
    let customer = paid["customer"].as_str().unwrap();
    assert!(customer.starts_with("cus_"));
    let subscription_id = paid["subscription"].as_str().unwrap();
    let invoice_id = paid["invoice"].as_str().unwrap();
    assert!(subscription_id.starts_with("sub_") && invoice_id.starts_with("in_"));

    let subscription = get(
        &server,
        key,
        &format!("/v1/subscriptions/{subscription_id}"),
        200,
    )
    .await;
    assert_eq!(subscription["object"], "subscription");
    assert_eq!(subscription["status"], "active");
    assert_eq!(subscription["customer"], customer);
    assert_eq!(subscription["currency"], "eur");
    assert_eq!(subscription["latest_invoice"], invoice_id);
    assert_eq!(subscription["collection_method"], "charge_automatically");
    let method = subscription["default_payment_method"].as_str().unwrap();
    let method = get(&server, key, &format!("/v1/payment_methods/{method}"), 200).await;
    assert_eq!(
        method["customer"], customer,
        "the card is saved for the renewals"
    );
    assert_eq!(method["card"]["last4"], "4242");
    assert_eq!(subscription["cancel_at_period_end"], false);
    assert_eq!(subscription["billing_cycle_anchor"], now);
    assert_eq!(subscription["start_date"], now);
    assert_eq!(subscription["current_period_start"], now);
    assert_eq!(subscription["current_period_end"], a_month_after(now));
    let items = subscription["items"]["data"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "the one-time fee is no item: {subscription}"
    );
    let item = &items[0];
    assert_eq!(item["object"], "subscription_item");
    assert_eq!(item["price"]["id"], monthly["id"]);
    assert_eq!(item["price"]["recurring"]["interval"], "month");
    assert_eq!(item["plan"]["object"], "plan");
    assert_eq!(item["plan"]["amount_decimal"], "900");
    assert_eq!(item["quantity"], 2);
    assert_eq!(item["subscription"], subscription_id);
    assert_eq!(item["current_period_start"], now);
    assert_eq!(item["current_period_end"], a_month_after(now));

    let invoice = get(&server, key, &format!("/v1/invoices/{invoice_id}"), 200).await;
    assert_eq!(invoice["object"], "invoice");
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["paid"], true);
    assert_eq!(invoice["billing_reason"], "subscription_create");
    assert_eq!(invoice["customer"], customer);
    assert_eq!(invoice["customer_email"], "ada@example.com");
    assert_eq!(invoice["customer_name"], "Ada Lovelace");
    assert_eq!(
        (
            &invoice["total"],
            &invoice["amount_due"],
            &invoice["amount_paid"],
            &invoice["amount_remaining"]
        ),
        (&json!(2300), &json!(2300), &json!(2300), &json!(0))
    );
    assert_eq!(invoice["subscription"], subscription_id);
    assert_eq!(
        invoice["parent"]["subscription_details"]["subscription"],
        subscription_id
    );
    assert_eq!(invoice["status_transitions"]["paid_at"], now);
    assert_eq!(invoice["attempt_count"], 1);
    assert_eq!(invoice["next_payment_attempt"], Value::Null);
    let number = invoice["number"].as_str().unwrap();
    assert!(number.ends_with("-0001"), "{number}");
    let intent_id = invoice["payment_intent"].as_str().unwrap();
    assert_eq!(
        invoice["payments"]["data"][0]["payment"]["payment_intent"],
        intent_id
    );
    assert_eq!(invoice["payments"]["data"][0]["status"], "paid");
    let charge = get(
        &server,
        key,
        &format!("/v1/charges/{}", invoice["charge"].as_str().unwrap()),
        200,
    )
    .await;
    assert_eq!(
        (&charge["amount"], &charge["status"]),
        (&json!(2300), &json!("succeeded"))
    );
    assert_eq!(charge["payment_intent"], intent_id);
    let lines = invoice["lines"]["data"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["amount"], 1800);
    assert_eq!(lines[0]["pricing"]["price_details"]["price"], monthly["id"]);
    assert_eq!(
        lines[0]["parent"]["subscription_item_details"]["subscription_item"],
        item["id"]
    );
    assert_eq!(
        lines[0]["period"],
        json!({"start": now, "end": a_month_after(now)})
    );
    assert_eq!(lines[1]["amount"], 500);
    assert_eq!(
        lines[1]["pricing"]["price_details"]["price"],
        setup_fee["id"]
    );
    assert_eq!(
        lines[1]["period"],
        json!({"start": now, "end": now}),
        "a one-time line"
    );
    let listed_lines = get(
        &server,
        key,
        &format!("/v1/invoices/{invoice_id}/lines?limit=1"),
        200,
    )
    .await;
    assert_eq!(listed_lines["data"][0]["id"], lines[0]["id"]);
    assert_eq!(listed_lines["has_more"], true);

    // The events of decisions §11, in order.
    let events = get(&server, key, "/v1/events?limit=100", 200).await;
    let mut kinds: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    kinds.reverse();
    // After the catalog's own events (the two prices and their products).
    let paying = kinds.iter().position(|k| *k == "customer.created").unwrap();
    assert_eq!(kinds[..paying].len(), 4, "{kinds:?}");
    assert_eq!(
        kinds[paying..],
        [
            "customer.created",
            "payment_method.attached",
            "customer.subscription.created",
            "invoice.created",
            "invoice.finalized",
            "charge.succeeded",
            "payment_intent.succeeded",
            "invoice.paid",
            "invoice.payment_succeeded",
            "invoice_payment.paid",
            "checkout.session.completed",
        ]
    );
    let of = |kind: &str| {
        events["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == kind)
            .unwrap()["data"]["object"]
            .clone()
    };
    assert_eq!(of("invoice.created")["status"], "draft");
    assert_eq!(of("invoice.created")["number"], Value::Null);
    assert_eq!(of("invoice.finalized")["status"], "open");
    assert_eq!(
        of("invoice.paid"),
        invoice,
        "the paid invoice is as retrieved"
    );
    assert_eq!(of("customer.subscription.created"), subscription);
    assert_eq!(
        of("checkout.session.completed")["subscription"],
        subscription_id
    );
}

async fn subscriptions_and_invoices_list_with_stripes_filters(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let (first, monthly, _) = subscribe(&server, &account).await;
    let (second, _, _) = subscribe(&server, &account).await;
    let count = |list: &Value| list["data"].as_array().unwrap().len();

    let all = get(&server, key, "/v1/subscriptions", 200).await;
    assert_eq!(count(&all), 2);
    assert_eq!(all["data"][0]["id"], second["subscription"], "newest first");
    assert_eq!(all["url"], "/v1/subscriptions");
    assert_eq!(
        count(&get(&server, key, "/v1/subscriptions?status=active", 200).await),
        2
    );
    assert_eq!(
        count(&get(&server, key, "/v1/subscriptions?status=all", 200).await),
        2
    );
    assert_eq!(
        count(&get(&server, key, "/v1/subscriptions?status=canceled", 200).await),
        0
    );
    assert_eq!(
        count(&get(&server, key, "/v1/subscriptions?status=ended", 200).await),
        0
    );
    let refused = get(&server, key, "/v1/subscriptions?status=gone", 400).await;
    assert_eq!(refused["error"]["param"], "status");
    let customer = first["customer"].as_str().unwrap();
    let mine = get(
        &server,
        key,
        &format!("/v1/subscriptions?customer={customer}"),
        200,
    )
    .await;
    assert_eq!(count(&mine), 1);
    assert_eq!(mine["data"][0]["id"], first["subscription"]);
    let of_price = get(
        &server,
        key,
        &format!(
            "/v1/subscriptions?price={}",
            monthly["id"].as_str().unwrap()
        ),
        200,
    )
    .await;
    assert_eq!(
        count(&of_price),
        1,
        "each subscription has its own monthly price"
    );
    let page = get(&server, key, "/v1/subscriptions?limit=1", 200).await;
    assert_eq!((count(&page), &page["has_more"]), (1, &json!(true)));
    for (param, value) in [("customer", "cus_nobody"), ("price", "price_nothing")] {
        let missing = get(
            &server,
            key,
            &format!("/v1/subscriptions?{param}={value}"),
            400,
        )
        .await;
        assert_eq!(missing["error"]["code"], "resource_missing");
        assert_eq!(missing["error"]["param"], param);
    }

    let sub = first["subscription"].as_str().unwrap();
    let invoices = get(
        &server,
        key,
        &format!("/v1/invoices?subscription={sub}"),
        200,
    )
    .await;
    assert_eq!(count(&invoices), 1);
    assert_eq!(invoices["data"][0]["id"], first["invoice"]);
    assert_eq!(count(&get(&server, key, "/v1/invoices", 200).await), 2);
    assert_eq!(
        count(&get(&server, key, "/v1/invoices?status=paid", 200).await),
        2
    );
    assert_eq!(
        count(&get(&server, key, "/v1/invoices?status=open", 200).await),
        0
    );
    assert_eq!(
        count(
            &get(
                &server,
                key,
                &format!("/v1/invoices?customer={customer}"),
                200
            )
            .await
        ),
        1
    );
    get(&server, key, "/v1/invoices?status=late", 400).await;
    let missing = get(&server, key, "/v1/invoices?subscription=sub_nothing", 400).await;
    assert_eq!(missing["error"]["param"], "subscription");

    let items = get(
        &server,
        key,
        &format!("/v1/subscription_items?subscription={sub}"),
        200,
    )
    .await;
    assert_eq!(count(&items), 1);
    let item_id = items["data"][0]["id"].as_str().unwrap();
    let item = get(
        &server,
        key,
        &format!("/v1/subscription_items/{item_id}"),
        200,
    )
    .await;
    assert_eq!(item, items["data"][0]);
    let needs = get(&server, key, "/v1/subscription_items", 400).await;
    assert_eq!(needs["error"]["code"], "parameter_missing");
}

async fn subscription_objects_expand_and_belong_to_their_account(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let other = server.account("Other").await;
    let (paid, _, _) = subscribe(&server, &account).await;
    let sub = paid["subscription"].as_str().unwrap();
    let invoice = paid["invoice"].as_str().unwrap();

    let expanded = get(
        &server,
        &account.test_key,
        &format!(
            "/v1/subscriptions/{sub}?expand[]=latest_invoice.payment_intent&expand[]=customer"
        ),
        200,
    )
    .await;
    assert_eq!(expanded["customer"]["object"], "customer");
    assert_eq!(expanded["latest_invoice"]["id"], invoice);
    assert_eq!(
        expanded["latest_invoice"]["payment_intent"]["object"],
        "payment_intent"
    );
    let invoice_expanded = get(
        &server,
        &account.test_key,
        &format!("/v1/invoices/{invoice}?expand[]=subscription&expand[]=charge"),
        200,
    )
    .await;
    assert_eq!(invoice_expanded["subscription"]["id"], sub);
    assert_eq!(invoice_expanded["charge"]["object"], "charge");
    get(
        &server,
        &account.test_key,
        &format!("/v1/subscriptions/{sub}?expand[]=schedule"),
        400,
    )
    .await;

    for key in [&other.test_key, &account.live_key] {
        for path in [
            format!("/v1/subscriptions/{sub}"),
            format!("/v1/invoices/{invoice}"),
        ] {
            let missing = get(&server, key, &path, 404).await;
            assert_eq!(missing["error"]["code"], "resource_missing");
        }
        assert_eq!(
            get(&server, key, "/v1/subscriptions", 200).await["data"],
            json!([])
        );
        assert_eq!(
            get(&server, key, "/v1/invoices", 200).await["data"],
            json!([])
        );
    }
}

async fn send(
    server: &TestServer,
    key: &str,
    method: Method,
    path: &str,
    body: &str,
    status: u16,
) -> Value {
    let request = server
        .with_key(method, path, key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    json_with_status(request.send().await.unwrap(), status).await
}

async fn subscriptions_cancel_at_period_end_at_a_time_or_now(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let now = server.clock.now();
    let (paid, _, _) = subscribe(&server, &account).await;
    let id = paid["subscription"].as_str().unwrap();
    let path = format!("/v1/subscriptions/{id}");
    let update =
        async |body: &str, status: u16| send(&server, key, Method::POST, &path, body, status).await;

    let later = update(
        "cancel_at_period_end=true&cancellation_details[feedback]=too_expensive",
        200,
    )
    .await;
    assert_eq!(later["status"], "active");
    assert_eq!(later["cancel_at_period_end"], true);
    assert_eq!(later["cancel_at"], later["current_period_end"]);
    assert_eq!(later["canceled_at"], now);
    assert_eq!(later["ended_at"], Value::Null);
    assert_eq!(later["cancellation_details"]["feedback"], "too_expensive");
    assert_eq!(
        later["cancellation_details"]["reason"],
        "cancellation_requested"
    );
    let undone = update("cancel_at_period_end=false", 200).await;
    assert_eq!(
        (
            &undone["cancel_at_period_end"],
            &undone["cancel_at"],
            &undone["canceled_at"]
        ),
        (&json!(false), &Value::Null, &Value::Null)
    );
    let at = now + 86_400;
    let scheduled = update(&format!("cancel_at={at}"), 200).await;
    assert_eq!(
        (&scheduled["cancel_at"], &scheduled["cancel_at_period_end"]),
        (&json!(at), &json!(false))
    );
    assert_eq!(update("cancel_at=", 200).await["cancel_at"], Value::Null);
    let past = update(&format!("cancel_at={}", now - 1), 400).await;
    assert_eq!(past["error"]["param"], "cancel_at");
    let both = update(&format!("cancel_at={at}&cancel_at_period_end=true"), 400).await;
    assert_eq!(both["error"]["param"], "cancel_at");
    let feedback = update("cancellation_details[feedback]=meh", 400).await;
    assert_eq!(feedback["error"]["param"], "cancellation_details[feedback]");
    let items = update("items[0][price]=price_other", 400).await;
    assert!(
        items["error"]["message"]
            .as_str()
            .unwrap()
            .contains("items"),
        "{items}"
    );
    let noted = update("metadata[plan]=pro&description=Team+plan", 200).await;
    assert_eq!(
        (&noted["metadata"], &noted["description"]),
        (&json!({"plan": "pro"}), &json!("Team plan"))
    );

    let canceled = send(
        &server,
        key,
        Method::DELETE,
        &format!("{path}?cancellation_details[comment]=Too+busy"),
        "",
        200,
    )
    .await;
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(
        (&canceled["ended_at"], &canceled["canceled_at"]),
        (&json!(now), &json!(now))
    );
    assert_eq!(
        canceled["cancellation_details"]["reason"],
        "cancellation_requested"
    );
    assert_eq!(canceled["cancellation_details"]["comment"], "Too busy");
    assert_eq!(get(&server, key, &path, 200).await, canceled);
    let again = send(&server, key, Method::DELETE, &path, "", 400).await;
    assert_eq!(again["error"]["code"], "subscription_canceled");
    update("description=Later", 400).await;
    assert_eq!(
        update("metadata[reason]=moved", 200).await["metadata"]["reason"],
        "moved"
    );

    let listed = get(&server, key, "/v1/subscriptions", 200).await;
    assert_eq!(
        listed["data"],
        json!([]),
        "canceled ones are hidden by default"
    );
    let ended = get(&server, key, "/v1/subscriptions?status=canceled", 200).await;
    assert_eq!(ended["data"][0]["id"], id);

    let events = get(
        &server,
        key,
        "/v1/events?type=customer.subscription.deleted",
        200,
    )
    .await;
    assert_eq!(events["data"].as_array().unwrap().len(), 1);
    assert_eq!(events["data"][0]["data"]["object"]["status"], "canceled");
    let updated = get(
        &server,
        key,
        "/v1/events?type=customer.subscription.updated",
        200,
    )
    .await;
    assert_eq!(
        updated["data"].as_array().unwrap().len(),
        6,
        "one per change that was made"
    );
}

async fn loops_v3_serves_the_same_subscriptions_and_invoices(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let (paid, _, _) = subscribe(&server, &account).await;
    let sub = paid["subscription"].as_str().unwrap();
    let invoice = paid["invoice"].as_str().unwrap();

    let v1 = get(&server, key, &format!("/v1/subscriptions/{sub}"), 200).await;
    let v3 = get(&server, key, &format!("/api/v3/subscriptions/{sub}"), 200).await;
    assert_eq!(v3, v1, "one object on both surfaces");
    let listed = get(&server, key, "/api/v3/subscriptions?limit=5", 200).await;
    assert_eq!(listed["data"][0], v1);
    assert_eq!(listed["url"], "/api/v3/subscriptions");
    assert_eq!(
        get(&server, key, &format!("/api/v3/invoices/{invoice}"), 200).await,
        get(&server, key, &format!("/v1/invoices/{invoice}"), 200).await
    );
    let invoices = get(
        &server,
        key,
        &format!("/api/v3/invoices?subscription={sub}"),
        200,
    )
    .await;
    assert_eq!(invoices["data"][0]["id"], invoice);

    let updated = server
        .with_key(Method::POST, &format!("/api/v3/subscriptions/{sub}"), key)
        .json(&json!({"metadata": {"team": "blue"}, "cancel_at_period_end": true}))
        .send()
        .await
        .unwrap();
    let updated = json_with_status(updated, 200).await;
    assert_eq!(updated["metadata"]["team"], "blue");
    assert_eq!(updated["cancel_at_period_end"], true);
    let canceled = server
        .with_key(Method::DELETE, &format!("/api/v3/subscriptions/{sub}"), key)
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(canceled, 200).await["status"], "canceled");

    // A V3 `customer` is the merchant's reference, but a subscription is a Customer's: in
    // subscription mode it must name one.
    let price = v1["items"]["data"][0]["price"]["id"].clone();
    let create = async |customer: &Value| {
        server
            .with_key(Method::POST, "/api/v3/checkout/sessions", key)
            .json(&json!({"line_items": [{"price": price}], "customer": customer}))
            .send()
            .await
            .unwrap()
    };
    let error = json_with_status(create(&json!("crm-42")).await, 400).await;
    assert_eq!(error["error"]["param"], "customer", "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("externalCustomerId"),
        "{error}"
    );
    let session = json_with_status(create(&v1["customer"]).await, 200).await;
    assert_eq!(session["customer"], v1["customer"]);
}

async fn subscription_data_reaches_the_subscription(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let monthly = post(
        &server,
        &account,
        "/v1/prices",
        "currency=eur&unit_amount=900&recurring[interval]=month&product_data[name]=Pro",
    )
    .await;
    let price = monthly["id"].as_str().unwrap();
    let line = format!("line_items[0][price]={price}&line_items[0][quantity]=1");
    let create = async |extra: &str, status: u16| {
        let body = format!("{line}{extra}");
        json_with_status(
            server
                .form(&account, Method::POST, "/v1/checkout/sessions", &body)
                .await,
            status,
        )
        .await
    };
    let session = create(
        "&mode=subscription&subscription_data[metadata][plan]=pro&subscription_data[description]=Team+plan",
        200,
    )
    .await;
    let paid = post(
        &server,
        &account,
        &format!(
            "/v1/test_helpers/checkout/sessions/{}/pay",
            session["id"].as_str().unwrap()
        ),
        "card=4242424242424242",
    )
    .await;
    let sub = get(
        &server,
        key,
        &format!(
            "/v1/subscriptions/{}",
            paid["subscription"].as_str().unwrap()
        ),
        200,
    )
    .await;
    assert_eq!(sub["metadata"], json!({"plan": "pro"}));
    assert_eq!(sub["description"], "Team plan");

    let one_off = post(
        &server,
        &account,
        "/v1/prices",
        "currency=eur&unit_amount=900&product_data[name]=Once",
    )
    .await;
    let body = format!(
        "mode=payment&line_items[0][price]={}&line_items[0][quantity]=1&subscription_data[description]=x",
        one_off["id"].as_str().unwrap()
    );
    let wrong_mode = json_with_status(
        server
            .form(&account, Method::POST, "/v1/checkout/sessions", &body)
            .await,
        400,
    )
    .await;
    assert_eq!(wrong_mode["error"]["param"], "subscription_data");
}

async fn loops_v1_and_v2_sessions_on_a_recurring_product_start_subscriptions(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let send = async |method: Method, path: &str, body: Value| {
        let response = server
            .with_key(method, path, key)
            .json(&body)
            .send()
            .await
            .unwrap();
        json_with_status(response, 200).await
    };
    let product = send(
        Method::POST,
        "/api/v3/products",
        json!({"name": "Seat", "priceAmount": 12, "priceCurrency": "EUR", "recurringInterval": "month"}),
    )
    .await;
    // V1 sells through a payment link, V2 a product.
    let link = send(
        Method::POST,
        "/api/v3/payment-links",
        json!({"productIds": [product["id"]]}),
    )
    .await;
    for (version, body) in [
        (
            "v1",
            json!({"paymentLinkId": link["id"], "externalCustomerId": "user-1"}),
        ),
        (
            "v2",
            json!({"productId": product["id"], "externalCustomerId": "user-2"}),
        ),
    ] {
        let session = send(
            Method::POST,
            &format!("/api/{version}/checkout/sessions"),
            body,
        )
        .await;
        assert_eq!(session["amount"], json!(12.0), "{version}: {session}");
        if version == "v2" {
            assert_eq!(session["pricingType"], "RECURRING");
        }
        let id = session["id"].as_str().unwrap();
        let paid = post(
            &server,
            &account,
            &format!("/v1/test_helpers/checkout/sessions/{id}/pay"),
            "card=4242424242424242&email=ada%40example.com",
        )
        .await;
        assert_eq!(paid["mode"], "subscription");
        let sub = get(
            &server,
            key,
            &format!(
                "/v1/subscriptions/{}",
                paid["subscription"].as_str().unwrap()
            ),
            200,
        )
        .await;
        assert_eq!(sub["status"], "active");
        assert_eq!(
            sub["items"]["data"][0]["price"]["recurring"]["interval"],
            "month"
        );
        assert_eq!(sub["items"]["data"][0]["price"]["unit_amount"], 1200);
        let read = get(
            &server,
            key,
            &format!("/api/{version}/checkout/sessions/{id}"),
            200,
        )
        .await;
        assert_eq!(read["status"], "COMPLETED", "{version}: {read}");
    }
}
