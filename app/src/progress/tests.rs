use super::*;

fn task(percent: f64, start: Option<&str>, finish: Option<&str>, cost: f64) -> TaskProgress {
    TaskProgress {
        percent_complete: percent,
        actual_start: start.map(str::to_string),
        actual_finish: finish.map(str::to_string),
        actual_cost: cost,
        remaining_days: None,
    }
}

fn fields(problems: &[CellProblem]) -> Vec<&'static str> {
    problems.iter().map(|p| p.field).collect()
}

#[test]
fn a_consistent_task_passes() {
    let p = task(100.0, Some("2026-10-01"), Some("2026-10-20"), 5_000.0);
    assert!(check_task_progress(&p, Some("2026-10-31")).is_empty());
    assert!(check_task_progress(&task(0.0, None, None, 0.0), None).is_empty());
}

#[test]
fn ranges_and_dates_use_the_import_words() {
    let p = task(120.0, Some("2026-13-01"), None, -1.0);
    let problems = check_task_progress(&p, None);
    assert_eq!(
        fields(&problems),
        vec!["percent_complete", "actual_cost", "actual_start"]
    );
    assert_eq!(problems[0].message, "must be between 0 and 100, not 120");
    assert_eq!(
        problems[2].message,
        "must be a date as YYYY-MM-DD, not '2026-13-01'"
    );
}

#[test]
fn dates_must_be_in_order_started_and_not_after_the_status_date() {
    let backwards = task(100.0, Some("2026-10-20"), Some("2026-10-01"), 0.0);
    assert_eq!(
        check_task_progress(&backwards, None)[0].message,
        "is before actual_start 2026-10-20"
    );
    let unstarted = task(100.0, None, Some("2026-10-01"), 0.0);
    assert_eq!(
        fields(&check_task_progress(&unstarted, None)),
        vec!["actual_start"]
    );
    let unfinished = task(60.0, Some("2026-10-01"), Some("2026-10-02"), 0.0);
    assert_eq!(
        fields(&check_task_progress(&unfinished, None)),
        vec!["percent_complete"]
    );
    let future = task(50.0, Some("2026-11-02"), None, 0.0);
    let problems = check_task_progress(&future, Some("2026-10-31"));
    assert_eq!(problems[0].message, "is after the status date 2026-10-31");
}

#[test]
fn risks_and_milestones_are_checked() {
    let risk = RiskAssessment {
        probability: 1.5,
        cost_impact: 0.0,
        schedule_impact_days: 3.0,
        owner: "x".repeat(501),
        mitigation: String::new(),
        status: "gone".into(),
    };
    assert_eq!(
        fields(&check_risk_assessment(&risk)),
        vec!["probability", "owner", "status"]
    );
    let milestone = MilestoneProgress {
        forecast_date: "soon".into(),
        actual_date: Some("2026-02-30".into()),
    };
    assert_eq!(
        fields(&check_milestone_progress(&milestone)),
        vec!["forecast_date", "actual_date"]
    );
}

#[test]
fn status_dates_are_real_and_not_before_the_start() {
    assert!(check_status_date("2026-10-31", "2026-01-05").is_ok());
    assert!(check_status_date("2026-10-32", "2026-01-05").is_err());
    assert_eq!(
        check_status_date("2025-12-31", "2026-01-05").expect_err("refused"),
        "The status date 31 Dec 2025 is before the project's start (5 Jan 2026)."
    );
}

#[test]
fn typed_numbers_and_pasted_rows_are_read_like_a_spreadsheet() {
    assert_eq!(parse_number(" 45 % "), Some(45.0));
    assert_eq!(parse_number("1,234.5"), Some(1234.5));
    assert_eq!(parse_number(""), Some(0.0));
    assert_eq!(parse_number("abc"), None);
    assert_eq!(parse_number("inf"), None);
    let rows = parse_paste(
        "50\t2026-10-01\t\t1200\r\n100\t2026-09-01\t2026-10-10\t900\r\n\n",
        100,
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1], vec!["100", "2026-09-01", "2026-10-10", "900"]);
    assert_eq!(parse_paste("1\n2\n3\n4", 2).len(), 2);
}

fn edit(was: TaskProgress, now: TaskProgress) -> Edit<TaskProgress> {
    Edit {
        key: "1.1".into(),
        was,
        now,
    }
}

/// A plain reference: for each field, the three-way rule written out by hand.
fn reference(
    was: &TaskProgress,
    now: &TaskProgress,
    stored: &TaskProgress,
) -> Option<TaskProgress> {
    let pick = |w: String, n: String, s: String| -> Option<String> {
        if w == n {
            Some(s)
        } else if s == w || s == n {
            Some(n)
        } else {
            None
        }
    };
    let text = |o: &Option<String>| o.clone().unwrap_or_default();
    let back = |t: String| (!t.is_empty()).then_some(t);
    Some(TaskProgress {
        percent_complete: pick(
            was.percent_complete.to_string(),
            now.percent_complete.to_string(),
            stored.percent_complete.to_string(),
        )?
        .parse()
        .ok()?,
        actual_start: back(pick(
            text(&was.actual_start),
            text(&now.actual_start),
            text(&stored.actual_start),
        )?),
        actual_finish: back(pick(
            text(&was.actual_finish),
            text(&now.actual_finish),
            text(&stored.actual_finish),
        )?),
        actual_cost: pick(
            was.actual_cost.to_string(),
            now.actual_cost.to_string(),
            stored.actual_cost.to_string(),
        )?
        .parse()
        .ok()?,
        remaining_days: back(pick(
            was.remaining_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
            now.remaining_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
            stored
                .remaining_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
        )?)
        .map(|d| d.parse())
        .transpose()
        .ok()?,
    })
}

#[test]
fn the_merge_keeps_both_sides_and_finds_real_conflicts() {
    let base = task(40.0, Some("2026-10-01"), None, 1_000.0);
    // Mine: percent; theirs: cost. Both kept.
    let mut stored = task(40.0, Some("2026-10-01"), None, 1_500.0);
    let mut conflicts = Vec::new();
    let mine = edit(base.clone(), task(60.0, Some("2026-10-01"), None, 1_000.0));
    TaskProgress::merge_into(&mine, "task 1.1", &mut stored, &mut conflicts);
    assert!(conflicts.is_empty());
    assert_eq!(stored, task(60.0, Some("2026-10-01"), None, 1_500.0));
    // Both changed percent to different values: a conflict naming both.
    let mut stored = task(55.0, Some("2026-10-01"), None, 1_000.0);
    TaskProgress::merge_into(&mine, "task 1.1", &mut stored, &mut conflicts);
    assert_eq!(
        conflicts,
        vec![MergeConflict {
            place: "task 1.1 percent_complete".into(),
            yours: "60".into(),
            theirs: "55".into(),
        }]
    );
}

#[test]
fn the_merge_agrees_with_the_written_out_rule_on_every_combination() {
    let values = [
        task(0.0, None, None, 0.0),
        task(50.0, Some("2026-10-01"), None, 10.0),
        task(100.0, Some("2026-10-01"), Some("2026-10-09"), 10.0),
        task(50.0, Some("2026-09-01"), None, 20.0),
        TaskProgress {
            remaining_days: Some(8.0),
            ..task(50.0, Some("2026-10-01"), None, 10.0)
        },
    ];
    for was in &values {
        for now in &values {
            for stored in &values {
                let mut merged = stored.clone();
                let mut conflicts = Vec::new();
                TaskProgress::merge_into(
                    &edit(was.clone(), now.clone()),
                    "t",
                    &mut merged,
                    &mut conflicts,
                );
                match reference(was, now, stored) {
                    Some(expected) => {
                        assert!(conflicts.is_empty(), "{was:?} {now:?} {stored:?}");
                        assert_eq!(merged, expected);
                    }
                    None => assert!(!conflicts.is_empty(), "{was:?} {now:?} {stored:?}"),
                }
            }
        }
    }
}

#[test]
fn rows_to_add_are_checked_like_the_import() {
    let milestone = ProgressMilestone {
        name: "Handover".into(),
        baseline_date: "2027-05-03".into(),
        progress: MilestoneProgress {
            forecast_date: "2027-05-10".into(),
            actual_date: None,
        },
    };
    assert!(check_new_milestone(&milestone).is_empty());
    let bad = ProgressMilestone {
        name: " ".into(),
        baseline_date: "May".into(),
        ..milestone
    };
    assert_eq!(
        fields(&check_new_milestone(&bad)),
        ["name", "baseline_date"]
    );
    let risk = NewRisk {
        title: "Crane failure".into(),
        assessment: RiskAssessment {
            probability: 0.2,
            cost_impact: 1_000.0,
            schedule_impact_days: 3.0,
            owner: String::new(),
            mitigation: String::new(),
            status: "open".into(),
        },
        affected_tasks: vec!["1.1".into()],
    };
    assert!(check_new_risk(&risk).is_empty());
    let too_many = NewRisk {
        affected_tasks: vec!["1.1".into(); MAX_AFFECTED + 1],
        ..risk.clone()
    };
    assert_eq!(fields(&check_new_risk(&too_many)), ["affected_tasks"]);
    let untitled = NewRisk {
        title: "x".repeat(MAX_TEXT + 1),
        affected_tasks: vec![String::new()],
        ..risk
    };
    assert_eq!(
        fields(&check_new_risk(&untitled)),
        ["title", "affected_tasks"]
    );
}

#[test]
fn problems_name_fields_by_their_column_headings() {
    use super::grid::field_label;
    assert_eq!(field_label("percent_complete"), "% complete");
    assert_eq!(field_label("schedule_impact_days"), "Delay (days)");
    assert_eq!(field_label("baseline_date"), "Baseline date");
    assert_eq!(field_label("some_new_field"), "Some new field");
}
