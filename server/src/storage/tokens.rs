//! API tokens: named, with a role and (for viewers and editors) a project list, stored only as the
//! SHA-256 of the secret. Revoked tokens stay listed, with the time they were revoked. A token is live
//! until revoked, past its expiry, or its creator is deactivated.

use app::access::Scope;
use app::account::ApiTokenInfo;
use app::model::Role;
use sqlx::Row;

use super::parse;
use super::{Store, StoreError};

/// A token to store.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub name: &'a str,
    pub token_hash: &'a str,
    pub role: Role,
    pub created_by: Option<i64>,
    pub projects: &'a [i64],
    pub now: i64,
    /// Unix seconds; `None`: until revoked.
    pub expires_at: Option<i64>,
    pub scope: Scope,
}

/// How a scope is stored.
pub fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Full => "full",
        Scope::Metrics => "metrics",
    }
}

fn scope_of(name: &str) -> Scope {
    if name == "metrics" {
        Scope::Metrics
    } else {
        Scope::Full
    }
}

/// A live token found by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveToken {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub last_used_at: Option<i64>,
    pub scope: Scope,
    /// Unix seconds; `None`: until revoked.
    pub expires_at: Option<i64>,
    /// The account that created it (the token dies with its deactivation).
    pub created_by: Option<i64>,
}

/// The columns of a live token.
const LIVE_TOKEN: &str =
    "SELECT t.id, t.name, t.role, t.last_used_at, t.scope, t.expires_at, t.created_by FROM api_tokens t";
/// What keeps a token live at `$2` (now): not revoked, not expired, its creator active.
const STILL_LIVE: &str = "AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)
     AND (t.created_by IS NULL OR EXISTS
          (SELECT 1 FROM users u WHERE u.id = t.created_by AND u.active = 1))";

fn live_token(r: &sqlx::any::AnyRow) -> Result<LiveToken, StoreError> {
    Ok(LiveToken {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        role: parse(r, "role", "api_tokens")?,
        last_used_at: r.try_get("last_used_at")?,
        scope: scope_of(&r.try_get::<String, _>("scope")?),
        expires_at: r.try_get("expires_at")?,
        created_by: r.try_get("created_by")?,
    })
}

impl Store {
    /// Stores a token with its projects; returns its id.
    pub async fn insert_api_token(&self, token: &NewToken<'_>) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (name, token_hash, role, created_by, created_at, expires_at, scope)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(token.name)
        .bind(token.token_hash)
        .bind(token.role.as_str())
        .bind(token.created_by)
        .bind(token.now)
        .bind(token.expires_at)
        .bind(scope_name(token.scope))
        .fetch_one(&mut *tx)
        .await?;
        for &project in token.projects {
            sqlx::query("INSERT INTO api_token_projects (token_id, project_id) VALUES ($1, $2)")
                .bind(id)
                .bind(project)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// The live token stored under `token_hash` at `now`: not revoked, not expired, its creator (if
    /// any) active.
    pub async fn live_api_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<LiveToken>, StoreError> {
        let row = sqlx::query(&format!(
            "{LIVE_TOKEN} WHERE t.token_hash = $1 {STILL_LIVE}"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| live_token(&r)).transpose()
    }

    /// The token with this id, if it is live at `now` (as [`Store::live_api_token`]).
    pub async fn live_api_token_by_id(
        &self,
        id: i64,
        now: i64,
    ) -> Result<Option<LiveToken>, StoreError> {
        let row = sqlx::query(&format!("{LIVE_TOKEN} WHERE t.id = $1 {STILL_LIVE}"))
            .bind(id)
            .bind(now)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| live_token(&r)).transpose()
    }

    /// The live tokens an account created (they end with its deactivation).
    pub async fn tokens_created_by(&self, user_id: i64) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM api_tokens WHERE created_by = $1 AND revoked_at IS NULL ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Records that a token was used.
    pub async fn touch_api_token(&self, id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Every token, newest first, with its creator's user name and its projects.
    pub async fn api_tokens(&self) -> Result<Vec<ApiTokenInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, t.name, t.role, t.created_at, t.revoked_at, t.expires_at, t.scope,
                    u.username AS created_by
             FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by ORDER BY t.id DESC",
        )
        .fetch_all(self.pool())
        .await?;
        let links =
            sqlx::query("SELECT token_id, project_id FROM api_token_projects ORDER BY project_id")
                .fetch_all(self.pool())
                .await?;
        let mut projects: std::collections::HashMap<i64, Vec<i64>> =
            std::collections::HashMap::new();
        for link in &links {
            projects
                .entry(link.try_get("token_id")?)
                .or_default()
                .push(link.try_get("project_id")?);
        }
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                Ok(ApiTokenInfo {
                    id,
                    name: r.try_get("name")?,
                    role: parse(r, "role", "api_tokens")?,
                    projects: projects.remove(&id).unwrap_or_default(),
                    created_by: r.try_get("created_by")?,
                    created_at: r.try_get("created_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                    expires_at: r.try_get("expires_at")?,
                    metrics_only: scope_of(&r.try_get::<String, _>("scope")?) == Scope::Metrics,
                })
            })
            .collect()
    }

    /// Revokes a token; `false` when there is no such live token.
    pub async fn revoke_api_token(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
