//! First-start accounts. There is no built-in default password: when no active admin exists, one
//! named `admin` is created with `PMR_ADMIN_PASSWORD`, or with a random password printed once to the
//! log. When the demo portfolio is seeded, the demo accounts (`vera`, a viewer of two projects, and
//! `eddie`, an editor of all four) follow the same rule with `PMR_DEMO_PASSWORD`.

use app::model::Role;

use super::password;
use crate::storage::users::{insert_member, insert_user, NewUser};
use crate::storage::{Store, StoreError};

/// Why the accounts could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("{variable}: {source}")]
    Password {
        variable: &'static str,
        source: password::PasswordError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What was created, with the generated passwords (to be shown once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub username: String,
    pub role: Role,
    /// `Some` when the password was generated rather than configured.
    pub generated_password: Option<String>,
}

fn chosen(
    configured: Option<&str>,
    variable: &'static str,
) -> Result<(String, bool), BootstrapError> {
    match configured {
        Some(p) => {
            password::hash(p).map_err(|source| BootstrapError::Password { variable, source })?;
            Ok((p.to_string(), false))
        }
        None => Ok((password::generate(), true)),
    }
}

async fn create(
    store: &Store,
    username: &str,
    display: &str,
    role: Role,
    secret: &(String, bool),
    projects: &[i64],
) -> Result<Created, BootstrapError> {
    let variable = if role == Role::Admin {
        "PMR_ADMIN_PASSWORD"
    } else {
        "PMR_DEMO_PASSWORD"
    };
    let password_hash = password::hash(&secret.0)
        .map_err(|source| BootstrapError::Password { variable, source })?;
    let mut tx = store.begin().await?;
    let id = insert_user(
        &mut tx,
        &NewUser {
            username: username.into(),
            display_name: display.into(),
            role,
            password_hash,
        },
    )
    .await?;
    for &project in projects {
        insert_member(&mut tx, project, id).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Created {
        username: username.into(),
        role,
        generated_password: secret.1.then(|| secret.0.clone()),
    })
}

/// Creates the `admin` account if no active admin exists.
pub async fn ensure_admin(
    store: &Store,
    configured: Option<&str>,
) -> Result<Option<Created>, BootstrapError> {
    if store.admin_count().await? > 0 || store.user_with_hash("admin").await?.is_some() {
        return Ok(None);
    }
    let secret = chosen(configured, "PMR_ADMIN_PASSWORD")?;
    Ok(Some(
        create(store, "admin", "Administrator", Role::Admin, &secret, &[]).await?,
    ))
}

/// Creates the demo viewer and editor, members of the demo projects, unless they exist.
pub async fn ensure_demo_users(
    store: &Store,
    configured: Option<&str>,
) -> Result<Vec<Created>, BootstrapError> {
    if store.user_with_hash("eddie").await?.is_some() {
        return Ok(Vec::new());
    }
    let portfolio = store.portfolio().await?;
    let all: Vec<i64> = portfolio.projects.iter().map(|p| p.id).collect();
    let some: Vec<i64> = portfolio
        .projects
        .iter()
        .filter(|p| p.code == "HBR" || p.code == "CDW")
        .map(|p| p.id)
        .collect();
    let secret = chosen(configured, "PMR_DEMO_PASSWORD")?;
    Ok(vec![
        create(store, "vera", "Vera Viewer", Role::Viewer, &secret, &some).await?,
        create(store, "eddie", "Eddie Editor", Role::Editor, &secret, &all).await?,
    ])
}

/// Logs created accounts; a generated password appears in the log this once and nowhere else.
pub fn announce(created: &[Created]) {
    for c in created {
        match &c.generated_password {
            Some(p) => tracing::warn!(
                "created the {} account '{}' with the generated password {p}; it is shown only now (set {} to choose it)",
                c.role.as_str(),
                c.username,
                if c.role == Role::Admin { "PMR_ADMIN_PASSWORD" } else { "PMR_DEMO_PASSWORD" },
            ),
            None => tracing::info!("created the {} account '{}' with the configured password", c.role.as_str(), c.username),
        }
    }
}
