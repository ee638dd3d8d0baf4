//! The whole program as an operator runs it: first start, signals, crashes, several processes.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Engine, KassaProcess, TestDatabase, on_both_engines};

on_both_engines!(
    first_start_prints_keys_once,
    accounts_created_before_the_first_start_are_the_installation,
    simultaneous_first_starts_make_one_account,
    sigterm_lets_in_flight_requests_finish_then_exits_0,
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

    first.signal("TERM");
    assert_eq!(first.wait().await, Some(0));
    let second = KassaProcess::start(&database.url).await;
    assert_eq!(
        second.banner_value("test key").await,
        None,
        "keys are printed only once"
    );
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
    let accounts: i64 = kassa::store::on_reader!(&db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
            .fetch_one(pool)
            .await
    })
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
