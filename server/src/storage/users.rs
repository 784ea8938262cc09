//! User accounts and project membership.

use app::model::Role;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::projects::parse;
use super::{Store, StoreError};

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Argon2id PHC string.
    pub password_hash: String,
}

/// An account as stored (without its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
}

/// Reads the `id, username, display_name, role, active` columns of a row.
pub(super) fn user_from_row(row: &AnyRow) -> Result<User, StoreError> {
    let active: i64 = row.try_get("active")?;
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        role: parse(row, "role", "users")?,
        active: active != 0,
    })
}

/// Creates an account and returns its id.
pub async fn insert_user(conn: &mut AnyConnection, user: &NewUser) -> Result<i64, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO users (username, display_name, role, password_hash, active, created_at)
         VALUES ($1, $2, $3, $4, 1, $5) RETURNING id",
    )
    .bind(&user.username)
    .bind(&user.display_name)
    .bind(user.role.as_str())
    .bind(&user.password_hash)
    .bind(chrono::Utc::now().to_rfc3339())
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// Makes a user a member of a project.
pub async fn insert_member(
    conn: &mut AnyConnection,
    project_id: i64,
    user_id: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO project_members (project_id, user_id) VALUES ($1, $2)")
        .bind(project_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

impl Store {
    /// Active admin accounts.
    pub async fn admin_count(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1")
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// An account and its password hash, by user name.
    pub async fn user_with_hash(
        &self,
        username: &str,
    ) -> Result<Option<(User, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, username, display_name, role, active, password_hash FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((user_from_row(&r)?, r.try_get("password_hash")?)))
            .transpose()
    }

    /// Ids of the projects a user is a member of.
    pub async fn memberships(&self, user_id: i64) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT project_id FROM project_members WHERE user_id = $1 ORDER BY project_id",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?)
    }
}
