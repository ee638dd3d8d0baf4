//! Prometheus metrics at `/metrics`, scraped from a `kassa serve` of its own (the recorder is
//! process-wide, so these tests never start a server inside the test process): where it is
//! served, and that real traffic shows in the series with the right labels and counts.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::harness::{Engine, KassaProcess, TestDatabase, on_both_engines};
use crate::receiver::Receiver;

on_both_engines!(
    traffic_shows_in_the_metrics_listener,
    metrics_public_serves_them_on_the_main_listener,
    without_a_metrics_flag_metrics_is_an_unknown_route,
    renewals_on_a_test_clock_are_counted,
);

/// One sample of a scrape: its name, labels and value.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of a scrape in Prometheus' text format (label values here hold no `",`).
fn samples(body: &str) -> Vec<Sample> {
    let mut found = Vec::new();
    for line in body
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.strip_suffix('}').expect("labels end with }")),
            None => (series, ""),
        };
        let labels = labels
            .split("\",")
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once("=\"").expect("label=\"value\"");
                (key.to_string(), value.trim_end_matches('"').to_string())
            })
            .collect();
        found.push(Sample {
            name: name.to_string(),
            labels,
            value: value.parse().expect("a numeric value"),
        });
    }
    found
}

/// The value of the series `name` with exactly `labels`, if the scrape has it.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let wanted: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    samples
        .iter()
        .find(|s| s.name == name && s.labels == wanted)
        .map(|s| s.value)
}

/// Like [`value`], for a series that must be there.
fn must(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    value(samples, name, labels).unwrap_or_else(|| {
        let same: Vec<_> = samples.iter().filter(|s| s.name == name).collect();
        panic!("no {name}{labels:?}; the series of that name: {same:#?}")
    })
}

async fn scrape(url: &str) -> String {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.unwrap()
}

/// A form POST with the test key; the JSON answer, which must have `status`.
async fn post(server: &KassaProcess, key: &str, path: &str, form: &str, status: u16) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", server.base))
        .bearer_auth(key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string())
        .send()
        .await
        .unwrap();
    crate::harness::json_with_status(response, status).await
}

/// `promtool check metrics` on a scrape: the format, and Prometheus' naming rules. Without
/// promtool on PATH the check is skipped with the reason printed, except under `CI=true`.
async fn promtool_accepts(body: &str) {
    use tokio::io::AsyncWriteExt;
    let spawned = tokio::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("promtool is required under CI=true: {error}")
        }
        Err(error) => {
            println!(
                "skipping `promtool check metrics`: promtool is not on PATH ({error}); \
                 install Debian's prometheus package to run it"
            );
            return;
        }
    };
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(body.as_bytes()).await.unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool check metrics: {said}");
    assert!(said.trim().is_empty(), "promtool has remarks: {said}");
}

/// Payments, a declined card, a subscription, a refund, idempotent retries, an unknown route and
/// webhook deliveries, each counted once with labels that name no customer, session or key.
async fn traffic_shows_in_the_metrics_listener(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let server = KassaProcess::start_with_args(
        &database.url,
        "127.0.0.1:0",
        &["--metrics-addr", "127.0.0.1:0"],
    )
    .await;
    let key = server.banner_value("test key").await.unwrap();
    let metrics = server
        .banner_value("metrics")
        .await
        .expect("the banner says where metrics are");
    assert!(metrics.ends_with("/metrics") && !metrics.starts_with(&server.base));
    // The main listener does not serve them, nor does the metrics listener serve anything else.
    let main = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap();
    assert_eq!(main.status(), 404);
    let other = metrics.replace("/metrics", "/healthz");
    assert_eq!(reqwest::get(&other).await.unwrap().status(), 404);

    let (receiver, url) = Receiver::start().await;
    let form = format!("url={}&enabled_events[0]=*", urlencode(&url));
    post(&server, &key, "/v1/webhook_endpoints", &form, 200).await;

    let product = post(&server, &key, "/v1/products", "name=Linen+shirt", 200).await;
    let product = product["id"].as_str().unwrap();
    let price = post(
        &server,
        &key,
        "/v1/prices",
        &format!("product={product}&currency=usd&unit_amount=2500"),
        200,
    )
    .await;
    let session_form = format!(
        "mode=payment&line_items[0][price]={}&line_items[0][quantity]=2",
        price["id"].as_str().unwrap()
    );
    // Created once, replayed once, then the key refused with other parameters.
    let client = reqwest::Client::new();
    let create = |form: String| {
        client
            .post(format!("{}/v1/checkout/sessions", server.base))
            .bearer_auth(&key)
            .header("idempotency-key", "order-42")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
    };
    let first: Value = create(session_form.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let again = create(session_form.clone()).await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let other = create(format!("{session_form}&metadata[x]=1"))
        .await
        .unwrap();
    assert_eq!(other.status(), 400);
    let session = first["id"].as_str().unwrap();

    let pay = |id: &str, card: &str, status: u16| {
        let path = format!("/v1/test_helpers/checkout/sessions/{id}/pay");
        let form = format!("card={card}&email=ada%40example.com");
        let (server, key) = (&server, &key);
        async move { post(server, key, &path, &form, status).await }
    };
    let paid = pay(session, "4242424242424242", 200).await;
    let intent = paid["payment_intent"].as_str().unwrap().to_string();
    let declined = post(&server, &key, "/v1/checkout/sessions", &session_form, 200).await;
    pay(declined["id"].as_str().unwrap(), "4000000000000002", 402).await;
    let refund = format!("payment_intent={intent}&amount=1000");
    post(&server, &key, "/v1/refunds", &refund, 200).await;

    let monthly = post(
        &server,
        &key,
        "/v1/prices",
        &format!("product={product}&currency=eur&unit_amount=900&recurring[interval]=month"),
        200,
    )
    .await;
    let form = format!(
        "mode=subscription&line_items[0][price]={}&line_items[0][quantity]=1",
        monthly["id"].as_str().unwrap()
    );
    let subscribe = post(&server, &key, "/v1/checkout/sessions", &form, 200).await;
    pay(subscribe["id"].as_str().unwrap(), "4242424242424242", 200).await;
    let unknown = reqwest::get(format!("{}/no/such/cs_test_1", server.base))
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    // Every event delivered, and each delivery counted.
    let events = reqwest::Client::new()
        .get(format!("{}/v1/events?limit=100", server.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let events = events["data"].as_array().unwrap().len();
    assert!(events >= 8, "{events} events");
    receiver.wait_for(events).await;
    let mut body = scrape(&metrics).await;
    // An attempt is counted when it ends; its delivery leaves the queue when its batch is saved.
    for _ in 0..200 {
        let all = samples(&body);
        let delivered = value(
            &all,
            "kassa_webhook_deliveries_total",
            &[("outcome", "2xx")],
        );
        let queued = value(&all, "kassa_webhook_queue_depth", &[]);
        if delivered == Some(events as f64) && queued == Some(0.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        body = scrape(&metrics).await;
    }
    let all = samples(&body);
    let count = |name: &str, labels: &[(&str, &str)]| must(&all, name, labels);

    let sessions = "kassa_checkout_sessions_total";
    let payment = [("mode", "payment"), ("livemode", "false")];
    let with = |outcome: &'static str, base: &[(&'static str, &'static str)]| {
        let mut labels = base.to_vec();
        labels.push(("outcome", outcome));
        labels
    };
    assert_eq!(count(sessions, &with("created", &payment)), 2.0);
    assert_eq!(count(sessions, &with("completed", &payment)), 1.0);
    let subscription = [("mode", "subscription"), ("livemode", "false")];
    assert_eq!(count(sessions, &with("created", &subscription)), 1.0);
    assert_eq!(count(sessions, &with("completed", &subscription)), 1.0);
    assert_eq!(value(&all, sessions, &with("failed", &payment)), None);

    let attempts = "kassa_payment_attempts_total";
    let simulated = ("processor", "simulated");
    assert_eq!(count(attempts, &[simulated, ("outcome", "succeeded")]), 2.0);
    assert_eq!(count(attempts, &[simulated, ("outcome", "declined")]), 1.0);
    assert_eq!(
        count(
            "kassa_processor_request_duration_seconds_count",
            &[simulated]
        ),
        4.0,
        "three charges and a refund"
    );
    let usd = [simulated, ("currency", "usd")];
    assert_eq!(count("kassa_refunds_total", &usd), 1.0);
    assert_eq!(count("kassa_refunded_amount_minor_total", &usd), 1000.0);

    let replays = "kassa_idempotency_replays_total";
    assert_eq!(count(replays, &[("result", "replayed")]), 1.0);
    assert_eq!(count(replays, &[("result", "mismatch")]), 1.0);

    let requests = "kassa_http_requests_total";
    let sessions_route = [
        ("surface", "v1"),
        ("route", "/v1/checkout/sessions"),
        ("method", "POST"),
    ];
    let status = |class: &'static str| {
        let mut labels = sessions_route.to_vec();
        labels.push(("status", class));
        labels
    };
    assert_eq!(count(requests, &status("2xx")), 4.0);
    assert_eq!(count(requests, &status("4xx")), 1.0);
    let pay_route = [
        ("surface", "v1"),
        ("route", "/v1/test_helpers/checkout/sessions/{id}/pay"),
        ("method", "POST"),
        ("status", "2xx"),
    ];
    assert_eq!(count(requests, &pay_route), 2.0);
    let unmatched = [
        ("surface", "operations"),
        ("route", "unmatched"),
        ("method", "GET"),
        ("status", "4xx"),
    ];
    assert_eq!(count(requests, &unmatched), 2.0, "/metrics and /no/such");
    let mut bucket = status("2xx");
    bucket.push(("le", "+Inf"));
    assert_eq!(
        count("kassa_http_request_duration_seconds_bucket", &bucket),
        4.0
    );

    assert_eq!(count("kassa_subscriptions", &[("status", "active")]), 1.0);
    assert_eq!(count("kassa_subscriptions", &[("status", "past_due")]), 0.0);
    assert_eq!(
        count("kassa_webhook_deliveries_total", &[("outcome", "2xx")]),
        events as f64
    );
    assert_eq!(
        count(
            "kassa_webhook_delivery_duration_seconds_count",
            &[("outcome", "2xx")]
        ),
        events as f64
    );
    assert_eq!(count("kassa_webhook_queue_depth", &[]), 0.0);
    assert_eq!(count("kassa_webhook_oldest_pending_age_seconds", &[]), 0.0);
    assert_eq!(count("kassa_billing_due_lag_seconds", &[]), 0.0);
    let (pool, commits) = match engine {
        Engine::Sqlite => ("sqlite_writer", true),
        Engine::Postgres => ("postgres", false),
    };
    assert!(count("kassa_db_pool_wait_seconds_count", &[("pool", pool)]) > 0.0);
    let batches = value(&all, "kassa_db_commit_batch_writes_count", &[]);
    assert_eq!(batches.is_some_and(|n| n > 0.0), commits, "{batches:?}");

    for name in [
        "kassa_http_requests_total",
        "kassa_http_request_duration_seconds",
        "kassa_checkout_sessions_total",
        "kassa_payment_attempts_total",
        "kassa_processor_request_duration_seconds",
        "kassa_refunds_total",
        "kassa_refunded_amount_minor_total",
        "kassa_subscriptions",
        "kassa_webhook_deliveries_total",
        "kassa_webhook_delivery_duration_seconds",
        "kassa_webhook_queue_depth",
        "kassa_webhook_oldest_pending_age_seconds",
        "kassa_billing_due_lag_seconds",
        "kassa_idempotency_replays_total",
        "kassa_db_pool_wait_seconds",
    ] {
        assert!(
            body.contains(&format!("# HELP {name} ")),
            "no HELP for {name}"
        );
    }
    for sample in &all {
        for (label, value) in &sample.labels {
            let id_like = ["cs_", "cus_", "sk_", "pi_", "prod_", "price_", "@"]
                .iter()
                .any(|marker| value.contains(marker));
            assert!(!id_like, "{} has {label}={value:?}", sample.name);
        }
    }
    promtool_accepts(&body).await;
}

/// `--metrics-public` serves `/metrics` on the main listener, and documents it there.
async fn metrics_public_serves_them_on_the_main_listener(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let server =
        KassaProcess::start_with_args(&database.url, "127.0.0.1:0", &["--metrics-public"]).await;
    assert_eq!(
        server.banner_value("metrics").await,
        Some(format!("{}/metrics", server.base))
    );
    let body = scrape(&format!("{}/metrics", server.base)).await;
    assert!(body.contains("# HELP kassa_subscriptions "), "{body}");
    let healthz = [
        ("surface", "operations"),
        ("route", "/healthz"),
        ("method", "GET"),
        ("status", "2xx"),
    ];
    assert!(must(&samples(&body), "kassa_http_requests_total", &healthz) >= 1.0);
    promtool_accepts(&body).await;
    let document: Value = reqwest::get(format!("{}/openapi.json", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let answer = &document["paths"]["/metrics"]["get"]["responses"]["200"];
    assert!(answer["content"]["text/plain"].is_object(), "{answer}");
}

/// Without `--metrics-addr` or `--metrics-public`, `/metrics` is a path like any unknown one.
async fn without_a_metrics_flag_metrics_is_an_unknown_route(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let server = KassaProcess::start(&database.url).await;
    assert_eq!(server.banner_value("metrics").await, None);
    let response = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "invalid_request_error", "{error}");
    let document: Value = reqwest::get(format!("{}/openapi.json", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(document["paths"]["/metrics"].is_null());
}

/// Subscriptions on a test clock renew when the clock is advanced: one renewal paid; a card that
/// declines every charge after a trial retried four times, then canceled by dunning. The
/// subscriptions gauge leaves subscriptions on clocks out.
async fn renewals_on_a_test_clock_are_counted(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let server =
        KassaProcess::start_with_args(&database.url, "127.0.0.1:0", &["--metrics-public"]).await;
    let key = server.banner_value("test key").await.unwrap();
    let start = time::OffsetDateTime::now_utc().unix_timestamp();
    let form = format!("frozen_time={start}");
    let clock = post(&server, &key, "/v1/test_helpers/test_clocks", &form, 200).await;
    let clock = clock["id"].as_str().unwrap().to_string();
    let price = post(
        &server,
        &key,
        "/v1/prices",
        "currency=eur&unit_amount=900&recurring[interval]=month&product_data[name]=Pro",
        200,
    )
    .await;
    // 4000 0000 0000 0341 is saved (nothing is due in a trial), then declines every charge.
    for (email, trial, card) in [
        ("ada", "", "4242424242424242"),
        (
            "bob",
            "&subscription_data[trial_period_days]=7",
            "4000000000000341",
        ),
    ] {
        let form = format!("email={email}%40example.com&test_clock={clock}");
        let customer = post(&server, &key, "/v1/customers", &form, 200).await;
        let form = format!(
            "mode=subscription&customer={}&line_items[0][price]={}&line_items[0][quantity]=1{trial}",
            customer["id"].as_str().unwrap(),
            price["id"].as_str().unwrap()
        );
        let session = post(&server, &key, "/v1/checkout/sessions", &form, 200).await;
        let path = format!(
            "/v1/test_helpers/checkout/sessions/{}/pay",
            session["id"].as_str().unwrap()
        );
        post(&server, &key, &path, &format!("card={card}"), 200).await;
    }

    // Past the first period's end (at most 31 days) and the renewal invoice's hour as a draft;
    // past the trial's end (7 days) and its invoice's retries (1, 3, 5 and 7 days later).
    let to = start + 32 * 86_400;
    let advance = format!("/v1/test_helpers/test_clocks/{clock}/advance");
    post(&server, &key, &advance, &format!("frozen_time={to}"), 200).await;
    let client = reqwest::Client::new();
    let clock_url = format!("{}/v1/test_helpers/test_clocks/{clock}", server.base);
    let mut status = String::new();
    for _ in 0..600 {
        let now: Value = (client.get(&clock_url).bearer_auth(&key).send().await)
            .unwrap()
            .json()
            .await
            .unwrap();
        status = now["status"].as_str().unwrap().to_string();
        if status == "ready" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, "ready");
    let all = samples(&scrape(&format!("{}/metrics", server.base)).await);
    let renewals = |outcome| value(&all, "kassa_renewals_total", &[("outcome", outcome)]);
    assert_eq!(renewals("paid"), Some(1.0));
    assert_eq!(renewals("retried"), Some(4.0));
    assert_eq!(renewals("canceled_by_dunning"), Some(1.0));
    assert_eq!(renewals("failed"), None);
    let subscriptions = |status| must(&all, "kassa_subscriptions", &[("status", status)]);
    assert_eq!(subscriptions("active"), 0.0);
    assert_eq!(subscriptions("canceled"), 0.0);
    let attempts = |outcome| {
        let labels = [("processor", "simulated"), ("outcome", outcome)];
        must(&all, "kassa_payment_attempts_total", &labels)
    };
    assert_eq!(
        attempts("succeeded"),
        2.0,
        "the first payment and the renewal"
    );
    assert_eq!(attempts("declined"), 5.0);
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
