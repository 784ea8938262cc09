//! What the report's sections show, decided as plain tested functions: the key-metric tiles with their
//! status and meaning, milestone slip in words, risk heat-map levels, the appendix's sorting and
//! pages, and the period labels of charts. Components only lay these out.

use std::cmp::Ordering;

use crate::calendar::Date;
use crate::format::compact_money;
use crate::model::Rag;
use crate::sections::{KeyMetrics, MilestoneSlip, TaskRow};

/// One key-metric tile.
#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    pub label: &'static str,
    pub value: String,
    /// `None` when the figure is undefined (e.g. CPI before any cost is booked).
    pub rag: Option<Rag>,
    /// One line on what the figure means, shown on hover or focus.
    pub meaning: String,
}

/// Index status: at least `green` is on track, at least `amber` at risk, below is off track.
fn index_rag(value: Option<f64>, green: f64, amber: f64) -> Option<Rag> {
    value.map(|v| {
        if v >= green {
            Rag::Green
        } else if v >= amber {
            Rag::Amber
        } else {
            Rag::Red
        }
    })
}

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.2}"))
}

/// The tiles of the key-metrics section: CPI, SPI, SPI(t), EAC, VAC, TCPI and percent complete.
/// Indices are green from 0.95 and amber from 0.85 (the status policy's defaults); EAC and VAC are
/// green within budget and amber within 10 % over; TCPI is green up to 1.0 and amber up to 1.1
/// (above, finishing on budget needs markedly better performance than so far); percent complete is
/// judged against percent planned.
pub fn key_metric_tiles(m: &KeyMetrics) -> Vec<Tile> {
    let ev = &m.ev;
    let money = |v: f64| compact_money(v, &m.currency);
    let overrun = |eac: f64| {
        if ev.bac <= 0.0 {
            None
        } else if eac <= ev.bac {
            Some(Rag::Green)
        } else if eac <= ev.bac * 1.1 {
            Some(Rag::Amber)
        } else {
            Some(Rag::Red)
        }
    };
    let tcpi_rag = ev.tcpi_bac.map(|t| {
        if t <= 1.0 {
            Rag::Green
        } else if t <= 1.1 {
            Rag::Amber
        } else {
            Rag::Red
        }
    });
    let behind = ev.percent_planned - ev.percent_complete;
    let progress_rag = if behind <= 5.0 {
        Rag::Green
    } else if behind <= 15.0 {
        Rag::Amber
    } else {
        Rag::Red
    };
    vec![
        Tile {
            label: "CPI",
            value: ratio(ev.cpi),
            rag: index_rag(ev.cpi, 0.95, 0.85),
            meaning: format!(
                "Cost performance: {} of work earned per {} spent (EV ÷ AC).",
                money(ev.ev),
                money(ev.ac)
            ),
        },
        Tile {
            label: "SPI",
            value: ratio(ev.spi),
            rag: index_rag(ev.spi, 0.95, 0.85),
            meaning: "Schedule performance in money: work earned against work planned so far (EV ÷ PV)."
                .into(),
        },
        Tile {
            label: "SPI(t)",
            value: ratio(m.es.spi_t),
            rag: index_rag(m.es.spi_t, 0.95, 0.85),
            meaning: format!(
                "Schedule performance in time: {:.0} days earned in {:.0} days elapsed (ES ÷ AT).",
                m.es.es, m.es.at
            ),
        },
        Tile {
            label: "EAC",
            value: money(ev.eac),
            rag: overrun(ev.eac),
            meaning: format!(
                "Estimate at completion against a budget of {} ({}).",
                money(ev.bac),
                ev.eac_method.formula()
            ),
        },
        Tile {
            label: "VAC",
            value: money(ev.vac),
            rag: overrun(ev.eac),
            meaning: "Variance at completion: budget minus the estimate (BAC − EAC); negative is an overrun."
                .into(),
        },
        Tile {
            label: "TCPI",
            value: ratio(ev.tcpi_bac),
            rag: tcpi_rag,
            meaning: "Cost performance the remaining work needs to finish on budget ((BAC − EV) ÷ (BAC − AC))."
                .into(),
        },
        Tile {
            label: "Complete",
            value: format!("{:.0}%", ev.percent_complete),
            rag: Some(progress_rag),
            meaning: format!(
                "Work performed as a share of the budget; {:.0}% was planned by now.",
                ev.percent_planned
            ),
        },
    ]
}

/// A milestone's slip in words and its status: on time or early is green, up to two weeks late amber.
pub fn slip(days: i64) -> (String, Rag) {
    match days {
        d if d < 0 => (format!("{} days early", -d), Rag::Green),
        0 => ("on time".into(), Rag::Green),
        1 => ("1 day late".into(), Rag::Amber),
        d if d <= 14 => (format!("{d} days late"), Rag::Amber),
        d => (format!("{d} days late"), Rag::Red),
    }
}

/// Heat level 0–4 of a risk matrix cell (probability band `p`, impact band `i`, each 0–4): the sum
/// of the bands, in five steps.
pub fn heat_level(p: usize, i: usize) -> usize {
    ((p + i) * 4).div_ceil(8).min(4)
}

/// A column of the appendix's task table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskColumn {
    Wbs,
    Name,
    Owner,
    Start,
    Finish,
    Budget,
    Actual,
    Complete,
}

impl TaskColumn {
    pub const ALL: [TaskColumn; 8] = [
        TaskColumn::Wbs,
        TaskColumn::Name,
        TaskColumn::Owner,
        TaskColumn::Start,
        TaskColumn::Finish,
        TaskColumn::Budget,
        TaskColumn::Actual,
        TaskColumn::Complete,
    ];

    pub fn label(self) -> &'static str {
        match self {
            TaskColumn::Wbs => "WBS",
            TaskColumn::Name => "Task",
            TaskColumn::Owner => "Owner",
            TaskColumn::Start => "Start",
            TaskColumn::Finish => "Finish",
            TaskColumn::Budget => "Budget",
            TaskColumn::Actual => "Actual cost",
            TaskColumn::Complete => "Complete",
        }
    }

    /// Whether the column holds numbers (right-aligned, largest first on the first click).
    pub fn numeric(self) -> bool {
        matches!(
            self,
            TaskColumn::Budget | TaskColumn::Actual | TaskColumn::Complete
        )
    }
}

/// WBS codes compare part by part as numbers where they are numbers (`1.10` after `1.9`).
fn wbs_order(a: &str, b: &str) -> Ordering {
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    _ => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// Sorts tasks by a column, ascending or descending; ties keep WBS order.
pub fn sort_tasks(tasks: &mut [TaskRow], column: TaskColumn, ascending: bool) {
    tasks.sort_by(|a, b| {
        let order = match column {
            TaskColumn::Wbs => wbs_order(&a.wbs, &b.wbs),
            TaskColumn::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            TaskColumn::Owner => a.owner.cmp(&b.owner),
            TaskColumn::Start => a.planned_start.cmp(&b.planned_start),
            TaskColumn::Finish => a.planned_finish.cmp(&b.planned_finish),
            TaskColumn::Budget => a.budgeted_cost.total_cmp(&b.budgeted_cost),
            TaskColumn::Actual => a.actual_cost.total_cmp(&b.actual_cost),
            TaskColumn::Complete => a.percent_complete.total_cmp(&b.percent_complete),
        };
        let order = if ascending { order } else { order.reverse() };
        order.then_with(|| wbs_order(&a.wbs, &b.wbs))
    });
}

/// Number of pages of `per_page` rows for `rows` rows (at least one page).
pub fn page_count(rows: usize, per_page: usize) -> usize {
    rows.div_ceil(per_page.max(1)).max(1)
}

/// A period `YYYY-MM` as a short axis label, `Mar 26`.
pub fn short_period(period: &str) -> String {
    Date::parse_period(period).map_or_else(|| period.to_string(), Date::short_month_and_year)
}

/// One milestone's line on the slip chart: its name and `(period index, days late)` points.
pub type SlipLine = (String, Vec<(f64, f64)>);

/// The milestone slip chart's data: the periods (oldest first) and, per milestone, its slip in days
/// (forecast − baseline) at each period it was forecast in, as `(period index, days)`.
pub fn slip_history(milestones: &[MilestoneSlip]) -> (Vec<String>, Vec<SlipLine>) {
    let mut periods: Vec<String> = milestones
        .iter()
        .flat_map(|m| m.forecasts.iter().map(|(p, _)| p.clone()))
        .collect();
    periods.sort();
    periods.dedup();
    let date = Date::parse_iso;
    let series = milestones
        .iter()
        .map(|m| {
            let points = m
                .forecasts
                .iter()
                .filter_map(|(period, forecast)| {
                    let index = periods.iter().position(|p| p == period)?;
                    let days = date(&m.baseline)?.days_until(date(forecast)?);
                    Some((index as f64, days as f64))
                })
                .collect();
            (m.milestone.clone(), points)
        })
        .collect();
    (periods, series)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{EacMethod, EsMetrics, EvMetrics};

    fn metrics(cpi: Option<f64>, eac: f64, planned: f64, complete: f64) -> KeyMetrics {
        KeyMetrics {
            status_date: "2026-05-31".into(),
            currency: "EUR".into(),
            ev: EvMetrics {
                bac: 1_000_000.0,
                pv: 500_000.0,
                ev: 450_000.0,
                ac: 520_000.0,
                cv: -70_000.0,
                sv: -50_000.0,
                cpi,
                spi: Some(0.9),
                eac_cpi: Some(eac),
                eac_atypical: eac,
                eac_bottom_up: eac,
                eac_cpi_spi: Some(eac),
                eac,
                eac_method: EacMethod::Cpi,
                etc: eac - 520_000.0,
                vac: 1_000_000.0 - eac,
                tcpi_bac: Some(1.15),
                tcpi_eac: Some(1.0),
                percent_complete: complete,
                percent_planned: planned,
            },
            es: EsMetrics {
                es: 90.0,
                at: 100.0,
                pd: 300.0,
                sv_t: -10.0,
                spi_t: Some(0.9),
                ieac_t: Some(333.0),
            },
            forecast_finish: None,
            target_finish: "2027-01-31".into(),
            checks: vec![],
        }
    }

    #[test]
    fn tiles_judge_each_figure() {
        let tiles = key_metric_tiles(&metrics(Some(0.80), 1_250_000.0, 50.0, 45.0));
        let by = |label: &str| tiles.iter().find(|t| t.label == label).cloned();
        assert_eq!(tiles.len(), 7);
        assert_eq!(
            by("CPI").map(|t| (t.value, t.rag)),
            Some(("0.80".into(), Some(Rag::Red)))
        );
        assert_eq!(by("SPI").and_then(|t| t.rag), Some(Rag::Amber));
        assert_eq!(by("EAC").and_then(|t| t.rag), Some(Rag::Red));
        assert_eq!(by("VAC").map(|t| t.value), Some("-€250k".into()));
        assert_eq!(by("TCPI").and_then(|t| t.rag), Some(Rag::Red));
        assert_eq!(by("Complete").and_then(|t| t.rag), Some(Rag::Green));
        let fresh = key_metric_tiles(&metrics(None, 1_050_000.0, 50.0, 20.0));
        assert_eq!(fresh[0].value, "n/a");
        assert_eq!(fresh[0].rag, None);
        assert_eq!(fresh[3].rag, Some(Rag::Amber));
        assert_eq!(fresh[6].rag, Some(Rag::Red));
    }

    #[test]
    fn slip_reads_in_words() {
        assert_eq!(slip(-3), ("3 days early".into(), Rag::Green));
        assert_eq!(slip(0).1, Rag::Green);
        assert_eq!(slip(1).0, "1 day late");
        assert_eq!(slip(14).1, Rag::Amber);
        assert_eq!(slip(15).1, Rag::Red);
    }

    #[test]
    fn heat_grows_with_probability_and_impact() {
        assert_eq!(heat_level(0, 0), 0);
        assert_eq!(heat_level(4, 4), 4);
        assert_eq!(heat_level(2, 2), 2);
        assert!(heat_level(3, 1) >= heat_level(1, 1));
    }

    fn task(wbs: &str, name: &str, budget: f64) -> TaskRow {
        TaskRow {
            wbs: wbs.into(),
            name: name.into(),
            owner: "A".into(),
            planned_start: "2026-01-01".into(),
            planned_finish: "2026-02-01".into(),
            budgeted_cost: budget,
            actual_cost: 0.0,
            percent_complete: 0.0,
        }
    }

    #[test]
    fn tasks_sort_by_any_column() {
        let mut tasks = vec![
            task("1.10", "b", 5.0),
            task("1.9", "A", 9.0),
            task("2", "c", 5.0),
        ];
        sort_tasks(&mut tasks, TaskColumn::Wbs, true);
        assert_eq!(
            tasks.iter().map(|t| t.wbs.as_str()).collect::<Vec<_>>(),
            ["1.9", "1.10", "2"]
        );
        sort_tasks(&mut tasks, TaskColumn::Budget, false);
        assert_eq!(
            tasks.iter().map(|t| t.wbs.as_str()).collect::<Vec<_>>(),
            ["1.9", "1.10", "2"]
        );
        sort_tasks(&mut tasks, TaskColumn::Name, true);
        assert_eq!(tasks[0].name, "A");
        assert_eq!(page_count(0, 25), 1);
        assert_eq!(page_count(51, 25), 3);
    }

    #[test]
    fn slip_history_lines_up_periods() {
        let m = |name: &str, forecasts: &[(&str, &str)]| MilestoneSlip {
            milestone: name.into(),
            baseline: "2026-06-01".into(),
            forecasts: forecasts
                .iter()
                .map(|(p, d)| (p.to_string(), d.to_string()))
                .collect(),
        };
        let (periods, series) = slip_history(&[
            m(
                "Design",
                &[("2026-02", "2026-06-01"), ("2026-03", "2026-06-11")],
            ),
            m("Build", &[("2026-03", "2026-05-30")]),
        ]);
        assert_eq!(periods, ["2026-02", "2026-03"]);
        assert_eq!(series[0].1, vec![(0.0, 0.0), (1.0, 10.0)]);
        assert_eq!(series[1].1, vec![(1.0, -2.0)]);
    }

    #[test]
    fn periods_label_axes() {
        assert_eq!(short_period("2026-03"), "Mar 26");
        assert_eq!(short_period("later"), "later");
    }
}
