//! The error type of every server function, [`AppError`]. Its variants say what went wrong in words a
//! reader can act on and map to an HTTP status; internal causes (SQL errors, I/O) are logged by the
//! server and never carried in the message.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What a server function can fail with, as seen by the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The thing asked for does not exist (HTTP 404).
    #[error("{0}")]
    NotFound(String),
    /// The request itself is wrong: a bad id, a value out of range (HTTP 400).
    #[error("{0}")]
    BadRequest(String),
    /// Nobody is signed in, or the session has ended (HTTP 401).
    #[error("{0}")]
    Unauthorized(String),
    /// The caller is signed in but may not do this: wrong role, or not a member of the project (HTTP 403).
    #[error("{0}")]
    Forbidden(String),
    /// The change conflicts with the current state, e.g. removing the last admin (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts; the message says when to try again (HTTP 429).
    #[error("{0}")]
    TooManyRequests(String),
    /// A backing service (the store) is down or overloaded; retrying later may work (HTTP 503).
    #[error("{0}")]
    Unavailable(String),
    /// The server cannot store anything right now: its disk is full or its database read-only;
    /// nothing was changed (HTTP 507).
    #[error("{0}")]
    Unwritable(String),
    /// The server failed in a way the reader cannot fix; the cause is in the server's log (HTTP 500).
    #[error("{0}")]
    Internal(String),
    /// The server function machinery failed: the request could not be sent, or the reply decoded.
    #[error("{0}")]
    ServerFn(ServerFnErrorErr),
}

impl AppError {
    /// Puts this error on the server-rendered response that carries it: its status, and
    /// `Retry-After` when it says when to retry.
    #[cfg(feature = "ssr")]
    pub fn report(&self) {
        crate::response::set_status(self.status());
        if let Some(secs) = self.retry_after() {
            crate::response::append_header("retry-after", &secs.to_string());
        }
    }

    /// The error for a request nobody signed in to.
    pub fn signed_out() -> AppError {
        AppError::Unauthorized(
            "You are not signed in, or your session has ended. Sign in to continue.".into(),
        )
    }

    /// For a `TooManyRequests` whose message says when to try again ("… try again in 12 s.", "…
    /// Try again in 3 minutes."), that wait in seconds: the response's `Retry-After`.
    pub fn retry_after(&self) -> Option<u64> {
        let AppError::TooManyRequests(message) = self else {
            return None;
        };
        let lower = message.to_ascii_lowercase();
        let rest = &lower[lower.find("try again in ")? + "try again in ".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let n: u64 = digits.parse().ok()?;
        let unit = rest[digits.len()..].trim_start();
        if unit.starts_with("minute") {
            Some(n * 60)
        } else if unit.starts_with('s') {
            Some(n)
        } else {
            None
        }
    }

    /// The HTTP status this error is reported with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotFound(_) => 404,
            AppError::BadRequest(_) => 400,
            AppError::Unauthorized(_) => 401,
            AppError::Forbidden(_) => 403,
            AppError::Conflict(_) => 409,
            AppError::TooManyRequests(_) => 429,
            AppError::Unavailable(_) => 503,
            AppError::Unwritable(_) => 507,
            AppError::Internal(_) | AppError::ServerFn(_) => 500,
        }
    }
}

/// What a reader sees when the browser could not reach the server at all.
pub const UNREACHABLE: &str =
    "The server could not be reached. Check your connection and try again.";

impl FromServerFnError for AppError {
    type Encoder = crate::codec::JsonText;

    /// On the server, arguments that do not decode (a number that is not one, a missing field) are
    /// the caller's mistake: 400 with the decoder's message. In the browser, a request that never
    /// reached the server (offline, connection refused) says so in words the reader can act on.
    /// Everything else stays a machinery error.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        if let ServerFnErrorErr::Request(_) = value {
            return AppError::Unavailable(UNREACHABLE.into());
        }
        #[cfg(feature = "ssr")]
        if let ServerFnErrorErr::Args(detail)
        | ServerFnErrorErr::MissingArg(detail)
        | ServerFnErrorErr::Deserialization(detail) = &value
        {
            crate::response::set_status(400);
            return AppError::BadRequest(format!(
                "The request's arguments are not valid: {detail}."
            ));
        }
        AppError::ServerFn(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_that_never_reached_the_server_says_so() {
        let error = AppError::from_server_fn_error(ServerFnErrorErr::Request(
            "JsValue(TypeError: Failed to fetch)".into(),
        ));
        assert_eq!(error, AppError::Unavailable(UNREACHABLE.into()));
        assert_eq!(error.status(), 503);
        // Other machinery errors keep their own words.
        let other = AppError::from_server_fn_error(ServerFnErrorErr::Response("bad".into()));
        assert!(matches!(other, AppError::ServerFn(_)), "{other:?}");
    }

    #[test]
    fn retry_after_comes_from_the_message() {
        let wait = |m: &str| AppError::TooManyRequests(m.into()).retry_after();
        assert_eq!(wait("Busy; try again in 5 s."), Some(5));
        assert_eq!(wait("Too many. Try again in 15 minutes."), Some(900));
        assert_eq!(wait("Try again in 1 minute."), Some(60));
        assert_eq!(wait("Slow down."), None);
        assert_eq!(
            AppError::NotFound("try again in 5 s".into()).retry_after(),
            None
        );
    }

    #[test]
    fn statuses_follow_the_variant() {
        assert_eq!(AppError::NotFound("x".into()).status(), 404);
        assert_eq!(AppError::BadRequest("x".into()).status(), 400);
        assert_eq!(AppError::Unavailable("x".into()).status(), 503);
        assert_eq!(AppError::Unwritable("x".into()).status(), 507);
        assert_eq!(AppError::Unauthorized("x".into()).status(), 401);
        assert_eq!(AppError::Forbidden("x".into()).status(), 403);
        assert_eq!(AppError::Conflict("x".into()).status(), 409);
        assert_eq!(AppError::TooManyRequests("x".into()).status(), 429);
    }

    #[test]
    fn round_trips_through_json() {
        let err = AppError::NotFound("Report 7 does not exist.".into());
        let json = serde_json::to_string(&err).expect("serialize");
        let back: AppError = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, err);
        assert_eq!(back.to_string(), "Report 7 does not exist.");
    }
}
