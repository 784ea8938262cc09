//! API tokens: named, with a role and (for viewers and editors) a project list, stored only as the
//! SHA-256 of the secret. Revoked tokens stay listed, with the time they were revoked.

use app::account::ApiTokenInfo;
use app::model::Role;
use sqlx::Row;

use super::projects::parse;
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
}

/// A live token found by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveToken {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub last_used_at: Option<i64>,
}

impl Store {
    /// Stores a token with its projects; returns its id.
    pub async fn insert_api_token(&self, token: &NewToken<'_>) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (name, token_hash, role, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(token.name)
        .bind(token.token_hash)
        .bind(token.role.as_str())
        .bind(token.created_by)
        .bind(token.now)
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

    /// The unrevoked token stored under `token_hash`.
    pub async fn live_api_token(&self, token_hash: &str) -> Result<Option<LiveToken>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, role, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(LiveToken {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                role: parse(&r, "role", "api_tokens")?,
                last_used_at: r.try_get("last_used_at")?,
            })
        })
        .transpose()
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
            "SELECT t.id, t.name, t.role, t.created_at, t.revoked_at, u.username AS created_by
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
