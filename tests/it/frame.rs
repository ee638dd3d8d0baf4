//! The HTTP frame: JSON errors in each surface's shape, body limits, request ids, health and
//! the OpenAPI document.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::json;

use crate::harness::{Engine, TestServer, json_with_status, on_both_engines};

on_both_engines!(
    unknown_routes_answer_json_in_the_surface_shape,
    wrong_methods_answer_json_405,
    malformed_bodies_name_the_problem,
    bodies_over_one_mebibyte_get_413,
    oversized_heads_and_unknown_body_types_are_refused,
    every_response_has_a_unique_request_id,
    health_checks_the_database,
    every_documented_route_is_served,
    every_api_answer_has_a_schema,
);

async fn unknown_routes_answer_json_in_the_surface_shape(engine: Engine) {
    let server = TestServer::start(engine).await;
    for version in ["v1", "v2"] {
        let path = format!("/api/{version}/no/such/thing");
        let response = server.request(Method::GET, &path).send().await.unwrap();
        assert_eq!(response.headers()["content-type"], "application/json");
        let body = json_with_status(response, 404).await;
        assert_eq!(
            body,
            json!({"statusCode": 404, "error": "Not Found", "message": format!("Route GET:{path} not found")})
        );
    }
    for path in [
        "/api/v3/no/such/thing",
        "/v1/no/such/thing",
        "/nothing-here",
    ] {
        let response = server.request(Method::POST, path).send().await.unwrap();
        let body = json_with_status(response, 404).await;
        assert_eq!(
            body,
            json!({"error": {"type": "invalid_request_error", "message": format!("Unrecognized request URL (POST: {path}).")}}),
            "{path}"
        );
    }
    // /api/v1 and /v1 are different surfaces.
    let loops = server
        .request(Method::GET, "/api/v1/account")
        .send()
        .await
        .unwrap();
    assert!(
        json_with_status(loops, 404)
            .await
            .get("statusCode")
            .is_some()
    );
    let stripe = server
        .request(Method::GET, "/v1/account")
        .send()
        .await
        .unwrap();
    assert!(
        json_with_status(stripe, 404)
            .await
            .get("error")
            .unwrap()
            .is_object()
    );
}

async fn wrong_methods_answer_json_405(engine: Engine) {
    let server = TestServer::start(engine).await;
    let response = server
        .request(Method::DELETE, "/api/v3/account")
        .send()
        .await
        .unwrap();
    let allow = response.headers()["allow"].to_str().unwrap().to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let body = json_with_status(response, 405).await;
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("DELETE")
    );
}

async fn malformed_bodies_name_the_problem(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let post = |body: &'static str, content_type: &'static str| {
        server
            .with_key(Method::POST, "/api/v3/account", &account.test_key)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let broken = json_with_status(post("{\"name\":", "application/json").await.unwrap(), 400).await;
    assert_eq!(broken["error"]["code"], "body_invalid_json");
    assert!(
        broken["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );

    let wrong_type = json_with_status(
        post("{\"name\": 5}", "application/json").await.unwrap(),
        400,
    )
    .await;
    assert_eq!(wrong_type["error"]["param"], "name");
    assert_eq!(wrong_type["error"]["code"], "parameter_invalid");

    let empty_name = json_with_status(
        post("{\"name\": \"  \"}", "application/json")
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(empty_name["error"]["param"], "name");
    assert_eq!(
        empty_name["error"]["message"],
        "Invalid name: must not be empty."
    );

    let long_name = format!("{{\"name\": \"{}\"}}", "x".repeat(101));
    let response = server
        .with_key(Method::POST, "/api/v3/account", &account.test_key)
        .header("content-type", "application/json")
        .body(long_name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(response, 400).await["error"]["param"],
        "name"
    );

    let not_json = json_with_status(post("name=x", "text/plain").await.unwrap(), 415).await;
    assert_eq!(not_json["error"]["code"], "unsupported_media_type");

    // An empty body is an empty object: nothing changes.
    let unchanged = json_with_status(post("", "application/json").await.unwrap(), 200).await;
    assert_eq!(unchanged["name"], "Acme");
}

async fn bodies_over_one_mebibyte_get_413(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(1024 * 1024));
    let response = server
        .with_key(Method::POST, "/api/v3/account", &account.test_key)
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    // The body is not read, so the connection closes after the answer, and says so: the
    // client's next request goes to a new connection (below, on the same client).
    assert_eq!(response.headers()["connection"], "close");
    let body = json_with_status(response, 413).await;
    assert_eq!(body["error"]["code"], "request_too_large");

    // The same without a Content-Length (chunked), so the limit is met while reading. The
    // server answers 413 and closes the connection before the body ends, so the client reads
    // while it writes and stops writing when the connection goes.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = server.base.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let read = tokio::spawn(async move {
        let mut received = Vec::new();
        let _ = reader.read_to_end(&mut received).await;
        received
    });
    let head = format!(
        "POST /api/v3/account HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        account.test_key
    );
    let mut sent = writer.write_all(head.as_bytes()).await;
    for chunk in big.as_bytes().chunks(64 * 1024) {
        if sent.is_err() {
            break;
        }
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        sent = writer.write_all(&framed).await;
    }
    if sent.is_ok() {
        let _ = writer.write_all(b"0\r\n\r\n").await;
    }
    let received = tokio::time::timeout(std::time::Duration::from_secs(30), read)
        .await
        .expect("the server closes the connection after its 413")
        .unwrap();
    let received = String::from_utf8_lossy(&received).into_owned();
    assert!(received.starts_with("HTTP/1.1 413"), "{received}");
    assert!(received.contains("request_too_large"), "{received}");

    // Just under the limit is accepted (and rejected only for the name's length).
    let fits = format!("{{\"name\": \"{}\"}}", "x".repeat(1024 * 1024 - 20));
    let response = server
        .with_key(Method::POST, "/api/v3/account", &account.test_key)
        .header("content-type", "application/json")
        .body(fits)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(response, 400).await["error"]["param"],
        "name"
    );
}

async fn every_response_has_a_unique_request_id(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let mut seen = HashSet::new();
    let requests = [
        server.with_key(Method::GET, "/api/v3/account", &account.test_key),
        server.request(Method::GET, "/api/v3/account"),
        server.request(Method::GET, "/api/v2/unknown"),
        server.request(Method::PUT, "/api/v3/account"),
        server.request(Method::GET, "/healthz"),
        server.request(Method::GET, "/openapi.json"),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        let id = response.headers()["request-id"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(id.starts_with("req_") && id.len() >= 20, "{id}");
        assert!(seen.insert(id.clone()), "request id {id} repeated");
    }
}

async fn health_checks_the_database(engine: Engine) {
    let server = TestServer::start(engine).await;
    let response = server
        .request(Method::GET, "/healthz")
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(response, 200).await,
        json!({"status": "ok", "database": "ok"})
    );

    // With the database gone, the check says so.
    server.db.close().await;
    let response = server
        .request(Method::GET, "/healthz")
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(response, 503).await["status"],
        "unavailable"
    );
}

async fn every_documented_route_is_served(engine: Engine) {
    let server = TestServer::start(engine).await;
    let response = server
        .request(Method::GET, "/openapi.json")
        .send()
        .await
        .unwrap();
    let document = json_with_status(response, 200).await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(document["components"]["securitySchemes"]["secret_key"].is_object());

    let paths = document["paths"].as_object().unwrap();
    for required in ["/healthz", "/openapi.json", "/api/v3/account"] {
        assert!(
            paths.contains_key(required),
            "{required} is missing from /openapi.json"
        );
    }
    for (path, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let concrete = path.replace('{', "x_").replace('}', "");
            let response = server
                .request(method.clone(), &concrete)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            let unrecognized = body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Unrecognized"))
                || body["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("Route "));
            assert!(
                !unrecognized && status != 405,
                "{method} {path} is documented but not served"
            );
        }
    }
}

/// Every successful answer of the APIs (`/api/...`, `/v1/...`) names the schema of its JSON
/// body (that each `$ref` resolves is `document`'s own test). The event stream, which is not
/// JSON, is the one exception.
async fn every_api_answer_has_a_schema(engine: Engine) {
    let server = TestServer::start(engine).await;
    let response = server
        .request(Method::GET, "/openapi.json")
        .send()
        .await
        .unwrap();
    let document = json_with_status(response, 200).await;
    let mut missing = Vec::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        if !(path.starts_with("/api/") || path.starts_with("/v1/")) || path == "/v1/events/stream" {
            continue;
        }
        for (method, operation) in operations.as_object().unwrap() {
            for (status, answer) in operation["responses"].as_object().unwrap() {
                if status.starts_with('2')
                    && !answer["content"]["application/json"]["schema"].is_object()
                {
                    missing.push(format!("{method} {path} {status}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "answers without a schema: {missing:?}");
}

/// Routes are added only through utoipa-axum's `routes!`, which documents them; a plain
/// axum `.route(` call would serve a route that /openapi.json does not describe.
#[test]
fn routes_are_only_added_with_their_documentation() {
    fn visit(dir: &std::path::Path, offenders: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, offenders);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    if line.contains(".route(") || line.contains(".nest(") {
                        offenders.push(format!("{}:{}", path.display(), n + 1));
                    }
                }
            }
        }
    }
    let mut offenders = Vec::new();
    visit(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut offenders,
    );
    assert!(
        offenders.is_empty(),
        "undocumented routes added at {offenders:?}"
    );
}

/// A request head over 32 KiB is a 431 (so that each open connection holds little), and a
/// `/v1` body of a type that is neither a form nor JSON is a 415 rather than read as a form.
async fn oversized_heads_and_unknown_body_types_are_refused(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let big = server
        .with_key(Method::GET, "/v1/products", &account.test_key)
        .header("x-big", "a".repeat(40 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 431);
    let fits = server
        .with_key(Method::GET, "/v1/products", &account.test_key)
        .header("x-big", "a".repeat(16 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(fits.status(), 200);

    for content_type in ["text/plain", "multipart/form-data; boundary=x"] {
        let response = server
            .with_key(Method::POST, "/v1/customers", &account.test_key)
            .header("content-type", content_type)
            .body("name=Ada")
            .send()
            .await
            .unwrap();
        let body = json_with_status(response, 415).await;
        assert_eq!(
            body["error"]["code"], "unsupported_media_type",
            "{content_type}"
        );
    }
    // A form without a Content-Type is still a form, as Stripe reads it.
    let untyped = server
        .with_key(Method::POST, "/v1/customers", &account.test_key)
        .body("name=Ada")
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(untyped, 200).await["name"], "Ada");
}
