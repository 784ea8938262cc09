//! The account service behind the login, logout and admin server functions ([`StoreAccounts`]).
//!
//! Sign-in answers every failure with the same words, whether the account is unknown, deactivated or
//! the password wrong, and spends the same Argon2 work on unknown names (against a dummy hash), so
//! neither the message nor the timing tells which names exist. Password hashing runs on the blocking
//! pool, a few at a time, so a burst of logins cannot starve the server of CPU or memory.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use app::account::{
    check_name, check_username, AccountChange, AdminOverview, IssuedSecret, NewAccount,
    NewApiToken, Principal, PrincipalKind, MAX_TOKEN_DAYS,
};
use app::error::AppError;
use app::format::sentence_case;
use app::services::{AccountService, SignedIn};
use async_trait::async_trait;
use tokio::sync::Semaphore;

use super::caller::{now, principal_of};
use super::guard::AuthSettings;
use super::password;
use super::revoke::{Revocation, Revocations, Why};
use super::session;
use super::throttle::{Admission, LoginThrottle, Refusal};
use super::token;
use crate::monitor::timed_query;
use crate::monitor::Monitor;
use crate::storage::tokens::NewToken;
use crate::storage::users::{AccountUpdate, NewUser};
use crate::storage::{Store, StoreError};

/// What every failed sign-in says.
pub const SIGN_IN_FAILED: &str = "The user name or password is incorrect.";
/// Argon2 computations allowed at once (each takes about 19 MiB and tens of milliseconds).
const HASHING_SLOTS: usize = 4;

/// Accounts in the store.
pub struct StoreAccounts {
    store: Store,
    revocations: Revocations,
    monitor: Monitor,
    settings: AuthSettings,
    throttle: Arc<LoginThrottle>,
    hashing: Semaphore,
    dummy_hash: OnceLock<String>,
}

impl StoreAccounts {
    pub fn new(
        store: Store,
        revocations: Revocations,
        monitor: Monitor,
        settings: AuthSettings,
        throttle: Arc<LoginThrottle>,
    ) -> Self {
        StoreAccounts {
            store,
            revocations,
            monitor,
            settings,
            throttle,
            hashing: Semaphore::new(HASHING_SLOTS),
            dummy_hash: OnceLock::new(),
        }
    }

    /// Runs Argon2 work on the blocking pool, within the hashing slots.
    async fn hashing<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let _slot = self
            .hashing
            .acquire()
            .await
            .map_err(|_| AppError::Unavailable("The server is shutting down.".into()))?;
        tokio::task::spawn_blocking(work).await.map_err(|e| {
            tracing::error!(error = %e, "password hashing task failed");
            AppError::Internal(
                "The password could not be checked; the error has been logged.".into(),
            )
        })
    }

    async fn hash_password(&self, secret: String) -> Result<String, AppError> {
        self.hashing(move || password::hash(&secret))
            .await?
            .map_err(|e| AppError::BadRequest(format!("{}.", sentence_case(&e.to_string()))))
    }

    fn dummy_hash(&self) -> String {
        self.dummy_hash
            .get_or_init(|| {
                password::hash(&password::generate()).unwrap_or_else(|_| String::from("$invalid"))
            })
            .clone()
    }

    /// Checks that every project id exists.
    async fn check_projects(&self, projects: &[i64]) -> Result<Vec<i64>, AppError> {
        let known = timed_query(&self.monitor, "project_refs", self.store.project_refs())
            .await
            .map_err(AppError::from)?;
        let mut chosen: Vec<i64> = projects.to_vec();
        chosen.sort_unstable();
        chosen.dedup();
        if let Some(bad) = chosen.iter().find(|id| !known.iter().any(|p| p.id == **id)) {
            return Err(AppError::BadRequest(format!(
                "There is no project with id {bad}."
            )));
        }
        Ok(chosen)
    }
}

/// Store errors of account changes, in words for the admin.
fn account_error(err: StoreError) -> AppError {
    match err {
        StoreError::Conflict(message) => {
            AppError::Conflict(format!("{}.", sentence_case(&message)))
        }
        StoreError::InvalidReference(_) => {
            AppError::BadRequest("One of the chosen projects does not exist.".into())
        }
        other => AppError::from(other),
    }
}

#[async_trait]
impl AccountService for StoreAccounts {
    async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client: &str,
    ) -> Result<SignedIn, AppError> {
        let username = username.to_lowercase();
        let ticket = match self.throttle.admit(&username, client, Instant::now()) {
            Admission::Now(attempt) => attempt,
            // Past the account's limit: slowed, never refused for good.
            Admission::After(delay, attempt) => {
                tokio::time::sleep(delay).await;
                attempt
            }
            Admission::Refused(Refusal::Address, wait) => {
                let minutes = wait.as_secs().div_ceil(60).max(1);
                return Err(AppError::TooManyRequests(format!(
                    "Too many failed sign-in attempts from your address. Try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                )));
            }
            Admission::Refused(Refusal::AccountBusy, wait) => {
                return Err(AppError::TooManyRequests(format!(
                    "Another sign-in for this account is being checked. Try again in {} s.",
                    wait.as_secs().max(1)
                )));
            }
        };
        let found = timed_query(
            &self.monitor,
            "user_with_hash",
            self.store.user_with_hash(&username),
        )
        .await
        .map_err(AppError::from)?;
        let stored = found
            .as_ref()
            .map_or_else(|| self.dummy_hash(), |(_, hash)| hash.clone());
        let attempt = password.to_string();
        let matches = self
            .hashing(move || password::verify(&attempt, &stored))
            .await?;
        match found {
            Some((user, _)) if matches && user.active => {
                ticket.succeeded(Instant::now());
                let token = session::start(&self.store, &user, now(), self.settings.sessions)
                    .await
                    .map_err(AppError::from)?;
                tracing::info!(user = %user.username, client, "signed in");
                Ok(SignedIn {
                    principal: principal_of(&user),
                    set_cookie: self.settings.cookie.issue(&token, self.settings.sessions),
                })
            }
            _ => {
                ticket.failed(Instant::now());
                tracing::warn!(client, "failed sign-in");
                Err(AppError::Unauthorized(SIGN_IN_FAILED.into()))
            }
        }
    }

    async fn sign_out(&self, headers: &http::HeaderMap) -> Result<String, AppError> {
        if let Some(token) = self.settings.cookie.token(headers) {
            // A cookie that names no session ends nothing, here or elsewhere.
            let ended = session::end(&self.store, &token)
                .await
                .map_err(AppError::from)?;
            if let Some(digest) = ended {
                self.revocations
                    .publish(Revocation::Session {
                        digest,
                        why: Why::SignedOut,
                    })
                    .await;
            }
        }
        Ok(self.settings.cookie.clear())
    }

    async fn overview(&self) -> Result<AdminOverview, AppError> {
        Ok(AdminOverview {
            accounts: timed_query(&self.monitor, "accounts", self.store.accounts())
                .await
                .map_err(AppError::from)?,
            tokens: timed_query(&self.monitor, "api_tokens", self.store.api_tokens())
                .await
                .map_err(AppError::from)?,
            projects: timed_query(&self.monitor, "project_refs", self.store.project_refs())
                .await
                .map_err(AppError::from)?,
        })
    }

    async fn create_account(
        &self,
        who: &Principal,
        account: NewAccount,
    ) -> Result<Option<IssuedSecret>, AppError> {
        let username = account.username.trim().to_string();
        check_username(&username).map_err(AppError::BadRequest)?;
        check_name("display name", &account.display_name).map_err(AppError::BadRequest)?;
        let projects = self.check_projects(&account.projects).await?;
        let generated = account.password.is_empty();
        let secret = if generated {
            password::generate()
        } else {
            account.password
        };
        let password_hash = self.hash_password(secret.clone()).await?;
        timed_query(
            &self.monitor,
            "create_account",
            self.store.create_account(
                &NewUser {
                    username: username.clone(),
                    display_name: account.display_name.trim().to_string(),
                    role: account.role,
                    password_hash,
                },
                &projects,
            ),
        )
        .await
        .map_err(account_error)?;
        tracing::info!(by = %who.name, user = %username, role = %account.role, "created account");
        Ok(generated.then_some(IssuedSecret {
            subject: username,
            secret,
        }))
    }

    async fn update_account(&self, who: &Principal, change: AccountChange) -> Result<(), AppError> {
        check_name("display name", &change.display_name).map_err(AppError::BadRequest)?;
        if who.kind == PrincipalKind::User(change.id)
            && (!change.active || !change.role.eq(&who.role))
        {
            return Err(AppError::Conflict(
                "You cannot deactivate your own account or change your own role; ask another admin."
                    .into(),
            ));
        }
        let projects = self.check_projects(&change.projects).await?;
        let updated = timed_query(
            &self.monitor,
            "update_account",
            self.store.update_account(&AccountUpdate {
                id: change.id,
                display_name: change.display_name.trim().to_string(),
                role: change.role,
                active: change.active,
                projects,
                may_create_projects: change.may_create_projects,
            }),
        )
        .await
        .map_err(account_error)?;
        if !updated {
            return Err(AppError::NotFound(format!(
                "There is no account with id {}.",
                change.id
            )));
        }
        let why = if change.active {
            Why::RightsChanged
        } else {
            Why::Deactivated
        };
        self.revocations
            .publish(Revocation::Account {
                user_id: change.id,
                why,
            })
            .await;
        tracing::info!(by = %who.name, user = change.id, role = %change.role, active = change.active, "updated account");
        Ok(())
    }

    async fn reset_password(
        &self,
        who: &Principal,
        user_id: i64,
        password: String,
    ) -> Result<Option<IssuedSecret>, AppError> {
        let generated = password.is_empty();
        let secret = if generated {
            password::generate()
        } else {
            password
        };
        let hash = self.hash_password(secret.clone()).await?;
        let accounts = timed_query(&self.monitor, "accounts", self.store.accounts())
            .await
            .map_err(AppError::from)?;
        let Some(account) = accounts.iter().find(|a| a.id == user_id) else {
            return Err(AppError::NotFound(format!(
                "There is no account with id {user_id}."
            )));
        };
        timed_query(
            &self.monitor,
            "set_password",
            self.store.set_password(user_id, &hash),
        )
        .await
        .map_err(account_error)?;
        self.revocations
            .publish(Revocation::Account {
                user_id,
                why: Why::PasswordReset,
            })
            .await;
        tracing::info!(by = %who.name, user = %account.username, "reset password; sessions ended");
        Ok(generated.then(|| IssuedSecret {
            subject: account.username.clone(),
            secret,
        }))
    }

    async fn create_token(
        &self,
        who: &Principal,
        token: NewApiToken,
    ) -> Result<IssuedSecret, AppError> {
        check_name("token name", &token.name).map_err(AppError::BadRequest)?;
        let expires_at = match token.expires_in_days {
            None => None,
            Some(days @ 1..=MAX_TOKEN_DAYS) => Some(now() + i64::from(days) * 86_400),
            Some(days) => {
                return Err(AppError::BadRequest(format!(
                    "A token lasts 1 to {MAX_TOKEN_DAYS} days (or until revoked), not {days}."
                )))
            }
        };
        let projects = self.check_projects(&token.projects).await?;
        let (raw, _) = token::issue();
        let secret = format!("pmr_{raw}");
        let created_by = match who.kind {
            PrincipalKind::User(id) => Some(id),
            PrincipalKind::Token(_) => None,
        };
        let name = token.name.trim().to_string();
        timed_query(
            &self.monitor,
            "insert_api_token",
            self.store.insert_api_token(&NewToken {
                name: &name,
                token_hash: &token::digest(&secret),
                role: token.role,
                created_by,
                projects: &projects,
                now: now(),
                expires_at,
                scope: if token.metrics_only {
                    app::access::Scope::Metrics
                } else {
                    app::access::Scope::Full
                },
            }),
        )
        .await
        .map_err(account_error)?;
        tracing::info!(by = %who.name, token = %name, role = %token.role, "created API token");
        Ok(IssuedSecret {
            subject: name,
            secret,
        })
    }

    async fn revoke_token(&self, who: &Principal, token_id: i64) -> Result<(), AppError> {
        if !timed_query(
            &self.monitor,
            "revoke_api_token",
            self.store.revoke_api_token(token_id, now()),
        )
        .await
        .map_err(AppError::from)?
        {
            return Err(AppError::NotFound(format!(
                "There is no active API token with id {token_id}."
            )));
        }
        self.revocations
            .publish(Revocation::Token {
                token_id,
                why: Why::TokenRevoked,
            })
            .await;
        tracing::info!(by = %who.name, token = token_id, "revoked API token");
        Ok(())
    }
}
