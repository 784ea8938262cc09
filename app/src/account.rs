//! Who is signed in, and the account data the admin page edits. These types cross the wire between the
//! server functions and the browser; the rules that use them (which role may do what, which project a
//! member may see) are enforced on the server.

use serde::{Deserialize, Serialize};

use crate::model::Role;

/// Whether a request is made by a person (session cookie) or a script (API token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PrincipalKind {
    /// A signed-in account, by user id.
    User(i64),
    /// An API token, by token id.
    Token(i64),
}

/// The caller of a request as the server resolved it: an account with a session, or an API token.
/// Viewers and editors reach only the projects they are members of; admins reach everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The user name, or the token's name.
    pub name: String,
    pub display_name: String,
    pub role: Role,
}

impl Principal {
    /// Whether the caller's role is at least `role` (viewer < editor < admin).
    pub fn has_role(&self, role: Role) -> bool {
        self.role >= role
    }

    /// Whether the caller is an admin, who sees every project.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A project as the admin page lists it, for membership choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRef {
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// An account as the admin page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    /// Ids of the projects the account is a member of.
    pub projects: Vec<i64>,
    /// RFC 3339.
    pub created_at: String,
    /// An editor an admin allowed to create projects (admins always may).
    #[serde(default)]
    pub may_create_projects: bool,
}

/// An API token as the admin page shows it (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenInfo {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub projects: Vec<i64>,
    pub created_by: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; `None` while the token works.
    pub revoked_at: Option<i64>,
    /// Unix seconds when it stops working by itself; `None`: only when revoked.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// A scraper's token: it reads `GET /metrics` and nothing else.
    #[serde(default)]
    pub metrics_only: bool,
}

/// Everything the admin page lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminOverview {
    pub accounts: Vec<Account>,
    pub tokens: Vec<ApiTokenInfo>,
    pub projects: Vec<ProjectRef>,
}

/// A new account, as the admin page submits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Empty: the server generates a strong password and returns it once.
    pub password: String,
    pub projects: Vec<i64>,
}

/// Changes to an existing account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountChange {
    pub id: i64,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    pub projects: Vec<i64>,
    /// Allow an editor to create projects (each one made makes them a member of it).
    #[serde(default)]
    pub may_create_projects: bool,
}

/// A new API token's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub name: String,
    pub role: Role,
    pub projects: Vec<i64>,
    /// Days until it stops working by itself (1 to [`MAX_TOKEN_DAYS`]); `None`: until revoked.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
    /// Only for reading `GET /metrics` (a Prometheus scraper).
    #[serde(default)]
    pub metrics_only: bool,
}

/// Longest an API token may be issued for, in days.
pub const MAX_TOKEN_DAYS: u32 = 3_650;

/// A secret shown once: a generated password or a new API token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedSecret {
    /// Whose secret it is: the user name or the token name.
    pub subject: String,
    pub secret: String,
}

/// Bounds on what account forms accept; the server enforces them, the forms show them.
pub mod limits {
    /// User names: 3 to 32 of `a-z 0-9 . _ -`, starting with a letter.
    pub const USERNAME_MAX: usize = 32;
    pub const USERNAME_MIN: usize = 3;
    /// Display names and token names.
    pub const NAME_MAX: usize = 80;
}

/// Checks a user name against the rules in [`limits`]; returns the reason when it breaks one.
pub fn check_username(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(limits::USERNAME_MIN..=limits::USERNAME_MAX).contains(&len) {
        return Err(format!(
            "User names are {} to {} characters long.",
            limits::USERNAME_MIN,
            limits::USERNAME_MAX
        ));
    }
    let mut chars = name.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_lowercase()) {
        return Err("User names start with a lowercase letter.".into());
    }
    if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c)) {
        return Err(
            "User names use only lowercase letters, digits, dots, dashes and underscores.".into(),
        );
    }
    Ok(())
}

/// Checks a display or token name: not blank, not too long, no control characters.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(format!("The {what} cannot be empty."));
    }
    if trimmed.chars().count() > limits::NAME_MAX {
        return Err(format!(
            "The {what} is at most {} characters long.",
            limits::NAME_MAX
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(format!("The {what} cannot contain control characters."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        let p = |role| Principal {
            kind: PrincipalKind::User(1),
            name: "x".into(),
            display_name: "X".into(),
            role,
        };
        assert!(p(Role::Admin).has_role(Role::Editor));
        assert!(p(Role::Editor).has_role(Role::Viewer));
        assert!(!p(Role::Viewer).has_role(Role::Editor));
        assert!(p(Role::Admin).is_admin() && !p(Role::Editor).is_admin());
    }

    #[test]
    fn usernames_follow_the_rules() {
        assert!(check_username("vera").is_ok());
        assert!(check_username("a.b-c_9").is_ok());
        for bad in ["ab", "Vera", "9lives", "has space", "é", &"a".repeat(33)] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_bounded() {
        assert!(check_name("display name", "Vera Viewer").is_ok());
        assert!(check_name("display name", "  ").is_err());
        assert!(check_name("display name", &"x".repeat(81)).is_err());
        assert!(check_name("display name", "a\u{0}b").is_err());
    }
}
