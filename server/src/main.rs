//! The `server` binary: reads the configuration, sets up logging, builds the state, and serves the
//! router until SIGTERM or Ctrl-C, then gives in-flight requests a bounded time to finish.

use anyhow::Context;
use clap::Parser;
use server::{router, AppState, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        // A log line that cannot be written (the log is a file on a full disk) is lost, not
        // reported: the report is an `eprintln!`, which panics when stderr cannot be written
        // either, taking down whatever request or connection was logging (found by
        // `tests/integration/process_faults.rs`, whose full-disk server logs to a file over its size limit).
        .log_internal_errors(false)
        .init();
    let config = Config::parse();
    let state = AppState::build(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.serve.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.serve.addr))?;
    tracing::info!("PMR is serving on http://{}", listener.local_addr()?);
    let grace = config.serve.shutdown_grace();
    let collab = state.collab.clone();
    let sockets = state.collab.clone();
    let documents = state.documents.clone();
    let store = state.store.clone();
    let server = server::serve::serve(listener, router(state), config.serve.limits(), async move {
        shutdown_signal().await;
        // Batches waiting for their window go out first; then collaboration clients get what
        // is queued for them and a close frame (1001), and reconnect to another instance.
        tokio::time::sleep(collab.config().batch_max_wait).await;
        collab.close_all(server::collab::CloseCode::GOING_AWAY);
    });
    // Requests still running `grace` after the signal are cut off rather than holding the process.
    tokio::select! {
        () = server => {},
        () = async { shutdown_signal().await; tokio::time::sleep(grace).await } => {
            tracing::warn!("requests still running after {grace:?}; exiting anyway");
        }
    }
    // Collaboration connections were asked to close when the signal came, but the server above
    // only waits for HTTP requests: without this wait the process could end before their close
    // frames are written (clients would see the connection reset instead of 1001).
    if tokio::time::timeout(grace, sockets.connections_ended())
        .await
        .is_err()
    {
        tracing::warn!("collaboration connections still open after {grace:?}; exiting anyway");
    }
    // Shared documents still held (their sessions closed with the process) are written back.
    match tokio::time::timeout(grace, documents.shutdown()).await {
        Ok(n) => tracing::info!(documents = n, "documents written back"),
        Err(_) => tracing::warn!("documents not all written back within {grace:?}"),
    }
    // SQLite folds its write-ahead log into the database file: a stopped server leaves one file.
    if let Err(e) = store.checkpoint().await {
        tracing::warn!(error = %e, "the database's write-ahead log was not checkpointed");
    }
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
