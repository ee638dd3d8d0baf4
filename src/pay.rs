//! `kassa pay`: pays a test-mode checkout session from the shell, through
//! `POST /v1/test_helpers/checkout/sessions/{id}/pay`, exactly as a customer paying on its
//! hosted page would (events and webhooks included).

use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

pub struct PayOptions {
    /// The kassa server, such as `http://127.0.0.1:4242`.
    pub server: String,
    pub api_key: String,
    /// `cs_test_...`
    pub session: String,
    /// A test card number, spaces allowed.
    pub card: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// A customer-chosen amount in minor units.
    pub amount: Option<i64>,
    /// Quantities by line index.
    pub quantities: Vec<(usize, i64)>,
}

/// How the payment ended when the server answered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Paid,
    /// The card was refused (a decline, or a number kassa refused before charging).
    Refused,
}

/// Reads `line=quantity` (`0=3`), the value of `--quantity`.
pub fn parse_quantity(text: &str) -> Result<(usize, i64), String> {
    let (line, quantity) = text
        .split_once('=')
        .ok_or_else(|| format!("'{text}' is not LINE=QUANTITY, such as 0=3"))?;
    let line = line
        .trim()
        .parse()
        .map_err(|_| format!("'{line}' is not a line index (0 for the first line)"))?;
    let quantity = quantity
        .trim()
        .parse()
        .map_err(|_| format!("'{quantity}' is not a quantity"))?;
    Ok((line, quantity))
}

/// The form body of the request.
fn form(options: &PayOptions) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("card", &options.card);
    if let Some(email) = &options.email {
        form.append_pair("email", email);
    }
    if let Some(name) = &options.name {
        form.append_pair("name", name);
    }
    if let Some(amount) = options.amount {
        form.append_pair("amount", &amount.to_string());
    }
    for (line, quantity) in &options.quantities {
        form.append_pair(
            &format!("line_items[{line}][quantity]"),
            &quantity.to_string(),
        );
    }
    form.finish()
}

/// The helper's URL on `server`, the session id encoded as one path segment.
fn endpoint(server: &str, session: &str) -> anyhow::Result<url::Url> {
    let mut url = url::Url::parse(server)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .with_context(|| format!("--server {server} is not an http(s) URL"))?;
    url.path_segments_mut()
        .map_err(|()| anyhow::anyhow!("--server {server} cannot take a path"))?
        .pop_if_empty()
        .extend(["v1", "test_helpers", "checkout", "sessions", session, "pay"]);
    Ok(url)
}

/// Pays the session and prints the outcome: the session's status and payment status, or the
/// refusal (on standard error). Any other answer, and an unreachable server, is an error naming
/// the server (see [`crate::client`]).
pub async fn pay(options: PayOptions) -> anyhow::Result<Outcome> {
    crate::delivery::install_tls_provider();
    let server = options.server.trim_end_matches('/').to_string();
    let url = endpoint(&server, &options.session)?;
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()?;
    let response = client
        .post(url)
        .bearer_auth(&options.api_key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&options))
        .send()
        .await
        .map_err(|e| crate::client::unreachable(&server, &e))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .with_context(|| format!("the kassa server at {server} broke off its answer"))?;
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let error = &body["error"];
    match (status.as_u16(), error["message"].as_str()) {
        (200, _) if body["object"] == "checkout.session" => {
            println!(
                "{}: status {}, payment status {}",
                body["id"].as_str().unwrap_or(&options.session),
                body["status"].as_str().unwrap_or("?"),
                body["payment_status"].as_str().unwrap_or("?"),
            );
            Ok(Outcome::Paid)
        }
        (402, Some(message)) => {
            let codes: Vec<&str> = [&error["code"], &error["decline_code"]]
                .into_iter()
                .filter_map(Value::as_str)
                .collect();
            eprintln!("declined: {message} ({})", codes.join(", "));
            Ok(Outcome::Refused)
        }
        _ => Err(crate::client::refusal(&server, status, &text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_read_as_line_equals_quantity() {
        assert_eq!(parse_quantity("0=3"), Ok((0, 3)));
        assert_eq!(parse_quantity(" 2 = 10 "), Ok((2, 10)));
        assert!(parse_quantity("3").is_err());
        assert!(parse_quantity("a=3").is_err());
        assert!(parse_quantity("0=x").is_err());
    }

    #[test]
    fn the_url_keeps_the_server_path_and_encodes_the_id() {
        assert_eq!(
            endpoint("http://127.0.0.1:4242", "cs_test_1")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:4242/v1/test_helpers/checkout/sessions/cs_test_1/pay"
        );
        assert_eq!(
            endpoint("https://pay.example/kassa/", "cs/../x?y")
                .unwrap()
                .as_str(),
            "https://pay.example/kassa/v1/test_helpers/checkout/sessions/cs%2F..%2Fx%3Fy/pay"
        );
        assert!(endpoint("127.0.0.1:4242", "cs_test_1").is_err());
    }

    #[test]
    fn the_form_carries_every_choice() {
        let options = PayOptions {
            server: String::new(),
            api_key: String::new(),
            session: String::new(),
            card: "4242 4242 4242 4242".into(),
            email: Some("ada@example.com".into()),
            name: None,
            amount: Some(1500),
            quantities: vec![(1, 3)],
        };
        assert_eq!(
            form(&options),
            "card=4242+4242+4242+4242&email=ada%40example.com&amount=1500&line_items%5B1%5D%5Bquantity%5D=3"
        );
    }
}
