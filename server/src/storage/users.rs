//! User accounts, project membership, and which projects a caller (account or API token) may reach.

use app::account::{Account, Principal, PrincipalKind, ProjectRef};
use app::model::Role;
use app::project::ProjectMember;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::parse;
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

    /// The active accounts that are members of a project, by display name.
    pub async fn project_members(&self, project_id: i64) -> Result<Vec<ProjectMember>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.username, u.display_name, u.role FROM users u
             JOIN project_members m ON m.user_id = u.id
             WHERE m.project_id = $1 AND u.active = 1
             ORDER BY u.display_name, u.username",
        )
        .bind(project_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ProjectMember {
                    username: row.try_get("username")?,
                    display_name: row.try_get("display_name")?,
                    role: parse(row, "role", "users")?,
                })
            })
            .collect()
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

/// Replaces a user's project memberships.
async fn set_members(
    conn: &mut AnyConnection,
    user_id: i64,
    projects: &[i64],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM project_members WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for &project in projects {
        insert_member(&mut *conn, project, user_id).await?;
    }
    Ok(())
}

/// Active admins, counted inside a transaction.
async fn active_admins(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1")
            .fetch_one(conn)
            .await?,
    )
}

/// Changes to an account, applied by [`Store::update_account`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountUpdate {
    pub id: i64,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    pub projects: Vec<i64>,
    /// May create projects (and becomes a member of each one made); meaningful for editors.
    pub may_create_projects: bool,
}

impl Store {
    /// Every account with its memberships, admins first, then by user name.
    pub async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, username, display_name, role, active, created_at, may_create_projects FROM users
             ORDER BY CASE role WHEN 'admin' THEN 0 WHEN 'editor' THEN 1 ELSE 2 END, username",
        )
        .fetch_all(self.pool())
        .await?;
        let members = sqlx::query(
            "SELECT user_id, project_id FROM project_members ORDER BY user_id, project_id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut by_user: std::collections::HashMap<i64, Vec<i64>> =
            std::collections::HashMap::new();
        for m in &members {
            by_user
                .entry(m.try_get("user_id")?)
                .or_default()
                .push(m.try_get("project_id")?);
        }
        let mut accounts = Vec::with_capacity(rows.len());
        for row in &rows {
            let user = user_from_row(row)?;
            let projects = by_user.remove(&user.id).unwrap_or_default();
            accounts.push(Account {
                id: user.id,
                username: user.username,
                display_name: user.display_name,
                role: user.role,
                active: user.active,
                projects,
                created_at: row.try_get("created_at")?,
                may_create_projects: row.try_get::<i64, _>("may_create_projects")? != 0,
            });
        }
        Ok(accounts)
    }

    /// Creates an account with its memberships; `Conflict` when the user name is taken.
    pub async fn create_account(
        &self,
        user: &NewUser,
        projects: &[i64],
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username = $1")
            .bind(&user.username)
            .fetch_one(&mut *tx)
            .await?;
        if taken > 0 {
            // Ended here, not when dropped: a dropped SQLite transaction keeps its lock until its
            // connection is reused, and the next writer would wait for it.
            tx.rollback().await?;
            return Err(StoreError::Conflict(format!(
                "the user name '{}' is taken",
                user.username
            )));
        }
        let id = insert_user(&mut tx, user).await?;
        set_members(&mut tx, id, projects).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Applies changes to an account. Refuses (with `Conflict`) to demote or deactivate the last
    /// active admin; returns `false` when there is no such account.
    pub async fn update_account(&self, change: &AccountUpdate) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let was_admin: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE id = $1 AND role = 'admin' AND active = 1",
        )
        .bind(change.id)
        .fetch_one(&mut *tx)
        .await?;
        let done =
            sqlx::query("UPDATE users SET display_name = $1, role = $2, active = $3, may_create_projects = $4 WHERE id = $5")
                .bind(&change.display_name)
                .bind(change.role.as_str())
                .bind(i64::from(change.active))
                .bind(i64::from(change.may_create_projects))
                .bind(change.id)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        if was_admin > 0 && active_admins(&mut tx).await? == 0 {
            tx.rollback().await?;
            return Err(StoreError::Conflict(
                "this would leave no active admin; make another account admin first".into(),
            ));
        }
        set_members(&mut tx, change.id, &change.projects).await?;
        if !change.active {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(change.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Whether the account may create projects now: an active admin, or an active editor an admin
    /// allowed to.
    pub async fn may_create_projects(&self, user_id: i64) -> Result<bool, StoreError> {
        let allowed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE id = $1 AND active = 1
               AND (role = 'admin' OR (role = 'editor' AND may_create_projects = 1))",
        )
        .bind(user_id)
        .fetch_one(self.pool())
        .await?;
        Ok(allowed > 0)
    }

    /// Makes the account a member of the project (nothing when it is one already).
    pub async fn add_member(&self, project_id: i64, user_id: i64) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let already: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM project_members WHERE project_id = $1 AND user_id = $2",
        )
        .bind(project_id)
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        if already == 0 {
            insert_member(&mut tx, project_id, user_id).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets an account's password hash and ends its sessions; `false` when there is no such account.
    pub async fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every project as a reference (id, code, name), by code.
    pub async fn project_refs(&self) -> Result<Vec<ProjectRef>, StoreError> {
        let rows = sqlx::query("SELECT id, code, name FROM projects ORDER BY code")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ProjectRef {
                    id: r.try_get("id")?,
                    code: r.try_get("code")?,
                    name: r.try_get("name")?,
                })
            })
            .collect()
    }

    /// Ids of the projects a principal may reach (for admins: every project).
    pub async fn reachable_projects(&self, who: &Principal) -> Result<Vec<i64>, StoreError> {
        let query = match (who.role, who.kind) {
            (Role::Admin, _) => sqlx::query_scalar("SELECT id FROM projects ORDER BY id"),
            (_, PrincipalKind::User(id)) => sqlx::query_scalar(
                "SELECT project_id FROM project_members WHERE user_id = $1 ORDER BY project_id",
            )
            .bind(id),
            (_, PrincipalKind::Token(id)) => sqlx::query_scalar(
                "SELECT project_id FROM api_token_projects WHERE token_id = $1 ORDER BY project_id",
            )
            .bind(id),
        };
        Ok(query.fetch_all(self.pool()).await?)
    }
}
