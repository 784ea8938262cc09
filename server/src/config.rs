//! The server's configuration, read once at start from flags and environment variables and passed
//! down. Every field is listed in the README's configuration table.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser};

use crate::auth::session::SessionPolicy;
use crate::cache::CacheConfig;
use crate::collab::WsConfig;
use crate::domain::rag::{RagPolicy, Thresholds};
use crate::insights::llm::LlmConfig;
use crate::monitor::MonitorConfig;
use crate::reports::generate::GenerationParams;

/// Settings of one server instance.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "server",
    version,
    about = "PMR: project monthly reports, served."
)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(long, env = "PMR_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Where data lives: `sqlite://PATH` (created when missing) or `postgres://USER:PASS@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/pmr.db")]
    pub database_url: String,

    /// Redis, e.g. `redis://127.0.0.1:6379/0`. Optional for one instance; required for several.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,

    /// Folder holding the compiled site (`pkg/pmr.js`, `pkg/pmr.wasm`, `pkg/pmr.css`, public files).
    #[arg(long, env = "PMR_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Write the demo portfolio into an empty database at start.
    #[arg(long, env = "PMR_SEED_DEMO", default_value_t = true, action = ArgAction::Set)]
    pub seed_demo: bool,

    /// Copies of each demo project to seed (1 to 50; codes `CDW`, `CDW-2`, …): load tests that need
    /// many report sessions raise it.
    #[arg(long, env = "PMR_SEED_COPIES", default_value_t = 1,
        value_parser = clap::value_parser!(u32).range(1..=50))]
    pub seed_copies: u32,

    /// Monte Carlo iterations per report generation (1 to 1,000,000).
    #[arg(long, env = "PMR_MC_ITERATIONS", default_value_t = 10_000,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub monte_carlo_iterations: u32,

    /// CPI and SPI(t) at or above this are green.
    #[arg(long, env = "PMR_RAG_GREEN_INDEX", default_value_t = 0.95)]
    pub rag_green_index: f64,

    /// CPI and SPI(t) at or above this (and below the green threshold) are amber; below it, red.
    #[arg(long, env = "PMR_RAG_AMBER_INDEX", default_value_t = 0.85)]
    pub rag_amber_index: f64,

    /// OpenAI-compatible endpoint for AI insights, up to `/chat/completions` (e.g.
    /// `https://api.openai.com/v1`). Unset: the deterministic rules engine writes the insights.
    #[arg(long, env = "PMR_LLM_BASE_URL")]
    pub llm_base_url: Option<String>,

    /// API key sent as a bearer token to the insights endpoint.
    #[arg(long, env = "PMR_LLM_API_KEY", hide_env_values = true)]
    pub llm_api_key: Option<String>,

    /// Model name asked for on the insights endpoint.
    #[arg(long, env = "PMR_LLM_MODEL", default_value = "gpt-4o-mini")]
    pub llm_model: String,

    /// Seconds to wait for the model before falling back to the rules engine (1 to 120).
    #[arg(long, env = "PMR_LLM_TIMEOUT_SECS", default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=120))]
    pub llm_timeout_secs: u64,

    /// Password of the `admin` account created on first start (12+ characters). Unset: a random one is
    /// generated and printed once to the log.
    #[arg(long, env = "PMR_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Password of the demo accounts `vera` (viewer) and `eddie` (editor), created with the demo
    /// portfolio. Unset: generated and printed once to the log.
    #[arg(long, env = "PMR_DEMO_PASSWORD", hide_env_values = true)]
    pub demo_password: Option<String>,

    /// Seconds that in-flight requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "PMR_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,

    /// Minutes without activity after which a session ends (1 to 10,080).
    #[arg(long, env = "PMR_SESSION_IDLE_MINUTES", default_value_t = 30,
        value_parser = clap::value_parser!(u32).range(1..=10_080))]
    pub session_idle_minutes: u32,

    /// Hours after sign-in after which a session ends whatever the activity (1 to 720).
    #[arg(long, env = "PMR_SESSION_MAX_HOURS", default_value_t = 12,
        value_parser = clap::value_parser!(u32).range(1..=720))]
    pub session_max_hours: u32,

    /// Whether users reach the app over HTTPS: the session cookie is then `Secure` and
    /// `__Host-`-prefixed, `Strict-Transport-Security` is sent, and the app's own origin is
    /// `https://`. Unset: yes, unless the server listens on a loopback address (`make run`, or a
    /// proxy on the same machine, which then sets this to `true` if it serves HTTPS).
    #[arg(long, env = "PMR_SECURE_COOKIES", action = ArgAction::Set)]
    pub secure_cookies: Option<bool>,

    /// Comma-separated origins (`https://pmr.example.com`), besides the app's own, allowed to send
    /// state-changing requests and to open WebSockets; e.g. the public name behind a proxy.
    #[arg(long, env = "PMR_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Header carrying the client's address when a reverse proxy sets it (e.g. `X-Forwarded-For`,
    /// whose last entry is used, or `X-Real-IP`). Unset: the TCP peer address. Set it only behind a
    /// proxy that overwrites the header, or clients could pick their own address for throttling.
    #[arg(long, env = "PMR_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,

    /// Lifetime of cached reports, in seconds (the seed's 1 hour).
    #[arg(long, env = "PMR_CACHE_TTL_REPORT_SECS", default_value_t = 3600,
        value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub cache_ttl_report_secs: u64,

    /// Lifetime of cached AI insights, in seconds (30 minutes).
    #[arg(long, env = "PMR_CACHE_TTL_INSIGHTS_SECS", default_value_t = 1800,
        value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub cache_ttl_insights_secs: u64,

    /// Lifetime of cached Monte Carlo results, in seconds (2 hours).
    #[arg(long, env = "PMR_CACHE_TTL_MONTE_CARLO_SECS", default_value_t = 7200,
        value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub cache_ttl_monte_carlo_secs: u64,

    /// Lifetime of cached real-time metrics, in seconds (5 minutes).
    #[arg(long, env = "PMR_CACHE_TTL_METRICS_SECS", default_value_t = 300,
        value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub cache_ttl_metrics_secs: u64,

    /// Lifetime of cached templates, in seconds (24 hours).
    #[arg(long, env = "PMR_CACHE_TTL_TEMPLATE_SECS", default_value_t = 86_400,
        value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub cache_ttl_template_secs: u64,

    /// Memory tier capacity per instance, in MiB (0 turns the memory tier off).
    #[arg(long, env = "PMR_CACHE_MEMORY_MB", default_value_t = 64,
        value_parser = clap::value_parser!(u64).range(0..=65_536))]
    pub cache_memory_mb: u64,

    /// Values whose JSON exceeds this many KiB are served but not cached.
    #[arg(long, env = "PMR_CACHE_MAX_VALUE_KB", default_value_t = 2048,
        value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub cache_max_value_kb: u64,

    /// Record performance metrics from start (they can be switched at runtime by an admin).
    #[arg(long, env = "PMR_MONITOR_ENABLED", default_value_t = true, action = ArgAction::Set)]
    pub monitor_enabled: bool,

    /// Length of the monitor's sliding window, in minutes (1 to 1,440).
    #[arg(long, env = "PMR_MONITOR_WINDOW_MINUTES", default_value_t = 15,
        value_parser = clap::value_parser!(u64).range(1..=1440))]
    pub monitor_window_minutes: u64,

    /// Seconds a threshold must stay breached before its alert fires (0 to 3,600).
    #[arg(long, env = "PMR_ALERT_PENDING_SECS", default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub alert_pending_secs: u64,

    /// Threshold of `report_generation_time`, in ms.
    #[arg(
        long,
        env = "PMR_THRESHOLD_REPORT_GENERATION_MS",
        default_value_t = 30_000.0
    )]
    pub threshold_report_generation_ms: f64,

    /// Threshold of `ai_insight_generation_time`, in ms.
    #[arg(long, env = "PMR_THRESHOLD_AI_INSIGHT_MS", default_value_t = 10_000.0)]
    pub threshold_ai_insight_ms: f64,

    /// Threshold of `monte_carlo_analysis_time`, in ms.
    #[arg(long, env = "PMR_THRESHOLD_MONTE_CARLO_MS", default_value_t = 15_000.0)]
    pub threshold_monte_carlo_ms: f64,

    /// Threshold of `websocket_message_latency`, in ms.
    #[arg(
        long,
        env = "PMR_THRESHOLD_WEBSOCKET_LATENCY_MS",
        default_value_t = 100.0
    )]
    pub threshold_websocket_latency_ms: f64,

    /// Lowest acceptable `cache_hit_rate`, in percent.
    #[arg(long, env = "PMR_THRESHOLD_CACHE_HIT_RATE", default_value_t = 70.0)]
    pub threshold_cache_hit_rate: f64,

    /// Threshold of `database_query_time`, in ms.
    #[arg(
        long,
        env = "PMR_THRESHOLD_DATABASE_QUERY_MS",
        default_value_t = 1_000.0
    )]
    pub threshold_database_query_ms: f64,

    /// Threshold of `api_response_time`, in ms.
    #[arg(long, env = "PMR_THRESHOLD_API_RESPONSE_MS", default_value_t = 2_000.0)]
    pub threshold_api_response_ms: f64,

    /// Longest wait for one Redis cache call, in milliseconds, before it counts as a miss.
    #[arg(long, env = "PMR_CACHE_REDIS_TIMEOUT_MS", default_value_t = 250,
        value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub cache_redis_timeout_ms: u64,

    /// Most messages in one WebSocket batch.
    #[arg(long, env = "WS_BATCH_MAX_SIZE", default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub ws_batch_max_size: u64,

    /// Longest a WebSocket message waits for others to join its batch, in milliseconds.
    #[arg(long, env = "WS_BATCH_MAX_WAIT_MS", default_value_t = 50,
        value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub ws_batch_max_wait_ms: u64,

    /// Batch WebSocket messages (`false`: each message goes out alone, at once).
    #[arg(long, env = "WS_ENABLE_BATCHING", default_value_t = true, action = ArgAction::Set)]
    pub ws_enable_batching: bool,

    /// A collaboration connection that sends nothing for this many minutes is closed.
    #[arg(long, env = "WS_IDLE_TIMEOUT_MINUTES", default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=1440))]
    pub ws_idle_timeout_minutes: u64,

    /// Most connections to one report's collaboration session.
    #[arg(long, env = "WS_MAX_CONNECTIONS_PER_SESSION", default_value_t = 50,
        value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub ws_max_connections_per_session: u64,

    /// Most connections one person (an account or an API token) may hold in one report's session.
    #[arg(long, env = "WS_MAX_CONNECTIONS_PER_USER", default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub ws_max_connections_per_user: u64,

    /// Most collaboration connections on this instance.
    #[arg(long, env = "WS_MAX_CONNECTIONS", default_value_t = 20_000,
        value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub ws_max_connections: u64,

    /// KiB waiting to be written to one connection before it is closed as a slow consumer.
    #[arg(long, env = "WS_OUTBOUND_QUEUE_KB", default_value_t = 1024,
        value_parser = clap::value_parser!(u64).range(16..=65_536))]
    pub ws_outbound_queue_kb: u64,

    /// Largest message a collaboration client may send, in KiB.
    #[arg(long, env = "WS_MAX_MESSAGE_KB", default_value_t = 64,
        value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub ws_max_message_kb: u64,

    /// Monte Carlo reruns and report regenerations one caller may start per minute (a burst of this
    /// many, then one every 60/N seconds); runs answered from the cache are free.
    #[arg(long, env = "PMR_COSTLY_RUNS_PER_MINUTE", default_value_t = 10,
        value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub costly_runs_per_minute: u32,

    /// Longest wait for a complete request head, in seconds, after a connection opens or its previous
    /// response; a slower client (slowloris) is dropped.
    #[arg(long, env = "PMR_HEADER_READ_TIMEOUT_SECS", default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=300))]
    pub header_read_timeout_secs: u64,

    /// Longest time a request body may take to arrive, in seconds, from its first read; a slower
    /// body (a slow POST) is cut off and its connection closed.
    #[arg(long, env = "PMR_BODY_READ_TIMEOUT_SECS", default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_read_timeout_secs: u64,

    /// Most open connections from one peer address (WebSockets included); more are answered 429.
    /// 0: no limit. Behind a reverse proxy every client shares the proxy's address: raise it there.
    #[arg(long, env = "PMR_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 256,
        value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub max_connections_per_address: u64,

    /// Seconds between the server's pings to each connection (two unanswered intervals drop it).
    #[arg(long, env = "WS_PING_INTERVAL_SECS", default_value_t = 25,
        value_parser = clap::value_parser!(u64).range(1..=600))]
    pub ws_ping_interval_secs: u64,
}

impl Config {
    /// The configuration for tests: defaults, with the given database and no demo seeding.
    pub fn for_database(database_url: impl Into<String>) -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.into(),
            redis_url: None,
            site_root: PathBuf::from("target/site"),
            seed_demo: false,
            seed_copies: 1,
            shutdown_grace_secs: 10,
            monte_carlo_iterations: 10_000,
            rag_green_index: 0.95,
            rag_amber_index: 0.85,
            llm_base_url: None,
            llm_api_key: None,
            llm_model: "gpt-4o-mini".into(),
            llm_timeout_secs: 10,
            admin_password: None,
            demo_password: None,
            session_idle_minutes: 30,
            session_max_hours: 12,
            secure_cookies: None,
            allowed_origins: Vec::new(),
            client_ip_header: None,
            cache_ttl_report_secs: 3600,
            cache_ttl_insights_secs: 1800,
            cache_ttl_monte_carlo_secs: 7200,
            cache_ttl_metrics_secs: 300,
            cache_ttl_template_secs: 86_400,
            cache_memory_mb: 64,
            cache_max_value_kb: 2048,
            cache_redis_timeout_ms: 250,
            ws_batch_max_size: 10,
            ws_batch_max_wait_ms: 50,
            ws_enable_batching: true,
            ws_idle_timeout_minutes: 30,
            ws_max_connections_per_session: 50,
            ws_max_connections_per_user: 10,
            ws_max_connections: 20_000,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 30,
            costly_runs_per_minute: 10,
            max_connections_per_address: 256,
            ws_outbound_queue_kb: 1024,
            ws_max_message_kb: 64,
            ws_ping_interval_secs: 25,
            monitor_enabled: true,
            monitor_window_minutes: 15,
            alert_pending_secs: 60,
            threshold_report_generation_ms: 30_000.0,
            threshold_ai_insight_ms: 10_000.0,
            threshold_monte_carlo_ms: 15_000.0,
            threshold_websocket_latency_ms: 100.0,
            threshold_cache_hit_rate: 70.0,
            threshold_database_query_ms: 1_000.0,
            threshold_api_response_ms: 2_000.0,
        }
    }

    /// Connection limits from this configuration.
    pub fn connection_limits(&self) -> crate::serve::ConnectionLimits {
        crate::serve::ConnectionLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            body_read_timeout: Duration::from_secs(self.body_read_timeout_secs),
            per_address: usize::try_from(self.max_connections_per_address).unwrap_or(usize::MAX),
        }
    }

    /// Monitor settings from this configuration.
    pub fn monitor_config(&self) -> MonitorConfig {
        let values = [
            self.threshold_report_generation_ms,
            self.threshold_ai_insight_ms,
            self.threshold_monte_carlo_ms,
            self.threshold_websocket_latency_ms,
            self.threshold_cache_hit_rate,
            self.threshold_database_query_ms,
            self.threshold_api_response_ms,
        ];
        let mut thresholds = crate::monitor::alerts::defaults();
        for (t, v) in thresholds.iter_mut().zip(values) {
            t.value = v;
        }
        MonitorConfig {
            enabled: self.monitor_enabled,
            window: Duration::from_secs(self.monitor_window_minutes * 60),
            pending_for: Duration::from_secs(self.alert_pending_secs),
            thresholds,
        }
    }

    /// Cache settings from this configuration.
    pub fn cache_config(&self) -> CacheConfig {
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

    /// The collaboration transport's settings from this configuration.
    pub fn ws_config(&self) -> WsConfig {
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        WsConfig {
            batch_max_size: size(self.ws_batch_max_size),
            batch_max_wait: Duration::from_millis(self.ws_batch_max_wait_ms),
            batching: self.ws_enable_batching,
            idle_timeout: Duration::from_secs(self.ws_idle_timeout_minutes * 60),
            max_per_session: size(self.ws_max_connections_per_session),
            max_per_user: size(self.ws_max_connections_per_user),
            max_connections: size(self.ws_max_connections),
            outbound_queue_bytes: size(self.ws_outbound_queue_kb * 1024),
            max_message_bytes: size(self.ws_max_message_kb * 1024),
            ping_interval: Duration::from_secs(self.ws_ping_interval_secs),
        }
    }

    /// Session lifetimes from this configuration.
    pub fn session_policy(&self) -> SessionPolicy {
        SessionPolicy {
            idle_secs: i64::from(self.session_idle_minutes) * 60,
            absolute_secs: i64::from(self.session_max_hours) * 3600,
        }
    }

    /// Whether the app is served over HTTPS (see [`Config::secure_cookies`]).
    pub fn https(&self) -> bool {
        self.secure_cookies
            .unwrap_or_else(|| !self.addr.ip().is_loopback())
    }

    /// The extra allowed origins, normalised (`scheme://host[:port]`, lowercase, no trailing slash).
    pub fn origins(&self) -> Result<Vec<String>, String> {
        self.allowed_origins
            .iter()
            .map(|o| o.trim())
            .filter(|o| !o.is_empty())
            .map(|o| {
                let lower = o.trim_end_matches('/').to_ascii_lowercase();
                let rest = lower
                    .strip_prefix("https://")
                    .or_else(|| lower.strip_prefix("http://"));
                match rest {
                    Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', '@', ' ']) => {
                        Ok(lower)
                    }
                    _ => Err(format!(
                        "PMR_ALLOWED_ORIGINS: '{o}' is not an origin like https://pmr.example.com"
                    )),
                }
            })
            .collect()
    }

    /// The language-model settings, when an endpoint is configured.
    pub fn llm(&self) -> Option<LlmConfig> {
        self.llm_base_url.as_ref().map(|base_url| LlmConfig {
            base_url: base_url.clone(),
            api_key: self.llm_api_key.clone(),
            model: self.llm_model.clone(),
            timeout: std::time::Duration::from_secs(self.llm_timeout_secs),
        })
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
        if self.session_idle_minutes > self.session_max_hours * 60 {
            return Err(format!(
                "PMR_SESSION_IDLE_MINUTES ({}) cannot exceed PMR_SESSION_MAX_HOURS ({}) in minutes",
                self.session_idle_minutes, self.session_max_hours
            ));
        }
        for (name, v) in [
            (
                "PMR_THRESHOLD_REPORT_GENERATION_MS",
                self.threshold_report_generation_ms,
            ),
            ("PMR_THRESHOLD_AI_INSIGHT_MS", self.threshold_ai_insight_ms),
            (
                "PMR_THRESHOLD_MONTE_CARLO_MS",
                self.threshold_monte_carlo_ms,
            ),
            (
                "PMR_THRESHOLD_WEBSOCKET_LATENCY_MS",
                self.threshold_websocket_latency_ms,
            ),
            (
                "PMR_THRESHOLD_CACHE_HIT_RATE",
                self.threshold_cache_hit_rate,
            ),
            (
                "PMR_THRESHOLD_DATABASE_QUERY_MS",
                self.threshold_database_query_ms,
            ),
            (
                "PMR_THRESHOLD_API_RESPONSE_MS",
                self.threshold_api_response_ms,
            ),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{name} must be a positive number, not {v}"));
            }
        }
        if self.threshold_cache_hit_rate > 100.0 {
            return Err("PMR_THRESHOLD_CACHE_HIT_RATE is a percentage: at most 100".into());
        }
        self.origins()?;
        if let Some(name) = &self.client_ip_header {
            http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("PMR_CLIENT_IP_HEADER: '{name}' is not a header name"))?;
        }
        Ok(())
    }

    /// Report generation settings from this configuration.
    pub fn generation_params(&self) -> GenerationParams {
        let bands = Thresholds {
            green_from: self.rag_green_index,
            amber_from: self.rag_amber_index,
        };
        GenerationParams {
            iterations: self.monte_carlo_iterations,
            rag: RagPolicy {
                cost: bands,
                schedule: bands,
            },
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            ..GenerationParams::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_embedded_setup() {
        let config = Config::try_parse_from(["server"]).expect("defaults parse");
        assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.database_url, "sqlite://data/pmr.db");
        assert!(config.seed_demo);
    }

    #[test]
    fn flags_override_defaults() {
        let config =
            Config::try_parse_from(["server", "--addr", "0.0.0.0:8080", "--seed-demo", "false"])
                .expect("flags parse");
        assert_eq!(config.addr.port(), 8080);
        assert!(!config.seed_demo);
    }

    #[test]
    fn iterations_are_bounded() {
        assert!(Config::try_parse_from(["server", "--monte-carlo-iterations", "0"]).is_err());
        assert!(Config::try_parse_from(["server", "--monte-carlo-iterations", "1000001"]).is_err());
        let config =
            Config::try_parse_from(["server", "--monte-carlo-iterations", "500"]).expect("parse");
        assert_eq!(config.generation_params().iterations, 500);
    }

    #[test]
    fn rag_thresholds_must_be_ordered() {
        let ok = Config::try_parse_from(["server"]).expect("parse");
        assert!(ok.validate().is_ok());
        let flipped = Config::try_parse_from([
            "server",
            "--rag-green-index",
            "0.8",
            "--rag-amber-index",
            "0.9",
        ])
        .expect("parse");
        assert!(flipped
            .validate()
            .expect_err("amber above green")
            .contains("PMR_RAG_AMBER_INDEX"));
    }

    #[test]
    fn session_lifetimes_and_origins_are_checked() {
        let config = Config::try_parse_from([
            "server",
            "--session-idle-minutes",
            "45",
            "--session-max-hours",
            "2",
            "--allowed-origins",
            "https://PMR.example.com/,http://10.0.0.5:8080",
        ])
        .expect("parse");
        assert_eq!(config.session_policy().idle_secs, 2700);
        assert_eq!(config.session_policy().absolute_secs, 7200);
        assert_eq!(
            config.origins().expect("origins"),
            ["https://pmr.example.com", "http://10.0.0.5:8080"]
        );
        assert!(config.validate().is_ok());
        let idle_too_long = Config::try_parse_from([
            "server",
            "--session-idle-minutes",
            "180",
            "--session-max-hours",
            "2",
        ])
        .expect("parse");
        assert!(idle_too_long.validate().is_err());
        for bad in ["pmr.example.com", "https://x/path", "ftp://x"] {
            let c = Config::try_parse_from(["server", "--allowed-origins", bad]).expect("parse");
            assert!(c.validate().is_err(), "{bad}");
        }
        assert!(Config::try_parse_from(["server", "--session-idle-minutes", "0"]).is_err());
    }

    #[test]
    fn cache_settings_follow_the_seed_and_can_be_overridden() {
        let defaults = Config::try_parse_from(["server"])
            .expect("parse")
            .cache_config();
        let secs: Vec<u64> = defaults.ttls.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [3600, 1800, 7200, 300, 86_400]);
        assert_eq!(defaults.memory_bytes, 64 * 1024 * 1024);
        let tuned = Config::try_parse_from([
            "server",
            "--cache-ttl-insights-secs",
            "60",
            "--cache-memory-mb",
            "0",
        ])
        .expect("parse")
        .cache_config();
        assert_eq!(tuned.ttls[1], Duration::from_secs(60));
        assert_eq!(tuned.memory_bytes, 0);
        assert!(Config::try_parse_from(["server", "--cache-ttl-report-secs", "0"]).is_err());
    }

    #[test]
    fn bad_addresses_are_refused() {
        assert!(Config::try_parse_from(["server", "--addr", "nowhere"]).is_err());
    }
}
