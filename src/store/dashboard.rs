//! Dashboard users and their signed-in sessions.

use sqlx::FromRow;

use super::{Db, StoreResult, on_reader, on_writer};
use crate::domain::Mode;
use crate::domain::accounts::CreatedUser;
use crate::domain::dashboard::{DashboardSession, DashboardUser};

#[derive(FromRow)]
struct UserRow {
    id: String,
    account_id: String,
    email: String,
    password_hash: String,
    failed_sign_ins: i64,
    locked_until: Option<i64>,
}

pub async fn user_by_email(db: &Db, email: &str) -> StoreResult<Option<DashboardUser>> {
    // Read from the writer: a lock written a moment ago must be seen.
    let row: Option<UserRow> = on_writer!(db, |pool| {
        sqlx::query_as(
            "SELECT id, account_id, email, password_hash, failed_sign_ins, locked_until \
             FROM dashboard_users WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(pool)
        .await
    })?;
    Ok(row.map(|r| DashboardUser {
        id: r.id,
        account_id: r.account_id,
        email: r.email,
        password_hash: r.password_hash,
        failed_sign_ins: r.failed_sign_ins,
        locked_until: r.locked_until,
    }))
}

pub async fn insert_user(
    db: &Db,
    user: &CreatedUser,
    password_hash: &str,
    now: i64,
) -> StoreResult<()> {
    on_writer!(db, |pool| {
        sqlx::query(
            "INSERT INTO dashboard_users (id, account_id, email, password_hash, created) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&user.id)
        .bind(&user.account_id)
        .bind(&user.email)
        .bind(password_hash)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

/// Counts a failed sign-in atomically; returns the failures in a row so far.
pub async fn record_failure(db: &Db, user_id: &str) -> StoreResult<i64> {
    Ok(on_writer!(db, |pool| {
        sqlx::query_scalar(
            "UPDATE dashboard_users SET failed_sign_ins = failed_sign_ins + 1 WHERE id = $1 \
             RETURNING failed_sign_ins",
        )
        .bind(user_id)
        .fetch_one(pool)
        .await
    })?)
}

/// Locks the user until `until`, and starts the count again for after the lock.
pub async fn lock(db: &Db, user_id: &str, until: i64) -> StoreResult<()> {
    on_writer!(db, |pool| {
        sqlx::query(
            "UPDATE dashboard_users SET locked_until = $1, failed_sign_ins = 0 WHERE id = $2",
        )
        .bind(until)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

/// Starts a session and clears the user's failures, in one transaction.
pub async fn start_session(
    db: &Db,
    token_hash: &str,
    session: &DashboardSession,
    now: i64,
) -> StoreResult<()> {
    on_writer!(db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "UPDATE dashboard_users SET failed_sign_ins = 0, locked_until = NULL WHERE id = $1",
        )
        .bind(&session.user_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO dashboard_sessions (token_hash, user_id, account_id, mode, csrf_token, created, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token_hash)
        .bind(&session.user_id)
        .bind(&session.account_id)
        .bind(session.mode.to_string())
        .bind(&session.csrf_token)
        .bind(now)
        .bind(session.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    })?;
    Ok(())
}

#[derive(FromRow)]
struct SessionRow {
    user_id: String,
    email: String,
    account_id: String,
    mode: String,
    csrf_token: String,
    expires_at: i64,
}

pub async fn session(db: &Db, token_hash: &str) -> StoreResult<Option<DashboardSession>> {
    let row: Option<SessionRow> = on_reader!(db, |pool| {
        sqlx::query_as(
            "SELECT s.user_id, u.email, s.account_id, s.mode, s.csrf_token, s.expires_at \
             FROM dashboard_sessions s JOIN dashboard_users u ON u.id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await
    })?;
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
    on_writer!(db, |pool| {
        sqlx::query("DELETE FROM dashboard_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

pub async fn set_mode(db: &Db, token_hash: &str, mode: Mode) -> StoreResult<()> {
    on_writer!(db, |pool| {
        sqlx::query("UPDATE dashboard_sessions SET mode = $1 WHERE token_hash = $2")
            .bind(mode.to_string())
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(())
}
