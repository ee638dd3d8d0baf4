//! Object identifiers: a type prefix and a random part from a CSPRNG (the thread-local ChaCha
//! generator, seeded and periodically reseeded from the operating system).
//!
//! The random part starts with the creation time in milliseconds, so ids of one kind sort by
//! creation time, which makes them usable as stable list cursors. Both parts are written in a
//! fixed-width base62 whose alphabet is in ASCII order, so byte order is creation order.

use std::sync::atomic::{AtomicI64, Ordering};

use rand::RngCore;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Characters used for the millisecond timestamp: 62^8 ms reaches beyond the year 8000.
const TIME_CHARS: usize = 8;
/// Random characters after the timestamp: 22 base62 characters carry 130 bits.
const RANDOM_CHARS: usize = 22;

/// `random_base62(n)` returns `n` characters drawn uniformly from the base62 alphabet.
pub fn random_base62(n: usize) -> String {
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        rand::rng().fill_bytes(&mut buf);
        // Rejection sampling keeps the distribution uniform: 248 = 4 * 62.
        for &b in buf.iter().filter(|&&b| b < 248) {
            out.push(BASE62[(b % 62) as usize] as char);
            if out.len() == n {
                break;
            }
        }
    }
    out
}

fn base62_fixed(mut value: u64, width: usize) -> String {
    let mut chars = vec![b'0'; width];
    for slot in chars.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(chars).expect("base62 is ASCII")
}

/// A new id `{prefix}{time}{random}` for an object created at `now_ms` (unix milliseconds).
pub fn new_id(prefix: &str, now_ms: i64) -> String {
    let mut id = String::with_capacity(prefix.len() + TIME_CHARS + RANDOM_CHARS);
    id.push_str(prefix);
    id.push_str(&base62_fixed(now_ms.max(0) as u64, TIME_CHARS));
    id.push_str(&random_base62(RANDOM_CHARS));
    id
}

/// The current time in unix milliseconds, for id ordering only (stored times are seconds).
///
/// Strictly increasing within the process: objects made one after another within one
/// millisecond still get ids in creation order (the random part would otherwise decide). During
/// a burst of more than one id per millisecond it runs ahead of the wall clock by the excess,
/// and the wall clock catches up once the burst is over.
pub fn now_ms() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let wall = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let previous = LAST
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(wall.max(last + 1))
        })
        .expect("the update always succeeds");
    wall.max(previous + 1)
}

/// Id prefixes, one per object kind.
pub mod prefix {
    pub const ACCOUNT: &str = "acct_";
    pub const API_KEY: &str = "key_";
    pub const USER: &str = "usr_";
    pub const REQUEST: &str = "req_";
    pub const PRODUCT: &str = "prod_";
    pub const PRICE: &str = "price_";
    pub const PAYMENT_LINK: &str = "pl_";
    pub const LINE_ITEM: &str = "li_";
    pub const SESSION_TEST: &str = "cs_test_";
    pub const SESSION_LIVE: &str = "cs_live_";
    pub const EVENT: &str = "evt_";
    pub const PAYMENT_INTENT: &str = "pi_";
    pub const CUSTOMER: &str = "cus_";
    pub const CHARGE: &str = "ch_";
    pub const REFUND: &str = "re_";
    pub const EMAIL: &str = "em_";
    pub const WEBHOOK_ENDPOINT: &str = "we_";
    pub const WEBHOOK_DELIVERY: &str = "wd_";
    pub const WEBHOOK_ATTEMPT: &str = "wa_";
    pub const SETUP_INTENT: &str = "seti_";
    pub const SUBSCRIPTION: &str = "sub_";
    pub const SUBSCRIPTION_ITEM: &str = "si_";
    pub const INVOICE: &str = "in_";
    pub const INVOICE_LINE: &str = "il_";
    pub const PAYMENT_METHOD: &str = "pm_";
    pub const TEST_CLOCK: &str = "clock_";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_creation_time() {
        let a = new_id("x_", 1_700_000_000_000);
        let b = new_id("x_", 1_700_000_000_001);
        let c = new_id("x_", 1_800_000_000_000);
        assert!(a < b && b < c, "{a} {b} {c}");
        assert_eq!(a.len(), 2 + TIME_CHARS + RANDOM_CHARS);
    }

    #[test]
    fn ids_made_in_a_row_sort_in_that_order() {
        let made: Vec<String> = (0..2000).map(|_| new_id("x_", now_ms())).collect();
        let mut sorted = made.clone();
        sorted.sort();
        assert_eq!(made, sorted);
        let wall = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        assert!(now_ms() >= wall);
    }

    #[test]
    fn random_part_differs_and_uses_the_alphabet() {
        let a = random_base62(40);
        let b = random_base62(40);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| BASE62.contains(&c)));
        assert_eq!(a.len(), 40);
    }
}
