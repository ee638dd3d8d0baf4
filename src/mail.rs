//! Receipt emails, as Stripe sends them: one to the customer for each payment (a checkout's or
//! a renewal's) and each refund, in plain text and HTML, with the receipt's link.
//!
//! They are queued in the database with the events they tell of
//! ([`crate::store::emails::queue_for`]) and sent at least once by a worker in every `kassa
//! serve` that has an SMTP server (`--smtp-url`), claimed with a lease like webhook deliveries.
//! Each carries a Message-ID derived from its id, so a resend after a crash is the same
//! message to the receiving side. A server without SMTP marks the emails it finds `skipped`, so
//! that configuring SMTP later does not send old receipts.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::config::SmtpSettings;
use crate::domain::receipts;
use crate::domain::{DomainError, refunds};
use crate::store::emails::{self, ClaimedEmail, Sent};
use crate::store::{Db, StoreResult};

/// Wakes the mail workers of this process when an email has been queued.
pub static WAKE: Notify = Notify::const_new();

/// The longest one attempt may take, the SMTP conversation included (lettre's own timeout
/// covers only the connection).
const TIMEOUT: Duration = Duration::from_secs(20);
/// Emails claimed at once, and sent one after another...
const BATCH: i64 = 4;
/// ...within their claim's lease, beyond the batch's longest time.
const LEASE_SECONDS: i64 = 120;
/// Seconds from an attempt that failed to the next: about two days in all, then it is
/// `failed`.
const RETRY_AFTER: [i64; 7] = [60, 300, 1_800, 7_200, 21_600, 43_200, 86_400];

/// Reads a From address such as `Shop <receipts@shop.example>` or `receipts@shop.example`.
pub fn parse_from(text: &str) -> Result<Mailbox, String> {
    text.parse::<Mailbox>().map_err(|e| e.to_string())
}

/// An SMTP server and who receipts are from.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// `--smtp-from`, if given; otherwise `receipts@<host>`, named after each merchant.
    from: Option<Mailbox>,
    /// The public URL's host: the right-hand side of Message-IDs and of the default sender.
    host: String,
    /// Whether test-mode receipts are sent too (`--smtp-test-mode`).
    test_mode: bool,
}

impl Mailer {
    pub fn new(settings: &SmtpSettings, public_url: &str) -> anyhow::Result<Mailer> {
        crate::delivery::install_tls_provider();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url)
            .map_err(|e| anyhow::anyhow!("invalid SMTP URL '{}': {e}", settings.redacted()))?
            .timeout(Some(TIMEOUT))
            .build();
        let from = match &settings.from {
            Some(from) => Some(parse_from(from).map_err(anyhow::Error::msg)?),
            None => None,
        };
        let host = url::Url::parse(public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| "localhost".to_string());
        let no_domain = host.parse::<std::net::IpAddr>().is_ok() || host == "localhost";
        if from.is_none() && no_domain {
            tracing::warn!(%host, "receipt emails are from receipts@{host}, which SMTP relays \
                usually refuse: set --smtp-from");
        }
        Ok(Mailer {
            transport,
            from,
            host,
            test_mode: settings.test_mode,
        })
    }

    /// The sender of `merchant`'s receipts.
    fn sender(&self, merchant: &str) -> Mailbox {
        if let Some(from) = &self.from {
            return from.clone();
        }
        let address = format!("receipts@{}", self.host)
            .parse()
            .unwrap_or_else(|_| "receipts@localhost".parse().expect("a valid address"));
        Mailbox::new(Some(merchant.to_string()), address)
    }
}

/// Sends due emails until `stop` is cancelled: through `mailer`, or, without one, marking them
/// skipped.
pub async fn run(
    db: Db,
    clock: SharedClock,
    mailer: Option<Mailer>,
    public_url: String,
    every: Duration,
    stop: CancellationToken,
) {
    loop {
        match send_due(&db, mailer.as_ref(), clock.now(), &public_url).await {
            Ok(n) if n as i64 >= BATCH => continue,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "claiming receipt emails failed; will retry"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = WAKE.notified() => {}
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// Claims the emails due at `now` and sends each once; returns how many it claimed.
pub async fn send_due(
    db: &Db,
    mailer: Option<&Mailer>,
    now: i64,
    public_url: &str,
) -> StoreResult<usize> {
    let Some(mailer) = mailer else {
        return Ok(emails::skip_due(db, now).await? as usize);
    };
    let claimed = emails::claim_due(db, now, LEASE_SECONDS, BATCH).await?;
    for email in &claimed {
        let sent = if email.livemode || mailer.test_mode {
            send(db, mailer, email, now, public_url).await
        } else {
            Sent::Skipped {
                why: "test-mode receipts are emailed only with --smtp-test-mode",
            }
        };
        if let Sent::Retry { error, .. } | Sent::Failed { error } = &sent {
            tracing::warn!(email = %email.id, attempts = email.attempts, %error, "a receipt email was not sent");
        }
        emails::finish(db, email, &sent, now).await?;
    }
    Ok(claimed.len())
}

/// One attempt at `email`: composed from what its receipt shows now, then handed to the SMTP
/// server. A permanent refusal (5xx) or an email that cannot be composed fails for good;
/// anything else is tried again later.
async fn send(db: &Db, mailer: &Mailer, email: &ClaimedEmail, now: i64, public_url: &str) -> Sent {
    let retry = |error: String| match RETRY_AFTER.get(email.attempts as usize - 1) {
        Some(after) => Sent::Retry {
            at: now + after,
            error,
        },
        None => Sent::Failed { error },
    };
    let message = match compose(db, mailer, email, public_url).await {
        Ok(message) => message,
        Err(Unsendable::Never(error)) => return Sent::Failed { error },
        Err(Unsendable::Now(error)) => return retry(error),
    };
    match tokio::time::timeout(TIMEOUT, mailer.transport.send(message)).await {
        Ok(Ok(_)) => Sent::Accepted,
        Ok(Err(error)) if error.is_permanent() => Sent::Failed {
            error: error.to_string(),
        },
        Ok(Err(error)) => retry(error.to_string()),
        Err(_) => retry(format!("no answer from the SMTP server within {TIMEOUT:?}")),
    }
}

/// Why an email could not be composed.
enum Unsendable {
    /// Its receipt or address is missing or invalid: it never will be.
    Never(String),
    /// The database did not answer: later.
    Now(String),
}

impl From<DomainError> for Unsendable {
    fn from(error: DomainError) -> Unsendable {
        match error {
            DomainError::Store(_) => Unsendable::Now(error.to_string()),
            error => Unsendable::Never(error.to_string()),
        }
    }
}

/// The message of `email`: a receipt, or a refund's notice, with its Message-ID.
async fn compose(
    db: &Db,
    mailer: &Mailer,
    email: &ClaimedEmail,
    public_url: &str,
) -> Result<Message, Unsendable> {
    let (receipt, refund) = match email.kind.as_str() {
        "refund" => {
            let caller =
                crate::domain::accounts::Caller::without_key(&email.account_id, email.livemode);
            let refund = refunds::get(db, &caller, &email.object_id).await?;
            (
                receipts::of_charge(db, &refund.charge_id).await?,
                Some(refund),
            )
        }
        _ => (receipts::of_charge(db, &email.object_id).await?, None),
    };
    let letter = crate::http::pages::receipts::letter(&receipt, refund.as_ref(), public_url);
    let to: Mailbox = email.recipient.parse().map_err(|e| {
        Unsendable::Never(format!("the address {} is not valid: {e}", email.recipient))
    })?;
    Message::builder()
        .from(mailer.sender(&receipt.merchant))
        .to(to)
        .subject(letter.subject)
        .message_id(Some(format!("<{}@{}>", email.id, mailer.host)))
        .multipart(MultiPart::alternative_plain_html(letter.text, letter.html))
        .map_err(|e| Unsendable::Never(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_addresses_are_read_with_or_without_a_name() {
        assert_eq!(
            parse_from("Shop <receipts@shop.example>")
                .unwrap()
                .to_string(),
            "Shop <receipts@shop.example>"
        );
        assert!(parse_from("receipts@shop.example").is_ok());
        assert!(parse_from("not an address").is_err());
    }
}
