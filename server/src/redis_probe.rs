//! A Redis reachability check for `/readyz`. It opens a connection per check, one check at a time:
//! callers that come while one runs wait for it and share its result (`/readyz` answers anyone, and
//! must neither open connections as fast as it is asked nor queue its callers behind each other's
//! timeouts); the cache service (its own module) keeps long-lived connections.

use std::time::{Duration, Instant};

/// How long a readiness check waits for Redis before calling it down.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// A configured Redis server to probe.
#[derive(Clone)]
pub struct RedisProbe {
    client: redis::Client,
    /// The last probe's end and result; held while a probe runs, so callers wait for it and take
    /// its result instead of opening connections of their own.
    last: std::sync::Arc<tokio::sync::Mutex<Option<(Instant, ProbeResult)>>>,
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
            last: Default::default(),
        })
    }

    /// Connects and sends `PING`, within [`PROBE_TIMEOUT`].
    pub async fn probe(&self) -> ProbeResult {
        let asked = Instant::now();
        let mut last = self.last.lock().await;
        // A probe that ended after this caller asked (it waited for it) answers for it too.
        if let Some((ended, result)) = last.as_ref() {
            if *ended >= asked {
                return result.clone();
            }
        }
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
        let result = ProbeResult {
            up: error.is_none(),
            latency: started.elapsed(),
            error,
        };
        *last = Some((Instant::now(), result.clone()));
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn callers_during_a_probe_share_its_result() {
        // A server that accepts connections and never answers: each probe waits out its timeout.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("listens");
        let port = listener.local_addr().expect("address").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counted = accepted.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                held.push(socket);
            }
        });
        let probe = RedisProbe::new(&format!("redis://127.0.0.1:{port}")).expect("probe");
        // All eight ask before the first probe can end (they are first polled together).
        let results = futures_util::future::join_all((0..8).map(|_| probe.probe())).await;
        assert!(results.iter().all(|r| !r.up && r.error.is_some()));
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "one connection for all");
        // A caller after it probes again.
        assert!(!probe.probe().await.up);
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }
}
