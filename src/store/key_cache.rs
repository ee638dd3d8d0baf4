//! Keys from memory: the secret keys that authenticated recently, so that a request costs no
//! database read to find its key, and `last_used` is written in batches rather than per request.
//!
//! The copy is only trusted while this process hears every key change
//! ([`key_changes`](super::key_changes)): a server following the changes marks the cache live,
//! every revocation it hears (its own at once, other processes' within a fraction of a second)
//! drops the key, and a [`KeyChange::Reload`] or a lost PostgreSQL listener empties it. A
//! process that does not follow the changes (a command) never caches. Only unrevoked keys are
//! kept; a key looked up while a change is applied is not kept (the generation check), so a
//! revocation can never be overwritten by a read that started before it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::key_changes::KeyChange;
use crate::domain::accounts::ApiKey;

/// How long the copy stays trusted after the last sign that changes are being heard (a read of
/// the changes on SQLite, a notification or a check of the listener's connection on
/// PostgreSQL): a follower that stops hearing, for whatever reason, stops being trusted within
/// this bound, the bound a revocation must reach every server within.
pub const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// The moment the process's trust deadlines count from.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn now_ms() -> u64 {
    EPOCH.elapsed().as_millis() as u64
}

/// The cached keys; see the module's documentation.
#[derive(Debug, Default)]
pub struct KeyCache {
    /// Whether changes are being followed.
    live: AtomicBool,
    /// Until when (milliseconds since [`EPOCH`]) changes are known to be heard.
    trusted_until: AtomicU64,
    keys: RwLock<Keys>,
    /// `last_used` times not yet written, by key id.
    pending_use: Mutex<HashMap<String, i64>>,
}

#[derive(Debug, Default)]
struct Keys {
    /// Unrevoked keys by the hash of their secret.
    by_hash: HashMap<String, ApiKey>,
    /// Bumped by every change applied, so that a lookup that overlapped one is not kept.
    generation: u64,
}

impl KeyCache {
    /// The cached key with this secret hash, if the cache is live and holds it.
    pub fn get(&self, secret_hash: &str) -> Option<ApiKey> {
        if !self.trusted() {
            return None;
        }
        self.keys().by_hash.get(secret_hash).cloned()
    }

    /// The generation to pass to [`KeyCache::keep`] for a lookup about to start; None when the
    /// cache is not live (nothing is kept then).
    pub fn generation(&self) -> Option<u64> {
        let generation = self.keys().generation;
        self.trusted().then_some(generation)
    }

    /// Keeps `key`, found by a lookup that started at `generation`, unless it is revoked or a
    /// change was applied since.
    pub fn keep(&self, secret_hash: &str, key: &ApiKey, generation: u64) {
        if key.revoked.is_some() {
            return;
        }
        let mut keys = self.keys.write().expect("no cache user panics");
        if keys.generation == generation && self.trusted() {
            keys.by_hash.insert(secret_hash.to_string(), key.clone());
        }
    }

    /// Applies a change heard ([`key_changes`](super::key_changes)).
    pub fn apply(&self, change: &KeyChange) {
        let mut keys = self.keys.write().expect("no cache user panics");
        keys.generation += 1;
        match change {
            KeyChange::Created { .. } => {}
            KeyChange::Revoked { key_id } => keys.by_hash.retain(|_, key| key.id != *key_id),
            KeyChange::Reload => keys.by_hash.clear(),
        }
    }

    /// Trusts the cache (`true`: every change is heard from now on) or stops trusting and
    /// empties it (`false`: changes may be missed).
    pub fn set_live(&self, live: bool) {
        self.apply(&KeyChange::Reload);
        if live {
            self.heard();
        }
        self.live.store(live, Ordering::Release);
    }

    /// Changes are being heard right now: the copy stays trusted for [`TRUSTED_FOR`].
    pub fn heard(&self) {
        let until = now_ms() + TRUSTED_FOR.as_millis() as u64;
        self.trusted_until.fetch_max(until, Ordering::AcqRel);
    }

    /// Whether cached keys may be used: changes are followed and were heard recently.
    fn trusted(&self) -> bool {
        self.live.load(Ordering::Acquire) && now_ms() < self.trusted_until.load(Ordering::Acquire)
    }

    /// Records that the cached key `key_id` was used at `now`, to be written by the next
    /// [`KeyCache::pending_use`]. Returns false, recording nothing, when the cache is not
    /// live: the caller writes it itself then.
    pub fn record_use(&self, secret_hash: &str, key_id: &str, now: i64) -> bool {
        if !self.trusted() {
            return false;
        }
        if let Some(key) = self
            .keys
            .write()
            .expect("no cache user panics")
            .by_hash
            .get_mut(secret_hash)
        {
            key.last_used = Some(now);
        }
        self.pending_use
            .lock()
            .expect("no cache user panics")
            .insert(key_id.to_string(), now);
        true
    }

    /// The uses recorded and not yet written: `(key id, last used)`.
    pub fn pending_use(&self) -> Vec<(String, i64)> {
        let pending = self.pending_use.lock().expect("no cache user panics");
        pending.iter().map(|(id, at)| (id.clone(), *at)).collect()
    }

    /// Forgets the uses just written, except those recorded again since.
    pub fn written(&self, uses: &[(String, i64)]) {
        let mut pending = self.pending_use.lock().expect("no cache user panics");
        for (id, at) in uses {
            if pending.get(id) == Some(at) {
                pending.remove(id);
            }
        }
    }

    /// `key` with its last use recorded here and not yet written, if any: what the database
    /// will say once it is.
    pub fn with_pending_use(&self, mut key: ApiKey) -> ApiKey {
        let pending = self.pending_use.lock().expect("no cache user panics");
        if let Some(&at) = pending.get(&key.id) {
            key.last_used = key.last_used.max(Some(at));
        }
        key
    }

    fn keys(&self) -> std::sync::RwLockReadGuard<'_, Keys> {
        self.keys.read().expect("no cache user panics")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Mode;

    fn key(id: &str) -> ApiKey {
        ApiKey {
            id: id.into(),
            account_id: "acct_1".into(),
            mode: Mode::Test,
            redacted: "sk_test_****abcd".into(),
            created: 0,
            last_used: None,
            revoked: None,
        }
    }

    #[test]
    fn nothing_is_cached_until_live() {
        let cache = KeyCache::default();
        assert_eq!(cache.generation(), None);
        cache.keep("h", &key("k1"), 0);
        assert_eq!(cache.get("h"), None);
        cache.set_live(true);
        let generation = cache.generation().unwrap();
        cache.keep("h", &key("k1"), generation);
        assert_eq!(cache.get("h").unwrap().id, "k1");
        cache.set_live(false);
        assert_eq!(cache.get("h"), None);
    }

    #[test]
    fn a_revocation_drops_the_key_and_wins_over_a_lookup_that_overlapped_it() {
        let cache = KeyCache::default();
        cache.set_live(true);
        let generation = cache.generation().unwrap();
        cache.keep("h", &key("k1"), generation);
        let lookup_started = cache.generation().unwrap();
        cache.apply(&KeyChange::Revoked {
            key_id: "k1".into(),
        });
        assert_eq!(cache.get("h"), None);
        // The lookup read the key before the revocation committed: it is not kept.
        cache.keep("h", &key("k1"), lookup_started);
        assert_eq!(cache.get("h"), None);
    }

    #[test]
    fn a_follower_that_stops_hearing_stops_being_trusted() {
        let cache = KeyCache::default();
        cache.set_live(true);
        cache.keep("h", &key("k1"), cache.generation().unwrap());
        assert!(cache.get("h").is_some());
        // As if the last sign of hearing changes were older than the bound.
        cache.trusted_until.store(now_ms(), Ordering::Release);
        assert_eq!(cache.get("h"), None);
        assert_eq!(cache.generation(), None);
        cache.heard();
        assert!(cache.get("h").is_some());
    }

    #[test]
    fn revoked_keys_are_never_kept() {
        let cache = KeyCache::default();
        cache.set_live(true);
        let revoked = ApiKey {
            revoked: Some(5),
            ..key("k1")
        };
        cache.keep("h", &revoked, cache.generation().unwrap());
        assert_eq!(cache.get("h"), None);
    }

    #[test]
    fn uses_are_collected_for_one_write() {
        let cache = KeyCache::default();
        assert!(
            !cache.record_use("h", "k1", 10),
            "not live: the caller writes"
        );
        cache.set_live(true);
        cache.keep("h", &key("k1"), cache.generation().unwrap());
        assert!(cache.record_use("h", "k1", 10));
        assert!(cache.record_use("h", "k1", 70));
        assert_eq!(cache.get("h").unwrap().last_used, Some(70));
        let pending = cache.pending_use();
        assert_eq!(pending, vec![("k1".to_string(), 70)]);
        assert_eq!(cache.with_pending_use(key("k1")).last_used, Some(70));
        cache.record_use("h", "k1", 80);
        cache.written(&pending);
        assert_eq!(
            cache.pending_use(),
            vec![("k1".to_string(), 80)],
            "a use recorded during the write stays pending"
        );
        cache.written(&cache.pending_use());
        assert!(cache.pending_use().is_empty());
    }
}
