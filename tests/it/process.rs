//! The whole program as an operator runs it: first start, signals, crashes, several processes.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Engine, KassaProcess, TestDatabase, on_both_engines};
use crate::slow_clients::{
    HALF_HEAD, closed_within, get_healthz, open, open_slow_body, read_response,
};

on_both_engines!(
    first_start_prints_keys_once,
    accounts_created_before_the_first_start_are_the_installation,
    simultaneous_first_starts_make_one_account,
    a_taken_address_is_named_with_the_way_to_choose_another,
    request_log_lines_name_the_path_in_plain_text,
    sigterm_lets_in_flight_requests_finish_then_exits_0,
    sigterm_closes_slow_clients_after_the_grace,
    accept_failures_shed_waiting_connections_and_are_logged_once,
    sigterm_does_not_wait_on_a_slow_webhook_receiver,
    acknowledged_writes_survive_kill_9,
);

async fn first_start_prints_keys_once(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let mut first = KassaProcess::start(&database.url).await;
    let key = first
        .banner_value("test key")
        .await
        .expect("the first start prints a test key");
    assert!(key.starts_with("sk_test_"));
    assert!(
        first
            .banner_value("live key")
            .await
            .unwrap()
            .starts_with("sk_live_")
    );
    assert_eq!(
        first.banner_value("email").await.as_deref(),
        Some("admin@kassa.local")
    );
    assert!(
        first
            .banner_value("password")
            .await
            .is_some_and(|p| p.len() >= 16)
    );
    let curl = first
        .stdout()
        .into_iter()
        .find(|l| l.contains("curl "))
        .expect("a curl example");
    assert!(
        curl.contains(&key) && curl.contains("/api/v3/account"),
        "{curl}"
    );

    // The printed key works, exactly as the printed example uses it.
    let response = reqwest::Client::new()
        .get(format!("{}/api/v3/account", first.base))
        .header("authorization", format!("Bearer {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["livemode"], false);
    assert_eq!(
        Some(body["id"].as_str().unwrap().to_string()),
        first.banner_value("account").await
    );

    // Neither the key nor anything else secret reaches the log.
    assert!(
        first.stderr().iter().all(|line| !line.contains(&key[8..])),
        "{:?}",
        first.stderr()
    );

    // Started on port 0, it gives out URLs with the port it got.
    assert_eq!(
        first.banner_value("public URL").await.as_deref(),
        Some(first.base.as_str())
    );
    // And where the API reference is.
    assert_eq!(
        first.banner_value("API reference").await,
        Some(format!("{}/docs", first.base))
    );

    first.signal("TERM");
    assert_eq!(first.wait().await, Some(0));
    let second = KassaProcess::start(&database.url).await;
    assert_eq!(
        second.banner_value("test key").await,
        None,
        "keys are printed only once"
    );

    // Later starts say how to make another key, in a command that works as printed.
    let hint = second
        .banner_value("API keys")
        .await
        .expect("later starts say how to get a key");
    let command = hint
        .split_once("make another with: kassa ")
        .unwrap_or_else(|| panic!("{hint}"))
        .1;
    let account = first.banner_value("account").await.unwrap();
    assert!(command.contains(&account), "{command}");
    let args: Vec<&str> = command.split_whitespace().collect();
    let (status, out, err) = crate::harness::kassa_command(&args).await;
    assert_eq!(status, 0, "{err}");
    let made = out
        .split_whitespace()
        .find(|w| w.starts_with("sk_test_"))
        .expect("a new test key");
    let response = reqwest::Client::new()
        .get(format!("{}/api/v3/account", second.base))
        .bearer_auth(made)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// `kassa serve` on an address that is taken says which, and how to choose another; and,
/// having listened nowhere, it has not used up the first start's once-only banner.
async fn a_taken_address_is_named_with_the_way_to_choose_another(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (status, out, err) =
        crate::harness::kassa_command(&["serve", "--addr", &addr, "--database-url", &database.url])
            .await;
    assert_eq!(status, 1, "{out}{err}");
    for expected in [
        format!("cannot listen on {addr}"),
        "already in use".into(),
        "--addr".into(),
        "KASSA_ADDR".into(),
        "addr in the config file".into(),
    ] {
        assert!(err.contains(&expected), "{expected} is not in: {err}");
    }
    drop(taken);
    let server = KassaProcess::start(&database.url).await;
    assert!(server.banner_value("test key").await.is_some());
}

/// Every request gets a log line with its method and its route, or its path when no route
/// matched, never the query or a routed path's ids; latencies to the microsecond; no colour
/// codes in a log that is not a terminal; in both formats.
async fn request_log_lines_name_the_path_in_plain_text(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    for format in ["text", "json"] {
        let server =
            KassaProcess::start_with(&database.url, "127.0.0.1:0", &[], &["--log-format", format])
                .await;
        let client = reqwest::Client::new();
        for path in [
            "/no/such/page?token=sk_test_inquery",
            "/checkout/cs_test_unlogged",
        ] {
            let response = client
                .get(format!("{}{path}", server.base))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 404, "{path}");
        }
        // Answers made before or beside routing keep a routed path's id out of the log too:
        // a wrong method, and a NUL refused before any route runs.
        let wrong_method = client
            .put(format!("{}/checkout/cs_test_unlogged", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong_method.status(), 405);
        let nul = client
            .get(format!("{}/checkout/cs_test_unlogged?x=a%00b", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(nul.status(), 400);
        // The four requests' lines.
        let lines = server
            .stderr_until(|lines| lines.iter().filter(|l| l.contains("latency_ms")).count() >= 4)
            .await;
        let log = lines.join("\n");
        assert!(
            !log.contains('\u{1b}'),
            "colour codes in a piped log: {log:?}"
        );
        assert!(
            !log.contains("sk_test_inquery"),
            "the query is logged: {log}"
        );
        assert!(
            !log.contains("cs_test_unlogged"),
            "a routed path's id is logged: {log}"
        );
        let requests: Vec<Logged> = lines
            .iter()
            .filter_map(|l| Logged::read(format, l))
            .collect();
        let unmatched = requests
            .iter()
            .find(|r| r.path.as_deref() == Some("/no/such/page"))
            .unwrap_or_else(|| panic!("no line names the unmatched path: {log}"));
        assert_eq!((unmatched.method.as_str(), unmatched.status), ("GET", 404));
        assert_eq!(unmatched.route, None);
        let routed = requests
            .iter()
            .find(|r| r.route.as_deref() == Some("/checkout/{id}"))
            .unwrap_or_else(|| panic!("no line names the checkout route: {log}"));
        assert_eq!((routed.method.as_str(), routed.status), ("GET", 404));
        for request in &requests {
            let decimals = request
                .latency_ms
                .split_once('.')
                .map_or(0, |(_, d)| d.len());
            assert!(decimals <= 3, "{format}: latency_ms={}", request.latency_ms);
            assert!(
                request.latency_ms.parse::<f64>().is_ok(),
                "{}",
                request.latency_ms
            );
        }
    }
}

/// The request fields of a request log line, in either format.
#[derive(Debug)]
struct Logged {
    method: String,
    route: Option<String>,
    path: Option<String>,
    status: u16,
    /// As written in the log.
    latency_ms: String,
}

impl Logged {
    fn read(format: &str, line: &str) -> Option<Logged> {
        if format == "json" {
            let line: serde_json::Value = serde_json::from_str(line).expect("JSON log lines");
            let (span, fields) = (&line["span"], &line["fields"]);
            let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
            return Some(Logged {
                method: text(&span["method"])?,
                route: text(&span["route"]),
                path: text(&span["path"]),
                status: u16::try_from(fields["status"].as_u64()?).ok()?,
                latency_ms: fields["latency_ms"].as_f64()?.to_string(),
            });
        }
        // `request{id=req_... method=GET path="/x"}: kassa::http: request status=404 latency_ms=0.1`
        let (span, fields) = line.split_once("}: ")?;
        let value = |text: &str, key: &str| {
            let start = text.find(&format!(" {key}="))? + key.len() + 2;
            Some(
                text[start..]
                    .split(' ')
                    .next()?
                    .trim_matches('"')
                    .to_string(),
            )
        };
        Some(Logged {
            method: value(span, "method")?,
            route: value(span, "route"),
            path: value(span, "path"),
            status: value(fields, "status")?.parse().ok()?,
            latency_ms: value(fields, "latency_ms")?,
        })
    }
}

async fn accounts_created_before_the_first_start_are_the_installation(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let (status, out, err) = crate::harness::kassa_command(&[
        "account",
        "create",
        "--name",
        "Scripted",
        "--json",
        "--database-url",
        &database.url,
    ])
    .await;
    assert_eq!(status, 0, "{err}");
    let created: serde_json::Value = serde_json::from_str(&out).unwrap();
    let server = KassaProcess::start(&database.url).await;
    assert_eq!(server.banner_value("test key").await, None);
    let response = reqwest::Client::new()
        .get(format!("{}/api/v3/account", server.base))
        .bearer_auth(created["test_secret_key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let account: serde_json::Value = response.json().await.unwrap();
    assert_eq!(account["name"], "Scripted");
}

async fn simultaneous_first_starts_make_one_account(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let (a, b) = tokio::join!(
        KassaProcess::start(&database.url),
        KassaProcess::start(&database.url)
    );
    let printed = [
        a.banner_value("test key").await,
        b.banner_value("test key").await,
    ];
    assert_eq!(
        printed.iter().flatten().count(),
        1,
        "exactly one process creates the first account"
    );
    let db = database.open().await;
    let (accounts,): (i64,) = db
        .fetch_one("SELECT COUNT(*) FROM accounts", &[])
        .await
        .unwrap();
    assert_eq!(accounts, 1);
}

async fn sigterm_lets_in_flight_requests_finish_then_exits_0(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let mut server = KassaProcess::start(&database.url).await;
    let key = server.banner_value("test key").await.unwrap();
    let addr = server.base.trim_start_matches("http://").to_string();

    // A request whose body is still arriving when the signal comes. `Expect: 100-continue`
    // makes the server say when the handler has started reading the body.
    let body = json!({"name": "Renamed during shutdown"}).to_string();
    let (head, tail) = body.split_at(10);
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "POST /api/v3/account HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buffer = vec![0u8; 4096];
    let n = stream.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 100 Continue"));
    stream.write_all(head.as_bytes()).await.unwrap();

    server.signal("TERM");
    // The server stops accepting new connections...
    let mut refused = false;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(&addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        refused,
        "the server kept accepting connections after SIGTERM"
    );

    // ...but the request in flight completes.
    stream.write_all(tail.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await;
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("Renamed during shutdown"), "{response}");
    assert_eq!(server.wait().await, Some(0), "a clean shutdown exits 0");
}

async fn sigterm_closes_slow_clients_after_the_grace(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let grace = Duration::from_secs(1);
    let mut server = KassaProcess::start_with(
        &database.url,
        "127.0.0.1:0",
        &[],
        &[
            "--shutdown-grace",
            "1s",
            "--header-timeout",
            "60s",
            "--idle-timeout",
            "60s",
        ],
    )
    .await;
    let key = server.banner_value("test key").await.unwrap();
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut half_open = open(&addr, HALF_HEAD).await;
    let mut idle = open(&addr, get_healthz()).await;
    assert!(read_response(&mut idle).await.starts_with("HTTP/1.1 200"));
    let mut stalled = open_slow_body(&addr, &key).await;

    let signalled = tokio::time::Instant::now();
    server.signal("TERM");
    assert_eq!(server.wait().await, Some(0), "a clean shutdown exits 0");
    let took = signalled.elapsed();
    assert!(
        took <= grace + Duration::from_secs(1),
        "SIGTERM took {took:?} with slow clients connected"
    );
    for (name, stream) in [
        ("half-open", &mut half_open),
        ("idle", &mut idle),
        ("stalled", &mut stalled),
    ] {
        assert!(
            closed_within(stream, Duration::from_millis(100))
                .await
                .is_some(),
            "the {name} connection outlived the process"
        );
    }
}

/// With the cap set above what the open-file limit allows, `accept` fails with "Too many open
/// files": the server sheds the connections that waited longest, so a real client still gets
/// in, and says so once rather than once per failure.
async fn accept_failures_shed_waiting_connections_and_are_logged_once(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let server = KassaProcess::start_with(
        &database.url,
        "127.0.0.1:0",
        &["prlimit", "--nofile=64"],
        &["--max-connections", "1000", "--header-timeout", "60s"],
    )
    .await;
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut half_open = Vec::new();
    for _ in 0..100 {
        half_open.push(open(&addr, HALF_HEAD).await);
    }
    for _ in 0..3 {
        let response = reqwest::Client::new()
            .get(format!("{}/openapi.json", server.base))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .expect("a real client gets in past the failing accepts");
        assert_eq!(response.status(), 200);
    }
    let stderr = server.stderr();
    let failures = stderr
        .iter()
        .filter(|line| line.contains("cannot accept connections"))
        .count();
    assert_eq!(failures, 1, "logged once: {stderr:#?}");
    assert!(
        stderr
            .iter()
            .any(|line| line.contains("max_connections leaves too few file descriptors")),
        "the setting is flagged at start: {stderr:#?}"
    );
    drop(half_open);
}

/// A webhook receiver that accepts the delivery's connection and never answers holds the
/// delivery for its 10 s timeout; SIGTERM still ends within the grace, and the delivery is
/// left to be retried.
async fn sigterm_does_not_wait_on_a_slow_webhook_receiver(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let grace = Duration::from_secs(1);
    let mut server = KassaProcess::start_with(
        &database.url,
        "127.0.0.1:0",
        &[],
        &["--shutdown-grace", "1s"],
    )
    .await;
    let key = server.banner_value("test key").await.unwrap();
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks", receiver.local_addr().unwrap());
    let client = reqwest::Client::new();
    for (path, form) in [
        (
            "/v1/webhook_endpoints",
            vec![
                ("url", url.as_str()),
                ("enabled_events[]", "customer.created"),
            ],
        ),
        ("/v1/customers", vec![("name", "Slow receiver")]),
    ] {
        let response = client
            .post(format!("{}{path}", server.base))
            .bearer_auth(&key)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    // The delivery is under way: its connection is open, and no answer will come.
    let (_held, _) = tokio::time::timeout(Duration::from_secs(10), receiver.accept())
        .await
        .expect("the delivery connects")
        .unwrap();

    let signalled = tokio::time::Instant::now();
    server.signal("TERM");
    assert_eq!(server.wait().await, Some(0), "a clean shutdown exits 0");
    let took = signalled.elapsed();
    assert!(
        took <= grace + Duration::from_secs(1),
        "SIGTERM waited {took:?} on a webhook receiver"
    );
    let db = database.open().await;
    let (succeeded,): (i64,) = db
        .fetch_one(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'succeeded'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(succeeded, 0, "the delivery cut short is left to be retried");
}

async fn acknowledged_writes_survive_kill_9(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let mut server = KassaProcess::start(&database.url).await;
    let key = server.banner_value("test key").await.unwrap();
    let client = reqwest::Client::new();
    for i in 0..20 {
        let response = client
            .post(format!("{}/api/v3/account", server.base))
            .bearer_auth(&key)
            .json(&json!({"name": format!("Name {i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    server.signal("KILL");
    assert_eq!(server.wait().await, None, "killed by a signal");

    let restarted = KassaProcess::start(&database.url).await;
    let body: serde_json::Value = client
        .get(format!("{}/api/v3/account", restarted.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["name"], "Name 19");
}
