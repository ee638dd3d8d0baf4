//! The dashboard over HTTP: sign-in, lock-out, CSRF, the mode switch, sessions, keys, and
//! that one account's user never reaches another account's objects.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{
    Engine, TestAccount, TestDatabase, TestServer, json_with_status, on_both_engines,
};

on_both_engines!(
    every_page_needs_a_signed_in_user,
    wrong_passwords_are_refused_and_lock_the_user_out,
    forms_without_the_csrf_token_are_refused,
    keys_are_created_and_revoked_from_the_dashboard,
    sessions_are_listed_found_and_shown_in_the_selected_mode,
    one_account_never_sees_another_accounts_objects,
    products_links_and_webhooks_are_managed_from_the_dashboard,
    sign_in_refuses_forms_posted_from_other_sites,
    concurrent_wrong_passwords_lock_after_five,
    saving_a_product_unchanged_changes_nothing,
    product_edits_change_exactly_the_fields_edited,
    page_forms_ignore_the_idempotency_key,
    webhook_form_follows_the_test_private_rule,
    revoking_a_key_in_the_dashboard_closes_its_event_streams,
);

/// A browser signed in to the dashboard: keeps the session cookie, follows no redirects.
pub(crate) struct Dashboard {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) body: String,
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

pub(crate) async fn user(server: &TestServer, account: &TestAccount, email: &str) -> String {
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

/// The sign-in form as a browser gets it: its CSRF cookie and the token in the form.
struct SignInForm {
    cookie: String,
    token: String,
}

impl SignInForm {
    async fn open(server: &TestServer) -> SignInForm {
        let response = client()
            .get(format!("{}/dashboard/sign-in", server.base))
            .send()
            .await
            .unwrap();
        let set = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_string();
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/dashboard/sign-in"] {
            assert!(set.contains(attribute), "{set}");
        }
        let body = response.text().await.unwrap();
        SignInForm {
            cookie: set.split(';').next().unwrap().to_string(),
            token: csrf_of(&body),
        }
    }

    /// Posts the form as the browser that opened it does.
    fn post(&self, server: &TestServer, email: &str, password: &str) -> reqwest::RequestBuilder {
        client()
            .post(format!("{}/dashboard/sign-in", server.base))
            .header("cookie", &self.cookie)
            .form(&[
                ("csrf", self.token.as_str()),
                ("email", email),
                ("password", password),
            ])
    }
}

pub(crate) fn csrf_of(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    body[at..at + 32].to_string()
}

async fn sign_in_attempt(server: &TestServer, email: &str, password: &str) -> reqwest::Response {
    SignInForm::open(server)
        .await
        .post(server, email, password)
        .send()
        .await
        .unwrap()
}

impl Dashboard {
    pub(crate) async fn sign_in(server: &TestServer, email: &str, password: &str) -> Dashboard {
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

    pub(crate) async fn get(&self, path: &str) -> Page {
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
    pub(crate) async fn post(&self, from: &str, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = csrf_of(&self.get(from).await.body);
        let mut form: Vec<(&str, &str)> = vec![("csrf", &token)];
        form.extend_from_slice(fields);
        self.send_form(path, &form, &[]).await
    }

    /// Posts a form exactly as given (its CSRF token included), with extra `headers`.
    pub(crate) async fn send_form<K: serde::Serialize, V: serde::Serialize>(
        &self,
        path: &str,
        form: &[(K, V)],
        headers: &[(&str, &str)],
    ) -> Page {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .form(form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        read(request.send().await.unwrap()).await
    }

    /// The fields a browser sends for the form posting to `action` on the page at `from`,
    /// untouched.
    async fn form_of(&self, from: &str, action: &str) -> Vec<(String, String)> {
        let page = self.get(from).await;
        assert_eq!(page.status, 200, "{from}");
        browser_form(&page.body, action)
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
        "/dashboard/subscriptions",
        "/dashboard/subscriptions/sub_x",
        "/dashboard/subscriptions/sub_x/cancel",
        "/dashboard/customers/cus_x",
        "/dashboard/settings",
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
        "/dashboard/subscriptions/sub_x/cancel",
        "/dashboard/subscriptions/sub_x/cancel-at-period-end",
        "/dashboard/subscriptions/sub_x/resume",
        "/dashboard/settings",
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
                ("metadata[0][key]", "sku"),
                ("metadata[0][value]", "MUG-1"),
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

// ----- A browser's reading of a form ---------------------------------------------------------

/// The text of an HTML attribute value or of a textarea, as a browser's parser reads it: line
/// breaks normalised to `\n`, and the character references kassa writes decoded.
fn parsed_text(raw: &str) -> String {
    raw.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in a start tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[at..].find('"')?;
    Some(parsed_text(&tag[at..at + end]))
}

/// The fields a browser sends for the form posting to `action`, with nothing edited: an
/// `<input>`'s value without line breaks (a `type="url"` one trimmed too), a `<textarea>`'s
/// text (the line break right after its tag dropped) with line breaks sent as `\r\n`, and each
/// `<select>`'s selected option, or its first.
fn browser_form(body: &str, action: &str) -> Vec<(String, String)> {
    let start = body
        .find(&format!("<form method=\"post\" action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form posting to {action}"));
    let form = &body[start..start + body[start..].find("</form>").unwrap()];
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let tag_end = rest.find('>').unwrap() + 1;
        let tag = &rest[..tag_end];
        let name = attribute(tag, "name");
        if tag.starts_with("<input ") {
            if let Some(name) = name {
                let value = attribute(tag, "value")
                    .unwrap_or_default()
                    .replace('\n', "");
                let value = if attribute(tag, "type").as_deref() == Some("url") {
                    value
                        .trim_matches(|c: char| c.is_ascii_whitespace())
                        .to_string()
                } else {
                    value
                };
                fields.push((name, value));
            }
        } else if tag.starts_with("<textarea ") {
            let end = rest.find("</textarea>").unwrap();
            let raw = &rest[tag_end..end];
            let text = parsed_text(raw.strip_prefix('\n').unwrap_or(raw));
            fields.push((name.unwrap(), text.replace('\n', "\r\n")));
            rest = &rest[end..];
        } else if tag.starts_with("<select ") {
            let end = rest.find("</select>").unwrap();
            let options: Vec<&str> = rest[tag_end..end].split("<option ").skip(1).collect();
            let chosen = options
                .iter()
                .find(|o| o.split('>').next().unwrap().contains(" selected"))
                .or(options.first())
                .unwrap();
            fields.push((
                name.unwrap(),
                attribute(&format!(" {chosen}"), "value").unwrap(),
            ));
            rest = &rest[end..];
        }
        rest = &rest[1..];
    }
    fields
}

/// Sets field `name` of a form as a browser would send what was typed (`\r\n` line breaks in a
/// textarea).
fn set(fields: &mut [(String, String)], name: &str, value: &str) {
    let field = fields
        .iter_mut()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no field {name}"));
    field.1 = value.to_string();
}

fn value_of<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    &fields.iter().find(|(n, _)| n == name).unwrap().1
}

// ----- Sign-in ---------------------------------------------------------------------------------

async fn sign_in_refuses_forms_posted_from_other_sites(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let password = user(&server, &account, "owner@acme.example").await;
    let email = "owner@acme.example";
    let form = SignInForm::open(&server).await;
    let other = SignInForm::open(&server).await;
    assert_ne!(form.token, other.token, "each browser has its own token");
    let url = format!("{}/dashboard/sign-in", server.base);
    let post = |cookie: Option<&str>, token: Option<&str>, headers: &[(&str, &str)]| {
        let mut fields = vec![("email", email), ("password", password.as_str())];
        if let Some(token) = token {
            fields.push(("csrf", token));
        }
        let mut request = client().post(&url).form(&fields);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request
    };
    // Another site's form: no cookie (SameSite=Strict keeps it home), and a token it made up
    // or took from its own visit; or kassa's token but the browser says it came from elsewhere.
    let forged: Vec<(&str, reqwest::RequestBuilder)> = vec![
        ("no cookie, no token", post(None, None, &[])),
        ("no cookie", post(None, Some(&form.token), &[])),
        ("no token", post(Some(&form.cookie), None, &[])),
        (
            "another browser's token",
            post(Some(&form.cookie), Some(&other.token), &[]),
        ),
        (
            "Sec-Fetch-Site: cross-site",
            post(
                Some(&form.cookie),
                Some(&form.token),
                &[("sec-fetch-site", "cross-site")],
            ),
        ),
        (
            "Sec-Fetch-Site: same-site",
            post(
                Some(&form.cookie),
                Some(&form.token),
                &[("sec-fetch-site", "same-site")],
            ),
        ),
        (
            "Origin of another site",
            post(
                Some(&form.cookie),
                Some(&form.token),
                &[("origin", "https://attacker.example")],
            ),
        ),
    ];
    for (what, request) in forged {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "{what}");
        let cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        assert!(
            cookies.iter().all(|c| !c.starts_with("kassa_dashboard=")),
            "{what}: not signed in: {cookies:?}"
        );
        let body = response.text().await.unwrap();
        assert!(body.contains("was sent from another site"), "{what}");
        assert!(body.contains("name=\"csrf\""), "{what}: the form again");
    }
    // Forged posts never count towards the lock: the real user still has five tries.
    for _ in 0..10 {
        let forged_wrong = client()
            .post(&url)
            .form(&[("email", email), ("password", "guess")])
            .send()
            .await
            .unwrap();
        assert_eq!(forged_wrong.status(), 403);
    }
    for _ in 0..4 {
        let wrong = form.post(&server, email, "guess").send().await.unwrap();
        assert_eq!(wrong.status(), 401);
    }
    // kassa's own page: its posts carry `Origin: null` (the pages send no referrer) and
    // `Sec-Fetch-Site: same-origin`; an `Origin` of kassa itself is fine too.
    let own = form
        .post(&server, email, &password)
        .header("origin", "null")
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 303);
    let own_origin = form
        .post(&server, email, &password)
        .header("origin", &server.base)
        .send()
        .await
        .unwrap();
    assert_eq!(own_origin.status(), 303);
}

async fn concurrent_wrong_passwords_lock_after_five(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let password = user(&server, &account, "owner@acme.example").await;
    let form = SignInForm::open(&server).await;
    let attempts = (0..24).map(|_| async {
        form.post(&server, "owner@acme.example", "guess")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    let mut statuses = futures_util::future::join_all(attempts).await;
    statuses.sort();
    // Five are checked (four refused, the fifth locks); every other one is refused unchecked.
    let wrong = statuses.iter().filter(|s| **s == 401).count();
    let locked = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((wrong, locked), (4, 20), "{statuses:?}");
    let right = form
        .post(&server, "owner@acme.example", &password)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 429, "locked even with the right password");

    // After the lock, a new count: again many at once, the right password among them.
    server.clock.advance(15 * 60 + 1);
    let wrong_ones = (0..12).map(|_| async {
        form.post(&server, "owner@acme.example", "guess")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    let statuses = futures_util::future::join_all(wrong_ones).await;
    let wrong = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(wrong, 4, "{statuses:?}");
    server.clock.advance(15 * 60 + 1);
    Dashboard::sign_in(&server, "owner@acme.example", &password).await;
    // A success starts the count again.
    for _ in 0..4 {
        let wrong = form
            .post(&server, "owner@acme.example", "guess")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
    }
    Dashboard::sign_in(&server, "owner@acme.example", &password).await;
    let wrong = form
        .post(&server, "owner@acme.example", "guess")
        .send()
        .await
        .unwrap();
    assert_eq!(
        wrong.status(),
        401,
        "the count started again after the success"
    );
}

// ----- The product form ------------------------------------------------------------------------

/// Metadata that a `key=value` text could not carry: every legal key and value.
fn awkward_metadata() -> BTreeMap<String, String> {
    [
        ("a=b", "c=d"),
        (" padded key ", "  padded value  "),
        ("multi\nline", "first\nsecond\r\nthird\rfourth"),
        ("\nleading", "\nstarts with a line break"),
        ("trailing", "ends with a line break\n"),
        ("empty", ""),
        ("html", "<b>&amp; \"quoted\" 'single'</b></textarea>"),
        ("unicode ünï 😀", "ωμέγα 😀"),
        ("tab\tkey", "tab\tvalue"),
        ("k".repeat(40).as_str(), "v".repeat(500).as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A product with every field the form shows set to text a form could spoil.
async fn awkward_product(server: &TestServer, account: &TestAccount, body: Value) -> String {
    let mut object = json!({
        "name": "Pro  Plan ✓ <Gold> & \"more\"",
        "description": "  Two\nlines with <tags> & spaces  \n",
        "images": [
            "https://cdn.example/a.png?size=2&fit=crop",
            "https://cdn.example/b.png",
            "https://cdn.example/c%20d.png",
        ],
        "metadata": awkward_metadata(),
    });
    object
        .as_object_mut()
        .unwrap()
        .extend(body.as_object().unwrap().clone());
    let created = json_with_status(
        server
            .with_key(Method::POST, "/api/v3/products", &account.test_key)
            .json(&object)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    created["id"].as_str().unwrap().to_string()
}

async fn stored_product(
    server: &TestServer,
    account: &TestAccount,
    id: &str,
) -> kassa::domain::catalog::Product {
    kassa::domain::catalog::get_product(&server.db, &account.caller(false), id)
        .await
        .unwrap()
}

async fn event_count(server: &TestServer, account: &TestAccount, id: &str) -> usize {
    kassa::store::events::events_for_object(&server.db, &account.caller(false), id)
        .await
        .unwrap()
        .len()
}

async fn saving_a_product_unchanged_changes_nothing(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let password = user(&server, &account, "owner@acme.example").await;
    let mut products = vec![
        awkward_product(
            &server,
            &account,
            json!({"amountType": "FIXED", "priceAmount": "29.99", "priceCurrency": "eur", "recurringInterval": "month"}),
        )
        .await,
        awkward_product(
            &server,
            &account,
            json!({"amountType": "CUSTOM", "minimumAmount": "5", "presetAmount": "12.50", "priceCurrency": "chf"}),
        )
        .await,
        awkward_product(&server, &account, json!({"amountType": "FREE"})).await,
    ];
    // Through the Stripe API: a product without a price, and one whose price recurs every 3
    // weeks and lets the customer choose up to 100.00 (neither is a choice of the form).
    let bare = json_with_status(
        server
            .form(&account, Method::POST, "/v1/products", "name=Bare")
            .await,
        200,
    )
    .await;
    products.push(bare["id"].as_str().unwrap().to_string());
    let weekly = json_with_status(
        server
            .form(&account, Method::POST, "/v1/products", "name=Weekly+box")
            .await,
        200,
    )
    .await;
    let weekly_id = weekly["id"].as_str().unwrap().to_string();
    let price = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/prices",
                &format!(
                    "product={weekly_id}&currency=usd&unit_amount=1500&recurring[interval]=week&recurring[interval_count]=3"
                ),
            )
            .await,
        200,
    )
    .await;
    json_with_status(
        server
            .form(
                &account,
                Method::POST,
                &format!("/v1/products/{weekly_id}"),
                &format!("default_price={}", price["id"].as_str().unwrap()),
            )
            .await,
        200,
    )
    .await;
    products.push(weekly_id);

    let dashboard = Dashboard::sign_in(&server, "owner@acme.example", &password).await;
    // A save that wrote anything would show in `updated`.
    server.clock.advance(60);
    for id in &products {
        let before = stored_product(&server, &account, id).await;
        let events = event_count(&server, &account, id).await;
        let path = format!("/dashboard/products/{id}");
        let fields = dashboard.form_of(&path, &path).await;
        let saved = dashboard.send_form(&path, &fields, &[]).await;
        assert_eq!(saved.status, 303, "{id}: {}", saved.body);
        assert_eq!(
            stored_product(&server, &account, id).await,
            before,
            "{id}: saved unchanged, every field stays as it was"
        );
        assert_eq!(
            event_count(&server, &account, id).await,
            events,
            "{id}: no event"
        );
        // The page shows the product as it is: its own form, sent back again, still changes nothing.
        let again = dashboard.form_of(&path, &path).await;
        assert_eq!(again, fields, "{id}");
    }
    let bare_page = dashboard
        .get(&format!("/dashboard/products/{}", products[3]))
        .await;
    assert!(
        bare_page
            .body
            .contains("<option value=\"\" selected>No price</option>")
    );
    let weekly_page = dashboard
        .get(&format!("/dashboard/products/{}", products[4]))
        .await;
    assert!(weekly_page.body.contains("selected>Every 3 weeks</option>"));
}

async fn product_edits_change_exactly_the_fields_edited(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let password = user(&server, &account, "owner@acme.example").await;
    let id = awkward_product(
        &server,
        &account,
        json!({"amountType": "FIXED", "priceAmount": "29.99", "priceCurrency": "eur"}),
    )
    .await;
    let dashboard = Dashboard::sign_in(&server, "owner@acme.example", &password).await;
    let path = format!("/dashboard/products/{id}");
    let before = stored_product(&server, &account, &id).await;
    let row = |key: &str| before.metadata.0.keys().position(|k| k == key).unwrap();

    // One value edited (typed with a line break), one key cleared, one key added in an empty
    // row, an image removed: the rest stays byte for byte.
    let mut fields = dashboard.form_of(&path, &path).await;
    set(
        &mut fields,
        &format!("metadata[{}][value]", row("a=b")),
        "new\r\nvalue",
    );
    set(&mut fields, &format!("metadata[{}][key]", row("empty")), "");
    let rows = before.metadata.0.len();
    set(
        &mut fields,
        &format!("metadata[{rows}][key]"),
        " added=key ",
    );
    set(&mut fields, &format!("metadata[{rows}][value]"), " v\r\n2 ");
    set(&mut fields, "images[1]", "");
    let saved = dashboard.send_form(&path, &fields, &[]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let after = stored_product(&server, &account, &id).await;
    let mut expected = awkward_metadata();
    expected.insert("a=b".into(), "new\nvalue".into());
    expected.remove("empty");
    expected.insert(" added=key ".into(), " v\n2 ".into());
    assert_eq!(after.metadata.0, expected);
    assert_eq!(
        after.images,
        [
            "https://cdn.example/a.png?size=2&fit=crop",
            "https://cdn.example/c%20d.png"
        ]
    );
    assert_eq!(after.name, before.name);
    assert_eq!(after.description, before.description);
    assert_eq!(
        after.default_price, before.default_price,
        "the price was not touched"
    );

    // The price alone: a new default price, the old one kept for sessions made with it.
    let mut fields = dashboard.form_of(&path, &path).await;
    set(&mut fields, "priceAmount", "31.00");
    assert_eq!(dashboard.send_form(&path, &fields, &[]).await.status, 303);
    let repriced = stored_product(&server, &account, &id).await;
    let price = repriced.default_price.as_ref().unwrap();
    assert_eq!(price.terms.unit_amount, Some(3100));
    assert_eq!(price.terms.currency.as_str(), "eur");
    assert_ne!(
        Some(&price.id),
        before.default_price.as_ref().map(|p| &p.id)
    );
    assert_eq!(repriced.metadata, after.metadata);

    // Mistakes are named, and the form comes back as it was sent; nothing is saved.
    let mut fields = dashboard.form_of(&path, &path).await;
    let empty_row = repriced.metadata.0.len();
    set(
        &mut fields,
        &format!("metadata[{empty_row}][value]"),
        "orphan",
    );
    let refused = dashboard.send_form(&path, &fields, &[]).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("needs a key"), "{}", refused.body);
    let shown_again = browser_form(&refused.body, &path);
    assert_eq!(
        value_of(&shown_again, &format!("metadata[{empty_row}][value]")),
        "orphan"
    );
    let mut fields = dashboard.form_of(&path, &path).await;
    set(&mut fields, &format!("metadata[{empty_row}][key]"), "a=b");
    set(
        &mut fields,
        &format!("metadata[{empty_row}][value]"),
        "twice",
    );
    let refused = dashboard.send_form(&path, &fields, &[]).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("is given twice"), "{}", refused.body);
    let mut fields = dashboard.form_of(&path, &path).await;
    set(&mut fields, "priceAmount", "");
    let refused = dashboard.send_form(&path, &fields, &[]).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("priceAmount"), "{}", refused.body);
    assert_eq!(stored_product(&server, &account, &id).await, repriced);

    // A post with only some of the fields (not the page's own form) changes only those.
    let partial = dashboard.post(&path, &path, &[("name", "Renamed")]).await;
    assert_eq!(partial.status, 303, "{}", partial.body);
    let renamed = stored_product(&server, &account, &id).await;
    assert_eq!(renamed.name, "Renamed");
    assert_eq!(
        (renamed.description, renamed.images, renamed.metadata),
        (repriced.description, repriced.images, repriced.metadata)
    );
    assert_eq!(renamed.default_price, repriced.default_price);

    // A Stripe price's maximum survives a change of the Loops fields.
    let custom = json_with_status(
        server
            .form(&account, Method::POST, "/v1/products", "name=Tip+jar")
            .await,
        200,
    )
    .await;
    let custom_id = custom["id"].as_str().unwrap();
    let price = json_with_status(
        server
            .form(
                &account,
                Method::POST,
                "/v1/prices",
                &format!(
                    "product={custom_id}&currency=usd&custom_unit_amount[enabled]=true&custom_unit_amount[minimum]=100&custom_unit_amount[maximum]=10000"
                ),
            )
            .await,
        200,
    )
    .await;
    server
        .form(
            &account,
            Method::POST,
            &format!("/v1/products/{custom_id}"),
            &format!("default_price={}", price["id"].as_str().unwrap()),
        )
        .await;
    let custom_path = format!("/dashboard/products/{custom_id}");
    let mut fields = dashboard.form_of(&custom_path, &custom_path).await;
    set(&mut fields, "presetAmount", "20");
    assert_eq!(
        dashboard.send_form(&custom_path, &fields, &[]).await.status,
        303
    );
    let tip_jar = stored_product(&server, &account, custom_id).await;
    let custom = tip_jar.default_price.unwrap().terms.custom.unwrap();
    assert_eq!(
        (custom.minimum, custom.preset, custom.maximum),
        (Some(100), Some(2000), Some(10000))
    );

    // A new product with metadata of every kind, typed into the empty rows.
    let mut fields = dashboard
        .form_of("/dashboard/products/new", "/dashboard/products")
        .await;
    set(&mut fields, "name", "Typed");
    set(&mut fields, "priceAmount", "3.00");
    set(&mut fields, "metadata[0][key]", " spaced = key ");
    set(
        &mut fields,
        "metadata[0][value]",
        "line one\r\nline two = 2 ",
    );
    let created = dashboard
        .send_form("/dashboard/products", &fields, &[])
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let new_id = created
        .location
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let typed = stored_product(&server, &account, &new_id).await;
    assert_eq!(
        typed.metadata.0,
        BTreeMap::from([(
            " spaced = key ".to_string(),
            "line one\nline two = 2 ".to_string()
        )])
    );
}

// ----- Other forms -----------------------------------------------------------------------------

async fn page_forms_ignore_the_idempotency_key(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let password = user(&server, &account, "owner@acme.example").await;
    let key = [("idempotency-key", "form-1")];

    // Sign-in, with the header: it signs in (a header meant for the API is no reason to fail).
    let form = SignInForm::open(&server).await;
    let response = form
        .post(&server, "owner@acme.example", &password)
        .header("idempotency-key", "form-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    let dashboard = Dashboard {
        http: client(),
        base: server.base.clone(),
        cookie: cookie.split(';').next().unwrap().to_string(),
    };
    let token = csrf_of(&dashboard.get("/dashboard").await.body);
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        let dashboard = &dashboard;
        let token = token.clone();
        async move {
            let mut form = vec![("csrf", token)];
            form.extend(fields);
            let page = dashboard.send_form(&path, &form, &key).await;
            assert_ne!(page.status, 401, "{path}: {}", page.body);
            assert!(
                page.status == 303 || page.status == 200,
                "{path}: {} {}",
                page.status,
                page.body
            );
            page
        }
    };

    // The same key twice: each post is its own form submission and runs.
    let product = |name: &'static str| {
        vec![
            ("name", name.to_string()),
            ("amountType", "FIXED".into()),
            ("priceCurrency", "usd".into()),
            ("priceAmount", "9.00".into()),
        ]
    };
    let first = post("/dashboard/products".into(), product("First")).await;
    let second = post("/dashboard/products".into(), product("Second")).await;
    assert_ne!(first.location, second.location);
    let product_path = first.location.unwrap();
    let product_id = product_path.rsplit('/').next().unwrap().to_string();
    let mut fields = dashboard.form_of(&product_path, &product_path).await;
    set(&mut fields, "name", "First, renamed");
    let renamed = dashboard.send_form(&product_path, &fields, &key).await;
    assert_eq!(renamed.status, 303, "{}", renamed.body);
    assert_eq!(
        stored_product(&server, &account, &product_id).await.name,
        "First, renamed"
    );
    post(
        "/dashboard/links".into(),
        vec![("product", product_id.clone())],
    )
    .await;
    let links = dashboard.get("/dashboard/links").await;
    let at = links.body.find("/l/pl_").unwrap() + 3;
    let link_id = links.body[at..].split('<').next().unwrap().to_string();
    post(format!("/dashboard/links/{link_id}/deactivate"), vec![]).await;
    let added = post(
        "/dashboard/webhooks".into(),
        vec![
            ("url", "https://shop.example/hooks".into()),
            ("events", "checkout.session.completed".into()),
        ],
    )
    .await;
    let endpoint_path = added.location.unwrap();
    for action in ["secret", "roll", "disable", "enable"] {
        post(format!("{endpoint_path}/{action}"), vec![]).await;
    }
    let created = post("/dashboard/keys".into(), vec![]).await;
    assert!(created.body.contains("sk_test_"));
    let keys = kassa::domain::accounts::list_keys(&server.db, &account.id)
        .await
        .unwrap();
    let newest = keys.iter().max_by_key(|k| k.created).unwrap();
    post(format!("/dashboard/keys/{}/revoke", newest.id), vec![]).await;
    post(format!("{product_path}/archive"), vec![]).await;
    post("/dashboard/mode".into(), vec![("mode", "live".into())]).await;
    post("/dashboard/sign-out".into(), vec![]).await;
    assert_eq!(dashboard.get("/dashboard").await.status, 303, "signed out");
}

async fn webhook_form_follows_the_test_private_rule(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let server = TestServer::start_configured(database, |config| {
        config.webhooks_test_private = kassa::config::TestPrivate::Deny;
    })
    .await;
    let account = server.account("Acme").await;
    let password = user(&server, &account, "owner@acme.example").await;
    let dashboard = Dashboard::sign_in(&server, "owner@acme.example", &password).await;
    let refused = dashboard
        .post(
            "/dashboard/webhooks",
            "/dashboard/webhooks",
            &[("url", "http://127.0.0.1:3000/hooks"), ("events", "*")],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("loopback, private or link-local"),
        "{}",
        refused.body
    );
    // The description is kept as typed.
    let added = dashboard
        .post(
            "/dashboard/webhooks",
            "/dashboard/webhooks",
            &[
                ("url", "https://shop.example/hooks"),
                ("events", "checkout.session.completed"),
                ("description", "  Orders = team  "),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let id = added
        .location
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let endpoint = json_with_status(
        server
            .with_key(
                Method::GET,
                &format!("/v1/webhook_endpoints/{id}"),
                &account.test_key,
            )
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(endpoint["description"], "  Orders = team  ");
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
