//! The catalog over HTTP: products, prices and payment links on Loops V2, Loops V3 and the
//! Stripe surface, read and written across surfaces, validated, paged and kept apart by account
//! and mode.

use std::collections::HashSet;

use kassa::clock::Clock as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Engine, TestServer, json_with_status, on_both_engines};

on_both_engines!(
    a_v3_product_reads_alike_on_every_surface,
    loops_v2_products_are_created_read_and_updated,
    loops_v3_products_are_updated_and_archived,
    stripe_products_are_created_updated_and_deleted,
    stripe_prices_are_created_in_every_form,
    price_lookup_keys_are_unique_per_account_and_mode,
    stripe_price_updates_change_only_what_may_change,
    stripe_price_lists_filter,
    v3_payment_links_sell_products_or_prices,
    stripe_payment_links_speak_forms,
    payment_links_refuse_what_cannot_be_sold,
    v2_product_lists_filter_and_page_by_offset,
    product_lists_page_by_offset_and_by_cursor_both_ways,
    cursor_paging_skips_nothing_while_products_are_created,
    price_and_payment_link_lists_page_by_cursor,
    list_limits_are_checked,
    loops_product_limits_name_the_parameter,
    loops_product_limits_accept_their_boundaries,
    stripe_catalog_limits_name_the_parameter,
    amounts_follow_the_currency_exponent,
    unknown_ids_are_404_in_each_surface_shape,
    other_accounts_and_modes_see_nothing,
    catalog_routes_are_documented,
);

// ----- Helpers -----------------------------------------------------------------------------------

/// Requests made with one secret key.
struct Api<'a> {
    server: &'a TestServer,
    key: &'a str,
}

impl<'a> Api<'a> {
    fn new(server: &'a TestServer, key: &'a str) -> Api<'a> {
        Api { server, key }
    }

    async fn get(&self, path: &str, status: u16) -> Value {
        let response = self
            .server
            .with_key(Method::GET, path, self.key)
            .send()
            .await
            .unwrap();
        json_with_status(response, status).await
    }

    async fn delete(&self, path: &str, status: u16) -> Value {
        let response = self
            .server
            .with_key(Method::DELETE, path, self.key)
            .send()
            .await
            .unwrap();
        json_with_status(response, status).await
    }

    /// A JSON request (`/api/*`).
    async fn json(&self, method: Method, path: &str, body: Value, status: u16) -> Value {
        let response = self
            .server
            .with_key(method, path, self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        json_with_status(response, status).await
    }

    async fn post(&self, path: &str, body: Value, status: u16) -> Value {
        self.json(Method::POST, path, body, status).await
    }

    async fn put(&self, path: &str, body: Value, status: u16) -> Value {
        self.json(Method::PUT, path, body, status).await
    }

    /// A form-encoded POST, as the Stripe SDKs send (`/v1`).
    async fn form(&self, path: &str, pairs: &[(&str, &str)], status: u16) -> Value {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let response = self
            .server
            .with_key(Method::POST, path, self.key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        json_with_status(response, status).await
    }

    /// A POST of an already encoded form body (`name=P&metadata[k]=v`).
    async fn form_text(&self, path: &str, body: &str, status: u16) -> Value {
        let response = self
            .server
            .with_key(Method::POST, path, self.key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        json_with_status(response, status).await
    }

    /// Creates a V3 product and returns it.
    async fn v3_product(&self, body: Value) -> Value {
        self.post("/api/v3/products", body, 200).await
    }

    /// Creates a FIXED V3 product in `currency` and returns (product id, default price id).
    async fn priced_product(&self, name: &str, amount: &str, currency: &str) -> (String, String) {
        let product = self
            .v3_product(json!({"name": name, "priceAmount": amount, "priceCurrency": currency}))
            .await;
        (
            text(&product["id"]).to_string(),
            text(&product["default_price"]).to_string(),
        )
    }

    /// Creates a /v1 price for `product` and returns it.
    async fn price(&self, product: &str, extra: &[(&str, &str)]) -> Value {
        let mut pairs = vec![("product", product)];
        pairs.extend_from_slice(extra);
        self.form("/v1/prices", &pairs, 200).await
    }
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
}

/// The `id`s of a list's objects, in order: `data` (V3, /v1) or `products` (V2).
fn ids(list: &Value) -> Vec<String> {
    let items = list
        .get("data")
        .or_else(|| list.get("products"))
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("not a list: {list}"));
    items.iter().map(|o| text(&o["id"]).to_string()).collect()
}

/// The code of a refused value of `param`: Stripe's `url_invalid` for URLs.
fn invalid_code(param: &str) -> &'static str {
    let is_url = param.starts_with("images[")
        || param == "url"
        || param.ends_with("Url")
        || param.ends_with("_url");
    if is_url {
        "url_invalid"
    } else {
        "parameter_invalid"
    }
}

/// Asserts a Stripe-shaped error (V3 and /v1) with `code` naming `param`; returns its message.
/// An empty `code` expects none, as Stripe answers a value kassa does not support.
fn stripe_error(body: &Value, code: &str, param: &str) -> String {
    let error = body["error"]
        .as_object()
        .unwrap_or_else(|| panic!("not a Stripe error: {body}"));
    assert_eq!(error["type"], "invalid_request_error", "{body}");
    if code.is_empty() {
        assert!(error.get("code").is_none(), "{body}");
    } else {
        assert_eq!(error["code"], code, "{body}");
    }
    assert_eq!(error["param"], param, "{body}");
    assert!(body.get("statusCode").is_none(), "{body}");
    text(&error["message"]).to_string()
}

/// Asserts a Loops-shaped error (V1/V2) with `code` naming `param`; returns its message.
fn loops_error(body: &Value, status: u16, code: &str, param: &str) -> String {
    let reason = match status {
        400 => "Bad Request",
        404 => "Not Found",
        other => panic!("no reason phrase for {other} here"),
    };
    assert_eq!(body["statusCode"], status, "{body}");
    assert_eq!(body["error"], reason, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["param"], param, "{body}");
    let keys: HashSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        HashSet::from(["statusCode", "error", "message", "code", "param"]),
        "{body}"
    );
    text(&body["message"]).to_string()
}

/// ISO-8601 as V2 writes it.
fn iso8601(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Appends `name=value` to a path that may already have a query.
fn with_param(path: &str, name: &str, value: impl std::fmt::Display) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}{name}={value}")
}

/// Walks a list from the newest object toward the oldest, `limit` at a time, moving the cursor
/// with `cursor_param`; `between_pages` runs after each page. Returns the ids in the order seen.
async fn walk_older<F, Fut>(
    api: &Api<'_>,
    path: &str,
    cursor_param: &str,
    limit: usize,
    mut between_pages: F,
) -> Vec<String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut page_path = with_param(path, "limit", limit);
        if let Some(cursor) = &cursor {
            page_path = with_param(&page_path, cursor_param, cursor);
        }
        let page = api.get(&page_path, 200).await;
        assert_eq!(page["object"], "list", "{page}");
        let page_ids = ids(&page);
        assert!(page_ids.len() <= limit, "{page}");
        seen.extend(page_ids.iter().cloned());
        if page["has_more"] == false {
            return seen;
        }
        assert_eq!(page["has_more"], true, "{page}");
        assert_eq!(page_ids.len(), limit, "a page with more to come is full");
        cursor = page_ids.last().cloned();
        between_pages().await;
    }
    panic!("the list never ended");
}

/// Walks a list from just after `oldest` toward the newest object with `ending_before`;
/// `between_pages` runs after each page. Returns the ids newest first.
async fn walk_newer<F, Fut>(
    api: &Api<'_>,
    path: &str,
    oldest: &str,
    limit: usize,
    mut between_pages: F,
) -> Vec<String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut cursor = oldest.to_string();
    for _ in 0..100 {
        let page_path = with_param(&with_param(path, "limit", limit), "ending_before", &cursor);
        let page = api.get(&page_path, 200).await;
        let page_ids = ids(&page);
        assert!(page_ids.len() <= limit, "{page}");
        let has_more = page["has_more"].as_bool().expect("has_more");
        if let Some(first) = page_ids.first() {
            cursor = first.clone();
        }
        pages.push(page_ids);
        if !has_more {
            return pages.into_iter().rev().flatten().collect();
        }
        assert_eq!(
            pages.last().unwrap().len(),
            limit,
            "a page with more to come is full"
        );
        between_pages().await;
    }
    panic!("the list never ended");
}

/// Asserts every id appears once.
fn assert_unique(ids: &[String]) {
    let mut seen = HashSet::new();
    for id in ids {
        assert!(seen.insert(id), "{id} was listed twice");
    }
}

// ----- 1. One product, every surface -------------------------------------------------------------

async fn a_v3_product_reads_alike_on_every_surface(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);

    let created = api
        .v3_product(json!({"name": "Pro", "priceAmount": 29.99, "priceCurrency": "usd", "amountType": "FIXED"}))
        .await;
    let id = text(&created["id"]).to_string();
    let price_id = text(&created["default_price"]).to_string();
    assert!(id.starts_with("prod_"), "{id}");
    assert!(price_id.starts_with("price_"), "{price_id}");
    assert_eq!(created["object"], "product");
    assert_eq!(created["name"], "Pro");
    assert_eq!(created["active"], true);
    assert_eq!(created["livemode"], false);
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["amountType"], "FIXED");
    assert_eq!(created["priceAmount"], "29.99");
    assert_eq!(created["priceCurrency"], "usd");
    assert_eq!(created["minimumAmount"], Value::Null);
    assert_eq!(created["recurringInterval"], Value::Null);
    assert_eq!(created["merchantId"], account.id);
    assert_eq!(created["created"], server.clock.now());

    let price = api.get(&format!("/v1/prices/{price_id}"), 200).await;
    assert_eq!(price["object"], "price");
    assert_eq!(price["unit_amount"], 2999);
    assert_eq!(price["unit_amount_decimal"], "2999");
    assert_eq!(price["currency"], "usd");
    assert_eq!(price["product"], id);
    assert_eq!(price["type"], "one_time");
    assert_eq!(price["active"], true);
    assert_eq!(price["recurring"], Value::Null);
    assert_eq!(price["custom_unit_amount"], Value::Null);

    // V3 and /v1 show the one canonical object.
    assert_eq!(
        api.get(&format!("/api/v3/products/{id}"), 200).await,
        created
    );
    assert_eq!(api.get(&format!("/v1/products/{id}"), 200).await, created);

    let expanded = api
        .get(&format!("/v1/products/{id}?expand[]=default_price"), 200)
        .await;
    assert_eq!(expanded["default_price"]["id"], price_id);
    assert_eq!(expanded["default_price"]["unit_amount"], 2999);
    let expanded = api
        .get(
            &format!("/api/v3/products/{id}?expand[]=default_price"),
            200,
        )
        .await;
    assert_eq!(expanded["default_price"], price);

    let v2 = api.get(&format!("/api/v2/products/{id}"), 200).await;
    assert_eq!(v2["id"], id);
    assert_eq!(v2["name"], "Pro");
    assert_eq!(v2["amountType"], "FIXED");
    assert_eq!(v2["priceAmount"], "29.99");
    assert_eq!(v2["priceCurrency"], "USD");
    assert_eq!(v2["status"], "ACTIVE");
    assert_eq!(v2["merchantId"], account.id);
    assert_eq!(v2["createdAt"], iso8601(server.clock.now()));
    assert!(
        v2.get("object").is_none() && v2.get("default_price").is_none(),
        "{v2}"
    );

    // And the other way round: a /v1 product reads in Loops terms.
    let stripe = api
        .form(
            "/v1/products",
            &[
                ("name", "Basic"),
                ("default_price_data[currency]", "eur"),
                ("default_price_data[unit_amount]", "1050"),
            ],
            200,
        )
        .await;
    let stripe_id = text(&stripe["id"]);
    let v2 = api.get(&format!("/api/v2/products/{stripe_id}"), 200).await;
    assert_eq!(v2["priceAmount"], "10.50");
    assert_eq!(v2["priceCurrency"], "EUR");
    assert_eq!(v2["amountType"], "FIXED");
    let v3 = api.get(&format!("/api/v3/products/{stripe_id}"), 200).await;
    assert_eq!(v3["priceAmount"], "10.50");
    assert_eq!(v3["priceCurrency"], "eur");
}

// ----- 2. Create, read, update, archive ----------------------------------------------------------

async fn loops_v2_products_are_created_read_and_updated(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);

    let created = api
        .post(
            "/api/v2/products",
            json!({"name": "Course", "description": "Ten lessons", "priceAmount": "49", "priceCurrency": "eur",
                   "metadata": {"sku": "c-1", "lessons": 10}}),
            200,
        )
        .await;
    let id = text(&created["id"]).to_string();
    assert!(id.starts_with("prod_"));
    assert_eq!(created["name"], "Course");
    assert_eq!(created["description"], "Ten lessons");
    assert_eq!(created["amountType"], "FIXED");
    assert_eq!(created["priceAmount"], "49.00");
    assert_eq!(created["priceCurrency"], "EUR");
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["metadata"], json!({"sku": "c-1", "lessons": "10"}));
    assert_eq!(created["images"], json!([]));
    assert_eq!(created["livemode"], false);
    assert_eq!(created["createdAt"], iso8601(server.clock.now()));
    assert_eq!(created["updatedAt"], created["createdAt"]);
    assert_eq!(
        api.get(&format!("/api/v2/products/{id}"), 200).await,
        created
    );

    let path = format!("/api/v2/products/{id}");
    let default_price = |product: Value| text(&product["default_price"]).to_string();
    let old_price = default_price(api.get(&format!("/api/v3/products/{id}"), 200).await);

    // A new amount is a new default price; the old one stays as it was, inactive.
    server.clock.advance(60);
    let updated = api.put(&path, json!({"priceAmount": 59.5}), 200).await;
    assert_eq!(updated["priceAmount"], "59.50");
    assert_eq!(updated["priceCurrency"], "EUR");
    assert_eq!(updated["name"], "Course");
    assert_eq!(updated["description"], "Ten lessons");
    assert_eq!(updated["metadata"], created["metadata"]);
    assert_eq!(updated["createdAt"], created["createdAt"]);
    assert_eq!(updated["updatedAt"], iso8601(server.clock.now()));
    let new_price = default_price(api.get(&format!("/api/v3/products/{id}"), 200).await);
    assert_ne!(new_price, old_price);
    let old = api.get(&format!("/v1/prices/{old_price}"), 200).await;
    assert_eq!(old["active"], false);
    assert_eq!(old["unit_amount"], 4900);
    assert_eq!(old["currency"], "eur");
    let new = api.get(&format!("/v1/prices/{new_price}"), 200).await;
    assert_eq!(new["active"], true);
    assert_eq!(new["unit_amount"], 5950);
    assert_eq!(new["product"], id);
    assert_eq!(new["created"], server.clock.now());

    // Other fields leave the price alone; Loops metadata is replaced as a whole.
    let renamed = api
        .put(
            &path,
            json!({"name": "Course 2", "metadata": {"sku": "c-2"}}),
            200,
        )
        .await;
    assert_eq!(renamed["name"], "Course 2");
    assert_eq!(renamed["metadata"], json!({"sku": "c-2"}));
    assert_eq!(renamed["priceAmount"], "59.50");
    let same_amount = api.put(&path, json!({"priceAmount": "59.50"}), 200).await;
    assert_eq!(same_amount["priceAmount"], "59.50");
    assert_eq!(
        default_price(api.get(&format!("/api/v3/products/{id}"), 200).await),
        new_price,
        "restating the amount makes no new price"
    );

    let cleared = api
        .put(
            &path,
            json!({"description": null, "status": "INACTIVE"}),
            200,
        )
        .await;
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["status"], "INACTIVE");
    assert_eq!(
        api.get(&format!("/api/v3/products/{id}"), 200).await["active"],
        false
    );
    assert_eq!(api.get(&path, 200).await, cleared);
}

async fn loops_v3_products_are_updated_and_archived(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);

    let created = api
        .v3_product(json!({"name": "Seat", "priceAmount": 10, "recurringInterval": "month"}))
        .await;
    let id = text(&created["id"]).to_string();
    let path = format!("/api/v3/products/{id}");
    assert_eq!(
        created["priceCurrency"], "usd",
        "usd is the default currency"
    );
    assert_eq!(created["recurringInterval"], "month");
    let first_price = text(&created["default_price"]).to_string();
    let first = api.get(&format!("/v1/prices/{first_price}"), 200).await;
    assert_eq!(first["type"], "recurring");
    assert_eq!(first["recurring"]["interval"], "month");
    assert_eq!(first["recurring"]["interval_count"], 1);
    assert_eq!(first["unit_amount"], 1000);

    // A new amount keeps the interval, on a new price.
    let updated = api.put(&path, json!({"priceAmount": 12}), 200).await;
    let second_price = text(&updated["default_price"]).to_string();
    assert_ne!(second_price, first_price);
    assert_eq!(updated["priceAmount"], "12.00");
    assert_eq!(updated["recurringInterval"], "month");
    let first = api.get(&format!("/v1/prices/{first_price}"), 200).await;
    assert_eq!(first["active"], false);
    assert_eq!(first["unit_amount"], 1000);
    let second = api.get(&format!("/v1/prices/{second_price}"), 200).await;
    assert_eq!(second["unit_amount"], 1200);
    assert_eq!(second["recurring"]["interval"], "month");
    assert_eq!(second["active"], true);

    // Unchanged terms make no new price.
    let renamed = api
        .put(&path, json!({"name": "Seat+", "priceAmount": 12}), 200)
        .await;
    assert_eq!(renamed["name"], "Seat+");
    assert_eq!(renamed["default_price"], second_price);

    // null removes the interval: a one-time price.
    let one_time = api
        .put(&path, json!({"recurringInterval": null}), 200)
        .await;
    assert_eq!(one_time["recurringInterval"], Value::Null);
    let third_price = text(&one_time["default_price"]).to_string();
    assert_ne!(third_price, second_price);
    let third = api.get(&format!("/v1/prices/{third_price}"), 200).await;
    assert_eq!(third["type"], "one_time");
    assert_eq!(third["unit_amount"], 1200);

    // CUSTOM and FREE.
    let custom = api
        .put(
            &path,
            json!({"amountType": "CUSTOM", "minimumAmount": 5, "presetAmount": "20"}),
            200,
        )
        .await;
    assert_eq!(custom["amountType"], "CUSTOM");
    assert_eq!(custom["priceAmount"], Value::Null);
    assert_eq!(custom["minimumAmount"], "5.00");
    assert_eq!(custom["presetAmount"], "20.00");
    let custom_price = api
        .get(
            &format!("/v1/prices/{}", text(&custom["default_price"])),
            200,
        )
        .await;
    assert_eq!(custom_price["unit_amount"], Value::Null);
    assert_eq!(
        custom_price["custom_unit_amount"],
        json!({"minimum": 500, "maximum": null, "preset": 2000})
    );
    let free = api.put(&path, json!({"amountType": "FREE"}), 200).await;
    assert_eq!(free["amountType"], "FREE");
    assert_eq!(free["priceAmount"], Value::Null);
    assert_eq!(free["minimumAmount"], Value::Null);
    let free_price = api
        .get(&format!("/v1/prices/{}", text(&free["default_price"])), 200)
        .await;
    assert_eq!(free_price["unit_amount"], 0);

    // DELETE archives: the product stays readable everywhere, inactive.
    let archived = api.delete(&path, 200).await;
    assert_eq!(archived["id"], id);
    assert_eq!(archived["active"], false);
    assert_eq!(archived["status"], "INACTIVE");
    assert_eq!(archived["name"], "Seat+");
    assert_eq!(api.get(&path, 200).await, archived);
    assert_eq!(
        api.get(&format!("/api/v2/products/{id}"), 200).await["status"],
        "INACTIVE"
    );
    assert_eq!(
        api.get(&format!("/v1/products/{id}"), 200).await["active"],
        false
    );
    let active = api.get("/api/v3/products?status=ACTIVE", 200).await;
    assert!(!ids(&active).contains(&id), "{active}");
    let inactive = api.get("/api/v3/products?active=false", 200).await;
    assert_eq!(ids(&inactive), vec![id.clone()]);
    // Archiving twice changes nothing; a PUT brings it back.
    assert_eq!(api.delete(&path, 200).await["status"], "INACTIVE");
    let revived = api.put(&path, json!({"status": "ACTIVE"}), 200).await;
    assert_eq!(revived["active"], true);
    let draft = api.put(&path, json!({"status": "draft"}), 200).await;
    assert_eq!(draft["status"], "DRAFT");
    assert_eq!(draft["active"], false);
}

async fn stripe_products_are_created_updated_and_deleted(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);

    let created = api
        .form(
            "/v1/products",
            &[
                ("name", "Widget"),
                ("description", "A blue widget"),
                ("metadata[color]", "blue"),
                ("metadata[size]", "m"),
                ("default_price_data[currency]", "usd"),
                ("default_price_data[unit_amount]", "1500"),
                ("images[0]", "https://img.example/w.png"),
                ("statement_descriptor", "WIDGETS"),
                ("unit_label", "piece"),
                ("shippable", "true"),
                ("type", "good"),
                ("url", "https://shop.example/widget"),
            ],
            200,
        )
        .await;
    let id = text(&created["id"]).to_string();
    let path = format!("/v1/products/{id}");
    assert_eq!(created["object"], "product");
    assert_eq!(created["name"], "Widget");
    assert_eq!(created["description"], "A blue widget");
    assert_eq!(created["metadata"], json!({"color": "blue", "size": "m"}));
    assert_eq!(created["images"], json!(["https://img.example/w.png"]));
    assert_eq!(created["statement_descriptor"], "WIDGETS");
    assert_eq!(created["unit_label"], "piece");
    assert_eq!(created["shippable"], true);
    assert_eq!(created["type"], "good");
    assert_eq!(created["url"], "https://shop.example/widget");
    assert_eq!(created["active"], true);
    assert_eq!(created["priceAmount"], "15.00");
    let price_id = text(&created["default_price"]).to_string();
    let price = api.get(&format!("/v1/prices/{price_id}"), 200).await;
    assert_eq!(price["unit_amount"], 1500);
    assert_eq!(price["currency"], "usd");
    assert_eq!(price["product"], id);

    // Updates merge metadata (an empty value removes a key) and clear with empty values.
    let updated = api
        .form(
            &path,
            &[
                ("metadata[color]", ""),
                ("metadata[weight]", "2kg"),
                ("description", ""),
                ("name", "Widget Pro"),
            ],
            200,
        )
        .await;
    assert_eq!(updated["metadata"], json!({"size": "m", "weight": "2kg"}));
    assert_eq!(updated["description"], Value::Null);
    assert_eq!(updated["name"], "Widget Pro");
    assert_eq!(updated["images"], created["images"]);
    assert_eq!(updated["url"], created["url"]);
    assert_eq!(updated["default_price"], price_id);
    assert_eq!(api.get(&path, 200).await, updated);

    let inactive = api.form(&path, &[("active", "false")], 200).await;
    assert_eq!(inactive["active"], false);
    assert_eq!(inactive["status"], "INACTIVE");
    assert_eq!(
        api.form(&path, &[("active", "true")], 200).await["active"],
        true
    );

    let error = api.form(&path, &[("type", "service")], 400).await;
    stripe_error(&error, "parameter_invalid", "type");
    let error = api
        .form(
            &path,
            &[
                ("default_price_data[currency]", "usd"),
                ("default_price_data[unit_amount]", "1"),
            ],
            400,
        )
        .await;
    stripe_error(&error, "parameter_invalid", "default_price_data");

    // default_price takes another price of the product; the previous one stays active.
    let second = api
        .price(&id, &[("currency", "usd"), ("unit_amount", "2000")])
        .await;
    let second_id = text(&second["id"]);
    let switched = api.form(&path, &[("default_price", second_id)], 200).await;
    assert_eq!(switched["default_price"], second_id);
    assert_eq!(switched["priceAmount"], "20.00");
    assert_eq!(
        api.get(&format!("/api/v2/products/{id}"), 200).await["priceAmount"],
        "20.00"
    );
    assert_eq!(
        api.get(&format!("/v1/prices/{price_id}"), 200).await["active"],
        true
    );
    let (_, foreign_price) = api.priced_product("Other", "5", "usd").await;
    let error = api
        .form(&path, &[("default_price", &foreign_price)], 400)
        .await;
    stripe_error(&error, "parameter_invalid", "default_price");
    let error = api
        .form(&path, &[("default_price", "price_nope")], 400)
        .await;
    let message = stripe_error(&error, "resource_missing", "default_price");
    assert_eq!(message, "No such price: 'price_nope'");
    assert_eq!(api.get(&path, 200).await["default_price"], second_id);

    // A product without prices can be deleted; then it is gone everywhere.
    let bare = api.form("/v1/products", &[("name", "Bare")], 200).await;
    let bare_id = text(&bare["id"]).to_string();
    assert_eq!(bare["default_price"], Value::Null);
    assert_eq!(bare["amountType"], Value::Null);
    assert_eq!(bare["priceAmount"], Value::Null);
    assert_eq!(bare["priceCurrency"], Value::Null);
    let deleted = api.delete(&format!("/v1/products/{bare_id}"), 200).await;
    assert_eq!(
        deleted,
        json!({"id": bare_id, "object": "product", "deleted": true})
    );
    for path in [
        format!("/v1/products/{bare_id}"),
        format!("/api/v3/products/{bare_id}"),
        format!("/api/v2/products/{bare_id}"),
    ] {
        let response = api
            .server
            .with_key(Method::GET, &path, api.key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let error = api.delete(&format!("/v1/products/{bare_id}"), 404).await;
    stripe_error(&error, "resource_missing", "id");
    assert!(!ids(&api.get("/v1/products?limit=100", 200).await).contains(&bare_id));
    let v2_list = api.get("/api/v2/products", 200).await;
    assert_eq!(v2_list["total"], 2, "{v2_list}");

    // A product with prices can only be archived.
    let error = api.delete(&path, 400).await;
    let message = stripe_error(&error, "parameter_invalid", "id");
    assert!(message.contains("price"), "{message}");
    assert_eq!(api.get(&path, 200).await["active"], true);
}

// ----- 3. Prices on /v1 --------------------------------------------------------------------------

async fn stripe_prices_are_created_in_every_form(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);
    let product = api.form("/v1/products", &[("name", "Plan")], 200).await;
    let product_id = text(&product["id"]).to_string();

    let simple = api
        .price(
            &product_id,
            &[
                ("currency", "usd"),
                ("unit_amount", "500"),
                ("nickname", "Basic"),
            ],
        )
        .await;
    assert!(text(&simple["id"]).starts_with("price_"));
    assert_eq!(simple["object"], "price");
    assert_eq!(simple["product"], product_id);
    assert_eq!(simple["unit_amount"], 500);
    assert_eq!(simple["unit_amount_decimal"], "500");
    assert_eq!(simple["currency"], "usd");
    assert_eq!(simple["type"], "one_time");
    assert_eq!(simple["nickname"], "Basic");
    assert_eq!(simple["billing_scheme"], "per_unit");
    assert_eq!(simple["tax_behavior"], "unspecified");
    assert_eq!(simple["active"], true);
    assert_eq!(simple["livemode"], false);
    assert_eq!(simple["created"], server.clock.now());
    assert_eq!(
        api.get(&format!("/v1/prices/{}", text(&simple["id"])), 200)
            .await,
        simple
    );
    // A price made on /v1 does not become the product's default.
    assert_eq!(
        api.get(&format!("/v1/products/{product_id}"), 200).await["default_price"],
        Value::Null
    );

    let with_product_data = api
        .form(
            "/v1/prices",
            &[
                ("currency", "eur"),
                ("unit_amount", "900"),
                ("product_data[name]", "Gadget"),
                ("product_data[metadata][origin]", "price"),
            ],
            200,
        )
        .await;
    let new_product = text(&with_product_data["product"]);
    assert!(new_product.starts_with("prod_") && new_product != product_id);
    let gadget = api.get(&format!("/v1/products/{new_product}"), 200).await;
    assert_eq!(gadget["name"], "Gadget");
    assert_eq!(gadget["metadata"], json!({"origin": "price"}));
    assert_eq!(gadget["active"], true);
    let expanded = api
        .get(
            &format!(
                "/v1/prices/{}?expand[]=product",
                text(&with_product_data["id"])
            ),
            200,
        )
        .await;
    assert_eq!(expanded["product"]["name"], "Gadget");

    let monthly = api
        .price(
            &product_id,
            &[
                ("currency", "usd"),
                ("unit_amount", "1500"),
                ("recurring[interval]", "month"),
            ],
        )
        .await;
    assert_eq!(monthly["type"], "recurring");
    assert_eq!(monthly["recurring"]["interval"], "month");
    assert_eq!(monthly["recurring"]["interval_count"], 1);
    assert_eq!(monthly["recurring"]["usage_type"], "licensed");
    let quarterly = api
        .price(
            &product_id,
            &[
                ("currency", "usd"),
                ("unit_amount", "4000"),
                ("recurring[interval]", "month"),
                ("recurring[interval_count]", "3"),
            ],
        )
        .await;
    assert_eq!(quarterly["recurring"]["interval_count"], 3);

    let decimal = api
        .price(
            &product_id,
            &[("currency", "usd"), ("unit_amount_decimal", "1200")],
        )
        .await;
    assert_eq!(decimal["unit_amount"], 1200);
    assert_eq!(decimal["unit_amount_decimal"], "1200");
    let error = api
        .form(
            "/v1/prices",
            &[
                ("product", &product_id),
                ("currency", "usd"),
                ("unit_amount_decimal", "10.5"),
            ],
            400,
        )
        .await;
    stripe_error(&error, "parameter_invalid", "unit_amount_decimal");

    let custom = api
        .price(
            &product_id,
            &[
                ("currency", "usd"),
                ("custom_unit_amount[enabled]", "true"),
                ("custom_unit_amount[minimum]", "100"),
                ("custom_unit_amount[preset]", "500"),
            ],
        )
        .await;
    assert_eq!(custom["unit_amount"], Value::Null);
    assert_eq!(custom["unit_amount_decimal"], Value::Null);
    assert_eq!(
        custom["custom_unit_amount"],
        json!({"minimum": 100, "maximum": null, "preset": 500})
    );

    let inactive = api
        .price(
            &product_id,
            &[
                ("currency", "usd"),
                ("unit_amount", "1"),
                ("active", "false"),
            ],
        )
        .await;
    assert_eq!(inactive["active"], false);

    // What a price needs.
    let error = api
        .form(
            "/v1/prices",
            &[("currency", "usd"), ("unit_amount", "5")],
            400,
        )
        .await;
    stripe_error(&error, "parameter_missing", "product");
    let error = api
        .form(
            "/v1/prices",
            &[
                ("product", "prod_nope"),
                ("currency", "usd"),
                ("unit_amount", "5"),
            ],
            400,
        )
        .await;
    stripe_error(&error, "resource_missing", "product");
    let error = api
        .form(
            "/v1/prices",
            &[("product", &product_id), ("currency", "usd")],
            400,
        )
        .await;
    stripe_error(&error, "parameter_invalid", "unit_amount");
    let error = api
        .form(
            "/v1/prices",
            &[("product", &product_id), ("unit_amount", "5")],
            400,
        )
        .await;
    stripe_error(&error, "parameter_missing", "currency");
}

async fn price_lookup_keys_are_unique_per_account_and_mode(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let other = server.account("Other").await;
    let api = Api::new(&server, &account.test_key);
    let (product, _) = api.priced_product("Plan", "10", "usd").await;
    let key = [
        ("currency", "usd"),
        ("unit_amount", "1000"),
        ("lookup_key", "pro_monthly"),
    ];

    let first = api.price(&product, &key).await;
    assert_eq!(first["lookup_key"], "pro_monthly");
    let first_id = text(&first["id"]).to_string();

    let error = api
        .form(
            "/v1/prices",
            &[&[("product", product.as_str())][..], &key[..]].concat(),
            400,
        )
        .await;
    let message = stripe_error(&error, "parameter_invalid", "lookup_key");
    assert!(message.contains("transfer_lookup_key"), "{message}");

    // The key is free in another account and in live mode.
    for key_of in [&other.test_key, &account.live_key] {
        let elsewhere = Api::new(&server, key_of);
        let (their_product, _) = elsewhere.priced_product("Plan", "10", "usd").await;
        let theirs = elsewhere.price(&their_product, &key).await;
        assert_eq!(theirs["lookup_key"], "pro_monthly");
    }

    // transfer_lookup_key moves it.
    let second = api
        .price(
            &product,
            &[&key[..], &[("transfer_lookup_key", "true")][..]].concat(),
        )
        .await;
    assert_eq!(second["lookup_key"], "pro_monthly");
    let second_id = text(&second["id"]).to_string();
    assert_eq!(
        api.get(&format!("/v1/prices/{first_id}"), 200).await["lookup_key"],
        Value::Null
    );
    let found = api.get("/v1/prices?lookup_keys[]=pro_monthly", 200).await;
    assert_eq!(ids(&found), vec![second_id.clone()]);
    // ...and never out of another account or mode.
    for key_of in [&other.test_key, &account.live_key] {
        let found = Api::new(&server, key_of)
            .get("/v1/prices?lookup_keys[]=pro_monthly", 200)
            .await;
        assert_eq!(ids(&found).len(), 1, "{found}");
        assert_eq!(found["data"][0]["lookup_key"], "pro_monthly");
    }

    // Updates follow the same rule.
    let first_path = format!("/v1/prices/{first_id}");
    let error = api
        .form(&first_path, &[("lookup_key", "pro_monthly")], 400)
        .await;
    stripe_error(&error, "parameter_invalid", "lookup_key");
    assert_eq!(api.get(&first_path, 200).await["lookup_key"], Value::Null);
    let moved = api
        .form(
            &first_path,
            &[
                ("lookup_key", "pro_monthly"),
                ("transfer_lookup_key", "true"),
            ],
            200,
        )
        .await;
    assert_eq!(moved["lookup_key"], "pro_monthly");
    assert_eq!(
        api.get(&format!("/v1/prices/{second_id}"), 200).await["lookup_key"],
        Value::Null
    );
    // Setting a price's own key again is no conflict; an empty value removes it.
    api.form(&first_path, &[("lookup_key", "pro_monthly")], 200)
        .await;
    let cleared = api.form(&first_path, &[("lookup_key", "")], 200).await;
    assert_eq!(cleared["lookup_key"], Value::Null);
    let reused = api
        .form(
            &format!("/v1/prices/{second_id}"),
            &[("lookup_key", "pro_monthly")],
            200,
        )
        .await;
    assert_eq!(reused["lookup_key"], "pro_monthly");
}

async fn stripe_price_updates_change_only_what_may_change(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);
    let (product, _) = api.priced_product("Plan", "10", "usd").await;
    let price = api
        .price(
            &product,
            &[
                ("currency", "usd"),
                ("unit_amount", "700"),
                ("metadata[a]", "1"),
            ],
        )
        .await;
    let path = format!("/v1/prices/{}", text(&price["id"]));

    let updated = api
        .form(
            &path,
            &[
                ("active", "false"),
                ("nickname", "Legacy"),
                ("metadata[b]", "2"),
                ("tax_behavior", "exclusive"),
            ],
            200,
        )
        .await;
    assert_eq!(updated["active"], false);
    assert_eq!(updated["nickname"], "Legacy");
    assert_eq!(updated["metadata"], json!({"a": "1", "b": "2"}));
    assert_eq!(updated["tax_behavior"], "exclusive");
    assert_eq!(updated["unit_amount"], 700);
    assert_eq!(updated["created"], price["created"]);
    assert_eq!(api.get(&path, 200).await, updated);

    let cleared = api
        .form(
            &path,
            &[("metadata[a]", ""), ("nickname", ""), ("active", "true")],
            200,
        )
        .await;
    assert_eq!(cleared["metadata"], json!({"b": "2"}));
    assert_eq!(cleared["nickname"], Value::Null);
    assert_eq!(cleared["active"], true);

    // What a price charges never changes.
    for (param, value) in [
        ("unit_amount", "800"),
        ("currency", "eur"),
        ("product", "prod_x"),
    ] {
        let error = api.form(&path, &[(param, value)], 400).await;
        stripe_error(&error, "parameter_unknown", param);
    }
    let error = api.form(&path, &[("tax_behavior", "inclusive")], 400).await;
    stripe_error(&error, "parameter_invalid", "tax_behavior");
    let error = api.form(&path, &[("active", "maybe")], 400).await;
    stripe_error(&error, "parameter_invalid", "active");
    let unchanged = api.get(&path, 200).await;
    assert_eq!(unchanged, cleared);
}

async fn stripe_price_lists_filter(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);
    let first = api.form("/v1/products", &[("name", "First")], 200).await;
    let first = text(&first["id"]).to_string();
    let second = api.form("/v1/products", &[("name", "Second")], 200).await;
    let second = text(&second["id"]).to_string();

    let one_time = api
        .price(
            &first,
            &[
                ("currency", "usd"),
                ("unit_amount", "100"),
                ("lookup_key", "one"),
            ],
        )
        .await;
    let monthly = api
        .price(
            &first,
            &[
                ("currency", "usd"),
                ("unit_amount", "200"),
                ("recurring[interval]", "month"),
                ("lookup_key", "two"),
            ],
        )
        .await;
    let start_of_later = server.clock.now() + 100;
    server.clock.advance(100);
    let yearly_eur = api
        .price(
            &second,
            &[
                ("currency", "eur"),
                ("unit_amount", "300"),
                ("recurring[interval]", "year"),
            ],
        )
        .await;
    let inactive = api
        .price(
            &second,
            &[
                ("currency", "usd"),
                ("unit_amount", "400"),
                ("active", "false"),
            ],
        )
        .await;
    let id = |price: &Value| text(&price["id"]).to_string();
    let (one_time, monthly, yearly_eur, inactive) =
        (id(&one_time), id(&monthly), id(&yearly_eur), id(&inactive));

    let cases: Vec<(String, Vec<&String>)> = vec![
        ("".into(), vec![&inactive, &yearly_eur, &monthly, &one_time]),
        ("active=true".into(), vec![&yearly_eur, &monthly, &one_time]),
        ("active=false".into(), vec![&inactive]),
        (format!("product={first}"), vec![&monthly, &one_time]),
        (format!("product={second}"), vec![&inactive, &yearly_eur]),
        ("type=recurring".into(), vec![&yearly_eur, &monthly]),
        ("type=one_time".into(), vec![&inactive, &one_time]),
        ("currency=eur".into(), vec![&yearly_eur]),
        ("currency=USD".into(), vec![&inactive, &monthly, &one_time]),
        ("lookup_keys[0]=one".into(), vec![&one_time]),
        (
            "lookup_keys[]=one&lookup_keys[]=two".into(),
            vec![&monthly, &one_time],
        ),
        ("lookup_keys[0]=none".into(), vec![]),
        ("recurring[interval]=month".into(), vec![&monthly]),
        ("recurring[interval]=year".into(), vec![&yearly_eur]),
        (
            format!("created[gte]={start_of_later}"),
            vec![&inactive, &yearly_eur],
        ),
        (
            format!("created[lt]={start_of_later}"),
            vec![&monthly, &one_time],
        ),
        (
            format!("created={start_of_later}"),
            vec![&inactive, &yearly_eur],
        ),
        (
            format!("product={first}&type=recurring&currency=usd"),
            vec![&monthly],
        ),
        ("active=true&type=one_time".into(), vec![&one_time]),
    ];
    for (query, expected) in cases {
        let list = api.get(&format!("/v1/prices?{query}"), 200).await;
        assert_eq!(list["object"], "list");
        assert_eq!(list["url"], "/v1/prices");
        assert_eq!(list["has_more"], false);
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(ids(&list), expected, "/v1/prices?{query}");
    }

    for (query, param) in [
        ("type=metered", "type"),
        ("currency=xyz", "currency"),
        ("recurring[interval]=fortnight", "recurring[interval]"),
        ("active=perhaps", "active"),
    ] {
        let error = api.get(&format!("/v1/prices?{query}"), 400).await;
        stripe_error(&error, "parameter_invalid", param);
    }
    let error = api.get("/v1/prices?created[gte]=soon", 400).await;
    assert_eq!(error["error"]["param"], "created", "{error}");
}

// ----- 4. Payment links --------------------------------------------------------------------------

async fn v3_payment_links_sell_products_or_prices(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);
    let (course, course_price) = api.priced_product("Course", "49", "usd").await;
    let (book, book_price) = api.priced_product("Book", "15.50", "usd").await;

    let created = api
        .post(
            "/api/v3/payment-links",
            json!({"productIds": [course, book], "label": "Launch", "successUrl": "https://shop.example/ok?s={CHECKOUT_SESSION_ID}",
                   "cancelUrl": "https://shop.example/cancel", "metadata": {"campaign": "spring"}}),
            200,
        )
        .await;
    let id = text(&created["id"]).to_string();
    assert!(id.starts_with("pl_"), "{id}");
    assert_eq!(created["object"], "payment_link");
    assert_eq!(created["url"], format!("{}/l/{id}", server.base));
    assert_eq!(created["active"], true);
    assert_eq!(created["livemode"], false);
    assert_eq!(created["label"], "Launch");
    assert_eq!(created["currency"], "usd");
    assert_eq!(created["productIds"], json!([course, book]));
    assert_eq!(
        created["successUrl"],
        "https://shop.example/ok?s={CHECKOUT_SESSION_ID}"
    );
    assert_eq!(created["cancelUrl"], "https://shop.example/cancel");
    assert_eq!(created["after_completion"]["type"], "redirect");
    assert_eq!(
        created["after_completion"]["redirect"]["url"],
        "https://shop.example/ok?s={CHECKOUT_SESSION_ID}"
    );
    assert_eq!(created["metadata"], json!({"campaign": "spring"}));
    let items = &created["line_items"];
    assert_eq!(items["object"], "list");
    assert_eq!(items["total_count"], 2);
    assert_eq!(items["url"], format!("/v1/payment_links/{id}/line_items"));
    assert_eq!(items["data"][0]["price"]["id"], course_price);
    assert_eq!(items["data"][0]["price"]["unit_amount"], 4900);
    assert_eq!(items["data"][0]["quantity"], 1);
    assert_eq!(items["data"][0]["amount_total"], 4900);
    assert_eq!(items["data"][1]["price"]["id"], book_price);
    assert_eq!(items["data"][1]["amount_total"], 1550);
    assert!(text(&items["data"][0]["id"]).starts_with("li_"));

    let path = format!("/api/v3/payment-links/{id}");
    assert_eq!(api.get(&path, 200).await, created);
    assert_eq!(
        api.get(&format!("/v1/payment_links/{id}"), 200).await,
        created
    );
    let line_items = api
        .get(&format!("/v1/payment_links/{id}/line_items"), 200)
        .await;
    assert_eq!(&line_items, items);

    // line_items with prices and quantities.
    let by_price = api
        .post(
            "/api/v3/payment-links",
            json!({"line_items": [{"price": book_price, "quantity": 3}, {"price": course_price}]}),
            200,
        )
        .await;
    assert_eq!(by_price["productIds"], json!([book, course]));
    assert_eq!(by_price["line_items"]["data"][0]["quantity"], 3);
    assert_eq!(by_price["line_items"]["data"][0]["amount_subtotal"], 4650);
    assert_eq!(by_price["line_items"]["data"][1]["quantity"], 1);
    assert_eq!(by_price["label"], Value::Null);
    assert_eq!(by_price["successUrl"], Value::Null);
    assert_eq!(by_price["after_completion"]["type"], "hosted_confirmation");

    // PUT changes what it names and replaces metadata.
    let updated = api
        .put(
            &path,
            json!({"label": "Relaunch", "productIds": [book], "metadata": {"wave": "2"}, "active": false,
                   "cancelUrl": null}),
            200,
        )
        .await;
    assert_eq!(updated["label"], "Relaunch");
    assert_eq!(updated["productIds"], json!([book]));
    assert_eq!(updated["line_items"]["total_count"], 1);
    assert_eq!(updated["line_items"]["data"][0]["price"]["id"], book_price);
    assert_eq!(updated["metadata"], json!({"wave": "2"}));
    assert_eq!(updated["active"], false);
    assert_eq!(updated["cancelUrl"], Value::Null);
    assert_eq!(updated["successUrl"], created["successUrl"]);
    assert_eq!(updated["url"], created["url"]);
    assert_eq!(api.get(&path, 200).await, updated);

    // The link of an updated product keeps the price it was made with.
    api.put(
        &format!("/api/v3/products/{book}"),
        json!({"priceAmount": 20}),
        200,
    )
    .await;
    let kept = api.get(&path, 200).await;
    assert_eq!(kept["line_items"]["data"][0]["price"]["id"], book_price);
    assert_eq!(kept["line_items"]["data"][0]["price"]["unit_amount"], 1550);

    let list = api.get("/api/v3/payment-links", 200).await;
    assert_eq!(list["url"], "/api/v3/payment-links");
    assert_eq!(ids(&list), [text(&by_price["id"]).to_string(), id.clone()]);
    assert_eq!(
        ids(&api.get("/api/v3/payment-links?active=false", 200).await),
        vec![id.clone()]
    );
    assert_eq!(
        ids(&api.get("/api/v3/payment-links?active=true", 200).await),
        [text(&by_price["id"]).to_string()]
    );
}

async fn stripe_payment_links_speak_forms(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);
    let (product, price) = api.priced_product("Poster", "12", "usd").await;

    let created = api
        .form(
            "/v1/payment_links",
            &[
                ("line_items[0][price]", &price),
                ("line_items[0][quantity]", "2"),
                ("line_items[0][adjustable_quantity][enabled]", "true"),
                ("line_items[0][adjustable_quantity][maximum]", "5"),
                ("metadata[campaign]", "spring"),
                ("metadata[channel]", "mail"),
                ("after_completion[type]", "redirect"),
                (
                    "after_completion[redirect][url]",
                    "https://shop.example/thanks",
                ),
                ("billing_address_collection", "auto"),
                ("submit_type", "pay"),
                ("allow_promotion_codes", "false"),
            ],
            200,
        )
        .await;
    let id = text(&created["id"]).to_string();
    assert!(id.starts_with("pl_"));
    assert_eq!(created["url"], format!("{}/l/{id}", server.base));
    assert_eq!(created["currency"], "usd");
    assert_eq!(created["productIds"], json!([product]));
    assert_eq!(created["allow_promotion_codes"], false);
    assert_eq!(created["billing_address_collection"], "auto");
    assert_eq!(created["submit_type"], "pay");
    assert_eq!(
        created["after_completion"]["redirect"]["url"],
        "https://shop.example/thanks"
    );
    assert_eq!(created["successUrl"], "https://shop.example/thanks");
    assert_eq!(
        created["metadata"],
        json!({"campaign": "spring", "channel": "mail"})
    );
    let item = &created["line_items"]["data"][0];
    assert_eq!(item["quantity"], 2);
    assert_eq!(item["amount_subtotal"], 2400);
    assert_eq!(item["currency"], "usd");
    assert_eq!(
        item["adjustable_quantity"],
        json!({"enabled": true, "minimum": null, "maximum": 5})
    );

    let items = api
        .get(&format!("/v1/payment_links/{id}/line_items"), 200)
        .await;
    assert_eq!(items["object"], "list");
    assert_eq!(items["url"], format!("/v1/payment_links/{id}/line_items"));
    assert_eq!(items["has_more"], false);
    assert_eq!(items["data"], created["line_items"]["data"]);

    // Stripe updates merge metadata.
    let path = format!("/v1/payment_links/{id}");
    let updated = api
        .form(
            &path,
            &[
                ("metadata[campaign]", ""),
                ("metadata[wave]", "2"),
                ("active", "false"),
            ],
            200,
        )
        .await;
    assert_eq!(updated["metadata"], json!({"channel": "mail", "wave": "2"}));
    assert_eq!(updated["active"], false);
    assert_eq!(updated["line_items"], created["line_items"]);
    assert_eq!(
        api.get(&format!("/api/v3/payment-links/{id}"), 200).await,
        updated
    );

    let (_, other_price) = api.priced_product("Card", "3", "usd").await;
    let replaced = api
        .form(
            &path,
            &[
                ("line_items[0][price]", &other_price),
                ("line_items[1][price]", &price),
            ],
            200,
        )
        .await;
    assert_eq!(replaced["line_items"]["total_count"], 2);
    assert_eq!(
        replaced["line_items"]["data"][0]["price"]["id"],
        other_price
    );

    assert_eq!(
        ids(&api.get("/v1/payment_links?active=false", 200).await),
        vec![id.clone()]
    );
    assert!(ids(&api.get("/v1/payment_links?active=true", 200).await).is_empty());
    let list = api.get("/v1/payment_links", 200).await;
    assert_eq!(list["url"], "/v1/payment_links");
    assert_eq!(ids(&list), [id]);

    for (pairs, param) in [
        (
            vec![
                ("line_items[0][price]", price.as_str()),
                ("line_items[0][quantity]", "0"),
            ],
            "line_items[0][quantity]",
        ),
        (
            vec![
                ("line_items[0][price]", price.as_str()),
                ("line_items[0][quantity]", "1001"),
            ],
            "line_items[0][quantity]",
        ),
        (
            vec![
                ("line_items[0][price]", price.as_str()),
                ("line_items[0][adjustable_quantity][enabled]", "true"),
                ("line_items[0][adjustable_quantity][maximum]", "1001"),
            ],
            "line_items[0][adjustable_quantity][maximum]",
        ),
        (
            vec![
                ("line_items[0][price]", price.as_str()),
                ("line_items[0][adjustable_quantity][enabled]", "true"),
                ("line_items[0][adjustable_quantity][minimum]", "0"),
            ],
            "line_items[0][adjustable_quantity][minimum]",
        ),
        (
            vec![("line_items[0][price]", "price_nope")],
            "line_items[0][price]",
        ),
        (
            vec![("line_items[0][quantity]", "2")],
            "line_items[0][price]",
        ),
        (
            vec![
                ("line_items[0][price]", price.as_str()),
                ("submit_type", "buy"),
            ],
            "submit_type",
        ),
        (
            vec![
                ("line_items[0][price]", price.as_str()),
                ("after_completion[type]", "confetti"),
            ],
            "after_completion[type]",
        ),
    ] {
        let error = api.form("/v1/payment_links", &pairs, 400).await;
        let code = error["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            code.starts_with("parameter_") || code == "resource_missing",
            "{error}"
        );
        assert_eq!(error["error"]["param"], param, "{pairs:?}: {error}");
    }
}

async fn payment_links_refuse_what_cannot_be_sold(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);
    let (usd_product, usd_price) = api.priced_product("Dollar", "10", "usd").await;
    let (eur_product, eur_price) = api.priced_product("Euro", "10", "eur").await;
    let (archived, archived_price) = api.priced_product("Old", "10", "usd").await;
    api.delete(&format!("/api/v3/products/{archived}"), 200)
        .await;
    let inactive_price = api
        .price(
            &usd_product,
            &[
                ("currency", "usd"),
                ("unit_amount", "5"),
                ("active", "false"),
            ],
        )
        .await;
    let inactive_price = text(&inactive_price["id"]).to_string();
    let bare = api.form("/v1/products", &[("name", "Bare")], 200).await;
    let bare = text(&bare["id"]).to_string();

    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"line_items": [{"price": usd_price}, {"price": eur_price}]}),
            "line_items[1][price]",
            "currency",
        ),
        (
            json!({"productIds": [usd_product, eur_product]}),
            "productIds[1]",
            "currency",
        ),
        (
            json!({"line_items": [{"price": inactive_price}]}),
            "line_items[0][price]",
            "not active",
        ),
        (
            json!({"line_items": [{"price": archived_price}]}),
            "line_items[0][price]",
            "not active",
        ),
        (
            json!({"productIds": [archived]}),
            "productIds[0]",
            "not active",
        ),
        (json!({"productIds": [bare]}), "productIds[0]", "no price"),
        (json!({"line_items": []}), "line_items", "at least one"),
        (json!({}), "line_items", "required"),
        (
            json!({"line_items": [{"price": usd_price}], "productIds": [usd_product]}),
            "productIds",
            "not both",
        ),
        (
            json!({"productIds": [usd_product], "successUrl": "not a url"}),
            "successUrl",
            "URL",
        ),
        (
            json!({"productIds": [usd_product], "cancelUrl": "ftp://shop.example"}),
            "cancelUrl",
            "URL",
        ),
    ];
    for (body, param, words) in &cases {
        let error = api.post("/api/v3/payment-links", body.clone(), 400).await;
        let message = stripe_error(&error, invalid_code(param), param);
        assert!(message.contains(words), "{body}: {message}");
    }
    // The same refusals on /v1.
    let error = api
        .form(
            "/v1/payment_links",
            &[
                ("line_items[0][price]", &usd_price),
                ("line_items[1][price]", &eur_price),
            ],
            400,
        )
        .await;
    stripe_error(&error, "parameter_invalid", "line_items[1][price]");
    let error = api
        .form(
            "/v1/payment_links",
            &[("line_items[0][price]", &inactive_price)],
            400,
        )
        .await;
    stripe_error(&error, "parameter_invalid", "line_items[0][price]");

    // An unknown price or product is Stripe's 400 `resource_missing`, naming the parameter.
    let error = api
        .post(
            "/api/v3/payment-links",
            json!({"line_items": [{"price": "price_nope"}]}),
            400,
        )
        .await;
    let message = stripe_error(&error, "resource_missing", "line_items[0][price]");
    assert_eq!(message, "No such price: 'price_nope'");
    let error = api
        .post(
            "/api/v3/payment-links",
            json!({"productIds": [usd_product, "prod_nope"]}),
            400,
        )
        .await;
    let message = stripe_error(&error, "resource_missing", "productIds[1]");
    assert_eq!(message, "No such product: 'prod_nope'");

    // Nothing was created, and updates refuse the same way without changing the link.
    assert!(ids(&api.get("/api/v3/payment-links", 200).await).is_empty());
    let link = api
        .post(
            "/api/v3/payment-links",
            json!({"productIds": [usd_product]}),
            200,
        )
        .await;
    let path = format!("/api/v3/payment-links/{}", text(&link["id"]));
    let error = api
        .put(
            &path,
            json!({"line_items": [{"price": usd_price}, {"price": eur_price}]}),
            400,
        )
        .await;
    stripe_error(&error, "parameter_invalid", "line_items[1][price]");
    let error = api.put(&path, json!({"productIds": [archived]}), 400).await;
    stripe_error(&error, "parameter_invalid", "productIds[0]");
    let error = api
        .put(&path, json!({"productIds": ["prod_nope"]}), 400)
        .await;
    stripe_error(&error, "resource_missing", "productIds[0]");
    assert_eq!(api.get(&path, 200).await, link);
}

// ----- 5. Lists ----------------------------------------------------------------------------------

async fn v2_product_lists_filter_and_page_by_offset(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);
    let mut created = Vec::new();
    for body in [
        json!({"name": "F1", "priceAmount": 1}),
        json!({"name": "C1", "amountType": "CUSTOM", "minimumAmount": 1}),
        json!({"name": "F2", "priceAmount": 2}),
        json!({"name": "Free", "amountType": "FREE"}),
        json!({"name": "F3", "priceAmount": 3, "status": "INACTIVE"}),
        json!({"name": "C2", "amountType": "CUSTOM", "presetAmount": 5}),
        json!({"name": "Draft", "priceAmount": 4, "status": "DRAFT"}),
    ] {
        let product = api.post("/api/v2/products", body, 200).await;
        created.push(text(&product["id"]).to_string());
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    let pick = |indexes: &[usize]| -> Vec<String> {
        let mut picked: Vec<String> = indexes.iter().map(|&i| created[i].clone()).collect();
        picked.reverse();
        picked
    };

    let all = api.get("/api/v2/products", 200).await;
    assert_eq!(all["total"], 7);
    assert_eq!(all["limit"], 50);
    assert_eq!(all["offset"], 0);
    assert_eq!(ids(&all), newest_first);
    let keys: HashSet<&str> = all
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        HashSet::from(["products", "total", "limit", "offset"])
    );
    assert_eq!(all["products"][0]["name"], "Draft");

    for (query, expected) in [
        ("status=ACTIVE", pick(&[0, 1, 2, 3, 5])),
        ("status=inactive", pick(&[4])),
        ("status=DRAFT", pick(&[6])),
        ("amountType=FIXED", pick(&[0, 2, 4, 6])),
        ("amountType=custom", pick(&[1, 5])),
        ("amountType=FREE", pick(&[3])),
        ("status=ACTIVE&amountType=FIXED", pick(&[0, 2])),
        ("status=DRAFT&amountType=CUSTOM", vec![]),
    ] {
        let list = api.get(&format!("/api/v2/products?{query}"), 200).await;
        assert_eq!(ids(&list), expected, "{query}");
        assert_eq!(list["total"], expected.len(), "{query}");
    }

    // Offsets page through; total counts the whole filtered list.
    let mut paged = Vec::new();
    for offset in [0, 3, 6, 9] {
        let page = api
            .get(&format!("/api/v2/products?limit=3&offset={offset}"), 200)
            .await;
        assert_eq!(page["total"], 7);
        assert_eq!(page["limit"], 3);
        assert_eq!(page["offset"], offset);
        let page_ids = ids(&page);
        assert_eq!(page_ids.len(), [3, 3, 1, 0][offset / 3]);
        paged.extend(page_ids);
    }
    assert_eq!(paged, newest_first);
    let filtered = api
        .get("/api/v2/products?amountType=FIXED&limit=2&offset=1", 200)
        .await;
    assert_eq!(filtered["total"], 4);
    assert_eq!(ids(&filtered), pick(&[0, 2, 4, 6])[1..3].to_vec());

    for (query, param) in [
        ("status=GONE", "status"),
        ("amountType=SOMETIMES", "amountType"),
        ("offset=-1", "offset"),
    ] {
        let error = api.get(&format!("/api/v2/products?{query}"), 400).await;
        loops_error(&error, 400, "parameter_invalid", param);
    }
    let error = api.get("/api/v2/products?offset=abc", 400).await;
    loops_error(&error, 400, "parameter_invalid_integer", "offset");
}

async fn product_lists_page_by_offset_and_by_cursor_both_ways(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);
    let mut created = Vec::new();
    for n in 0..25 {
        let product = api
            .v3_product(json!({"name": format!("P{n}"), "priceAmount": n + 1}))
            .await;
        created.push(text(&product["id"]).to_string());
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    // Default limits: 50 on /api, 10 on /v1.
    let v3 = api.get("/api/v3/products", 200).await;
    assert_eq!(ids(&v3), newest_first);
    assert_eq!(v3["has_more"], false);
    assert_eq!(v3["url"], "/api/v3/products");
    assert_eq!(v3["data"][0]["name"], "P24");
    let stripe = api.get("/v1/products", 200).await;
    assert_eq!(ids(&stripe), newest_first[..10].to_vec());
    assert_eq!(stripe["has_more"], true);
    assert_eq!(stripe["url"], "/v1/products");

    // By offset, on V2 and V3.
    for path in ["/api/v2/products", "/api/v3/products"] {
        let mut seen = Vec::new();
        for offset in (0..28).step_by(7) {
            let page = api
                .get(&format!("{path}?limit=7&offset={offset}"), 200)
                .await;
            let page_ids = ids(&page);
            if path == "/api/v3/products" {
                assert_eq!(page["has_more"], offset + 7 < 25, "{path} offset {offset}");
            } else {
                assert_eq!(page["total"], 25);
            }
            seen.extend(page_ids);
        }
        assert_eq!(seen, newest_first, "{path} by offset");
    }

    // By cursor toward older objects: V3 `cursor` and `starting_after`, /v1 `starting_after`.
    for (path, cursor) in [
        ("/api/v3/products", "cursor"),
        ("/api/v3/products", "starting_after"),
        ("/v1/products", "starting_after"),
    ] {
        let seen = walk_older(&api, path, cursor, 7, || async {}).await;
        assert_eq!(seen, newest_first, "{path} by {cursor}");
    }
    // And back toward newer ones with ending_before.
    for path in ["/api/v3/products", "/v1/products"] {
        let seen = walk_newer(&api, path, &created[0], 7, || async {}).await;
        assert_eq!(seen, newest_first[..24].to_vec(), "{path} by ending_before");
    }
    // ending_before the newest is an empty page with nothing more.
    let newest = &newest_first[0];
    let empty = api
        .get(&format!("/v1/products?ending_before={newest}"), 200)
        .await;
    assert!(ids(&empty).is_empty());
    assert_eq!(empty["has_more"], false);
    let last = api
        .get(&format!("/api/v3/products?cursor={}", created[0]), 200)
        .await;
    assert!(ids(&last).is_empty());
    assert_eq!(last["has_more"], false);

    // A cursor must be an object the caller can see; cursors and offsets do not mix.
    let error = api.get("/v1/products?starting_after=prod_nope", 400).await;
    stripe_error(&error, "resource_missing", "starting_after");
    let error = api
        .get("/api/v3/products?ending_before=prod_nope", 400)
        .await;
    stripe_error(&error, "resource_missing", "ending_before");
    let error = api
        .get(
            &format!("/api/v3/products?cursor={newest}&starting_after={newest}"),
            400,
        )
        .await;
    stripe_error(&error, "parameter_invalid", "cursor");
    let error = api
        .get(&format!("/api/v3/products?offset=7&cursor={newest}"), 400)
        .await;
    stripe_error(&error, "parameter_invalid", "offset");
    let error = api
        .get(
            &format!("/v1/products?starting_after={newest}&ending_before={newest}"),
            400,
        )
        .await;
    stripe_error(&error, "parameter_invalid", "ending_before");
}

async fn cursor_paging_skips_nothing_while_products_are_created(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);
    let mut originals = Vec::new();
    for n in 0..25 {
        let product = api
            .v3_product(json!({"name": format!("P{n}"), "priceAmount": 1}))
            .await;
        originals.push(text(&product["id"]).to_string());
    }
    let newest_first: Vec<String> = originals.iter().rev().cloned().collect();
    let added = std::sync::Mutex::new(Vec::<String>::new());
    let (api_ref, added_ref) = (&api, &added);
    let create_two = move || async move {
        for _ in 0..2 {
            let product = api_ref
                .v3_product(json!({"name": "Late", "priceAmount": 1}))
                .await;
            added_ref
                .lock()
                .unwrap()
                .push(text(&product["id"]).to_string());
        }
    };

    // Toward older objects, new ones never show up and none of the originals is lost.
    for (path, cursor) in [
        ("/api/v3/products", "cursor"),
        ("/v1/products", "starting_after"),
    ] {
        let earlier = added.lock().unwrap().clone();
        let seen = walk_older(&api, path, cursor, 7, create_two).await;
        let during = added.lock().unwrap()[earlier.len()..].to_vec();
        assert!(!during.is_empty());
        assert_unique(&seen);
        let originals_seen: Vec<String> = seen
            .iter()
            .filter(|id| originals.contains(id))
            .cloned()
            .collect();
        assert_eq!(originals_seen, newest_first, "{path} by {cursor}");
        assert!(
            seen.iter().all(|id| !during.contains(id)),
            "{path}: objects created behind the cursor showed up"
        );
        // The walk is exactly the list as it was when it began.
        let expected: Vec<String> = earlier.iter().rev().chain(&newest_first).cloned().collect();
        assert_eq!(seen, expected, "{path} by {cursor}");
    }

    // Toward newer objects, the originals come once each, in order, and the new ones after them.
    let before = added.lock().unwrap().len();
    let seen = walk_newer(&api, "/v1/products", &originals[0], 7, create_two).await;
    assert_unique(&seen);
    let originals_seen: Vec<String> = seen
        .iter()
        .filter(|id| originals.contains(id))
        .cloned()
        .collect();
    assert_eq!(originals_seen, newest_first[..24].to_vec());
    let all_added = added.lock().unwrap().clone();
    assert!(all_added.len() > before);
    // Everything newer than the originals, including what was made during the walk, comes
    // first (newest first), then the originals.
    let expected: Vec<String> = all_added
        .iter()
        .rev()
        .chain(newest_first[..24].iter())
        .cloned()
        .collect();
    assert_eq!(seen, expected);
}

async fn price_and_payment_link_lists_page_by_cursor(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);
    let product = api.form("/v1/products", &[("name", "Plan")], 200).await;
    let product = text(&product["id"]).to_string();
    let mut prices = Vec::new();
    for n in 1..=12 {
        let price = api
            .price(
                &product,
                &[("currency", "usd"), ("unit_amount", &n.to_string())],
            )
            .await;
        prices.push(text(&price["id"]).to_string());
    }
    let newest_first: Vec<String> = prices.iter().rev().cloned().collect();
    assert_eq!(
        walk_older(&api, "/v1/prices", "starting_after", 5, || async {}).await,
        newest_first
    );
    assert_eq!(
        walk_newer(&api, "/v1/prices", &prices[0], 5, || async {}).await,
        newest_first[..11].to_vec()
    );
    let filtered = walk_older(
        &api,
        &format!("/v1/prices?product={product}&currency=usd"),
        "starting_after",
        5,
        || async {},
    )
    .await;
    assert_eq!(filtered, newest_first);

    let mut links = Vec::new();
    for price in prices.iter().take(6) {
        let link = api
            .post(
                "/api/v3/payment-links",
                json!({"line_items": [{"price": price}]}),
                200,
            )
            .await;
        links.push(text(&link["id"]).to_string());
    }
    let newest_links: Vec<String> = links.iter().rev().cloned().collect();
    for (path, cursor) in [
        ("/api/v3/payment-links", "cursor"),
        ("/v1/payment_links", "starting_after"),
    ] {
        assert_eq!(
            walk_older(&api, path, cursor, 4, || async {}).await,
            newest_links,
            "{path}"
        );
        assert_eq!(
            walk_newer(&api, path, &links[0], 4, || async {}).await,
            newest_links[..5].to_vec(),
            "{path}"
        );
    }
    let error = api
        .get("/v1/payment_links?starting_after=pl_nope", 400)
        .await;
    stripe_error(&error, "resource_missing", "starting_after");
    let error = api.get("/v1/prices?ending_before=price_nope", 400).await;
    stripe_error(&error, "resource_missing", "ending_before");
}

async fn list_limits_are_checked(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);
    for n in 0..3 {
        api.v3_product(json!({"name": format!("P{n}"), "priceAmount": 1}))
            .await;
    }
    for path in [
        "/api/v2/products",
        "/api/v3/products",
        "/api/v3/payment-links",
        "/v1/products",
        "/v1/prices",
        "/v1/payment_links",
    ] {
        let loops = path.starts_with("/api/v2");
        for limit in ["0", "101", "-1"] {
            let error = api.get(&format!("{path}?limit={limit}"), 400).await;
            let message = if loops {
                loops_error(&error, 400, "parameter_invalid", "limit")
            } else {
                stripe_error(&error, "parameter_invalid", "limit")
            };
            assert!(message.contains("100"), "{path}: {message}");
        }
        let error = api.get(&format!("{path}?limit=abc"), 400).await;
        if loops {
            loops_error(&error, 400, "parameter_invalid_integer", "limit");
        } else {
            stripe_error(&error, "parameter_invalid_integer", "limit");
        }
        for limit in [1, 100] {
            api.get(&format!("{path}?limit={limit}"), 200).await;
        }
    }
    let one = api.get("/v1/products?limit=1", 200).await;
    assert_eq!(ids(&one).len(), 1);
    assert_eq!(one["has_more"], true);
    let v2 = api.get("/api/v2/products?limit=2", 200).await;
    assert_eq!(v2["limit"], 2);
    assert_eq!(ids(&v2).len(), 2);
    assert_eq!(v2["total"], 3);
}

// ----- 6. Validation -----------------------------------------------------------------------------

/// Loops product bodies that must be refused, with the parameter each names.
fn invalid_loops_products() -> Vec<(Value, String)> {
    let nine_images: Vec<String> = (0..9)
        .map(|i| format!("https://img.example/{i}.png"))
        .collect();
    let many_keys: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    let big: serde_json::Map<String, Value> = (0..12)
        .map(|i| (format!("k{i}"), json!("v".repeat(450))))
        .collect();
    let long_key = "k".repeat(41);
    let p = |name: &str| name.to_string();
    vec![
        (json!({}), p("name")),
        (json!({"name": ""}), p("name")),
        (json!({"name": "   "}), p("name")),
        (json!({"name": "x".repeat(251)}), p("name")),
        (json!({"name": 5}), p("name")),
        (json!({"name": "P", "priceAmount": 0.49}), p("priceAmount")),
        (json!({"name": "P", "priceAmount": "0"}), p("priceAmount")),
        (json!({"name": "P", "priceAmount": -5}), p("priceAmount")),
        (
            json!({"name": "P", "priceAmount": 29.999}),
            p("priceAmount"),
        ),
        (
            json!({"name": "P", "priceAmount": "twelve"}),
            p("priceAmount"),
        ),
        (
            json!({"name": "P", "priceAmount": 1_000_000_000}),
            p("priceAmount"),
        ),
        (
            json!({"name": "P", "amountType": "FIXED"}),
            p("priceAmount"),
        ),
        (
            json!({"name": "P", "priceCurrency": "eur"}),
            p("priceAmount"),
        ),
        (
            json!({"name": "P", "amountType": "CUSTOM", "minimumAmount": 0.49}),
            p("minimumAmount"),
        ),
        (
            json!({"name": "P", "amountType": "CUSTOM", "minimumAmount": "1.001"}),
            p("minimumAmount"),
        ),
        (
            json!({"name": "P", "amountType": "CUSTOM", "presetAmount": 10000.01}),
            p("presetAmount"),
        ),
        (
            json!({"name": "P", "amountType": "CUSTOM", "minimumAmount": 20, "presetAmount": 10}),
            p("presetAmount"),
        ),
        (
            json!({"name": "P", "amountType": "CUSTOM", "priceAmount": 5}),
            p("priceAmount"),
        ),
        (
            json!({"name": "P", "priceAmount": 5, "minimumAmount": 1}),
            p("amountType"),
        ),
        (
            json!({"name": "P", "amountType": "FREE", "priceAmount": 5}),
            p("priceAmount"),
        ),
        (
            json!({"name": "P", "amountType": "SOMETIMES", "priceAmount": 5}),
            p("amountType"),
        ),
        (json!({"name": "P", "status": "ARCHIVED"}), p("status")),
        (
            json!({"name": "P", "status": "ACTIVE", "active": false}),
            p("active"),
        ),
        (
            json!({"name": "P", "priceAmount": 5, "recurringInterval": "week"}),
            p("recurringInterval"),
        ),
        (
            json!({"name": "P", "priceAmount": 5, "recurringInterval": "fortnight"}),
            p("recurringInterval"),
        ),
        (json!({"name": "P", "images": nine_images}), p("images")),
        (
            json!({"name": "P", "images": ["not a url"]}),
            p("images[0]"),
        ),
        (
            json!({"name": "P", "images": ["https://img.example/a.png", "ftp://img.example/b.png"]}),
            p("images[1]"),
        ),
        (
            json!({"name": "P", "images": "https://img.example/a.png"}),
            p("images"),
        ),
        (
            json!({"name": "P", "thumbnailUrl": "thumb.png"}),
            p("thumbnailUrl"),
        ),
        (
            json!({"name": "P", "statement_descriptor": "S".repeat(23)}),
            p("statement_descriptor"),
        ),
        (
            json!({"name": "P", "statement_descriptor": "A <B>"}),
            p("statement_descriptor"),
        ),
        (
            json!({"name": "P", "priceAmount": 5, "priceCurrency": "xyz"}),
            p("priceCurrency"),
        ),
        (json!({"name": "P", "metadata": many_keys}), p("metadata")),
        (
            json!({"name": "P", "metadata": {long_key.clone(): "v"}}),
            format!("metadata[{long_key}]"),
        ),
        (
            json!({"name": "P", "metadata": {"note": "v".repeat(501)}}),
            p("metadata[note]"),
        ),
        (
            json!({"name": "P", "metadata": {"a[b]": "v"}}),
            p("metadata[a[b]]"),
        ),
        (
            json!({"name": "P", "metadata": {"nested": {"x": 1}}}),
            p("metadata[nested]"),
        ),
        (json!({"name": "P", "metadata": ["a"]}), p("metadata")),
        (json!({"name": "P", "metadata": big}), p("metadata")),
    ]
}

async fn loops_product_limits_name_the_parameter(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);

    for (body, param) in invalid_loops_products() {
        let v3 = api.post("/api/v3/products", body.clone(), 400).await;
        let message = stripe_error(&v3, invalid_code(&param), &param);
        assert!(message.contains(&param), "V3 {body}: {message}");
        let v2 = api.post("/api/v2/products", body.clone(), 400).await;
        let loops_message = loops_error(&v2, 400, invalid_code(&param), &param);
        assert_eq!(loops_message, message, "V2 and V3 say the same for {body}");
    }
    assert!(
        ids(&api.get("/api/v3/products", 200).await).is_empty(),
        "nothing was created"
    );

    // Updates refuse the same way and leave the product as it was.
    let product = api
        .v3_product(json!({"name": "Keep", "priceAmount": 10, "metadata": {"a": "1"}}))
        .await;
    let id = text(&product["id"]);
    for (body, param) in [
        (json!({"priceAmount": 0.1}), "priceAmount"),
        (json!({"name": ""}), "name"),
        (
            json!({"priceCurrency": "jpy", "priceAmount": "10.5"}),
            "priceAmount",
        ),
        (
            json!({"amountType": "CUSTOM", "minimumAmount": 0.2}),
            "minimumAmount",
        ),
        (json!({"status": "GONE"}), "status"),
        (json!({"recurringInterval": "day"}), "recurringInterval"),
        (json!({"metadata": {"k": "v".repeat(501)}}), "metadata[k]"),
        (json!({"name": "Changed", "images": ["nope"]}), "images[0]"),
    ] {
        for surface in ["/api/v3/products", "/api/v2/products"] {
            let error = api.put(&format!("{surface}/{id}"), body.clone(), 400).await;
            if surface.starts_with("/api/v2") {
                loops_error(&error, 400, invalid_code(param), param);
            } else {
                stripe_error(&error, invalid_code(param), param);
            }
        }
    }
    assert_eq!(
        api.get(&format!("/api/v3/products/{id}"), 200).await,
        product
    );
    assert_eq!(
        ids(&api.get(&format!("/v1/prices?product={id}"), 200).await).len(),
        1,
        "refused updates made no price"
    );
}

async fn loops_product_limits_accept_their_boundaries(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);
    let eight_images: Vec<String> = (0..8)
        .map(|i| format!("https://img.example/{i}.png"))
        .collect();
    let fifty_keys: serde_json::Map<String, Value> =
        (0..50).map(|i| (format!("k{i}"), json!("v"))).collect();
    let long_key = "k".repeat(40);

    let cases: Vec<(Value, &str, Value)> = vec![
        (
            json!({"name": "x".repeat(250)}),
            "name",
            json!("x".repeat(250)),
        ),
        (
            json!({"name": "P", "priceAmount": 0.5}),
            "priceAmount",
            json!("0.50"),
        ),
        (
            json!({"name": "P", "priceAmount": "29.990"}),
            "priceAmount",
            json!("29.99"),
        ),
        (
            json!({"name": "P", "amountType": "CUSTOM", "minimumAmount": 0.5}),
            "minimumAmount",
            json!("0.50"),
        ),
        (
            json!({"name": "P", "amountType": "CUSTOM", "presetAmount": 10000}),
            "presetAmount",
            json!("10000.00"),
        ),
        (
            json!({"name": "P", "amountType": "CUSTOM", "minimumAmount": 7, "presetAmount": 7}),
            "presetAmount",
            json!("7.00"),
        ),
        (
            json!({"name": "P", "amountType": "fixed", "priceAmount": 1}),
            "amountType",
            json!("FIXED"),
        ),
        (
            json!({"name": "P", "priceAmount": 1, "recurringInterval": "YEAR"}),
            "recurringInterval",
            json!("year"),
        ),
        (
            json!({"name": "P", "priceAmount": 1, "priceCurrency": "EUR"}),
            "priceCurrency",
            json!("eur"),
        ),
        (
            json!({"name": "P", "status": "draft"}),
            "status",
            json!("DRAFT"),
        ),
        (
            json!({"name": "P", "images": eight_images}),
            "images",
            json!(eight_images),
        ),
        (
            json!({"name": "P", "statement_descriptor": "S".repeat(22)}),
            "statement_descriptor",
            json!("S".repeat(22)),
        ),
        (
            json!({"name": "P", "metadata": fifty_keys}),
            "metadata",
            json!(fifty_keys),
        ),
        (
            json!({"name": "P", "metadata": {long_key.clone(): "v"}}),
            "metadata",
            json!({long_key: "v"}),
        ),
        (
            json!({"name": "P", "metadata": {"note": "v".repeat(500)}}),
            "metadata",
            json!({"note": "v".repeat(500)}),
        ),
        (
            json!({"name": "P", "thumbnailUrl": "https://img.example/t.png"}),
            "thumbnailUrl",
            json!("https://img.example/t.png"),
        ),
    ];
    for (body, field, expected) in cases {
        let v3 = api.post("/api/v3/products", body.clone(), 200).await;
        assert_eq!(v3[field], expected, "V3 {body}");
        let v2 = api.post("/api/v2/products", body.clone(), 200).await;
        let v2_expected = match field {
            "priceCurrency" => json!(text(&expected).to_uppercase()),
            _ => expected.clone(),
        };
        if field != "statement_descriptor" {
            assert_eq!(v2[field], v2_expected, "V2 {body}");
        }
    }
}

async fn stripe_catalog_limits_name_the_parameter(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);
    let product = api.form("/v1/products", &[("name", "Plan")], 200).await;
    let product = text(&product["id"]).to_string();
    let nine_images: String = (0..9)
        .map(|i| format!("&images[{i}]=https://img.example/{i}.png"))
        .collect();
    let many_keys: String = (0..51).map(|i| format!("&metadata[k{i}]=v")).collect();
    let long_key = "k".repeat(41);
    let long_value = "v".repeat(501);
    let price_data = "default_price_data[currency]=usd&default_price_data[unit_amount]=5";
    let custom_data =
        "default_price_data[currency]=usd&default_price_data[custom_unit_amount][enabled]=true";

    // (form body, code, param)
    let product_cases: Vec<(String, &str, String)> = vec![
        ("description=x".into(), "parameter_missing", "name".into()),
        (
            "name=P&colour=red".into(),
            "parameter_unknown",
            "colour".into(),
        ),
        (
            "name=P&default_price_data[currency]=xyz&default_price_data[unit_amount]=100".into(),
            "parameter_invalid",
            "default_price_data[currency]".into(),
        ),
        (
            "name=P&default_price_data[unit_amount]=100".into(),
            "parameter_missing",
            "default_price_data[currency]".into(),
        ),
        (
            "name=P&default_price_data[currency]=usd".into(),
            "parameter_invalid",
            "default_price_data[unit_amount]".into(),
        ),
        (
            "name=P&default_price_data[currency]=usd&default_price_data[unit_amount]=abc".into(),
            "parameter_invalid_integer",
            "default_price_data[unit_amount]".into(),
        ),
        (
            "name=P&default_price_data[currency]=usd&default_price_data[unit_amount]=-5".into(),
            "parameter_invalid",
            "default_price_data[unit_amount]".into(),
        ),
        (
            format!("name=P&{price_data}&default_price_data[colour]=red"),
            "parameter_unknown",
            "default_price_data[colour]".into(),
        ),
        (
            format!("name=P&{price_data}&default_price_data[recurring][interval]=fortnight"),
            "parameter_invalid",
            "default_price_data[recurring][interval]".into(),
        ),
        (
            format!(
                "name=P&{price_data}&default_price_data[recurring][interval]=month\
                 &default_price_data[recurring][interval_count]=0"
            ),
            "parameter_invalid",
            "default_price_data[recurring][interval_count]".into(),
        ),
        (
            format!("name=P&{custom_data}&default_price_data[custom_unit_amount][preset]=-1"),
            "parameter_invalid",
            "default_price_data[custom_unit_amount][preset]".into(),
        ),
        (
            format!("name=P&statement_descriptor={}", "S".repeat(23)),
            "parameter_invalid",
            "statement_descriptor".into(),
        ),
        (
            format!("name=P{nine_images}"),
            "parameter_invalid",
            "images".into(),
        ),
        (
            "name=P&images[0]=not-a-url".into(),
            "url_invalid",
            "images[0]".into(),
        ),
        (
            format!("name=P{many_keys}"),
            "parameter_invalid",
            "metadata".into(),
        ),
        (
            format!("name=P&metadata[{long_key}]=v"),
            "parameter_invalid",
            format!("metadata[{long_key}]"),
        ),
        (
            format!("name=P&metadata[note]={long_value}"),
            "parameter_invalid",
            "metadata[note]".into(),
        ),
        (
            "name=P&type=gadget".into(),
            "parameter_invalid",
            "type".into(),
        ),
        (
            "name=P&shippable=yes".into(),
            "parameter_invalid",
            "shippable".into(),
        ),
        (
            "name=P&default_price=price_x".into(),
            "parameter_invalid",
            "default_price".into(),
        ),
        (
            format!("name=P&unit_label={}", "u".repeat(13)),
            "parameter_invalid",
            "unit_label".into(),
        ),
        (
            "name=P&url=shop.example".into(),
            "url_invalid",
            "url".into(),
        ),
    ];
    for (body, code, param) in &product_cases {
        let error = api.form_text("/v1/products", body, 400).await;
        stripe_error(&error, code, param);
    }
    let error = api
        .form_text("/v1/products", "name=P&colour=red", 400)
        .await;
    assert_eq!(
        error["error"]["message"],
        "Received unknown parameter: colour"
    );
    let error = api
        .form_text(&format!("/v1/products/{product}"), "colour=red", 400)
        .await;
    stripe_error(&error, "parameter_unknown", "colour");

    let usd = format!("product={product}&currency=usd");
    let usd_5 = format!("{usd}&unit_amount=5");
    let custom = format!("{usd}&custom_unit_amount[enabled]=true");
    let price_cases: Vec<(String, &str, &str)> = vec![
        (
            format!("{usd}&unit_amount=abc"),
            "parameter_invalid_integer",
            "unit_amount",
        ),
        (
            format!("{usd}&unit_amount=-5"),
            "parameter_invalid",
            "unit_amount",
        ),
        (
            format!("{usd}&unit_amount=100000000000"),
            "parameter_invalid",
            "unit_amount",
        ),
        (
            format!("product={product}&currency=xyz&unit_amount=5"),
            "parameter_invalid",
            "currency",
        ),
        (
            format!("{usd_5}&unit_amount_decimal=5"),
            "parameter_invalid",
            "unit_amount",
        ),
        (
            format!("{usd_5}&recurring[interval]=fortnight"),
            "parameter_invalid",
            "recurring[interval]",
        ),
        (
            format!("{usd_5}&recurring[interval]=month&recurring[interval_count]=0"),
            "parameter_invalid",
            "recurring[interval_count]",
        ),
        (
            format!("{usd_5}&recurring[interval]=month&recurring[usage_type]=metered"),
            "",
            "recurring[usage_type]",
        ),
        (
            format!("{usd_5}&recurring[colour]=red"),
            "parameter_unknown",
            "recurring[colour]",
        ),
        (
            format!("{usd_5}&custom_unit_amount[enabled]=true"),
            "parameter_invalid",
            "custom_unit_amount",
        ),
        (
            format!("{custom}&custom_unit_amount[minimum]=-1"),
            "parameter_invalid",
            "custom_unit_amount[minimum]",
        ),
        (
            format!("{custom}&custom_unit_amount[minimum]=500&custom_unit_amount[maximum]=100"),
            "parameter_invalid",
            "custom_unit_amount[maximum]",
        ),
        (
            format!("{usd_5}&tax_behavior=sometimes"),
            "parameter_invalid",
            "tax_behavior",
        ),
        (
            format!("{usd_5}&billing_scheme=tiered"),
            "",
            "billing_scheme",
        ),
        (
            format!("{usd_5}&lookup_key={}", "l".repeat(201)),
            "parameter_invalid",
            "lookup_key",
        ),
        (
            format!("{usd_5}&nickname={}", "n".repeat(251)),
            "parameter_invalid",
            "nickname",
        ),
        (
            format!("{usd_5}&metadata[note]={long_value}"),
            "parameter_invalid",
            "metadata[note]",
        ),
        (
            format!("{usd_5}&product_data[name]=Other"),
            "parameter_invalid",
            "product_data",
        ),
        (format!("{usd_5}&colour=red"), "parameter_unknown", "colour"),
        (
            "currency=usd&unit_amount=5&product_data[colour]=red".into(),
            "parameter_unknown",
            "product_data[colour]",
        ),
        (
            "currency=usd&unit_amount=5&product_data[active]=true".into(),
            "parameter_missing",
            "product_data[name]",
        ),
    ];
    for (body, code, param) in &price_cases {
        let error = api.form_text("/v1/prices", body, 400).await;
        stripe_error(&error, code, param);
    }
    assert!(
        ids(&api.get("/v1/prices", 200).await).is_empty(),
        "refused prices were not created"
    );
    assert_eq!(ids(&api.get("/v1/products", 200).await), vec![product]);
}

// ----- 7. Money ----------------------------------------------------------------------------------

async fn amounts_follow_the_currency_exponent(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);

    // (priceAmount as sent, currency, minor units, as V2/V3 show it)
    let cases = [
        (json!(29.99), "usd", 2999, "29.99"),
        (json!("29.99"), "USD", 2999, "29.99"),
        (json!(12.3), "usd", 1230, "12.30"),
        (json!("12.30"), "eur", 1230, "12.30"),
        (json!(7), "gbp", 700, "7.00"),
        (json!("500"), "jpy", 500, "500"),
        (json!(500), "JPY", 500, "500"),
        (json!("1"), "krw", 1, "1"),
        (json!("1.234"), "kwd", 1234, "1.234"),
        (json!(1.234), "kwd", 1234, "1.234"),
        (json!("2"), "bhd", 2000, "2.000"),
        (json!("0.5"), "jod", 500, "0.500"),
    ];
    for (surface, loops_v2) in [("/api/v3/products", false), ("/api/v2/products", true)] {
        for (amount, currency, minor, major) in &cases {
            let product = api
                .post(
                    surface,
                    json!({"name": "Money", "priceAmount": amount, "priceCurrency": currency}),
                    200,
                )
                .await;
            assert_eq!(
                product["priceAmount"], *major,
                "{surface} {amount} {currency}"
            );
            let lower = currency.to_lowercase();
            let shown_currency = if loops_v2 {
                currency.to_uppercase()
            } else {
                lower.clone()
            };
            assert_eq!(product["priceCurrency"], shown_currency);
            let id = text(&product["id"]);
            let v3 = api.get(&format!("/api/v3/products/{id}"), 200).await;
            let price = api
                .get(&format!("/v1/prices/{}", text(&v3["default_price"])), 200)
                .await;
            assert_eq!(
                price["unit_amount"], *minor,
                "{surface} {amount} {currency}"
            );
            assert_eq!(price["currency"], lower);
            assert_eq!(v3["priceAmount"], *major);
            let v2 = api.get(&format!("/api/v2/products/{id}"), 200).await;
            assert_eq!(v2["priceAmount"], *major);
            assert_eq!(v2["priceCurrency"], currency.to_uppercase());
        }
        for (amount, currency) in [
            (json!("500.5"), "jpy"),
            (json!(500.5), "jpy"),
            (json!("29.999"), "usd"),
            (json!("1.2345"), "kwd"),
            (json!("0.49"), "usd"),
            (json!("0.499"), "kwd"),
        ] {
            let error = api
                .post(
                    surface,
                    json!({"name": "Money", "priceAmount": amount, "priceCurrency": currency}),
                    400,
                )
                .await;
            let param = if loops_v2 {
                text(&error["param"]).to_string()
            } else {
                text(&error["error"]["param"]).to_string()
            };
            assert_eq!(
                param, "priceAmount",
                "{surface} {amount} {currency}: {error}"
            );
        }
    }

    // CUSTOM bounds in a three-decimal currency, and a JPY product's new amount.
    let custom = api
        .v3_product(json!({"name": "Tip", "amountType": "CUSTOM", "priceCurrency": "kwd", "minimumAmount": "0.5", "presetAmount": 1.25}))
        .await;
    assert_eq!(custom["minimumAmount"], "0.500");
    assert_eq!(custom["presetAmount"], "1.250");
    let price = api
        .get(
            &format!("/v1/prices/{}", text(&custom["default_price"])),
            200,
        )
        .await;
    assert_eq!(price["custom_unit_amount"]["minimum"], 500);
    assert_eq!(price["custom_unit_amount"]["preset"], 1250);
    let error = api
        .v3_product_error(json!({"name": "Tip", "amountType": "CUSTOM", "priceCurrency": "jpy", "presetAmount": 10001}))
        .await;
    stripe_error(&error, "parameter_invalid", "presetAmount");
    let yen = api
        .v3_product(json!({"name": "Yen", "priceAmount": 500, "priceCurrency": "jpy"}))
        .await;
    let path = format!("/api/v3/products/{}", text(&yen["id"]));
    let repriced = api.put(&path, json!({"priceAmount": "750"}), 200).await;
    assert_eq!(repriced["priceAmount"], "750");
    assert_eq!(repriced["priceCurrency"], "jpy");
    let error = api.put(&path, json!({"priceAmount": "750.25"}), 400).await;
    stripe_error(&error, "parameter_invalid", "priceAmount");

    // /v1 minor units read back as Loops major units.
    for (currency, unit_amount, major) in [
        ("jpy", "500", "500"),
        ("kwd", "1234", "1.234"),
        ("usd", "5", "0.05"),
    ] {
        let product = api
            .form(
                "/v1/products",
                &[
                    ("name", "Stripe"),
                    ("default_price_data[currency]", currency),
                    ("default_price_data[unit_amount]", unit_amount),
                ],
                200,
            )
            .await;
        assert_eq!(product["priceAmount"], major);
        let v2 = api
            .get(&format!("/api/v2/products/{}", text(&product["id"])), 200)
            .await;
        assert_eq!(v2["priceAmount"], major);
        assert_eq!(v2["priceCurrency"], currency.to_uppercase());
    }
}

impl Api<'_> {
    async fn v3_product_error(&self, body: Value) -> Value {
        self.post("/api/v3/products", body, 400).await
    }
}

// ----- 8. Unknown ids and isolation --------------------------------------------------------------

async fn unknown_ids_are_404_in_each_surface_shape(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let api = Api::new(&server, &account.test_key);
    let v2_missing = json!({"statusCode": 404, "error": "Not Found", "message": "Product not found",
                            "code": "resource_missing", "param": "id"});
    assert_eq!(api.get("/api/v2/products/prod_x", 404).await, v2_missing);
    assert_eq!(
        api.put("/api/v2/products/prod_x", json!({"name": "N"}), 404)
            .await,
        v2_missing
    );

    let stripe_missing = |object: &str, id: &str| {
        json!({"error": {"type": "invalid_request_error", "code": "resource_missing",
                         "message": format!("No such {object}: '{id}'"), "param": "id"}})
    };
    let product = stripe_missing("product", "prod_x");
    assert_eq!(api.get("/api/v3/products/prod_x", 404).await, product);
    assert_eq!(
        api.put("/api/v3/products/prod_x", json!({"name": "N"}), 404)
            .await,
        product
    );
    assert_eq!(api.delete("/api/v3/products/prod_x", 404).await, product);
    assert_eq!(api.get("/v1/products/prod_x", 404).await, product);
    assert_eq!(
        api.form("/v1/products/prod_x", &[("name", "N")], 404).await,
        product
    );
    assert_eq!(api.delete("/v1/products/prod_x", 404).await, product);

    let price = stripe_missing("price", "price_x");
    assert_eq!(api.get("/v1/prices/price_x", 404).await, price);
    assert_eq!(
        api.form("/v1/prices/price_x", &[("nickname", "N")], 404)
            .await,
        price
    );

    let link = stripe_missing("payment_link", "pl_x");
    assert_eq!(api.get("/api/v3/payment-links/pl_x", 404).await, link);
    assert_eq!(
        api.put("/api/v3/payment-links/pl_x", json!({"label": "L"}), 404)
            .await,
        link
    );
    assert_eq!(api.get("/v1/payment_links/pl_x", 404).await, link);
    assert_eq!(
        api.form("/v1/payment_links/pl_x", &[("active", "false")], 404)
            .await,
        link
    );
    assert_eq!(
        api.get("/v1/payment_links/pl_x/line_items", 404).await,
        link
    );
}

async fn other_accounts_and_modes_see_nothing(engine: Engine) {
    let server = TestServer::start(engine).await;
    let account = server.account("Acme").await;
    let other = server.account("Other").await;
    let owner = Api::new(&server, &account.test_key);

    let product = owner
        .v3_product(json!({"name": "Secret", "priceAmount": 10, "metadata": {"a": "1"}}))
        .await;
    let product_id = text(&product["id"]).to_string();
    let price = owner
        .price(&product_id, &[("currency", "usd"), ("unit_amount", "700")])
        .await;
    let price_id = text(&price["id"]).to_string();
    let link = owner
        .post(
            "/api/v3/payment-links",
            json!({"productIds": [product_id]}),
            200,
        )
        .await;
    let link_id = text(&link["id"]).to_string();

    for (who, key) in [
        ("another account", &other.test_key),
        ("the live key", &account.live_key),
    ] {
        let api = Api::new(&server, key);
        let v2 = api
            .get(&format!("/api/v2/products/{product_id}"), 404)
            .await;
        assert_eq!(
            loops_error(&v2, 404, "resource_missing", "id"),
            "Product not found",
            "{who}"
        );
        let v2 = api
            .put(
                &format!("/api/v2/products/{product_id}"),
                json!({"name": "Mine"}),
                404,
            )
            .await;
        loops_error(&v2, 404, "resource_missing", "id");

        let v3 = format!("/api/v3/products/{product_id}");
        for error in [
            api.get(&v3, 404).await,
            api.put(&v3, json!({"name": "Mine"}), 404).await,
            api.delete(&v3, 404).await,
        ] {
            let message = stripe_error(&error, "resource_missing", "id");
            assert_eq!(message, format!("No such product: '{product_id}'"), "{who}");
        }
        let v1 = format!("/v1/products/{product_id}");
        for error in [
            api.get(&v1, 404).await,
            api.form(&v1, &[("name", "Mine")], 404).await,
            api.delete(&v1, 404).await,
        ] {
            stripe_error(&error, "resource_missing", "id");
        }
        let price_path = format!("/v1/prices/{price_id}");
        for error in [
            api.get(&price_path, 404).await,
            api.form(&price_path, &[("active", "false")], 404).await,
        ] {
            let message = stripe_error(&error, "resource_missing", "id");
            assert_eq!(message, format!("No such price: '{price_id}'"));
        }
        for error in [
            api.get(&format!("/api/v3/payment-links/{link_id}"), 404)
                .await,
            api.put(
                &format!("/api/v3/payment-links/{link_id}"),
                json!({"active": false}),
                404,
            )
            .await,
            api.get(&format!("/v1/payment_links/{link_id}"), 404).await,
            api.form(
                &format!("/v1/payment_links/{link_id}"),
                &[("active", "false")],
                404,
            )
            .await,
            api.get(&format!("/v1/payment_links/{link_id}/line_items"), 404)
                .await,
        ] {
            stripe_error(&error, "resource_missing", "id");
        }

        // Lists never show them.
        let v2_list = api.get("/api/v2/products", 200).await;
        assert_eq!(v2_list["total"], 0, "{who}");
        assert!(ids(&v2_list).is_empty());
        for path in [
            "/api/v3/products".to_string(),
            "/api/v3/payment-links".to_string(),
            "/v1/products".to_string(),
            "/v1/prices".to_string(),
            "/v1/payment_links".to_string(),
            format!("/v1/products?ids[]={product_id}"),
        ] {
            let list = api.get(&path, 200).await;
            assert!(ids(&list).is_empty(), "{who} sees {path}: {list}");
        }
        // A filter naming it names nothing, as an unknown id would.
        let error = api
            .get(&format!("/v1/prices?product={product_id}"), 400)
            .await;
        stripe_error(&error, "resource_missing", "product");

        // Nor can they be used or pointed at.
        let error = api
            .post(
                "/api/v3/payment-links",
                json!({"productIds": [product_id]}),
                400,
            )
            .await;
        stripe_error(&error, "resource_missing", "productIds[0]");
        let error = api
            .post(
                "/api/v3/payment-links",
                json!({"line_items": [{"price": price_id}]}),
                400,
            )
            .await;
        stripe_error(&error, "resource_missing", "line_items[0][price]");
        let error = api
            .form(
                "/v1/prices",
                &[
                    ("product", &product_id),
                    ("currency", "usd"),
                    ("unit_amount", "1"),
                ],
                400,
            )
            .await;
        stripe_error(&error, "resource_missing", "product");
        let error = api
            .get(&format!("/v1/products?starting_after={product_id}"), 400)
            .await;
        stripe_error(&error, "resource_missing", "starting_after");
    }

    // The owner's objects are untouched.
    assert_eq!(
        owner
            .get(&format!("/api/v3/products/{product_id}"), 200)
            .await,
        product
    );
    assert_eq!(
        owner.get(&format!("/v1/prices/{price_id}"), 200).await,
        price
    );
    assert_eq!(
        owner
            .get(&format!("/api/v3/payment-links/{link_id}"), 200)
            .await,
        link
    );
    assert_eq!(owner.get("/api/v2/products", 200).await["total"], 1);
    assert_eq!(
        ids(&owner
            .get(&format!("/v1/products?ids[]={product_id}"), 200)
            .await),
        vec![product_id.clone()]
    );
}

// ----- 9. Documentation --------------------------------------------------------------------------

async fn catalog_routes_are_documented(engine: Engine) {
    let server = TestServer::start(engine).await;
    let response = server
        .request(Method::GET, "/openapi.json")
        .send()
        .await
        .unwrap();
    let document = json_with_status(response, 200).await;
    let paths = document["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/v2/products", &["get", "post"][..]),
        ("/api/v2/products/{id}", &["get", "put"]),
        ("/api/v3/products", &["get", "post"]),
        ("/api/v3/products/{id}", &["get", "put", "delete"]),
        ("/api/v3/payment-links", &["get", "post"]),
        ("/api/v3/payment-links/{id}", &["get", "put"]),
        ("/v1/products", &["get", "post"]),
        ("/v1/products/{id}", &["get", "post", "delete"]),
        ("/v1/prices", &["get", "post"]),
        ("/v1/prices/{id}", &["get", "post"]),
        ("/v1/payment_links", &["get", "post"]),
        ("/v1/payment_links/{id}", &["get", "post"]),
        ("/v1/payment_links/{id}/line_items", &["get"]),
    ] {
        let operations = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} is missing from /openapi.json"));
        for method in methods {
            let operation = &operations[*method];
            assert!(operation.is_object(), "{method} {path} is not documented");
            assert!(
                operation["security"].is_array(),
                "{method} {path} does not say it needs a key"
            );
        }
    }
}
