//! The dashboard over HTTP: sign-in, lock-out, CSRF, the mode switch, sessions, keys, and
//! that one account's user never reaches another account's objects.

use reqwest::Method;

use crate::harness::{Engine, TestAccount, TestServer, json_with_status, on_both_engines};

on_both_engines!(
    every_page_needs_a_signed_in_user,
    wrong_passwords_are_refused_and_lock_the_user_out,
    forms_without_the_csrf_token_are_refused,
    keys_are_created_and_revoked_from_the_dashboard,
    sessions_are_listed_found_and_shown_in_the_selected_mode,
    one_account_never_sees_another_accounts_objects,
    products_links_and_webhooks_are_managed_from_the_dashboard,
    revoking_a_key_in_the_dashboard_closes_its_event_streams,
);

/// A browser signed in to the dashboard: keeps the session cookie, follows no redirects.
struct Dashboard {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

struct Page {
    status: u16,
    location: Option<String>,
    body: String,
}

async fn read(response: reqwest::Response) -> Page {
    Page {
        status: response.status().as_u16(),
        location: response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string()),
        body: response.text().await.unwrap(),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn user(server: &TestServer, account: &TestAccount, email: &str) -> String {
    kassa::domain::dashboard::create_user(
        &server.db,
        &account.id,
        email,
        kassa::clock::Clock::now(&server.clock),
    )
    .await
    .unwrap()
    .password
}

async fn sign_in_attempt(server: &TestServer, email: &str, password: &str) -> reqwest::Response {
    client()
        .post(format!("{}/dashboard/sign-in", server.base))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

impl Dashboard {
    async fn sign_in(server: &TestServer, email: &str, password: &str) -> Dashboard {
        let response = sign_in_attempt(server, email, password).await;
        assert_eq!(response.status(), 303);
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        Dashboard {
            http: client(),
            base: server.base.clone(),
            cookie: cookie.split(';').next().unwrap().to_string(),
        }
    }

    async fn get(&self, path: &str) -> Page {
        read(
            self.http
                .get(format!("{}{path}", self.base))
                .header("cookie", &self.cookie)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Posts `fields` with the CSRF token of the page at `from`.
    async fn post(&self, from: &str, path: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get(from).await;
        let at = page
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a CSRF field")
            + 19;
        let token = page.body[at..at + 32].to_string();
        let mut form: Vec<(&str, &str)> = vec![("csrf", &token)];
        form.extend_from_slice(fields);
        read(
            self.http
                .post(format!("{}{path}", self.base))
                .header("cookie", &self.cookie)
                .form(&form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }
}

async fn every_page_needs_a_signed_in_user(engine: Engine) {
    let server = TestServer::start(engine).await;
    let http = client();
    for path in [
        "/dashboard",
        "/dashboard/sessions",
        "/dashboard/sessions/cs_test_x",
        "/dashboard/keys",
        "/dashboard/products",
        "/dashboard/products/new",
        "/dashboard/products/prod_x",
        "/dashboard/links",
        "/dashboard/webhooks",
        "/dashboard/webhooks/we_x",
    ] {
        let page = read(
            http.get(format!("{}{path}", server.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(page.status, 303, "{path}");
        assert_eq!(
            page.location.as_deref(),
            Some("/dashboard/sign-in"),
            "{path}"
        );
        let forged = read(
            http.get(format!("{}{path}", server.base))
                .header("cookie", "kassa_dashboard=not-a-session")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(forged.status, 303, "{path}");
    }
    for path in [
        "/dashboard/keys",
        "/dashboard/keys/key_x/revoke",
        "/dashboard/mode",
        "/dashboard/sign-out",
        "/dashboard/products",
        "/dashboard/products/prod_x",
        "/dashboard/products/prod_x/archive",
        "/dashboard/links",
        "/dashboard/links/pl_x/deactivate",
        "/dashboard/webhooks",
        "/dashboard/webhooks/we_x/secret",
    ] {
        let page = read(
            http.post(format!("{}{path}", server.base))
                .form(&[("csrf", "x")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(page.status, 303, "{path}");
    }
    let form = read(
        http.get(format!("{}/dashboard/sign-in", server.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("autocomplete=\"current-password\""));
}

async fn wrong_passwords_are_refused_and_lock_the_user_out(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let password = user(&server, &account, "owner@acme.example").await;
    let unknown = sign_in_attempt(&server, "nobody@acme.example", &password).await;
    assert_eq!(unknown.status(), 401);
    for _ in 0..4 {
        let wrong = sign_in_attempt(&server, "owner@acme.example", "guess").await;
        assert_eq!(wrong.status(), 401);
        assert!(
            wrong
                .text()
                .await
                .unwrap()
                .contains("The email or password is wrong.")
        );
    }
    let fifth = sign_in_attempt(&server, "owner@acme.example", "guess").await;
    assert_eq!(fifth.status(), 429);
    let locked = sign_in_attempt(&server, "owner@acme.example", &password).await;
    assert_eq!(locked.status(), 429, "locked even with the right password");
    server.clock.advance(15 * 60 + 1);
    let dashboard = Dashboard::sign_in(&server, "OWNER@acme.example", &password).await;
    let overview = dashboard.get("/dashboard").await;
    assert_eq!(overview.status, 200);
    assert!(overview.body.contains("owner@acme.example"));
    assert!(overview.body.contains("No completed payments yet."));

    // Signing out ends the session: the cookie no longer works.
    let out = dashboard
        .post("/dashboard", "/dashboard/sign-out", &[])
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(dashboard.get("/dashboard").await.status, 303);
}

async fn forms_without_the_csrf_token_are_refused(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let password = user(&server, &account, "owner@acme.example").await;
    let dashboard = Dashboard::sign_in(&server, "owner@acme.example", &password).await;
    for (path, fields) in [
        ("/dashboard/keys", vec![]),
        ("/dashboard/mode", vec![("mode", "live")]),
        ("/dashboard/sign-out", vec![]),
        (
            "/dashboard/keys",
            vec![("csrf", "0123456789abcdef0123456789abcdef")],
        ),
    ] {
        let page = read(
            dashboard
                .http
                .post(format!("{}{path}", server.base))
                .header("cookie", &dashboard.cookie)
                .form(&fields)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(page.status, 403, "{path} {fields:?}");
    }
    let keys = kassa::domain::accounts::list_keys(&server.db, &account.id)
        .await
        .unwrap();
    assert_eq!(keys.len(), 2, "no key was created");
    assert_eq!(
        dashboard.get("/dashboard").await.status,
        200,
        "still signed in"
    );
}

async fn keys_are_created_and_revoked_from_the_dashboard(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let password = user(&server, &account, "owner@acme.example").await;
    let dashboard = Dashboard::sign_in(&server, "owner@acme.example", &password).await;
    let before = kassa::domain::accounts::list_keys(&server.db, &account.id)
        .await
        .unwrap();
    let created = dashboard
        .post("/dashboard/keys", "/dashboard/keys", &[])
        .await;
    assert_eq!(created.status, 200);
    let at = created.body.find("<code id=\"new-key\">").unwrap() + 19;
    let secret = created.body[at..].split('<').next().unwrap().to_string();
    assert!(secret.starts_with("sk_test_"), "{secret}");
    let works = server
        .with_key(Method::GET, "/api/v3/account", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(works.status(), 200);
    let listed = dashboard.get("/dashboard/keys").await;
    assert!(!listed.body.contains(&secret), "the secret is shown once");
    assert_eq!(listed.body.matches("/revoke\"").count(), 2, "two test keys");

    let keys = kassa::domain::accounts::list_keys(&server.db, &account.id)
        .await
        .unwrap();
    let new_key = keys
        .iter()
        .find(|k| before.iter().all(|b| b.id != k.id))
        .expect("the new key");
    assert_eq!(new_key.mode, kassa::domain::Mode::Test);
    let revoked = dashboard
        .post(
            "/dashboard/keys",
            &format!("/dashboard/keys/{}/revoke", new_key.id),
            &[],
        )
        .await;
    assert_eq!(revoked.status, 303);
    let refused = server
        .with_key(Method::GET, "/api/v3/account", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(
        dashboard
            .get("/dashboard/keys")
            .await
            .body
            .contains("revoked")
    );
}

async fn sessions_are_listed_found_and_shown_in_the_selected_mode(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let password = user(&server, &account, "owner@acme.example").await;
    let line = "mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=2500\
                &line_items[0][price_data][product_data][name]=Linen+shirt&line_items[0][quantity]=1";
    let test = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/checkout/sessions",
                &format!("{line}&customer_email=ada%40example.com&metadata[order]=77"),
            )
            .await,
        200,
    )
    .await;
    let test_id = test["id"].as_str().unwrap();
    let live = json_with_status(
        server
            .with_key(Method::POST, "/v1/checkout/sessions", &account.live_key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(line)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let live_id = live["id"].as_str().unwrap();
    server
        .form(
            &account,
            Method::POST,
            &format!("/v1/checkout/sessions/{test_id}/expire"),
            "",
        )
        .await;

    let dashboard = Dashboard::sign_in(&server, "owner@acme.example", &password).await;
    let list = dashboard.get("/dashboard/sessions").await;
    assert!(
        list.body.contains(test_id) && !list.body.contains(live_id),
        "test mode first"
    );
    assert!(list.body.contains("Test mode"));
    let open_only = dashboard.get("/dashboard/sessions?status=open").await;
    assert!(!open_only.body.contains(test_id));
    let by_email = dashboard
        .get("/dashboard/sessions?q=ada%40example.com")
        .await;
    assert!(by_email.body.contains(test_id));
    // A hand-edited cursor is a bad address, not a server error.
    for path in [
        "/dashboard/sessions?after=cs_nope",
        "/dashboard/products?after=prod_nope",
    ] {
        assert_eq!(dashboard.get(path).await.status, 400, "{path}");
    }
    let by_id = dashboard
        .get(&format!("/dashboard/sessions?q={test_id}"))
        .await;
    assert!(by_id.body.contains(test_id));

    let detail = dashboard
        .get(&format!("/dashboard/sessions/{test_id}"))
        .await;
    assert_eq!(detail.status, 200);
    for text in [
        "Expired",
        "$25.00",
        "Linen shirt",
        "order",
        "77",
        "checkout.session.expired",
        "No payment yet.",
    ] {
        assert!(detail.body.contains(text), "the detail shows {text:?}");
    }

    let switched = dashboard
        .post("/dashboard", "/dashboard/mode", &[("mode", "live")])
        .await;
    assert_eq!(switched.status, 303);
    let list = dashboard.get("/dashboard/sessions").await;
    assert!(list.body.contains(live_id) && !list.body.contains(test_id));
    assert!(list.body.contains("Live mode"));
    assert_eq!(
        dashboard
            .get(&format!("/dashboard/sessions/{test_id}"))
            .await
            .status,
        404
    );
}

async fn one_account_never_sees_another_accounts_objects(engine: Engine) {
    let server = TestServer::start(engine).await;
    let acme = server.account("Acme").await;
    let globex = server.account("Globex").await;
    let password = user(&server, &acme, "owner@acme.example").await;
    let theirs = json_with_status(
        server
            .form(
                &globex,
                Method::POST,
                "/v1/checkout/sessions",
                "mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=100\
                 &line_items[0][price_data][product_data][name]=Secret&line_items[0][quantity]=1",
            )
            .await,
        200,
    )
    .await;
    let dashboard = Dashboard::sign_in(&server, "owner@acme.example", &password).await;
    let id = theirs["id"].as_str().unwrap();
    assert_eq!(
        dashboard
            .get(&format!("/dashboard/sessions/{id}"))
            .await
            .status,
        404
    );
    assert!(
        !dashboard
            .get(&format!("/dashboard/sessions?q={id}"))
            .await
            .body
            .contains("Secret")
    );
    // Their product and webhook endpoint, by id.
    let product = json_with_status(
        server
            .form(
                &globex,
                Method::POST,
                "/v1/products",
                "name=Their+secret+product",
            )
            .await,
        200,
    )
    .await;
    let product_path = format!("/dashboard/products/{}", product["id"].as_str().unwrap());
    assert_eq!(dashboard.get(&product_path).await.status, 404);
    let archive = dashboard
        .post(
            "/dashboard/products",
            &format!("{product_path}/archive"),
            &[],
        )
        .await;
    assert_eq!(archive.status, 404);
    let endpoint = json_with_status(
        server
            .form(
                &globex,
                Method::POST,
                "/v1/webhook_endpoints",
                "url=https%3A%2F%2Fglobex.example%2Fhooks&enabled_events[]=*",
            )
            .await,
        200,
    )
    .await;
    let endpoint_path = format!("/dashboard/webhooks/{}", endpoint["id"].as_str().unwrap());
    assert_eq!(dashboard.get(&endpoint_path).await.status, 404);
    let secret = dashboard
        .post(
            "/dashboard/webhooks",
            &format!("{endpoint_path}/secret"),
            &[],
        )
        .await;
    assert_eq!(secret.status, 404);
    assert!(!secret.body.contains("whsec_"));
    let their_keys = kassa::domain::accounts::list_keys(&server.db, &globex.id)
        .await
        .unwrap();
    let their_test_key = their_keys
        .iter()
        .find(|k| k.mode == kassa::domain::Mode::Test)
        .unwrap();
    let attempt = dashboard
        .post(
            "/dashboard/keys",
            &format!("/dashboard/keys/{}/revoke", their_test_key.id),
            &[],
        )
        .await;
    assert_eq!(attempt.status, 404);
    let still = server
        .with_key(Method::GET, "/api/v3/account", &globex.test_key)
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200, "their key still works");
}

async fn products_links_and_webhooks_are_managed_from_the_dashboard(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let password = user(&server, &account, "owner@acme.example").await;
    let dashboard = Dashboard::sign_in(&server, "owner@acme.example", &password).await;
    assert!(
        dashboard
            .get("/dashboard/products")
            .await
            .body
            .contains("No products yet")
    );

    let refused = dashboard
        .post(
            "/dashboard/products/new",
            "/dashboard/products",
            &[
                ("name", "Mug"),
                ("amountType", "FIXED"),
                ("priceCurrency", "usd"),
                ("priceAmount", "0.1"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("role=\"alert\""));
    let created = dashboard
        .post(
            "/dashboard/products/new",
            "/dashboard/products",
            &[
                ("name", "Stoneware mug"),
                ("amountType", "FIXED"),
                ("priceCurrency", "eur"),
                ("priceAmount", "18.50"),
                ("recurringInterval", ""),
                ("metadata", "sku=MUG-1"),
            ],
        )
        .await;
    assert_eq!(created.status, 303);
    let path = created.location.unwrap();
    let product_id = path.rsplit('/').next().unwrap().to_string();
    let api = json_with_status(
        server
            .with_key(
                Method::GET,
                &format!("/api/v3/products/{product_id}"),
                &account.test_key,
            )
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(api["name"], "Stoneware mug");
    assert_eq!(api["metadata"]["sku"], "MUG-1");
    let list = dashboard.get("/dashboard/products?q=stone").await;
    assert!(list.body.contains(&format!("id=\"id-{product_id}\"")));
    assert!(list.body.contains("Copy Product ID"));
    assert!(list.body.contains("€18.50"));
    assert!(
        !dashboard
            .get("/dashboard/products?q=teapot")
            .await
            .body
            .contains(&product_id)
    );

    // A payment link for it, then deactivated.
    let made = dashboard
        .post(
            "/dashboard/links",
            "/dashboard/links",
            &[("product", product_id.as_str())],
        )
        .await;
    assert_eq!(made.status, 303);
    let links = dashboard.get("/dashboard/links").await;
    let at = links.body.find("/l/pl_").unwrap() + 3;
    let link_id = links.body[at..].split('<').next().unwrap().to_string();
    let deactivated = dashboard
        .post(
            "/dashboard/links",
            &format!("/dashboard/links/{link_id}/deactivate"),
            &[],
        )
        .await;
    assert_eq!(deactivated.status, 303);
    let visit = client()
        .get(format!("{}/l/{link_id}", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(visit.status(), 410);

    // Archive the product.
    let archived = dashboard.post(&path, &format!("{path}/archive"), &[]).await;
    assert_eq!(archived.status, 303);
    assert!(dashboard.get(&path).await.body.contains("archived"));

    // Webhooks: add, view the secret, disable.
    let added = dashboard
        .post(
            "/dashboard/webhooks",
            "/dashboard/webhooks",
            &[
                ("url", "https://shop.example/hooks"),
                (
                    "events",
                    "checkout.session.completed, checkout.session.expired",
                ),
            ],
        )
        .await;
    assert_eq!(added.status, 303);
    let endpoint_path = added.location.unwrap();
    let shown = dashboard.get(&endpoint_path).await;
    assert!(
        !shown.body.contains("whsec_"),
        "the secret is hidden until asked for"
    );
    let secret = dashboard
        .post(&endpoint_path, &format!("{endpoint_path}/secret"), &[])
        .await;
    assert!(secret.body.contains("whsec_"));
    let disabled = dashboard
        .post(&endpoint_path, &format!("{endpoint_path}/disable"), &[])
        .await;
    assert_eq!(disabled.status, 303);
    assert!(
        dashboard
            .get(&endpoint_path)
            .await
            .body
            .contains("disabled by the merchant")
    );
}

async fn revoking_a_key_in_the_dashboard_closes_its_event_streams(engine: Engine) {
    use crate::revocation::{EventStream, key_id, refused_as_revoked};
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let password = user(&server, &account, "owner@acme.example").await;
    let dashboard = Dashboard::sign_in(&server, "owner@acme.example", &password).await;
    let stream = EventStream::open(&server.base, &account.test_key).await;

    let key = key_id(&server.db, &account.test_key).await;
    let before = std::time::Instant::now();
    let revoked = dashboard
        .post(
            "/dashboard/keys",
            &format!("/dashboard/keys/{key}/revoke"),
            &[],
        )
        .await;
    assert_eq!(revoked.status, 303);
    stream
        .closes_within_a_second_of(before, "the revocation in the dashboard")
        .await;
    refused_as_revoked(&server.base, &account.test_key).await;
}
