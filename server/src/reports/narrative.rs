//! The generated executive summary: a few plain sentences built from the figures, which the project
//! manager then edits. Every number in it comes from the report's own sections.

use app::analysis::{EsMetrics, EvMetrics, InsightSet, Mismatch, Severity, StatusCheck};
use app::format::{group_thousands, readable_date};
use app::sections::MonteCarloSection;
use chrono::{Duration, NaiveDate};

use crate::domain::project::ProjectData;

/// The summary paragraph(s) of a report.
pub fn summary_narrative(
    data: &ProjectData,
    status_date: NaiveDate,
    ev: &EvMetrics,
    es: &EsMetrics,
    mc: &MonteCarloSection,
    checks: &[StatusCheck],
    insights: &InsightSet,
) -> String {
    let mut out = format!(
        "At {}, {} is {:.0} % complete against {:.0} % planned, having spent {} of its {} budget.",
        readable_date(&status_date.to_string()),
        data.name,
        ev.percent_complete,
        ev.percent_planned,
        money(data, ev.ac),
        money(data, ev.bac),
    );
    if let Some(cpi) = ev.cpi {
        let verdict = if cpi >= 1.0 { "under" } else { "over" };
        out.push_str(&format!(
            " Cost performance (CPI {cpi:.2}) runs {verdict} plan and points to a final cost of {} ({} {}).",
            money(data, ev.eac),
            if ev.vac >= 0.0 { "saving" } else { "overrun of" },
            money(data, ev.vac.abs()),
        ));
    }
    if let (Some(spi_t), Some(ieac)) = (es.spi_t, es.ieac_t) {
        let forecast = data.start + Duration::days(ieac.round() as i64 - 1);
        out.push_str(&format!(
            " Work is moving at {:.0} % of the planned pace (SPI(t) {spi_t:.2}), which projects a finish on {} against a target of {}.",
            spi_t * 100.0,
            readable_date(&forecast.to_string()),
            readable_date(&data.target_finish.to_string()),
        ));
    }
    out.push_str(&format!(
        "\n\nThe Monte Carlo analysis ({} iterations) gives a {:.0} % chance of finishing by the target date and a {:.0} % chance of staying within budget; the P80 finish is {}.",
        group_thousands(u64::from(mc.result.iterations)),
        mc.result.probability_on_time * 100.0,
        mc.result.probability_on_budget * 100.0,
        readable_date(&mc.p80_finish),
    ));
    if let Some(check) = checks.iter().find(|c| c.mismatch == Mismatch::Watermelon) {
        out.push_str(&format!(
            " The declared {} status is green, but the figures say red ({}).",
            check.dimension.label().to_lowercase(),
            check.basis,
        ));
    }
    let critical = insights
        .insights
        .iter()
        .filter(|i| i.severity == Severity::Critical)
        .count();
    if critical > 0 {
        let (findings, verb) = if critical == 1 {
            ("1 critical finding", "needs")
        } else {
            ("critical findings", "need")
        };
        let findings = if critical == 1 {
            findings.to_string()
        } else {
            format!("{critical} {findings}")
        };
        out.push_str(&format!(
            " {findings} {verb} attention this month; see AI insights."
        ));
    }
    out
}
/// Money for narratives.
fn money(data: &ProjectData, amount: f64) -> String {
    app::format::compact_money(amount, &data.currency)
}
