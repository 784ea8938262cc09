//! Server processes for a scenario: the release `server` binary on a free port with its own settings,
//! its log in a temporary folder (printed when it fails to start), killed when the guard drops.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

/// The passwords every scenario's server is started with.
pub const ADMIN_PASSWORD: &str = "loadgen admin password";
pub const DEMO_PASSWORD: &str = "loadgen demo password";

/// What the servers of a run are built from.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// The `server` binary.
    pub binary: PathBuf,
    /// `PMR_SITE_ROOT`.
    pub site_root: PathBuf,
}

/// A running server; killed on drop.
pub struct ServerProcess {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

/// A database for one scenario: a SQLite file in a temporary folder, seeded by the first server.
pub struct Database {
    dir: tempfile::TempDir,
}

impl Database {
    pub fn new() -> anyhow::Result<Database> {
        Ok(Database {
            dir: tempfile::Builder::new().prefix("pmr-loadgen-").tempdir()?,
        })
    }

    pub fn url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("pmr.db").display())
    }

    fn folder(&self) -> &Path {
        self.dir.path()
    }
}

impl ServerProcess {
    /// Starts the server on a free port with `db` and `env` (on top of the run's defaults: the
    /// passwords, 3 copies of the demo, a quiet log), and waits until `/readyz` answers 200.
    pub async fn start(
        spec: &ServerSpec,
        db: &Database,
        env: &[(&str, String)],
    ) -> anyhow::Result<ServerProcess> {
        let port = test_support::free_port();
        let log = db.folder().join(format!("server-{port}.log"));
        let out = std::fs::File::create(&log)?;
        let mut command = Command::new(&spec.binary);
        command
            .env("PMR_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", db.url())
            .env("PMR_SITE_ROOT", &spec.site_root)
            .env("PMR_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("PMR_DEMO_PASSWORD", DEMO_PASSWORD)
            .env("PMR_SEED_COPIES", "3")
            // Every simulated client connects from 127.0.0.1: no per-address connection cap.
            .env("PMR_MAX_CONNECTIONS_PER_ADDRESS", "0")
            // Every connection of a run is the same account's.
            .env("WS_MAX_CONNECTIONS_PER_USER", "10000")
            .env("RUST_LOG", "warn")
            .env_remove("REDIS_URL")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", spec.binary.display()))?;
        let mut server = ServerProcess { child, port, log };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let url = format!("{}/readyz", self.base());
        wait_ready(&mut self.child, &url, &self.log).await
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Waits until `url` answers 200 (or the process exits: its log says why).
async fn wait_ready(child: &mut Child, url: &str, log: &Path) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            bail!("the server exited with {status}:\n{}", log_tail(log));
        }
        if let Ok(r) = client.get(url).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the server was not ready within 120 s:\n{}", log_tail(log))
}

/// The Socket.IO peer (`bench/peer/server.mjs`), or the bare fan-out (`loadgen floor`), on a free
/// port; killed on drop.
pub struct PeerProcess {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl PeerProcess {
    /// Starts `node <script>` with batching on or off, across instances through `redis` if given, and
    /// waits until `/healthz` answers.
    pub async fn start(
        script: &Path,
        batching: bool,
        redis: Option<&str>,
    ) -> anyhow::Result<PeerProcess> {
        anyhow::ensure!(
            script.exists(),
            "{} does not exist (the Socket.IO peer)",
            script.display()
        );
        let dir = tempfile::Builder::new().prefix("pmr-peer-").tempdir()?;
        let port = test_support::free_port();
        let log = dir.path().join("peer.log");
        let out = std::fs::File::create(&log)?;
        let mut command = Command::new("node");
        command
            .arg(script)
            .env("PORT", port.to_string())
            .env("BATCHING", batching.to_string())
            .env("NODE_ENV", "production")
            .env_remove("REDIS_URL")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        if let Some(url) = redis {
            command.env("REDIS_URL", url);
        }
        let child = command.spawn().context("cannot start node")?;
        PeerProcess::ready(child, port, dir, &log).await
    }

    /// Starts this program's own bare fan-out (`loadgen floor`), batching on or off, and waits until
    /// `/healthz` answers.
    pub async fn start_floor(batching: bool) -> anyhow::Result<PeerProcess> {
        let dir = tempfile::Builder::new().prefix("pmr-floor-").tempdir()?;
        let port = test_support::free_port();
        let log = dir.path().join("floor.log");
        let out = std::fs::File::create(&log)?;
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args(["floor", "--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        if batching {
            command.arg("--batching");
        }
        let child = command.spawn().context("cannot start loadgen floor")?;
        PeerProcess::ready(child, port, dir, &log).await
    }

    async fn ready(
        mut child: Child,
        port: u16,
        dir: tempfile::TempDir,
        log: &Path,
    ) -> anyhow::Result<PeerProcess> {
        let base = format!("http://127.0.0.1:{port}");
        if let Err(e) = wait_ready(&mut child, &format!("{base}/healthz"), log).await {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
        Ok(PeerProcess {
            child,
            port,
            _dir: dir,
        })
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The fan-out's view of it (no admin: it keeps no statistics).
    pub fn instance(&self) -> crate::ws::Instance {
        crate::ws::Instance {
            base: self.base(),
            port: self.port,
            pid: self.pid(),
            admin: None,
        }
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `VmRSS` of a process, in bytes.
pub fn rss_of(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .context("no VmRSS in /proc status")?;
    Ok(kb * 1024)
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
