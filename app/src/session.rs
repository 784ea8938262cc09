//! Who is signed in, as the pages see it: one `current_user` resource for the whole app, provided as
//! context so the header, the report page and the admin page agree; and the full-page navigations
//! that follow signing in and out (so every part of the page starts again as the new user).

use leptos::prelude::*;

use crate::account::Principal;
use crate::api::current_user;
use crate::error::AppError;
use crate::model::Role;

/// The signed-in user (`None` when signed out), loaded once per page load.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<Principal>, AppError>>);

/// Creates the resource and provides it to every component below.
pub fn provide_current_user() {
    provide_context(CurrentUser(Resource::new(|| (), |_| current_user())));
}

/// The app's current-user resource.
pub fn use_current_user() -> CurrentUser {
    expect_context::<CurrentUser>()
}

impl CurrentUser {
    /// Whether the signed-in user has at least `role`; `false` while loading or signed out.
    pub fn has_role(&self, role: Role) -> bool {
        self.0
            .get()
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|p| p.has_role(role))
    }
}

/// A `next` target that stays on this site: a path starting with one `/` (not `//`, which browsers
/// read as another host), without a backslash, a control character or white space anywhere (browsers
/// drop tabs and newlines from URLs, so `/<TAB>/evil.example` is `//evil.example` to them), not the
/// login page itself. Anything else goes home.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path
                    .chars()
                    .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
                && !path.starts_with("/login")
                && path.len() <= 512 =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

/// Loads `url` as a new page (after signing in or out, so nothing of the previous user stays).
pub fn load_page(url: &str) {
    // In the browser only; a failure leaves the reader on the current page with its message.
    let _ = window().location().set_href(url);
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_targets_stay_on_site() {
        assert_eq!(safe_next(Some("/reports/3?x=1")), "/reports/3?x=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/ /evil.example",
            "/\u{0}/evil.example",
            "javascript:alert(1)",
            "/login?next=/",
            "reports",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
