use super::*;
use crate::sections::{MilestoneRow, RiskRow};

fn milestone(name: &str, forecast: &str, actual: Option<&str>) -> MilestoneRow {
    MilestoneRow {
        name: name.into(),
        baseline: "2027-01-15".into(),
        forecast: forecast.into(),
        actual: actual.map(str::to_string),
        slip_days: 0,
    }
}

fn risk(title: &str, status: &str) -> RiskRow {
    RiskRow {
        title: title.into(),
        probability: 0.3,
        cost_impact: 1_000.0,
        schedule_impact_days: 5.0,
        exposure: 300.0,
        owner: String::new(),
        mitigation: String::new(),
        status: status.into(),
        affected_tasks: Vec::new(),
    }
}

fn risks(rows: Vec<RiskRow>) -> Option<Risks> {
    Some(Risks {
        currency: "EUR".into(),
        total_exposure: 0.0,
        rows,
        matrix: [[0; 5]; 5],
    })
}

#[test]
fn milestones_that_moved_or_were_reached_are_named() {
    let before = Snapshot {
        milestones: Some(Milestones {
            rows: vec![
                milestone("Design approved", "2027-01-15", None),
                milestone("Frame up", "2027-03-01", None),
                milestone("Roof on", "2027-05-01", None),
                milestone("Handover", "2027-09-01", None),
            ],
        }),
        ..Snapshot::default()
    };
    let now = Snapshot {
        milestones: Some(Milestones {
            rows: vec![
                milestone("Design approved", "2027-01-10", Some("2027-01-10")),
                milestone("Frame up", "2027-03-15", None),
                milestone("Roof on", "2027-04-25", None),
                milestone("Handover", "2027-09-01", None),
            ],
        }),
        ..Snapshot::default()
    };
    let changes = compare(7, "2026-10", &before, &now);
    assert_eq!(changes.reached, vec!["Design approved"]);
    assert_eq!(changes.slipped.len(), 1);
    assert_eq!(
        (changes.slipped[0].name.as_str(), changes.slipped[0].days),
        ("Frame up", 14)
    );
    assert_eq!(
        (
            changes.pulled_in[0].name.as_str(),
            changes.pulled_in[0].days
        ),
        ("Roof on", -6)
    );
    assert!(!changes.is_quiet());
}

#[test]
fn new_and_closed_risks_are_found_by_title() {
    let before = Snapshot {
        risks: risks(vec![
            risk("Steel price", "open"),
            risk("Permit delay", "mitigating"),
            risk("Crane hire", "open"),
            risk("Old and closed", "closed"),
        ]),
        ..Snapshot::default()
    };
    let now = Snapshot {
        risks: risks(vec![
            risk("Steel price", "open"),
            risk("Permit delay", "closed"),
            risk("Flooding", "open"),
            risk("Old and closed", "closed"),
        ]),
        ..Snapshot::default()
    };
    let changes = compare(7, "2026-10", &before, &now);
    assert_eq!(changes.new_risks, vec!["Flooding"]);
    assert_eq!(changes.closed_risks, vec!["Permit delay", "Crane hire"]);
}

#[test]
fn a_month_without_moves_is_quiet() {
    let same = Snapshot {
        milestones: Some(Milestones {
            rows: vec![milestone("Frame up", "2027-03-01", None)],
        }),
        risks: risks(vec![risk("Steel price", "open")]),
        ..Snapshot::default()
    };
    assert!(compare(7, "2026-10", &same, &same).is_quiet());
}

#[test]
fn figures_say_which_way_is_good_news() {
    let cpi = figure("CPI", Some(0.91), Some(0.95), true, 0.005, index);
    assert_eq!(
        (cpi.before.as_str(), cpi.now.as_str(), cpi.better),
        ("0.91", "0.95", Some(true))
    );
    let eac = figure("EAC", Some(100.0), Some(120.0), false, 0.5, index);
    assert_eq!(eac.better, Some(false));
    let flat = figure("SPI", Some(0.950), Some(0.952), true, 0.005, index);
    assert_eq!(flat.better, None);
    let later = date_figure("P80", Some("2027-07-16"), Some("2027-08-02"));
    assert_eq!(
        (later.now.as_str(), later.better),
        ("2 Aug 2027", Some(false))
    );
}
