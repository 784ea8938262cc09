//! Server functions of the monthly cycle: the progress grid, report templates, starting a month's
//! report, creating a project. Each checks the caller's role here and leaves project membership to
//! the service, which asks the caller's `Access`.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::codec::JsonReply;
use crate::error::AppError;
use crate::planning::{CreatedProject, NewProject, ReportStart, StartedReport, TemplateChoice};
use crate::progress::{ProgressSave, ProgressSaved, ProgressSheet};
use crate::templates::{TemplateInfo, TemplateSave};

#[cfg(feature = "ssr")]
use super::report_status;

/// The progress grid of a project: its rows as last recorded and the versions recorded so far.
#[server(endpoint = "get_progress", output = JsonReply)]
pub async fn get_progress(code: String) -> Result<ProgressSheet, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Editor)?;
        crate::project::check_project_code(&code).map_err(AppError::BadRequest)?;
        services()?.planning.progress_sheet(&who, &code).await
    }
    .await;
    result.inspect_err(report_status)
}

/// Records the grid's changes as the project's progress on a status date (a new version).
#[server(endpoint = "save_progress", input = Json, output = JsonReply)]
pub async fn save_progress(save: ProgressSave) -> Result<ProgressSaved, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Editor)?;
        crate::project::check_project_code(&save.code).map_err(AppError::BadRequest)?;
        services()?.planning.save_progress(&who, save).await
    }
    .await;
    result.inspect_err(report_status)
}

/// The report templates one can start a report with.
#[server(endpoint = "list_templates", output = JsonReply)]
pub async fn list_templates() -> Result<Vec<TemplateChoice>, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Viewer)?;
        services()?.planning.templates(&who).await
    }
    .await;
    result.inspect_err(report_status)
}

/// The templates with their sections and how many reports each made (admins).
#[server(endpoint = "get_templates", output = JsonReply)]
pub async fn get_templates() -> Result<Vec<TemplateInfo>, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Admin)?;
        services()?.planning.template_list(&who).await
    }
    .await;
    result.inspect_err(report_status)
}

/// Creates a template (`save.id` none) or changes one (admins).
#[server(endpoint = "save_template", input = Json, output = JsonReply)]
pub async fn save_template(save: TemplateSave) -> Result<TemplateInfo, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Admin)?;
        services()?.planning.save_template(&who, save).await
    }
    .await;
    result.inspect_err(report_status)
}

/// Starts a month's report as a draft, generated from the progress in force at the month's end.
#[server(endpoint = "start_report", input = Json, output = JsonReply)]
pub async fn start_report(start: ReportStart) -> Result<StartedReport, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Editor)?;
        crate::project::check_project_code(&start.code).map_err(AppError::BadRequest)?;
        services()?.planning.start_report(&who, start).await
    }
    .await;
    result.inspect_err(report_status)
}

/// The project codes in use, for the new-project form (admins; none for an editor allowed to
/// create projects; refused to anyone else).
#[server(endpoint = "get_project_codes", output = JsonReply)]
pub async fn get_project_codes() -> Result<Vec<String>, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Editor)?;
        services()?.planning.project_codes(&who).await
    }
    .await;
    result.inspect_err(report_status)
}

/// Creates a project with its plan (admins, and editors an admin allowed to).
#[server(endpoint = "create_project", input = Json, output = JsonReply)]
pub async fn create_project(project: NewProject) -> Result<CreatedProject, AppError> {
    use crate::model::Role;
    use crate::services::{require, services};
    let result = async {
        let who = require(Role::Editor)?;
        let problems = crate::planning::check_new_project(&project);
        if !problems.is_empty() {
            return Err(AppError::BadRequest(problems.join(" ")));
        }
        services()?.planning.create_project(&who, project).await
    }
    .await;
    result.inspect_err(report_status)
}
