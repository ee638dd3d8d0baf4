//! A real webhook receiver on 127.0.0.1 that records every delivery, and the signature checks
//! that Stripe's and Standard Webhooks' libraries make.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use serde_json::Value;

/// A webhook receiver on 127.0.0.1:0: records every request and answers with the statuses
/// queued (200 once the queue is empty).
#[derive(Clone, Default)]
pub struct Receiver {
    pub received: Arc<Mutex<Vec<Delivery>>>,
    pub answers: Arc<Mutex<VecDeque<u16>>>,
}

#[derive(Clone, Debug)]
pub struct Delivery {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub status: u16,
}

impl Delivery {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

impl Receiver {
    pub async fn start() -> (Receiver, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Receiver::start_on(listener)
    }

    /// A receiver answering on `listener` (to come back on the port of one that went down).
    pub fn start_on(listener: tokio::net::TcpListener) -> (Receiver, String) {
        let receiver = Receiver::default();
        let state = receiver.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let status = state.answers.lock().unwrap().pop_front().unwrap_or(200);
                state.received.lock().unwrap().push(Delivery {
                    headers,
                    body,
                    status,
                });
                (StatusCode::from_u16(status).unwrap(), "received")
            }
        });
        let url = format!("http://{}/webhooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    pub fn answer(&self, statuses: &[u16]) {
        self.answers.lock().unwrap().extend(statuses);
    }

    pub fn received(&self) -> Vec<Delivery> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (in real time, for the server's workers) until `count` requests have arrived.
    pub async fn wait_for(&self, count: usize) -> Vec<Delivery> {
        for _ in 0..300 {
            if self.received().len() >= count {
                return self.received();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {count} deliveries, got {}", self.received().len());
    }
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn mac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Checks both signatures of a delivery against `secret`, as Stripe's and Standard Webhooks'
/// libraries do: Stripe-Signature (`t=..,v1=<hex>`, keyed with the secret's text, over
/// `t.body`) and webhook-signature (`v1,<base64>`, keyed with the base64-decoded secret, over
/// `id.t.body`).
pub fn verify(delivery: &Delivery, secret: &str) -> bool {
    let header = |name: &str| {
        delivery
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let stripe = header("stripe-signature");
    let t = stripe
        .split(',')
        .find_map(|p| p.strip_prefix("t="))
        .unwrap_or_default()
        .to_string();
    let expected = hex::encode(mac(
        secret.as_bytes(),
        &[t.as_bytes(), b".", &delivery.body].concat(),
    ));
    let stripe_ok = stripe
        .split(',')
        .filter_map(|p| p.strip_prefix("v1="))
        .any(|sig| sig == expected);
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
    let signed = [
        id.as_bytes(),
        b".",
        timestamp.as_bytes(),
        b".",
        &delivery.body,
    ]
    .concat();
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac(&key, &signed))
    );
    let standard_ok = header("webhook-signature")
        .split(' ')
        .any(|sig| sig == expected);
    stripe_ok && standard_ok && timestamp == t
}
