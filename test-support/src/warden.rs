//! The warden: a shell that owns one server process and its folder. Commands arrive on its stdin, one
//! per line; it answers each on stdout so callers know the command took effect.
//!
//! - `start`: starts the server command (in the background).
//! - `stop`: sends the polite stop signal and waits for the server to exit.
//! - `kill`: sends SIGKILL and waits (for fault-injection tests).
//! - end of input: stops the server, deletes the folder and exits.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

const SCRIPT: &str = r#"
dir=$1; sig=$2; shift 2
pid=
halt() {
    if [ -n "$pid" ]; then kill -"$1" "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=; fi
}
while :; do
    if ! read -r cmd; then halt "$sig"; rm -rf "$dir"; exit 0; fi
    case $cmd in
        start) "$@" >>"$dir/server.log" 2>&1 & pid=$!; echo started ;;
        stop) halt "$sig"; echo stopped ;;
        kill) halt KILL; echo killed ;;
        *) echo "unknown $cmd" ;;
    esac
done
"#;

/// A running warden and the pipes to talk to it.
pub(crate) struct Warden {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    dir: PathBuf,
}

impl Warden {
    /// Starts a warden for `command`, which it will run in `dir` and stop with `stop_signal`.
    pub(crate) fn new(dir: &Path, stop_signal: &str, command: &[String]) -> Warden {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(SCRIPT)
            .arg("warden")
            .arg(dir)
            .arg(stop_signal)
            .args(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start sh for the test server warden: {e}"));
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .map(BufReader::new)
            .unwrap_or_else(|| panic!("warden has no stdout"));
        Warden {
            child,
            stdin,
            stdout,
            dir: dir.to_path_buf(),
        }
    }

    /// Sends a command and waits for its acknowledgement.
    pub(crate) fn send(&mut self, command: &str) {
        let stdin = self
            .stdin
            .as_mut()
            .unwrap_or_else(|| panic!("warden already closed"));
        writeln!(stdin, "{command}").unwrap_or_else(|e| panic!("warden gone: {e}"));
        stdin.flush().unwrap_or_else(|e| panic!("warden gone: {e}"));
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("warden gone: {e}"));
        assert!(
            !line.trim().is_empty() && !line.starts_with("unknown"),
            "warden refused `{command}`: {line:?}"
        );
    }

    /// The server's log so far, for assertion messages.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Warden {
    fn drop(&mut self) {
        // Closing stdin tells the warden to stop the server and delete the folder.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}
