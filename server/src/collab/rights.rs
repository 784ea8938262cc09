//! A collaboration connection's rights for its whole life. A socket opens with the caller's
//! [`app::access::Access`]; once it listens for revocations, and before it is welcomed, it reads its
//! credential again from the store ([`confirm`], [`Authority::recheck`]), and from then on whenever
//! a revocation names it ([`crate::auth::revoke`]), when the
//! credential's end comes (a session's absolute expiry or idle deadline, a token's expiry), and every
//! [`RECHECK_EVERY`] besides (for revocations that could not be carried). Then:
//!
//! - a credential that has ended closes the socket with 4401 and why ("You were signed out");
//! - a caller who no longer reaches the report's project is closed with 4403;
//! - a change of role changes what the socket may do ([`Rights::may_edit`]) and tells the client
//!   with an `access` message.
//!
//! The reader checks [`Rights::may_edit`] on every `update` and `save`. A user who does something on
//! the socket keeps their session from idling out, as a request would ([`Rights::touch`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::auth::caller::{now, Authority};
use crate::auth::revoke::{Credential, Revocation, Why};

use super::optimizer::CloseCode;

/// How often a socket reads its credential again without being told to: it catches revocations
/// that never arrived (Redis away) and records the user's activity on their session. Each socket
/// starts at its own point of the period, so a crowd opened together does not check together.
pub const RECHECK_EVERY: Duration = Duration::from_secs(300);

/// What a connection may do now; shared by its reader and its watch.
#[derive(Debug)]
pub struct Rights {
    may_edit: AtomicBool,
    /// The user did something since the last check.
    active: AtomicBool,
}

impl Rights {
    pub fn new(may_edit: bool) -> Rights {
        Rights {
            may_edit: AtomicBool::new(may_edit),
            active: AtomicBool::new(false),
        }
    }

    /// Whether `update` and `save` are allowed now.
    pub fn may_edit(&self) -> bool {
        self.may_edit.load(Ordering::Acquire)
    }

    /// The user did something (a message).
    pub fn touch(&self) {
        self.active.store(true, Ordering::Relaxed);
    }
}

/// What the watch keeps an eye on.
pub struct Watch {
    pub authority: Authority,
    pub heard: tokio::sync::broadcast::Receiver<Revocation>,
    pub credential: Credential,
    pub project_id: i64,
    /// Unix seconds when the credential ends at the latest, as resolved at the upgrade.
    pub ends_at: Option<i64>,
    /// Spreads the periodic checks of many sockets over the period.
    pub offset: Duration,
}

/// What the watch decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Close the socket.
    Close(CloseCode),
    /// The role changed: the socket may now (or no longer) edit.
    MayEdit(bool),
}

/// The moment a Unix time comes, on tokio's clock.
fn instant_at(unix: i64) -> Instant {
    let wait = u64::try_from(unix - now()).unwrap_or(0);
    Instant::now() + Duration::from_secs(wait)
}

/// The first look, once the socket listens for revocations and before it is welcomed: the rights
/// the upgrade resolved may have changed in between. Answers how to close the socket if they ended;
/// otherwise `rights` and the credential's end are brought up to date. A store that cannot answer
/// leaves the upgrade's rights in place.
pub async fn confirm(w: &mut Watch, rights: &Rights) -> Option<CloseCode> {
    match w.authority.recheck(&w.credential, false).await {
        Ok(found) => match judge(found, w.project_id, None, rights.may_edit()) {
            (Some(Verdict::Close(code)), _) => Some(code),
            (change, ends_at) => {
                w.ends_at = ends_at;
                if let Some(Verdict::MayEdit(may)) = change {
                    rights.may_edit.store(may, Ordering::Release);
                }
                None
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "a socket's rights could not be confirmed");
            None
        }
    }
}

/// Watches a socket's rights until they end (after [`confirm`]); `changed` hears a change of role
/// as it happens. Answers how to close the socket.
pub async fn watch(mut w: Watch, rights: &Rights, changed: impl Fn(bool)) -> CloseCode {
    let mut deadline = w.ends_at.map(instant_at);
    let mut periodic = tokio::time::interval_at(Instant::now() + w.offset, RECHECK_EVERY);
    loop {
        let why = tokio::select! {
            heard = w.heard.recv() => match heard {
                Ok(revocation) => match revocation.names(&w.credential) {
                    Some(why) => why,
                    None => continue,
                },
                // Missed some: check anyway.
                Err(RecvError::Lagged(_)) => None,
                Err(RecvError::Closed) => {
                    // The server is going away; the periodic check and the deadline remain.
                    w.heard = tokio::sync::broadcast::channel(1).1;
                    continue;
                }
            },
            () = sleep_until(deadline) => Some(Why::Expired),
            _ = periodic.tick() => None,
        };
        let active = rights.active.swap(false, Ordering::Relaxed);
        // Boxed: the store call's future exists only during a recheck, not in every connection's
        // state for its whole life (about 900 bytes each).
        let verdict = match Box::pin(w.authority.recheck(&w.credential, active)).await {
            Ok(found) => judge(found, w.project_id, why, rights.may_edit()),
            Err(e) => {
                // The store cannot say: the socket keeps what it has until it can.
                tracing::warn!(error = %e, "a socket's rights could not be checked");
                continue;
            }
        };
        match verdict {
            (Some(Verdict::Close(code)), _) => return code,
            (change, ends_at) => {
                deadline = ends_at.map(instant_at);
                if let Some(Verdict::MayEdit(may)) = change {
                    rights.may_edit.store(may, Ordering::Release);
                    changed(may);
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// What a recheck means for the socket, and its credential's new end.
fn judge(
    found: Option<crate::auth::caller::Resolved>,
    project_id: i64,
    why: Option<Why>,
    may_edit: bool,
) -> (Option<Verdict>, Option<i64>) {
    let Some(resolved) = found else {
        let why = why
            .filter(|w| *w != Why::RightsChanged)
            .unwrap_or(Why::Expired);
        return (
            Some(Verdict::Close(CloseCode {
                code: CloseCode::ENDED,
                reason: why.reason(),
            })),
            None,
        );
    };
    if !resolved.access.reaches(project_id) {
        return (
            Some(Verdict::Close(CloseCode {
                code: CloseCode::NO_ACCESS,
                reason: Why::RightsChanged.reason(),
            })),
            None,
        );
    }
    let now_may = resolved.access.may_edit(project_id);
    let change = (now_may != may_edit).then_some(Verdict::MayEdit(now_may));
    (change, resolved.ends_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::caller::Resolved;
    use app::access::{Access, Scope};
    use app::account::{Principal, PrincipalKind};
    use app::model::Role;

    fn resolved(role: Role, projects: &[i64]) -> Option<Resolved> {
        let principal = Principal {
            kind: PrincipalKind::User(1),
            name: "ana".into(),
            display_name: "Ana".into(),
            role,
        };
        Some(Resolved {
            access: Access::new(principal, projects, Scope::Full),
            credential: Credential::Session {
                digest: "d".into(),
                user_id: 1,
            },
            ends_at: Some(99),
        })
    }

    #[test]
    fn an_ended_credential_closes_with_why() {
        let (verdict, _) = judge(None, 5, Some(Why::SignedOut), true);
        assert_eq!(
            verdict,
            Some(Verdict::Close(CloseCode {
                code: 4401,
                reason: "You were signed out."
            }))
        );
        let (verdict, _) = judge(None, 5, None, true);
        assert_eq!(
            verdict,
            Some(Verdict::Close(CloseCode {
                code: 4401,
                reason: Why::Expired.reason()
            }))
        );
    }

    #[test]
    fn a_lost_project_closes_and_a_new_role_changes_what_the_socket_may_do() {
        let (verdict, _) = judge(resolved(Role::Editor, &[6]), 5, None, true);
        assert!(matches!(verdict, Some(Verdict::Close(c)) if c.code == 4403));
        let (verdict, ends) = judge(resolved(Role::Viewer, &[5]), 5, None, true);
        assert_eq!(verdict, Some(Verdict::MayEdit(false)));
        assert_eq!(ends, Some(99));
        let (verdict, _) = judge(resolved(Role::Editor, &[5]), 5, None, true);
        assert_eq!(verdict, None, "nothing changed");
        let (verdict, _) = judge(resolved(Role::Editor, &[5]), 5, None, false);
        assert_eq!(verdict, Some(Verdict::MayEdit(true)));
    }
}
