//! Earned value and earned schedule at a status date.
//!
//! Formulas follow the PMI *Practice Standard for Earned Value Management* (2nd ed., 2011) and the
//! *PMBOK Guide* (6th ed., §7.4.2.2, Table 7-1); earned schedule follows Lipke, "Schedule is
//! Different" (The Measurable News, March 2003), adopted in the practice standard's Appendix D and in
//! ISO 21508:2018. Money is in the project's currency; time in calendar days.
//!
//! This module only computes; the RAG judgement on top of it lives in [`super::rag`].

pub use app::analysis::{EacMethod, EsMetrics, EvInputs, EvMetrics};

fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator.abs() > f64::EPSILON).then(|| numerator / denominator)
}

/// Computes every indicator; `method` picks the EAC that ETC, VAC and TCPI(EAC) use. When the chosen
/// formula is undefined (no cost booked yet), the atypical formula stands in, which is then exact.
pub fn earned_value(i: EvInputs, method: EacMethod) -> EvMetrics {
    let cpi = ratio(i.ev, i.ac);
    let spi = ratio(i.ev, i.pv);
    let eac_cpi = cpi.and_then(|c| ratio(i.bac, c));
    let eac_atypical = i.ac + (i.bac - i.ev);
    let eac_bottom_up = i.ac + i.bottom_up_etc;
    let eac_cpi_spi = match (cpi, spi) {
        (Some(c), Some(s)) => ratio(i.bac - i.ev, c * s).map(|etc| i.ac + etc),
        _ => None,
    };
    let (eac, eac_method) = match method {
        EacMethod::Cpi => eac_cpi.map_or((eac_atypical, EacMethod::Atypical), |e| (e, method)),
        EacMethod::Atypical => (eac_atypical, method),
        EacMethod::BottomUp => (eac_bottom_up, method),
        EacMethod::CpiSpi => {
            eac_cpi_spi.map_or((eac_atypical, EacMethod::Atypical), |e| (e, method))
        }
    };
    EvMetrics {
        bac: i.bac,
        pv: i.pv,
        ev: i.ev,
        ac: i.ac,
        cv: i.ev - i.ac,
        sv: i.ev - i.pv,
        cpi,
        spi,
        eac_cpi,
        eac_atypical,
        eac_bottom_up,
        eac_cpi_spi,
        eac,
        eac_method,
        etc: eac - i.ac,
        vac: i.bac - eac,
        tcpi_bac: ratio(i.bac - i.ev, i.bac - i.ac),
        tcpi_eac: ratio(i.bac - i.ev, eac - i.ac),
        percent_complete: ratio(i.ev, i.bac).map_or(0.0, |r| r * 100.0),
        percent_planned: ratio(i.pv, i.bac).map_or(0.0, |r| r * 100.0),
    }
}

/// Earned schedule from a cumulative PV series: `pv_at[k]` is the PV at the end of time unit `k + 1`
/// (so the series starts after the first unit), `ev` the earned value, `at` the actual time and `pd`
/// the planned duration in the same units. `ES = C + I`, where `C` is the number of whole units whose
/// cumulative PV is at most EV and `I = (EV − PV_C) / (PV_{C+1} − PV_C)` the fraction of the next.
pub fn earned_schedule(pv_at: &[f64], ev: f64, at: f64, pd: f64) -> EsMetrics {
    let whole = pv_at.iter().take_while(|&&pv| pv <= ev).count();
    let pv_c = if whole == 0 { 0.0 } else { pv_at[whole - 1] };
    let fraction = match pv_at.get(whole) {
        Some(&next) if next > pv_c => (ev - pv_c) / (next - pv_c),
        _ => 0.0,
    };
    let es = whole as f64 + fraction;
    let spi_t = ratio(es, at);
    EsMetrics {
        es,
        at,
        pd,
        sv_t: es - at,
        spi_t,
        ieac_t: spi_t.and_then(|s| ratio(pd, s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// The PMBOK Guide's formulas on a worked example: BAC 10,000, PV 5,000, EV 4,000, AC 4,500
    /// (figures as in PMI's EVM Practice Standard, ch. 4 style examples; results by hand).
    fn example() -> EvInputs {
        EvInputs {
            bac: 10_000.0,
            pv: 5_000.0,
            ev: 4_000.0,
            ac: 4_500.0,
            bottom_up_etc: 6_200.0,
        }
    }

    #[test]
    fn variances_and_indices() {
        let m = earned_value(example(), EacMethod::Cpi);
        assert!(close(m.cv, -500.0) && close(m.sv, -1_000.0));
        assert!(close(m.cpi.expect("cpi"), 4_000.0 / 4_500.0));
        assert!(close(m.spi.expect("spi"), 0.8));
        assert!(close(m.percent_complete, 40.0) && close(m.percent_planned, 50.0));
    }

    #[test]
    fn the_four_eac_formulas() {
        let m = earned_value(example(), EacMethod::Cpi);
        assert!(
            close(m.eac_cpi.expect("eac"), 11_250.0),
            "BAC/CPI = 10000 / 0.8889"
        );
        assert!(
            close(m.eac_atypical, 10_500.0),
            "AC + (BAC − EV) = 4500 + 6000"
        );
        assert!(close(m.eac_bottom_up, 10_700.0), "AC + ETC = 4500 + 6200");
        let cpi_spi = 4_500.0 + 6_000.0 / ((4_000.0 / 4_500.0) * 0.8);
        assert!(close(m.eac_cpi_spi.expect("eac"), cpi_spi), "= 12937.5");
        assert!(close(cpi_spi, 12_937.5));
    }

    #[test]
    fn etc_vac_and_tcpi_follow_the_chosen_eac() {
        let m = earned_value(example(), EacMethod::Cpi);
        assert_eq!(m.eac_method, EacMethod::Cpi);
        assert!(close(m.etc, 6_750.0) && close(m.vac, -1_250.0));
        assert!(
            close(m.tcpi_bac.expect("tcpi"), 6_000.0 / 5_500.0),
            "≈ 1.091: must beat plan"
        );
        assert!(close(m.tcpi_eac.expect("tcpi"), 6_000.0 / 6_750.0));
        let a = earned_value(example(), EacMethod::Atypical);
        assert!(close(a.eac, 10_500.0) && close(a.vac, -500.0));
    }

    #[test]
    fn undefined_ratios_are_none_not_infinite() {
        let start = EvInputs {
            bac: 1_000.0,
            pv: 0.0,
            ev: 0.0,
            ac: 0.0,
            bottom_up_etc: 1_000.0,
        };
        let m = earned_value(start, EacMethod::Cpi);
        assert_eq!((m.cpi, m.spi, m.eac_cpi), (None, None, None));
        assert_eq!(
            m.eac_method,
            EacMethod::Atypical,
            "falls back to the formula that is defined"
        );
        assert!(close(m.eac, 1_000.0));
    }

    /// Lipke (2003), the standard illustration: PV accrues 100 per month; after 4 months EV is 250.
    /// C = 2 (PV₂ = 200 ≤ 250 < PV₃ = 300), I = (250 − 200) / (300 − 200) = 0.5, so ES = 2.5 months,
    /// SV(t) = −1.5 months, SPI(t) = 0.625 and, for a 5-month plan, IEAC(t) = 8 months.
    #[test]
    fn earned_schedule_lipke_example() {
        let es = earned_schedule(&[100.0, 200.0, 300.0, 400.0, 500.0], 250.0, 4.0, 5.0);
        assert!(close(es.es, 2.5) && close(es.sv_t, -1.5));
        assert!(close(es.spi_t.expect("spi(t)"), 0.625));
        assert!(close(es.ieac_t.expect("ieac(t)"), 8.0));
    }

    #[test]
    fn earned_schedule_at_the_edges() {
        let pv = [100.0, 200.0, 300.0];
        assert!(close(earned_schedule(&pv, 0.0, 1.0, 3.0).es, 0.0));
        assert!(
            close(earned_schedule(&pv, 50.0, 1.0, 3.0).es, 0.5),
            "inside the first unit"
        );
        assert!(
            close(earned_schedule(&pv, 300.0, 3.0, 3.0).es, 3.0),
            "all work done"
        );
        let late_but_done = earned_schedule(&pv, 300.0, 5.0, 3.0);
        assert!(
            close(late_but_done.spi_t.expect("spi(t)"), 0.6),
            "SPI(t) stays honest at the end"
        );
    }
}
