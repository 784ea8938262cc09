//! The HTTP timing layer: every response's time is recorded as `api_response_time` (milliseconds)
//! with the matched route (the pattern, e.g. `/reports/{id}`, so ids do not explode the series; the
//! static files and unknown paths share `unmatched`), the method and the status.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::Monitor;

/// The layer's entry point.
pub async fn record_api_time(
    State(monitor): State<Monitor>,
    request: Request,
    next: Next,
) -> Response {
    if !monitor.is_enabled() {
        return next.run(request).await;
    }
    let started = std::time::Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    monitor.record(
        "api_response_time",
        started.elapsed().as_secs_f64() * 1000.0,
        "ms",
        &[
            ("route", &route),
            ("method", method.as_str()),
            ("status", status.as_str()),
        ],
    );
    response
}
