//! Where the data lives, as a flag and an environment variable.

use clap::Args;

/// `DATABASE_URL`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Data")]
pub struct StoreArgs {
    /// Where data lives: `sqlite://PATH` (created when missing) or `postgres://USER:PASS@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/pmr.db")]
    pub database_url: String,
}
