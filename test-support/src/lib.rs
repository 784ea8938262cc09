//! Real servers for tests: a throwaway `redis-server` and a throwaway PostgreSQL cluster, each on a
//! free loopback port in a temporary folder.
//!
//! Cleanup does not depend on `Drop` alone (a test binary's statics are never dropped, and a killed
//! test process runs no destructor). Each server runs under a small shell *warden* whose stdin is a
//! pipe from the test process. The warden starts and stops the server on request, and when the pipe
//! closes (the guard is dropped, the test panics, or the process dies in any way) it stops the server
//! and deletes its folder.
//!
//! A missing binary fails the test with the Debian package to install; nothing is ever skipped.
//! PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user (created by
//! Debian's package) or `nobody`.

mod postgres;
mod redis;
mod warden;

pub use postgres::PostgresServer;
pub use redis::RedisServer;

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("cannot find a free port: {e}"))
}

/// Waits until something accepts TCP connections on `port`, or panics after `timeout`.
pub fn wait_for_port(port: u16, timeout: Duration, what: &str) {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not accept connections on port {port} within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A SQLite database URL in a fresh temporary folder, deleted when the guard drops.
pub struct SqliteDb {
    dir: tempfile::TempDir,
}

impl SqliteDb {
    /// A new, empty database location.
    pub fn new() -> SqliteDb {
        let dir = tempfile::Builder::new()
            .prefix("pmr-sqlite-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary folder: {e}"));
        SqliteDb { dir }
    }

    /// The database file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("pmr.db")
    }

    /// `sqlite://` URL of the database file.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path().display())
    }
}

impl Default for SqliteDb {
    fn default() -> Self {
        SqliteDb::new()
    }
}

/// Finds an executable on PATH or in the extra folders, or panics naming the Debian package.
pub(crate) fn find_binary(name: &str, extra_dirs: &[PathBuf], package: &str) -> PathBuf {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    extra_dirs
        .iter()
        .chain(path_dirs.iter())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("`{name}` not found: install the Debian package `{package}` (apt-get install {package}); `make test` does this for you")
        })
}
