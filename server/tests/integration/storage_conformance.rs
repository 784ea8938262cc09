//! One storage conformance suite, run unchanged against SQLite (a temporary file) and PostgreSQL (a
//! harness-started cluster, one fresh database per test). Every behaviour the rest of the product
//! relies on is stated once here and must hold on both backends.

use app::analysis::InsightSet;
use app::model::{Priority, Rag, ReportStatus, TemplateSection};
use app::planning::ProjectCalendar;
use app::sections::{Appendix, Milestones, MonteCarloSection, Risks};
use chrono::NaiveDate;
use server::reports::generate::GenerationParams;
use server::seed::{seed_if_empty, SeedOutcome};
use server::storage::project_data::{write_generated, GeneratedSection};
use server::storage::projects::{
    insert_dependency, insert_milestone, insert_milestone_forecast, insert_portfolio,
    insert_project, insert_risk, insert_task, NewMilestone, NewProject, NewRisk, NewTask,
};
use server::storage::reports::{
    insert_report, insert_section, insert_template, NewReport, NewSection,
};
use server::storage::{Store, StoreError, SCHEMA_VERSION};

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = test_support::SqliteDb::new();
                    let store = server::storage::Store::open(&db.url()).await.expect("open sqlite store");
                    super::$name(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let url = test_support::PostgresServer::shared().fresh_database();
                    let store = server::storage::Store::open(&url).await.expect("open postgres store");
                    super::$name(store).await;
                }
            )*
        }
    };
}

conformance!(
    migrations_are_recorded_and_idempotent,
    an_empty_store_has_an_empty_portfolio,
    a_project_reads_back_exactly,
    reports_list_newest_first_with_neighbours,
    a_second_report_for_a_month_is_a_conflict,
    dangling_references_are_refused,
    schema_checks_refuse_impossible_values,
    a_rolled_back_transaction_leaves_nothing,
    hostile_text_is_stored_verbatim,
    missing_reports_have_no_outline,
    the_demo_portfolio_is_seeded_once,
    projects_export_and_import_round_trip,
    accounts_are_bootstrapped_once,
    sessions_expire_and_end,
    accounts_are_managed_with_their_projects,
    api_tokens_reach_their_projects_until_revoked,
    documents_log_compact_and_keep_revisions,
    document_log_stays_whole_under_concurrent_appends_and_folds,
    publishing_freezes_a_report,
    a_correction_supersedes_a_published_report_which_stays_whole,
);

/// Publishing makes a draft final once, with who and when; its document takes no more updates.
async fn publishing_freezes_a_report(store: Store) {
    use server::storage::reports::Publication;
    let (project, template) = basic(&store).await;
    let id = report_as(&store, project, template, "2026-04", ReportStatus::Draft)
        .await
        .expect("report");
    store.seed_doc(id, "c2VlZA==").await.expect("seed");
    store
        .append_doc_update(id, "dTE=", "ana")
        .await
        .expect("a draft takes updates");
    assert_eq!(
        store
            .publish_report(id, "Ana Editor")
            .await
            .expect("publish"),
        Publication::Published
    );
    assert_eq!(
        store.publish_report(id, "Ben").await.expect("publish"),
        Publication::AlreadyFinal
    );
    assert_eq!(
        store
            .publish_report(id + 1000, "Ben")
            .await
            .expect("publish"),
        Publication::Missing
    );
    let outline = store
        .report_outline(id)
        .await
        .expect("read")
        .expect("outline");
    assert_eq!(outline.status, ReportStatus::Final);
    assert_eq!(outline.published_by.as_deref(), Some("Ana Editor"));
    assert!(outline.published_at.is_some());
    assert!(matches!(
        store.append_doc_update(id, "dTI=", "ana").await,
        Err(StoreError::Final(r)) if r == id
    ));
    assert_eq!(store.doc_update_count(id).await.expect("count"), 1);
}

/// A published report is corrected by a new revision of its month: a draft holding what was
/// published, then, once published, the month's current report; the first stays readable, linked,
/// out of the lists, the neighbours and the history.
async fn a_correction_supersedes_a_published_report_which_stays_whole(store: Store) {
    use server::storage::reports::{CorrectionStart, Publication};
    let (project, template) = basic(&store).await;
    let earlier = report_as(&store, project, template, "2026-01", ReportStatus::Final)
        .await
        .expect("January");
    let first = report_as(&store, project, template, "2026-02", ReportStatus::Draft)
        .await
        .expect("February");
    let mut tx = store.begin().await.expect("begin");
    write_generated(
        &mut tx,
        first,
        &[GeneratedSection {
            key: "summary".into(),
            section_type: "executive_summary".into(),
            content: "{\"said\":1}".into(),
            narrative: "As first published.".into(),
        }],
    )
    .await
    .expect("narrative");
    tx.commit().await.expect("commit");
    assert_eq!(
        store.start_correction(first).await.expect("start"),
        CorrectionStart::NotPublished,
        "a draft is edited, not corrected"
    );
    store.publish_report(first, "Ana").await.expect("publish");
    let CorrectionStart::Started(second) = store.start_correction(first).await.expect("start")
    else {
        panic!("a correction starts");
    };
    assert_eq!(
        store.start_correction(first).await.expect("again"),
        CorrectionStart::Drafting(second)
    );
    let draft = store
        .report_document(second)
        .await
        .expect("read")
        .expect("the draft");
    assert_eq!(draft.outline.status, ReportStatus::Draft);
    assert_eq!(
        (draft.outline.revision, draft.outline.corrects),
        (2, Some(first))
    );
    assert_eq!(
        draft.sections.len(),
        crate::storage_conformance::template().len(),
        "every section"
    );
    assert_eq!(
        draft.outline.summary.as_deref(),
        Some("As first published.")
    );
    let original = store
        .report_outline(first)
        .await
        .expect("read")
        .expect("outline");
    assert_eq!(original.correction_draft, Some(second));
    assert_eq!(original.superseded_by, None);
    // While it is drafted, the published report is the month's.
    let february = |portfolio: &app::model::Portfolio| {
        portfolio.projects[0]
            .reports
            .iter()
            .filter(|r| r.period == "2026-02")
            .map(|r| (r.id, r.revision))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        february(&store.portfolio().await.expect("portfolio")),
        [(first, 1)]
    );

    assert_eq!(
        store.publish_report(second, "Ben").await.expect("publish"),
        Publication::Published
    );
    let original = store
        .report_outline(first)
        .await
        .expect("read")
        .expect("outline");
    assert_eq!(original.superseded_by, Some(second));
    assert_eq!(original.correction_draft, None);
    assert_eq!(original.status, ReportStatus::Final);
    assert_eq!(
        original.summary.as_deref(),
        Some("As first published."),
        "unchanged"
    );
    assert_eq!(
        february(&store.portfolio().await.expect("portfolio")),
        [(second, 2)]
    );
    let corrected = store
        .report_outline(second)
        .await
        .expect("read")
        .expect("outline");
    assert_eq!(corrected.previous_report_id, Some(earlier));
    let january = store
        .report_outline(earlier)
        .await
        .expect("read")
        .expect("outline");
    assert_eq!(
        january.next_report_id,
        Some(second),
        "the month's current report"
    );
    assert_eq!(
        store.start_correction(first).await.expect("superseded"),
        CorrectionStart::Superseded(second)
    );
    let CorrectionStart::Started(third) = store.start_correction(second).await.expect("start")
    else {
        panic!("a correction of the correction starts");
    };
    assert_eq!(
        store
            .report_outline(third)
            .await
            .expect("read")
            .map(|o| o.revision),
        Some(3)
    );
    assert_eq!(
        store.start_correction(third + 1000).await.expect("missing"),
        CorrectionStart::Missing
    );
}

/// Six writers append while two folders fold and a reader follows the log, all at once: numbers
/// have no gaps and no repeats, a reader never sees a gap (whatever folds in between), and at the
/// end the snapshot and the log hold every update that was appended. A "fold" here joins the
/// texts, so what a snapshot holds can be read back.
async fn document_log_stays_whole_under_concurrent_appends_and_folds(store: Store) {
    const WRITERS: usize = 6;
    const EACH: usize = 40;
    let (project, template) = basic(&store).await;
    let id = report_as(&store, project, template, "2026-03", ReportStatus::Draft)
        .await
        .expect("report");
    store.seed_doc(id, "seed").await.expect("seed");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers = (0..WRITERS).map(|w| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            for i in 0..EACH {
                let seq = store
                    .append_doc_update(id, &format!("w{w}-{i}"), "ana")
                    .await
                    .expect("append");
                mine.push(seq);
            }
            mine
        })
    });
    let writers: Vec<_> = writers.collect();
    let folders: Vec<_> = (0..2)
        .map(|_| {
            let (store, done) = (store.clone(), done.clone());
            tokio::spawn(async move {
                let mut folds = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let log = store.doc_since(id, -1).await.expect("read");
                    if let Some(&(to, _)) = log.updates.last() {
                        let mut parts = vec![log.snapshot.clone().expect("snapshot")];
                        parts.extend(log.updates.iter().map(|(_, d)| d.clone()));
                        if store
                            .fold_doc(id, &parts.join("|"), log.folded, to)
                            .await
                            .expect("fold")
                        {
                            folds += 1;
                        }
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
                }
                folds
            })
        })
        .collect();
    let reader = {
        let (store, done) = (store.clone(), done.clone());
        tokio::spawn(async move {
            let mut at = -1;
            let mut seen = std::collections::HashSet::new();
            loop {
                let finished = done.load(std::sync::atomic::Ordering::Relaxed);
                let log = store.doc_since(id, at).await.expect("read");
                let first = match &log.snapshot {
                    Some(snapshot) => {
                        seen.extend(snapshot.split('|').map(str::to_string));
                        log.folded + 1
                    }
                    None => at + 1,
                };
                for ((seq, data), expected) in log.updates.iter().zip(first..) {
                    assert_eq!(*seq, expected, "a gap after {at}: {:?}", log.updates);
                    seen.insert(data.clone());
                }
                at = log.head(at);
                if finished {
                    return seen;
                }
            }
        })
    };
    let mut numbers = Vec::new();
    for w in writers {
        numbers.extend(w.await.expect("writer"));
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let folds: usize = futures_util::future::join_all(folders)
        .await
        .into_iter()
        .map(|f| f.expect("folder"))
        .sum();
    let seen = reader.await.expect("reader");
    numbers.sort_unstable();
    let all = (WRITERS * EACH) as i64;
    assert_eq!(
        numbers,
        (1..=all).collect::<Vec<_>>(),
        "1..={all}, each once"
    );
    assert!(folds > 0, "the folders folded while the writers wrote");
    let log = store.doc_since(id, -1).await.expect("read");
    let mut stored: std::collections::HashSet<String> = log
        .snapshot
        .expect("snapshot")
        .split('|')
        .map(str::to_string)
        .collect();
    stored.extend(log.updates.into_iter().map(|(_, d)| d));
    for w in 0..WRITERS {
        for i in 0..EACH {
            let data = format!("w{w}-{i}");
            assert!(stored.contains(&data), "{data} is not in the store");
            assert!(seen.contains(&data), "the reader never saw {data}");
        }
    }
}

async fn documents_log_compact_and_keep_revisions(store: Store) {
    let (project, template) = basic(&store).await;
    let id = report_as(&store, project, template, "2026-03", ReportStatus::Draft)
        .await
        .expect("report");
    assert!(!store.doc_exists(id).await.expect("exists"));
    store.seed_doc(id, "c2VlZA==").await.expect("seed");
    store
        .seed_doc(id, "b3RoZXI=")
        .await
        .expect("a second seed is ignored");
    assert!(store.doc_exists(id).await.expect("exists"));
    let first = store
        .append_doc_update(id, "dTE=", "ana")
        .await
        .expect("append");
    let second = store
        .append_doc_update(id, "dTI=", "ben")
        .await
        .expect("append");
    assert_eq!((first, second), (1, 2), "numbered per report from 1");
    let log = store.doc_since(id, -1).await.expect("log");
    assert_eq!(log.snapshot.as_deref(), Some("c2VlZA=="));
    assert_eq!(log.folded, 0);
    assert_eq!(
        log.updates,
        vec![(first, "dTE=".into()), (second, "dTI=".into())]
    );
    let after_first = store.doc_since(id, first).await.expect("log");
    assert_eq!(after_first.snapshot, None, "a reader past the snapshot");
    assert_eq!(after_first.updates, vec![(second, "dTI=".into())]);

    assert!(store
        .fold_doc(id, "Ym90aA==", 0, first)
        .await
        .expect("fold"));
    let log = store.doc_since(id, -1).await.expect("log");
    assert_eq!(
        (log.snapshot.as_deref(), log.folded),
        (Some("Ym90aA=="), first)
    );
    assert_eq!(log.updates, vec![(second, "dTI=".into())]);
    // A reader the fold has passed gets the snapshot again.
    let behind = store.doc_since(id, 0).await.expect("log");
    assert_eq!(behind.snapshot.as_deref(), Some("Ym90aA=="));
    assert_eq!(behind.head(0), second);
    // A fold from a snapshot that is no longer the store's changes nothing.
    assert!(!store.fold_doc(id, "b2xk", 0, second).await.expect("fold"));
    assert_eq!(
        store
            .doc_since(id, -1)
            .await
            .expect("log")
            .snapshot
            .as_deref(),
        Some("Ym90aA==")
    );
    assert_eq!(store.doc_update_count(id).await.expect("count"), 1);
    // Folding everything, then appending: the next number follows the last, never reusing one
    // (SQLite reuses the highest row id once it is deleted).
    assert!(store
        .fold_doc(id, "YWxs", first, second)
        .await
        .expect("fold"));
    assert_eq!(store.doc_update_count(id).await.expect("count"), 0);
    let third = store
        .append_doc_update(id, "dTM=", "ana")
        .await
        .expect("append");
    assert_eq!(third, 3);
    assert_eq!(
        store.doc_since(id, second).await.expect("log").updates,
        vec![(third, "dTM=".into())]
    );
    assert_eq!(store.doc_head(id).await.expect("head"), 3);

    let key = "summary".to_string();
    let changed = store
        .write_document(
            id,
            3,
            &[(key.clone(), "Edited 'text' — ünïcode".into())],
            None,
        )
        .await
        .expect("write");
    assert!(changed);
    let unchanged = store
        .write_document(
            id,
            3,
            &[(key.clone(), "Edited 'text' — ünïcode".into())],
            None,
        )
        .await
        .expect("write");
    assert!(!unchanged, "the same text bumps nothing");
    let older = store
        .write_document(id, 2, &[(key.clone(), "Older words".into())], None)
        .await
        .expect("write");
    assert!(
        !older,
        "texts from an earlier update are not written over later ones"
    );

    let mut content = app::editing::RevisionContent::default();
    content.narratives.insert(key.clone(), "v1".into());
    let one = store
        .create_revision(id, "First", "ana", "c25hcA==", &content)
        .await
        .expect("rev")
        .expect("room");
    let two = store
        .create_revision(id, "Second", "ben", "c25hcA==", &content)
        .await
        .expect("rev")
        .expect("room");
    assert_eq!((one.number, two.number), (1, 2));
    let list = store.revisions(id).await.expect("list");
    assert_eq!(
        list.iter().map(|r| r.number).collect::<Vec<_>>(),
        vec![2, 1]
    );
    let (rev, back) = store.revision(id, 1).await.expect("read").expect("exists");
    assert_eq!((rev.name.as_str(), &back), ("First", &content));
    assert!(store.revision(id, 9).await.expect("read").is_none());
    // A published report takes no more revisions.
    store.publish_report(id, "ana").await.expect("published");
    let late = store
        .create_revision(id, "Late", "ana", "c25hcA==", &content)
        .await;
    assert!(
        matches!(late, Err(StoreError::Final(r)) if r == id),
        "{late:?}"
    );
    assert_eq!(store.revisions(id).await.expect("list").len(), 2);
}

fn template() -> Vec<TemplateSection> {
    [
        ("summary", "executive_summary", "Summary", Priority::High),
        ("risks", "risks", "Risks", Priority::Low),
    ]
    .into_iter()
    .map(|(key, t, title, priority)| TemplateSection {
        key: key.into(),
        section_type: t.into(),
        title: title.into(),
        priority,
    })
    .collect()
}

fn project(portfolio_id: i64, code: &str, name: &str) -> NewProject {
    NewProject {
        portfolio_id,
        code: code.into(),
        name: name.into(),
        manager: "Ana Lopes".into(),
        currency: "EUR".into(),
        budget_at_completion: 1_234_567.89,
        start_date: "2026-01-05".into(),
        target_finish: "2027-03-31".into(),
        declared: [Rag::Green, Rag::Amber, Rag::Red, Rag::Green, Rag::Amber],
        status_justification: "Steady.".into(),
        calendar: ProjectCalendar {
            working_days: ["mon", "tue", "wed", "thu", "sat"]
                .map(String::from)
                .to_vec(),
            holidays: vec!["2026-04-03".into(), "2026-12-25".into()],
            reporting_day: 20,
        },
    }
}

fn task(project_id: i64, wbs: &str) -> NewTask {
    NewTask {
        project_id,
        wbs: wbs.into(),
        name: format!("Task {wbs}"),
        owner: "K. Lindqvist".into(),
        optimistic_days: 3.0,
        most_likely_days: 5.5,
        pessimistic_days: 9.0,
        planned_start: "2026-01-05".into(),
        planned_finish: "2026-01-12".into(),
        budgeted_cost: 10_000.0,
        actual_cost: 2_500.25,
        percent_complete: 30.0,
        actual_start: Some("2026-01-06".into()),
        actual_finish: None,
        remaining_days: Some(3.5),
        estimated_by_rule: true,
        constraint: Some(server::transfer::TaskConstraint {
            kind: server::transfer::ConstraintKind::FinishNoLaterThan,
            date: Some("2026-01-16".into()),
        }),
    }
}

async fn report(
    store: &Store,
    project_id: i64,
    template_id: i64,
    period: &str,
) -> Result<i64, StoreError> {
    report_as(store, project_id, template_id, period, ReportStatus::Final).await
}

async fn report_as(
    store: &Store,
    project_id: i64,
    template_id: i64,
    period: &str,
    status: ReportStatus,
) -> Result<i64, StoreError> {
    let mut tx = store.begin().await?;
    let report = NewReport {
        project_id,
        period: period.into(),
        template_id,
        status,
        title: format!("Report {period}"),
    };
    let id = insert_report(&mut tx, &report).await?;
    for (position, template) in template().into_iter().enumerate() {
        let section = NewSection {
            report_id: id,
            position: position as i64,
            template,
            content: "{}".into(),
            narrative: String::new(),
        };
        insert_section(&mut tx, &section).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// A portfolio with one project and a template; returns (project id, template id).
async fn basic(store: &Store) -> (i64, i64) {
    let mut tx = store.begin().await.expect("begin");
    let portfolio = insert_portfolio(&mut tx, "Main").await.expect("portfolio");
    let project = insert_project(&mut tx, &project(portfolio, "HBR", "Harbor Bridge"))
        .await
        .expect("project");
    let template = insert_template(&mut tx, "Standard", &template())
        .await
        .expect("template");
    tx.commit().await.expect("commit");
    (project, template)
}

async fn migrations_are_recorded_and_idempotent(store: Store) {
    assert_eq!(
        store.schema_version().await.expect("version"),
        SCHEMA_VERSION
    );
    store
        .migrate()
        .await
        .expect("second migration run is a no-op");
    assert_eq!(
        store.schema_version().await.expect("version"),
        SCHEMA_VERSION
    );
    store.ping().await.expect("ping");
}

async fn an_empty_store_has_an_empty_portfolio(store: Store) {
    assert_eq!(store.project_count().await.expect("count"), 0);
    let portfolio = store.portfolio().await.expect("portfolio");
    assert_eq!(portfolio.name, "Portfolio");
    assert!(portfolio.projects.is_empty());
}

async fn a_project_reads_back_exactly(store: Store) {
    let (project_id, template_id) = basic(&store).await;
    let mut tx = store.begin().await.expect("begin");
    let a = insert_task(&mut tx, &task(project_id, "1.1"))
        .await
        .expect("task a");
    let b = insert_task(&mut tx, &task(project_id, "1.2"))
        .await
        .expect("task b");
    insert_dependency(&mut tx, b, a).await.expect("dependency");
    let milestone = NewMilestone {
        project_id,
        name: "Design complete".into(),
        baseline_date: "2026-03-01".into(),
        forecast_date: "2026-03-15".into(),
        actual_date: None,
    };
    let m = insert_milestone(&mut tx, &milestone)
        .await
        .expect("milestone");
    insert_milestone_forecast(&mut tx, m, "2026-02", "2026-03-08")
        .await
        .expect("forecast");
    let risk = NewRisk {
        project_id,
        title: "Storms".into(),
        probability: 0.35,
        cost_impact: 20_000.0,
        schedule_impact_days: 12.5,
        owner: "Site".into(),
        mitigation: "Book windows".into(),
        status: "open".into(),
    };
    insert_risk(&mut tx, &risk, &[a, b]).await.expect("risk");
    tx.commit().await.expect("commit");
    report(&store, project_id, template_id, "2026-02")
        .await
        .expect("report");

    let counts = store.project_counts(project_id).await.expect("counts");
    assert_eq!(
        (
            counts.tasks,
            counts.dependencies,
            counts.milestones,
            counts.risks,
            counts.reports
        ),
        (2, 1, 1, 1, 1)
    );
    let portfolio = store.portfolio().await.expect("portfolio");
    assert_eq!(portfolio.name, "Main");
    let p = &portfolio.projects[0];
    assert_eq!(
        (p.code.as_str(), p.name.as_str(), p.currency.as_str()),
        ("HBR", "Harbor Bridge", "EUR")
    );
    assert_eq!(
        p.budget, 1_234_567.89,
        "money survives the round trip exactly"
    );
    assert_eq!(p.declared_overall, Rag::Green);
    assert_eq!(
        (p.start_date.as_str(), p.target_finish.as_str()),
        ("2026-01-05", "2027-03-31")
    );
    assert_eq!(
        store
            .template_sections(template_id)
            .await
            .expect("template"),
        Some(template())
    );
    // The calendar and the remaining durations come back as written.
    let plan = store
        .project_plan(project_id)
        .await
        .expect("plan")
        .expect("exists");
    assert_eq!(plan.calendar, project(0, "X", "X").calendar);
    assert_eq!(
        plan.tasks
            .iter()
            .map(|t| t.remaining_days)
            .collect::<Vec<_>>(),
        [Some(3.5), Some(3.5)]
    );
    // So do what a scheduler's file told of them: estimates by rule, the date constraint.
    for t in &plan.tasks {
        assert!(t.estimated_by_rule, "{}", t.wbs);
        assert_eq!(
            t.constraint.as_ref().map(|c| c.describe()).as_deref(),
            Some("Finish no later than 2026-01-16"),
            "{}",
            t.wbs
        );
    }
    assert_eq!(
        plan.status_date("2026-02")
            .map(|d| d.to_string())
            .as_deref(),
        Some("2026-02-20")
    );
}

async fn reports_list_newest_first_with_neighbours(store: Store) {
    let (project_id, template_id) = basic(&store).await;
    let jan = report(&store, project_id, template_id, "2026-01")
        .await
        .expect("jan");
    let mar = report(&store, project_id, template_id, "2026-03")
        .await
        .expect("mar");
    let feb = report(&store, project_id, template_id, "2026-02")
        .await
        .expect("feb");
    let portfolio = store.portfolio().await.expect("portfolio");
    let periods: Vec<_> = portfolio.projects[0]
        .reports
        .iter()
        .map(|r| r.period.as_str())
        .collect();
    assert_eq!(periods, ["2026-03", "2026-02", "2026-01"]);
    let outline = store
        .report_outline(feb)
        .await
        .expect("outline")
        .expect("feb exists");
    assert_eq!(
        (outline.previous_report_id, outline.next_report_id),
        (Some(jan), Some(mar))
    );
    assert_eq!(outline.project_code, "HBR");
    assert_eq!(outline.status, ReportStatus::Final);
    let titles: Vec<_> = outline
        .sections
        .iter()
        .map(|s| (s.title.as_str(), s.priority))
        .collect();
    assert_eq!(
        titles,
        [("Summary", Priority::High), ("Risks", Priority::Low)]
    );
    let first = store
        .report_outline(jan)
        .await
        .expect("outline")
        .expect("jan exists");
    assert_eq!(
        (first.previous_report_id, first.next_report_id),
        (None, Some(feb))
    );
}

async fn a_second_report_for_a_month_is_a_conflict(store: Store) {
    let (project_id, template_id) = basic(&store).await;
    report(&store, project_id, template_id, "2026-01")
        .await
        .expect("first");
    let err = report(&store, project_id, template_id, "2026-01")
        .await
        .expect_err("duplicate month");
    assert!(matches!(err, StoreError::Conflict(_)), "got {err:?}");
}

async fn dangling_references_are_refused(store: Store) {
    let mut tx = store.begin().await.expect("begin");
    let err = insert_task(&mut tx, &task(9_999, "1.1"))
        .await
        .expect_err("no such project");
    assert!(
        matches!(err, StoreError::InvalidReference(_)),
        "got {err:?}"
    );
}

async fn schema_checks_refuse_impossible_values(store: Store) {
    let (project_id, _) = basic(&store).await;
    let mut backwards = task(project_id, "9.9");
    backwards.optimistic_days = 10.0;
    let mut tx = store.begin().await.expect("begin");
    let err = insert_task(&mut tx, &backwards)
        .await
        .expect_err("optimistic above most likely");
    assert!(matches!(err, StoreError::Invalid(_)), "got {err:?}");
    drop(tx);
    let mut negative = task(project_id, "9.8");
    negative.budgeted_cost = -1.0;
    let mut tx = store.begin().await.expect("begin");
    let err = insert_task(&mut tx, &negative)
        .await
        .expect_err("negative cost");
    assert!(matches!(err, StoreError::Invalid(_)), "got {err:?}");
    drop(tx);
    let mut negative_days = task(project_id, "9.7");
    negative_days.remaining_days = Some(-2.0);
    let mut tx = store.begin().await.expect("begin");
    let err = insert_task(&mut tx, &negative_days)
        .await
        .expect_err("negative remaining days");
    assert!(matches!(err, StoreError::Invalid(_)), "got {err:?}");
}

async fn a_rolled_back_transaction_leaves_nothing(store: Store) {
    let mut tx = store.begin().await.expect("begin");
    let portfolio = insert_portfolio(&mut tx, "Gone").await.expect("portfolio");
    insert_project(&mut tx, &project(portfolio, "GON", "Gone"))
        .await
        .expect("project");
    tx.rollback().await.expect("rollback");
    assert_eq!(store.project_count().await.expect("count"), 0);
}

async fn hostile_text_is_stored_verbatim(store: Store) {
    let name = "Robert'); DROP TABLE projects;-- <script>alert(1)</script> ✓ “quotes”";
    let mut tx = store.begin().await.expect("begin");
    let portfolio = insert_portfolio(&mut tx, "P").await.expect("portfolio");
    insert_project(&mut tx, &project(portfolio, "X'1", name))
        .await
        .expect("project");
    tx.commit().await.expect("commit");
    let portfolio = store.portfolio().await.expect("portfolio");
    assert_eq!(portfolio.projects[0].name, name);
    assert_eq!(portfolio.projects[0].code, "X'1");
}

async fn missing_reports_have_no_outline(store: Store) {
    assert!(store.report_outline(42).await.expect("query").is_none());
    assert!(store.template_sections(42).await.expect("query").is_none());
}

async fn the_demo_portfolio_is_seeded_once(store: Store) {
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
    let outcome = seed_if_empty(&store, today, quick()).await.expect("seed");
    let SeedOutcome::Seeded {
        projects, reports, ..
    } = outcome
    else {
        panic!("expected a seed, got {outcome:?}")
    };
    assert_eq!((projects, reports), (4, 24));
    assert_eq!(
        seed_if_empty(&store, today, quick())
            .await
            .expect("second seed"),
        SeedOutcome::AlreadyPresent
    );
    let portfolio = store.portfolio().await.expect("portfolio");
    assert_eq!(portfolio.projects.len(), 4);
    for p in &portfolio.projects {
        let counts = store.project_counts(p.id).await.expect("counts");
        assert!(
            (50..=300).contains(&counts.tasks),
            "{} has {} tasks",
            p.code,
            counts.tasks
        );
        assert!(
            counts.dependencies >= counts.tasks - 3,
            "{} is not a connected plan",
            p.code
        );
        assert!(
            counts.milestones >= 5 && counts.risks >= 5,
            "{}: {counts:?}",
            p.code
        );
        let periods: Vec<_> = p.reports.iter().map(|r| r.period.as_str()).collect();
        assert_eq!(
            periods,
            ["2026-10", "2026-09", "2026-08", "2026-07", "2026-06", "2026-05"]
        );
        assert_eq!(p.reports[0].status, ReportStatus::Draft);
    }
    let erp = portfolio
        .projects
        .iter()
        .find(|p| p.code == "ERP")
        .expect("ERP");
    assert_eq!(
        erp.declared_overall,
        Rag::Green,
        "the troubled project claims green"
    );
    let outline = store
        .report_outline(erp.reports[0].id)
        .await
        .expect("outline")
        .expect("exists");
    assert_eq!(outline.sections.len(), 8);
    assert_eq!(outline.sections[0].key, "executive-summary");
    // Each section's `items` (the rows or cards its placeholder draws) is what its content lists.
    for section in &outline.sections {
        let stored = store
            .report_section(outline.id, &section.key)
            .await
            .expect("query")
            .expect("section");
        let content = &stored.content;
        let listed = match section.section_type.as_str() {
            "ai_insights" => content.decode::<InsightSet>().map(|d| d.insights.len()),
            "monte_carlo" => content
                .decode::<MonteCarloSection>()
                .map(|d| d.result.critical_tasks.len()),
            "milestones" => content.decode::<Milestones>().map(|d| d.rows.len()),
            "risks" => content.decode::<Risks>().map(|d| d.rows.len()),
            "appendix" => content.decode::<Appendix>().map(|d| d.tasks.len()),
            _ => Ok(0),
        }
        .expect("content decodes");
        assert_eq!(
            section.items.map(|n| n as usize),
            Some(listed),
            "{}",
            section.key
        );
        if section.priority != Priority::High && section.section_type != "charts" {
            assert!(listed > 0, "{} lists something", section.key);
        }
        if section.section_type == "executive_summary" {
            assert!(!stored.narrative.trim().is_empty());
            assert_eq!(outline.summary.as_deref(), Some(stored.narrative.as_str()));
        }
    }
    // The whole document carries the same outline, read from the same rows.
    let document = store
        .report_document(outline.id)
        .await
        .expect("query")
        .expect("document");
    assert_eq!(document.outline, outline);
    assert_eq!(document.sections.len(), 8);
}

/// Demo seeding with a short Monte Carlo run: the figures matter here, not their precision.
fn quick() -> GenerationParams {
    GenerationParams {
        iterations: 300,
        ..GenerationParams::default()
    }
}

async fn projects_export_and_import_round_trip(store: Store) {
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
    seed_if_empty(&store, today, quick()).await.expect("seed");
    let original = store
        .export_project("CPR")
        .await
        .expect("export")
        .expect("CPR exists");
    assert_eq!(original.tasks.len(), 80);
    let mut copy = original.clone();
    copy.project.code = "CPR2".into();
    let valid = server::transfer::validate(copy.clone()).expect("an export is a valid import");
    let outcome = store.import_project(&valid).await.expect("import");
    assert!(outcome.created);
    assert_eq!(
        (outcome.tasks, outcome.milestones, outcome.risks),
        (80, copy.milestones.len(), copy.risks.len())
    );
    let back = store
        .export_project("CPR2")
        .await
        .expect("export")
        .expect("CPR2 exists");
    assert_eq!(back, copy, "export → import → export is the identity");
    let mut changed = back.clone();
    changed.tasks[0].percent_complete = 55.0;
    changed.tasks[0].actual_finish = None;
    changed.milestones.remove(0);
    changed.project.declared.overall = "red".into();
    let outcome = store
        .import_project(&server::transfer::validate(changed.clone()).expect("valid"))
        .await
        .expect("re-import");
    assert!(!outcome.created);
    assert_eq!(
        store
            .export_project("CPR2")
            .await
            .expect("export")
            .expect("exists"),
        changed
    );
    assert_eq!(
        store
            .export_project("CPR")
            .await
            .expect("export")
            .expect("exists"),
        original,
        "the source is untouched"
    );
}

async fn accounts_are_bootstrapped_once(store: Store) {
    use server::auth::{bootstrap, password};
    let err = bootstrap::ensure_admin(&store, Some("short"))
        .await
        .expect_err("too short");
    assert!(
        err.to_string()
            .starts_with("PMR_ADMIN_PASSWORD: passwords must be 12"),
        "{err}"
    );
    let created = bootstrap::ensure_admin(&store, None)
        .await
        .expect("bootstrap")
        .expect("an admin is created");
    let generated = created
        .generated_password
        .clone()
        .expect("no configured password: one is generated");
    let (admin, hash) = store
        .user_with_hash("admin")
        .await
        .expect("query")
        .expect("admin exists");
    assert_eq!((admin.role, admin.active), (app::model::Role::Admin, true));
    assert!(password::verify(&generated, &hash) && hash.starts_with("$argon2id$"));
    assert!(
        bootstrap::ensure_admin(&store, Some("a different password"))
            .await
            .expect("again")
            .is_none()
    );
    assert_eq!(store.admin_count().await.expect("count"), 1);

    let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
    seed_if_empty(&store, today, quick()).await.expect("seed");
    let demo = bootstrap::ensure_demo_users(&store, Some("demo password 2026"))
        .await
        .expect("demo users");
    let names: Vec<_> = demo
        .iter()
        .map(|c| (c.username.as_str(), c.role, c.generated_password.is_none()))
        .collect();
    assert_eq!(
        names,
        [
            ("vera", app::model::Role::Viewer, true),
            ("eddie", app::model::Role::Editor, true)
        ]
    );
    let (vera, vera_hash) = store
        .user_with_hash("vera")
        .await
        .expect("query")
        .expect("vera");
    assert!(password::verify("demo password 2026", &vera_hash));
    assert_eq!(store.memberships(vera.id).await.expect("members").len(), 2);
    let (eddie, _) = store
        .user_with_hash("eddie")
        .await
        .expect("query")
        .expect("eddie");
    assert_eq!(store.memberships(eddie.id).await.expect("members").len(), 4);
    assert!(bootstrap::ensure_demo_users(&store, None)
        .await
        .expect("again")
        .is_empty());
}

async fn sessions_expire_and_end(store: Store) {
    use server::auth::{bootstrap, session};
    bootstrap::ensure_admin(&store, Some("admin password 2026"))
        .await
        .expect("admin");
    let (admin, _) = store
        .user_with_hash("admin")
        .await
        .expect("query")
        .expect("admin");
    let policy = session::SessionPolicy {
        idle_secs: 100,
        absolute_secs: 1_000,
    };
    let t0 = 1_800_000_000;
    let resolve = |token: String, at: i64| {
        let store = store.clone();
        async move {
            session::resolve(&store, &token, at, policy)
                .await
                .expect("resolve")
        }
    };
    let idle = session::start(&store, &admin, t0, policy)
        .await
        .expect("start");
    let busy = session::start(&store, &admin, t0, policy)
        .await
        .expect("second login");
    assert_ne!(idle, busy, "a new token on every login");

    assert_eq!(resolve(idle.clone(), t0 + 70).await, Some(admin.clone()));
    assert_eq!(
        resolve(idle.clone(), t0 + 160).await,
        Some(admin.clone()),
        "activity at +70 was recorded"
    );
    assert_eq!(resolve(idle.clone(), t0 + 261).await, None, "101 s idle");
    assert_eq!(
        resolve(idle.clone(), t0 + 262).await,
        None,
        "an expired session is gone"
    );

    for at in (90..1_000).step_by(90) {
        assert_eq!(
            resolve(busy.clone(), t0 + at).await,
            Some(admin.clone()),
            "active at +{at}"
        );
    }
    assert_eq!(
        resolve(busy.clone(), t0 + 1_000).await,
        None,
        "absolute lifetime reached"
    );

    let out = session::start(&store, &admin, t0, policy)
        .await
        .expect("start");
    session::end(&store, &out).await.expect("logout");
    assert_eq!(
        resolve(out, t0 + 1).await,
        None,
        "logout removes the session server-side"
    );

    let a = session::start(&store, &admin, t0, policy)
        .await
        .expect("start");
    let b = session::start(&store, &admin, t0, policy)
        .await
        .expect("start");
    assert_eq!(
        store.delete_user_sessions(admin.id).await.expect("delete"),
        2
    );
    assert_eq!(
        (resolve(a, t0 + 1).await, resolve(b, t0 + 1).await),
        (None, None)
    );
    assert_eq!(resolve("forged-token".into(), t0).await, None);
}

fn principal(kind: app::account::PrincipalKind, role: app::model::Role) -> app::account::Principal {
    app::account::Principal {
        kind,
        name: "x".into(),
        display_name: "X".into(),
        role,
    }
}

async fn accounts_are_managed_with_their_projects(store: Store) {
    use app::account::PrincipalKind;
    use app::model::Role;
    use server::storage::users::{AccountUpdate, NewUser};
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
    seed_if_empty(&store, today, quick()).await.expect("seed");
    let projects = store.project_refs().await.expect("projects");
    assert_eq!(
        projects.iter().map(|p| p.code.as_str()).collect::<Vec<_>>(),
        ["CDW", "CPR", "ERP", "HBR"]
    );
    let new = |name: &str, role| NewUser {
        username: name.into(),
        display_name: format!("{name} display"),
        role,
        password_hash: "hash".into(),
    };
    let boss = store
        .create_account(&new("boss", Role::Admin), &[])
        .await
        .expect("admin");
    let hbr = projects.iter().find(|p| p.code == "HBR").expect("HBR").id;
    let cdw = projects.iter().find(|p| p.code == "CDW").expect("CDW").id;
    let id = store
        .create_account(&new("mia", Role::Viewer), &[hbr])
        .await
        .expect("viewer");
    assert!(matches!(
        store.create_account(&new("mia", Role::Editor), &[]).await,
        Err(StoreError::Conflict(_))
    ));
    let mia = principal(PrincipalKind::User(id), Role::Viewer);
    assert_eq!(store.reachable_projects(&mia).await.expect("reach"), [hbr]);
    assert!(!store
        .reachable_projects(&mia)
        .await
        .expect("reach")
        .contains(&cdw));
    let admin = principal(PrincipalKind::User(boss), Role::Admin);
    assert_eq!(
        store.reachable_projects(&admin).await.expect("reach").len(),
        4
    );

    let update = |role, active, projects: Vec<i64>| AccountUpdate {
        may_create_projects: false,
        id,
        display_name: "Mia M.".into(),
        role,
        active,
        projects,
    };
    assert!(store
        .update_account(&update(Role::Editor, true, vec![cdw]))
        .await
        .expect("update"));
    let accounts = store.accounts().await.expect("accounts");
    let row = accounts.iter().find(|a| a.username == "mia").expect("mia");
    assert_eq!(
        (row.display_name.as_str(), row.role, row.projects.clone()),
        ("Mia M.", Role::Editor, vec![cdw])
    );
    assert_eq!(accounts[0].username, "boss", "admins first");
    let token = server::auth::session::start(
        &store,
        &store
            .user_with_hash("mia")
            .await
            .expect("q")
            .expect("mia")
            .0,
        1_800_000_000,
        server::auth::session::SessionPolicy::default(),
    )
    .await
    .expect("session");
    assert!(store
        .update_account(&update(Role::Editor, false, vec![]))
        .await
        .expect("deactivate"));
    assert!(
        store
            .session(&server::auth::token::digest(&token))
            .await
            .expect("q")
            .is_none(),
        "deactivation ends sessions"
    );
    assert!(!store
        .update_account(&AccountUpdate {
            may_create_projects: false,
            id: 999_999,
            ..update(Role::Viewer, true, vec![])
        })
        .await
        .expect("missing"));
    assert!(matches!(
        store
            .update_account(&AccountUpdate {
                may_create_projects: false,
                id: boss,
                display_name: "Boss".into(),
                role: Role::Editor,
                active: true,
                projects: vec![],
            })
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .update_account(&update(Role::Viewer, true, vec![424_242]))
            .await,
        Err(StoreError::InvalidReference(_))
    ));
    assert!(store.set_password(id, "new hash").await.expect("reset"));
    assert_eq!(
        store
            .user_with_hash("mia")
            .await
            .expect("q")
            .expect("mia")
            .1,
        "new hash"
    );
    assert!(!store.set_password(999_999, "x").await.expect("missing"));
}

async fn api_tokens_reach_their_projects_until_revoked(store: Store) {
    use app::account::PrincipalKind;
    use app::model::Role;
    use server::storage::tokens::NewToken;
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
    seed_if_empty(&store, today, quick()).await.expect("seed");
    let hbr = store.project_id("HBR").await.expect("q").expect("HBR");
    let id = store
        .insert_api_token(&NewToken {
            name: "grafana",
            token_hash: "digest-1",
            role: Role::Viewer,
            created_by: None,
            projects: &[hbr],
            now: 1_800_000_000,
            expires_at: None,
            scope: app::access::Scope::Full,
        })
        .await
        .expect("insert");
    let live = store
        .live_api_token("digest-1", 1_800_000_000)
        .await
        .expect("q")
        .expect("live");
    assert_eq!(
        (live.id, live.name.as_str(), live.role),
        (id, "grafana", Role::Viewer)
    );
    assert_eq!(live.last_used_at, None);
    store
        .touch_api_token(id, 1_800_000_100)
        .await
        .expect("touch");
    let token = principal(PrincipalKind::Token(id), Role::Viewer);
    assert_eq!(
        store.reachable_projects(&token).await.expect("reach"),
        [hbr]
    );
    let listed = store.api_tokens().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].projects, [hbr]);
    assert!(store
        .revoke_api_token(id, 1_800_000_200)
        .await
        .expect("revoke"));
    assert!(!store
        .revoke_api_token(id, 1_800_000_300)
        .await
        .expect("again"));
    assert!(store
        .live_api_token("digest-1", 1_800_000_300)
        .await
        .expect("q")
        .is_none());
    assert_eq!(
        store.api_tokens().await.expect("list")[0].revoked_at,
        Some(1_800_000_200)
    );

    // A token with an expiry and the metrics scope, made by an account: it ends at its expiry, and
    // with the account's deactivation.
    let maker = store
        .create_account(
            &server::storage::users::NewUser {
                username: "maker".into(),
                display_name: "Maker".into(),
                role: Role::Editor,
                password_hash: "x".into(),
            },
            &[],
        )
        .await
        .expect("maker");
    let scraper = store
        .insert_api_token(&NewToken {
            name: "prometheus",
            token_hash: "digest-2",
            role: Role::Viewer,
            created_by: Some(maker),
            projects: &[],
            now: 1_800_000_000,
            expires_at: Some(1_800_000_500),
            scope: app::access::Scope::Metrics,
        })
        .await
        .expect("insert");
    let live = store
        .live_api_token("digest-2", 1_800_000_499)
        .await
        .expect("q")
        .expect("live before its expiry");
    assert_eq!(live.scope, app::access::Scope::Metrics);
    assert_eq!(
        (live.expires_at, live.created_by),
        (Some(1_800_000_500), Some(maker))
    );
    assert!(store
        .live_api_token("digest-2", 1_800_000_500)
        .await
        .expect("q")
        .is_none());
    assert!(store
        .live_api_token_by_id(scraper, 1_800_000_499)
        .await
        .expect("q")
        .is_some());
    assert_eq!(store.tokens_created_by(maker).await.expect("q"), [scraper]);
    let listed = store.api_tokens().await.expect("list");
    let shown = listed.iter().find(|t| t.id == scraper).expect("listed");
    assert!(shown.metrics_only);
    assert_eq!(shown.expires_at, Some(1_800_000_500));
    assert!(store
        .update_account(&server::storage::users::AccountUpdate {
            may_create_projects: false,
            id: maker,
            display_name: "Maker".into(),
            role: Role::Editor,
            active: false,
            projects: vec![],
        })
        .await
        .expect("deactivate"));
    assert!(
        store
            .live_api_token("digest-2", 1_800_000_100)
            .await
            .expect("q")
            .is_none(),
        "a token ends with its creator's deactivation"
    );
}
