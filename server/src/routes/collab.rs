//! `GET /ws/reports/{report_id}`: the WebSocket of a report's collaboration session. Members of the
//! report's project (viewers and up) and admins; the authentication layer has already checked the
//! session cookie or bearer token and, for a browser, the `Origin`. Refusals before the upgrade are
//! the usual JSON errors: 400 for a bad id or a request that is not a WebSocket upgrade, 404 for an
//! unknown report or one whose project the caller does not reach (the same answer). After the upgrade, `collab::socket` serves the connection.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Extension, Path, State, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::caller::Caller;
use super::error::ApiError;
use super::reports::report_project;
use crate::auth::caller::CredentialEnd;
use crate::auth::revoke::Credential;
use crate::collab::socket;
use crate::state::AppState;

/// Bytes a connection reads from its socket at a time. Client messages are small (presence, typing,
/// a CRDT update of a few keystrokes); tungstenite grows the buffer for a larger one. The library's
/// default (128 KiB, plus as much again for writing) would make 10,000 idle connections cost GBs.
/// The write buffer is the most the writer gathers into one write when frames wait behind each other
/// (`socket::COALESCE_BYTES`): a frame alone is flushed at once, so nothing waits in it.
const READ_BUFFER: usize = 1024;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/ws/reports/{report_id}", get(connect))
}

async fn connect(
    State(state): State<AppState>,
    Caller(who): Caller,
    Extension(credential): Extension<Credential>,
    Extension(ends_at): Extension<CredentialEnd>,
    Path(id): Path<String>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let id: i64 =
        id.parse().ok().filter(|id| *id > 0).ok_or_else(|| {
            ApiError::BadRequest("the report id must be a positive number".into())
        })?;
    let project_id = report_project(&state, id)
        .await?
        .filter(|&project| who.reaches(project))
        .ok_or_else(|| ApiError::from(app::access::Access::report_not_found(id)))?;
    let upgrade = upgrade.map_err(|e| {
        ApiError::BadRequest(format!("this endpoint takes a WebSocket upgrade ({e})"))
    })?;
    let config = *state.collab.config();
    let context = socket::Context {
        optimizer: state.collab.clone(),
        documents: state.documents.clone(),
        report_id: id,
        project_id,
        who,
        credential,
        ends_at: ends_at.0,
        authority: state.authority.clone(),
        revocations: state.revocations.clone(),
    };
    Ok(upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(socket::COALESCE_BYTES)
        .max_write_buffer_size(config.outbound_queue_bytes)
        .max_message_size(socket::hard_message_limit(config.max_message_bytes))
        .max_frame_size(socket::hard_message_limit(config.max_message_bytes))
        .on_upgrade(move |ws| socket::serve(ws, context)))
}
