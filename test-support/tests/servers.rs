//! The harness itself: servers start on free ports, answer, stop and resume on the same port, and
//! leave nothing behind when their guard goes away.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use test_support::{PostgresServer, RedisServer, SqliteDb};

/// Sends `PING` in Redis' protocol and returns the reply.
fn redis_ping(port: u16) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"*1\r\n$4\r\nPING\r\n")?;
    let mut reply = [0u8; 16];
    let n = stream.read(&mut reply)?;
    Ok(String::from_utf8_lossy(&reply[..n]).into_owned())
}

#[test]
fn redis_starts_stops_resumes_and_cleans_up() {
    let mut redis = RedisServer::start();
    assert!(redis.url().starts_with("redis://127.0.0.1:"));
    assert_eq!(redis_ping(redis.port()).expect("ping"), "+PONG\r\n");
    redis.stop();
    assert!(
        redis_ping(redis.port()).is_err(),
        "stopped server still answers"
    );
    redis.resume();
    assert_eq!(
        redis_ping(redis.port()).expect("ping after resume"),
        "+PONG\r\n"
    );
    redis.kill();
    assert!(
        redis_ping(redis.port()).is_err(),
        "killed server still answers"
    );
    redis.resume();
    let dir = redis.dir().to_path_buf();
    assert!(dir.exists());
    drop(redis);
    assert!(!dir.exists(), "folder {} left behind", dir.display());
}

#[test]
fn postgres_creates_databases_and_cleans_up() {
    let server = PostgresServer::start();
    let a = server.fresh_database();
    let b = server.fresh_database();
    assert_ne!(a, b, "each call gives a new database");
    assert!(a.starts_with(&format!("postgres://postgres@127.0.0.1:{}/", server.port())));
    server.stop();
    assert!(
        TcpStream::connect(("127.0.0.1", server.port())).is_err(),
        "stopped cluster still listens"
    );
    server.resume();
    assert!(TcpStream::connect(("127.0.0.1", server.port())).is_ok());
    let dir = server.dir().to_path_buf();
    drop(server);
    assert!(!dir.exists(), "folder {} left behind", dir.display());
}

#[test]
fn sqlite_locations_are_fresh_and_removed() {
    let db = SqliteDb::new();
    assert!(db.url().starts_with("sqlite://"));
    assert!(
        !db.path().exists(),
        "nothing there until a store creates it"
    );
    let folder = db.path().parent().map(|p| p.to_path_buf()).expect("folder");
    drop(db);
    assert!(!folder.exists());
}

#[test]
fn servers_die_with_a_killed_test_process() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    let mut victim = Command::new(env!("CARGO_BIN_EXE_hold_redis"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start victim");
    let stdout = victim.stdout.take().expect("victim stdout");
    let line = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("holding "))
        .expect("victim reports its server");
    let mut words = line.split_whitespace().skip(1);
    let port: u16 = words.next().and_then(|p| p.parse().ok()).expect("port");
    let dir = std::path::PathBuf::from(words.next().expect("folder"));
    assert_eq!(
        redis_ping(port).expect("victim's server answers"),
        "+PONG\r\n"
    );
    victim.kill().expect("SIGKILL the victim");
    victim.wait().expect("reap the victim");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while redis_ping(port).is_ok() || dir.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "server on {port} outlived its test process"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
