//! Server functions. Each is a thin `verb_noun` wrapper that checks who is calling
//! ([`crate::services::require`]), validates its arguments and asks the [`crate::services`] for the
//! work; errors are [`AppError`]s whose status is also set on the HTTP response.
//!
//! The server's authentication layer has already turned away anonymous callers of everything but
//! `login`, `logout` and `current_user`, and cross-site posts; the checks here are the authority on
//! roles, and the services ask the caller's [`crate::access::Access`] about project membership.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::codec::JsonReply;

mod planning;
pub use planning::*;

use crate::account::{
    AccountChange, AdminOverview, IssuedSecret, NewAccount, NewApiToken, Principal,
};
use crate::editing::{Revision, RevisionDetail};
use crate::error::AppError;
use crate::model::{GenerationTimings, Portfolio, ReportOutline};
use crate::performance::PerformanceOverview;
use crate::sections::{MonteCarloRerun, ReportSection};

/// Lists the portfolio's projects and their reports: those the caller is a member of (all for admins).
#[server(endpoint = "list_portfolio", output = JsonReply)]
pub async fn list_portfolio() -> Result<Portfolio, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Viewer)?;
        services()?.portfolio.portfolio(&who).await
    }
    .await;
    result.inspect_err(report_status)
}

/// A project's page: its card, its plan and its members.
#[server(endpoint = "get_project", output = JsonReply)]
pub async fn get_project(code: String) -> Result<crate::project::ProjectOverview, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Viewer)?;
        crate::project::check_project_code(&code).map_err(AppError::BadRequest)?;
        services()?
            .portfolio
            .project(&who, &code)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("There is no project with code {code}.")))
    }
    .await;
    result.inspect_err(report_status)
}

/// Publishes a draft report: it becomes final, read-only, with who published it and when.
#[server(endpoint = "publish_report", output = JsonReply)]
pub async fn publish_report(report_id: i64) -> Result<ReportOutline, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Editor)?;
        check_id("Report", report_id)?;
        services()?.portfolio.publish_report(&who, report_id).await
    }
    .await;
    result.inspect_err(report_status)
}

/// Starts a correction of a published report: a draft of the month's next revision.
#[server(endpoint = "correct_report", output = JsonReply)]
pub async fn correct_report(report_id: i64) -> Result<crate::planning::StartedReport, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Editor)?;
        check_id("Report", report_id)?;
        services()?.portfolio.correct_report(&who, report_id).await
    }
    .await;
    result.inspect_err(report_status)
}

/// What changed since the previous month's report (`None` for a project's first report).
#[server(endpoint = "get_report_changes", output = JsonReply)]
pub async fn get_report_changes(
    report_id: i64,
) -> Result<Option<crate::changes::MonthChanges>, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Viewer)?;
        check_id("Report", report_id)?;
        services()?.portfolio.report_changes(&who, report_id).await
    }
    .await;
    result.inspect_err(report_status)
}

/// The header and section titles of one report.
#[server(endpoint = "get_report_outline", output = JsonReply)]
pub async fn get_report_outline(report_id: i64) -> Result<ReportOutline, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Viewer)?;
        check_id("Report", report_id)?;
        services()?
            .portfolio
            .report_outline(&who, report_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("There is no report with id {report_id}.")))
    }
    .await;
    result.inspect_err(report_status)
}

/// Rebuilds a draft report from its project's current data; editors of the project and admins.
#[server(endpoint = "regenerate_report", output = JsonReply)]
pub async fn regenerate_report(report_id: i64) -> Result<GenerationTimings, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Editor)?;
        check_id("Report", report_id)?;
        services()?
            .portfolio
            .regenerate_report(&who, report_id)
            .await
    }
    .await;
    result.inspect_err(report_status)
}

/// One section of a report with its content (read through the cache); the reader loads each section
/// when it comes near the viewport.
#[server(endpoint = "get_report_section", output = JsonReply)]
pub async fn get_report_section(report_id: i64, key: String) -> Result<ReportSection, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Viewer)?;
        check_id("Report", report_id)?;
        crate::sections::check_section_key(&key)
            .map_err(|e| AppError::BadRequest(format!("{e}.")))?;
        services()?
            .portfolio
            .report_section(&who, report_id, &key)
            .await?
            .ok_or_else(|| {
                AppError::NotFound(format!("Report {report_id} has no section '{key}'."))
            })
    }
    .await;
    result.inspect_err(report_status)
}

/// Runs a report's Monte Carlo simulation again with another iteration count (1,000 to 100,000),
/// without changing the stored report; the same run is served from the cache.
#[server(endpoint = "rerun_monte_carlo", output = JsonReply)]
pub async fn rerun_monte_carlo(
    report_id: i64,
    iterations: u32,
) -> Result<MonteCarloRerun, AppError> {
    use crate::model::Role;
    use crate::sections::{RERUN_MAX_ITERATIONS, RERUN_MIN_ITERATIONS};
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Viewer)?;
        check_id("Report", report_id)?;
        if !(RERUN_MIN_ITERATIONS..=RERUN_MAX_ITERATIONS).contains(&iterations) {
            return Err(AppError::BadRequest(format!(
                "iterations must be from {RERUN_MIN_ITERATIONS} to {RERUN_MAX_ITERATIONS}, not {iterations}."
            )));
        }
        services()?
            .portfolio
            .rerun_monte_carlo(&who, report_id, iterations)
            .await
    }
    .await;
    result.inspect_err(report_status)
}

/// A report's revisions (saved in the editor), newest first.
#[server(endpoint = "list_revisions", output = JsonReply)]
pub async fn list_revisions(report_id: i64) -> Result<Vec<Revision>, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Viewer)?;
        check_id("Report", report_id)?;
        services()?.editing.revisions(&who, report_id).await
    }
    .await;
    result.inspect_err(report_status)
}

/// One revision of a report with its narratives and fields.
#[server(endpoint = "get_revision", output = JsonReply)]
pub async fn get_revision(report_id: i64, number: i64) -> Result<RevisionDetail, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Viewer)?;
        check_id("Report", report_id)?;
        check_id("Revision", number)?;
        services()?.editing.revision(&who, report_id, number).await
    }
    .await;
    result.inspect_err(report_status)
}

/// Restores a revision: the report's narratives and fields become what they were, as an edit that
/// everyone editing the report receives live.
#[server(endpoint = "restore_revision", output = JsonReply)]
pub async fn restore_revision(report_id: i64, number: i64) -> Result<Revision, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Editor)?;
        check_id("Report", report_id)?;
        check_id("Revision", number)?;
        services()?
            .editing
            .restore_revision(&who, report_id, number)
            .await
    }
    .await;
    result.inspect_err(report_status)
}

/// Records how long a report section took in the browser, from coming into view to showing its
/// content (`section_load_time`, per section type).
#[server(endpoint = "record_section_load", output = JsonReply)]
pub async fn record_section_load(section_type: String, ms: f64) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::sections::{MAX_SECTION_LOAD_MS, SECTION_TYPES};
    use crate::services::{require, services};
    let result = async {
        require(Role::Viewer)?;
        if !SECTION_TYPES.contains(&section_type.as_str()) {
            return Err(AppError::BadRequest(format!(
                "section_type must be one of {}.",
                SECTION_TYPES.join(", ")
            )));
        }
        if !ms.is_finite() || !(0.0..=MAX_SECTION_LOAD_MS).contains(&ms) {
            return Err(AppError::BadRequest(format!(
                "ms must be a number from 0 to {MAX_SECTION_LOAD_MS}."
            )));
        }
        services()?
            .performance
            .record_section_load(&section_type, ms);
        Ok(())
    }
    .await;
    result.inspect_err(report_status)
}

/// Who is signed in, if anyone.
#[server(endpoint = "current_user", output = JsonReply)]
pub async fn current_user() -> Result<Option<Principal>, AppError> {
    Ok(crate::services::principal())
}

/// Signs in with a user name and password and starts a session (a fresh cookie). Failures say the
/// same thing whether or not the account exists; repeated failures are throttled per account and
/// per client address.
#[server(endpoint = "login", output = JsonReply)]
pub async fn login(username: String, password: String) -> Result<Principal, AppError> {
    use crate::services::{request_parts, services};
    let result = async {
        if username.len() > 256 || password.len() > 1024 {
            return Err(AppError::BadRequest(
                "The user name or password is too long.".into(),
            ));
        }
        let client = request_parts()
            .and_then(|p| {
                p.extensions
                    .get::<crate::services::ClientAddress>()
                    .cloned()
            })
            .map(|c| c.0)
            .unwrap_or_else(|| "unknown".into());
        let accounts = services()?.accounts;
        let signed = accounts
            .sign_in(username.trim(), &password, &client)
            .await?;
        // A session the browser still held ends here: one sign-in, one live session per browser.
        if let Some(parts) = request_parts() {
            accounts.sign_out(&parts.headers).await?;
        }
        crate::response::append_header("set-cookie", &signed.set_cookie);
        Ok(signed.principal)
    }
    .await;
    result.inspect_err(report_status)
}

/// Ends the caller's session, here and on every instance, and clears the cookie.
#[server(endpoint = "logout", output = JsonReply)]
pub async fn logout() -> Result<(), AppError> {
    use crate::services::{request_parts, services};
    let result = async {
        let headers = request_parts().map(|p| p.headers).unwrap_or_default();
        let cleared = services()?.accounts.sign_out(&headers).await?;
        crate::response::append_header("set-cookie", &cleared);
        Ok(())
    }
    .await;
    result.inspect_err(report_status)
}

/// Accounts, API tokens and projects, for the admin page.
#[server(endpoint = "admin_overview", output = JsonReply)]
pub async fn get_admin_overview() -> Result<AdminOverview, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        require(Role::Admin)?;
        services()?.accounts.overview().await
    }
    .await;
    result.inspect_err(report_status)
}

/// Creates an account; returns its generated password when none was chosen.
#[server(endpoint = "create_account", input = Json, output = JsonReply)]
pub async fn create_account(account: NewAccount) -> Result<Option<IssuedSecret>, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Admin)?;
        let who = who.principal();
        services()?.accounts.create_account(who, account).await
    }
    .await;
    result.inspect_err(report_status)
}

/// Changes an account's display name, role, projects, or active state.
#[server(endpoint = "update_account", input = Json, output = JsonReply)]
pub async fn update_account(change: AccountChange) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Admin)?;
        let who = who.principal();
        check_id("Account", change.id)?;
        services()?.accounts.update_account(who, change).await
    }
    .await;
    result.inspect_err(report_status)
}

/// Sets a new password for an account (generated when empty) and signs it out everywhere.
#[server(endpoint = "reset_password", input = Json, output = JsonReply)]
pub async fn reset_password(
    user_id: i64,
    password: String,
) -> Result<Option<IssuedSecret>, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Admin)?;
        let who = who.principal();
        check_id("Account", user_id)?;
        services()?
            .accounts
            .reset_password(who, user_id, password)
            .await
    }
    .await;
    result.inspect_err(report_status)
}

/// Creates a named API token with a role; the secret is returned this once.
#[server(endpoint = "create_api_token", input = Json, output = JsonReply)]
pub async fn create_api_token(token: NewApiToken) -> Result<IssuedSecret, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Admin)?;
        let who = who.principal();
        services()?.accounts.create_token(who, token).await
    }
    .await;
    result.inspect_err(report_status)
}

/// Revokes an API token.
#[server(endpoint = "revoke_api_token", input = Json, output = JsonReply)]
pub async fn revoke_api_token(token_id: i64) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Admin)?;
        let who = who.principal();
        check_id("Token", token_id)?;
        services()?.accounts.revoke_token(who, token_id).await
    }
    .await;
    result.inspect_err(report_status)
}

/// Everything the performance dashboard shows.
#[server(endpoint = "performance_overview", output = JsonReply)]
pub async fn get_performance_overview() -> Result<PerformanceOverview, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        require(Role::Admin)?;
        services()?.performance.overview().await
    }
    .await;
    result.inspect_err(report_status)
}

/// Clears one cache type, or everything when `cache_type` is empty.
#[server(endpoint = "clear_cache", input = Json, output = JsonReply)]
pub async fn clear_cache(cache_type: Option<String>) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Admin)?;
        let who = who.principal();
        services()?.performance.clear_cache(who, cache_type).await
    }
    .await;
    result.inspect_err(report_status)
}

/// Switches performance monitoring on or off.
#[server(endpoint = "set_monitoring", input = Json, output = JsonReply)]
pub async fn set_monitoring(enabled: bool) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Admin)?;
        let who = who.principal();
        services()?.performance.set_monitoring(who, enabled).await
    }
    .await;
    result.inspect_err(report_status)
}

/// Deletes monitoring data older than `hours` (0 to 8,760).
#[server(endpoint = "delete_monitoring_data", input = Json, output = JsonReply)]
pub async fn delete_monitoring_data(hours: u64) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Admin)?;
        let who = who.principal();
        if hours > 8760 {
            return Err(AppError::BadRequest(format!(
                "hours must be from 0 to 8760, not {hours}."
            )));
        }
        services()?.performance.delete_data(who, hours).await
    }
    .await;
    result.inspect_err(report_status)
}

/// Changes a metric's threshold.
#[server(endpoint = "set_threshold", input = Json, output = JsonReply)]
pub async fn set_threshold(metric: String, value: f64) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Admin)?;
        let who = who.principal();
        services()?
            .performance
            .set_threshold(who, metric, value)
            .await
    }
    .await;
    result.inspect_err(report_status)
}

/// Ids are positive; anything else is a clear 400 rather than a lookup.
#[cfg(feature = "ssr")]
fn check_id(what: &str, id: i64) -> Result<(), AppError> {
    if id <= 0 {
        return Err(AppError::BadRequest(format!(
            "{what} id must be a positive number, not {id}."
        )));
    }
    Ok(())
}

/// Puts an error's status on the HTTP response that carries it.
#[cfg(feature = "ssr")]
fn report_status(err: &AppError) {
    err.report();
}
