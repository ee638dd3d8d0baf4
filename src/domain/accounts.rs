//! Accounts, their secret API keys, and the people who sign in to the dashboard.

use sha2::{Digest, Sha256};

use super::ids::{self, prefix};
use super::{DomainError, Mode};
use crate::store::{self, Db, StoreError};

/// A merchant: the owner of every other object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub created: i64,
}

/// A secret API key as kassa remembers it: never the key itself, only its hash and a
/// redacted form such as `sk_test_…Wx3k`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub account_id: String,
    pub mode: Mode,
    pub redacted: String,
    pub created: i64,
    pub last_used: Option<i64>,
    pub revoked: Option<i64>,
}

/// A key just created, with its secret: the only moment the secret exists outside the caller.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: String,
}

/// A new account with one key per mode.
#[derive(Debug, Clone)]
pub struct CreatedAccount {
    pub account: Account,
    pub test_key: CreatedKey,
    pub live_key: CreatedKey,
}

/// A dashboard sign-in created with a generated password, shown once.
#[derive(Debug, Clone)]
pub struct CreatedUser {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub password: String,
}

/// Who is calling: the account and mode of a valid, unrevoked key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account_id: String,
    pub mode: Mode,
    pub key_id: String,
}

impl Caller {
    /// The account in a mode, acting without a key: a customer on a hosted page, the
    /// dashboard, a background worker.
    pub fn without_key(account_id: impl Into<String>, livemode: bool) -> Caller {
        Caller {
            account_id: account_id.into(),
            mode: Mode::from_livemode(livemode),
            key_id: String::new(),
        }
    }
}

/// Why a presented key does not authenticate.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no API key was provided")]
    Missing,
    #[error("invalid API key provided: {redacted}")]
    Invalid { redacted: String },
    #[error("the API key {redacted} has been revoked")]
    Revoked { redacted: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Random characters in a secret key after `sk_test_` / `sk_live_` (about 285 bits).
const SECRET_RANDOM_CHARS: usize = 48;
/// How stale `last_used` may get before a request refreshes it; keeps reads from writing.
const LAST_USED_RESOLUTION_SECONDS: i64 = 60;
/// Longest account name.
pub const MAX_NAME_CHARS: usize = 100;

fn secret_prefix(mode: Mode) -> &'static str {
    match mode {
        Mode::Test => "sk_test_",
        Mode::Live => "sk_live_",
    }
}

/// The mode a secret key claims by its prefix, if it looks like a kassa secret key at all.
fn mode_of_secret(secret: &str) -> Option<Mode> {
    let (mode, rest) = if let Some(rest) = secret.strip_prefix("sk_test_") {
        (Mode::Test, rest)
    } else if let Some(rest) = secret.strip_prefix("sk_live_") {
        (Mode::Live, rest)
    } else {
        return None;
    };
    let well_formed =
        rest.len() == SECRET_RANDOM_CHARS && rest.bytes().all(|b| b.is_ascii_alphanumeric());
    well_formed.then_some(mode)
}

/// The hash under which a secret key is stored and looked up. The secret carries ~285 random
/// bits, so a fast hash is enough: there is nothing to brute-force.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// What may be shown of a presented key in messages: its prefix and last four characters.
pub fn redact_secret(secret: &str) -> String {
    let visible_prefix = [
        "sk_test_", "sk_live_", "pk_test_", "pk_live_", "rk_test_", "rk_live_",
    ]
    .into_iter()
    .find(|p| secret.starts_with(p))
    .unwrap_or("");
    let tail: String = if secret.len() > visible_prefix.len() + 8 && secret.is_ascii() {
        secret[secret.len() - 4..].to_string()
    } else {
        String::new()
    };
    format!("{visible_prefix}****{tail}")
}

fn generate_key(account_id: &str, mode: Mode, now: i64) -> CreatedKey {
    let secret = format!(
        "{}{}",
        secret_prefix(mode),
        ids::random_base62(SECRET_RANDOM_CHARS)
    );
    let key = ApiKey {
        id: ids::new_id(prefix::API_KEY, ids::now_ms()),
        account_id: account_id.to_string(),
        mode,
        redacted: redact_secret(&secret),
        created: now,
        last_used: None,
        revoked: None,
    };
    CreatedKey { key, secret }
}

pub fn validate_account_name(name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::invalid("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(DomainError::invalid(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_string())
}

fn new_account(name: &str, now: i64) -> Result<CreatedAccount, DomainError> {
    let account = Account {
        id: ids::new_id(prefix::ACCOUNT, ids::now_ms()),
        name: validate_account_name(name)?,
        created: now,
    };
    let test_key = generate_key(&account.id, Mode::Test, now);
    let live_key = generate_key(&account.id, Mode::Live, now);
    Ok(CreatedAccount {
        account,
        test_key,
        live_key,
    })
}

pub(crate) fn new_user(
    account_id: &str,
    email: &str,
    now: i64,
) -> Result<(CreatedUser, String, i64), DomainError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let password = ids::random_base62(20);
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).expect("16 bytes make a valid salt");
    let hash = argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| DomainError::invalid("password", e.to_string()))?
        .to_string();
    let user = CreatedUser {
        id: ids::new_id(prefix::USER, ids::now_ms()),
        account_id: account_id.to_string(),
        email: email.to_string(),
        password,
    };
    Ok((user, hash, now))
}

/// Creates an account with a test key and a live key.
pub async fn create_account(db: &Db, name: &str, now: i64) -> Result<CreatedAccount, DomainError> {
    let created = new_account(name, now)?;
    store::accounts::insert_account(db, &created).await?;
    Ok(created)
}

/// The dashboard email of the account made on first start.
pub const FIRST_USER_EMAIL: &str = "admin@kassa.local";

/// On an installation's very first start, creates the default account, its keys and a
/// dashboard user, and returns them; on every later start (and in every process but one when
/// several start together) returns `None`.
pub async fn bootstrap(
    db: &Db,
    now: i64,
) -> Result<Option<(CreatedAccount, CreatedUser)>, DomainError> {
    if store::accounts::is_bootstrapped(db).await? {
        return Ok(None);
    }
    let created = new_account("Default account", now)?;
    let (user, password_hash, _) = new_user(&created.account.id, FIRST_USER_EMAIL, now)?;
    let won =
        store::accounts::insert_first_account(db, &created, &user, &password_hash, now).await?;
    Ok(won.then_some((created, user)))
}

/// The installation's account when it has exactly one (the first start's, usually).
pub async fn sole_account(db: &Db) -> Result<Option<String>, DomainError> {
    let mut ids = store::accounts::some_account_ids(db, 2).await?;
    Ok(if ids.len() == 1 { ids.pop() } else { None })
}

pub async fn get_account(db: &Db, id: &str) -> Result<Account, DomainError> {
    store::accounts::get_account(db, id)
        .await?
        .ok_or_else(|| DomainError::not_found("account", id))
}

pub async fn rename_account(db: &Db, id: &str, name: &str) -> Result<Account, DomainError> {
    let name = validate_account_name(name)?;
    if !store::accounts::rename_account(db, id, &name).await? {
        return Err(DomainError::not_found("account", id));
    }
    get_account(db, id).await
}

/// What ends a subscription whose renewal could not be charged after every retry (the
/// account's `dunning_final_action`, for test and live mode alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DunningFinalAction {
    /// The subscription is canceled (`cancellation_details.reason=payment_failed`): Stripe's
    /// default, and kassa's.
    Cancel,
    /// The subscription stays, marked `unpaid`, and its invoice open.
    Unpaid,
}

impl DunningFinalAction {
    pub fn as_str(self) -> &'static str {
        match self {
            DunningFinalAction::Cancel => "cancel",
            DunningFinalAction::Unpaid => "unpaid",
        }
    }

    /// `cancel` or `unpaid`; `None` for anything else.
    pub fn parse(text: &str) -> Option<DunningFinalAction> {
        match text {
            "cancel" => Some(DunningFinalAction::Cancel),
            "unpaid" => Some(DunningFinalAction::Unpaid),
            _ => None,
        }
    }
}

/// The account's `dunning_final_action`.
pub async fn dunning_final_action(
    db: &Db,
    account_id: &str,
) -> Result<DunningFinalAction, DomainError> {
    let stored = store::billing::dunning_final_action(db, account_id).await?;
    Ok(DunningFinalAction::parse(&stored).unwrap_or(DunningFinalAction::Cancel))
}

/// Sets the account's `dunning_final_action`: the billing engine reads it after each
/// renewal's last failed retry.
pub async fn set_dunning_final_action(
    db: &Db,
    account_id: &str,
    action: DunningFinalAction,
) -> Result<(), DomainError> {
    store::billing::set_dunning_final_action(db, account_id, action.as_str()).await?;
    Ok(())
}

/// Whether the account emails its customers a receipt for each payment and refund (on by
/// default, as on Stripe; sent only by servers with SMTP).
pub async fn receipt_emails(db: &Db, account_id: &str) -> Result<bool, DomainError> {
    Ok(store::emails::receipt_emails(db, account_id).await?)
}

/// Turns the account's receipt emails on or off, for payments and refunds from now on.
pub async fn set_receipt_emails(db: &Db, account_id: &str, on: bool) -> Result<(), DomainError> {
    store::emails::set_receipt_emails(db, account_id, on).await?;
    Ok(())
}

/// Creates another secret key for an account.
pub async fn create_key(
    db: &Db,
    account_id: &str,
    mode: Mode,
    now: i64,
) -> Result<CreatedKey, DomainError> {
    get_account(db, account_id).await?;
    let created = generate_key(account_id, mode, now);
    store::accounts::insert_key(db, &created).await?;
    Ok(created)
}

pub async fn list_keys(db: &Db, account_id: &str) -> Result<Vec<ApiKey>, DomainError> {
    get_account(db, account_id).await?;
    Ok(store::accounts::list_keys(db, account_id).await?)
}

/// Revokes a key at once, for every process: from the commit on, every request with it gets
/// 401, and every server ends the event streams opened with it within a second (they follow
/// [`KeyChanges`](crate::store::key_changes::KeyChanges)).
pub async fn revoke_key(db: &Db, key_id: &str, now: i64) -> Result<ApiKey, DomainError> {
    let key = store::accounts::get_key(db, key_id)
        .await?
        .ok_or_else(|| DomainError::not_found("api_key", key_id))?;
    if key.revoked.is_some() {
        return Ok(key);
    }
    store::accounts::revoke_key(db, key_id, now).await?;
    Ok(ApiKey {
        revoked: Some(now),
        ..key
    })
}

/// Checks again that a key authenticated earlier is still usable: what whatever a key opened
/// (an event stream) does when a [`KeyChange`](crate::store::key_changes::KeyChange) says the
/// key may have been revoked.
pub async fn recheck_key(db: &Db, key_id: &str) -> Result<(), AuthError> {
    let key = store::accounts::get_key(db, key_id)
        .await?
        .ok_or_else(|| AuthError::Invalid {
            redacted: redact_secret(""),
        })?;
    match key.revoked {
        Some(_) => Err(AuthError::Revoked {
            redacted: key.redacted,
        }),
        None => Ok(()),
    }
}

/// Finds who a presented secret key belongs to.
pub async fn authenticate(db: &Db, secret: &str, now: i64) -> Result<Caller, AuthError> {
    let invalid = || AuthError::Invalid {
        redacted: redact_secret(secret),
    };
    let claimed_mode = mode_of_secret(secret).ok_or_else(invalid)?;
    let secret_hash = hash_secret(secret);
    let key = store::accounts::find_key_by_hash(db, &secret_hash)
        .await?
        .ok_or_else(invalid)?;
    if key.revoked.is_some() {
        return Err(AuthError::Revoked {
            redacted: key.redacted,
        });
    }
    debug_assert_eq!(key.mode, claimed_mode);
    if key
        .last_used
        .is_none_or(|t| now - t >= LAST_USED_RESOLUTION_SECONDS)
    {
        store::accounts::touch_key(db, &secret_hash, &key.id, now).await?;
    }
    Ok(Caller {
        account_id: key.account_id,
        mode: key.mode,
        key_id: key.id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_well_formed_and_redacted() {
        let created = generate_key("acct_x", Mode::Live, 0);
        assert!(created.secret.starts_with("sk_live_"));
        assert_eq!(mode_of_secret(&created.secret), Some(Mode::Live));
        assert!(created.key.redacted.starts_with("sk_live_****"));
        assert!(
            created
                .secret
                .ends_with(&created.key.redacted[created.key.redacted.len() - 4..])
        );
        assert!(!created.key.redacted.contains(&created.secret[8..20]));
    }

    #[test]
    fn malformed_secrets_claim_no_mode() {
        assert_eq!(mode_of_secret("sk_test_short"), None);
        assert_eq!(
            mode_of_secret("pk_test_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            None
        );
        assert_eq!(
            mode_of_secret(&format!("sk_test_{}!", "a".repeat(47))),
            None
        );
        assert_eq!(
            mode_of_secret(&format!("sk_test_{}", "a".repeat(48))),
            Some(Mode::Test)
        );
    }

    #[test]
    fn account_names_are_checked() {
        assert!(validate_account_name("  ").is_err());
        assert!(validate_account_name(&"x".repeat(101)).is_err());
        assert_eq!(validate_account_name(" Shop ").unwrap(), "Shop");
    }
}
