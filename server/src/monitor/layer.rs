//! The HTTP timing layer: every response's time is recorded as `api_response_time` (milliseconds)
//! with the matched route (the pattern, e.g. `/reports/{id}`, so ids do not explode the series; the
//! static files and unknown paths share `unmatched`), the method and the status. Every label comes
//! from a closed set: a method outside the standard ones is `other`, so no request can make a series
//! of its own.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::{Metric, Monitor};

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
    // The matched path is shared (`Arc<str>`): kept by reference count, not copied.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = method_label(request.method());
    let response = next.run(request).await;
    let status = response.status();
    monitor.record(
        Metric::ApiResponseTime,
        started.elapsed().as_secs_f64() * 1000.0,
        &[
            (
                "route",
                route.as_ref().map_or("unmatched", MatchedPath::as_str),
            ),
            ("method", method),
            ("status", status.as_str()),
        ],
    );
    response
}

/// The method as a label: one of the standard methods, or `other`.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn made_up_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::CONNECT), "other");
        let odd = Method::from_bytes(b"BREW").expect("a method");
        assert_eq!(method_label(&odd), "other");
    }
}
