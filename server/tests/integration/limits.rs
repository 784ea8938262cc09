//! The limits that keep one client from taking the server: a header read timeout that drops a
//! slowloris client, a body read timeout that cuts off a slow body, a cap on connections from one
//! address, and request body limits. The connection tests serve the real router over TCP with
//! [`server::serve::serve`], as the binary does.

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::http::{header, Method, Request, StatusCode};
use common::{request, seeded, server_fn, Role, TestApp, Who};
use server::serve::{serve, ConnectionLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// Serves the app on a free local port until the returned sender is dropped.
async fn listen(app: &TestApp, limits: ConnectionLimits) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listener, app.router(), limits, async move {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// Sends one keep-alive `GET /healthz` on `tcp` and returns the status line.
async fn health(tcp: &mut TcpStream) -> String {
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: app.test\r\n\r\n")
        .await
        .expect("write");
    let mut buf = vec![0u8; 4096];
    let n = tcp.read(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    text.lines().next().unwrap_or_default().to_string()
}

/// Reads until the peer closes; `true` when it did within `within`.
async fn closed_within(tcp: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 256];
    tokio::time::timeout(within, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn a_slowloris_client_is_dropped_after_the_header_timeout() {
    let app = seeded().await;
    let limits = ConnectionLimits {
        header_read_timeout: Duration::from_secs(1),
        per_address: 0,
        ..ConnectionLimits::default()
    };
    let (addr, _stop) = listen(&app, limits).await;

    // Twenty clients trickle a request head one byte every 100 ms, forever; one more sends nothing.
    let mut trickles = Vec::new();
    for i in 0..20 {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        trickles.push(tokio::spawn(async move {
            let head = format!("GET /healthz HTTP/1.1\r\nHost: app.test\r\nX-Slow-{i}: ");
            for byte in head.bytes().chain(std::iter::repeat(b'a')) {
                if tcp.write_all(&[byte]).await.is_err() {
                    return true; // the server closed the connection
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            false
        }));
    }
    let mut silent = TcpStream::connect(addr).await.expect("connect");

    // Meanwhile an ordinary client is served.
    let mut normal = TcpStream::connect(addr).await.expect("connect");
    assert_eq!(health(&mut normal).await, "HTTP/1.1 200 OK");

    // Each trickling client is cut off although it keeps sending: the timeout bounds the whole
    // head, not the gap between bytes. 30 s is far beyond the 1 s limit, not a speed target.
    for t in trickles {
        let dropped = tokio::time::timeout(Duration::from_secs(30), t).await;
        assert!(
            matches!(dropped, Ok(Ok(true))),
            "a slowloris client kept its connection: {dropped:?}"
        );
    }
    assert!(
        closed_within(&mut silent, Duration::from_secs(30)).await,
        "a client that sends nothing is dropped too"
    );
    // The server is still serving, on a fresh connection.
    let mut after = TcpStream::connect(addr).await.expect("connect");
    assert_eq!(health(&mut after).await, "HTTP/1.1 200 OK");
    // A kept-alive connection that sends no next request is closed the same way.
    assert!(
        closed_within(&mut normal, Duration::from_secs(30)).await,
        "an idle kept-alive connection is dropped too"
    );
}

#[tokio::test]
async fn a_slow_body_is_cut_off_after_the_body_timeout() {
    let app = seeded().await;
    let limits = ConnectionLimits {
        body_read_timeout: Duration::from_secs(1),
        per_address: 0,
        ..ConnectionLimits::default()
    };
    let (addr, _stop) = listen(&app, limits).await;
    // A whole head announcing 1,000 bytes of body, then the body at one byte per 100 ms: it would
    // take 100 s.
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(
        b"POST /api/login HTTP/1.1\r\nHost: app.test\r\nOrigin: http://app.test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nusername=",
    )
    .await
    .expect("head");
    let (mut reader, mut writer) = tcp.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..990 {
            if writer.write_all(b"a").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    // The server answers with a refusal and closes the connection long before (30 s is far beyond
    // the 1 s limit, not a speed target).
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), reader.read_to_end(&mut answer)).await;
    trickle.abort();
    assert!(read.is_ok(), "the slow body kept its connection");
    let answer = String::from_utf8_lossy(&answer);
    let status_line = answer.lines().next().unwrap_or_default();
    assert!(status_line.starts_with("HTTP/1.1 4"), "{answer}");
    assert!(answer.contains("did not arrive within 1 s"), "{answer}");
    // Others are still served.
    let mut other = TcpStream::connect(addr).await.expect("connect");
    assert_eq!(health(&mut other).await, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn a_connection_flood_from_one_address_is_refused_with_429() {
    let app = seeded().await;
    let limits = ConnectionLimits {
        header_read_timeout: Duration::from_secs(60),
        per_address: 4,
        ..ConnectionLimits::default()
    };
    let (addr, _stop) = listen(&app, limits).await;

    let mut held = Vec::new();
    for _ in 0..4 {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        // A served request shows the connection was accepted and counted.
        assert_eq!(health(&mut tcp).await, "HTTP/1.1 200 OK");
        held.push(tcp);
    }
    // The flood: every further connection is answered 429 with a JSON reason, then closed.
    for _ in 0..10 {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).await.expect("read");
        assert!(
            answer.starts_with("HTTP/1.1 429 Too Many Requests\r\n"),
            "{answer}"
        );
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(body).expect("JSON body");
        assert!(
            json["error"]
                .as_str()
                .is_some_and(|e| e.contains("too many open connections")),
            "{json}"
        );
    }
    // The held connections still work.
    for tcp in &mut held {
        assert_eq!(health(tcp).await, "HTTP/1.1 200 OK");
    }
    // Closing one frees its slot (once the server has seen the close).
    drop(held.pop());
    let mut served = false;
    for _ in 0..100 {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        if health(&mut tcp).await == "HTTP/1.1 200 OK" {
            served = true;
            held.push(tcp);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "a freed slot is given to the next connection");
}

/// The request with the `Content-Length` header a client sends with a body of known size.
fn with_length(request: Request<Body>) -> Request<Body> {
    let (mut parts, body) = request.into_parts();
    let length = body.size_hint().exact().expect("a body of known size");
    parts.headers.insert(header::CONTENT_LENGTH, length.into());
    Request::from_parts(parts, body)
}

#[tokio::test]
async fn request_bodies_over_the_limit_get_413_with_a_json_message() {
    let app = seeded().await;
    // A server function call (the sign-in form) 2 MiB long: refused before it is read.
    let padding = "x".repeat(2 * 1024 * 1024);
    let big_form = format!("username=admin&password={padding}");
    let reply = app
        .send(with_length(server_fn("login", &Who::Anonymous, &big_form)))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.body
    );
    assert!(
        reply.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("1024 KiB")),
        "{}",
        reply.body
    );
    // Sent without a length (chunked), it is cut off at the limit while it is read.
    let reply = app
        .send(server_fn("login", &Who::Anonymous, &big_form))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(
        reply.body.contains("length limit exceeded"),
        "{}",
        reply.body
    );
    // The same call of an ordinary size is answered (a wrong password: 401, not 413).
    let reply = app
        .send(server_fn(
            "login",
            &Who::Anonymous,
            "username=admin&password=not-the-password",
        ))
        .await;
    assert_ne!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);

    // Imports take up to 64 MiB; 65 MiB is refused the same way.
    let admin = app.api_token("importer", Role::Admin, &[]).await;
    let huge = format!("{{\"schema\":\"{}\"}}", "x".repeat(65 * 1024 * 1024));
    let reply = app
        .send(with_length(request(
            Method::POST,
            "/api/projects/import",
            &admin,
            Some(("application/json", huge.into_bytes())),
        )))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.body
    );
    assert!(
        reply.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("65536 KiB")),
        "{}",
        reply.body
    );
}

/// The monitor's series, as `/metrics` lists them (one `_count` line each).
async fn series(app: &TestApp, admin: &Who) -> std::collections::BTreeSet<String> {
    app.get("/metrics", admin)
        .await
        .body
        .lines()
        .filter(|l| l.contains("_count{") || l.contains("_count "))
        .map(|l| l.rsplit_once(' ').map_or(l, |(k, _)| k).to_string())
        .collect()
}

/// 10,000 anonymous requests with made-up methods and paths make no series of their own: a
/// method outside the standard ones is recorded as `other`, and every unknown path as `unmatched`.
#[tokio::test]
async fn made_up_methods_and_paths_grow_no_series() {
    let app = seeded().await;
    let admin = app.api_token("watcher", Role::Admin, &[]).await;
    let odd = |i: usize, path: String| {
        let method = Method::from_bytes(format!("M{i:05}X").as_bytes()).expect("a method");
        request(method, &path, &Who::Anonymous, None)
    };
    // One of each kind first: the series they share exist from then on.
    for path in [
        "/healthz".to_string(),
        "/nowhere/0".to_string(),
        "/api/nope".to_string(),
    ] {
        app.send(odd(0, path)).await;
    }
    let before = series(&app, &admin).await;
    for i in 1..=10_000 {
        let path = match i % 3 {
            0 => "/healthz".to_string(),
            1 => format!("/nowhere/{i}"),
            _ => format!("/api/nope{i}?x={i}"),
        };
        let reply = app.send(odd(i, path)).await;
        assert!(reply.status.as_u16() >= 400, "{}", reply.status);
    }
    let after = series(&app, &admin).await;
    let grown: Vec<&String> = after.difference(&before).collect();
    assert!(
        grown.iter().all(|s| s.contains("route=\"/metrics\"")),
        "new series: {grown:?}"
    );
    assert!(after.len() <= before.len() + 1);
}
