//! Report generation end to end: the demo seed generates every month's report through the real
//! pipeline (earned value, status checks, Monte Carlo, insights), and regenerating from the store's
//! data reproduces the latest report's figures.

use app::analysis::{InsightCategory, InsightSet, Mismatch, Severity};
use app::model::Rag;
use app::sections::{Charts, ExecutiveSummary, KeyMetrics, MonteCarloSection, Risks};
use server::insights::rules::RulesEngine;
use server::reports::generate::{generate, GenerationParams};
use server::seed::seed_if_empty;
use server::storage::Store;

fn params() -> GenerationParams {
    GenerationParams {
        iterations: 500,
        ..GenerationParams::default()
    }
}

async fn seeded() -> (test_support::SqliteDb, Store) {
    let db = test_support::SqliteDb::new();
    let store = Store::open(&db.url()).await.expect("open store");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
    seed_if_empty(&store, today, params()).await.expect("seed");
    (db, store)
}

async fn content<T: serde::de::DeserializeOwned>(store: &Store, report_id: i64, key: &str) -> T {
    let json = store
        .section_content(report_id, key)
        .await
        .expect("query")
        .expect("section exists");
    serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("{key} content does not parse ({e}): {json}"))
}

#[tokio::test]
async fn the_watermelon_project_is_caught() {
    let (_db, store) = seeded().await;
    let portfolio = store.portfolio().await.expect("portfolio");
    let erp = portfolio
        .projects
        .iter()
        .find(|p| p.code == "ERP")
        .expect("ERP");
    let latest = erp.reports[0].id;
    let metrics: KeyMetrics = content(&store, latest, "key-metrics").await;
    let cpi = metrics.ev.cpi.expect("cost booked");
    assert!(cpi < 0.85, "ERP CPI {cpi}");
    assert!(metrics.es.spi_t.expect("spi(t)") < 0.85);
    let summary: ExecutiveSummary = content(&store, latest, "executive-summary").await;
    assert_eq!(summary.overall_declared, Rag::Green);
    assert_eq!(summary.overall_computed, Some(Rag::Red));
    assert!(summary
        .checks
        .iter()
        .any(|c| c.mismatch == Mismatch::Watermelon));
    assert!(summary
        .generated_narrative
        .contains("declared overall status is green, but the figures say red"));
    let insights: InsightSet = content(&store, latest, "ai-insights").await;
    assert_eq!(insights.engine, "rules-v2");
    let first = &insights.insights[0];
    assert_eq!(first.severity, Severity::Critical);
    assert!(insights
        .insights
        .iter()
        .any(|i| i.category == InsightCategory::DataQuality
            && i.title == "Declared green, measured red"));
    assert!(insights
        .insights
        .iter()
        .all(|i| !i.evidence.is_empty() && !i.action.is_empty()));
}

/// CDW's register keeps risks open on work that is finished: the simulation leaves them out, and
/// the insights say so by name, as a data-quality finding, and leave them out of the exposure.
#[tokio::test]
async fn risks_on_finished_work_are_flagged_and_left_out() {
    let (_db, store) = seeded().await;
    let portfolio = store.portfolio().await.expect("portfolio");
    let cdw = portfolio
        .projects
        .iter()
        .find(|p| p.code == "CDW")
        .expect("CDW");
    let latest = cdw.reports[0].id;
    let id = store.project_id("CDW").await.expect("id").expect("CDW");
    let data = store.project_plan(id).await.expect("read").expect("plan");
    let spent: Vec<&str> = data
        .risks
        .iter()
        .filter(|r| r.status != "closed" && !r.affected.is_empty())
        .filter(|r| {
            r.affected
                .iter()
                .all(|&t| data.tasks[t].percent_complete >= 100.0)
        })
        .map(|r| r.title.as_str())
        .collect();
    assert!(!spent.is_empty(), "the demo has risks on finished work");
    let insights: InsightSet = content(&store, latest, "ai-insights").await;
    let finding = insights
        .insights
        .iter()
        .find(|i| i.title.contains("only finished work"))
        .expect("a finding about them");
    assert_eq!(finding.category, InsightCategory::DataQuality);
    assert_eq!(finding.evidence.len(), spent.len());
    for title in &spent {
        assert!(
            finding
                .evidence
                .iter()
                .any(|e| e.contains(title) && e.contains("every task it affects is finished")),
            "{title}: {:?}",
            finding.evidence
        );
    }
    assert!(finding
        .action
        .contains("point it at the work it still threatens"));
    if let Some(exposure) = insights
        .insights
        .iter()
        .find(|i| i.title.starts_with("Open risks carry"))
    {
        assert!(
            spent
                .iter()
                .all(|t| !exposure.evidence.iter().any(|e| e.contains(t))),
            "spent risks are not in the exposure: {:?}",
            exposure.evidence
        );
    }
}

#[tokio::test]
async fn the_healthy_project_reads_healthy() {
    let (_db, store) = seeded().await;
    let portfolio = store.portfolio().await.expect("portfolio");
    let hbr = portfolio
        .projects
        .iter()
        .find(|p| p.code == "HBR")
        .expect("HBR");
    let summary: ExecutiveSummary = content(&store, hbr.reports[0].id, "executive-summary").await;
    assert_eq!(summary.overall_computed, Some(Rag::Green));
    assert!(summary.checks.iter().all(|c| c.mismatch == Mismatch::None));
    let insights: InsightSet = content(&store, hbr.reports[0].id, "ai-insights").await;
    assert!(
        insights
            .insights
            .iter()
            .all(|i| i.severity != Severity::Critical),
        "{:#?}",
        insights.insights
    );
}

#[tokio::test]
async fn each_month_has_its_own_figures_and_history() {
    let (_db, store) = seeded().await;
    let portfolio = store.portfolio().await.expect("portfolio");
    let cpr = portfolio
        .projects
        .iter()
        .find(|p| p.code == "CPR")
        .expect("CPR");
    let (latest, oldest) = (cpr.reports[0].id, cpr.reports[5].id);
    let now: KeyMetrics = content(&store, latest, "key-metrics").await;
    let then: KeyMetrics = content(&store, oldest, "key-metrics").await;
    assert!(
        now.ev.ev > then.ev.ev,
        "work was earned between May and October"
    );
    assert!(now.status_date > then.status_date);
    let charts: Charts = content(&store, latest, "charts").await;
    assert_eq!(charts.evm_history.len(), 6, "six months of PV/EV/AC");
    assert!(charts
        .evm_history
        .windows(2)
        .all(|w| w[0].ev <= w[1].ev && w[0].period < w[1].period));
    assert!(charts.milestone_slip.iter().all(|m| m.forecasts.len() == 6));
    let first_charts: Charts = content(&store, oldest, "charts").await;
    assert_eq!(first_charts.evm_history.len(), 1);
    let risks: Risks = content(&store, latest, "risks").await;
    let counted: u32 = risks.matrix.iter().flatten().sum();
    assert_eq!(
        counted as usize,
        risks.rows.iter().filter(|r| r.status != "closed").count()
    );
}

#[tokio::test]
async fn monte_carlo_results_are_consistent() {
    let (_db, store) = seeded().await;
    let portfolio = store.portfolio().await.expect("portfolio");
    for project in &portfolio.projects {
        let mc: MonteCarloSection = content(&store, project.reports[0].id, "monte-carlo").await;
        let r = &mc.result;
        assert_eq!(r.iterations, 500);
        assert!(r.finish_days.p10 <= r.finish_days.p50 && r.finish_days.p50 <= r.finish_days.p80);
        assert!(r.finish_days.p80 <= r.finish_days.p90 && r.finish_days.p90 <= r.finish_days.p95);
        assert!(r.joint_confidence <= r.probability_on_time.min(r.probability_on_budget) + 1e-9);
        assert!(mc.p50_finish <= mc.p80_finish && mc.p80_finish <= mc.p90_finish);
        assert!(
            !r.critical_tasks.is_empty() && !r.sensitive_tasks.is_empty(),
            "{}",
            project.code
        );
    }
}

#[tokio::test]
async fn regenerating_from_the_store_reproduces_the_latest_report() {
    let (_db, store) = seeded().await;
    let portfolio = store.portfolio().await.expect("portfolio");
    let cdw = portfolio
        .projects
        .iter()
        .find(|p| p.code == "CDW")
        .expect("CDW");
    let latest = &cdw.reports[0];
    let stored: KeyMetrics = content(&store, latest.id, "key-metrics").await;
    let data = store
        .project_data(cdw.id, &latest.period)
        .await
        .expect("query")
        .expect("project");
    assert_eq!(data.history.len(), 5, "the five earlier months");
    let template = store
        .template_sections(1)
        .await
        .expect("query")
        .expect("template");
    let status = chrono::NaiveDate::parse_from_str(&stored.status_date, "%Y-%m-%d").expect("date");
    let again = generate(
        &data,
        &latest.period,
        status,
        &template,
        params(),
        &RulesEngine,
    )
    .await
    .expect("generate");
    let key_metrics = again
        .sections
        .iter()
        .find(|s| s.key == "key-metrics")
        .expect("section");
    let fresh: KeyMetrics = serde_json::from_str(&key_metrics.content).expect("json");
    assert_eq!(fresh.ev, stored.ev);
    let mc = again
        .sections
        .iter()
        .find(|s| s.key == "monte-carlo")
        .expect("section");
    let fresh_mc: MonteCarloSection = serde_json::from_str(&mc.content).expect("json");
    let stored_mc: MonteCarloSection = content(&store, latest.id, "monte-carlo").await;
    assert_eq!(
        fresh_mc.result.finish_days, stored_mc.result.finish_days,
        "same seed, same simulation"
    );
    assert!(again.timings.total_ms >= again.timings.monte_carlo_ms);
}

#[tokio::test]
async fn copies_of_the_demo_are_projects_of_their_own() {
    let db = test_support::SqliteDb::new();
    let store = Store::open(&db.url()).await.expect("open store");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
    let outcome = server::seed::seed_copies_if_empty(&store, today, params(), 2)
        .await
        .expect("seed");
    assert!(
        matches!(
            outcome,
            server::seed::SeedOutcome::Seeded {
                projects: 8,
                reports: 48,
                ..
            }
        ),
        "{outcome:?}"
    );
    let portfolio = store.portfolio().await.expect("portfolio");
    let mut codes: Vec<&str> = portfolio.projects.iter().map(|p| p.code.as_str()).collect();
    codes.sort_unstable();
    assert_eq!(
        codes,
        ["CDW", "CDW-2", "CPR", "CPR-2", "ERP", "ERP-2", "HBR", "HBR-2"]
    );
    let copy = portfolio
        .projects
        .iter()
        .find(|p| p.code == "CDW-2")
        .expect("copy");
    assert!(copy.name.ends_with("(copy 2)"), "{}", copy.name);
    assert_eq!(copy.reports.len(), 6);
}
