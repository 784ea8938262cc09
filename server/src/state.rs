//! The state shared by every request: Leptos options, the store, the optional Redis connection, and
//! the services that server functions use. Built once at start-up; cheap to clone.

use std::sync::Arc;
use std::time::Instant;

use app::services::Services;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::auth::accounts::StoreAccounts;
use crate::auth::bootstrap;
use crate::auth::cookie::CookieSettings;
use crate::auth::guard::AuthSettings;
use crate::auth::throttle::{Limits, LoginThrottle};
use crate::cache::CacheService;
use crate::config::Config;
use crate::insights::llm::LlmEngine;
use crate::insights::rules::RulesEngine;
use crate::insights::InsightEngine;
use crate::redis_probe::RedisProbe;
use crate::reports::generate::GenerationParams;
use crate::reports::StorePortfolio;
use crate::seed::{seed_if_empty, SeedOutcome};
use crate::storage::{redact, Store};

/// Everything a handler may need.
#[derive(Clone)]
pub struct AppState {
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
    pub started: Instant,
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
        let store = Store::open(&config.database_url).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot open the database {}: {e}",
                redact(&config.database_url)
            )
        })?;
        tracing::info!(backend = store.backend().as_str(), "store ready");
        let mut created = Vec::new();
        created.extend(bootstrap::ensure_admin(&store, config.admin_password.as_deref()).await?);
        if config.seed_demo {
            let today = chrono::Local::now().date_naive();
            if let SeedOutcome::Seeded {
                projects,
                tasks,
                reports,
            } = seed_if_empty(&store, today, config.generation_params()).await?
            {
                tracing::info!(projects, tasks, reports, "seeded the demo portfolio");
                created.extend(
                    bootstrap::ensure_demo_users(&store, config.demo_password.as_deref()).await?,
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
            .site_root(config.site_root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .site_addr(config.addr)
            .build();
        let auth = AuthSettings {
            sessions: config.session_policy(),
            cookie: CookieSettings {
                secure: config.secure_cookies,
            },
            allowed_origins: config.origins()?.into(),
            client_ip_header: config
                .client_ip_header
                .as_deref()
                .map(|h| {
                    axum::http::HeaderName::from_bytes(h.as_bytes())
                        .map_err(|_| format!("PMR_CLIENT_IP_HEADER: '{h}' is not a header name"))
                })
                .transpose()?,
        };
        let generation = config.generation_params();
        let insights = insight_engine(config);
        let cache = CacheService::new(config.cache_config(), config.redis_url.as_deref())?;
        let throttle = Arc::new(LoginThrottle::new(Limits::default()));
        let services = Services {
            portfolio: Arc::new(StorePortfolio::new(
                store.clone(),
                cache.clone(),
                generation,
                insights.clone(),
            )),
            accounts: Arc::new(StoreAccounts::new(
                store.clone(),
                cache.clone(),
                auth.clone(),
                throttle,
            )),
        };
        Ok(AppState {
            leptos_options,
            store,
            redis,
            services,
            generation,
            insights,
            auth,
            cache,
            started: Instant::now(),
        })
    }
}

/// The language-model engine when one is configured (and its client builds), else the rules engine.
fn insight_engine(config: &Config) -> Arc<dyn InsightEngine> {
    match config.llm().map(LlmEngine::new) {
        Some(Ok(engine)) => Arc::new(engine),
        Some(Err(e)) => {
            tracing::error!(error = %e, "cannot build the insights HTTP client; using the rules engine");
            Arc::new(RulesEngine)
        }
        None => Arc::new(RulesEngine),
    }
}
