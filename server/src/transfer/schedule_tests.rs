//! The scheduler readers on files written for this project (`server/tests/fixtures/schedules/`):
//! a Microsoft Project 2019 MSPDI, a Project 2003 one, and a P6 XER of two projects in
//! windows-1252. Each is checked twice: against figures worked out by hand from the file (below,
//! with the arithmetic), and against a golden copy of the whole imported document and its warnings
//! (`*.golden.json` beside the fixture; `PMR_BLESS=1` rewrites them after a deliberate change, to be
//! read in review).

use super::files::{self, SchedulerFormat};
use super::schedule::{self, EstimateRule};
use super::{validate, ProjectDocument};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schedules");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn import(
    name: &str,
    format: SchedulerFormat,
    p6: Option<&str>,
) -> (ProjectDocument, schedule::ScheduleSummary) {
    let bytes = fixture(name);
    let schedule =
        files::read_file(&bytes, format, None, p6).unwrap_or_else(|p| panic!("{name}: {p:?}"));
    let (doc, summary) = schedule::to_document(
        schedule,
        "TEST",
        None,
        None,
        "Importer",
        EstimateRule::default(),
    )
    .unwrap_or_else(|p| panic!("{name}: {p:?}"));
    validate(doc.clone()).unwrap_or_else(|p| panic!("{name} does not validate: {p:?}"));
    (doc, summary)
}

/// Compares with the golden copy (or writes it under `PMR_BLESS=1`).
fn golden(name: &str, doc: &ProjectDocument, summary: &schedule::ScheduleSummary) {
    let actual = serde_json::to_string_pretty(&serde_json::json!({
        "document": doc,
        "read": summary,
    }))
    .expect("serialisable")
        + "\n";
    let path = format!("{DIR}/{name}.golden.json");
    if std::env::var_os("PMR_BLESS").is_some() {
        std::fs::write(&path, &actual).expect("the golden copy is writable");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (PMR_BLESS=1 writes it)"));
    assert!(
        expected == actual,
        "{name} differs from its golden copy; actual:\n{actual}"
    );
}

fn task<'a>(doc: &'a ProjectDocument, wbs: &str) -> &'a super::TaskRecord {
    doc.tasks.iter().find(|t| t.wbs == wbs).unwrap_or_else(|| {
        panic!(
            "no task {wbs} in {:?}",
            doc.tasks.iter().map(|t| &t.wbs).collect::<Vec<_>>()
        )
    })
}

fn warned(summary: &schedule::ScheduleSummary, location: &str, words: &str) -> bool {
    summary
        .warnings
        .iter()
        .any(|w| w.location.contains(location) && w.message.contains(words))
}

#[test]
fn a_project_2019_file_imports_as_worked_out_by_hand() {
    let (doc, read) = import("project-2019.xml", SchedulerFormat::Mspdi, None);
    let p = &doc.project;
    assert_eq!(p.name, "Harbour crane upgrade");
    assert_eq!(p.manager, "Dana Reyes");
    assert_eq!(p.currency, "EUR");
    assert_eq!(
        (p.start_date.as_str(), p.target_finish.as_str()),
        ("2026-01-05", "2026-04-17")
    );
    // Baseline costs of the five work tasks: 12,000 + 30,000 + 90,000 + 40,000 + 15,000.
    assert_eq!(p.budget_at_completion, 187_000.0);
    let cal = p.calendar.as_ref().expect("the project calendar");
    assert_eq!(cal.working_days, ["mon", "tue", "wed", "thu", "fri"]);
    // The two-day shutdown and Christmas; the catch-up Saturday is a working exception (warned).
    assert_eq!(cal.holidays, ["2026-04-06", "2026-04-07", "2026-12-25"]);

    // Summaries Design (1) and Build (2) are levels; UID 9 is inactive, UID 11 an empty row.
    assert_eq!(
        read.read, 9,
        "UIDs 1 to 8 and 10 (not the project summary, the empty row or the inactive task)"
    );
    assert_eq!((read.tasks, read.milestones, read.summaries), (5, 2, 2));
    let wbs: Vec<&str> = doc.tasks.iter().map(|t| t.wbs.as_str()).collect();
    assert_eq!(wbs, ["1.1", "1.2", "2.1", "2.2", "2.3"]);

    // UID 2: finished, three-point estimates from Duration1–3 (64/80/120 h at 480 min a day).
    let survey = task(&doc, "1.1");
    assert_eq!(survey.name, "Survey existing crane");
    assert_eq!(survey.owner, "Dana Reyes");
    assert_eq!(
        (
            survey.optimistic_days,
            survey.most_likely_days,
            survey.pessimistic_days
        ),
        (8.0, 10.0, 15.0)
    );
    assert_eq!(
        survey.budgeted_cost, 12_000.0,
        "Baseline 0's cost, not Baseline 1's"
    );
    assert_eq!(
        (survey.percent_complete, survey.actual_cost),
        (100.0, 12_500.0)
    );
    assert_eq!(survey.actual_finish.as_deref(), Some("2026-01-16"));
    assert_eq!(survey.remaining_days, None);

    // UID 3: 160 h baseline = 20 days, the rule gives 16/20/30; 64 h left = 8 days.
    let design = task(&doc, "1.2");
    assert_eq!(design.name, "Structural design & calculations");
    assert_eq!(
        (
            design.optimistic_days,
            design.most_likely_days,
            design.pessimistic_days
        ),
        (16.0, 20.0, 30.0)
    );
    assert_eq!(
        (
            design.planned_start.as_str(),
            design.planned_finish.as_str()
        ),
        ("2026-01-19", "2026-02-13")
    );
    assert_eq!(
        (
            design.percent_complete,
            design.actual_cost,
            design.remaining_days
        ),
        (60.0, 21_000.0, Some(8.0))
    );
    assert_eq!(design.actual_start.as_deref(), Some("2026-01-19"));
    assert_eq!(design.predecessors, ["1.1"]);

    // UID 6 follows the milestone UID 4, which follows UID 3: joined through it, to 1.2.
    let boom = task(&doc, "2.1");
    assert_eq!(boom.predecessors, ["1.2"]);
    assert_eq!(boom.owner, "Kiel Works", "the first assignment's resource");
    assert_eq!(
        (
            boom.optimistic_days,
            boom.most_likely_days,
            boom.pessimistic_days
        ),
        (24.0, 30.0, 45.0)
    );
    // UID 7: start-to-start on UID 6 kept as finish-to-start; the link on summary UID 1 left out.
    assert_eq!(task(&doc, "2.2").predecessors, ["2.1"]);
    assert_eq!(task(&doc, "2.3").predecessors, ["2.2"]);
    assert_eq!(read.dependencies, 4);
    assert_eq!((read.estimated_in_file, read.estimated_by_rule), (1, 4));
    // Each task says where its estimates came from: the survey's from the file, the rest by the rule.
    assert_eq!(
        doc.tasks
            .iter()
            .map(|t| (t.wbs.as_str(), t.estimated_by_rule))
            .collect::<Vec<_>>(),
        [
            ("1.1", false),
            ("1.2", true),
            ("2.1", true),
            ("2.2", true),
            ("2.3", true)
        ]
    );
    // UID 3's constraint (type 4, start no earlier than) is kept as data.
    assert_eq!(
        task(&doc, "1.2").constraint,
        Some(super::TaskConstraint {
            kind: super::ConstraintKind::StartNoEarlierThan,
            date: Some("2026-01-19".into()),
        })
    );
    assert_eq!(
        doc.tasks.iter().filter(|t| t.constraint.is_some()).count(),
        1
    );

    let approved = &doc.milestones[0];
    assert_eq!(approved.name, "Design approved");
    assert_eq!(
        (
            approved.baseline_date.as_str(),
            approved.forecast_date.as_str()
        ),
        ("2026-02-13", "2026-02-20")
    );
    assert_eq!(approved.actual_date, None);
    assert_eq!(doc.milestones[1].name, "Handover to port authority");
    assert_eq!(doc.milestones[1].baseline_date, "2026-04-17");

    for (place, words) in [
        ("calendar UID 1", "Catch-up Saturday"),
        ("constraints", "1 task's date constraint is kept as data"),
        ("task UID 6, predecessor UID 4", "lag of 1 working day,"),
        ("task UID 7, predecessor UID 6", "start-to-start"),
        ("task UID 7, predecessor UID 1", "summary"),
        ("task UID 8, predecessor UID 7", "finish-to-finish"),
        ("task UID 9", "inactive"),
        ("task UID 10, predecessor UID 9", "not imported"),
    ] {
        assert!(
            warned(&read, place, words),
            "no warning at {place} saying '{words}': {:#?}",
            read.warnings
        );
    }
    assert_eq!(read.warnings.len(), 8, "{:#?}", read.warnings);
    golden("project-2019.xml", &doc, &read);
}

#[test]
fn a_project_2003_file_imports_as_worked_out_by_hand() {
    let (doc, read) = import("project-2003.xml", SchedulerFormat::Mspdi, None);
    assert_eq!(doc.project.name, "Kaianlage Süd");
    assert_eq!(
        doc.project.manager, "Jens Ohlsen",
        "the Author when there is no Manager"
    );
    // The 2003 form of an exception: a WeekDay of DayType 0 from 9 to 12 April 2004.
    let cal = doc.project.calendar.as_ref().expect("the file's calendar");
    assert_eq!(
        cal.holidays,
        ["2004-04-09", "2004-04-10", "2004-04-11", "2004-04-12"]
    );
    // 450 minutes a day: 75 h = 10 days, 112.5 h = 15 days, 52.5 h = 7 days; no baseline, so the
    // current schedule is the plan, and the rule makes the spread.
    let d: Vec<(f64, f64, f64)> = doc
        .tasks
        .iter()
        .map(|t| (t.optimistic_days, t.most_likely_days, t.pessimistic_days))
        .collect();
    assert_eq!(d, [(8.0, 10.0, 15.0), (12.0, 15.0, 22.5), (5.6, 7.0, 10.5)]);
    assert_eq!(
        doc.tasks[1].remaining_days,
        Some(6.0),
        "45 h at 7.5 h a day"
    );
    assert_eq!(doc.tasks[1].planned_finish, "2004-04-02");
    assert_eq!(doc.tasks[0].owner, "Ramm-Team Nord");
    assert_eq!(doc.project.budget_at_completion, 93_000.0);
    assert_eq!(doc.milestones.len(), 1);
    assert_eq!(doc.milestones[0].baseline_date, "2004-04-16");
    assert!(warned(&read, "document", "no baseline"));
    golden("project-2003.xml", &doc, &read);
}

#[test]
fn an_mspdi_file_in_another_encoding_reads_the_same() {
    let utf8 = fixture("project-2003.xml");
    let text = String::from_utf8(utf8.clone()).expect("UTF-8 fixture");
    // UTF-16 with a byte order mark (the declaration still says UTF-8, as Project writes it).
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    // windows-1252, declared.
    let latin = encoding_rs::WINDOWS_1252
        .encode(&text.replace("encoding=\"UTF-8\"", "encoding=\"windows-1252\""))
        .0
        .into_owned();
    assert!(latin.contains(&0xFC), "ü is one byte in windows-1252");
    let base = files::read_file(&utf8, SchedulerFormat::Mspdi, None, None).expect("read");
    for bytes in [utf16, latin] {
        let other = files::read_file(&bytes, SchedulerFormat::Mspdi, None, None).expect("read");
        assert_eq!(other, base);
    }
}

#[test]
fn a_p6_file_imports_the_chosen_project_as_worked_out_by_hand() {
    let bytes = fixture("p6-two-projects.xer");
    let listed = super::xer::projects(&encoding_rs::WINDOWS_1252.decode(&bytes).0).expect("read");
    let ids: Vec<(&str, &str, usize)> = listed
        .iter()
        .map(|p| (p.id.as_str(), p.name.as_str(), p.tasks))
        .collect();
    assert_eq!(
        ids,
        [
            ("101", "Crane replacement (Café wharf)", 5),
            ("102", "Yard paving", 1)
        ]
    );
    let none = files::read_file(&bytes, SchedulerFormat::Xer, None, None).expect_err("refused");
    assert_eq!(none[0].location, "p6_project");
    assert!(none[0].message.contains("101 (CRANE-P6"), "{none:?}");

    let (doc, read) = import("p6-two-projects.xer", SchedulerFormat::Xer, Some("101"));
    assert_eq!(
        doc.project.name, "Crane replacement (Café wharf)",
        "windows-1252 é"
    );
    assert_eq!(doc.project.currency, "USD");
    assert_eq!(doc.project.start_date, "2026-01-05");
    assert_eq!(doc.project.target_finish, "2026-04-03");
    let cal = doc.project.calendar.as_ref().expect("the file's calendar");
    // Sunday and Saturday have no working periods; serial days 46115 and 46381 are holidays,
    // 46095 (a Saturday with hours) a working exception.
    assert_eq!(cal.working_days, ["mon", "tue", "wed", "thu", "fri"]);
    assert_eq!(cal.holidays, ["2026-04-03", "2026-12-25"]);
    // WBS: Engineering (seq 10) before Construction (seq 20) although listed after it.
    let wbs: Vec<(&str, &str)> = doc
        .tasks
        .iter()
        .map(|t| (t.wbs.as_str(), t.name.as_str()))
        .collect();
    assert_eq!(
        wbs,
        [
            ("1.1", "Site survey"),
            ("1.2", "Foundation design"),
            ("2.1", "Pour foundations"),
            ("2.2", "Site supervision")
        ]
    );
    let survey = task(&doc, "1.1");
    assert_eq!(
        (
            survey.percent_complete,
            survey.budgeted_cost,
            survey.actual_cost
        ),
        (100.0, 12_000.0, 12_500.0)
    );
    assert_eq!(survey.owner, "Dana Reyes");
    // Physical percent complete; 64 h left of 8-hour days; 15,000 + 1,500 actual.
    let design = task(&doc, "1.2");
    assert_eq!(
        (
            design.percent_complete,
            design.remaining_days,
            design.actual_cost
        ),
        (55.0, Some(8.0), 16_500.0)
    );
    assert_eq!(design.predecessors, ["1.1"]);
    // User fields: 200 h and 360 h = 25 and 45 days around the 240 h (30 days) duration.
    let pour = task(&doc, "2.1");
    assert_eq!(
        (
            pour.optimistic_days,
            pour.most_likely_days,
            pour.pessimistic_days
        ),
        (25.0, 30.0, 45.0)
    );
    assert_eq!(pour.predecessors, ["1.2"], "through milestone M1000");
    // A1010's CS_MSOA (start on or after) is kept as start no earlier than.
    assert_eq!(
        design.constraint,
        Some(super::TaskConstraint {
            kind: super::ConstraintKind::StartNoEarlierThan,
            date: Some("2026-01-19".into()),
        })
    );
    assert_eq!(
        (pour.planned_start.as_str(), pour.planned_finish.as_str()),
        ("2026-02-16", "2026-03-27")
    );
    // Level of effort: no spread; duration-based percent (400 − 256) / 400 = 36 %.
    let supervision = task(&doc, "2.2");
    assert_eq!(
        (supervision.optimistic_days, supervision.pessimistic_days),
        (50.0, 50.0)
    );
    assert_eq!(supervision.percent_complete, 36.0);
    assert_eq!(doc.milestones.len(), 1);
    assert_eq!(
        (
            doc.milestones[0].baseline_date.as_str(),
            doc.milestones[0].forecast_date.as_str()
        ),
        ("2026-02-13", "2026-02-20")
    );
    assert_eq!(doc.project.budget_at_completion, 152_000.0);
    for (place, words) in [
        ("document", "windows-1252"),
        ("table ACTVTYPE", "2 rows"),
        ("constraints", "1 task's date constraint is kept as data"),
        ("TASKPRED 5003 → 5004", "lag of 1 working day,"),
        ("TASKPRED 5001 → 5005", "start-to-start"),
        ("TASKPRED 5004 → 6001", "another project"),
        ("calendar 5", "2026-03-14 is a working exception"),
    ] {
        assert!(
            warned(&read, place, words),
            "no warning at {place} saying '{words}': {:#?}",
            read.warnings
        );
    }
    golden("p6-two-projects.xer", &doc, &read);
}

#[test]
fn the_estimate_rule_is_bounded_and_used() {
    assert!(EstimateRule::checked(Some(0.05), None).is_err());
    assert!(EstimateRule::checked(None, Some(6.0)).is_err());
    assert!(EstimateRule::checked(Some(1.2), None).is_err());
    let rule = EstimateRule::checked(Some(0.5), Some(2.0)).expect("read");
    let bytes = fixture("project-2003.xml");
    let schedule = files::read_file(&bytes, SchedulerFormat::Mspdi, None, None).expect("read");
    let (doc, read) =
        schedule::to_document(schedule, "T", Some("Renamed"), None, "x", rule).expect("read");
    assert_eq!(doc.project.name, "Renamed");
    assert_eq!(
        (doc.tasks[0].optimistic_days, doc.tasks[0].pessimistic_days),
        (5.0, 20.0)
    );
    assert_eq!(read.rule, rule);
}

/// Problems a damaged file is refused with: each named, with its place.
#[test]
fn bad_files_are_refused_with_their_problems() {
    let mspdi = String::from_utf8(fixture("project-2019.xml")).expect("UTF-8 fixture");
    let xer = encoding_rs::WINDOWS_1252
        .decode(&fixture("p6-two-projects.xer"))
        .0
        .into_owned();
    let refused = |bytes: &[u8], format| {
        files::read_file(bytes, format, None, Some("101"))
            .and_then(|s| {
                schedule::to_document(s, "T", None, None, "x", EstimateRule::default())
                    .and_then(|(d, _)| validate(d).map(|_| ()))
                    .map(|_| ())
                    .map(|_| panic!("accepted"))
            })
            .expect_err("refused")
    };
    let cases: Vec<(&str, Vec<u8>, SchedulerFormat, &str, &str)> = vec![
        (
            "not XML",
            b"hello".to_vec(),
            SchedulerFormat::Mspdi,
            "document",
            "not XML",
        ),
        (
            "broken XML",
            mspdi.replace("</Tasks>", "").into_bytes(),
            SchedulerFormat::Mspdi,
            "byte",
            "not well-formed",
        ),
        (
            "wrong namespace",
            mspdi
                .replace(super::mspdi::NAMESPACE, "urn:other")
                .into_bytes(),
            SchedulerFormat::Mspdi,
            "document",
            "urn:other",
        ),
        (
            "another document",
            b"<Workbook xmlns=\"urn:x\"/>".to_vec(),
            SchedulerFormat::Mspdi,
            "document",
            "<Workbook>",
        ),
        (
            "a dangling predecessor",
            mspdi
                .replace(
                    "<PredecessorUID>2</PredecessorUID>",
                    "<PredecessorUID>77</PredecessorUID>",
                )
                .into_bytes(),
            SchedulerFormat::Mspdi,
            "task UID 3, predecessor UID 77",
            "not in the file",
        ),
        (
            "a negative duration",
            mspdi
                .replace(
                    "<Duration>PT240H0M0S</Duration>\n\t\t\t<Summary>",
                    "<Duration>-PT8H0M0S</Duration>\n\t\t\t<Summary>",
                )
                .into_bytes(),
            SchedulerFormat::Mspdi,
            "task UID 6, field Duration",
            "negative",
        ),
        (
            "a cycle",
            mspdi
                .replace(
                    "<PredecessorUID>2</PredecessorUID>",
                    "<PredecessorUID>8</PredecessorUID>",
                )
                .into_bytes(),
            SchedulerFormat::Mspdi,
            "tasks",
            "cycle",
        ),
        (
            "an unknown code page",
            mspdi
                .replacen("encoding=\"UTF-8\"", "encoding=\"klingon-7\"", 1)
                .into_bytes(),
            SchedulerFormat::Mspdi,
            "document",
            "klingon-7",
        ),
        (
            "no ERMHDR",
            xer.replacen("ERMHDR", "HEADER", 1).into_bytes(),
            SchedulerFormat::Xer,
            "line 1",
            "ERMHDR",
        ),
        (
            "a dangling P6 predecessor",
            xer.replace("1\t5002\t5001\t", "1\t5002\t5999\t")
                .into_bytes(),
            SchedulerFormat::Xer,
            "TASKPRED 5999 → 5002",
            "not in the file",
        ),
        (
            "a negative P6 duration",
            xer.replace("\t256\t400\t", "\t256\t-400\t").into_bytes(),
            SchedulerFormat::Xer,
            "task A2010, field duration",
            "negative",
        ),
        (
            "a P6 link type",
            xer.replace("PR_SS", "PR_XX").into_bytes(),
            SchedulerFormat::Xer,
            "pred_type",
            "PR_XX",
        ),
    ];
    for (what, bytes, format, place, words) in cases {
        let problems = refused(&bytes, format);
        assert!(
            problems
                .iter()
                .any(|p| p.location.contains(place) && p.message.contains(words)),
            "{what}: expected a problem at {place} saying '{words}', got {problems:#?}"
        );
    }
    let unknown = files::read_file(
        b"ERMHDR\t1\n%E\n",
        SchedulerFormat::Xer,
        Some("klingon-7"),
        None,
    )
    .expect_err("refused");
    assert!(unknown[0].message.contains("klingon-7"), "{unknown:?}");
}

#[test]
fn durations_and_outlines_read_as_written() {
    use super::mspdi::iso_duration_minutes as m;
    assert_eq!(m("PT16H0M0S"), Some(960.0));
    assert_eq!(m("PT7H30M0S"), Some(450.0));
    assert_eq!(m("P1DT2H"), Some(1_560.0));
    assert_eq!(m("-PT8H0M0S"), Some(-480.0));
    assert_eq!(m("PT0.5H"), Some(30.0));
    for bad in ["", "P", "PT", "16H", "PT8X", "PT8", "PTH", "PT8M8H"] {
        assert_eq!(m(bad), None, "{bad}");
    }
    let mut w = Vec::new();
    let levels: Vec<(u32, String)> = [1, 2, 2, 3, 1, 3, 2]
        .iter()
        .map(|l| (*l, String::from("t")))
        .collect();
    let codes = schedule::outline_codes(&levels, &mut w);
    assert_eq!(codes, ["1", "1.1", "1.2", "1.2.1", "2", "2.1", "2.2"]);
    assert_eq!(w.len(), 1, "the jump from level 1 to 3: {w:?}");
}

fn work(key: &str, wbs: &str) -> schedule::SourceTask {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).expect("date");
    schedule::SourceTask {
        place: format!("task {key}"),
        key: key.into(),
        name: format!("Task {key}"),
        wbs: wbs.into(),
        duration_days: 2.0,
        planned_start: Some(day),
        planned_finish: Some(day),
        ..Default::default()
    }
}

fn link(from: &str, to: &str) -> schedule::SourceLink {
    schedule::SourceLink {
        place: format!("link {from} → {to}"),
        predecessor: from.into(),
        successor: to.into(),
        kind: schedule::LinkKind::FinishToStart,
        lag_days: 0.0,
    }
}

/// Links joined through milestones are worked out once per milestone and bounded: many tasks
/// into one milestone and many out of it would otherwise be every pair.
#[test]
fn joining_through_milestones_is_bounded() {
    let convert = |tasks: Vec<schedule::SourceTask>, links: Vec<schedule::SourceLink>| {
        let s = schedule::Schedule {
            format: "test",
            name: "t".into(),
            tasks,
            links,
            ..Default::default()
        };
        schedule::to_document(s, "T", None, None, "x", EstimateRule::default())
    };
    // 1,100 tasks → milestone M → one task: 1,100 joined predecessors, over the bound.
    let mut tasks: Vec<_> = (0..1_100)
        .map(|i| work(&format!("a{i}"), &format!("1.{i}")))
        .collect();
    let mut m = work("M", "2");
    m.milestone = true;
    tasks.push(m);
    tasks.push(work("z", "3"));
    let mut links: Vec<_> = (0..1_100).map(|i| link(&format!("a{i}"), "M")).collect();
    links.push(link("M", "z"));
    let refused = convert(tasks.clone(), links.clone()).expect_err("over the bound");
    assert!(
        refused[0].message.contains("1100 predecessors") && refused[0].location == "task M",
        "{refused:?}"
    );
    // 500 into the milestone and 500 out: each of the 500 gets 500 (250,000 in all, over
    // MAX_SCHEDULE_LINKS): refused without building them all.
    let mut tasks: Vec<_> = (0..500)
        .map(|i| work(&format!("a{i}"), &format!("1.{i}")))
        .collect();
    let mut m = work("M", "2");
    m.milestone = true;
    tasks.push(m);
    tasks.extend((0..500).map(|i| work(&format!("b{i}"), &format!("3.{i}"))));
    let mut links: Vec<_> = (0..500).map(|i| link(&format!("a{i}"), "M")).collect();
    links.extend((0..500).map(|i| link("M", &format!("b{i}"))));
    let refused = convert(tasks, links).expect_err("over the total");
    assert!(refused[0].message.contains("in all"), "{refused:?}");
    // A chain of 2,000 milestones between two tasks resolves to the one task, once.
    let mut tasks = vec![work("first", "1")];
    let mut links = Vec::new();
    for i in 0..2_000 {
        let mut m = work(&format!("m{i}"), &format!("2.{i}"));
        m.milestone = true;
        tasks.push(m);
        links.push(link(if i == 0 { "first" } else { "" }, &format!("m{i}")));
        if i > 0 {
            links.pop();
            links.push(link(&format!("m{}", i - 1), &format!("m{i}")));
        }
    }
    tasks.push(work("last", "3"));
    links.push(link("m1999", "last"));
    let (doc, read) = convert(tasks, links).expect("a chain");
    assert_eq!(doc.tasks[1].predecessors, ["1"]);
    assert_eq!(read.dependencies, 1);
    // Milestones in a cycle are refused.
    let mut a = work("ma", "1");
    a.milestone = true;
    let mut b = work("mb", "2");
    b.milestone = true;
    let refused = convert(
        vec![a, b, work("t", "3")],
        vec![link("ma", "mb"), link("mb", "ma"), link("mb", "t")],
    )
    .expect_err("a cycle");
    assert!(refused[0].message.contains("cycle"), "{refused:?}");
}

/// A yearly exception's period spans all its years: only its first day is a holiday. A task with
/// tasks under it is a summary even unflagged; an elapsed duration is calendar days.
#[test]
fn recurring_exceptions_unflagged_summaries_and_elapsed_durations() {
    let xml = r#"<Project xmlns="http://schemas.microsoft.com/project"><MinutesPerDay>480</MinutesPerDay><CalendarUID>1</CalendarUID>
<Calendars><Calendar><UID>1</UID><IsBaseCalendar>1</IsBaseCalendar><Exceptions><Exception>
<TimePeriod><FromDate>2026-12-25T00:00:00</FromDate><ToDate>2034-12-25T23:59:00</ToDate></TimePeriod>
<Occurrences>9</Occurrences><Name>Christmas</Name><Type>5</Type><DayWorking>0</DayWorking></Exception></Exceptions></Calendar>
<Calendar><UID>2</UID><Name>Derived</Name><BaseCalendarUID>1</BaseCalendarUID><Exceptions><Exception>
<TimePeriod><FromDate>2026-08-03T00:00:00</FromDate><ToDate>2026-08-03T23:59:00</ToDate></TimePeriod><DayWorking>0</DayWorking></Exception></Exceptions></Calendar></Calendars>
<Tasks>
<Task><UID>1</UID><Name>Group</Name><OutlineLevel>1</OutlineLevel><Start>2026-01-05T08:00:00</Start><Finish>2026-01-09T17:00:00</Finish><Duration>PT40H0M0S</Duration></Task>
<Task><UID>2</UID><Name>Inner</Name><OutlineLevel>2</OutlineLevel><Start>2026-01-05T08:00:00</Start><Finish>2026-01-09T17:00:00</Finish><Duration>PT48H0M0S</Duration><DurationFormat>8</DurationFormat></Task>
</Tasks></Project>"#;
    let s = files::read_file(xml.as_bytes(), SchedulerFormat::Mspdi, None, None).expect("read");
    assert_eq!(
        s.calendar.as_ref().expect("calendar").holidays,
        ["2026-12-25"],
        "{:?}",
        s.warnings
    );
    let derived = xml.replace(
        "<CalendarUID>1</CalendarUID>",
        "<CalendarUID>2</CalendarUID>",
    );
    let s = files::read_file(derived.as_bytes(), SchedulerFormat::Mspdi, None, None).expect("read");
    assert_eq!(
        s.calendar.as_ref().expect("calendar").holidays,
        ["2026-08-03", "2026-12-25"],
        "the derived calendar's exception and its base's"
    );
    let (doc, read) =
        schedule::to_document(s, "T", None, None, "x", EstimateRule::default()).expect("convert");
    assert_eq!(read.summaries, 1, "Group has a task under it");
    assert_eq!(doc.tasks.len(), 1);
    assert_eq!(
        doc.tasks[0].most_likely_days, 2.0,
        "48 elapsed hours are 2 days"
    );
}
