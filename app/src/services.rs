//! The seam between server functions and the server's infrastructure (server builds only).
//!
//! Server functions never see a store, a cache or a pool: they ask the [`Services`] found in Leptos
//! context, whose trait objects the `server` crate implements and provides for every request. Tests can
//! provide their own implementations the same way.
//!
//! The caller of every request is resolved by the server's authentication layer before any server
//! function runs, into an [`Access`] (who, and what they may reach), read here from the request's
//! extensions ([`access`], [`require`]). Services receive it and ask it about project membership:
//! it is the only place that decides.

use std::sync::Arc;

use async_trait::async_trait;
use leptos::prelude::use_context;

use crate::access::Access;
use crate::account::{
    AccountChange, AdminOverview, IssuedSecret, NewAccount, NewApiToken, Principal,
};
use crate::changes::MonthChanges;
use crate::editing::{Revision, RevisionDetail};
use crate::error::AppError;
use crate::model::{GenerationTimings, Portfolio, ReportOutline, Role};
use crate::performance::PerformanceOverview;
use crate::planning::{CreatedProject, NewProject, ReportStart, StartedReport, TemplateChoice};
use crate::progress::{ProgressSave, ProgressSaved, ProgressSheet};
use crate::project::ProjectOverview;
use crate::sections::{MonteCarloRerun, ReportSection};
use crate::templates::{TemplateInfo, TemplateSave};

/// Read access to the portfolio and report outlines, filtered by what the caller may see.
#[async_trait]
pub trait PortfolioService: Send + Sync + 'static {
    /// The portfolio with the projects the caller may see (all of them for admins).
    async fn portfolio(&self, who: &Access) -> Result<Portfolio, AppError>;
    /// A project's page: its card, plan and members; `None` when no project has this code or the
    /// caller does not reach it.
    async fn project(&self, who: &Access, code: &str) -> Result<Option<ProjectOverview>, AppError>;
    /// A report's header and section list; `None` when no report has this id or the caller does
    /// not reach its project.
    async fn report_outline(
        &self,
        who: &Access,
        report_id: i64,
    ) -> Result<Option<ReportOutline>, AppError>;
    /// What changed since the previous month's report of the same project; `None` for a project's
    /// first report. A report out of reach is the same 404 as a missing one.
    async fn report_changes(
        &self,
        who: &Access,
        report_id: i64,
    ) -> Result<Option<MonthChanges>, AppError>;
    /// Publishes a draft report (editors of the project, admins): it becomes a frozen snapshot with
    /// who published it and when; answers its outline as it is now.
    async fn publish_report(&self, who: &Access, report_id: i64)
        -> Result<ReportOutline, AppError>;
    /// Starts a correction of a published report (editors of the project, admins): a draft of the
    /// month's next revision holding what was published; publishing it supersedes the report,
    /// which stays readable and linked. 409 when a correction is being drafted already (its id is
    /// in the message) or a correction replaced the report; 400 for a draft.
    async fn correct_report(
        &self,
        who: &Access,
        report_id: i64,
    ) -> Result<crate::planning::StartedReport, AppError>;
    /// Rebuilds a draft report from its project's current data (editors of the project, admins).
    async fn regenerate_report(
        &self,
        who: &Access,
        report_id: i64,
    ) -> Result<GenerationTimings, AppError>;
    /// One section of a report with its content; `None` when the report or the section does not
    /// exist, or the caller does not reach the report's project.
    async fn report_section(
        &self,
        who: &Access,
        report_id: i64,
        key: &str,
    ) -> Result<Option<ReportSection>, AppError>;
    /// The report's Monte Carlo simulation with another iteration count (already validated); the
    /// stored report is unchanged.
    async fn rerun_monte_carlo(
        &self,
        who: &Access,
        report_id: i64,
        iterations: u32,
    ) -> Result<MonteCarloRerun, AppError>;
}

/// The monthly cycle's writes: recording progress, starting a month's report, creating a project.
/// Each asks the caller's [`Access`]: editors of the project (admins everywhere) record progress and
/// start reports; admins create projects.
#[async_trait]
pub trait PlanningService: Send + Sync + 'static {
    /// The progress grid's rows as last recorded, with the versions recorded so far (editors of the
    /// project).
    async fn progress_sheet(&self, who: &Access, code: &str) -> Result<ProgressSheet, AppError>;
    /// Records the grid's changes as the project's progress on the save's status date: checked as
    /// the import checks a plan, merged with what others saved since the grid was loaded, stored as
    /// a new version (never over an old one). A field two people changed differently is a conflict.
    async fn save_progress(
        &self,
        who: &Access,
        save: ProgressSave,
    ) -> Result<ProgressSaved, AppError>;
    /// The report templates (anyone signed in).
    async fn templates(&self, who: &Access) -> Result<Vec<TemplateChoice>, AppError>;
    /// The templates with their sections and how many reports each made (admins).
    async fn template_list(&self, who: &Access) -> Result<Vec<TemplateInfo>, AppError>;
    /// Creates or changes a template (admins): checked, stored, and dropped from every instance's
    /// cache. Reports made from it keep their sections.
    async fn save_template(
        &self,
        who: &Access,
        save: TemplateSave,
    ) -> Result<TemplateInfo, AppError>;
    /// Starts a month's report: a draft generated from the progress in force at the month's end
    /// (editors of the project).
    async fn start_report(
        &self,
        who: &Access,
        start: ReportStart,
    ) -> Result<StartedReport, AppError>;
    /// The project codes in use, for the new-project form's check as typed (admins; an editor allowed
    /// to create projects gets none; anyone else is refused).
    async fn project_codes(&self, who: &Access) -> Result<Vec<String>, AppError>;
    /// Creates a project with its plan (admins, and editors an admin allowed to, who become its
    /// members).
    async fn create_project(
        &self,
        who: &Access,
        project: NewProject,
    ) -> Result<CreatedProject, AppError>;
}

/// A successful sign-in: who, and the `Set-Cookie` value that carries the new session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub principal: Principal,
    pub set_cookie: String,
}

/// Sign-in, sign-out and the admin page's account management. Admin-only methods are called only
/// after [`require`]`(Role::Admin)`; `who` is the acting admin, for the log and the last-admin rule.
#[async_trait]
pub trait AccountService: Send + Sync + 'static {
    /// Checks a password (with throttling per account and per client address) and starts a session.
    /// Every failure is the same generic `Unauthorized` or `TooManyRequests` message, whether or not
    /// the account exists.
    async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client: &str,
    ) -> Result<SignedIn, AppError>;
    /// Ends the session carried by these request headers (if any); returns the `Set-Cookie` value
    /// that clears the cookie.
    async fn sign_out(&self, headers: &http::HeaderMap) -> Result<String, AppError>;
    /// Accounts, API tokens and projects.
    async fn overview(&self) -> Result<AdminOverview, AppError>;
    /// Creates an account; returns the generated password when none was given.
    async fn create_account(
        &self,
        who: &Principal,
        account: NewAccount,
    ) -> Result<Option<IssuedSecret>, AppError>;
    /// Changes an account's name, role, state and projects; deactivation ends its sessions.
    async fn update_account(&self, who: &Principal, change: AccountChange) -> Result<(), AppError>;
    /// Sets a new password (generated when empty, and then returned) and ends the account's sessions.
    async fn reset_password(
        &self,
        who: &Principal,
        user_id: i64,
        password: String,
    ) -> Result<Option<IssuedSecret>, AppError>;
    /// Creates an API token; the secret is returned this once.
    async fn create_token(
        &self,
        who: &Principal,
        token: NewApiToken,
    ) -> Result<IssuedSecret, AppError>;
    /// Revokes an API token at once.
    async fn revoke_token(&self, who: &Principal, token_id: i64) -> Result<(), AppError>;
}

/// The performance dashboard's data and admin actions (called after `require(Role::Admin)`).
#[async_trait]
pub trait PerformanceService: Send + Sync + 'static {
    /// Everything the dashboard shows.
    async fn overview(&self) -> Result<PerformanceOverview, AppError>;
    /// Clears one cache type (`report`, `insights`, `monte_carlo`, `metrics`, `template`) or all.
    async fn clear_cache(
        &self,
        who: &Principal,
        cache_type: Option<String>,
    ) -> Result<(), AppError>;
    /// Switches monitoring on or off.
    async fn set_monitoring(&self, who: &Principal, enabled: bool) -> Result<(), AppError>;
    /// Deletes monitoring data older than `hours`.
    async fn delete_data(&self, who: &Principal, hours: u64) -> Result<(), AppError>;
    /// Records a report section's load time measured in the browser (arguments already validated).
    fn record_section_load(&self, section_type: &str, ms: f64);
    /// Changes a threshold.
    async fn set_threshold(
        &self,
        who: &Principal,
        metric: String,
        value: f64,
    ) -> Result<(), AppError>;
}

/// A report's revisions (collaborative editing), for members of its project.
#[async_trait]
pub trait EditingService: Send + Sync + 'static {
    /// The report's revisions, newest first (viewers and up).
    async fn revisions(&self, who: &Access, report_id: i64) -> Result<Vec<Revision>, AppError>;
    /// One revision with its texts (viewers and up).
    async fn revision(
        &self,
        who: &Access,
        report_id: i64,
        number: i64,
    ) -> Result<RevisionDetail, AppError>;
    /// Makes the report's document say what the revision said, as an edit everyone in the session
    /// receives (editors and up; not for final reports).
    async fn restore_revision(
        &self,
        who: &Access,
        report_id: i64,
        number: i64,
    ) -> Result<Revision, AppError>;
}

/// Everything server functions may use, cheap to clone, provided as Leptos context.
#[derive(Clone)]
pub struct Services {
    pub portfolio: Arc<dyn PortfolioService>,
    pub accounts: Arc<dyn AccountService>,
    pub performance: Arc<dyn PerformanceService>,
    pub editing: Arc<dyn EditingService>,
    pub planning: Arc<dyn PlanningService>,
}

/// The services of the current request. Missing context is a wiring bug in the server, reported as a
/// server function error rather than a panic.
pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| {
        AppError::Unavailable("The server is starting up; try again in a moment.".into())
    })
}

/// The request being served (its headers and extensions), when there is one.
pub fn request_parts() -> Option<http::request::Parts> {
    use_context::<http::request::Parts>()
}

/// The caller of the current request and their rights, if signed in (or using an API token).
pub fn access() -> Option<Access> {
    request_parts().and_then(|parts| parts.extensions.get::<Access>().cloned())
}

/// The caller of the current request, if signed in (or using an API token).
pub fn principal() -> Option<Principal> {
    access().map(|a| a.principal().clone())
}

/// The caller, who must be signed in with at least `role`: `Unauthorized` otherwise, or `Forbidden`
/// when the role is too low.
pub fn require(role: Role) -> Result<Access, AppError> {
    let who = access().ok_or_else(AppError::signed_out)?;
    who.require(role)?;
    Ok(who)
}

/// The client's network address as the server saw it, for login throttling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(pub String);
