//! Each template section's content, from the figures one generation run computed (the content
//! types are `app::sections`); what the generator writes into the report's sections.

use app::analysis::{EsMetrics, EvMetrics, InsightSet, StatusCheck};
use app::model::TemplateSection;
use app::sections::{
    Appendix, Charts, EvmPoint, ExecutiveSummary, KeyMetrics, MilestoneRow, MilestoneSlip,
    Milestones, MonteCarloSection, RiskRow, Risks, TaskRow,
};
use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::domain::project::ProjectData;
use crate::storage::project_data::GeneratedSection;

/// What one generation run computed, read by every section.
pub(super) struct Figures<'a> {
    pub data: &'a ProjectData,
    pub status_date: NaiveDate,
    pub ev: &'a EvMetrics,
    pub es: &'a EsMetrics,
    pub checks: &'a [StatusCheck],
    pub monte_carlo: &'a MonteCarloSection,
    pub insights: &'a InsightSet,
    pub milestones: &'a [MilestoneRow],
    /// The generated executive summary.
    pub narrative: String,
    /// Earlier months' EVM points and this one's.
    pub history: &'a [EvmPoint],
}

/// The content (JSON) and generated narrative of one template entry; `None` for a section type
/// PMR does not know.
pub(super) fn section(
    entry: &TemplateSection,
    f: &Figures<'_>,
) -> Result<Option<GeneratedSection>, serde_json::Error> {
    let data = f.data;
    let (content, text) = match entry.section_type.as_str() {
        "executive_summary" => (
            json(&ExecutiveSummary {
                status_date: f.status_date.to_string(),
                overall_declared: data.declared[0],
                overall_computed: f.checks.first().and_then(|c| c.computed),
                justification: data.justification.clone(),
                checks: f.checks.to_vec(),
                generated_narrative: f.narrative.clone(),
            })?,
            f.narrative.clone(),
        ),
        "key_metrics" => (
            json(&KeyMetrics {
                status_date: f.status_date.to_string(),
                currency: data.currency.clone(),
                ev: f.ev.clone(),
                es: f.es.clone(),
                forecast_finish: forecast_finish(data, f.es),
                target_finish: data.target_finish.to_string(),
                checks: f.checks.to_vec(),
            })?,
            String::new(),
        ),
        "ai_insights" => (json(f.insights)?, String::new()),
        "monte_carlo" => (json(f.monte_carlo)?, String::new()),
        "charts" => (
            json(&Charts {
                currency: data.currency.clone(),
                evm_history: f.history.to_vec(),
                milestone_slip: milestone_slip(data),
            })?,
            String::new(),
        ),
        "milestones" => (
            json(&Milestones {
                rows: f.milestones.to_vec(),
            })?,
            String::new(),
        ),
        "risks" => (json(&risk_register(data))?, String::new()),
        "appendix" => (json(&appendix(data))?, String::new()),
        _ => return Ok(None),
    };
    Ok(Some(GeneratedSection {
        key: entry.key.clone(),
        section_type: entry.section_type.clone(),
        content,
        narrative: text,
    }))
}

/// The independent estimate of the finish date (earned schedule's IEAC(t)), as a calendar date.
fn forecast_finish(data: &ProjectData, es: &EsMetrics) -> Option<String> {
    es.ieac_t
        .map(|d| (data.start + Duration::days(d.round() as i64 - 1)).to_string())
}

fn json<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    serde_json::to_string(value)
}

/// A stable seed per project and period: regenerating a report gives the same simulation.
pub(super) fn milestone_rows(data: &ProjectData) -> Vec<MilestoneRow> {
    data.milestones
        .iter()
        .map(|m| MilestoneRow {
            name: m.name.clone(),
            baseline: m.baseline.to_string(),
            forecast: m.forecast.to_string(),
            actual: m.actual.map(|d| d.to_string()),
            slip_days: (m.actual.unwrap_or(m.forecast) - m.baseline).num_days(),
        })
        .collect()
}

fn milestone_slip(data: &ProjectData) -> Vec<MilestoneSlip> {
    data.milestones
        .iter()
        .map(|m| MilestoneSlip {
            milestone: m.name.clone(),
            baseline: m.baseline.to_string(),
            forecasts: m
                .history
                .iter()
                .map(|(p, d)| (p.clone(), d.to_string()))
                .collect(),
        })
        .collect()
}

/// Band of a probability (0–1) or of a cost impact as a share of budget, 0 (low) to 4 (high).
fn band(value: f64, edges: [f64; 4]) -> usize {
    edges.iter().take_while(|&&e| value >= e).count()
}

fn risk_register(data: &ProjectData) -> Risks {
    let mut matrix = [[0u32; 5]; 5];
    let rows: Vec<RiskRow> = data
        .risks
        .iter()
        .map(|r| {
            if r.status != "closed" {
                let p = band(r.probability, [0.2, 0.4, 0.6, 0.8]);
                let i = band(r.cost_impact / data.bac.max(1.0), [0.01, 0.02, 0.04, 0.08]);
                matrix[p][i] += 1;
            }
            RiskRow {
                title: r.title.clone(),
                probability: r.probability,
                cost_impact: r.cost_impact,
                schedule_impact_days: r.schedule_impact_days,
                exposure: r.probability * r.cost_impact,
                owner: r.owner.clone(),
                mitigation: r.mitigation.clone(),
                status: r.status.clone(),
                affected_tasks: r
                    .affected
                    .iter()
                    .filter_map(|&i| data.tasks.get(i))
                    .map(|t| format!("{} {}", t.wbs, t.name))
                    .collect(),
            }
        })
        .collect();
    let total_exposure = rows
        .iter()
        .filter(|r| r.status != "closed")
        .map(|r| r.exposure)
        .sum();
    Risks {
        currency: data.currency.clone(),
        total_exposure,
        rows,
        matrix,
    }
}

fn appendix(data: &ProjectData) -> Appendix {
    Appendix {
        currency: data.currency.clone(),
        tasks: data
            .tasks
            .iter()
            .map(|t| TaskRow {
                wbs: t.wbs.clone(),
                name: t.name.clone(),
                owner: t.owner.clone(),
                planned_start: t.planned_start.to_string(),
                planned_finish: t.planned_finish.to_string(),
                budgeted_cost: t.budgeted_cost,
                actual_cost: t.actual_cost,
                percent_complete: t.percent_complete,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cut_at_their_edges() {
        let edges = [0.2, 0.4, 0.6, 0.8];
        assert_eq!(band(0.0, edges), 0);
        assert_eq!(band(0.2, edges), 1);
        assert_eq!(band(0.79, edges), 3);
        assert_eq!(band(1.0, edges), 4);
    }
}
