//! A throwaway PostgreSQL cluster: `initdb` in a temporary folder, `postgres` on a free loopback port,
//! trust authentication, durability switched off for speed. One cluster per test binary is shared
//! ([`PostgresServer::shared`]) and each test takes its own database ([`PostgresServer::fresh_database`]);
//! tests that stop or restart the server start their own ([`PostgresServer::start`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::warden::Warden;
use crate::{find_binary, free_port};

/// How long a fresh cluster gets to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Databases created so far by this process, to give each a unique name.
static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// A PostgreSQL cluster owned by the test process.
pub struct PostgresServer {
    port: u16,
    bin: PathBuf,
    dir: PathBuf,
    warden: Mutex<Warden>,
}

impl PostgresServer {
    /// The cluster shared by every test of this binary, started on first use.
    pub fn shared() -> &'static PostgresServer {
        static SHARED: OnceLock<PostgresServer> = OnceLock::new();
        SHARED.get_or_init(PostgresServer::start)
    }

    /// Creates a cluster and starts it on a free port.
    pub fn start() -> PostgresServer {
        let bin = postgres_bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("pmr-postgres-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary folder: {e}"))
            .keep();
        let data = dir.join("data");
        let user = RunAs::detect();
        user.own(&dir);
        let port = free_port();
        let postgres = bin.join("postgres").display().to_string();
        let mut command = user.prefix();
        command.extend([
            postgres,
            "-D".into(),
            data.display().to_string(),
            "-p".into(),
            port.to_string(),
            "-k".into(),
            dir.display().to_string(),
            "-c".into(),
            "listen_addresses=127.0.0.1".into(),
            "-c".into(),
            "fsync=off".into(),
            "-c".into(),
            "synchronous_commit=off".into(),
            "-c".into(),
            "full_page_writes=off".into(),
            "-c".into(),
            "max_connections=200".into(),
        ]);
        // The warden exists before initdb runs, so a failing initdb still gets its folder removed.
        let warden = Warden::new(&dir, "INT", &command);
        let server = PostgresServer {
            port,
            bin,
            dir,
            warden: Mutex::new(warden),
        };
        server.initdb(&user, &data);
        server.resume();
        server
    }

    fn initdb(&self, user: &RunAs, data: &Path) {
        let mut args = user.prefix();
        args.extend([
            self.bin.join("initdb").display().to_string(),
            "-D".into(),
            data.display().to_string(),
            "-U".into(),
            "postgres".into(),
            "-A".into(),
            "trust".into(),
            "-E".into(),
            "UTF8".into(),
            "--no-locale".into(),
            "--no-sync".into(),
        ]);
        let output = run(&args);
        assert!(
            output.status.success(),
            "initdb failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's temporary folder; gone once the guard is dropped.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// URL of the `postgres` database (for administration).
    pub fn admin_url(&self) -> String {
        self.url_for("postgres")
    }

    /// URL of a database on this cluster.
    pub fn url_for(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a new empty database and returns its URL.
    pub fn fresh_database(&self) -> String {
        let n = DATABASES.fetch_add(1, Ordering::Relaxed);
        let name = format!("pmr_test_{}_{n}", std::process::id());
        let createdb = self.bin.join("createdb").display().to_string();
        let port = self.port.to_string();
        let output = run(&[
            createdb,
            "-h".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port,
            "-U".into(),
            "postgres".into(),
            name.clone(),
        ]);
        assert!(
            output.status.success(),
            "createdb failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        self.url_for(&name)
    }

    /// Stops the server (fast shutdown); the data stays for [`PostgresServer::resume`].
    pub fn stop(&self) {
        self.warden().send("stop");
    }

    /// Kills the server with SIGKILL, as a crash would; it recovers from its log on resume.
    pub fn kill(&self) {
        self.warden().send("kill");
    }

    /// Starts the server again on the same port and data, and waits until it accepts queries.
    pub fn resume(&self) {
        self.warden().send("start");
        let deadline = Instant::now() + START_TIMEOUT;
        let ready = self.bin.join("pg_isready").display().to_string();
        let args = [
            ready,
            "-h".into(),
            "127.0.0.1".into(),
            "-p".into(),
            self.port.to_string(),
            "-q".into(),
        ];
        while !run(&args).status.success() {
            assert!(
                Instant::now() < deadline,
                "postgres did not start within {START_TIMEOUT:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    fn warden(&self) -> std::sync::MutexGuard<'_, Warden> {
        self.warden
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The newest `/usr/lib/postgresql/N/bin`, or `PG_BIN` when set.
fn postgres_bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => bin,
        None => find_binary("initdb", &[], "postgresql")
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    }
}

/// Who the cluster runs as: ourselves, or an unprivileged user when we are root.
enum RunAs {
    Me,
    User { uid: String, gid: String },
}

impl RunAs {
    fn detect() -> RunAs {
        let me = run(&["id".into(), "-u".into()]);
        if String::from_utf8_lossy(&me.stdout).trim() != "0" {
            return RunAs::Me;
        }
        for name in ["postgres", "nobody"] {
            let uid = run(&["id".into(), "-u".into(), name.into()]);
            let gid = run(&["id".into(), "-g".into(), name.into()]);
            if uid.status.success() && gid.status.success() {
                return RunAs::User {
                    uid: String::from_utf8_lossy(&uid.stdout).trim().to_string(),
                    gid: String::from_utf8_lossy(&gid.stdout).trim().to_string(),
                };
            }
        }
        panic!("running as root and neither the `postgres` nor the `nobody` user exists to run PostgreSQL");
    }

    /// Command words that run what follows as this user.
    fn prefix(&self) -> Vec<String> {
        match self {
            RunAs::Me => Vec::new(),
            RunAs::User { uid, gid } => vec![
                "setpriv".into(),
                format!("--reuid={uid}"),
                format!("--regid={gid}"),
                "--clear-groups".into(),
                "--".into(),
            ],
        }
    }

    /// Hands the folder to this user.
    fn own(&self, dir: &Path) {
        if let RunAs::User { uid, gid } = self {
            let output = run(&[
                "chown".into(),
                format!("{uid}:{gid}"),
                dir.display().to_string(),
            ]);
            assert!(
                output.status.success(),
                "chown failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

fn run(args: &[String]) -> Output {
    Command::new(&args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", args[0]))
}
