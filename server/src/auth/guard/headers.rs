//! Step 6, the security headers on every response, with the pages' `Content-Security-Policy` and
//! its per-response nonce.

use axum::http::{header, HeaderMap, HeaderValue};

use super::PageNonce;

/// The policy for `Content-Security-Policy` on pages, with the nonce of this response's inline
/// script (the one that starts the browser code) and stylesheet (the page's styles). No other inline
/// script or style applies; WebAssembly may compile; everything else comes from the app's own origin.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
}

/// The policy for everything that is not a page (JSON, files): nothing may run or embed it.
const DEFAULT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Headers on every response: no sniffing, no framing, no referrer leaks, a CSP (the page policy with
/// this response's nonce for HTML, the closed one for anything else), and how long it may be kept
/// ([`cache_control`]).
pub(super) fn security_headers(
    headers: &mut HeaderMap,
    path: &str,
    routed: bool,
    nonce: Option<&PageNonce>,
) {
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
    if !headers.contains_key(header::CACHE_CONTROL) {
        if let Some(policy) = cache_control(path, routed, is_html) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
        }
    }
    if path.starts_with("/pkg/") && !headers.contains_key(header::VARY) {
        // The same name is sent brotli, gzip or raw by the request's `Accept-Encoding`.
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

/// How long a response may be kept:
/// - the build's content-hashed files (`/pkg/pmr.<hash>.wasm`, its chunks, JS and CSS): a year,
///   unchanged (a new build has new names);
/// - the other static files (favicon, robots.txt, files of a build without hashes): kept, but asked
///   again each time (a `304` when unchanged);
/// - pages: personal, so no shared cache keeps them, and the browser asks again each time;
/// - everything else routed (JSON, server functions): personal and never stored.
///
/// `None` for what is neither (the not-found page of an unknown address keeps its own headers).
pub fn cache_control(path: &str, routed: bool, is_html: bool) -> Option<&'static str> {
    if routed {
        return Some(if is_html {
            "private, no-cache"
        } else {
            "private, no-store"
        });
    }
    if is_html {
        return Some("private, no-cache");
    }
    if path.starts_with("/pkg/") && has_content_hash(path) {
        return Some("public, max-age=31536000, immutable");
    }
    Some("no-cache")
}

/// Whether a file's name carries the 22-character content hash cargo-leptos gives the build's files
/// (`pmr.6Yx…Q.wasm`, `chunk_12.Xy…9.wasm`, `__wasm_split.Ab…c.js`; a build without hashes names
/// the split loader with 22 underscores, which is no hash).
fn has_content_hash(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1].iter().any(|part| {
            part.len() == 22
                && part.bytes().any(|b| b != b'_')
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_build_files_are_kept_a_year_and_the_rest_revalidated() {
        let year = Some("public, max-age=31536000, immutable");
        assert_eq!(
            cache_control("/pkg/pmr.6YxkVh3lBqMXTQ5yZ2QnVw.wasm", false, false),
            year
        );
        assert_eq!(
            cache_control("/pkg/chunk_12.Ab-_9kVh3lBqMXTQ5yZ2Qn.wasm", false, false),
            year
        );
        assert_eq!(
            cache_control("/pkg/__wasm_split.AbCdEfGhIjKlMnOpQrStUv.js", false, false),
            year
        );
        // A build without hashes: kept, but asked again.
        assert_eq!(
            cache_control("/pkg/pmr.wasm", false, false),
            Some("no-cache")
        );
        assert_eq!(
            cache_control("/pkg/__wasm_split.______________________.js", false, false),
            Some("no-cache")
        );
        assert_eq!(
            cache_control("/pkg/pmr.css", false, false),
            Some("no-cache")
        );
        assert_eq!(
            cache_control("/favicon.svg", false, false),
            Some("no-cache")
        );
        // A hash-like name outside the build's folder is not the build's.
        assert_eq!(
            cache_control("/AbCdEfGhIjKlMnOpQrStUv.Ab.js", false, false),
            Some("no-cache")
        );
        assert_eq!(
            cache_control("/reports/3", true, true),
            Some("private, no-cache")
        );
        assert_eq!(
            cache_control("/api/reports/3", true, false),
            Some("private, no-store")
        );
    }
}
