//! Computed red/amber/green status from earned value, set beside the status the manager declared.
//!
//! Cost is judged by CPI and schedule by SPI(t) (cost-based SPI drifts back to 1.0 as a late project
//! finishes; SPI(t) does not), each against configurable thresholds; overall is the worse of the two.
//! Scope and resources have no measure in the project data, so they are shown as declared, unjudged.

use app::analysis::{Dimension, EsMetrics, EvMetrics, Mismatch, StatusCheck};
use app::model::Rag;

/// An index at or above `green_from` is green, at or above `amber_from` amber, below it red.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub green_from: f64,
    pub amber_from: f64,
}

/// Thresholds per judged dimension. Defaults: green from 0.95, amber from 0.85 (the bands most EVM
/// tools and the Redmine EVM plugin use).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RagPolicy {
    pub cost: Thresholds,
    pub schedule: Thresholds,
}

impl RagPolicy {
    /// Green from 0.95, amber from 0.85, for cost and schedule alike (`PMR_RAG_GREEN_INDEX`,
    /// `PMR_RAG_AMBER_INDEX`).
    pub const DEFAULT: RagPolicy = RagPolicy::both(Thresholds {
        green_from: 0.95,
        amber_from: 0.85,
    });

    /// The same bands for both dimensions.
    pub const fn both(bands: Thresholds) -> RagPolicy {
        RagPolicy {
            cost: bands,
            schedule: bands,
        }
    }
}

impl Default for RagPolicy {
    fn default() -> Self {
        RagPolicy::DEFAULT
    }
}

/// The status an index earns.
pub fn rate(index: f64, t: Thresholds) -> Rag {
    if index >= t.green_from {
        Rag::Green
    } else if index >= t.amber_from {
        Rag::Amber
    } else {
        Rag::Red
    }
}

/// How far apart a declared and a computed status are.
pub fn mismatch(declared: Rag, computed: Option<Rag>) -> Mismatch {
    match (declared, computed) {
        (_, None) => Mismatch::None,
        (d, Some(c)) if d == c => Mismatch::None,
        (Rag::Green, Some(Rag::Red)) => Mismatch::Watermelon,
        (Rag::Red, Some(Rag::Green)) => Mismatch::Pessimistic,
        _ => Mismatch::Minor,
    }
}

fn worse(a: Rag, b: Rag) -> Rag {
    let level = |r: Rag| match r {
        Rag::Green => 0,
        Rag::Amber => 1,
        Rag::Red => 2,
    };
    if level(a) >= level(b) {
        a
    } else {
        b
    }
}

/// One check per dimension, in report order. `declared` is overall, scope, schedule, cost, resources.
pub fn status_checks(
    declared: [Rag; 5],
    ev: &EvMetrics,
    es: &EsMetrics,
    policy: RagPolicy,
) -> Vec<StatusCheck> {
    let bands = |t: Thresholds| format!("green ≥ {:.2}, amber ≥ {:.2}", t.green_from, t.amber_from);
    let cost = ev.cpi.map(|cpi| {
        (
            rate(cpi, policy.cost),
            format!("CPI {cpi:.2} ({})", bands(policy.cost)),
        )
    });
    let schedule_index = es
        .spi_t
        .map(|v| ("SPI(t)", v))
        .or(ev.spi.map(|v| ("SPI", v)));
    let schedule = schedule_index.map(|(name, v)| {
        (
            rate(v, policy.schedule),
            format!("{name} {v:.2} ({})", bands(policy.schedule)),
        )
    });
    let overall = match (&cost, &schedule) {
        (Some((c, _)), Some((s, _))) => {
            Some((worse(*c, *s), "worse of cost and schedule".to_string()))
        }
        (Some((c, _)), None) => Some((*c, "cost only (no schedule data yet)".to_string())),
        (None, Some((s, _))) => Some((*s, "schedule only (no cost booked yet)".to_string())),
        (None, None) => None,
    };
    let unmeasured = || None::<(Rag, String)>;
    let computed = [overall, unmeasured(), schedule, cost, unmeasured()];
    Dimension::ALL
        .into_iter()
        .zip(declared)
        .zip(computed)
        .map(|((dimension, declared), computed)| {
            let (rag, basis) = match computed {
                Some((r, b)) => (Some(r), b),
                None if matches!(dimension, Dimension::Scope | Dimension::Resources) => {
                    (None, "not measured by the project data".to_string())
                }
                None => (None, "no cost or progress recorded yet".to_string()),
            };
            StatusCheck {
                dimension,
                declared,
                computed: rag,
                mismatch: mismatch(declared, rag),
                basis,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::evm::{earned_schedule, earned_value, EacMethod, EvInputs};

    #[test]
    fn thresholds_are_inclusive_lower_bounds() {
        let t = RagPolicy::default().cost;
        assert_eq!(rate(0.95, t), Rag::Green);
        assert_eq!(rate(0.9499, t), Rag::Amber);
        assert_eq!(rate(0.85, t), Rag::Amber);
        assert_eq!(rate(0.8499, t), Rag::Red);
        let strict = Thresholds {
            green_from: 1.0,
            amber_from: 0.9,
        };
        assert_eq!(rate(0.97, strict), Rag::Amber);
    }

    #[test]
    fn mismatches_are_graded() {
        assert_eq!(mismatch(Rag::Green, Some(Rag::Red)), Mismatch::Watermelon);
        assert_eq!(mismatch(Rag::Red, Some(Rag::Green)), Mismatch::Pessimistic);
        assert_eq!(mismatch(Rag::Amber, Some(Rag::Red)), Mismatch::Minor);
        assert_eq!(mismatch(Rag::Amber, Some(Rag::Amber)), Mismatch::None);
        assert_eq!(mismatch(Rag::Green, None), Mismatch::None);
    }

    #[test]
    fn a_green_declaration_over_red_numbers_is_flagged() {
        let ev = earned_value(
            EvInputs {
                bac: 100.0,
                pv: 50.0,
                ev: 35.0,
                ac: 45.0,
                bottom_up_etc: 70.0,
            },
            EacMethod::Cpi,
        );
        let es = earned_schedule(&[10.0, 20.0, 30.0, 40.0, 50.0], 35.0, 5.0, 10.0);
        let checks = status_checks([Rag::Green; 5], &ev, &es, RagPolicy::default());
        let by = |d: Dimension| {
            checks
                .iter()
                .find(|c| c.dimension == d)
                .expect("dimension present")
        };
        assert_eq!(by(Dimension::Cost).computed, Some(Rag::Red), "CPI 0.78");
        assert_eq!(
            by(Dimension::Schedule).computed,
            Some(Rag::Red),
            "SPI(t) 0.70"
        );
        assert_eq!(by(Dimension::Overall).mismatch, Mismatch::Watermelon);
        assert!(by(Dimension::Cost).basis.starts_with("CPI 0.78"));
        assert_eq!(by(Dimension::Scope).computed, None);
        assert_eq!(by(Dimension::Scope).mismatch, Mismatch::None);
    }
}
