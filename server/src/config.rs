//! The server's configuration, read once at start from flags and environment variables and passed
//! down. Each subsystem declares its own settings, with their defaults, in its folder (`args.rs`);
//! this struct flattens them into one command line. Every setting is listed in the README's
//! configuration table.

use clap::Parser;

use crate::auth::args::AuthArgs;
use crate::cache::args::CacheArgs;
use crate::collab::args::WsArgs;
use crate::insights::args::LlmArgs;
use crate::monitor::args::MonitorArgs;
use crate::reports::args::GenerationArgs;
use crate::seed::args::SeedArgs;
use crate::serve::args::ServeArgs;
use crate::storage::args::StoreArgs;

/// Settings of one server instance.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "server",
    version,
    about = "PMR: project monthly reports, served."
)]
pub struct Config {
    #[command(flatten)]
    pub serve: ServeArgs,

    #[command(flatten)]
    pub store: StoreArgs,

    /// Redis, e.g. `redis://127.0.0.1:6379/0`: the cache's shared tier, the collaboration relay and
    /// revocations between instances. Optional for one instance; required for several.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,

    #[command(flatten)]
    pub seed: SeedArgs,

    #[command(flatten)]
    pub auth: AuthArgs,

    #[command(flatten)]
    pub generation: GenerationArgs,

    #[command(flatten)]
    pub llm: LlmArgs,

    #[command(flatten)]
    pub cache: CacheArgs,

    #[command(flatten)]
    pub monitor: MonitorArgs,

    #[command(flatten)]
    pub ws: WsArgs,
}

impl Config {
    /// Whether the app is served over HTTPS (`PMR_SECURE_COOKIES`, or not listening on loopback).
    pub fn https(&self) -> bool {
        self.auth.https(self.serve.addr)
    }

    /// Checks what clap cannot, subsystem by subsystem.
    pub fn validate(&self) -> Result<(), String> {
        self.generation.validate()?;
        self.auth.validate()?;
        self.monitor.validate()?;
        self.ws.validate()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn defaults_are_the_embedded_setup() {
        let config = Config::try_parse_from(["server"]).expect("defaults parse");
        assert_eq!(config.serve.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.store.database_url, "sqlite://data/pmr.db");
        assert!(config.seed.seed_demo);
    }

    #[test]
    fn flags_override_defaults() {
        let config =
            Config::try_parse_from(["server", "--addr", "0.0.0.0:8080", "--seed-demo", "false"])
                .expect("flags parse");
        assert_eq!(config.serve.addr.port(), 8080);
        assert!(!config.seed.seed_demo);
    }

    #[test]
    fn iterations_are_bounded() {
        assert!(Config::try_parse_from(["server", "--monte-carlo-iterations", "0"]).is_err());
        assert!(Config::try_parse_from(["server", "--monte-carlo-iterations", "1000001"]).is_err());
        let config =
            Config::try_parse_from(["server", "--monte-carlo-iterations", "500"]).expect("parse");
        assert_eq!(config.generation.params().iterations, 500);
    }

    #[test]
    fn the_outbound_queue_holds_the_largest_frame() {
        let ok = Config::try_parse_from(["server"]).expect("parse");
        assert!(ok.validate().is_ok());
        let big = Config::try_parse_from(["server", "--ws-max-message-kb", "512"]).expect("parse");
        let why = big.validate().expect_err("a batch of ten 512 KiB messages");
        assert!(why.contains("WS_OUTBOUND_QUEUE_KB (1024)"), "{why}");
        let small =
            Config::try_parse_from(["server", "--ws-outbound-queue-kb", "256"]).expect("parse");
        assert!(small.validate().is_err(), "a whole document's sync");
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
        assert_eq!(config.auth.session_policy().idle_secs, 2700);
        assert_eq!(config.auth.session_policy().absolute_secs, 7200);
        assert_eq!(
            config.auth.origins().expect("origins"),
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
            .cache
            .config();
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
        .cache
        .config();
        assert_eq!(tuned.ttls[1], Duration::from_secs(60));
        assert_eq!(tuned.memory_bytes, 0);
        assert!(Config::try_parse_from(["server", "--cache-ttl-report-secs", "0"]).is_err());
    }

    #[test]
    fn every_subsystem_default_is_its_own() {
        let config = Config::try_parse_from(["server"]).expect("defaults parse");
        assert_eq!(config.ws.config(), crate::collab::WsConfig::DEFAULT);
        assert_eq!(config.cache.config(), crate::cache::CacheConfig::DEFAULT);
        assert_eq!(
            config.auth.session_policy(),
            crate::auth::session::SessionPolicy::DEFAULT
        );
        assert_eq!(
            config.serve.limits(),
            crate::serve::ConnectionLimits::DEFAULT
        );
        let params = config.generation.params();
        let d = crate::reports::generate::GenerationParams::DEFAULT;
        assert_eq!((params.iterations, params.rag), (d.iterations, d.rag));
        let monitor = config.monitor.config();
        let m = crate::monitor::MonitorConfig::default();
        assert_eq!(
            (monitor.enabled, monitor.window, monitor.pending_for),
            (m.enabled, m.window, m.pending_for)
        );
        assert_eq!(monitor.thresholds, crate::monitor::alerts::defaults());
    }

    #[test]
    fn monitoring_is_switched_by_the_seeds_name_or_its_older_one() {
        let enabled = |args: &[&str]| {
            let config = Config::try_parse_from(args).expect("parse");
            config.validate().map(|()| config.monitor.config().enabled)
        };
        assert_eq!(enabled(&["server"]), Ok(true));
        let seed = ["server", "--performance-monitoring-enabled", "false"];
        assert_eq!(enabled(&seed), Ok(false));
        assert_eq!(
            enabled(&["server", "--monitor-enabled", "false"]),
            Ok(false)
        );
        let both = [
            "server",
            "--performance-monitoring-enabled",
            "true",
            "--monitor-enabled",
            "true",
        ];
        assert_eq!(enabled(&both), Ok(true));
        let disagree = [
            "server",
            "--performance-monitoring-enabled",
            "true",
            "--monitor-enabled",
            "false",
        ];
        let refused = enabled(&disagree).expect_err("the two names disagree");
        assert!(
            refused.contains("PERFORMANCE_MONITORING_ENABLED"),
            "{refused}"
        );
        assert!(refused.contains("PMR_MONITOR_ENABLED"), "{refused}");
    }

    #[test]
    fn thresholds_are_set_by_name() {
        let config = Config::try_parse_from([
            "server",
            "--threshold-cache-hit-rate",
            "55",
            "--threshold-api-response-ms",
            "750",
        ])
        .expect("parse");
        let thresholds = config.monitor.config().thresholds;
        let of = |name: &str| {
            thresholds
                .iter()
                .find(|t| t.metric == name)
                .map(|t| (t.value, t.direction))
        };
        use app::performance::Direction;
        assert_eq!(of("cache_hit_rate"), Some((55.0, Direction::Below)));
        assert_eq!(of("api_response_time"), Some((750.0, Direction::Above)));
        assert_eq!(
            of("report_generation_time"),
            Some((30_000.0, Direction::Above))
        );
        let bad =
            Config::try_parse_from(["server", "--threshold-cache-hit-rate", "120"]).expect("parse");
        assert!(bad
            .validate()
            .expect_err("over 100")
            .contains("PMR_THRESHOLD_CACHE_HIT_RATE"));
        let zero =
            Config::try_parse_from(["server", "--threshold-monte-carlo-ms", "0"]).expect("parse");
        assert!(zero
            .validate()
            .expect_err("zero")
            .contains("PMR_THRESHOLD_MONTE_CARLO_MS"));
    }

    #[test]
    fn bad_addresses_are_refused() {
        assert!(Config::try_parse_from(["server", "--addr", "nowhere"]).is_err());
    }
}
