//! Who may call what: one table, [`ENDPOINTS`], with an entry for every route the router serves (REST
//! endpoints, server functions, pages). The authentication layer looks each request's matched route up
//! here; a route without an entry is closed (403) and logged, so nothing is reachable by accident. The
//! access-matrix test (`server/tests/integration/access.rs`) fails for any entry it has no expectations for.
//!
//! The table decides the minimum role. Project membership is decided where the project is known: the
//! handlers and services check that viewers and editors are members of the report's or project's
//! project (admins reach every project).

use app::model::Role;

/// What kind of route an entry is; it decides how refusals look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A server-rendered page: anonymous readers are sent to `/login`; a page refuses a wrong role
    /// itself, with a 403 page.
    Page,
    /// A REST endpoint: refusals are `{"error": "..."}` JSON with 401 or 403.
    Rest,
    /// A server function: refusals are the app's error JSON (`{"Unauthorized": "..."}`) with 401 or
    /// 403, which the browser decodes like any other server function error.
    ServerFn,
}

/// The minimum a caller needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone, signed in or not.
    Public,
    /// A signed-in account or an API token with at least this role.
    Role(Role),
}

/// Whether the route is about one project (membership checked by the handler) or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    None,
    /// The handler resolves the project (from a report id or project code) and requires membership.
    Project,
}

/// One route's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub method: &'static str,
    /// The route as the router declares it (axum syntax, `{id}`).
    pub path: &'static str,
    pub kind: Kind,
    pub need: Need,
    pub scope: Scope,
}

const fn entry(
    method: &'static str,
    path: &'static str,
    kind: Kind,
    need: Need,
    scope: Scope,
) -> Endpoint {
    Endpoint {
        method,
        path,
        kind,
        need,
        scope,
    }
}

use Kind::{Page, Rest, ServerFn};
use Need::{Public, Role as Needs};
use Role::{Admin, Editor, Viewer};
use Scope::{None as Any, Project};

/// Every route the application serves.
#[rustfmt::skip]
pub const ENDPOINTS: &[Endpoint] = &[
    // Health, for load balancers.
    entry("GET", "/healthz", Rest, Public, Any),
    entry("GET", "/readyz", Rest, Public, Any),
    // Pages.
    entry("GET", "/login", Page, Public, Any),
    entry("GET", "/", Page, Needs(Viewer), Any),
    entry("GET", "/projects/{code}", Page, Needs(Viewer), Project),
    entry("GET", "/projects/{code}/progress", Page, Needs(Editor), Project),
    entry("GET", "/reports/{id}", Page, Needs(Viewer), Project),
    entry("GET", "/admin", Page, Needs(Admin), Any),
    entry("GET", "/admin/performance", Page, Needs(Admin), Any),
    entry("GET", "/admin/projects/new", Page, Needs(Editor), Any),
    entry("GET", "/admin/templates", Page, Needs(Admin), Any),
    // Server functions.
    entry("POST", "/api/login", ServerFn, Public, Any),
    entry("POST", "/api/logout", ServerFn, Public, Any),
    entry("POST", "/api/current_user", ServerFn, Public, Any),
    entry("POST", "/api/list_portfolio", ServerFn, Needs(Viewer), Any),
    entry("POST", "/api/get_report_outline", ServerFn, Needs(Viewer), Project),
    entry("POST", "/api/get_report_changes", ServerFn, Needs(Viewer), Project),
    entry("POST", "/api/regenerate_report", ServerFn, Needs(Editor), Project),
    entry("POST", "/api/get_report_section", ServerFn, Needs(Viewer), Project),
    entry("POST", "/api/rerun_monte_carlo", ServerFn, Needs(Viewer), Project),
    entry("POST", "/api/record_section_load", ServerFn, Needs(Viewer), Any),
    entry("POST", "/api/get_project", ServerFn, Needs(Viewer), Project),
    entry("POST", "/api/publish_report", ServerFn, Needs(Editor), Project),
    entry("POST", "/api/correct_report", ServerFn, Needs(Editor), Project),
    entry("POST", "/api/get_progress", ServerFn, Needs(Editor), Project),
    entry("POST", "/api/save_progress", ServerFn, Needs(Editor), Project),
    entry("POST", "/api/list_templates", ServerFn, Needs(Viewer), Any),
    entry("POST", "/api/get_templates", ServerFn, Needs(Admin), Any),
    entry("POST", "/api/save_template", ServerFn, Needs(Admin), Any),
    entry("POST", "/api/start_report", ServerFn, Needs(Editor), Project),
    entry("POST", "/api/get_project_codes", ServerFn, Needs(Editor), Any),
    entry("POST", "/api/create_project", ServerFn, Needs(Editor), Any),
    entry("POST", "/api/list_revisions", ServerFn, Needs(Viewer), Project),
    entry("POST", "/api/get_revision", ServerFn, Needs(Viewer), Project),
    entry("POST", "/api/restore_revision", ServerFn, Needs(Editor), Project),
    entry("POST", "/api/admin_overview", ServerFn, Needs(Admin), Any),
    entry("POST", "/api/create_account", ServerFn, Needs(Admin), Any),
    entry("POST", "/api/update_account", ServerFn, Needs(Admin), Any),
    entry("POST", "/api/reset_password", ServerFn, Needs(Admin), Any),
    entry("POST", "/api/create_api_token", ServerFn, Needs(Admin), Any),
    entry("POST", "/api/revoke_api_token", ServerFn, Needs(Admin), Any),
    entry("POST", "/api/performance_overview", ServerFn, Needs(Admin), Any),
    entry("POST", "/api/clear_cache", ServerFn, Needs(Admin), Any),
    entry("POST", "/api/set_monitoring", ServerFn, Needs(Admin), Any),
    entry("POST", "/api/delete_monitoring_data", ServerFn, Needs(Admin), Any),
    entry("POST", "/api/set_threshold", ServerFn, Needs(Admin), Any),
    // REST: project data exchange and reports. Importing a new project needs an admin or an editor
    // an admin allowed to (the handler checks); replacing one needs an editor who is a member. Creating a project needs an admin or an
    // editor an admin allowed to (the service checks the account's right in the store).
    entry("POST", "/api/projects/import", Rest, Needs(Editor), Project),
    entry("POST", "/api/projects/{code}/import", Rest, Needs(Editor), Project),
    entry("GET", "/api/projects/{code}", Rest, Needs(Viewer), Project),
    entry("GET", "/api/projects/{code}/export", Rest, Needs(Viewer), Project),
    entry("GET", "/api/projects/{code}/tasks.csv", Rest, Needs(Viewer), Project),
    entry("PUT", "/api/projects/{code}/tasks.csv", Rest, Needs(Editor), Project),
    entry("POST", "/api/projects", Rest, Needs(Editor), Any),
    entry("GET", "/api/projects/{code}/progress", Rest, Needs(Editor), Project),
    entry("POST", "/api/projects/{code}/progress", Rest, Needs(Editor), Project),
    entry("POST", "/api/projects/{code}/reports", Rest, Needs(Editor), Project),
    entry("GET", "/api/templates", Rest, Needs(Viewer), Any),
    entry("POST", "/api/templates", Rest, Needs(Admin), Any),
    entry("GET", "/api/templates/{id}", Rest, Needs(Admin), Any),
    entry("PUT", "/api/templates/{id}", Rest, Needs(Admin), Any),
    entry("GET", "/api/reports/{id}", Rest, Needs(Viewer), Project),
    entry("GET", "/api/reports/{id}/changes", Rest, Needs(Viewer), Project),
    entry("POST", "/api/reports/{id}/regenerate", Rest, Needs(Editor), Project),
    entry("POST", "/api/reports/{id}/publish", Rest, Needs(Editor), Project),
    entry("POST", "/api/reports/{id}/correction", Rest, Needs(Editor), Project),
    // A report's live collaboration session (WebSocket; the layer checks the upgrade's Origin).
    entry("GET", "/ws/reports/{report_id}", Rest, Needs(Viewer), Project),
    // The cache's part of the performance API: operational data, and the seed's admin-only clear.
    entry("GET", "/api/reports/pmr/performance/cache/stats", Rest, Needs(Admin), Any),
    entry("POST", "/api/reports/pmr/performance/cache/clear", Rest, Needs(Admin), Any),
    // The rest of the performance API, and the Prometheus exposition (admin API tokens for scrapers).
    entry("GET", "/api/reports/pmr/performance/stats", Rest, Needs(Admin), Any),
    entry("GET", "/api/reports/pmr/performance/metrics", Rest, Needs(Admin), Any),
    entry("GET", "/api/reports/pmr/performance/alerts", Rest, Needs(Admin), Any),
    entry("GET", "/api/reports/pmr/performance/recommendations", Rest, Needs(Admin), Any),
    entry("GET", "/api/reports/pmr/performance/thresholds", Rest, Needs(Admin), Any),
    entry("PUT", "/api/reports/pmr/performance/thresholds/{metric}", Rest, Needs(Admin), Any),
    entry("GET", "/api/reports/pmr/performance/websocket/stats", Rest, Needs(Admin), Any),
    entry("GET", "/api/reports/pmr/performance/websocket/sessions/{session_id}", Rest, Needs(Admin), Any),
    // Anyone: the statuses only, for load balancers; admins get the details (the handler decides).
    entry("GET", "/api/reports/pmr/performance/health", Rest, Public, Any),
    entry("POST", "/api/reports/pmr/performance/monitor/enable", Rest, Needs(Admin), Any),
    entry("POST", "/api/reports/pmr/performance/monitor/disable", Rest, Needs(Admin), Any),
    entry("DELETE", "/api/reports/pmr/performance/monitor/data", Rest, Needs(Admin), Any),
    entry("GET", "/metrics", Rest, Needs(Admin), Any),
];

/// What the table says about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Found(&'static Endpoint),
    /// The path is in the table but not with this method.
    WrongMethod,
    /// The path has no entry: the route is closed.
    Missing,
}

/// The rule for a request to a matched route. `HEAD` follows `GET`.
pub fn lookup(method: &str, path: &str) -> Lookup {
    let method = if method == "HEAD" { "GET" } else { method };
    let mut path_known = false;
    for e in ENDPOINTS {
        if e.path == path {
            if e.method == method {
                return Lookup::Found(e);
            }
            path_known = true;
        }
    }
    if path_known {
        Lookup::WrongMethod
    } else {
        Lookup::Missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_follow_the_table() {
        assert!(matches!(lookup("GET", "/healthz"), Lookup::Found(e) if e.need == Public));
        assert!(matches!(lookup("HEAD", "/"), Lookup::Found(_)));
        assert_eq!(lookup("DELETE", "/healthz"), Lookup::WrongMethod);
        assert_eq!(lookup("GET", "/api/secret"), Lookup::Missing);
    }

    #[test]
    fn entries_are_unique() {
        for (i, a) in ENDPOINTS.iter().enumerate() {
            for b in &ENDPOINTS[i + 1..] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} {} twice",
                    a.method,
                    a.path
                );
            }
        }
    }
}
