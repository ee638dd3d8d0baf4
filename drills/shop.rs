//! A shop and its customers, as the drills drive them: sessions created through `/v1`, paid
//! through the hosted page's form, and what the database says afterwards.

use std::collections::BTreeSet;

use kassa::store::Db;
use serde_json::Value;

/// What a request came back with.
#[derive(Debug)]
pub enum Answer<T> {
    /// A 2xx (or the expected redirect): the server acknowledged it.
    Acknowledged(T),
    /// No answer: the connection was refused or cut (the server was down or killed).
    Lost,
    /// An answer kassa should never give here.
    Unexpected(String),
}

pub struct Shop {
    pub http: reqwest::Client,
    pub key: String,
}

impl Shop {
    pub fn new(key: &str) -> Shop {
        Shop {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap(),
            key: key.to_string(),
        }
    }

    /// `POST /v1/checkout/sessions` for one shirt at 25.00.
    pub async fn create_session(&self, base: &str) -> Answer<String> {
        let response = self
            .http
            .post(format!("{base}/v1/checkout/sessions"))
            .bearer_auth(&self.key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                "mode=payment&line_items[0][price_data][currency]=usd\
                 &line_items[0][price_data][unit_amount]=2500\
                 &line_items[0][price_data][product_data][name]=Shirt&line_items[0][quantity]=1\
                 &success_url=https%3A%2F%2Fshop.example%2Fok",
            )
            .send()
            .await;
        match response {
            Err(_) => Answer::Lost,
            Ok(r) if r.status() == 200 => match r.json::<Value>().await {
                Ok(body) => Answer::Acknowledged(body["id"].as_str().unwrap().to_string()),
                Err(_) => Answer::Lost,
            },
            Ok(r) => Answer::Unexpected(format!("create answered {}", r.status())),
        }
    }

    /// `POST /v1/checkout/sessions` in subscription mode, for `customer` and one of `price`.
    pub async fn create_subscription_session(
        &self,
        base: &str,
        customer: &str,
        price: &str,
    ) -> Answer<String> {
        let body = format!(
            "mode=subscription&customer={customer}&line_items[0][price]={price}\
             &line_items[0][quantity]=1&success_url=https%3A%2F%2Fshop.example%2Fok"
        );
        match self
            .call(reqwest::Method::POST, base, "/v1/checkout/sessions", &body)
            .await
        {
            Answer::Acknowledged(session) => {
                Answer::Acknowledged(session["id"].as_str().unwrap().to_string())
            }
            Answer::Lost => Answer::Lost,
            Answer::Unexpected(what) => Answer::Unexpected(what),
        }
    }

    /// A `/v1` request with a form `body`: its JSON when it answers 200.
    pub async fn call(
        &self,
        method: reqwest::Method,
        base: &str,
        path: &str,
        body: &str,
    ) -> Answer<Value> {
        let response = self
            .http
            .request(method, format!("{base}{path}"))
            .bearer_auth(&self.key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string())
            .send()
            .await;
        match response {
            Err(_) => Answer::Lost,
            Ok(r) if r.status() == 200 => match r.json::<Value>().await {
                Ok(body) => Answer::Acknowledged(body),
                Err(_) => Answer::Lost,
            },
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                Answer::Unexpected(format!("{path} answered {status}: {text}"))
            }
        }
    }

    /// Opens the hosted page: the form's CSRF cookie and token.
    pub async fn open_page(&self, base: &str, id: &str) -> Answer<(String, String)> {
        let response = match self.http.get(format!("{base}/checkout/{id}")).send().await {
            Err(_) => return Answer::Lost,
            Ok(r) => r,
        };
        if response.status() != 200 {
            return Answer::Unexpected(format!("the page answered {}", response.status()));
        }
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("kassa_csrf="))
            .map(|v| v.split(';').next().unwrap().to_string());
        let Ok(body) = response.text().await else {
            return Answer::Lost;
        };
        let token = body
            .find("name=\"csrf\" value=\"")
            .map(|start| body[start + 19..start + 19 + 32].to_string());
        match (cookie, token) {
            (Some(cookie), Some(token)) => Answer::Acknowledged((cookie, token)),
            _ => Answer::Unexpected("the page has no CSRF cookie or token".into()),
        }
    }

    /// Submits the page's form with the test card that succeeds; acknowledged with whether
    /// this submission is the one that paid (its redirect says `status=completed`).
    pub async fn pay(&self, base: &str, id: &str, form: &(String, String)) -> Answer<bool> {
        let (cookie, token) = form;
        let response = self
            .http
            .post(format!("{base}/checkout/{id}"))
            .header("cookie", cookie)
            .form(&[
                ("csrf", token.as_str()),
                ("action", "pay"),
                ("card_number", "4242 4242 4242 4242"),
                ("card_expiry", "12 / 40"),
                ("card_cvc", "123"),
                ("email", "drill@example.com"),
            ])
            .send()
            .await;
        match response {
            Err(_) => Answer::Lost,
            Ok(r) if r.status() == 303 => {
                let location = r.headers()["location"].to_str().unwrap_or_default();
                Answer::Acknowledged(location.contains("status=completed"))
            }
            Ok(r) => Answer::Unexpected(format!("paying answered {}", r.status())),
        }
    }

    /// `POST /v1/webhook_endpoints` for `events`; returns the secret.
    pub async fn endpoint(&self, base: &str, url: &str, events: &str) -> String {
        let response = self
            .http
            .post(format!("{base}/v1/webhook_endpoints"))
            .bearer_auth(&self.key)
            .form(&[("url", url), ("enabled_events[]", events)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let endpoint: Value = response.json().await.unwrap();
        endpoint["secret"].as_str().unwrap().to_string()
    }
}

/// Ids of `sql`'s single text column.
pub async fn ids(db: &Db, sql: &'static str) -> BTreeSet<String> {
    let rows: Vec<(String,)> = db
        .fetch_all(sql, &[])
        .await
        .expect("query the drill's database");
    rows.into_iter().map(|(id,)| id).collect()
}

/// The single number `sql` counts.
pub async fn count(db: &Db, sql: &'static str) -> i64 {
    let (count,): (i64,) = db
        .fetch_one(sql, &[])
        .await
        .expect("query the drill's database");
    count
}
