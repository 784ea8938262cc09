//! The progress grid: the sheet it loads (the plan as last recorded), and a save: each changed row
//! checked, merged field by field with what others saved since the grid was loaded, the whole plan
//! validated as an import is, and stored as a new version for the status date. A save may also
//! add milestones and risks and take them out of the plan.

use std::collections::HashSet;

use app::access::Access;
use app::error::AppError;
use app::planning::ProjectCalendar;
use app::progress::{
    check_milestone_progress, check_new_milestone, check_new_risk, check_risk_assessment,
    check_status_date, check_task_progress, CellProblem, Edit, MergeConflict, Mergeable,
    MilestoneProgress, ProgressMilestone, ProgressRisk, ProgressSave, ProgressSaved, ProgressSheet,
    ProgressTask, RecordedProgress, RiskAssessment, TaskProgress, MAX_EDITS, MAX_LISTED_RECORDS,
};
use chrono::NaiveDate;

use super::{problems_message, StorePortfolio};
use crate::monitor::timed_query;
use crate::storage::StoreError;
use crate::transfer::{validate, MilestoneRecord, ProjectDocument, RiskRecord, TaskRecord};

/// How often a save is merged again when another save lands between its read and its write.
const SAVE_ATTEMPTS: usize = 3;
/// Longest a save waits for the ones before it on this instance.
const SAVE_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

fn task_progress(t: &TaskRecord) -> TaskProgress {
    TaskProgress {
        percent_complete: t.percent_complete,
        actual_start: t.actual_start.clone(),
        actual_finish: t.actual_finish.clone(),
        actual_cost: t.actual_cost,
        remaining_days: t.remaining_days,
    }
}

fn set_task_progress(t: &mut TaskRecord, p: TaskProgress) {
    t.percent_complete = p.percent_complete;
    t.actual_start = p.actual_start;
    t.actual_finish = p.actual_finish;
    t.actual_cost = p.actual_cost;
    t.remaining_days = p.remaining_days;
}

fn milestone_progress(m: &MilestoneRecord) -> MilestoneProgress {
    MilestoneProgress {
        forecast_date: m.forecast_date.clone(),
        actual_date: m.actual_date.clone(),
    }
}

fn set_milestone_progress(m: &mut MilestoneRecord, p: MilestoneProgress) {
    m.forecast_date = p.forecast_date;
    m.actual_date = p.actual_date;
}

fn risk_assessment(r: &RiskRecord) -> RiskAssessment {
    RiskAssessment {
        probability: r.probability,
        cost_impact: r.cost_impact,
        schedule_impact_days: r.schedule_impact_days,
        owner: r.owner.clone(),
        mitigation: r.mitigation.clone(),
        status: r.status.clone(),
    }
}

fn set_risk_assessment(r: &mut RiskRecord, a: RiskAssessment) {
    r.probability = a.probability;
    r.cost_impact = a.cost_impact;
    r.schedule_impact_days = a.schedule_impact_days;
    r.owner = a.owner;
    r.mitigation = a.mitigation;
    r.status = a.status;
}

/// The status date a monthly cycle usually records: the latest reporting day (under the project's
/// calendar) on or before `today`.
pub(crate) fn suggested_status_date(calendar: &ProjectCalendar, today: NaiveDate) -> NaiveDate {
    crate::domain::calendar::latest_status_date(calendar, today).unwrap_or(today)
}

/// Merges a list of row edits into the rows of a document, by key. A key no row has is a conflict
/// (the row was removed since).
fn merge_rows<R, T: Mergeable + Clone>(
    kind: &str,
    edits: &[Edit<T>],
    rows: &mut [R],
    key: impl Fn(&R) -> &str,
    get: impl Fn(&R) -> T,
    set: impl Fn(&mut R, T),
    conflicts: &mut Vec<MergeConflict>,
) {
    // Rows by key, so a save of thousands of rows over a plan of thousands stays linear. Task WBS
    // codes are unique (the import checks); a name or title several rows share means the first.
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        at.entry(key(row).to_string()).or_insert(i);
    }
    for edit in edits {
        let place = format!("{kind} {}", edit.key);
        match at.get(&edit.key).map(|&i| &mut rows[i]) {
            Some(row) => {
                let mut stored = get(row);
                T::merge_into(edit, &place, &mut stored, conflicts);
                set(row, stored);
            }
            None => conflicts.push(MergeConflict {
                place,
                yours: "changed".into(),
                theirs: "removed from the plan".into(),
            }),
        }
    }
}

/// Every cell problem of the save's rows, each with its place.
fn cell_problems(save: &ProgressSave) -> Vec<String> {
    let mut problems = Vec::new();
    let mut add = |kind: &str, key: &str, found: Vec<CellProblem>| {
        for p in found {
            problems.push(format!("{kind} {key} {}: {}", p.field, p.message));
        }
    };
    for e in &save.tasks {
        add(
            "task",
            &e.key,
            check_task_progress(&e.now, Some(&save.status_date)),
        );
    }
    for e in &save.milestones {
        add("milestone", &e.key, check_milestone_progress(&e.now));
    }
    for e in &save.risks {
        add("risk", &e.key, check_risk_assessment(&e.now));
    }
    for m in &save.added_milestones {
        add("new milestone", &m.name, check_new_milestone(m));
    }
    for r in &save.added_risks {
        add("new risk", &r.title, check_new_risk(r));
    }
    problems
}

/// Takes the removed rows out and puts the added ones in; an added row whose key the plan has
/// (someone added it meanwhile, or it was there) is a conflict.
fn add_and_remove(
    save: &ProgressSave,
    document: &mut ProjectDocument,
    conflicts: &mut Vec<MergeConflict>,
) {
    let gone: HashSet<&str> = save.removed_milestones.iter().map(String::as_str).collect();
    document
        .milestones
        .retain(|m| !gone.contains(m.name.as_str()));
    let gone: HashSet<&str> = save.removed_risks.iter().map(String::as_str).collect();
    document.risks.retain(|r| !gone.contains(r.title.as_str()));
    let mut names: HashSet<String> = document.milestones.iter().map(|m| m.name.clone()).collect();
    for m in &save.added_milestones {
        if !names.insert(m.name.clone()) {
            conflicts.push(MergeConflict {
                place: format!("milestone {}", m.name),
                yours: "added".into(),
                theirs: "a milestone of this name is in the plan".into(),
            });
            continue;
        }
        document.milestones.push(MilestoneRecord {
            name: m.name.clone(),
            baseline_date: m.baseline_date.clone(),
            forecast_date: m.progress.forecast_date.clone(),
            actual_date: m.progress.actual_date.clone(),
        });
    }
    let mut titles: HashSet<String> = document.risks.iter().map(|r| r.title.clone()).collect();
    for r in &save.added_risks {
        if !titles.insert(r.title.clone()) {
            conflicts.push(MergeConflict {
                place: format!("risk {}", r.title),
                yours: "added".into(),
                theirs: "a risk of this title is in the plan".into(),
            });
            continue;
        }
        let a = &r.assessment;
        document.risks.push(RiskRecord {
            title: r.title.clone(),
            probability: a.probability,
            cost_impact: a.cost_impact,
            schedule_impact_days: a.schedule_impact_days,
            owner: a.owner.clone(),
            mitigation: a.mitigation.clone(),
            status: a.status.clone(),
            affected_tasks: r.affected_tasks.clone(),
        });
    }
}

/// An import problem's place said as the grid says it (`tasks[3].percent_complete` becomes
/// `task 1.4 percent_complete`).
fn grid_place(document: &ProjectDocument, location: &str) -> String {
    let Some((head, field)) = location.split_once("].") else {
        return location.to_string();
    };
    let Some((kind, index)) = head.split_once('[') else {
        return location.to_string();
    };
    let index: usize = index.parse().unwrap_or(usize::MAX);
    let key = match kind {
        "tasks" => document.tasks.get(index).map(|t| ("task", t.wbs.clone())),
        "milestones" => document
            .milestones
            .get(index)
            .map(|m| ("milestone", m.name.clone())),
        "risks" => document.risks.get(index).map(|r| ("risk", r.title.clone())),
        _ => None,
    };
    match key {
        Some((kind, key)) => format!("{kind} {key} {field}"),
        None => location.to_string(),
    }
}

impl StorePortfolio {
    /// The grid's sheet of project `id`.
    pub(super) async fn sheet(&self, id: i64, code: &str) -> Result<ProgressSheet, AppError> {
        let version = timed_query(&self.monitor, "data_version", self.store.data_version(id))
            .await?
            .ok_or_else(|| super::no_project(code))?;
        let records = self.store.progress_records(id, MAX_LISTED_RECORDS);
        let records = timed_query(&self.monitor, "progress_records", records).await?;
        let document = timed_query(
            &self.monitor,
            "export_project",
            self.store.export_project(code),
        )
        .await?
        .ok_or_else(|| super::no_project(code))?;
        if document.tasks.len() > app::progress::MAX_GRID_TASKS {
            return Err(AppError::BadRequest(format!(
                "This plan has {} tasks; the progress grid takes plans of up to {}. Record the month's progress by importing your scheduler's file again on the project page (\"Bring your schedule\"), or the task list as CSV (PUT /api/projects/{code}/tasks.csv).",
                document.tasks.len(),
                app::progress::MAX_GRID_TASKS
            )));
        }
        let today = chrono::Utc::now().date_naive();
        Ok(ProgressSheet {
            code: code.to_string(),
            name: document.project.name.clone(),
            currency: document.project.currency.clone(),
            version,
            suggested_status_date: suggested_status_date(
                &document.project.calendar.clone().unwrap_or_default(),
                today,
            )
            .to_string(),
            project_start: document.project.start_date.clone(),
            records: records
                .into_iter()
                .map(|r| RecordedProgress {
                    version: r.version,
                    status_date: r.status_date.to_string(),
                    recorded_by: r.recorded_by,
                    recorded_at: r.recorded_at,
                })
                .collect(),
            tasks: document
                .tasks
                .iter()
                .map(|t| ProgressTask {
                    wbs: t.wbs.clone(),
                    name: t.name.clone(),
                    planned_start: t.planned_start.clone(),
                    planned_finish: t.planned_finish.clone(),
                    budgeted_cost: t.budgeted_cost,
                    progress: task_progress(t),
                })
                .collect(),
            milestones: document
                .milestones
                .iter()
                .map(|m| ProgressMilestone {
                    name: m.name.clone(),
                    baseline_date: m.baseline_date.clone(),
                    progress: milestone_progress(m),
                })
                .collect(),
            risks: document
                .risks
                .iter()
                .map(|r| ProgressRisk {
                    title: r.title.clone(),
                    assessment: risk_assessment(r),
                })
                .collect(),
        })
    }

    /// Checks, merges and stores a save of project `id`.
    pub(super) async fn save(
        &self,
        who: &Access,
        id: i64,
        save: ProgressSave,
    ) -> Result<ProgressSaved, AppError> {
        for (kind, count) in [
            ("change at most", "tasks", save.tasks.len()),
            ("change at most", "milestones", save.milestones.len()),
            ("change at most", "risks", save.risks.len()),
            ("add at most", "milestones", save.added_milestones.len()),
            ("add at most", "risks", save.added_risks.len()),
            (
                "remove at most",
                "milestones",
                save.removed_milestones.len(),
            ),
            ("remove at most", "risks", save.removed_risks.len()),
        ]
        .map(|(verb, kind, count)| (format!("{verb} {MAX_EDITS} {kind}"), count))
        {
            if count > MAX_EDITS {
                return Err(AppError::BadRequest(format!(
                    "A save may {kind}, not {count}."
                )));
            }
        }
        if save.size() == 0 {
            return Err(AppError::BadRequest(
                "Nothing was changed: there is nothing to save.".into(),
            ));
        }
        let problems = cell_problems(&save);
        if !problems.is_empty() {
            return Err(AppError::BadRequest(problems_message(
                "Nothing was saved:",
                &problems,
            )));
        }
        let Ok(status_date) = NaiveDate::parse_from_str(&save.status_date, "%Y-%m-%d") else {
            return Err(AppError::BadRequest(format!(
                "The status date must be a date as YYYY-MM-DD, not '{}'.",
                save.status_date
            )));
        };
        let latest = timed_query(
            &self.monitor,
            "progress_records",
            self.store.progress_records(id, 1),
        )
        .await?;
        if let Some(latest) = latest.first().filter(|r| r.status_date > status_date) {
            return Err(AppError::BadRequest(format!(
                "Progress is recorded forward: the latest status date recorded is {}; record on or after it.",
                latest.status_date
            )));
        }
        let Ok(_one_at_a_time) = tokio::time::timeout(SAVE_WAIT, self.progress_saves.lock()).await
        else {
            return Err(AppError::Unavailable(
                "Too many progress saves are waiting on this server; save again in a moment."
                    .into(),
            ));
        };
        for _ in 0..SAVE_ATTEMPTS {
            let version = timed_query(&self.monitor, "data_version", self.store.data_version(id))
                .await?
                .ok_or_else(|| super::no_project(&save.code))?;
            let mut document = timed_query(
                &self.monitor,
                "export_project",
                self.store.export_project(&save.code),
            )
            .await?
            .ok_or_else(|| super::no_project(&save.code))?;
            check_status_date(&save.status_date, &document.project.start_date)
                .map_err(AppError::BadRequest)?;
            let mut conflicts = Vec::new();
            merge_rows(
                "task",
                &save.tasks,
                &mut document.tasks,
                |t| &t.wbs,
                task_progress,
                set_task_progress,
                &mut conflicts,
            );
            merge_rows(
                "milestone",
                &save.milestones,
                &mut document.milestones,
                |m| &m.name,
                milestone_progress,
                set_milestone_progress,
                &mut conflicts,
            );
            merge_rows(
                "risk",
                &save.risks,
                &mut document.risks,
                |r| &r.title,
                risk_assessment,
                set_risk_assessment,
                &mut conflicts,
            );
            add_and_remove(&save, &mut document, &mut conflicts);
            if !conflicts.is_empty() {
                let listed: Vec<String> = conflicts
                    .iter()
                    .map(|c| {
                        format!(
                            "{}: yours {}, saved meanwhile {}",
                            c.place, c.yours, c.theirs
                        )
                    })
                    .collect();
                return Err(AppError::Conflict(problems_message(
                    "Someone saved the same cells since you loaded the grid, and nothing was saved:",
                    &listed,
                )));
            }
            let checked = document.clone();
            let valid = validate(document).map_err(|problems| {
                let listed: Vec<String> = problems
                    .iter()
                    .map(|p| format!("{}: {}", grid_place(&checked, &p.location), p.message))
                    .collect();
                AppError::BadRequest(problems_message("Nothing was saved:", &listed))
            })?;
            let record = self.store.record_progress(
                id,
                status_date,
                &valid,
                &who.principal().display_name,
                version,
            );
            match timed_query(&self.monitor, "record_progress", record).await {
                Ok(new_version) => {
                    tracing::info!(project = id, version = new_version, status_date = %status_date, by = %who.name(), "recorded progress");
                    return Ok(ProgressSaved {
                        version: new_version,
                        status_date: status_date.to_string(),
                        merged_with_others: version != save.base_version,
                    });
                }
                // Another save landed between the read and the write: merge again over it.
                Err(StoreError::Stale { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict(
            "The project's progress is being saved by several people at once; save again in a moment."
                .into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suggested_status_date_is_the_latest_reporting_day() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        let month_end = ProjectCalendar::default();
        let suggest = |c: &ProjectCalendar, day| suggested_status_date(c, day);
        assert_eq!(suggest(&month_end, d(2026, 12, 5)), d(2026, 11, 30));
        assert_eq!(suggest(&month_end, d(2027, 1, 1)), d(2026, 12, 31));
        assert_eq!(suggest(&month_end, d(2026, 3, 30)), d(2026, 2, 28));
        assert_eq!(suggest(&month_end, d(2026, 3, 31)), d(2026, 3, 31));
        let on_25th = ProjectCalendar {
            reporting_day: 25,
            ..ProjectCalendar::default()
        };
        assert_eq!(suggest(&on_25th, d(2026, 12, 5)), d(2026, 11, 25));
        assert_eq!(suggest(&on_25th, d(2026, 12, 28)), d(2026, 12, 25));
    }
}
