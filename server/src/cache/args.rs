//! The cache's settings as flags and environment variables; their defaults are
//! [`CacheConfig::DEFAULT`]'s (the lifetimes are the seed's, [`CacheType::default_ttl`]).

use std::time::Duration;

use clap::Args;

use super::{CacheConfig, CacheType};

const D: CacheConfig = CacheConfig::DEFAULT;

/// `PMR_CACHE_*`: lifetimes per type, the memory tier, and the Redis tier's patience.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Cache")]
pub struct CacheArgs {
    /// Lifetime of cached reports, in seconds (the seed's 1 hour).
    #[arg(long, env = "PMR_CACHE_TTL_REPORT_SECS", default_value_t = CacheType::Report.default_ttl().as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub cache_ttl_report_secs: u64,

    /// Lifetime of cached AI insights, in seconds (30 minutes).
    #[arg(long, env = "PMR_CACHE_TTL_INSIGHTS_SECS", default_value_t = CacheType::Insights.default_ttl().as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub cache_ttl_insights_secs: u64,

    /// Lifetime of cached Monte Carlo results, in seconds (2 hours).
    #[arg(long, env = "PMR_CACHE_TTL_MONTE_CARLO_SECS", default_value_t = CacheType::MonteCarlo.default_ttl().as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub cache_ttl_monte_carlo_secs: u64,

    /// Lifetime of cached real-time metrics, in seconds (5 minutes).
    #[arg(long, env = "PMR_CACHE_TTL_METRICS_SECS", default_value_t = CacheType::Metrics.default_ttl().as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub cache_ttl_metrics_secs: u64,

    /// Lifetime of cached templates, in seconds (24 hours).
    #[arg(long, env = "PMR_CACHE_TTL_TEMPLATE_SECS", default_value_t = CacheType::Template.default_ttl().as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub cache_ttl_template_secs: u64,

    /// Memory tier capacity per instance, in MiB (0 turns the memory tier off).
    #[arg(long, env = "PMR_CACHE_MEMORY_MB", default_value_t = D.memory_bytes / (1024 * 1024),
        value_parser = clap::value_parser!(u64).range(0..=65_536))]
    pub cache_memory_mb: u64,

    /// Values whose JSON exceeds this many KiB are served but not cached.
    #[arg(long, env = "PMR_CACHE_MAX_VALUE_KB", default_value_t = D.max_value_bytes as u64 / 1024,
        value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub cache_max_value_kb: u64,

    /// Longest wait for one Redis cache call, in milliseconds, before it counts as a miss.
    #[arg(long, env = "PMR_CACHE_REDIS_TIMEOUT_MS", default_value_t = D.redis_timeout.as_millis() as u64,
        value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub cache_redis_timeout_ms: u64,
}

impl CacheArgs {
    /// The cache's settings.
    pub fn config(&self) -> CacheConfig {
        let secs = Duration::from_secs;
        CacheConfig {
            ttls: [
                secs(self.cache_ttl_report_secs),
                secs(self.cache_ttl_insights_secs),
                secs(self.cache_ttl_monte_carlo_secs),
                secs(self.cache_ttl_metrics_secs),
                secs(self.cache_ttl_template_secs),
            ],
            memory_bytes: self.cache_memory_mb * 1024 * 1024,
            max_value_bytes: usize::try_from(self.cache_max_value_kb * 1024).unwrap_or(usize::MAX),
            redis_timeout: Duration::from_millis(self.cache_redis_timeout_ms),
        }
    }
}
