//! Starts a throwaway Redis, prints `holding PORT FOLDER` and sleeps until killed. The harness's own
//! tests kill this process with SIGKILL to prove that no server outlives the process that started it.

use std::time::Duration;

fn main() {
    let redis = test_support::RedisServer::start();
    println!("holding {} {}", redis.port(), redis.dir().display());
    std::thread::sleep(Duration::from_secs(120));
}
