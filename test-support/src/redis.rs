//! A throwaway `redis-server`: no persistence, loopback only, stopped and deleted with its guard.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::warden::Warden;
use crate::{find_binary, free_port, wait_for_port};

/// How long a fresh Redis gets to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running (or deliberately stopped) Redis server owned by a test.
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    warden: Warden,
    running: bool,
}

impl RedisServer {
    /// Starts a new server on a free port.
    pub fn start() -> RedisServer {
        let binary = find_binary("redis-server", &[PathBuf::from("/usr/bin")], "redis-server");
        let dir = tempfile::Builder::new()
            .prefix("pmr-redis-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary folder: {e}"))
            .keep();
        let port = free_port();
        let command = [
            binary.display().to_string(),
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            String::new(),
            "--appendonly".into(),
            "no".into(),
            "--dir".into(),
            dir.display().to_string(),
        ];
        let warden = Warden::new(&dir, "TERM", &command);
        let mut server = RedisServer {
            port,
            dir,
            warden,
            running: false,
        };
        server.resume();
        server
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's temporary folder; gone once the guard is dropped.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Stops the server (SIGTERM) but keeps its port reserved for [`RedisServer::resume`].
    pub fn stop(&mut self) {
        self.warden.send("stop");
        self.running = false;
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        self.warden.send("kill");
        self.running = false;
    }

    /// Starts the server again on the same port (empty: Redis here keeps nothing on disk).
    pub fn resume(&mut self) {
        if self.running {
            return;
        }
        self.warden.send("start");
        wait_for_port(self.port, START_TIMEOUT, "redis-server");
        self.running = true;
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        self.warden.log()
    }
}
