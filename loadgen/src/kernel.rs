//! What the kernel counts around a run, read without help from the servers measured: a process's CPU
//! time (`/proc/<pid>/stat`), the TCP counters of a server's accepted connections (`ss -ti`, the
//! kernel's `TCP_INFO` of each socket: segments and bytes it sent and received), and the loopback
//! interface's packets and bytes (`/proc/net/dev`).

use std::process::Command;
use std::sync::OnceLock;

use anyhow::{bail, Context as _};
use serde::Serialize;

/// Clock ticks per second of `/proc/<pid>/stat`'s times (`getconf CLK_TCK`; 100 on Linux).
fn ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|t| *t > 0.0)
            .unwrap_or(100.0)
    })
}

/// CPU time a process has used so far (every thread), in seconds: user and system (the kernel's
/// work on its behalf: system calls, and on loopback the TCP work of the segments it sends).
pub fn cpu_seconds(pid: u32) -> anyhow::Result<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    let (user, system) = parse_cpu_ticks(&stat)?;
    Ok((
        user as f64 / ticks_per_second(),
        system as f64 / ticks_per_second(),
    ))
}

/// `utime` and `stime` from a `/proc/<pid>/stat` line (fields 14 and 15; the command name, field 2,
/// may hold spaces and parentheses, so fields are counted after its last `)`).
fn parse_cpu_ticks(stat: &str) -> anyhow::Result<(u64, u64)> {
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("no command name in /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> anyhow::Result<u64> {
        fields
            .get(n - 3)
            .and_then(|f| f.parse::<u64>().ok())
            .with_context(|| format!("no field {n} in /proc stat"))
    };
    Ok((field(14)?, field(15)?))
}

/// TCP counters summed over sockets, as the kernel keeps them.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Tcp {
    pub sockets: u64,
    pub segs_out: u64,
    pub bytes_sent: u64,
    pub segs_in: u64,
    pub bytes_received: u64,
}

impl Tcp {
    /// What was counted since `before` (sockets: the later count).
    pub fn since(self, before: Tcp) -> Tcp {
        Tcp {
            sockets: self.sockets,
            segs_out: self.segs_out.saturating_sub(before.segs_out),
            bytes_sent: self.bytes_sent.saturating_sub(before.bytes_sent),
            segs_in: self.segs_in.saturating_sub(before.segs_in),
            bytes_received: self.bytes_received.saturating_sub(before.bytes_received),
        }
    }

    pub fn add(&mut self, other: Tcp) {
        self.sockets += other.sockets;
        self.segs_out += other.segs_out;
        self.bytes_sent += other.bytes_sent;
        self.segs_in += other.segs_in;
        self.bytes_received += other.bytes_received;
    }
}

/// The established connections a server accepted on `port` (its clients' connections, not its own
/// to Redis or the database), summed.
pub fn server_tcp(port: u16) -> anyhow::Result<Tcp> {
    let output = Command::new("ss")
        .args(["-Htin", "state", "established"])
        .arg(format!("( sport = :{port} )"))
        .output()
        .context("running `ss` (Debian's iproute2)")?;
    if !output.status.success() {
        bail!("ss: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(parse_ss(&String::from_utf8_lossy(&output.stdout)))
}

/// Sums `ss -Htin` output: a socket's line (`Recv-Q Send-Q local peer`) then its indented details.
/// A counter the kernel has not moved yet is left out of the details: it counts as 0.
fn parse_ss(text: &str) -> Tcp {
    let mut total = Tcp::default();
    for line in text.lines() {
        if line.starts_with(char::is_whitespace) {
            let mut one = Tcp::default();
            for token in line.split_whitespace() {
                let Some((key, value)) = token.split_once(':') else {
                    continue;
                };
                let Ok(value) = value.parse::<u64>() else {
                    continue;
                };
                match key {
                    "segs_out" => one.segs_out = value,
                    "bytes_sent" => one.bytes_sent = value,
                    "segs_in" => one.segs_in = value,
                    "bytes_received" => one.bytes_received = value,
                    _ => {}
                }
            }
            total.add(one);
        } else if !line.trim().is_empty() {
            total.sockets += 1;
        }
    }
    total
}

/// The loopback interface's received packets and bytes so far (on `lo` every packet sent is one
/// received: both directions, every process's traffic, IP and TCP headers included).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Loopback {
    pub packets: u64,
    pub bytes: u64,
}

impl Loopback {
    pub fn since(self, before: Loopback) -> Loopback {
        Loopback {
            packets: self.packets.saturating_sub(before.packets),
            bytes: self.bytes.saturating_sub(before.bytes),
        }
    }
}

pub fn loopback() -> anyhow::Result<Loopback> {
    parse_net_dev(&std::fs::read_to_string("/proc/net/dev")?)
}

fn parse_net_dev(text: &str) -> anyhow::Result<Loopback> {
    let line = text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("lo:"))
        .context("no loopback interface in /proc/net/dev")?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .map(|f| f.parse::<u64>())
        .collect::<Result<_, _>>()
        .context("unreadable /proc/net/dev")?;
    match fields.as_slice() {
        [bytes, packets, ..] => Ok(Loopback {
            packets: *packets,
            bytes: *bytes,
        }),
        _ => bail!("short loopback line in /proc/net/dev"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_counted_after_the_command_name() {
        // A command name with a space and a parenthesis must not shift the fields.
        let stat =
            "4242 (node (peer) x) S 1 4242 4242 0 -1 4194560 5000 0 0 0 731 169 0 0 20 0 11 0 99";
        assert_eq!(parse_cpu_ticks(stat).expect("parses"), (731, 169));
        assert!(parse_cpu_ticks("4242 node S 1").is_err());
    }

    #[test]
    fn ss_details_are_summed_per_socket() {
        let text = "0      0      127.0.0.1:3000 127.0.0.1:56480\n\t bbr wscale:10,10 rto:204 rtt:0.026/0.014 mss:35328 bytes_sent:1000 bytes_acked:1000 segs_out:1 segs_in:3 data_segs_out:1 lastsnd:860\n0      0      127.0.0.1:3000 127.0.0.1:56482\n\t cubic bytes_sent:24 bytes_received:300 segs_out:2 segs_in:4 data_segs_in:2\n";
        assert_eq!(
            parse_ss(text),
            Tcp {
                sockets: 2,
                segs_out: 3,
                bytes_sent: 1024,
                segs_in: 7,
                bytes_received: 300,
            }
        );
        let later = Tcp {
            sockets: 2,
            segs_out: 10,
            bytes_sent: 2000,
            segs_in: 9,
            bytes_received: 400,
        };
        assert_eq!(later.since(parse_ss(text)).bytes_sent, 976);
    }

    #[test]
    fn the_loopback_line_is_found() {
        let text = "Inter-|   Receive |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes packets\n  eth0: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0\n    lo: 21937010868 5856221    0    0    0     0          0         0 21937010868 5856221    0    0    0     0       0          0\n";
        assert_eq!(
            parse_net_dev(text).expect("parses"),
            Loopback {
                packets: 5_856_221,
                bytes: 21_937_010_868,
            }
        );
    }
}
