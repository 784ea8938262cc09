//! What a caller may reach and do: the one access decision of the whole product.
//!
//! The server's authentication layer resolves every request's credential (session cookie or API
//! token) into an [`Access`] once, and hands it to whatever serves the request: server functions
//! (through [`crate::services::require`]), REST handlers and the collaboration socket, which keeps
//! one per connection and has it computed again whenever the caller's rights change. Every check of
//! a role or of project membership is a method here; nothing else decides. A project the caller does
//! not reach is answered exactly like one that does not exist ([`Access::report_not_found`]), so a
//! refusal never confirms that a report or a project code exists.

use std::sync::Arc;

use crate::account::Principal;
use crate::error::AppError;
use crate::model::Role;

/// The projects a caller reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projects {
    /// Every project (admins).
    All,
    /// These projects (by id, sorted): a viewer's or editor's memberships, or a token's projects.
    Only(Arc<[i64]>),
}

/// What an API token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Everything its role allows.
    #[default]
    Full,
    /// Reading `GET /metrics` and nothing else (a Prometheus scraper's token).
    Metrics,
}

/// A caller's rights, as resolved for one request or one socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    principal: Principal,
    projects: Projects,
    scope: Scope,
}

impl Access {
    /// The rights of `principal`: every project for an admin, else `projects`.
    pub fn new(principal: Principal, projects: &[i64], scope: Scope) -> Access {
        let projects = if principal.is_admin() {
            Projects::All
        } else {
            let mut ids = projects.to_vec();
            ids.sort_unstable();
            ids.dedup();
            Projects::Only(ids.into())
        };
        Access {
            principal,
            projects,
            scope,
        }
    }

    /// Who is calling.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The caller's name, for logs and messages.
    pub fn name(&self) -> &str {
        &self.principal.name
    }

    /// What the caller's token is for.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// Whether the caller's role is at least `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.principal.has_role(role)
    }

    /// `Forbidden` unless the caller's role is at least `role`.
    pub fn require(&self, role: Role) -> Result<(), AppError> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "This needs the {role} role; you are signed in as a {}.",
                self.principal.role
            )))
        }
    }

    /// Whether the caller may read the project's reports and data.
    pub fn reaches(&self, project_id: i64) -> bool {
        match &self.projects {
            Projects::All => true,
            Projects::Only(ids) => ids.binary_search(&project_id).is_ok(),
        }
    }

    /// Whether the caller may change the project's reports and data (an editor or admin who
    /// reaches it).
    pub fn may_edit(&self, project_id: i64) -> bool {
        self.has_role(Role::Editor) && self.reaches(project_id)
    }

    /// The projects the caller reaches; `None` for all of them.
    pub fn project_ids(&self) -> Option<&[i64]> {
        match &self.projects {
            Projects::All => None,
            Projects::Only(ids) => Some(ids),
        }
    }

    /// The answer for a report the caller may not see, word for word the answer for a report that
    /// does not exist.
    pub fn report_not_found(report_id: i64) -> AppError {
        AppError::NotFound(format!("There is no report with id {report_id}."))
    }

    /// `Ok` when the caller reaches the report's project; else the answer for a missing report.
    pub fn check_report(&self, report_id: i64, project_id: i64) -> Result<(), AppError> {
        if self.reaches(project_id) {
            Ok(())
        } else {
            Err(Access::report_not_found(report_id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::PrincipalKind;

    fn who(role: Role) -> Principal {
        Principal {
            kind: PrincipalKind::User(7),
            name: "ana".into(),
            display_name: "Ana".into(),
            role,
        }
    }

    #[test]
    fn members_reach_their_projects_and_admins_every_one() {
        let viewer = Access::new(who(Role::Viewer), &[5, 2, 5], Scope::Full);
        assert!(viewer.reaches(2) && viewer.reaches(5) && !viewer.reaches(3));
        assert!(!viewer.may_edit(2), "a viewer reads");
        assert_eq!(viewer.project_ids(), Some(&[2, 5][..]));
        let editor = Access::new(who(Role::Editor), &[2], Scope::Full);
        assert!(editor.may_edit(2) && !editor.may_edit(5));
        let admin = Access::new(who(Role::Admin), &[], Scope::Full);
        assert!(admin.reaches(99) && admin.may_edit(99));
        assert_eq!(admin.project_ids(), None);
    }

    #[test]
    fn a_report_out_of_reach_reads_as_missing() {
        let viewer = Access::new(who(Role::Viewer), &[2], Scope::Full);
        assert_eq!(
            viewer.check_report(40, 3).expect_err("out of reach"),
            Access::report_not_found(40)
        );
        assert!(viewer.check_report(40, 2).is_ok());
    }

    #[test]
    fn roles_are_required_in_order() {
        let editor = Access::new(who(Role::Editor), &[], Scope::Full);
        assert!(editor.require(Role::Viewer).is_ok());
        assert!(editor.require(Role::Editor).is_ok());
        assert!(matches!(
            editor.require(Role::Admin),
            Err(AppError::Forbidden(_))
        ));
    }
}
