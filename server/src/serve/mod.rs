//! Serving the router over TCP, with the connection limits that `axum::serve` lacks:
//!
//! - a **header read timeout**: a client that has not sent a whole request head this long after
//!   connecting (or after its previous response, on a kept-alive connection) is dropped, so a
//!   slowloris client that trickles header bytes cannot hold a connection forever;
//! - a **body read timeout**: a request body must arrive within
//!   [`ConnectionLimits::body_read_timeout`] of its first read, so a client that sends a valid head
//!   and then trickles its body (a slow POST) is cut off too: the handler gets a read error, answers
//!   with a 4xx, and the connection is closed since its body was not read to the end;
//! - a **per-address connection cap**: one peer address may hold at most
//!   [`ConnectionLimits::per_address`] open connections (WebSocket connections included, for as long
//!   as they stay open); the next one is answered `429` with a JSON body and closed;
//! - `TCP_NODELAY` on every accepted socket: small writes (collaboration frames, short API answers)
//!   go out at once instead of waiting up to 40 ms behind Nagle's algorithm and delayed ACKs.
//!
//! Connections speak HTTP/1.1 (what browsers use without TLS) with upgrades for WebSockets. Each
//! request carries [`ConnectInfo`] with the peer's address, as with
//! `into_make_service_with_connect_info`. Shutdown: when the given future resolves the listener
//! closes, every connection finishes the request it is serving and closes, and [`serve`] returns
//! once all have (upgraded WebSocket connections are the collaboration service's to close).

pub mod args;

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

/// Limits on the connections one server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Longest wait for a complete request head.
    pub header_read_timeout: Duration,
    /// Longest time a request body may take to arrive, from its first read.
    pub body_read_timeout: Duration,
    /// Most open connections from one peer address; 0 means no limit.
    pub per_address: usize,
}

impl ConnectionLimits {
    /// 10 seconds for a request head, 30 for a body; 256 connections per address.
    pub const DEFAULT: ConnectionLimits = ConnectionLimits {
        header_read_timeout: Duration::from_secs(10),
        body_read_timeout: Duration::from_secs(30),
        per_address: 256,
    };
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits::DEFAULT
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets every connection finish its
/// current request. Returns when the last connection has closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let counts = AddressCounts::default();
    // `stop` tells the connections to finish; every connection task holds a clone of `alive`, so
    // `alive_tx.closed()` resolves once the last of them has ended.
    let (stop_tx, stop_rx) = watch::channel(false);
    let (alive_tx, alive_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let slot = match counts.take(peer.ip(), limits.per_address) {
            Ok(slot) => slot,
            Err(open) => {
                tokio::spawn(refuse(tcp, peer, open));
                continue;
            }
        };
        let io = Counted { tcp, _slot: slot };
        tokio::spawn(connection(
            io,
            peer,
            app.clone(),
            limits,
            stop_rx.clone(),
            alive_rx.clone(),
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(alive_rx);
    alive_tx.closed().await;
}

/// Serves one connection until it closes (or, after the stop signal, until its current request is
/// answered).
async fn connection(
    io: Counted,
    peer: SocketAddr,
    app: Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
    _alive: watch::Receiver<()>,
) {
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let timeout = limits.body_read_timeout;
        let mut request = request.map(|body| axum::body::Body::new(Deadline::new(body, timeout)));
        request.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let conn = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    // Timeouts and peers going away are ordinary; log them for debugging only.
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// A request body that fails once reading it has taken longer than its time limit (counted from the
/// first read, so bodies nobody reads cost no timer).
struct Deadline {
    body: Incoming,
    limit: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Deadline {
    fn new(body: Incoming, limit: Duration) -> Deadline {
        Deadline {
            body,
            limit,
            sleep: None,
        }
    }
}

/// The error of a body that did not arrive in time.
#[derive(Debug)]
struct BodyTooSlow(Duration);

impl std::fmt::Display for BodyTooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request body did not arrive within {} s",
            self.0.as_secs()
        )
    }
}

impl std::error::Error for BodyTooSlow {}

impl hyper::body::Body for Deadline {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let limit = this.limit;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTooSlow(limit))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// Answers a connection over the per-address cap with `429` and closes it.
async fn refuse(mut tcp: TcpStream, peer: SocketAddr, open: usize) {
    tracing::debug!(%peer, open, "connection refused: too many from this address");
    let body = format!(
        "{{\"error\":\"too many open connections from your address ({open}); close some and try again\"}}"
    );
    let response = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 5\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let write = async {
        tcp.write_all(response.as_bytes()).await?;
        tcp.shutdown().await
    };
    // A peer that does not read its answer does not keep the task alive.
    let _ = tokio::time::timeout(Duration::from_secs(5), write).await;
}

/// After a failed `accept`: errors about one connection are ignored; anything else (such as running
/// out of file descriptors) is logged and accepting pauses for a second, so the loop does not spin.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed; pausing for a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Open connections per peer address.
#[derive(Clone, Default)]
struct AddressCounts(Arc<Mutex<HashMap<IpAddr, usize>>>);

impl AddressCounts {
    /// A slot for one more connection from `ip`, or the number already open when the cap is
    /// reached (`limit` 0: no cap, and nothing is counted).
    fn take(&self, ip: IpAddr, limit: usize) -> Result<Option<Slot>, usize> {
        if limit == 0 {
            return Ok(None);
        }
        let ip = ip.to_canonical();
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let open = counts.entry(ip).or_insert(0);
        if *open >= limit {
            return Err(*open);
        }
        *open += 1;
        Ok(Some(Slot {
            counts: self.clone(),
            ip,
        }))
    }
}

/// One counted connection; dropping it (when the socket closes) frees the slot.
struct Slot {
    counts: AddressCounts,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(open) = counts.get_mut(&self.ip) {
            *open -= 1;
            if *open == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// A socket holding its address slot: the slot is freed when the socket is dropped, which for an
/// upgraded WebSocket connection is when the WebSocket closes, not when its HTTP exchange ends.
struct Counted {
    tcp: TcpStream,
    _slot: Option<Slot>,
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_per_address_and_freed_on_drop() {
        let counts = AddressCounts::default();
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        let first = counts.take(a, 2).expect("first");
        let second = counts.take(a, 2).expect("second");
        assert_eq!(counts.take(a, 2).err(), Some(2), "third from a is refused");
        assert!(
            counts.take(b, 2).is_ok(),
            "another address has its own count"
        );
        drop(first);
        let third = counts.take(a, 2).expect("a slot was freed");
        drop((second, third));
        assert!(
            counts.0.lock().expect("lock").is_empty(),
            "no entry kept for idle addresses"
        );
    }

    #[test]
    fn mapped_ipv4_counts_as_ipv4_and_zero_means_no_limit() {
        let counts = AddressCounts::default();
        let v4: IpAddr = "192.0.2.7".parse().expect("ip");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        let _held = counts.take(v4, 1).expect("first");
        assert_eq!(counts.take(mapped, 1).err(), Some(1));
        assert!(matches!(counts.take(v4, 0), Ok(None)));
    }
}
