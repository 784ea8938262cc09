//! Step 6, the security headers on every response, with the pages' `Content-Security-Policy` and
//! its per-response nonce.

use axum::http::{header, HeaderMap, HeaderValue};

use super::PageNonce;

/// The policy for `Content-Security-Policy` on pages, with the nonce of this response's inline
/// hydration scripts. No other inline script runs; WebAssembly may compile; everything else comes
/// from the app's own origin.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
}

/// The policy for everything that is not a page (JSON, files): nothing may run or embed it.
const DEFAULT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Headers on every response: no sniffing, no framing, no referrer leaks, a CSP (the page policy with
/// this response's nonce for HTML, the closed one for anything else), and no caching of routed
/// (personal) responses.
pub(super) fn security_headers(headers: &mut HeaderMap, routed: bool, nonce: Option<&PageNonce>) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let page_policy = nonce
        .filter(|_| is_html)
        .and_then(|n| HeaderValue::from_str(&page_csp(&n.0)).ok());
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        page_policy.unwrap_or(HeaderValue::from_static(DEFAULT_CSP)),
    );
    if routed && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
}
