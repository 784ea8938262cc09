//! The demo portfolio's settings as flags and environment variables.

use clap::{ArgAction, Args};

use super::MAX_COPIES;

/// `PMR_SEED_*`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Demo portfolio")]
pub struct SeedArgs {
    /// Write the demo portfolio into an empty database at start.
    #[arg(long, env = "PMR_SEED_DEMO", default_value_t = true, action = ArgAction::Set)]
    pub seed_demo: bool,

    /// Copies of each demo project to seed (1 to 50; codes `CDW`, `CDW-2`, …): load tests that need
    /// many report sessions raise it.
    #[arg(long, env = "PMR_SEED_COPIES", default_value_t = 1,
        value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_COPIES)))]
    pub seed_copies: u32,
}
