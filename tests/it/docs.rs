//! The API reference page, `/docs`: Swagger UI served by kassa itself, under the pages' strict
//! Content-Security-Policy, on kassa's own `/openapi.json`.

use reqwest::Method;

use crate::harness::{Engine, TestServer, json_with_status, on_both_engines};

on_both_engines!(
    the_reference_page_is_strict_and_names_only_kassa,
    the_reference_assets_are_typed_and_cached,
    the_reference_and_its_assets_are_documented,
);

/// Every `src="..."` and `href="..."` value of `html`.
fn urls(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attribute) {
            let rest = &html[at + attribute.len()..];
            found.push(rest[..rest.find('"').unwrap()].to_string());
        }
    }
    found
}

async fn the_reference_page_is_strict_and_names_only_kassa(engine: Engine) {
    let server = TestServer::start(engine).await;
    let response = server.request(Method::GET, "/docs").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self';",
        "style-src 'self';",
        "connect-src 'self';",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");

    let html = response.text().await.unwrap();
    assert_eq!(html.matches("<script").count(), 2, "{html}");
    assert_eq!(
        html.matches("<script src=\"/").count(),
        2,
        "every script is a file from kassa, none inline: {html}"
    );
    assert!(!html.contains("style=\""), "no inline style: {html}");
    let urls = urls(&html);
    assert_eq!(urls.len(), 5, "{urls:?}");
    for url in &urls {
        let same_origin = url.starts_with('/') && !url.starts_with("//");
        assert!(same_origin || url == "data:,", "{url} is not kassa's");
        if same_origin {
            let response = server.request(Method::GET, url).send().await.unwrap();
            assert_eq!(response.status(), 200, "{url}");
        }
    }

    // The script that starts the renderer points it at this server's document, and turns off
    // what would reach other servers.
    let start = server
        .request(Method::GET, "/assets/docs.js")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(start.contains("url: \"/openapi.json\""), "{start}");
    assert!(start.contains("validatorUrl: null"), "{start}");
    assert!(start.contains("queryConfigEnabled: false"), "{start}");
    assert!(!start.contains("http"), "no absolute URL: {start}");
}

async fn the_reference_assets_are_typed_and_cached(engine: Engine) {
    let server = TestServer::start(engine).await;
    let version = kassa::http::pages::docs::SWAGGER_UI_VERSION;
    let forever = "public, max-age=31536000, immutable";
    for (path, content_type, cache_control, least) in [
        (
            format!("/assets/swagger-ui-{version}/swagger-ui-bundle.js"),
            "text/javascript; charset=utf-8",
            forever,
            1_000_000,
        ),
        (
            format!("/assets/swagger-ui-{version}/swagger-ui.css"),
            "text/css; charset=utf-8",
            forever,
            100_000,
        ),
        (
            "/assets/docs.js".to_string(),
            "text/javascript; charset=utf-8",
            "public, max-age=3600",
            500,
        ),
    ] {
        let response = server.request(Method::GET, &path).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        assert_eq!(headers["content-type"], content_type, "{path}");
        assert_eq!(headers["cache-control"], cache_control, "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        let body = response.bytes().await.unwrap();
        assert!(body.len() > least, "{path}: {} bytes", body.len());
    }

    // Another version's files are not there: a page asking for them is out of date.
    let response = server
        .request(Method::GET, "/assets/swagger-ui-0.0.1/swagger-ui-bundle.js")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

async fn the_reference_and_its_assets_are_documented(engine: Engine) {
    let server = TestServer::start(engine).await;
    let response = server
        .request(Method::GET, "/openapi.json")
        .send()
        .await
        .unwrap();
    let document = json_with_status(response, 200).await;
    let version = kassa::http::pages::docs::SWAGGER_UI_VERSION;
    for path in [
        "/docs".to_string(),
        "/assets/docs.js".to_string(),
        format!("/assets/swagger-ui-{version}/swagger-ui-bundle.js"),
        format!("/assets/swagger-ui-{version}/swagger-ui.css"),
    ] {
        let operation = &document["paths"][&path]["get"];
        assert_eq!(operation["tags"][0], "Operations", "{path}: {operation}");
    }
}
