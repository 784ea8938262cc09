//! The state shared by every request: Leptos options, the store, the optional Redis connection, and
//! the services that server functions use. Built once at start-up; cheap to clone.

use std::sync::Arc;
use std::time::Instant;

use app::services::Services;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::auth::accounts::StoreAccounts;
use crate::auth::bootstrap;
use crate::auth::caller::Authority;
use crate::auth::cookie::CookieSettings;
use crate::auth::guard::AuthSettings;
use crate::auth::revoke::Revocations;
use crate::auth::throttle::{Limits, LoginThrottle};
use crate::cache::CacheService;
use crate::collab::docs::Documents;
use crate::collab::editing::StoreEditing;
use crate::collab::WebSocketOptimizer;
use crate::config::Config;
use crate::insights::llm::LlmEngine;
use crate::insights::rules::RulesEngine;
use crate::insights::InsightEngine;
use crate::monitor::service::MonitorService;
use crate::monitor::{Metric, Monitor};
use crate::redis_probe::RedisProbe;
use crate::reports::generate::GenerationParams;
use crate::reports::StorePortfolio;
use crate::seed::{seed_copies_if_empty, SeedOutcome};
use crate::storage::{redact, Store};

/// Everything a handler may need: one [`Shared`] behind an `Arc`, so the clone axum makes for every
/// extractor and layer of every request is one reference count, not a copy of every field (which
/// cost a cached read a tenth of its CPU). Fields are read through it (`state.store`).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What an [`AppState`] holds.
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub redis: Option<RedisProbe>,
    pub services: Services,
    /// Settings and insight engine used when reports are (re)generated.
    pub generation: GenerationParams,
    pub insights: Arc<dyn InsightEngine>,
    /// Sessions, cookie and allowed origins, for the authentication layer.
    pub auth: AuthSettings,
    /// The two-tier cache every read of costly data goes through.
    pub cache: CacheService,
    /// The performance monitor.
    pub monitor: Monitor,
    /// The collaboration transport (WebSocket sessions, batching, the Redis relay).
    pub collab: WebSocketOptimizer,
    /// The reports' shared documents (collaborative editing).
    pub documents: Documents,
    /// Resolves credentials into rights (the one access decision's source).
    pub authority: Authority,
    /// Changes of rights that open connections follow, on every instance.
    pub revocations: Revocations,
    pub started: Instant,
}

/// A project's creator became its member: every remembered caller of the account is forgotten, here
/// and on every instance, so the next request sees the project.
#[async_trait::async_trait]
impl crate::reports::RightsChanged for Revocations {
    async fn memberships_changed(&self, user_id: i64) {
        self.publish(crate::auth::revoke::Revocation::Account {
            user_id,
            why: crate::auth::revoke::Why::RightsChanged,
        })
        .await;
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    /// Opens the store (migrating it), creates the first admin if there is none, seeds the demo
    /// portfolio and its accounts when configured and the store is empty, and wires the services.
    pub async fn build(config: &Config) -> anyhow::Result<AppState> {
        config.validate().map_err(anyhow::Error::msg)?;
        let store = Store::open(&config.store.database_url).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot open the database {}: {e}",
                redact(&config.store.database_url)
            )
        })?;
        tracing::info!(backend = store.backend().as_str(), "store ready");
        let mut created = Vec::new();
        created
            .extend(bootstrap::ensure_admin(&store, config.auth.admin_password.as_deref()).await?);
        if config.seed.seed_demo {
            let today = chrono::Local::now().date_naive();
            if let SeedOutcome::Seeded {
                projects,
                tasks,
                reports,
            } = seed_copies_if_empty(
                &store,
                today,
                config.generation.params(),
                config.seed.seed_copies,
            )
            .await?
            {
                tracing::info!(projects, tasks, reports, "seeded the demo portfolio");
                created.extend(
                    bootstrap::ensure_demo_users(&store, config.auth.demo_password.as_deref())
                        .await?,
                );
            }
        }
        bootstrap::announce(&created);
        let redis = config
            .redis_url
            .as_deref()
            .map(RedisProbe::new)
            .transpose()?;
        AppState::from_parts(config, store, redis).map_err(anyhow::Error::msg)
    }

    /// Wires state around an open store; fails only on an invalid configuration.
    pub fn from_parts(
        config: &Config,
        store: Store,
        redis: Option<RedisProbe>,
    ) -> Result<AppState, String> {
        let leptos_options = LeptosOptions::builder()
            .output_name(app::OUTPUT_NAME)
            .site_root(config.serve.site_root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .site_addr(config.serve.addr)
            .hash_files(built_with_hashes(&config.serve.site_root))
            .build();
        let auth = AuthSettings {
            sessions: config.auth.session_policy(),
            cookie: CookieSettings {
                secure: config.https(),
            },
            allowed_origins: config.auth.origins()?.into(),
            client_ip_header: config.auth.client_ip_header()?,
        };
        let generation = config.generation.params();
        let insights = insight_engine(config);
        let cache = CacheService::new(config.cache.config(), config.redis_url.as_deref())?;
        let monitor = Monitor::new(config.monitor.config());
        monitor.spawn_evaluator(std::time::Duration::from_secs(5));
        spawn_hit_rate_sampler(&cache, &monitor);
        let throttle = LoginThrottle::new(Limits::default());
        let ws = config.ws.config();
        let collab =
            WebSocketOptimizer::new(ws, cache.instance_id().to_string(), Some(monitor.clone()));
        collab.spawn_idle_sweeper((ws.idle_timeout / 4).clamp(
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(60),
        ));
        let redis_client = config
            .redis_url
            .as_deref()
            .map(|url| redis::Client::open(url).map_err(|e| format!("REDIS_URL: {e}")))
            .transpose()?;
        if let Some(client) = &redis_client {
            crate::collab::relay::spawn(&collab, client.clone());
        }
        let revocations = Revocations::new(cache.instance_id().to_string(), redis_client);
        let authority = Authority::new(store.clone(), monitor.clone(), auth.sessions, &revocations);
        let documents = Documents::new(store.clone(), cache.clone());
        let portfolio = Arc::new(StorePortfolio::new(
            store.clone(),
            cache.clone(),
            monitor.clone(),
            generation,
            insights.clone(),
            crate::reports::Hooks {
                edits: Arc::new(crate::collab::editing::LiveReports {
                    documents: documents.clone(),
                    optimizer: collab.clone(),
                }),
                rights: Arc::new(revocations.clone()),
            },
            config.generation.costly_runs_per_minute,
        ));
        let services = Services {
            portfolio: portfolio.clone(),
            planning: portfolio,
            performance: Arc::new(MonitorService {
                monitor: monitor.clone(),
                cache: cache.clone(),
                sockets: {
                    let collab = collab.clone();
                    Box::new(move || (&collab.get_stats()).into())
                },
                iterations: generation.iterations,
                started: Instant::now(),
            }),
            editing: Arc::new(StoreEditing {
                store: store.clone(),
                documents: documents.clone(),
                optimizer: collab.clone(),
            }),
            accounts: Arc::new(StoreAccounts::new(
                store.clone(),
                revocations.clone(),
                monitor.clone(),
                auth.clone(),
                throttle,
            )),
        };
        Ok(AppState(Arc::new(Shared {
            leptos_options,
            store,
            redis,
            services,
            generation,
            insights,
            auth,
            cache,
            monitor,
            collab,
            documents,
            authority,
            revocations,
            started: Instant::now(),
        })))
    }
}

/// Records the cache's hit rate of the last 10 seconds as the `cache_hit_rate` gauge (when there were
/// at least 10 lookups), until the cache is dropped.
fn spawn_hit_rate_sampler(cache: &CacheService, monitor: &Monitor) {
    let (cache, monitor) = (cache.downgrade(), monitor.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
        let mut previous = (0u64, 0u64);
        loop {
            tick.tick().await;
            let Some(cache) = cache.upgrade() else {
                return;
            };
            let (hits, misses) = cache.lookups();
            let (dh, dm) = (hits - previous.0.min(hits), misses - previous.1.min(misses));
            previous = (hits, misses);
            // Fewer lookups than this say little about the rate.
            if dh + dm >= 10 {
                monitor.record_metric(Metric::CacheHitRate, dh as f64 * 100.0 / (dh + dm) as f64);
            }
        }
    });
}

/// The language-model engine when one is configured (and its client builds), else the rules engine.
fn insight_engine(config: &Config) -> Arc<dyn InsightEngine> {
    match config.llm.config().map(LlmEngine::new) {
        Some(Ok(engine)) => Arc::new(engine),
        Some(Err(e)) => {
            tracing::error!(error = %e, "cannot build the insights HTTP client; using the rules engine");
            Arc::new(RulesEngine)
        }
        None => Arc::new(RulesEngine),
    }
}

/// Whether the site was built with content-hashed file names (`make build` does): cargo-leptos then
/// writes `hash.txt` beside the server binary, naming the hashes, and the pages must name the hashed
/// files. A binary without it (the tests', a plain `cargo build`) names the plain ones. A `hash.txt`
/// whose WASM is not in the site root is said once: the pages would name files the site lacks.
fn built_with_hashes(site_root: &std::path::Path) -> bool {
    let Some(hashes) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt")))
        .and_then(|file| std::fs::read_to_string(file).ok())
    else {
        return false;
    };
    let wasm = hashes.lines().find_map(|line| {
        let (kind, hash) = line.split_once(':')?;
        (kind.trim() == "wasm").then(|| format!("{}.{}.wasm", app::OUTPUT_NAME, hash.trim()))
    });
    match wasm {
        Some(name) if site_root.join("pkg").join(&name).is_file() => true,
        _ => {
            tracing::warn!(
                site_root = %site_root.display(),
                "hash.txt beside the server names a build that is not in the site root: rebuild with \
                 `make build` or set PMR_SITE_ROOT to the site it built"
            );
            true
        }
    }
}
