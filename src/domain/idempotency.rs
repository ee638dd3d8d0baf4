//! Idempotency keys (`Idempotency-Key` on POST): the first request with a key runs; every
//! retry with the same key and the same request gets the first response back; a different
//! request with the key is refused; a retry while the first is still running waits its turn
//! (409). All of it lives in the database, so it holds across processes.

use sha2::{Digest, Sha256};

use super::DomainError;
use super::accounts::Caller;
use crate::store::{self, Db};

/// How long a key is remembered.
pub const RETENTION_SECONDS: i64 = 24 * 3600;
/// How long a claim by a request in flight holds; after it the request is taken to have died
/// (a crashed process) and the key may run again.
pub const LEASE_SECONDS: i64 = 60;
pub const MAX_KEY_CHARS: usize = 255;

/// What to do with a request that carries an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's: run it, then [`record`] the response.
    Run,
    /// The key already answered this request: send this again.
    Replay { status: u16, body: String },
    /// The first request with this key is still running.
    InFlight,
    /// The key was used for another endpoint.
    OtherRoute { route: String },
    /// The key was used with other parameters.
    OtherParameters,
}

/// The fingerprint of a request: its route and body, with a card number (the test payment
/// helper's `card`) reduced to its last 4 digits first. A hash of the whole number would be
/// stored card data: the numbers are few enough to be found again from it.
pub fn request_hash(route: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(route.as_bytes());
    hasher.update([0]);
    hasher.update(without_card_numbers(body));
    hex::encode(hasher.finalize())
}

/// `body` with the value of every `card` parameter (form or JSON) cut to its last 4 digits.
fn without_card_numbers(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let last4 = |value: &str| -> String {
        let digits: Vec<char> = value.chars().filter(char::is_ascii_digit).collect();
        digits[digits.len().saturating_sub(4)..].iter().collect()
    };
    if let Ok(serde_json::Value::Object(mut object)) = serde_json::from_slice(body) {
        if let Some(serde_json::Value::String(card)) = object.get("card") {
            let masked = last4(card);
            object.insert("card".into(), masked.into());
            return serde_json::to_vec(&object).unwrap_or_default().into();
        }
        return body.into();
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    if !pairs.iter().any(|(name, _)| name == "card") {
        return body.into();
    }
    let mut masked = form_urlencoded::Serializer::new(String::new());
    for (name, value) in &pairs {
        let value = if name == "card" {
            last4(value)
        } else {
            value.clone()
        };
        masked.append_pair(name, &value);
    }
    masked.finish().into_bytes().into()
}

pub fn validate_key(key: &str) -> Result<(), DomainError> {
    if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
        return Err(DomainError::invalid(
            "Idempotency-Key",
            format!("must be 1 to {MAX_KEY_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Claims `key` for a request, or says how the key was used before.
pub async fn claim(
    db: &Db,
    caller: &Caller,
    key: &str,
    route: &str,
    hash: &str,
    now: i64,
) -> Result<Claim, DomainError> {
    validate_key(key)?;
    let livemode = caller.mode.is_live();
    if store::idempotency::insert_claim(db, &caller.account_id, livemode, key, route, hash, now)
        .await?
    {
        return Ok(Claim::Run);
    }
    let Some(stored) = store::idempotency::get(db, &caller.account_id, livemode, key).await? else {
        // Forgotten between the insert and the read: claim again.
        return Ok(
            if store::idempotency::insert_claim(
                db,
                &caller.account_id,
                livemode,
                key,
                route,
                hash,
                now,
            )
            .await?
            {
                Claim::Run
            } else {
                Claim::InFlight
            },
        );
    };
    if stored.created < now - RETENTION_SECONDS {
        // Past retention the key is new again.
        return Ok(
            if store::idempotency::retake(
                db,
                &caller.account_id,
                livemode,
                key,
                route,
                hash,
                now,
                None,
            )
            .await?
            {
                Claim::Run
            } else {
                Claim::InFlight
            },
        );
    }
    if stored.route != route {
        return Ok(Claim::OtherRoute {
            route: stored.route,
        });
    }
    if stored.request_hash != hash {
        return Ok(Claim::OtherParameters);
    }
    match (stored.status, stored.body) {
        (Some(status), Some(body)) => Ok(Claim::Replay {
            status: status as u16,
            body,
        }),
        _ if stored.claimed_at < now - LEASE_SECONDS => {
            let taken = store::idempotency::retake(
                db,
                &caller.account_id,
                livemode,
                key,
                route,
                hash,
                now,
                Some(stored.claimed_at),
            )
            .await?;
            Ok(if taken { Claim::Run } else { Claim::InFlight })
        }
        _ => Ok(Claim::InFlight),
    }
}

/// Remembers the response to a claimed key.
pub async fn record(
    db: &Db,
    caller: &Caller,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), DomainError> {
    store::idempotency::record(
        db,
        &caller.account_id,
        caller.mode.is_live(),
        key,
        i64::from(status),
        body,
    )
    .await?;
    Ok(())
}

/// Forgets a claimed key whose request is not to be remembered (it failed validation), so a
/// corrected retry can use it.
pub async fn release(db: &Db, caller: &Caller, key: &str) -> Result<(), DomainError> {
    store::idempotency::delete(db, &caller.account_id, caller.mode.is_live(), key).await?;
    Ok(())
}

/// Deletes keys past retention.
pub async fn prune(db: &Db, now: i64) -> Result<u64, DomainError> {
    Ok(store::idempotency::prune(db, now - RETENTION_SECONDS).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_keep_only_a_cards_last_four_digits() {
        let route = "POST /v1/test_helpers/checkout/sessions/cs_1/pay";
        let form = request_hash(route, b"card=4242+4242+4242+4242&email=a%40b.c");
        assert_eq!(
            form,
            request_hash(route, b"card=4000056655664242&email=a%40b.c")
        );
        assert_ne!(
            form,
            request_hash(route, b"card=5555555555554444&email=a%40b.c")
        );
        let json = request_hash(route, br#"{"card": "4242424242424242"}"#);
        assert_eq!(
            json,
            request_hash(route, br#"{"card": "4000056655664242"}"#)
        );
        assert_ne!(
            json,
            request_hash(route, br#"{"card": "4000000000000002"}"#)
        );
        // Bodies without a card are fingerprinted as sent.
        assert_ne!(
            request_hash("POST /v1/customers", b"name=a&email=b"),
            request_hash("POST /v1/customers", b"email=b&name=a")
        );
    }
}
