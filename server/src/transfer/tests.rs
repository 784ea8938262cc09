//! Validation of exchange documents: valid ones pass whole, broken ones report every problem with
//! its place.

use super::*;

fn doc() -> ProjectDocument {
    let task = |wbs: &str, preds: &[&str]| TaskRecord {
        wbs: wbs.into(),
        name: format!("Task {wbs}"),
        owner: "Ana".into(),
        optimistic_days: 2.0,
        most_likely_days: 3.0,
        pessimistic_days: 5.0,
        planned_start: "2026-01-05".into(),
        planned_finish: "2026-01-07".into(),
        budgeted_cost: 100.0,
        actual_cost: 0.0,
        percent_complete: 0.0,
        actual_start: None,
        actual_finish: None,
        remaining_days: None,
        estimated_by_rule: false,
        constraint: None,
        predecessors: preds.iter().map(|p| p.to_string()).collect(),
    };
    ProjectDocument {
        schema: SCHEMA.into(),
        project: ProjectHeader {
            code: "NEW".into(),
            name: "New project".into(),
            manager: "Ana".into(),
            currency: "EUR".into(),
            budget_at_completion: 300.0,
            start_date: "2026-01-05".into(),
            target_finish: "2026-03-31".into(),
            declared: Declared {
                overall: "green".into(),
                scope: "green".into(),
                schedule: "amber".into(),
                cost: "green".into(),
                resources: "red".into(),
            },
            status_justification: String::new(),
            calendar: None,
        },
        tasks: vec![task("1", &[]), task("2", &["1"]), task("3", &["1", "2"])],
        milestones: vec![MilestoneRecord {
            name: "Done".into(),
            baseline_date: "2026-03-01".into(),
            forecast_date: "2026-03-05".into(),
            actual_date: None,
        }],
        risks: vec![RiskRecord {
            title: "Rain".into(),
            probability: 0.3,
            cost_impact: 50.0,
            schedule_impact_days: 2.0,
            owner: String::new(),
            mitigation: String::new(),
            status: "open".into(),
            affected_tasks: vec!["2".into()],
        }],
    }
}

fn problems(d: ProjectDocument) -> Vec<String> {
    validate(d)
        .expect_err("invalid")
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_valid_document_resolves_its_references() {
    let valid = validate(doc()).expect("valid");
    assert_eq!(valid.predecessors, vec![vec![], vec![0], vec![0, 1]]);
    assert_eq!(valid.affected, vec![vec![1]]);
    assert_eq!(valid.declared[4], app::model::Rag::Red);
}

#[test]
fn every_problem_is_reported_with_its_place() {
    let mut d = doc();
    d.schema = "pmr.project/v0".into();
    d.project.currency = "euro".into();
    d.project.declared.cost = "purple".into();
    d.tasks[1].most_likely_days = 1.0;
    d.tasks[2].planned_finish = "31/01/2026".into();
    d.tasks[2].predecessors.push("9.9".into());
    d.risks[0].probability = 1.5;
    d.risks[0].affected_tasks.push("nope".into());
    let found = problems(d);
    for expected in [
        "schema: must be 'pmr.project/v1', not 'pmr.project/v0'",
        "project.currency: must be a three-letter ISO code such as EUR, not 'euro'",
        "project.declared.cost: must be green, amber or red, not 'purple'",
        "tasks[1].most_likely_days: must be at least optimistic_days (1 < 2)",
        "tasks[2].planned_finish: must be a date as YYYY-MM-DD, not '31/01/2026'",
        "tasks[2].predecessors[2]: no task has wbs '9.9'",
        "risks[0].probability: must be between 0 and 1, not 1.5",
        "risks[0].affected_tasks[1]: no task has wbs 'nope'",
    ] {
        assert!(
            found.iter().any(|p| p == expected),
            "missing «{expected}» in {found:#?}"
        );
    }
}

#[test]
fn cycles_are_named_by_their_path() {
    let mut d = doc();
    d.tasks[0].predecessors = vec!["3".into()];
    let found = problems(d);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("tasks: dependencies form a cycle: "),
        "{}",
        found[0]
    );
    assert!(found[0].contains('1') && found[0].contains('3'));
}

#[test]
fn duplicates_and_self_references_are_refused() {
    let mut d = doc();
    d.tasks[2].wbs = "2".into();
    d.tasks[1].predecessors = vec!["2".into()];
    let found = problems(d);
    assert!(
        found
            .iter()
            .any(|p| p == "tasks[2].wbs: '2' is already used by tasks[1]"),
        "{found:?}"
    );
}

#[test]
fn json_syntax_errors_say_where() {
    let err =
        parse_json("{\"schema\": \"pmr.project/v1\",\n \"project\": 42 }").expect_err("bad shape");
    assert!(err[0].location.starts_with("line 2"), "{:?}", err[0]);
    let unknown = parse_json(&serde_json::to_string(&doc()).expect("json").replacen(
        "\"tasks\"",
        "\"chores\"",
        1,
    ));
    assert!(unknown.expect_err("unknown field")[0]
        .message
        .contains("unknown field `chores`"));
}

#[test]
fn sizes_are_bounded() {
    let mut d = doc();
    let first = d.tasks[0].clone();
    d.tasks = (0..=MAX_TASKS)
        .map(|i| TaskRecord {
            wbs: format!("t{i}"),
            predecessors: vec![],
            ..first.clone()
        })
        .collect();
    d.risks.clear();
    assert!(problems(d)
        .iter()
        .any(|p| p.starts_with(&format!("tasks: has {} entries", MAX_TASKS + 1))));
    let mut long = doc();
    long.project.name = "x".repeat(MAX_TEXT + 1);
    assert!(problems(long)
        .iter()
        .any(|p| p.starts_with("project.name: is longer than")));
}

#[test]
fn a_calendar_and_remaining_durations_are_checked_where_they_are() {
    let mut d = doc();
    d.project.calendar = Some(app::planning::ProjectCalendar {
        working_days: vec!["mon".into(), "someday".into()],
        holidays: vec!["2026-12-25".into()],
        reporting_day: 40,
    });
    d.tasks[0].percent_complete = 100.0;
    d.tasks[0].actual_start = Some("2026-01-05".into());
    d.tasks[0].actual_finish = Some("2026-01-07".into());
    d.tasks[0].remaining_days = Some(3.0);
    d.tasks[1].remaining_days = Some(-1.0);
    let found = problems(d);
    for expected in [
        "project.calendar.working_days: 'someday' is not a day of the week",
        "project.calendar.reporting_day: must be a day of the month, 1 to 31, not 40",
        "tasks[0].remaining_days: must be empty or 0 for a finished task",
        "tasks[1].remaining_days: must be between 0 and 10000, not -1",
    ] {
        assert!(
            found.iter().any(|p| p.starts_with(expected)),
            "{expected}: {found:#?}"
        );
    }
    let mut fine = doc();
    fine.project.calendar = Some(app::planning::ProjectCalendar::default());
    fine.tasks[1].remaining_days = Some(4.5);
    let valid = validate(fine).expect("valid");
    assert_eq!(valid.document.tasks[1].remaining_days, Some(4.5));
}

#[test]
fn a_document_without_a_calendar_or_remaining_durations_still_reads() {
    let text = serde_json::to_string(&doc()).expect("json");
    assert!(!text.contains("calendar") && !text.contains("remaining_days"));
    let back = super::parse_json(&text).expect("reads");
    assert_eq!(back.project.calendar, None);
    let unknown = text.replace(
        "\"status_justification\":\"\"",
        "\"status_justification\":\"\",\"calendar\":{\"working_days\":[\"mon\"],\"weekends\":true}",
    );
    assert!(
        super::parse_json(&unknown).is_err(),
        "unknown calendar fields are refused"
    );
}

#[test]
fn constraints_are_checked_where_they_are_and_unknown_kinds_refused() {
    let mut d = doc();
    d.tasks[0].constraint = Some(TaskConstraint {
        kind: ConstraintKind::MustFinishOn,
        date: None,
    });
    d.tasks[1].constraint = Some(TaskConstraint {
        kind: ConstraintKind::StartNoEarlierThan,
        date: Some("2026-02-30".into()),
    });
    let found = problems(d);
    for expected in [
        "tasks[0].constraint.date: is needed by 'must_finish_on'",
        "tasks[1].constraint.date: must be a date as YYYY-MM-DD, not '2026-02-30'",
    ] {
        assert!(
            found.iter().any(|p| p.starts_with(expected)),
            "{expected}: {found:#?}"
        );
    }
    // A kind PMR does not know is refused where it is, as any unknown value.
    let mut text = serde_json::to_value(doc()).expect("json");
    text["tasks"][0]["constraint"] = serde_json::json!({"kind": "whenever", "date": "2026-01-05"});
    let refused = parse_json(&text.to_string()).expect_err("unknown kind");
    assert!(refused[0].message.contains("whenever"), "{refused:?}");
    // Kept and given back as written.
    let mut fine = doc();
    fine.tasks[2].estimated_by_rule = true;
    fine.tasks[2].constraint = Some(TaskConstraint {
        kind: ConstraintKind::FinishNoLaterThan,
        date: Some("2026-01-30".into()),
    });
    let again = parse_json(&serde_json::to_string(&fine).expect("json")).expect("reads");
    assert_eq!(validate(again).expect("valid").document, fine);
}
