//! `kassa listen`: follows an account's events on a kassa server (`GET /v1/events/stream`) and
//! forwards each to a local URL, signed like a webhook with a secret printed at start, so a
//! shop's webhook handler can be developed on a laptop, as with `stripe listen`.
//!
//! When the connection drops (the server restarts), it reconnects with the last event id it
//! saw; the server sends again the events from a few seconds before it, and the ids already
//! forwarded are dropped here, so each event is forwarded once.

use std::collections::{HashSet, VecDeque};

use std::time::Duration;

/// How many forwarded ids are remembered to drop repeats after a reconnection.
const REMEMBERED: usize = 10_000;

/// The ids forwarded lately, oldest first.
#[derive(Default)]
struct Forwarded {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl Forwarded {
    /// Notes `id`; false when it was forwarded already.
    fn first_time(&mut self, id: &str) -> bool {
        if !self.ids.insert(id.to_string()) {
            return false;
        }
        self.order.push_back(id.to_string());
        if self.order.len() > REMEMBERED
            && let Some(oldest) = self.order.pop_front()
        {
            self.ids.remove(&oldest);
        }
        true
    }
}

use anyhow::Context;

use crate::domain::webhooks::{new_secret, signature_headers};

pub struct ListenOptions {
    /// The kassa server, such as `http://127.0.0.1:4242`.
    pub server: String,
    pub api_key: String,
    pub forward_to: String,
    /// Event types to forward (a trailing `*` matches a prefix); all when empty.
    pub events: Vec<String>,
}

/// One server-sent event.
#[derive(Debug, Default)]
struct Message {
    id: Option<String>,
    event: Option<String>,
    data: String,
}

fn wanted(events: &[String], kind: &str) -> bool {
    events.is_empty()
        || events.iter().any(|e| match e.strip_suffix('*') {
            Some(prefix) => kind.starts_with(prefix),
            None => e == kind,
        })
}

fn now_text() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// Runs until interrupted, or until the server refuses the key; fails at once when the first
/// connection does.
pub async fn listen(options: ListenOptions) -> anyhow::Result<()> {
    crate::delivery::install_tls_provider();
    let secret = new_secret();
    let stream_url = format!("{}/v1/events/stream", options.server.trim_end_matches('/'));
    let streaming = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()?;
    let forwarding = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut last_event: Option<String> = None;
    let mut forwarded = Forwarded::default();
    let mut announced = false;
    let mut backoff = Duration::from_millis(250);
    loop {
        let mut request = streaming
            .get(&stream_url)
            .bearer_auth(&options.api_key)
            .header("accept", "text/event-stream");
        if let Some(id) = &last_event {
            request = request.header("last-event-id", id);
        }
        // Until the first connection, every failure ends `listen`: the server or key given is
        // wrong. Once connected, a failure is a server restarting: try again, unless the key
        // was refused (revoked meanwhile). Too many streams open with the key (429) waits for
        // one to close either way.
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                let error = crate::client::unreachable(&options.server, &error);
                if !announced {
                    return Err(error);
                }
                eprintln!("{}  {error}; retrying", now_text());
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        let status = response.status();
        if status == reqwest::StatusCode::BAD_REQUEST && last_event.is_some() {
            eprintln!(
                "{}  the server no longer has event {}; following from now",
                now_text(),
                last_event.take().unwrap_or_default()
            );
            continue;
        }
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let error = crate::client::refusal(&options.server, status, &body);
            let waits = status == reqwest::StatusCode::TOO_MANY_REQUESTS;
            if status == reqwest::StatusCode::UNAUTHORIZED || (!announced && !waits) {
                return Err(error);
            }
            eprintln!("{}  {error}; retrying", now_text());
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
            continue;
        }
        let streams = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
        if !streams {
            let error = crate::client::not_kassa(&options.server, status);
            // Once connected, an answer that is not a stream is a page in front of a server
            // that is restarting: try again, as after any other failure.
            if !announced {
                return Err(error);
            }
            eprintln!("{}  {error}; retrying", now_text());
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
            continue;
        }
        backoff = Duration::from_millis(250);
        if announced {
            println!("{}  reconnected", now_text());
        } else {
            println!(
                "Ready! Forwarding events from {} to {}",
                options.server, options.forward_to
            );
            println!("Your webhook signing secret is {secret} (^C to quit)");
            announced = true;
        }
        let ended = follow(
            response,
            &options,
            &forwarding,
            &secret,
            &mut last_event,
            &mut forwarded,
        )
        .await;
        eprintln!("{}  connection lost ({ended}); reconnecting", now_text());
    }
}

/// Reads one connection's events until it ends; returns why it ended.
async fn follow(
    mut response: reqwest::Response,
    options: &ListenOptions,
    client: &reqwest::Client,
    secret: &str,
    last_event: &mut Option<String>,
    forwarded: &mut Forwarded,
) -> String {
    let mut buffer = Vec::new();
    let mut message = Message::default();
    loop {
        // The server sends a keep-alive every 15 s: silence for longer means a dead connection.
        let chunk = match tokio::time::timeout(Duration::from_secs(45), response.chunk()).await {
            Err(_) => return "no data for 45 s".into(),
            Ok(Ok(Some(chunk))) => chunk,
            Ok(Ok(None)) => return "the server closed the stream".into(),
            Ok(Err(error)) => return error.to_string(),
        };
        buffer.extend_from_slice(&chunk);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                let done = std::mem::take(&mut message);
                if let Some(id) = &done.id {
                    if forwarded.first_time(id) {
                        forward(&done, options, client, secret).await;
                    }
                    *last_event = Some(id.clone());
                }
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => message.id = Some(value.to_string()),
                "event" => message.event = Some(value.to_string()),
                "data" => {
                    if !message.data.is_empty() {
                        message.data.push('\n');
                    }
                    message.data.push_str(value);
                }
                _ => {} // comments (keep-alives) and unknown fields
            }
        }
    }
}

async fn forward(
    message: &Message,
    options: &ListenOptions,
    client: &reqwest::Client,
    secret: &str,
) {
    let id = message.id.as_deref().unwrap_or_default();
    let kind = message.event.as_deref().unwrap_or("event");
    if !wanted(&options.events, kind) {
        return;
    }
    println!("{}   --> {kind} [{id}]", now_text());
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut request = client
        .post(&options.forward_to)
        .header("content-type", "application/json");
    for (name, value) in signature_headers(&[secret], id, timestamp, message.data.as_bytes()) {
        request = request.header(name, value);
    }
    match request.body(message.data.clone()).send().await {
        Ok(response) => println!(
            "{}  <--  [{}] POST {} [{id}]",
            now_text(),
            response.status().as_u16(),
            options.forward_to
        ),
        Err(error) => println!(
            "{}  <--  [ERR] POST {} [{id}]: {}",
            now_text(),
            options.forward_to,
            error
        ),
    }
}

/// Checks `--forward-to` before starting.
pub fn check_forward_url(url: &str) -> anyhow::Result<()> {
    crate::domain::validate::url(url, "forward-to", false)
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("--forward-to must be an absolute http(s) URL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_filters() {
        assert!(wanted(&[], "customer.created"));
        let events = vec![
            "checkout.session.*".to_string(),
            "customer.created".to_string(),
        ];
        assert!(wanted(&events, "checkout.session.completed"));
        assert!(wanted(&events, "customer.created"));
        assert!(!wanted(&events, "customer.updated"));
    }
}
