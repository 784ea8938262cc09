//! The authentication layer in front of every route. For each request it:
//!
//! 1. finds the route's rule in [`policy::ENDPOINTS`] (a matched route without one is closed: 403);
//! 2. refuses cross-site requests: a state-changing request (anything but GET, HEAD, OPTIONS) that
//!    does not carry an API token must come from the app's own origin or an allowed one
//!    (`PMR_ALLOWED_ORIGINS`), shown by its `Origin` header (or `Referer`); a WebSocket upgrade whose
//!    `Origin` is foreign is refused too;
//! 3. resolves the caller: `Authorization: Bearer` API token, else the session cookie (a dead
//!    session's cookie is cleared);
//! 4. applies the rule: anonymous callers of a protected page are sent to `/login?next=...`, of an
//!    API get 401; a role below the rule's gets 403 (pages render their own 403);
//! 5. hands the caller's [`Access`] (who, and what they may reach: the one access decision) and the
//!    [`ClientAddress`] to the handler in the request's extensions;
//! 6. adds the security headers to every response.

use std::net::SocketAddr;
use std::sync::Arc;

use app::access::Scope as TokenScope;
use app::error::AppError;
use app::format::percent_encode_path;
use app::services::ClientAddress;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

mod headers;
mod origin;

pub use self::headers::page_csp;
use self::headers::security_headers;
use self::origin::check_origin;
use super::caller::Resolved;
use super::cookie::CookieSettings;
use super::policy::{self, Endpoint, Kind, Lookup, Need};
use super::session::SessionPolicy;
use super::token;
use crate::storage::StoreError;

/// How sessions, cookies and origins are handled; from the configuration.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub sessions: SessionPolicy,
    pub cookie: CookieSettings,
    /// Origins besides the app's own that may post and open WebSockets (normalised, lowercase).
    pub allowed_origins: Arc<[String]>,
    /// Header a trusted reverse proxy puts the client's address in; `None`: the TCP peer.
    pub client_ip_header: Option<HeaderName>,
}

/// The Prometheus exposition: all a metrics-scoped API token may read.
pub const METRICS_PATH: &str = "/metrics";

/// The nonce of a response's inline scripts: chosen here, handed to Leptos through the request's
/// extensions, and named in the page's `Content-Security-Policy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageNonce(pub String);

/// What the layer works with: how credentials are resolved, and the settings.
#[derive(Clone)]
pub struct Guard {
    pub authority: super::caller::Authority,
    pub auth: AuthSettings,
}

/// The layer's entry point (see the module documentation).
pub async fn guard(State(state): State<Guard>, mut request: Request, next: Next) -> Response {
    let matched = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    // Only pages (and the not-found page) have inline scripts to allow.
    let renders_html = match matched {
        Some(path) => matches!(
            policy::lookup(request.method().as_str(), path),
            Lookup::Found(Endpoint {
                kind: Kind::Page,
                ..
            })
        ),
        None => !is_asset(request.uri().path()),
    };
    let matched = matched.is_some();
    let path = request.uri().path().to_string();
    let nonce = renders_html.then(|| {
        // 128 bits, like Leptos' own nonces.
        let token = token::issue().0;
        PageNonce(token[..22].to_string())
    });
    if let Some(nonce) = &nonce {
        request.extensions_mut().insert(nonce.clone());
    }
    let mut response = authorize(&state, request, next).await;
    security_headers(response.headers_mut(), &path, matched, nonce.as_ref());
    if state.auth.cookie.secure {
        // Served over HTTPS: browsers come back over HTTPS only, for a year.
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

async fn authorize(state: &Guard, mut request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let endpoint = match endpoint_of(&request) {
        Ok(endpoint) => endpoint,
        Err(refusal) => return *refusal,
    };
    let kind = endpoint.map_or(Kind::Page, |e| e.kind);
    let headers = request.headers();
    let bearer = match bearer_token(headers) {
        Ok(b) => b,
        Err(message) => return refuse(kind, StatusCode::UNAUTHORIZED, message.into()),
    };
    if let Err(message) = check_origin(&method, headers, bearer.is_some(), &state.auth) {
        tracing::warn!(%method, path = request.uri().path(), "{message}");
        return refuse(kind, StatusCode::FORBIDDEN, message);
    }
    let needs_caller = endpoint.is_some() || !is_asset(request.uri().path());
    let (caller, clear_cookie) = if needs_caller {
        let cookie = state.auth.cookie.token(request.headers());
        match resolve(state, endpoint, bearer, cookie).await {
            Ok(found) => found,
            Err(refusal) => return refusal,
        }
    } else {
        (None, false)
    };
    if let Err(refusal) = admit(endpoint, caller.as_ref(), request.uri()) {
        let mut refusal = *refusal;
        if clear_cookie {
            clear_session_cookie(&mut refusal, state.auth.cookie);
        }
        return refusal;
    }
    let client = client_address(&request, state.auth.client_ip_header.as_ref());
    request.extensions_mut().insert(ClientAddress(client));
    if let Some(caller) = caller {
        request.extensions_mut().insert(caller.credential);
        request
            .extensions_mut()
            .insert(super::caller::CredentialEnd(caller.ends_at));
        request.extensions_mut().insert(caller.access);
    }
    let mut response = next.run(request).await;
    if clear_cookie && !sets_session_cookie(response.headers(), state.auth.cookie) {
        clear_session_cookie(&mut response, state.auth.cookie);
    }
    response
}

/// The access rule of the request's route; `None` for what is not a route (a static file or the
/// not-found page, which are only read). An API path that does not exist, a wrong method and a
/// route without a rule are refused.
fn endpoint_of(request: &Request) -> Result<Option<&'static Endpoint>, Box<Response>> {
    let method = request.method();
    let wrong_method = || {
        Box::new(refuse(
            Kind::Rest,
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed here"),
        ))
    };
    let Some(path) = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
    else {
        let path = request.uri().path();
        if path.starts_with("/api/") || path.starts_with("/ws/") {
            return Err(Box::new(refuse(
                Kind::Rest,
                StatusCode::NOT_FOUND,
                format!("there is no endpoint {method} {}", clip(path)),
            )));
        }
        if method != Method::GET && method != Method::HEAD {
            return Err(wrong_method());
        }
        return Ok(None);
    };
    match policy::lookup(method.as_str(), path) {
        Lookup::Found(e) => Ok(Some(e)),
        Lookup::WrongMethod => Err(wrong_method()),
        Lookup::Missing => {
            tracing::error!(route = path, %method, "route has no access rule; refusing");
            Err(Box::new(refuse(
                Kind::Rest,
                StatusCode::FORBIDDEN,
                "this route is closed: it has no access rule".into(),
            )))
        }
    }
}

/// The caller behind the request's API token or session cookie, and whether the cookie must be
/// cleared (its session ended). Public routes (health checks above all) still answer, anonymously,
/// when the account store does not.
async fn resolve(
    state: &Guard,
    endpoint: Option<&'static Endpoint>,
    bearer: Option<String>,
    cookie: Option<String>,
) -> Result<(Option<Resolved>, bool), Response> {
    let kind = endpoint.map_or(Kind::Page, |e| e.kind);
    let public = endpoint.is_none_or(|e| e.need == Need::Public);
    let (found, what) = if let Some(token) = bearer {
        match state.authority.token(&token).await {
            Ok(None) => {
                return Err(refuse(
                    kind,
                    StatusCode::UNAUTHORIZED,
                    "the API token is not valid (unknown or revoked)".into(),
                ))
            }
            found => (found, "API token"),
        }
    } else if let Some(token) = cookie {
        match state.authority.session(&token).await {
            Ok(None) => return Ok((None, true)),
            found => (found, "session"),
        }
    } else {
        return Ok((None, false));
    };
    match found {
        Ok(caller) => Ok((caller, false)),
        Err(e) if public => {
            tracing::warn!(error = %e, "cannot check the {what}; serving a public route anonymously");
            Ok((None, false))
        }
        Err(e) => Err(unavailable(kind, e)),
    }
}

/// Whether the caller may use the endpoint: a metrics-only token reads `GET /metrics` and nothing
/// else; a route that needs a role needs a caller (pages send the signed-out to the sign-in page)
/// with that role (pages show their own refusal).
fn admit(
    endpoint: Option<&'static Endpoint>,
    caller: Option<&Resolved>,
    uri: &axum::http::Uri,
) -> Result<(), Box<Response>> {
    let kind = endpoint.map_or(Kind::Page, |e| e.kind);
    let metrics_token = caller.is_some_and(|c| c.access.scope() == TokenScope::Metrics);
    let is_metrics = endpoint.is_some_and(|e| e.method == "GET" && e.path == METRICS_PATH);
    if metrics_token && !is_metrics {
        return Err(Box::new(refuse(
            kind,
            StatusCode::FORBIDDEN,
            format!("this API token may only read GET {METRICS_PATH}"),
        )));
    }
    let Some(Endpoint {
        need: Need::Role(role),
        ..
    }) = endpoint.filter(|_| !metrics_token)
    else {
        return Ok(());
    };
    let refusal = match caller.map(|c| c.access.principal()) {
        None if kind == Kind::Page => to_login(uri),
        None => refuse(
            kind,
            StatusCode::UNAUTHORIZED,
            AppError::signed_out().to_string(),
        ),
        Some(p) if !p.has_role(*role) && kind != Kind::Page => refuse(
            kind,
            StatusCode::FORBIDDEN,
            format!(
                "This needs the {role} role; you are signed in as a {}.",
                p.role
            ),
        ),
        Some(_) => return Ok(()),
    };
    Err(Box::new(refusal))
}

/// Tells the browser to drop a session cookie that no longer works.
fn clear_session_cookie(response: &mut Response, cookie: CookieSettings) {
    if let Ok(v) = HeaderValue::from_str(&cookie.clear()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The client's address: from the proxy's header when one is configured (the last entry of a list,
/// the one the proxy added), else the TCP peer; "unknown" when neither says.
fn client_address(request: &Request, header: Option<&HeaderName>) -> String {
    if header.is_none() && request.headers().contains_key("x-forwarded-for") {
        warn_unused_proxy_header();
    }
    let from_proxy = header
        .and_then(|h| request.headers().get(h))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| v.chars().take(64).collect::<String>());
    from_proxy.unwrap_or_else(|| {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string())
    })
}

/// Whether a request carried `X-Forwarded-For` that went unused (no `PMR_CLIENT_IP_HEADER`).
static PROXY_HEADER_IGNORED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Says once that a proxy's `X-Forwarded-For` arrives but is not used: every client then looks like
/// the proxy to the sign-in throttle and the connection cap.
fn warn_unused_proxy_header() {
    PROXY_HEADER_IGNORED.store(true, std::sync::atomic::Ordering::Relaxed);
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            "requests carry X-Forwarded-For but PMR_CLIENT_IP_HEADER is not set: every client counts \
             as the proxy's address for sign-in throttling; set PMR_CLIENT_IP_HEADER=x-forwarded-for \
             if a trusted proxy sets it. The limit of open connections per address \
             (PMR_MAX_CONNECTIONS_PER_ADDRESS) counts TCP peers whatever the header says: behind a \
             proxy, raise it or set it to 0"
        );
    });
}

/// Compiled assets and public files: no caller needed, so no session lookup per file.
fn is_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg" || path == "/favicon.ico"
}

/// `Ok(Some(token))` for `Authorization: Bearer <token>`, `Ok(None)` without the header, `Err` for
/// any other use of it.
fn bearer_token(headers: &HeaderMap) -> Result<Option<String>, &'static str> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| "the Authorization header is not readable text")?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            let token = token.trim();
            if token.is_empty() || token.len() > 256 {
                Err("the bearer token is empty or too long")
            } else {
                Ok(Some(token.to_string()))
            }
        }
        _ => Err("use 'Authorization: Bearer <API token>'"),
    }
}

/// Whether the response already sets the session cookie (a sign-in): then a stale one is not cleared.
fn sets_session_cookie(headers: &HeaderMap, cookie: CookieSettings) -> bool {
    let prefix = format!("{}=", cookie.name());
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.starts_with(&prefix)))
}

/// Sends an anonymous reader of a protected page to the login page, to come back afterwards.
fn to_login(uri: &axum::http::Uri) -> Response {
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let location = format!("/login?next={}", percent_encode_path(target));
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// At most 100 characters of a path, for messages.
fn clip(path: &str) -> String {
    path.chars().take(100).collect()
}

/// A refusal in the shape the route's clients read: the app's error JSON for server functions,
/// `{"error": "..."}` otherwise.
fn refuse(kind: Kind, status: StatusCode, message: String) -> Response {
    let body = if kind == Kind::ServerFn {
        let err = match status {
            StatusCode::UNAUTHORIZED => AppError::Unauthorized(message),
            StatusCode::FORBIDDEN => AppError::Forbidden(message),
            StatusCode::SERVICE_UNAVAILABLE => AppError::Unavailable(message),
            _ => AppError::BadRequest(message),
        };
        serde_json::to_string(&err).unwrap_or_else(|_| "{}".into())
    } else {
        json!({ "error": message }).to_string()
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if status == StatusCode::UNAUTHORIZED && kind == Kind::Rest {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"pmr\""),
        );
    }
    response
}

fn unavailable(kind: Kind, err: StoreError) -> Response {
    tracing::warn!(error = %err, "cannot check the caller: store error");
    refuse(
        kind,
        StatusCode::SERVICE_UNAVAILABLE,
        "the account database is unavailable right now; try again in a moment".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn settings(allowed: &[&str]) -> AuthSettings {
        AuthSettings {
            sessions: SessionPolicy::default(),
            cookie: CookieSettings { secure: false },
            allowed_origins: allowed.iter().map(|s| s.to_string()).collect(),
            client_ip_header: None,
        }
    }

    #[test]
    fn same_origin_posts_pass_and_foreign_ones_do_not() {
        let s = settings(&["https://pmr.example.com"]);
        let own = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
        ]);
        assert!(check_origin(&Method::POST, &own, false, &s).is_ok());
        let foreign = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "https://evil.example"),
        ]);
        assert!(check_origin(&Method::POST, &foreign, false, &s).is_err());
        assert!(
            check_origin(&Method::GET, &foreign, false, &s).is_ok(),
            "reads pass"
        );
        assert!(
            check_origin(&Method::POST, &foreign, true, &s).is_ok(),
            "bearer is not ambient"
        );
        let allowed = headers(&[("host", "10.0.0.1"), ("origin", "https://pmr.example.com")]);
        assert!(check_origin(&Method::PUT, &allowed, false, &s).is_ok());
        let none = headers(&[("host", "127.0.0.1:3000")]);
        assert!(check_origin(&Method::POST, &none, false, &s).is_err());
        let referer = headers(&[
            ("host", "127.0.0.1:3000"),
            ("referer", "http://127.0.0.1:3000/login?next=/"),
        ]);
        assert!(check_origin(&Method::POST, &referer, false, &s).is_ok());
        let null = headers(&[("host", "127.0.0.1:3000"), ("origin", "null")]);
        assert!(check_origin(&Method::POST, &null, false, &s).is_err());
        // Same host and port, other scheme: not the app's own origin.
        let other_scheme = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "https://127.0.0.1:3000"),
        ]);
        assert!(check_origin(&Method::POST, &other_scheme, false, &s).is_err());
        let other_port = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3001"),
        ]);
        assert!(check_origin(&Method::POST, &other_port, false, &s).is_err());
        let https = AuthSettings {
            cookie: CookieSettings { secure: true },
            ..settings(&[])
        };
        let served_over_https = headers(&[
            ("host", "pmr.example.com"),
            ("origin", "https://pmr.example.com"),
        ]);
        assert!(check_origin(&Method::POST, &served_over_https, false, &https).is_ok());
        let downgraded = headers(&[
            ("host", "pmr.example.com"),
            ("origin", "http://pmr.example.com"),
        ]);
        assert!(check_origin(&Method::POST, &downgraded, false, &https).is_err());
    }

    #[test]
    fn websocket_upgrades_check_the_origin_they_carry() {
        let s = settings(&[]);
        let foreign = headers(&[
            ("host", "127.0.0.1:3000"),
            ("upgrade", "websocket"),
            ("origin", "https://evil.example"),
        ]);
        assert!(check_origin(&Method::GET, &foreign, true, &s).is_err());
        let own = headers(&[
            ("host", "127.0.0.1:3000"),
            ("upgrade", "websocket"),
            ("origin", "http://127.0.0.1:3000"),
        ]);
        assert!(check_origin(&Method::GET, &own, false, &s).is_ok());
    }

    #[test]
    fn bearer_headers_are_parsed_strictly() {
        assert_eq!(bearer_token(&headers(&[])), Ok(None));
        assert_eq!(
            bearer_token(&headers(&[("authorization", "Bearer abc")])),
            Ok(Some("abc".into()))
        );
        assert!(bearer_token(&headers(&[("authorization", "Basic abc")])).is_err());
        assert!(bearer_token(&headers(&[("authorization", "Bearer ")])).is_err());
    }

    #[test]
    fn client_addresses_come_from_the_proxy_header_only_when_configured() {
        let mut request = Request::new(Body::empty());
        request.headers_mut().insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.9"),
        );
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 5000))));
        assert_eq!(client_address(&request, None), "10.0.0.1");
        assert!(
            PROXY_HEADER_IGNORED.load(std::sync::atomic::Ordering::Relaxed),
            "the unused proxy header is warned about"
        );
        let header = HeaderName::from_static("x-forwarded-for");
        assert_eq!(client_address(&request, Some(&header)), "203.0.113.9");
        let real_ip = HeaderName::from_static("x-real-ip");
        assert_eq!(client_address(&request, Some(&real_ip)), "10.0.0.1");
    }

    #[test]
    fn login_targets_are_encoded() {
        assert_eq!(
            percent_encode_path("/reports/3?x=1&y"),
            "/reports/3%3Fx%3D1%26y"
        );
    }
}
