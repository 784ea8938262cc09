//! Accounts, sessions and the browser-facing rules as flags and environment variables; the session
//! lifetimes' defaults are [`SessionPolicy::DEFAULT`]'s.

use std::net::SocketAddr;

use clap::{ArgAction, Args};

use super::session::SessionPolicy;

const D: SessionPolicy = SessionPolicy::DEFAULT;

/// The first accounts' passwords, session lifetimes, HTTPS, allowed origins and the client address.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Accounts and sessions")]
pub struct AuthArgs {
    /// Password of the `admin` account created on first start (12+ characters). Unset: a random one is
    /// generated and printed once to the log.
    #[arg(long, env = "PMR_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Password of the demo accounts `vera` (viewer) and `eddie` (editor), created with the demo
    /// portfolio. Unset: generated and printed once to the log.
    #[arg(long, env = "PMR_DEMO_PASSWORD", hide_env_values = true)]
    pub demo_password: Option<String>,

    /// Minutes without activity after which a session ends (1 to 10,080).
    #[arg(long, env = "PMR_SESSION_IDLE_MINUTES", default_value_t = (D.idle_secs / 60) as u32,
        value_parser = clap::value_parser!(u32).range(1..=10_080))]
    pub session_idle_minutes: u32,

    /// Hours after sign-in after which a session ends whatever the activity (1 to 720).
    #[arg(long, env = "PMR_SESSION_MAX_HOURS", default_value_t = (D.absolute_secs / 3600) as u32,
        value_parser = clap::value_parser!(u32).range(1..=720))]
    pub session_max_hours: u32,

    /// Whether users reach the app over HTTPS: the session cookie is then `Secure` and
    /// `__Host-`-prefixed, `Strict-Transport-Security` is sent, and the app's own origin is
    /// `https://`. Unset: yes, unless the server listens on a loopback address (`make run`, or a
    /// proxy on the same machine, which then sets this to `true` if it serves HTTPS).
    #[arg(long, env = "PMR_SECURE_COOKIES", action = ArgAction::Set)]
    pub secure_cookies: Option<bool>,

    /// Comma-separated origins (`https://pmr.example.com`), besides the app's own, allowed to send
    /// state-changing requests and to open WebSockets; e.g. the public name behind a proxy.
    #[arg(long, env = "PMR_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Header carrying the client's address when a reverse proxy sets it (e.g. `X-Forwarded-For`,
    /// whose last entry is used, or `X-Real-IP`). Unset: the TCP peer address. Set it only behind a
    /// proxy that overwrites the header, or clients could pick their own address for throttling.
    #[arg(long, env = "PMR_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
}

impl AuthArgs {
    /// Session lifetimes.
    pub fn session_policy(&self) -> SessionPolicy {
        SessionPolicy {
            idle_secs: i64::from(self.session_idle_minutes) * 60,
            absolute_secs: i64::from(self.session_max_hours) * 3600,
        }
    }

    /// Whether the app is served over HTTPS when it listens on `addr` (see
    /// [`AuthArgs::secure_cookies`]).
    pub fn https(&self, addr: SocketAddr) -> bool {
        self.secure_cookies
            .unwrap_or_else(|| !addr.ip().is_loopback())
    }

    /// The extra allowed origins, normalised (`scheme://host[:port]`, lowercase, no trailing slash).
    pub fn origins(&self) -> Result<Vec<String>, String> {
        self.allowed_origins
            .iter()
            .map(|o| o.trim())
            .filter(|o| !o.is_empty())
            .map(|o| {
                let lower = o.trim_end_matches('/').to_ascii_lowercase();
                let rest = lower
                    .strip_prefix("https://")
                    .or_else(|| lower.strip_prefix("http://"));
                match rest {
                    Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', '@', ' ']) => {
                        Ok(lower)
                    }
                    _ => Err(format!(
                        "PMR_ALLOWED_ORIGINS: '{o}' is not an origin like https://pmr.example.com"
                    )),
                }
            })
            .collect()
    }

    /// The header carrying the client's address, when one is configured.
    pub fn client_ip_header(&self) -> Result<Option<http::HeaderName>, String> {
        self.client_ip_header
            .as_deref()
            .map(|h| {
                http::HeaderName::from_bytes(h.as_bytes())
                    .map_err(|_| format!("PMR_CLIENT_IP_HEADER: '{h}' is not a header name"))
            })
            .transpose()
    }

    /// Checks what clap cannot: the idle timeout fits in the lifetime, origins and header parse.
    pub fn validate(&self) -> Result<(), String> {
        if self.session_idle_minutes > self.session_max_hours * 60 {
            return Err(format!(
                "PMR_SESSION_IDLE_MINUTES ({}) cannot exceed PMR_SESSION_MAX_HOURS ({}) in minutes",
                self.session_idle_minutes, self.session_max_hours
            ));
        }
        self.origins()?;
        self.client_ip_header()?;
        Ok(())
    }
}
