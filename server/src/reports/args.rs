//! Report generation's settings as flags and environment variables; their defaults are
//! [`GenerationParams::DEFAULT`]'s.

use clap::Args;

use super::generate::GenerationParams;
use crate::domain::rag::{RagPolicy, Thresholds};

const D: GenerationParams = GenerationParams::DEFAULT;

/// Monte Carlo iterations, the RAG bands, and how many costly runs a caller may start.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Report generation")]
pub struct GenerationArgs {
    /// Monte Carlo iterations per report generation (1 to 1,000,000).
    #[arg(long, env = "PMR_MC_ITERATIONS", default_value_t = D.iterations,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub monte_carlo_iterations: u32,

    /// CPI and SPI(t) at or above this are green.
    #[arg(long, env = "PMR_RAG_GREEN_INDEX", default_value_t = D.rag.cost.green_from)]
    pub rag_green_index: f64,

    /// CPI and SPI(t) at or above this (and below the green threshold) are amber; below it, red.
    #[arg(long, env = "PMR_RAG_AMBER_INDEX", default_value_t = D.rag.cost.amber_from)]
    pub rag_amber_index: f64,

    /// Monte Carlo reruns and report regenerations one caller may start per minute (a burst of this
    /// many, then one every 60/N seconds); runs answered from the cache are free.
    #[arg(long, env = "PMR_COSTLY_RUNS_PER_MINUTE", default_value_t = super::quota::CostlyQuota::DEFAULT_PER_MINUTE,
        value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub costly_runs_per_minute: u32,
}

impl GenerationArgs {
    /// Generation settings, with a Monte Carlo thread per core.
    pub fn params(&self) -> GenerationParams {
        GenerationParams {
            iterations: self.monte_carlo_iterations,
            rag: RagPolicy::both(Thresholds {
                green_from: self.rag_green_index,
                amber_from: self.rag_amber_index,
            }),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            ..GenerationParams::DEFAULT
        }
    }

    /// Checks what clap cannot: the RAG thresholds must be ordered and sensible.
    pub fn validate(&self) -> Result<(), String> {
        let (green, amber) = (self.rag_green_index, self.rag_amber_index);
        if !(amber.is_finite()
            && green.is_finite()
            && 0.0 < amber
            && amber <= green
            && green <= 2.0)
        {
            return Err(format!(
                "PMR_RAG_AMBER_INDEX ({amber}) and PMR_RAG_GREEN_INDEX ({green}) must satisfy 0 < amber ≤ green ≤ 2"
            ));
        }
        Ok(())
    }
}
