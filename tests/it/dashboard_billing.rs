//! The dashboard's subscriptions over HTTP: the list and its filters, a subscription's page
//! (items, period, next invoice, invoices and their charge attempts), the customer's page, a
//! subscription-mode session's page; cancel now, at period end and resume writing the state and
//! events the API writes; the dunning setting saved and used by the billing engine; and the
//! overview's figures (MRR, active, renewals due, past due) and revenue chart from known
//! subscriptions. The billing engine runs only when a test says, at the test's time.

use std::collections::BTreeMap;

use kassa::domain::billing::engine::{LEASE_SECONDS, Ran, SimulatedProcessor, run_due};
use kassa::http::dashboard::when;
use reqwest::Method;
use serde_json::{Value, json};

use crate::dashboard::{Dashboard, Page, user};
use crate::harness::{
    Engine, TestAccount, TestDatabase, TestServer, json_with_status, on_both_engines,
};

on_both_engines!(
    subscriptions_are_listed_filtered_and_shown,
    subscriptions_are_canceled_and_resumed_from_the_dashboard,
    the_dunning_setting_is_saved_and_used,
    the_overview_shows_subscription_figures_and_revenue,
    a_payment_is_refunded_from_the_dashboard,
);

const DAY: i64 = 86_400;

/// A server whose billing engine runs only when the test says.
async fn server(engine: Engine) -> TestServer {
    TestServer::start_configured(TestDatabase::new(engine).await, |config| {
        config.billing_interval = None;
    })
    .await
}

async fn send(server: &TestServer, key: &str, method: Method, path: &str, body: &str) -> Value {
    let request = server
        .with_key(method, path, key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    json_with_status(request.send().await.unwrap(), 200).await
}

async fn get(server: &TestServer, key: &str, path: &str) -> Value {
    send(server, key, Method::GET, path, "").await
}

/// What a test subscribes to: a new price (`currency`, `unit_amount`, `interval`), a quantity,
/// and the payer's email.
struct Plan<'a> {
    product: &'a str,
    currency: &'a str,
    unit_amount: i64,
    interval: &'a str,
    quantity: i64,
    email: &'a str,
    /// More parameters of the session (`&subscription_data[...]=...`).
    more: &'a str,
}

/// A paid subscription-mode checkout for `plan`, through the test-payment helper: the
/// subscription, and the paid session.
async fn subscribe(server: &TestServer, account: &TestAccount, plan: Plan<'_>) -> (Value, Value) {
    let key = &account.test_key;
    let price = send(
        server,
        key,
        Method::POST,
        "/v1/prices",
        &format!(
            "currency={}&unit_amount={}&recurring[interval]={}&product_data[name]={}",
            plan.currency, plan.unit_amount, plan.interval, plan.product
        ),
    )
    .await;
    let session = send(
        server,
        key,
        Method::POST,
        "/v1/checkout/sessions",
        &format!(
            "mode=subscription&line_items[0][price]={}&line_items[0][quantity]={}{}",
            price["id"].as_str().unwrap(),
            plan.quantity,
            plan.more
        ),
    )
    .await;
    let paid = send(
        server,
        key,
        Method::POST,
        &format!(
            "/v1/test_helpers/checkout/sessions/{}/pay",
            session["id"].as_str().unwrap()
        ),
        &format!(
            "card=4242424242424242&email={}&name=Ada",
            plan.email.replace('@', "%40")
        ),
    )
    .await;
    let subscription = get(
        server,
        key,
        &format!(
            "/v1/subscriptions/{}",
            paid["subscription"].as_str().unwrap()
        ),
    )
    .await;
    (subscription, paid)
}

fn monthly<'a>(product: &'a str, unit_amount: i64, email: &'a str) -> Plan<'a> {
    Plan {
        product,
        currency: "eur",
        unit_amount,
        interval: "month",
        quantity: 1,
        email,
        more: "",
    }
}

/// Makes Stripe's test method `test_id` the subscription's default payment method.
async fn charge_with(server: &TestServer, key: &str, subscription: &Value, test_id: &str) {
    let customer = subscription["customer"].as_str().unwrap();
    let method = send(
        server,
        key,
        Method::POST,
        &format!("/v1/payment_methods/{test_id}/attach"),
        &format!("customer={customer}"),
    )
    .await;
    send(
        server,
        key,
        Method::POST,
        &format!("/v1/subscriptions/{}", subscription["id"].as_str().unwrap()),
        &format!("default_payment_method={}", method["id"].as_str().unwrap()),
    )
    .await;
}

/// Moves the server's clock to `at` and runs what is due.
async fn run_at(server: &TestServer, at: i64) -> Ran {
    server.clock.set(at);
    run_due(
        &server.db,
        &SimulatedProcessor,
        at,
        LEASE_SECONDS,
        &server.base,
    )
    .await
    .unwrap()
}

/// The account's events about `object`, oldest first: (type, the object as the event has it).
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
                e["data"]["object"].clone(),
            )
        })
        .collect();
    found.reverse();
    found
}

async fn dashboard(server: &TestServer, account: &TestAccount) -> Dashboard {
    let password = user(server, account, "owner@acme.example").await;
    Dashboard::sign_in(server, "owner@acme.example", &password).await
}

/// Signs in again, as a new user (a dashboard session lasts 12 hours of the server's clock).
async fn sign_in_again(server: &TestServer, account: &TestAccount) -> Dashboard {
    let email = format!("owner-{}@acme.example", now(server));
    let password = user(server, account, &email).await;
    Dashboard::sign_in(server, &email, &password).await
}

fn now(server: &TestServer) -> i64 {
    kassa::clock::Clock::now(&server.clock)
}

/// Text with tags removed, the few entities kassa writes decoded, and white space collapsed.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The HTML of the element that starts with `start` (its first occurrence) up to `end`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = html.find(start)?;
    let rest = &html[from..];
    let to = rest.find(end).map_or(rest.len(), |at| at + end.len());
    Some(&rest[..to])
}

/// The text of the table row `<tr id="{id}">`.
fn row(html: &str, id: &str) -> Option<String> {
    between(html, &format!("<tr id=\"{id}\">"), "</tr>").map(text)
}

/// The first `<dl class="facts">` of a page: term → description, as text.
fn facts(html: &str) -> BTreeMap<String, String> {
    let list = between(html, "<dl class=\"facts\">", "</dl>").expect("a facts list");
    let mut facts = BTreeMap::new();
    for part in list.split("<dt>").skip(1) {
        let (term, rest) = part.split_once("</dt>").unwrap();
        let description = between(rest, "<dd>", "</dd>").unwrap_or_default();
        facts.insert(text(term), text(description));
    }
    facts
}

/// The ids of the subscriptions a list page shows, in order.
fn listed(html: &str) -> Vec<String> {
    html.split("<tr id=\"subscription-")
        .skip(1)
        .map(|part| part.split('"').next().unwrap().to_string())
        .collect()
}

fn ok(page: &Page, what: &str) {
    assert_eq!(page.status, 200, "{what}: {}", text(&page.body));
}

async fn subscriptions_are_listed_filtered_and_shown(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let (pro, session) = subscribe(
        &server,
        &account,
        Plan {
            quantity: 2,
            ..monthly("Pro", 900, "ada@example.com")
        },
    )
    .await;
    let (yearly, _) = subscribe(
        &server,
        &account,
        Plan {
            interval: "year",
            ..monthly("Yearly", 12_000, "bob@example.com")
        },
    )
    .await;
    let (ended, _) = subscribe(&server, &account, monthly("Basic", 700, "cy@example.com")).await;
    let [pro_id, yearly_id, ended_id] = [&pro, &yearly, &ended].map(|s| s["id"].as_str().unwrap());
    send(
        &server,
        key,
        Method::DELETE,
        &format!("/v1/subscriptions/{ended_id}"),
        "",
    )
    .await;
    let dashboard = dashboard(&server, &account).await;

    // The list: every status by default, newest first; filtered by status and customer.
    let all = dashboard.get("/dashboard/subscriptions").await;
    ok(&all, "the list");
    assert!(
        all.body
            .contains("href=\"/dashboard/subscriptions\" aria-current=\"page\"")
    );
    assert_eq!(listed(&all.body), [ended_id, yearly_id, pro_id]);
    let pro_row = row(&all.body, &format!("subscription-{pro_id}")).unwrap();
    let period_end = pro["current_period_end"].as_i64().unwrap();
    assert_eq!(
        pro_row,
        format!(
            "{pro_id} ada@example.com Active €18.00 / month {end} {end} {created}",
            end = when(period_end),
            created = when(pro["created"].as_i64().unwrap()),
        )
    );
    let yearly_row = row(&all.body, &format!("subscription-{yearly_id}")).unwrap();
    assert!(
        yearly_row.contains("bob@example.com Active €120.00 / year"),
        "{yearly_row}"
    );
    let ended_row = row(&all.body, &format!("subscription-{ended_id}")).unwrap();
    assert!(ended_row.contains("Canceled €7.00 / month"), "{ended_row}");
    assert!(ended_row.contains("None: ended"), "{ended_row}");
    for (status, expected) in [
        ("active", vec![yearly_id, pro_id]),
        ("canceled", vec![ended_id]),
        ("past_due", vec![]),
        ("all", vec![ended_id, yearly_id, pro_id]),
        ("not-a-status", vec![ended_id, yearly_id, pro_id]),
    ] {
        let page = dashboard
            .get(&format!("/dashboard/subscriptions?status={status}"))
            .await;
        ok(&page, status);
        assert_eq!(listed(&page.body), expected, "status={status}");
    }
    let empty = dashboard
        .get("/dashboard/subscriptions?status=past_due")
        .await;
    assert!(empty.body.contains("No subscriptions here."));
    let customer = pro["customer"].as_str().unwrap();
    let mine = dashboard
        .get(&format!("/dashboard/subscriptions?customer={customer}"))
        .await;
    assert_eq!(listed(&mine.body), [pro_id]);
    // The cursor: the subscriptions after one.
    let after = dashboard
        .get(&format!("/dashboard/subscriptions?after={ended_id}"))
        .await;
    assert_eq!(listed(&after.body), [yearly_id, pro_id]);

    // The subscription's page.
    let page = dashboard
        .get(&format!("/dashboard/subscriptions/{pro_id}"))
        .await;
    ok(&page, "the subscription's page");
    let shown = facts(&page.body);
    let start = pro["current_period_start"].as_i64().unwrap();
    assert_eq!(shown["Customer"], "ada@example.com");
    assert_eq!(shown["Price"], "€18.00 / month");
    assert_eq!(
        shown["Current period"],
        format!("{} to {}", when(start), when(period_end))
    );
    assert_eq!(shown["Next invoice"], when(period_end));
    assert_eq!(shown["Cancel at period end"], "No");
    assert_eq!(shown["Checkout session"], session["id"].as_str().unwrap());
    assert!(
        page.body
            .contains(&format!("href=\"/dashboard/customers/{customer}\""))
    );
    let items = text(between(&page.body, "<h2>Items</h2>", "</table>").unwrap());
    let price = pro["items"]["data"][0]["price"]["id"].as_str().unwrap();
    assert!(
        items.contains(&format!("Pro {price} €9.00 / month 2 €18.00")),
        "{items}"
    );
    let invoice = get(
        &server,
        key,
        &format!("/v1/invoices/{}", pro["latest_invoice"].as_str().unwrap()),
    )
    .await;
    let invoice_id = invoice["id"].as_str().unwrap();
    let invoice_row = row(&page.body, &format!("invoice-{invoice_id}")).unwrap();
    assert_eq!(
        invoice_row,
        format!(
            "{number} {invoice_id} paid €18.00 €18.00 1 — {created}",
            number = invoice["number"].as_str().unwrap(),
            created = when(invoice["created"].as_i64().unwrap()),
        )
    );
    let attempts = text(
        between(
            &page.body,
            &format!("<ul class=\"attempts\" id=\"attempts-{invoice_id}\""),
            "</ul>",
        )
        .unwrap(),
    );
    assert_eq!(
        attempts,
        format!(
            "{} · Succeeded · visa ending 4242 · €18.00 {} · Refund…",
            when(invoice["created"].as_i64().unwrap()),
            invoice["charge"].as_str().unwrap()
        )
    );
    let events =
        text(between(&page.body, "<ol class=\"timeline\" id=\"events\">", "</ol>").unwrap());
    assert!(
        events.starts_with("customer.subscription.created"),
        "{events}"
    );

    // The customer's page: who, their subscription and invoice.
    let page = dashboard
        .get(&format!("/dashboard/customers/{customer}"))
        .await;
    ok(&page, "the customer's page");
    let shown = facts(&page.body);
    assert_eq!(shown["Name"], "Ada");
    assert_eq!(shown["Email"], "ada@example.com");
    assert_eq!(listed(&page.body), [pro_id]);
    assert!(row(&page.body, &format!("invoice-{invoice_id}")).is_some());

    // The session's page: its subscription, linked, and its invoices.
    let page = dashboard
        .get(&format!(
            "/dashboard/sessions/{}",
            session["id"].as_str().unwrap()
        ))
        .await;
    ok(&page, "the session's page");
    assert!(page.body.contains(&format!(
        "<a href=\"/dashboard/subscriptions/{pro_id}\"><code>{pro_id}</code></a>"
    )));
    assert!(page.body.contains(&format!(
        "<a href=\"/dashboard/customers/{customer}\">{customer}</a>"
    )));
    assert!(row(&page.body, &format!("invoice-{invoice_id}")).is_some());
    assert!(page.body.contains("customer.subscription.created"));
    assert!(page.body.contains("invoice.paid"));

    // Another account's user sees none of it.
    let other = server.account("Other").await;
    let password = user(&server, &other, "owner@other.example").await;
    let outsider = Dashboard::sign_in(&server, "owner@other.example", &password).await;
    assert!(listed(&outsider.get("/dashboard/subscriptions").await.body).is_empty());
    for path in [
        format!("/dashboard/subscriptions/{pro_id}"),
        format!("/dashboard/subscriptions/{pro_id}/cancel"),
        format!("/dashboard/customers/{customer}"),
    ] {
        assert_eq!(outsider.get(&path).await.status, 404, "{path}");
    }
    let refused = outsider
        .post(
            "/dashboard/subscriptions",
            &format!("/dashboard/subscriptions/{pro_id}/cancel"),
            &[],
        )
        .await;
    assert_eq!(refused.status, 404);
    assert_eq!(
        get(&server, key, &format!("/v1/subscriptions/{pro_id}")).await["status"],
        "active"
    );
}

async fn subscriptions_are_canceled_and_resumed_from_the_dashboard(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let (pro, _) = subscribe(&server, &account, monthly("Pro", 900, "ada@example.com")).await;
    let id = pro["id"].as_str().unwrap();
    let end = pro["current_period_end"].as_i64().unwrap();
    let path = format!("/dashboard/subscriptions/{id}");
    let dashboard = dashboard(&server, &account).await;

    // Without the CSRF token nothing changes.
    let forged = dashboard
        .send_form(&format!("{path}/cancel"), &[("csrf", "x")], &[])
        .await;
    assert_eq!(forged.status, 403);

    // Cancel at period end: the API's state and event.
    server.clock.advance(60);
    let done = dashboard
        .post(&path, &format!("{path}/cancel-at-period-end"), &[])
        .await;
    assert_eq!(
        (done.status, done.location.as_deref()),
        (303, Some(path.as_str()))
    );
    let after = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(after["cancel_at_period_end"], true);
    assert_eq!(after["cancel_at"], end);
    assert_eq!(after["canceled_at"], now(&server));
    assert_eq!(after["status"], "active");
    let events = events_of(&server, key, id).await;
    let (kind, object) = events.last().unwrap();
    assert_eq!(kind, "customer.subscription.updated");
    assert_eq!(
        object, &after,
        "the event carries the subscription as the API reads it"
    );
    let latest = get(&server, key, "/v1/events?limit=1").await;
    let previous = &latest["data"][0]["data"]["previous_attributes"];
    assert_eq!(
        (&previous["cancel_at_period_end"], &previous["cancel_at"]),
        (&json!(false), &Value::Null),
        "what changed, as it was: {previous}"
    );
    let page = dashboard.get(&path).await;
    let shown = facts(&page.body);
    assert_eq!(shown["Next invoice"], format!("None: ends {}", when(end)));
    assert_eq!(shown["Cancel at period end"], "Yes");
    assert!(page.body.contains(">Resume</button>"));
    assert!(!page.body.contains(">Cancel at period end</button>"));

    // Resume takes it back.
    let done = dashboard.post(&path, &format!("{path}/resume"), &[]).await;
    assert_eq!(done.status, 303);
    let after = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(
        (
            &after["cancel_at_period_end"],
            &after["cancel_at"],
            &after["canceled_at"]
        ),
        (&json!(false), &Value::Null, &Value::Null)
    );
    let events = events_of(&server, key, id).await;
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(
        events.last().unwrap(),
        &("customer.subscription.updated".to_string(), after.clone())
    );
    let page = dashboard.get(&path).await;
    assert_eq!(facts(&page.body)["Next invoice"], when(end));

    // Cancel now asks first; the confirmation's form cancels.
    assert!(page.body.contains(&format!("href=\"{path}/cancel\"")));
    let confirm = dashboard.get(&format!("{path}/cancel")).await;
    ok(&confirm, "the confirmation");
    assert!(confirm.body.contains("Cancel this subscription now?"));
    assert!(
        confirm
            .body
            .contains(&format!("<form method=\"post\" action=\"{path}/cancel\""))
    );
    assert_eq!(
        get(&server, key, &format!("/v1/subscriptions/{id}")).await["status"],
        "active",
        "the confirmation changes nothing"
    );
    let done = dashboard
        .post(&format!("{path}/cancel"), &format!("{path}/cancel"), &[])
        .await;
    assert_eq!(done.status, 303);
    let canceled = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(canceled["ended_at"], now(&server));
    assert_eq!(
        canceled["cancellation_details"]["reason"],
        "cancellation_requested"
    );
    assert_eq!(
        events_of(&server, key, id).await.last().unwrap(),
        &("customer.subscription.deleted".to_string(), canceled)
    );
    let page = dashboard.get(&path).await;
    assert_eq!(facts(&page.body)["Next invoice"], "None: ended");
    assert!(!page.body.contains("subscription-actions"));
    assert_eq!(
        dashboard.get(&format!("{path}/cancel")).await.location,
        Some(path.clone()),
        "an ended subscription asks nothing"
    );

    // Once ended, each action is refused on the page, with why.
    for (action, status) in [
        ("cancel", 409),
        ("cancel-at-period-end", 400),
        ("resume", 400),
    ] {
        let refused = dashboard
            .post(&path, &format!("{path}/{action}"), &[])
            .await;
        assert_eq!(refused.status, status, "{action}");
        let alert = text(between(&refused.body, "<div class=\"alert\"", "</div>").unwrap());
        assert!(
            alert.contains("canceled"),
            "{action}: the alert says why: {alert}"
        );
    }
    assert_eq!(events_of(&server, key, id).await.len(), 4);
}

async fn the_dunning_setting_is_saved_and_used(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let dashboard = dashboard(&server, &account).await;

    let page = dashboard.get("/dashboard/settings").await;
    ok(&page, "the settings");
    assert!(
        page.body
            .contains("href=\"/dashboard/settings\" aria-current=\"page\"")
    );
    assert!(page.body.contains("the last of these retries fails"));
    assert!(page.body.contains("value=\"cancel\" checked"));
    let refused = dashboard
        .post(
            "/dashboard/settings",
            "/dashboard/settings",
            &[("dunning_final_action", "delete")],
        )
        .await;
    assert_eq!(refused.status, 400);
    let saved = dashboard
        .post(
            "/dashboard/settings",
            "/dashboard/settings",
            &[("dunning_final_action", "unpaid")],
        )
        .await;
    assert_eq!(
        (saved.status, saved.location.as_deref()),
        (303, Some("/dashboard/settings?saved=true"))
    );
    let page = dashboard.get("/dashboard/settings?saved=true").await;
    assert!(page.body.contains("Settings saved."));
    assert!(page.body.contains("value=\"unpaid\" checked"));
    assert_eq!(
        get(&server, key, "/api/v3/account").await["dunning_final_action"],
        "unpaid"
    );

    // Receipt emails: on by default; this server has no SMTP server, and the page says so.
    assert!(
        page.body
            .contains("name=\"receipt_emails\" value=\"on\" checked")
    );
    assert!(page.body.contains("no SMTP server"));
    let off = dashboard
        .post("/dashboard/settings", "/dashboard/settings/receipts", &[])
        .await;
    assert_eq!(
        (off.status, off.location.as_deref()),
        (303, Some("/dashboard/settings?saved=true"))
    );
    assert_eq!(
        get(&server, key, "/api/v3/account").await["receipt_emails"],
        false
    );
    let page = dashboard.get("/dashboard/settings").await;
    assert!(
        page.body
            .contains("name=\"receipt_emails\" value=\"on\" aria-describedby")
    );
    dashboard
        .post(
            "/dashboard/settings",
            "/dashboard/settings/receipts",
            &[("receipt_emails", "on")],
        )
        .await;
    assert_eq!(
        get(&server, key, "/api/v3/account").await["receipt_emails"],
        true
    );

    // The engine reads it: after the last failed retry the subscription is unpaid.
    let (pro, _) = subscribe(&server, &account, monthly("Pro", 900, "ada@example.com")).await;
    let id = pro["id"].as_str().unwrap();
    charge_with(&server, key, &pro, "pm_card_chargeCustomerFail").await;
    let due = pro["current_period_end"].as_i64().unwrap() + 3600;
    run_at(&server, due - 3600).await;
    assert_eq!(run_at(&server, due).await.failed, 1);

    // Past due: the page shows the failed attempt and when the next one runs.
    let dashboard = sign_in_again(&server, &account).await;
    let page = dashboard
        .get(&format!("/dashboard/subscriptions/{id}"))
        .await;
    assert!(
        page.body
            .contains("<span class=\"status status-past_due\">Past due</span>")
    );
    let sub = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
    let invoice_id = sub["latest_invoice"].as_str().unwrap().to_string();
    let invoice = get(&server, key, &format!("/v1/invoices/{invoice_id}")).await;
    let charge = get(
        &server,
        key,
        &format!("/v1/charges/{}", invoice["charge"].as_str().unwrap()),
    )
    .await;
    let invoice_row = row(&page.body, &format!("invoice-{invoice_id}")).unwrap();
    assert!(
        invoice_row.ends_with(&format!(
            "open €9.00 €0.00 1 {} {}",
            when(due + DAY),
            when(invoice["created"].as_i64().unwrap())
        )),
        "{invoice_row}"
    );
    let attempts = text(
        between(
            &page.body,
            &format!("<ul class=\"attempts\" id=\"attempts-{invoice_id}\""),
            "</ul>",
        )
        .unwrap(),
    );
    assert_eq!(
        attempts,
        format!(
            "{} · Declined: {} · visa ending {} · €9.00 {}",
            when(due),
            charge["failure_message"].as_str().unwrap(),
            charge["payment_method_details"]["card"]["last4"]
                .as_str()
                .unwrap(),
            charge["id"].as_str().unwrap()
        )
    );

    for day in [1, 3, 5, 7] {
        assert_eq!(
            run_at(&server, due + day * DAY).await.failed,
            1,
            "day {day}"
        );
    }
    let sub = get(&server, key, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(sub["status"], "unpaid");
    assert_eq!(sub["ended_at"], Value::Null);
    let dashboard = sign_in_again(&server, &account).await;
    let page = dashboard
        .get(&format!("/dashboard/subscriptions/{id}"))
        .await;
    assert!(
        page.body
            .contains("<span class=\"status status-unpaid\">Unpaid</span>")
    );
    let invoice_row = row(&page.body, &format!("invoice-{invoice_id}")).unwrap();
    assert!(
        invoice_row.contains("open €9.00 €0.00 5 —"),
        "{invoice_row}"
    );
    let attempts = between(
        &page.body,
        &format!("<ul class=\"attempts\" id=\"attempts-{invoice_id}\""),
        "</ul>",
    )
    .unwrap();
    assert_eq!(
        attempts.matches("class=\"attempt attempt-failed\"").count(),
        5
    );

    // Back to cancel: saved too.
    let saved = dashboard
        .post(
            "/dashboard/settings",
            "/dashboard/settings",
            &[("dunning_final_action", "cancel")],
        )
        .await;
    assert_eq!(saved.status, 303);
    assert_eq!(
        get(&server, key, "/api/v3/account").await["dunning_final_action"],
        "cancel"
    );
}

/// The overview's tile `id`, as text.
fn tile(html: &str, id: &str) -> String {
    text(
        between(
            html,
            &format!("<section class=\"tile\" id=\"{id}\">"),
            "</section>",
        )
        .unwrap(),
    )
}

async fn the_overview_shows_subscription_figures_and_revenue(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let t0 = now(&server);
    let dashboard = dashboard(&server, &account).await;
    let empty = dashboard.get("/dashboard").await;
    ok(&empty, "the overview");
    assert_eq!(
        tile(&empty.body, "figure-active"),
        "Active subscriptions 0 subscriptions"
    );
    assert!(tile(&empty.body, "figure-mrr").contains("No recurring revenue yet."));
    assert!(
        empty
            .body
            .contains("No succeeded charges in the last 30 days.")
    );

    // 2 × €9.00 a month, €120.00 a year, €3.00 a week (past due below), €10.00 a month set to
    // cancel at its period's end, $20.00 a month; not counted: €50.00 a month in a 14-day trial
    // (nothing charged yet), €7.00 a month canceled.
    let plans = [
        Plan {
            quantity: 2,
            ..monthly("Pro", 900, "a@example.com")
        },
        Plan {
            interval: "year",
            ..monthly("Yearly", 12_000, "b@example.com")
        },
        Plan {
            interval: "week",
            ..monthly("Weekly", 300, "c@example.com")
        },
        monthly("Leaving", 1000, "d@example.com"),
        Plan {
            currency: "usd",
            ..monthly("Dollars", 2000, "e@example.com")
        },
        Plan {
            more: "&subscription_data[trial_period_days]=14",
            ..monthly("Trial", 5000, "f@example.com")
        },
        monthly("Ended", 700, "g@example.com"),
    ];
    let mut subscriptions = Vec::new();
    for plan in plans {
        subscriptions.push(subscribe(&server, &account, plan).await.0);
    }
    let id = |n: usize| subscriptions[n]["id"].as_str().unwrap().to_string();
    // A simulation on a test clock at the same time counts in nothing: €99.00 a month.
    let clock = send(
        &server,
        key,
        Method::POST,
        "/v1/test_helpers/test_clocks",
        &format!("frozen_time={t0}"),
    )
    .await;
    let on_clock = send(
        &server,
        key,
        Method::POST,
        "/v1/customers",
        &format!(
            "email=sim%40example.com&test_clock={}",
            clock["id"].as_str().unwrap()
        ),
    )
    .await;
    let price = send(
        &server,
        key,
        Method::POST,
        "/v1/prices",
        "currency=eur&unit_amount=9900&recurring[interval]=month&product_data[name]=Simulated",
    )
    .await;
    let session = send(
        &server,
        key,
        Method::POST,
        "/v1/checkout/sessions",
        &format!(
            "mode=subscription&customer={}&line_items[0][price]={}",
            on_clock["id"].as_str().unwrap(),
            price["id"].as_str().unwrap()
        ),
    )
    .await;
    let simulated = send(
        &server,
        key,
        Method::POST,
        &format!(
            "/v1/test_helpers/checkout/sessions/{}/pay",
            session["id"].as_str().unwrap()
        ),
        "card=4242424242424242",
    )
    .await;
    assert!(simulated["subscription"].is_string());
    let leaving = format!("/dashboard/subscriptions/{}", id(3));
    assert_eq!(
        dashboard
            .post(&leaving, &format!("{leaving}/cancel-at-period-end"), &[])
            .await
            .status,
        303
    );
    assert_eq!(subscriptions[5]["status"], "trialing");
    let trialing = dashboard
        .get("/dashboard/subscriptions?status=trialing")
        .await;
    assert_eq!(listed(&trialing.body), [id(5)]);
    let trial_end = subscriptions[5]["trial_end"].as_i64().unwrap();
    let trial_row = row(&trialing.body, &format!("subscription-{}", id(5))).unwrap();
    assert!(
        trial_row.contains(&format!("Trialing €50.00 / month {}", when(trial_end))),
        "{trial_row}"
    );
    send(
        &server,
        key,
        Method::DELETE,
        &format!("/v1/subscriptions/{}", id(6)),
        "",
    )
    .await;
    let weekly = &subscriptions[2];
    charge_with(&server, key, weekly, "pm_card_chargeCustomerFail").await;
    let week_end = weekly["current_period_end"].as_i64().unwrap();
    assert_eq!(run_at(&server, week_end).await.renewed, 1);
    assert_eq!(run_at(&server, week_end + 3600).await.failed, 1);
    assert_eq!(
        get(&server, key, &format!("/v1/subscriptions/{}", id(2))).await["status"],
        "past_due"
    );

    // 25 days in: the monthly ones end within 7 days; only "Pro" and "Dollars" renew then.
    server.clock.set(t0 + 25 * DAY);
    let dashboard = sign_in_again(&server, &account).await;
    let overview = dashboard.get("/dashboard").await;
    ok(&overview, "the overview");
    assert_eq!(
        tile(&overview.body, "figure-active"),
        "Active subscriptions 4 subscriptions"
    );
    assert!(
        overview
            .body
            .contains("href=\"/dashboard/subscriptions?status=active\"")
    );
    assert_eq!(
        tile(&overview.body, "figure-mrr"),
        // 1 800 + 12 000 ÷ 12 + 300 × 52 ÷ 12 + 1 000, and $20.00.
        "Monthly recurring revenue €51.00 EUR a month $20.00 USD a month"
    );
    assert_eq!(
        tile(&overview.body, "figure-renewals"),
        "Renewals in the next 7 days 2 renewals"
    );
    assert_eq!(
        tile(&overview.body, "figure-past-due"),
        "Past due 1 subscription"
    );

    // Revenue per day: every first payment on day one (the weekly renewal was declined).
    let chart = between(
        &overview.body,
        "<figure class=\"chart\" id=\"revenue-eur\">",
        "</figure>",
    )
    .expect("a chart of euros");
    assert!(chart.contains("<svg viewBox=\"0 0 900 200\" role=\"img\""));
    assert!(!chart.contains("style="), "the CSP allows no inline style");
    let day_one = when(t0).split(' ').next().unwrap().to_string();
    assert_eq!(chart.matches("<rect class=\"bar\"").count(), 1);
    assert!(
        chart.contains(&format!("data-day=\"{day_one}\" data-amount=\"15800\"")),
        "{chart}"
    );
    assert!(chart.contains(&format!("<title>{day_one}: €158.00</title>")));
    assert!(text(chart).contains("€158.00 in EUR over the last 30 days"));
    let dollars = between(
        &overview.body,
        "<figure class=\"chart\" id=\"revenue-usd\">",
        "</figure>",
    )
    .expect("a chart of dollars");
    assert!(dollars.contains(&format!("data-day=\"{day_one}\" data-amount=\"2000\"")));
    assert!(
        overview.body.find("id=\"revenue-eur\"") < overview.body.find("id=\"revenue-usd\""),
        "the currency with the most revenue first"
    );

    // 31 days in, day one has left the chart; so have the renewals of "Pro" and "Dollars",
    // whose periods ended without the engine running: they are due now and still counted.
    server.clock.set(t0 + 31 * DAY);
    let dashboard = sign_in_again(&server, &account).await;
    let overview = dashboard.get("/dashboard").await;
    assert!(
        overview
            .body
            .contains("No succeeded charges in the last 30 days.")
    );
    assert_eq!(
        tile(&overview.body, "figure-renewals"),
        "Renewals in the next 7 days 2 renewals"
    );
}

/// A paid session's page offers a refund; the amount and reason lead to a page that says what
/// the customer gets back, whose button refunds through the API's rules; the payment's pages
/// and the overview's revenue show it.
async fn a_payment_is_refunded_from_the_dashboard(engine: Engine) {
    let server = server(engine).await;
    let account = server.account("Acme").await;
    let key = &account.test_key;
    let session = send(
        &server,
        key,
        Method::POST,
        "/v1/checkout/sessions",
        "mode=payment&line_items[0][price_data][currency]=usd\
         &line_items[0][price_data][unit_amount]=2500\
         &line_items[0][price_data][product_data][name]=Shirt&line_items[0][quantity]=2",
    )
    .await;
    let id = session["id"].as_str().unwrap();
    send(
        &server,
        key,
        Method::POST,
        &format!("/v1/test_helpers/checkout/sessions/{id}/pay"),
        "card=4242424242424242",
    )
    .await;
    let intent = get(
        &server,
        key,
        &format!("/v1/payment_intents/pi_{}", &id[8..]),
    )
    .await;
    let charge = intent["latest_charge"].as_str().unwrap();
    let board = dashboard(&server, &account).await;
    let session_path = format!("/dashboard/sessions/{id}");
    let page = board.get(&session_path).await;
    let refund_path = format!("/dashboard/charges/{charge}/refund");
    assert!(
        page.body.contains(&format!("{refund_path}?back=")),
        "{}",
        page.body
    );
    assert!(text(&page.body).contains("$50.00 of $50.00 can be refunded."));

    let back = "%2Fdashboard%2Fsessions%2F".to_string() + id;
    let too_much = board
        .get(&format!("{refund_path}?back={back}&review=1&amount=60.00"))
        .await;
    assert!(
        text(&too_much.body).contains("at most $50.00"),
        "{}",
        too_much.body
    );
    let review = board
        .get(&format!(
            "{refund_path}?back={back}&review=1&amount=12.50&reason=duplicate"
        ))
        .await;
    assert!(
        text(&review.body).contains(
            "The customer gets $12.50 back on their visa card ending 4242; $37.50 of $50.00 stays paid."
        ),
        "{}",
        review.body
    );
    // Without the form's token, nothing happens.
    let forged = board
        .send_form(
            &refund_path,
            &[("amount", "1250"), ("back", session_path.as_str())],
            &[],
        )
        .await;
    assert_eq!(forged.status, 403);
    let refund_id = {
        let at = review.body.find("name=\"refund\" value=\"").unwrap() + 21;
        review.body[at..at + 33].to_string()
    };
    let form = [
        ("csrf", crate::dashboard::csrf_of(&review.body)),
        ("amount", "1250".to_string()),
        ("reason", "duplicate".to_string()),
        ("back", session_path.clone()),
        ("refund", refund_id.clone()),
    ];
    // Pressed twice: refunded once.
    for _ in 0..2 {
        let done = board.send_form(&refund_path, &form, &[]).await;
        assert_eq!(
            (done.status, done.location.as_deref()),
            (303, Some(session_path.as_str()))
        );
    }
    let mut bad = form.clone();
    bad[1].1 = "12.50".into();
    assert_eq!(board.send_form(&refund_path, &bad, &[]).await.status, 400);
    let refunds = get(&server, key, &format!("/v1/refunds?charge={charge}")).await;
    assert_eq!(refunds["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        (&refunds["data"][0]["amount"], &refunds["data"][0]["reason"]),
        (&json!(1250), &json!("duplicate"))
    );
    assert_eq!(refunds["data"][0]["id"], refund_id.as_str());
    let page = text(&board.get(&session_path).await.body);
    assert!(page.contains("$12.50 succeeded · duplicate"), "{page}");
    assert!(page.contains("$37.50 of $50.00 can be refunded."), "{page}");
    // Revenue is net of refunds.
    let overview = text(&board.get("/dashboard").await.body);
    assert!(overview.contains("$37.50"), "{overview}");
}
