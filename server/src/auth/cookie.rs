//! The session cookie: `HttpOnly` (no script can read it), `SameSite=Lax` (not sent on cross-site
//! posts), `Path=/`, `Max-Age` of the session's absolute lifetime, and `Secure` when the app is served
//! over HTTPS, in which case it also takes the `__Host-` prefix (browsers then refuse it unless it is
//! Secure, host-only and `Path=/`).

use axum::http::{header, HeaderMap};

use super::session::SessionPolicy;

/// How the session cookie is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieSettings {
    pub secure: bool,
}

impl CookieSettings {
    /// The cookie's name.
    pub fn name(self) -> &'static str {
        if self.secure {
            "__Host-pmr_session"
        } else {
            "pmr_session"
        }
    }

    /// `Set-Cookie` value carrying a new session token.
    pub fn issue(self, token: &str, policy: SessionPolicy) -> String {
        format!(
            "{}={token}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}",
            self.name(),
            policy.absolute_secs,
            if self.secure { "; Secure" } else { "" }
        )
    }

    /// `Set-Cookie` value that removes the cookie.
    pub fn clear(self) -> String {
        format!(
            "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}",
            self.name(),
            if self.secure { "; Secure" } else { "" }
        )
    }

    /// The session token in a request's `Cookie` headers, if any. Values longer than a token are
    /// ignored rather than looked up.
    pub fn token(self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.name())
            .map(|(_, value)| value.trim().to_string())
            .filter(|v| !v.is_empty() && v.len() <= 128)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_carry_every_flag() {
        let policy = SessionPolicy::default();
        let plain = CookieSettings { secure: false }.issue("abc", policy);
        assert_eq!(
            plain,
            "pmr_session=abc; Path=/; Max-Age=43200; HttpOnly; SameSite=Lax"
        );
        let secure = CookieSettings { secure: true }.issue("abc", policy);
        assert!(secure.starts_with("__Host-pmr_session=abc;"));
        assert!(secure.ends_with("; Secure"));
        assert!(CookieSettings { secure: false }
            .clear()
            .contains("Max-Age=0"));
    }

    #[test]
    fn tokens_are_found_among_other_cookies() {
        let settings = CookieSettings { secure: false };
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; pmr_session=tok123"),
        );
        assert_eq!(settings.token(&headers).as_deref(), Some("tok123"));
        headers.clear();
        headers.append(header::COOKIE, HeaderValue::from_static("xpmr_session=no"));
        assert_eq!(settings.token(&headers), None);
        headers.clear();
        let long = format!("pmr_session={}", "a".repeat(200));
        headers.append(
            header::COOKIE,
            HeaderValue::from_str(&long).expect("header"),
        );
        assert_eq!(settings.token(&headers), None);
    }
}
