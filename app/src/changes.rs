//! What changed since last month: a report's figures, status, milestones and risks beside the
//! previous month's report of the same project, so the narrative can say why. Plain functions over
//! the two reports' stored sections; no I/O.

use serde::{Deserialize, Serialize};

use crate::calendar::Date;
use crate::format::compact_money;
use crate::model::Rag;
use crate::sections::{ExecutiveSummary, KeyMetrics, Milestones, MonteCarloSection, Risks};

/// The sections of one report the comparison reads (each `None` when not generated).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub summary: Option<ExecutiveSummary>,
    pub metrics: Option<KeyMetrics>,
    pub monte_carlo: Option<MonteCarloSection>,
    pub milestones: Option<Milestones>,
    pub risks: Option<Risks>,
}

/// One figure then and now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureChange {
    pub label: String,
    pub before: String,
    pub now: String,
    /// Whether the move is good news (`None`: no move, or neither good nor bad).
    pub better: Option<bool>,
}

/// A milestone whose forecast moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MilestoneMove {
    pub name: String,
    pub before: String,
    pub now: String,
    /// Calendar days later (negative: earlier).
    pub days: i64,
}

/// Everything that changed since the previous month's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthChanges {
    pub previous_report_id: i64,
    /// `YYYY-MM`.
    pub previous_period: String,
    pub figures: Vec<FigureChange>,
    /// The computed overall status then and now, when it moved.
    pub computed_status: Option<(Option<Rag>, Option<Rag>)>,
    /// The declared overall status then and now, when it moved.
    pub declared_status: Option<(Rag, Rag)>,
    pub slipped: Vec<MilestoneMove>,
    pub pulled_in: Vec<MilestoneMove>,
    pub reached: Vec<String>,
    pub new_risks: Vec<String>,
    pub closed_risks: Vec<String>,
}

impl MonthChanges {
    /// Whether anything moved at all.
    pub fn is_quiet(&self) -> bool {
        self.figures
            .iter()
            .all(|f| f.better.is_none() && f.before == f.now)
            && self.computed_status.is_none()
            && self.declared_status.is_none()
            && self.slipped.is_empty()
            && self.pulled_in.is_empty()
            && self.reached.is_empty()
            && self.new_risks.is_empty()
            && self.closed_risks.is_empty()
    }
}

fn index(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".into(), |v| format!("{v:.2}"))
}

/// A figure where higher is better (`up`) or lower is better; moves under `noise` are no move.
fn figure(
    label: &str,
    before: Option<f64>,
    now: Option<f64>,
    up_is_better: bool,
    noise: f64,
    show: impl Fn(Option<f64>) -> String,
) -> FigureChange {
    let better = match (before, now) {
        (Some(b), Some(n)) if (n - b).abs() > noise => Some((n > b) == up_is_better),
        _ => None,
    };
    FigureChange {
        label: label.into(),
        before: show(before),
        now: show(now),
        better,
    }
}

/// A date figure where earlier is better.
fn date_figure(label: &str, before: Option<&str>, now: Option<&str>) -> FigureChange {
    let parse = |d: Option<&str>| d.and_then(Date::parse_iso);
    let better = match (parse(before), parse(now)) {
        (Some(b), Some(n)) if b != n => Some(n < b),
        _ => None,
    };
    let show = |d: Option<&str>| parse(d).map_or_else(|| "n/a".into(), Date::readable);
    FigureChange {
        label: label.into(),
        before: show(before),
        now: show(now),
        better,
    }
}

/// Compares this month's report (`now`) with the previous one's.
pub fn compare(
    previous_report_id: i64,
    previous_period: &str,
    before: &Snapshot,
    now: &Snapshot,
) -> MonthChanges {
    let mut figures = Vec::new();
    if let (Some(b), Some(n)) = (&before.metrics, &now.metrics) {
        let currency = n.currency.clone();
        let money =
            move |v: Option<f64>| v.map_or_else(|| "n/a".into(), |v| compact_money(v, &currency));
        let complete = |m: &KeyMetrics| (m.ev.bac > 0.0).then(|| m.ev.ev / m.ev.bac * 100.0);
        figures.push(figure(
            "Complete",
            complete(b),
            complete(n),
            true,
            0.05,
            |v| v.map_or_else(|| "n/a".into(), |v| format!("{v:.1} %")),
        ));
        figures.push(figure("CPI", b.ev.cpi, n.ev.cpi, true, 0.005, index));
        figures.push(figure("SPI", b.ev.spi, n.ev.spi, true, 0.005, index));
        figures.push(figure("SPI(t)", b.es.spi_t, n.es.spi_t, true, 0.005, index));
        figures.push(figure(
            "Estimate at completion",
            Some(b.ev.eac),
            Some(n.ev.eac),
            false,
            0.5,
            money.clone(),
        ));
        figures.push(figure(
            "Actual cost",
            Some(b.ev.ac),
            Some(n.ev.ac),
            false,
            0.5,
            money,
        ));
        // Spending more is expected month to month: not a verdict.
        if let Some(last) = figures.last_mut() {
            last.better = None;
        }
        figures.push(date_figure(
            "Forecast finish (earned schedule)",
            b.forecast_finish.as_deref(),
            n.forecast_finish.as_deref(),
        ));
    }
    if let (Some(b), Some(n)) = (&before.monte_carlo, &now.monte_carlo) {
        figures.push(date_figure(
            "P80 finish (Monte Carlo)",
            Some(&b.p80_finish),
            Some(&n.p80_finish),
        ));
    }
    let (computed_status, declared_status) = match (&before.summary, &now.summary) {
        (Some(b), Some(n)) => (
            (b.overall_computed != n.overall_computed)
                .then_some((b.overall_computed, n.overall_computed)),
            (b.overall_declared != n.overall_declared)
                .then_some((b.overall_declared, n.overall_declared)),
        ),
        _ => (None, None),
    };
    let (mut slipped, mut pulled_in, mut reached) = (Vec::new(), Vec::new(), Vec::new());
    if let (Some(b), Some(n)) = (&before.milestones, &now.milestones) {
        for m in &n.rows {
            let Some(old) = b.rows.iter().find(|o| o.name == m.name) else {
                continue;
            };
            if m.actual.is_some() && old.actual.is_none() {
                reached.push(m.name.clone());
                continue;
            }
            if m.actual.is_some() {
                continue;
            }
            let (Some(was), Some(is)) =
                (Date::parse_iso(&old.forecast), Date::parse_iso(&m.forecast))
            else {
                continue;
            };
            let days = was.days_until(is);
            let moved = MilestoneMove {
                name: m.name.clone(),
                before: was.readable(),
                now: is.readable(),
                days,
            };
            if days > 0 {
                slipped.push(moved);
            } else if days < 0 {
                pulled_in.push(moved);
            }
        }
    }
    let (mut new_risks, mut closed_risks) = (Vec::new(), Vec::new());
    if let (Some(b), Some(n)) = (&before.risks, &now.risks) {
        let open = |status: &str| status != "closed";
        for r in &n.rows {
            match b.rows.iter().find(|o| o.title == r.title) {
                None if open(&r.status) => new_risks.push(r.title.clone()),
                Some(o) if open(&o.status) && !open(&r.status) => {
                    closed_risks.push(r.title.clone())
                }
                _ => {}
            }
        }
        for o in b.rows.iter().filter(|o| open(&o.status)) {
            if !n.rows.iter().any(|r| r.title == o.title) {
                closed_risks.push(o.title.clone());
            }
        }
    }
    MonthChanges {
        previous_report_id,
        previous_period: previous_period.to_string(),
        figures,
        computed_status,
        declared_status,
        slipped,
        pulled_in,
        reached,
        new_risks,
        closed_risks,
    }
}

#[cfg(test)]
mod tests;
