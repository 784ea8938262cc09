//! A Redis reachability check for `/readyz`. It opens a connection per check, one check at a time
//! (callers wait for the one under way: `/readyz` answers anyone, and must not open connections as
//! fast as it is asked); the cache service (its own module) keeps long-lived connections.

use std::time::{Duration, Instant};

/// How long a readiness check waits for Redis before calling it down.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// A configured Redis server to probe.
#[derive(Clone)]
pub struct RedisProbe {
    client: redis::Client,
    one_at_a_time: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// The outcome of one probe.
#[derive(Debug, Clone)]
pub struct ProbeResult {
    pub up: bool,
    pub latency: Duration,
    pub error: Option<String>,
}

impl RedisProbe {
    /// Validates the URL; does not connect.
    pub fn new(url: &str) -> anyhow::Result<RedisProbe> {
        let client =
            redis::Client::open(url).map_err(|e| anyhow::anyhow!("invalid REDIS_URL: {e}"))?;
        Ok(RedisProbe {
            client,
            one_at_a_time: Default::default(),
        })
    }

    /// Connects and sends `PING`, within [`PROBE_TIMEOUT`].
    pub async fn probe(&self) -> ProbeResult {
        let _turn = self.one_at_a_time.lock().await;
        let started = Instant::now();
        let outcome = tokio::time::timeout(PROBE_TIMEOUT, async {
            let mut conn = self.client.get_multiplexed_async_connection().await?;
            redis::cmd("PING").query_async::<String>(&mut conn).await
        })
        .await;
        let error = match outcome {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!("no answer within {} ms", PROBE_TIMEOUT.as_millis())),
        };
        ProbeResult {
            up: error.is_none(),
            latency: started.elapsed(),
            error,
        }
    }
}
