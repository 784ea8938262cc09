//! Request body limits. A body whose declared length is over the route's limit is refused with
//! `413` and a JSON message before any of it is read; a body sent without a length (chunked) is cut
//! off at the limit while it is read, and its handler fails as for any unreadable body.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Largest body of a page request or server function call: the largest argument a form sends is
/// a few KiB of text.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The middleware: `from_fn_with_state(limit_in_bytes, limit_body)`.
pub async fn limit_body(State(max): State<usize>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(json!({
                "error": format!("the request body is larger than the {} KiB this endpoint accepts", max / 1024)
            })),
        )
            .into_response();
    }
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, max)));
    next.run(request).await
}
