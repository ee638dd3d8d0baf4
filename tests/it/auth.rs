//! API keys: how they are presented, which are refused, and what each one can see.

use base64::Engine as _;
use reqwest::Method;
use serde_json::json;

use crate::harness::{Engine, TestServer, json_with_status, on_both_engines};

on_both_engines!(
    bearer_and_basic_keys_authenticate,
    missing_malformed_and_unknown_keys_get_401,
    revoked_keys_get_401_at_once,
    each_key_sees_only_its_own_account_and_mode,
    key_use_is_recorded_without_a_write_per_request,
);

async fn bearer_and_basic_keys_authenticate(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;

    let bearer = server
        .with_key(Method::GET, "/api/v3/account", &account.test_key)
        .send()
        .await
        .unwrap();
    let body = json_with_status(bearer, 200).await;
    assert_eq!(
        body,
        json!({"id": account.id, "object": "account", "name": "Acme", "livemode": false, "created": body["created"],
               "dunning_final_action": "cancel", "receipt_emails": true})
    );

    let basic = server
        .request(Method::GET, "/api/v3/account")
        .basic_auth(&account.test_key, None::<&str>)
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(basic, 200).await["id"], account.id);

    // A Basic header whose user name is the key and whose password is present but empty.
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:", account.live_key));
    let basic = server
        .request(Method::GET, "/api/v3/account")
        .header("authorization", format!("Basic {encoded}"))
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(basic, 200).await["livemode"], true);
}

async fn missing_malformed_and_unknown_keys_get_401(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let unknown = format!("sk_test_{}", "A".repeat(48));
    // A real key with one character changed.
    let mut altered = account.test_key.clone();
    altered.pop();
    altered.push(if account.test_key.ends_with('x') {
        'y'
    } else {
        'x'
    });

    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("empty bearer", Some("Bearer ".into())),
        (
            "unknown scheme",
            Some(format!("Token {}", account.test_key)),
        ),
        ("publishable-looking", Some("Bearer pk_test_123".into())),
        ("malformed", Some("Bearer sk_test_short".into())),
        ("unknown", Some(format!("Bearer {unknown}"))),
        ("altered", Some(format!("Bearer {altered}"))),
        ("basic garbage", Some("Basic !!!notbase64".into())),
    ];
    for (case, header) in cases {
        let mut request = server.request(Method::GET, "/api/v3/account");
        if let Some(header) = &header {
            request = request.header("authorization", header);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{case}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{case}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            body["error"]["type"], "invalid_request_error",
            "{case}: {body}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(!message.is_empty(), "{case}");
        // The message may show the key's prefix and last four characters, never more.
        assert!(
            !message.contains(&account.test_key[8..40]),
            "{case} leaks the key: {message}"
        );
    }

    let missing = server
        .request(Method::GET, "/api/v3/account")
        .send()
        .await
        .unwrap();
    let body = json_with_status(missing, 401).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did not provide an API key")
    );
    let unknown = server
        .with_key(Method::GET, "/api/v3/account", &unknown)
        .send()
        .await
        .unwrap();
    let body = json_with_status(unknown, 401).await;
    assert_eq!(
        body["error"]["message"],
        "Invalid API Key provided: sk_test_****AAAA"
    );
}

async fn revoked_keys_get_401_at_once(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let before = server
        .with_key(Method::GET, "/api/v3/account", &account.test_key)
        .send()
        .await
        .unwrap();
    assert_eq!(before.status(), 200);

    let keys = kassa::domain::accounts::list_keys(&server.db, &account.id)
        .await
        .unwrap();
    let test_key = keys.iter().find(|k| !k.mode.is_live()).unwrap();
    kassa::domain::accounts::revoke_key(&server.db, &test_key.id, 0)
        .await
        .unwrap();

    let after = server
        .with_key(Method::GET, "/api/v3/account", &account.test_key)
        .send()
        .await
        .unwrap();
    let body = json_with_status(after, 401).await;
    assert_eq!(body["error"]["code"], "api_key_expired");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    // The other key of the account is untouched.
    let live = server
        .with_key(Method::GET, "/api/v3/account", &account.live_key)
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
}

async fn each_key_sees_only_its_own_account_and_mode(engine: Engine) {
    let server = TestServer::start(engine).await;
    let acme = server.account("Acme").await;
    let globex = server.account("Globex").await;
    for (account, name) in [(&acme, "Acme"), (&globex, "Globex")] {
        for (key, livemode) in [(&account.test_key, false), (&account.live_key, true)] {
            let response = server
                .with_key(Method::GET, "/api/v3/account", key)
                .send()
                .await
                .unwrap();
            let body = json_with_status(response, 200).await;
            assert_eq!(body["id"], account.id.as_str());
            assert_eq!(body["name"], name);
            assert_eq!(body["livemode"], livemode);
        }
    }
    // A write through one account's key changes that account only.
    let renamed = server
        .with_key(Method::POST, "/api/v3/account", &acme.live_key)
        .json(&json!({"name": "Acme Corp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(renamed, 200).await["name"], "Acme Corp");
    let other = server
        .with_key(Method::GET, "/api/v3/account", &globex.test_key)
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(other, 200).await["name"], "Globex");
}

async fn key_use_is_recorded_without_a_write_per_request(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let last_used = |keys: Vec<kassa::domain::accounts::ApiKey>| {
        keys.into_iter()
            .find(|k| !k.mode.is_live())
            .unwrap()
            .last_used
    };
    let list = || kassa::domain::accounts::list_keys(&server.db, &account.id);
    assert_eq!(last_used(list().await.unwrap()), None);

    let start = kassa::clock::Clock::now(&server.clock);
    server
        .with_key(Method::GET, "/api/v3/account", &account.test_key)
        .send()
        .await
        .unwrap();
    assert_eq!(last_used(list().await.unwrap()), Some(start));

    // Within a minute the recorded time stays (no write per request); after it, it moves.
    server.clock.advance(30);
    server
        .with_key(Method::GET, "/api/v3/account", &account.test_key)
        .send()
        .await
        .unwrap();
    assert_eq!(last_used(list().await.unwrap()), Some(start));
    server.clock.advance(31);
    server
        .with_key(Method::GET, "/api/v3/account", &account.test_key)
        .send()
        .await
        .unwrap();
    assert_eq!(last_used(list().await.unwrap()), Some(start + 61));
}
