//! Server-side sessions: rows keyed by the SHA-256 of the cookie token, shared by every instance.
//! Times are Unix seconds passed in by the caller, so expiry is testable without waiting.

use sqlx::Row;

use super::users::user_from_row;
use super::{Store, StoreError};

/// A session row with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub user: super::users::User,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

impl Store {
    /// Stores a new session for `user_id` under `token_hash`.
    pub async fn insert_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The session stored under `token_hash`, with its (active or not) user.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.display_name, u.role, u.active, s.created_at, s.last_seen_at, s.expires_at
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(SessionRow {
                user: user_from_row(&r)?,
                created_at: r.try_get("created_at")?,
                last_seen_at: r.try_get("last_seen_at")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Records activity on a session.
    pub async fn touch_session(&self, token_hash: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Removes one session (logout, expiry); answers whether there was one.
    pub async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Removes the sessions that ended by `now`: past their absolute expiry, or idle since before
    /// `idle_since`. Answers how many.
    pub async fn delete_expired_sessions(
        &self,
        now: i64,
        idle_since: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(now)
            .bind(idle_since)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// Removes every session of a user (deactivation, password reset).
    pub async fn delete_user_sessions(&self, user_id: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
