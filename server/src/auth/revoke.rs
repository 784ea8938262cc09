//! Changes of someone's rights that open connections must follow, on every instance.
//!
//! An HTTP request resolves its caller afresh (through a cache of a few seconds that these changes
//! empty), but a collaboration socket lives for hours. So every change that can take a right away is
//! published here as a [`Revocation`]: a sign-out, a password reset, a deactivation, a change of role
//! or projects, a revoked token. [`Revocations`] hands each one to every socket of this instance (a
//! broadcast) and, with Redis, to every other instance (channel [`CHANNEL`]). A socket whose
//! credential a revocation names reads that credential again from the store and closes, or changes
//! what it may do. A socket that missed revocations (it lagged behind the broadcast, or the Redis
//! subscription was away) hears [`Revocation::Everything`] and checks itself.
//!
//! What the store says is the authority; a revocation only says when to ask it again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// The Redis channel every instance publishes revocations to and listens on.
pub const CHANNEL: &str = "pmr:access";
/// Revocations waiting for the slowest socket of this instance before it misses some (it then
/// checks itself, see [`Revocation::Everything`]).
const BROADCAST: usize = 256;
/// Longest a request waits to hand a revocation to Redis; a publication that does not make it is
/// logged and the other instances find out at their sockets' next periodic check.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(2);
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Why a credential lost (some of) its rights; it decides what a closed socket's user is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Why {
    SignedOut,
    PasswordReset,
    Deactivated,
    /// A role or the projects changed: the socket's rights are read again.
    RightsChanged,
    TokenRevoked,
    /// The session or token reached its end.
    Expired,
}

impl Why {
    /// What the user is told when the change ends their connection.
    pub fn reason(self) -> &'static str {
        match self {
            Why::SignedOut => "You were signed out.",
            Why::PasswordReset => "Your password was reset; sign in again.",
            Why::Deactivated => "Your account was deactivated.",
            Why::RightsChanged => "Your access to this project was removed.",
            Why::TokenRevoked => "The API token was revoked.",
            Why::Expired => "Your session ended; sign in again.",
        }
    }
}

/// A change of someone's rights.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Revocation {
    /// One session ended (its token's SHA-256, as stored).
    Session { digest: String, why: Why },
    /// An account changed: every credential of the account.
    Account { user_id: i64, why: Why },
    /// An API token ended.
    Token { token_id: i64, why: Why },
    /// Revocations may have been missed: every socket checks its credential.
    Everything,
}

/// What a socket holds: the credential it was opened with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Session {
        digest: String,
        user_id: i64,
    },
    /// A token, with the account that created it (it ends with that account's deactivation).
    Token {
        token_id: i64,
        created_by: Option<i64>,
    },
}

impl Revocation {
    /// Whether the revocation concerns `credential`; and why.
    pub fn names(&self, credential: &Credential) -> Option<Option<Why>> {
        match (self, credential) {
            (Revocation::Everything, _) => Some(None),
            (Revocation::Session { digest, why }, Credential::Session { digest: mine, .. })
                if digest == mine =>
            {
                Some(Some(*why))
            }
            (Revocation::Account { user_id, why }, Credential::Session { user_id: mine, .. })
                if user_id == mine =>
            {
                Some(Some(*why))
            }
            (Revocation::Account { user_id, why }, Credential::Token { created_by, .. })
                if *created_by == Some(*user_id) =>
            {
                Some(Some(*why))
            }
            (Revocation::Token { token_id, why }, Credential::Token { token_id: mine, .. })
                if token_id == mine =>
            {
                Some(Some(*why))
            }
            _ => None,
        }
    }
}

/// On the channel: a revocation and the instance that published it.
#[derive(Serialize, Deserialize)]
struct Envelope {
    o: String,
    r: Revocation,
}

/// Publishes revocations and hands them to this instance's sockets. Cheap to clone.
#[derive(Clone)]
pub struct Revocations {
    local: broadcast::Sender<Revocation>,
    redis: Option<redis::Client>,
    instance: String,
    /// Counts the revocations heard here (published or received), so that what was resolved
    /// before one can be told from what was resolved after, at once.
    epoch: Arc<AtomicU64>,
}

impl Revocations {
    /// Revocations for this instance (`instance` tells its own publications apart); with `redis`,
    /// also to and from every other instance.
    pub fn new(instance: String, redis: Option<redis::Client>) -> Revocations {
        let (local, _) = broadcast::channel(BROADCAST);
        let revocations = Revocations {
            local,
            redis,
            instance,
            epoch: Arc::new(AtomicU64::new(0)),
        };
        if let Some(client) = revocations.redis.clone() {
            tokio::spawn(subscriber(
                client,
                revocations.local.downgrade(),
                revocations.instance.clone(),
                revocations.epoch.clone(),
            ));
        }
        revocations
    }

    /// Revocations heard so far: a resolution remembered at an earlier count may be out of date.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// What a socket listens to.
    pub fn subscribe(&self) -> broadcast::Receiver<Revocation> {
        self.local.subscribe()
    }

    /// Hands a revocation to this instance's sockets at once, and to the other instances.
    pub async fn publish(&self, revocation: Revocation) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let _ = self.local.send(revocation.clone());
        let Some(client) = &self.redis else { return };
        let envelope = Envelope {
            o: self.instance.clone(),
            r: revocation,
        };
        let Ok(payload) = serde_json::to_string(&envelope) else {
            return;
        };
        let sent = tokio::time::timeout(PUBLISH_TIMEOUT, async {
            let mut conn = client.get_multiplexed_async_connection().await?;
            redis::cmd("PUBLISH")
                .arg(CHANNEL)
                .arg(payload)
                .query_async::<()>(&mut conn)
                .await
        })
        .await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "a revocation did not reach Redis; other instances find out at their next check"),
            Err(_) => tracing::warn!("a revocation did not reach Redis in time; other instances find out at their next check"),
        }
    }
}

/// Listens to the other instances' revocations; after any gap in the subscription, every socket
/// checks itself.
async fn subscriber(
    client: redis::Client,
    local: broadcast::WeakSender<Revocation>,
    instance: String,
    epoch: Arc<AtomicU64>,
) {
    let mut backoff = BACKOFF_MIN;
    let mut first = true;
    loop {
        let connected = tokio::time::timeout(Duration::from_secs(2), async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(CHANNEL).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        let Ok(Ok(pubsub)) = connected else {
            if local.upgrade().is_none() {
                return;
            }
            first = false;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
            continue;
        };
        backoff = BACKOFF_MIN;
        if !first {
            let Some(tx) = local.upgrade() else { return };
            epoch.fetch_add(1, Ordering::AcqRel);
            let _ = tx.send(Revocation::Everything);
        }
        first = false;
        let mut messages = pubsub.into_on_message();
        while let Some(msg) = messages.next().await {
            let Some(tx) = local.upgrade() else { return };
            match serde_json::from_slice::<Envelope>(msg.get_payload_bytes()) {
                Ok(e) if e.o == instance => {}
                Ok(e) => {
                    epoch.fetch_add(1, Ordering::AcqRel);
                    let _ = tx.send(e.r);
                }
                Err(e) => tracing::warn!(error = %e, "unreadable revocation on the channel"),
            }
        }
        tracing::warn!("the revocation channel lost Redis; reconnecting");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_names_the_credentials_it_concerns() {
        let session = Credential::Session {
            digest: "abc".into(),
            user_id: 7,
        };
        let token = Credential::Token {
            token_id: 3,
            created_by: Some(8),
        };
        let signed_out = Revocation::Session {
            digest: "abc".into(),
            why: Why::SignedOut,
        };
        assert_eq!(signed_out.names(&session), Some(Some(Why::SignedOut)));
        assert_eq!(signed_out.names(&token), None);
        let other = Revocation::Session {
            digest: "xyz".into(),
            why: Why::SignedOut,
        };
        assert_eq!(other.names(&session), None);
        let account = Revocation::Account {
            user_id: 7,
            why: Why::Deactivated,
        };
        assert_eq!(account.names(&session), Some(Some(Why::Deactivated)));
        assert_eq!(account.names(&token), None);
        let creator = Revocation::Account {
            user_id: 8,
            why: Why::Deactivated,
        };
        assert_eq!(
            creator.names(&token),
            Some(Some(Why::Deactivated)),
            "a token ends with its creator"
        );
        let revoked = Revocation::Token {
            token_id: 3,
            why: Why::TokenRevoked,
        };
        assert_eq!(revoked.names(&token), Some(Some(Why::TokenRevoked)));
        assert_eq!(Revocation::Everything.names(&token), Some(None));
    }

    #[tokio::test]
    async fn local_sockets_hear_a_revocation_at_once() {
        let revocations = Revocations::new("i1".into(), None);
        let mut rx = revocations.subscribe();
        revocations
            .publish(Revocation::Token {
                token_id: 9,
                why: Why::TokenRevoked,
            })
            .await;
        assert_eq!(
            rx.try_recv().expect("heard"),
            Revocation::Token {
                token_id: 9,
                why: Why::TokenRevoked
            }
        );
    }
}
