//! Step 2, cross-site requests: whether a request comes from the app's own origin (or an allowed
//! one), for state-changing requests without an API token and for WebSocket upgrades.

use axum::http::{header, HeaderMap, Method};

use super::AuthSettings;

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The origin a browser says the request comes from: `Origin`, else the origin part of `Referer`.
fn claimed_origin(headers: &HeaderMap) -> Option<String> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return Some(origin.to_str().unwrap_or("null").to_ascii_lowercase());
    }
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let (scheme, rest) = referer.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(format!("{scheme}://{authority}").to_ascii_lowercase())
}

/// Whether `origin` is the app's own (the scheme the app is served with, and the request's host and
/// port) or an allowed one.
fn origin_allowed(origin: &str, headers: &HeaderMap, settings: &AuthSettings) -> bool {
    if settings.allowed_origins.iter().any(|a| a == origin) {
        return true;
    }
    let scheme = if settings.cookie.secure {
        "https://"
    } else {
        "http://"
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    matches!((origin.strip_prefix(scheme), host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

/// The cross-site rules of step 2; `Err` carries the reason.
pub(super) fn check_origin(
    method: &Method,
    headers: &HeaderMap,
    has_bearer: bool,
    settings: &AuthSettings,
) -> Result<(), String> {
    let origin = claimed_origin(headers);
    if is_websocket_upgrade(headers) {
        return match origin {
            Some(o) if !origin_allowed(&o, headers, settings) => Err(format!(
                "WebSocket upgrade refused: origin '{o}' is not allowed"
            )),
            _ => Ok(()),
        };
    }
    if !is_state_changing(method) || has_bearer {
        return Ok(());
    }
    match origin {
        None => Err(
            "cross-site protection: a state-changing request must carry an Origin header (scripts: use an API token)"
                .into(),
        ),
        Some(o) if origin_allowed(&o, headers, settings) => Ok(()),
        Some(o) => Err(format!(
            "cross-site protection: requests from origin '{o}' may not change anything here"
        )),
    }
}
