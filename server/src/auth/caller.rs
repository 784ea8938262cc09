//! Who is calling: a credential (an API token or a session cookie) turned into an [`Access`], the one
//! access decision ([`app::access`]).
//!
//! A request's caller is remembered for [`CALLER_TTL`] under its credential's digest, so that
//! authenticating a request does not cost a store query each time; every revocation (sign-out,
//! password reset, deactivation, a role or membership change, a revoked token; on any instance, see
//! [`super::revoke`]) makes every remembered caller out of date at once (each is remembered with the
//! count of revocations it was resolved under). A socket's credential is read again
//! from the store, uncached, whenever a revocation names it or its end comes ([`Authority::recheck`]).
//! Sessions that ended are swept from the store every [`SWEEP_EVERY`].

use std::sync::Arc;
use std::time::Duration;

use app::access::{Access, Scope};
use app::account::{Principal, PrincipalKind};

use super::revoke::{Credential, Revocations};
use super::session::{self, SessionPolicy};
use super::token;
use crate::monitor::timed_query;
use crate::monitor::Monitor;
use crate::storage::{Store, StoreError};

/// How long a resolved caller is remembered (at most: revocations forget it sooner).
pub const CALLER_TTL: Duration = Duration::from_secs(5);
/// Callers remembered at most; the oldest make room.
const MAX_REMEMBERED: u64 = 100_000;
/// API tokens' last use is written back at most this often (seconds).
const TOKEN_TOUCH_SECS: i64 = 300;
/// How often ended sessions are deleted from the store (each instance; the delete is idempotent).
pub const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// A credential's rights, and until when it holds at the latest.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub access: Access,
    pub credential: Credential,
    /// Unix seconds: the session's end (absolute expiry or idle deadline) or the token's expiry;
    /// `None`: a token that lives until revoked.
    pub ends_at: Option<i64>,
}

/// When a request's credential ends at the latest (Unix seconds; `None`: a token without expiry),
/// handed to handlers with the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialEnd(pub Option<i64>);

/// The principal of a signed-in account.
pub fn principal_of(user: &crate::storage::users::User) -> Principal {
    Principal {
        kind: PrincipalKind::User(user.id),
        name: user.username.clone(),
        display_name: user.display_name.clone(),
        role: user.role,
    }
}

/// Unix seconds now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

struct Inner {
    store: Store,
    monitor: Monitor,
    sessions: SessionPolicy,
    /// Resolved callers, with the revocation count they were resolved under.
    callers: moka::sync::Cache<String, (Resolved, u64)>,
    revocations: Revocations,
}

/// Resolves credentials. Cheap to clone.
#[derive(Clone)]
pub struct Authority {
    inner: Arc<Inner>,
}

impl Authority {
    /// An authority over `store` whose remembered callers go out of date at every revocation.
    pub fn new(
        store: Store,
        monitor: Monitor,
        sessions: SessionPolicy,
        revocations: &Revocations,
    ) -> Authority {
        let authority = Authority {
            inner: Arc::new(Inner {
                store,
                monitor,
                sessions,
                callers: moka::sync::Cache::builder()
                    .max_capacity(MAX_REMEMBERED)
                    .time_to_live(CALLER_TTL)
                    .build(),
                revocations: revocations.clone(),
            }),
        };
        authority.spawn_sweeper();
        authority
    }

    /// How sessions live.
    pub fn sessions(&self) -> SessionPolicy {
        self.inner.sessions
    }

    fn spawn_sweeper(&self) {
        let inner = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(inner) = inner.upgrade() else { return };
                let now = now();
                let idle_since = now - inner.sessions.idle_secs;
                match inner.store.delete_expired_sessions(now, idle_since).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(sessions = n, "swept ended sessions"),
                    Err(e) => tracing::warn!(error = %e, "ended sessions not swept"),
                }
            }
        });
    }

    /// The caller behind an API token (the raw secret): remembered, or looked up (and its last use
    /// recorded).
    pub async fn token(&self, raw: &str) -> Result<Option<Resolved>, StoreError> {
        let stored = token::digest(raw);
        self.remembered(format!("t:{stored}"), async {
            let lookup = self.inner.store.live_api_token(&stored, now());
            let Some(live) = timed_query(&self.inner.monitor, "api_token", lookup).await? else {
                return Ok(None);
            };
            if live
                .last_used_at
                .is_none_or(|t| now() - t >= TOKEN_TOUCH_SECS)
            {
                self.inner.store.touch_api_token(live.id, now()).await?;
            }
            self.token_rights(live).await.map(Some)
        })
        .await
    }

    /// The caller behind a session cookie (the raw token): remembered, or looked up (expiry
    /// checked, activity recorded).
    pub async fn session(&self, raw: &str) -> Result<Option<Resolved>, StoreError> {
        let stored = token::digest(raw);
        self.remembered(format!("s:{stored}"), self.session_rights(&stored, true))
            .await
    }

    /// A socket's credential read again from the store (nothing remembered): its rights now, or
    /// `None` when it has ended. `active`: the socket's user did something since the last look,
    /// which keeps a session from idling out.
    pub async fn recheck(
        &self,
        credential: &Credential,
        active: bool,
    ) -> Result<Option<Resolved>, StoreError> {
        match credential {
            Credential::Session { digest, .. } => self.session_rights(digest, active).await,
            Credential::Token { token_id, .. } => {
                let lookup = self.inner.store.live_api_token_by_id(*token_id, now());
                match timed_query(&self.inner.monitor, "api_token", lookup).await? {
                    Some(live) => self.token_rights(live).await.map(Some),
                    None => Ok(None),
                }
            }
        }
    }

    async fn remembered(
        &self,
        key: String,
        lookup: impl std::future::Future<Output = Result<Option<Resolved>, StoreError>>,
    ) -> Result<Option<Resolved>, StoreError> {
        let now = now();
        let epoch = self.inner.revocations.epoch();
        if let Some((caller, at)) = self.inner.callers.get(&key) {
            if at == epoch && caller.ends_at.is_none_or(|end| now < end) {
                return Ok(Some(caller));
            }
        }
        let found = lookup.await?;
        if let Some(caller) = &found {
            self.inner.callers.insert(key, (caller.clone(), epoch));
        }
        Ok(found)
    }

    async fn session_rights(
        &self,
        stored: &str,
        active: bool,
    ) -> Result<Option<Resolved>, StoreError> {
        let lookup = session::resolve_stored(
            &self.inner.store,
            stored,
            now(),
            self.inner.sessions,
            active,
        );
        let Some(live) = timed_query(&self.inner.monitor, "session", lookup).await? else {
            return Ok(None);
        };
        let credential = Credential::Session {
            digest: stored.to_string(),
            user_id: live.user.id,
        };
        Ok(Some(Resolved {
            access: self
                .access_of(principal_of(&live.user), Scope::Full)
                .await?,
            credential,
            ends_at: Some(live.ends_at),
        }))
    }

    async fn token_rights(
        &self,
        live: crate::storage::tokens::LiveToken,
    ) -> Result<Resolved, StoreError> {
        let principal = Principal {
            kind: PrincipalKind::Token(live.id),
            display_name: format!("API token “{}”", live.name),
            name: live.name,
            role: live.role,
        };
        Ok(Resolved {
            access: self.access_of(principal, live.scope).await?,
            credential: Credential::Token {
                token_id: live.id,
                created_by: live.created_by,
            },
            ends_at: live.expires_at,
        })
    }

    /// What a principal may reach: the one place an [`Access`] is computed from the store.
    async fn access_of(&self, who: Principal, scope: Scope) -> Result<Access, StoreError> {
        let projects = if who.is_admin() {
            Vec::new()
        } else {
            let read = self.inner.store.reachable_projects(&who);
            timed_query(&self.inner.monitor, "reachable_projects", read).await?
        };
        Ok(Access::new(who, &projects, scope))
    }
}
