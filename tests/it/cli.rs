//! The administration commands: accounts and keys.

use reqwest::Method;

use crate::harness::{
    Engine, TestDatabase, TestServer, json_with_status, kassa_command, on_both_engines,
};

on_both_engines!(
    account_create_prints_json_with_working_keys,
    keys_are_created_listed_and_revoked,
    the_database_comes_from_a_flag_the_environment_or_the_config_file,
);

async fn account_create_prints_json_with_working_keys(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let (code, stdout, stderr) = kassa_command(&[
        "account",
        "create",
        "--name",
        "Shop",
        "--json",
        "--database-url",
        &database.url,
    ])
    .await;
    assert_eq!(code, 0, "{stderr}");
    let object: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let keys: Vec<&String> = object.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["account_id", "test_secret_key", "live_secret_key"]);

    let server = TestServer::start_on(database).await;
    for (key, livemode) in [("test_secret_key", false), ("live_secret_key", true)] {
        let secret = object[key].as_str().unwrap();
        let response = server
            .with_key(Method::GET, "/api/v3/account", secret)
            .send()
            .await
            .unwrap();
        let body = json_with_status(response, 200).await;
        assert_eq!(body["id"], object["account_id"]);
        assert_eq!(body["name"], "Shop");
        assert_eq!(body["livemode"], livemode);
    }

    let (code, _, stderr) = kassa_command(&[
        "account",
        "create",
        "--name",
        " ",
        "--database-url",
        &server.database.url,
    ])
    .await;
    assert_ne!(code, 0);
    assert!(stderr.contains("name"), "{stderr}");
}

async fn keys_are_created_listed_and_revoked(engine: Engine) {
    let server = TestServer::start(engine).await;
    let url = server.database.url.clone();
    let account = server.account("Acme").await;

    let (code, stdout, stderr) = kassa_command(&[
        "keys",
        "create",
        "--account",
        &account.id,
        "--mode",
        "live",
        "--database-url",
        &url,
    ])
    .await;
    assert_eq!(code, 0, "{stderr}");
    let secret = stdout
        .split_whitespace()
        .find(|w| w.starts_with("sk_live_"))
        .expect("the new key")
        .to_string();
    let key_id = stdout
        .split_whitespace()
        .find(|w| w.starts_with("key_"))
        .expect("the key id")
        .to_string();
    let response = server
        .with_key(Method::GET, "/api/v3/account", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(response, 200).await["livemode"], true);

    let (code, listing, _) = kassa_command(&[
        "keys",
        "list",
        "--account",
        &account.id,
        "--database-url",
        &url,
    ])
    .await;
    assert_eq!(code, 0);
    assert_eq!(
        listing.lines().filter(|l| l.starts_with("key_")).count(),
        3,
        "{listing}"
    );
    assert!(
        !listing.contains(&secret),
        "listing shows only redacted keys"
    );
    assert!(listing.contains(&secret[secret.len() - 4..]));
    // A table: each value starts under its heading.
    let header = listing.lines().next().unwrap();
    for row in listing.lines().skip(1) {
        for (heading, value) in [("KEY", " sk_"), ("CREATED", " 20")] {
            assert_eq!(
                header.find(heading),
                row.find(value).map(|at| at + 1),
                "{heading} is not above its values:\n{listing}"
            );
        }
    }

    let (code, _, stderr) =
        kassa_command(&["keys", "revoke", &key_id, "--database-url", &url]).await;
    let revoked = std::time::Instant::now();
    assert_eq!(code, 0, "{stderr}");
    // The running server hears of the other process's revocation within a second.
    loop {
        let response = server
            .with_key(Method::GET, "/api/v3/account", &secret)
            .send()
            .await
            .unwrap();
        if response.status() == 401 {
            break;
        }
        assert_eq!(response.status(), 200);
        assert!(
            revoked.elapsed() < std::time::Duration::from_secs(1),
            "the key still works a second after its revocation"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (_, listing, _) = kassa_command(&[
        "keys",
        "list",
        "--account",
        &account.id,
        "--database-url",
        &url,
    ])
    .await;
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with(&key_id) && l.contains("revoked")),
        "{listing}"
    );

    let (code, _, stderr) = kassa_command(&[
        "keys",
        "create",
        "--account",
        "acct_nope",
        "--mode",
        "test",
        "--database-url",
        &url,
    ])
    .await;
    assert_ne!(code, 0);
    assert!(stderr.contains("acct_nope"), "{stderr}");
    let (code, _, stderr) =
        kassa_command(&["keys", "revoke", "key_nope", "--database-url", &url]).await;
    assert_ne!(code, 0);
    assert!(stderr.contains("key_nope"), "{stderr}");
}

/// The database options belong to the commands that open a database, and each is also read from
/// its environment variable and the config file, before or after the subcommand's own name.
async fn the_database_comes_from_a_flag_the_environment_or_the_config_file(engine: Engine) {
    let server = TestServer::start(engine).await;
    let url = server.database.url.clone();
    let account = server.account("Acme").await;
    let folder = tempfile::tempdir().unwrap();
    let config = folder.path().join("kassa.toml");
    std::fs::write(&config, format!("database_url = {url:?}\n")).unwrap();
    let config = config.to_str().unwrap();
    let run = |args: Vec<&str>, env: Option<(&'static str, String)>| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kassa"));
        command
            .args(args)
            .env_remove("KASSA_CONFIG")
            .env_remove("KASSA_DATABASE_URL");
        if let Some((name, value)) = env {
            command.env(name, value);
        }
        async move {
            let output = command.output().await.unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "{stdout}{stderr}");
            stdout
        }
    };
    let list = vec!["keys", "list", "--account", account.id.as_str()];
    for (args, env) in [
        ([&list[..], &["--database-url", &url]].concat(), None),
        (
            [&["keys", "--database-url", &url], &list[1..]].concat(),
            None,
        ),
        (list.clone(), Some(("KASSA_DATABASE_URL", url.clone()))),
        ([&list[..], &["--config", config]].concat(), None),
        (list.clone(), Some(("KASSA_CONFIG", config.to_string()))),
    ] {
        let listing = run(args.clone(), env).await;
        assert_eq!(
            listing.lines().filter(|l| l.starts_with("key_")).count(),
            2,
            "{args:?}: {listing}"
        );
    }
    let migrated = run(vec!["migrate", "--config", config], None).await;
    assert!(migrated.contains("is up to date"), "{migrated}");
}
