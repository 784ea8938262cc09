//! Sessions: a fresh 256-bit token on every login, kept server-side (hashed) so every instance sees
//! it, ending after an idle timeout or an absolute lifetime, whichever comes first, or at logout.
//! Activity is written back at most once a minute, so reads do not turn into a write per request; the
//! price is that an idle session may end up to a minute before its idle timeout.

use super::token;
use crate::storage::sessions::SessionRow;
use crate::storage::users::User;
use crate::storage::{Store, StoreError};

/// Activity older than this is written back to the session row.
const TOUCH_EVERY_SECS: i64 = 60;

/// How long sessions live, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle_secs: i64,
    pub absolute_secs: i64,
}

impl SessionPolicy {
    /// 30 minutes idle (`PMR_SESSION_IDLE_MINUTES`), 12 hours at most (`PMR_SESSION_MAX_HOURS`).
    pub const DEFAULT: SessionPolicy = SessionPolicy {
        idle_secs: 30 * 60,
        absolute_secs: 12 * 3600,
    };
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy::DEFAULT
    }
}

/// Starts a session for `user`; returns the token for the cookie.
pub async fn start(
    store: &Store,
    user: &User,
    now: i64,
    policy: SessionPolicy,
) -> Result<String, StoreError> {
    let (token, stored) = token::issue();
    store
        .insert_session(&stored, user.id, now, now + policy.absolute_secs)
        .await?;
    Ok(token)
}

/// The signed-in user for a cookie token, if the session is alive and the account active. Dead
/// sessions are removed on sight.
pub async fn resolve(
    store: &Store,
    token: &str,
    now: i64,
    policy: SessionPolicy,
) -> Result<Option<User>, StoreError> {
    Ok(resolve_session(store, token, now, policy)
        .await?
        .map(|live| live.user))
}

/// A live session: its user and when it ends at the latest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSession {
    pub user: User,
    /// Unix seconds: the absolute expiry or the idle deadline, whichever is first.
    pub ends_at: i64,
}

/// As [`resolve`], with the session's end.
pub async fn resolve_session(
    store: &Store,
    token: &str,
    now: i64,
    policy: SessionPolicy,
) -> Result<Option<LiveSession>, StoreError> {
    resolve_stored(store, &token::digest(token), now, policy, true).await
}

/// As [`resolve_session`], for the session stored under `stored` (its token's digest). Activity is
/// recorded only when `active` (a request, or a socket's user doing something): a session that is
/// only looked at keeps its idle deadline.
pub async fn resolve_stored(
    store: &Store,
    stored: &str,
    now: i64,
    policy: SessionPolicy,
    active: bool,
) -> Result<Option<LiveSession>, StoreError> {
    let Some(SessionRow {
        user,
        last_seen_at,
        expires_at,
        ..
    }) = store.session(stored).await?
    else {
        return Ok(None);
    };
    if now >= expires_at || now - last_seen_at >= policy.idle_secs || !user.active {
        store.delete_session(stored).await?;
        return Ok(None);
    }
    let mut seen = last_seen_at;
    if active && now - last_seen_at >= TOUCH_EVERY_SECS {
        store.touch_session(stored, now).await?;
        seen = now;
    }
    Ok(Some(LiveSession {
        user,
        ends_at: expires_at.min(seen + policy.idle_secs),
    }))
}

/// Ends a session (logout); answers its stored digest if there was one.
pub async fn end(store: &Store, token: &str) -> Result<Option<String>, StoreError> {
    let stored = token::digest(token);
    Ok(store.delete_session(&stored).await?.then_some(stored))
}
