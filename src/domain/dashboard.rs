//! The dashboard's people and their signed-in sessions: sign-in with an email and an
//! argon2-hashed password, a lock after repeated failures, and sessions kept in the database
//! (so every `kassa serve` process knows them) under the hash of their cookie's token.

use super::accounts::{Caller, CreatedUser};
use super::{DomainError, Mode, ids};
use crate::store::{self, Db};

/// Failed sign-ins in a row that lock a user out, and for how long.
pub const MAX_FAILED_SIGN_INS: i64 = 5;
pub const LOCK_SECONDS: i64 = 15 * 60;
/// How long a dashboard session lasts.
pub const SESSION_SECONDS: i64 = 12 * 3600;

/// A dashboard user as stored.
#[derive(Debug, Clone)]
pub struct DashboardUser {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub password_hash: String,
}

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct DashboardSession {
    pub user_id: String,
    pub email: String,
    pub account_id: String,
    pub mode: Mode,
    pub csrf_token: String,
    pub expires_at: i64,
}

impl DashboardSession {
    /// What the dashboard may see: the account, in the selected mode.
    pub fn caller(&self) -> Caller {
        Caller::without_key(&self.account_id, self.mode.is_live())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the email or password is wrong")]
    Invalid,
    #[error("too many failed sign-ins; try again in a few minutes")]
    Locked,
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl From<store::StoreError> for SignInError {
    fn from(error: store::StoreError) -> Self {
        SignInError::Domain(error.into())
    }
}

fn verify_password(hash: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash that no password matches, checked when the email is unknown so that a wrong email
/// takes as long as a wrong password.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3t1oXZl8hQuYy0yE3xv1bXGzB1vkoCjT7o1Hqz2gG5w";

/// Signs a user in: returns the new session's cookie token (shown to the browser only) and the
/// session. Five failures in a row lock the user out for 15 minutes, even with the right
/// password.
pub async fn sign_in(
    db: &Db,
    email: &str,
    password: &str,
    now: i64,
) -> Result<(String, DashboardSession), SignInError> {
    let email = email.trim().to_ascii_lowercase();
    let Some(user) = store::dashboard::user_by_email(db, &email).await? else {
        verify_password(DECOY_HASH, password);
        return Err(SignInError::Invalid);
    };
    // The attempt is counted before the (slow) password check, atomically: of many attempts at
    // once, only those before the lock are checked at all.
    let Some(locks) =
        store::dashboard::claim_attempt(db, &user.id, now, MAX_FAILED_SIGN_INS, now + LOCK_SECONDS)
            .await?
    else {
        return Err(SignInError::Locked);
    };
    if !verify_password(&user.password_hash, password) {
        return Err(if locks {
            SignInError::Locked
        } else {
            SignInError::Invalid
        });
    }
    let token = ids::random_base62(43);
    let session = DashboardSession {
        user_id: user.id.clone(),
        email: user.email.clone(),
        account_id: user.account_id.clone(),
        mode: Mode::Test,
        csrf_token: ids::random_base62(32),
        expires_at: now + SESSION_SECONDS,
    };
    store::dashboard::start_session(db, &super::accounts::hash_secret(&token), &session, now)
        .await?;
    Ok((token, session))
}

/// The session a cookie's token stands for, if it is current.
pub async fn session(
    db: &Db,
    token: &str,
    now: i64,
) -> Result<Option<DashboardSession>, DomainError> {
    let hash = super::accounts::hash_secret(token);
    Ok(store::dashboard::session(db, &hash)
        .await?
        .filter(|s| s.expires_at > now))
}

pub async fn sign_out(db: &Db, token: &str) -> Result<(), DomainError> {
    store::dashboard::end_session(db, &super::accounts::hash_secret(token)).await?;
    Ok(())
}

pub async fn switch_mode(db: &Db, token: &str, mode: Mode) -> Result<(), DomainError> {
    store::dashboard::set_mode(db, &super::accounts::hash_secret(token), mode).await?;
    Ok(())
}

/// Adds a dashboard user to an account with a generated password, shown once.
pub async fn create_user(
    db: &Db,
    account_id: &str,
    email: &str,
    now: i64,
) -> Result<CreatedUser, DomainError> {
    super::accounts::get_account(db, account_id).await?;
    let email = email.trim().to_ascii_lowercase();
    super::checkout::validate_email(&email, "email")?;
    if store::dashboard::user_by_email(db, &email).await?.is_some() {
        return Err(DomainError::invalid(
            "email",
            "a dashboard user with this email exists",
        ));
    }
    let (user, hash, _) = super::accounts::new_user(account_id, &email, now)?;
    store::dashboard::insert_user(db, &user, &hash, now).await?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoy_hash_parses_and_matches_nothing() {
        use argon2::password_hash::PasswordHash;
        assert!(PasswordHash::new(DECOY_HASH).is_ok());
        assert!(!verify_password(DECOY_HASH, ""));
        assert!(!verify_password(DECOY_HASH, "password"));
    }
}
