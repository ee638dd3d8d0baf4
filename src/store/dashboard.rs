//! Dashboard users and their signed-in sessions.

use super::{Db, StoreResult, args, row_struct};
use crate::domain::Mode;
use crate::domain::accounts::CreatedUser;
use crate::domain::dashboard::{DashboardSession, DashboardUser};

row_struct! {
    struct UserRow {
        id: String,
        account_id: String,
        email: String,
        password_hash: String,
    }
}

pub async fn user_by_email(db: &Db, email: &str) -> StoreResult<Option<DashboardUser>> {
    // Read from the writer: a user created a moment ago must be found.
    let row: Option<UserRow> = db
        .write(async |tx| {
            tx.fetch_optional(
                "SELECT id, account_id, email, password_hash FROM dashboard_users WHERE email = $1",
                &args![email],
            )
            .await
        })
        .await?;
    Ok(row.map(|r| DashboardUser {
        id: r.id,
        account_id: r.account_id,
        email: r.email,
        password_hash: r.password_hash,
    }))
}

pub async fn insert_user(
    db: &Db,
    user: &CreatedUser,
    password_hash: &str,
    now: i64,
) -> StoreResult<()> {
    db.execute(
        "INSERT INTO dashboard_users (id, account_id, email, password_hash, created) \
             VALUES ($1, $2, $3, $4, $5)",
        &args![&user.id, &user.account_id, &user.email, password_hash, now],
    )
    .await?;
    Ok(())
}

/// Counts a sign-in attempt before its password is checked, in one conditional statement, so
/// that concurrent attempts each count and none is checked while the user is locked. The
/// attempt that reaches `max_attempts` locks the user until `lock_until` (and starts the count
/// again for after the lock); a successful sign-in clears both in [`start_session`].
///
/// `None`: the user is locked and the attempt is refused. `Some(true)`: this attempt locked the
/// user (it may still be the right password, which then unlocks).
pub async fn claim_attempt(
    db: &Db,
    user_id: &str,
    now: i64,
    max_attempts: i64,
    lock_until: i64,
) -> StoreResult<Option<bool>> {
    // Every right-hand side reads the row as it was before this statement.
    let locked: Option<(Option<i64>,)> = db
        .write(async |tx| {
            tx.fetch_optional(
            "UPDATE dashboard_users SET \
               failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= $3 THEN 0 ELSE failed_sign_ins + 1 END, \
               locked_until = CASE WHEN failed_sign_ins + 1 >= $3 THEN $4 ELSE locked_until END \
             WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2) \
             RETURNING locked_until",
                &args![user_id, now, max_attempts, lock_until],
            )
            .await
        })
        .await?;
    Ok(locked.map(|(until,)| until.is_some_and(|until| until > now)))
}

/// Starts a session and clears the user's failures, in one transaction.
pub async fn start_session(
    db: &Db,
    token_hash: &str,
    session: &DashboardSession,
    now: i64,
) -> StoreResult<()> {
    db.write(async |tx| {
        tx.execute(
            "UPDATE dashboard_users SET failed_sign_ins = 0, locked_until = NULL WHERE id = $1",
            &args![&session.user_id],
        )
        .await?;
        tx.execute(
            "INSERT INTO dashboard_sessions (token_hash, user_id, account_id, mode, csrf_token, created, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &args![
                token_hash,
                &session.user_id,
                &session.account_id,
                session.mode.to_string(),
                &session.csrf_token,
                now,
                session.expires_at
            ],
        )
        .await
    })
    .await?;
    Ok(())
}

row_struct! {
    struct SessionRow {
        user_id: String,
        email: String,
        account_id: String,
        mode: String,
        csrf_token: String,
        expires_at: i64,
    }
}

pub async fn session(db: &Db, token_hash: &str) -> StoreResult<Option<DashboardSession>> {
    let row: Option<SessionRow> = db
        .fetch_optional(
            "SELECT s.user_id, u.email, s.account_id, s.mode, s.csrf_token, s.expires_at \
             FROM dashboard_sessions s JOIN dashboard_users u ON u.id = s.user_id WHERE s.token_hash = $1",
            &args![token_hash],
        )
        .await?;
    Ok(row.map(|r| DashboardSession {
        user_id: r.user_id,
        email: r.email,
        account_id: r.account_id,
        mode: r.mode.parse().unwrap_or(Mode::Test),
        csrf_token: r.csrf_token,
        expires_at: r.expires_at,
    }))
}

pub async fn end_session(db: &Db, token_hash: &str) -> StoreResult<()> {
    db.execute(
        "DELETE FROM dashboard_sessions WHERE token_hash = $1",
        &args![token_hash],
    )
    .await?;
    Ok(())
}

pub async fn set_mode(db: &Db, token_hash: &str, mode: Mode) -> StoreResult<()> {
    db.execute(
        "UPDATE dashboard_sessions SET mode = $1 WHERE token_hash = $2",
        &args![mode.to_string(), token_hash],
    )
    .await?;
    Ok(())
}
