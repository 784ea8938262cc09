//! Where the server listens and how it treats connections, as flags and environment variables; the
//! connection limits' defaults are [`ConnectionLimits::DEFAULT`]'s.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::ConnectionLimits;

const D: ConnectionLimits = ConnectionLimits::DEFAULT;

/// The address, the site's files, shutdown, and the limits on connections.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Serving")]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "PMR_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Folder holding the compiled site (`pkg/pmr.js`, `pkg/pmr.wasm`, `pkg/pmr.css`, public files).
    #[arg(long, env = "PMR_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Seconds that in-flight requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "PMR_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,

    /// Longest wait for a complete request head, in seconds, after a connection opens or its previous
    /// response; a slower client (slowloris) is dropped.
    #[arg(long, env = "PMR_HEADER_READ_TIMEOUT_SECS", default_value_t = D.header_read_timeout.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=300))]
    pub header_read_timeout_secs: u64,

    /// Longest time a request body may take to arrive, in seconds, from its first read; a slower
    /// body (a slow POST) is cut off and its connection closed.
    #[arg(long, env = "PMR_BODY_READ_TIMEOUT_SECS", default_value_t = D.body_read_timeout.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_read_timeout_secs: u64,

    /// Most open connections from one peer address (WebSockets included); more are answered 429.
    /// 0: no limit. Behind a reverse proxy every client shares the proxy's address: raise it there.
    #[arg(long, env = "PMR_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = D.per_address as u64,
        value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub max_connections_per_address: u64,
}

impl ServeArgs {
    /// The connection limits.
    pub fn limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            body_read_timeout: Duration::from_secs(self.body_read_timeout_secs),
            per_address: usize::try_from(self.max_connections_per_address).unwrap_or(usize::MAX),
        }
    }

    /// How long in-flight requests get after a shutdown signal.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}
