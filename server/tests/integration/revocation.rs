//! A live collaboration socket follows its caller's rights. For each event that takes a right away
//! (sign-out, session expiry, password reset, deactivation, role downgrade, membership removal, token
//! revocation, the deactivation of a token's creator), an open socket of that caller on the instance
//! where it happened, and one on a second instance that hears of it through Redis, is closed with a
//! code and a reason the client shows (or, for a lower role, told it may no longer edit) and its next
//! write is refused. Each test prints how long the sockets took to follow.

use crate::common;

use std::time::{Duration, Instant};

use common::{server_fn_json, Role, TestApp, Who};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use server::redis_probe::RedisProbe;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Longest a test waits for a socket to follow (the product aims at one second).
const WAIT: Duration = Duration::from_secs(5);

/// Two instances over one database and one Redis, served; the draft report of HBR.
struct Pair {
    app: TestApp,
    _redis: test_support::RedisServer,
    ports: [u16; 2],
    report: i64,
}

async fn pair() -> Pair {
    let redis = test_support::RedisServer::start();
    let url = redis.url();
    let probe = RedisProbe::new(&url).expect("probe");
    let app = common::seeded_with(&["--redis-url", &url], Some(probe)).await;
    let b = app
        .another_instance(
            &["--redis-url", &url],
            Some(RedisProbe::new(&url).expect("probe")),
        )
        .await;
    let ports = [
        common::listen(app.state.clone()).await,
        common::listen(b).await,
    ];
    app.account("root", Role::Admin, &[], None).await;
    let report = app.report_id("HBR", false).await;
    Pair {
        app,
        _redis: redis,
        ports,
        report,
    }
}

/// A socket to the report on `port`, welcomed; answers it and whether it may edit.
async fn open(port: u16, report: i64, who: &Who) -> (Ws, bool) {
    let mut request = format!("ws://127.0.0.1:{port}/ws/reports/{report}")
        .into_client_request()
        .expect("request");
    let headers = request.headers_mut();
    let origin = format!("http://127.0.0.1:{port}");
    headers.insert("origin", HeaderValue::from_str(&origin).expect("origin"));
    match who {
        Who::Session(token) => {
            let cookie = format!("pmr_session={token}");
            headers.insert("cookie", HeaderValue::from_str(&cookie).expect("cookie"));
        }
        Who::Bearer(token) => {
            let bearer = format!("Bearer {token}");
            headers.insert(
                "authorization",
                HeaderValue::from_str(&bearer).expect("bearer"),
            );
        }
        Who::Anonymous => {}
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("upgrade");
    let welcome = next(&mut ws).await.expect("welcome").remove(0);
    assert_eq!(welcome["type"], "welcome");
    (ws, welcome["can_edit"] == true)
}

/// The messages of the next frame (a batch's, in order), or the close frame's code and reason as
/// `Err`.
async fn next(ws: &mut Ws) -> Result<Vec<Value>, (u16, String)> {
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame in time");
        match frame {
            Some(Ok(Message::Text(text))) => {
                let v: Value = serde_json::from_str(text.as_str()).expect("json");
                return Ok(if v["type"] == "batch" {
                    v["messages"].as_array().expect("messages").clone()
                } else {
                    vec![v]
                });
            }
            Some(Ok(Message::Close(frame))) => {
                return Err(frame.map_or((1005, String::new()), |f| {
                    (u16::from(f.code), f.reason.to_string())
                }))
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err((1006, e.to_string())),
            None => return Err((1006, "ended".into())),
        }
    }
}

/// Reads until the socket is closed; answers the code and reason.
async fn closed(ws: &mut Ws) -> (u16, String) {
    loop {
        if let Err(close) = next(ws).await {
            return close;
        }
    }
}

/// Reads until a message of `kind` arrives.
async fn until(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let all = next(ws).await.unwrap_or_else(|c| panic!("closed: {c:?}"));
        if let Some(m) = all.into_iter().find(|m| m["type"] == kind) {
            return m;
        }
    }
}

/// Both sockets closed with `code` and a reason containing `reason`; prints the time it took.
async fn both_closed(sockets: &mut [Ws; 2], since: Instant, code: u16, reason: &str, event: &str) {
    for (i, ws) in sockets.iter_mut().enumerate() {
        let (got, why) = closed(ws).await;
        assert_eq!(got, code, "{event}, instance {i}: {why}");
        assert!(why.contains(reason), "{event}, instance {i}: {why}");
        // Its next write goes nowhere: the connection is over.
        let _ = ws
            .send(Message::Text(
                json!({"type": "presence", "section": null})
                    .to_string()
                    .into(),
            ))
            .await;
        assert!(
            matches!(
                tokio::time::timeout(WAIT, ws.next()).await,
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_))))
            ),
            "{event}, instance {i}: nothing more after the close"
        );
    }
    eprintln!(
        "{event}: both sockets closed {:?} after the event",
        since.elapsed()
    );
}

async fn sockets_of(p: &Pair, who: &Who) -> [Ws; 2] {
    [
        open(p.ports[0], p.report, who).await.0,
        open(p.ports[1], p.report, who).await.0,
    ]
}

/// The account change the admin page makes.
async fn change_account(p: &Pair, id: i64, role: &str, active: bool, codes: &[&str]) {
    let projects = p.app.project_ids(codes).await;
    let root = p.app.session("root").await;
    let reply = p
        .app
        .send(server_fn_json(
            "update_account",
            &root,
            &json!({"change": {"id": id, "display_name": "Changed", "role": role,
                   "active": active, "projects": projects}}),
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_closes_that_sessions_sockets_everywhere() {
    let p = pair().await;
    p.app.account("ana", Role::Editor, &["HBR"], None).await;
    let ana = p.app.session("ana").await;
    let other = p.app.session("ana").await;
    let mut sockets = sockets_of(&p, &ana).await;
    let (mut elsewhere, _) = open(p.ports[0], p.report, &other).await;
    let started = Instant::now();
    let out = p.app.send(common::server_fn("logout", &ana, "")).await;
    assert_eq!(out.status, 200);
    both_closed(
        &mut sockets,
        started,
        4401,
        "You were signed out",
        "sign-out",
    )
    .await;
    // Her other session is not this one: its socket stays.
    elsewhere
        .send(Message::Text(
            json!({"type": "presence", "section": "risks"})
                .to_string()
                .into(),
        ))
        .await
        .expect("sent");
    assert_eq!(until(&mut elsewhere, "presence").await["type"], "presence");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_never_outlives_its_session() {
    let p = pair().await;
    let id = p.app.account("ana", Role::Editor, &["HBR"], None).await;
    // A session that ends in two seconds.
    let (token, stored) = server::auth::token::issue();
    let now = chrono::Utc::now().timestamp();
    p.app
        .store()
        .insert_session(&stored, id, now, now + 2)
        .await
        .expect("session");
    let who = Who::Session(token);
    let mut sockets = sockets_of(&p, &who).await;
    both_closed(
        &mut sockets,
        Instant::now(),
        4401,
        "Your session ended",
        "session expiry",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_reset_closes_every_socket_of_the_account() {
    let p = pair().await;
    let id = p.app.account("ana", Role::Editor, &["HBR"], None).await;
    let ana = p.app.session("ana").await;
    let mut sockets = sockets_of(&p, &ana).await;
    let root = p.app.session("root").await;
    let started = Instant::now();
    let reply = p
        .app
        .send(server_fn_json(
            "reset_password",
            &root,
            &json!({"user_id": id, "password": ""}),
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    both_closed(
        &mut sockets,
        started,
        4401,
        "Your password was reset",
        "password reset",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_closes_the_accounts_sockets_and_its_tokens() {
    let p = pair().await;
    let id = p.app.account("ana", Role::Admin, &[], None).await;
    let ana = p.app.session("ana").await;
    let token = p
        .app
        .api_token_with(
            "ana's script",
            Role::Editor,
            &["HBR"],
            app::access::Scope::Full,
            Some(id),
        )
        .await;
    let mut sockets = sockets_of(&p, &ana).await;
    let mut token_sockets = sockets_of(&p, &token).await;
    let started = Instant::now();
    change_account(&p, id, "admin", false, &[]).await;
    both_closed(
        &mut sockets,
        started,
        4401,
        "Your account was deactivated",
        "deactivation",
    )
    .await;
    both_closed(
        &mut token_sockets,
        started,
        4401,
        "Your account was deactivated",
        "the creator's deactivation (token)",
    )
    .await;
    assert_eq!(
        p.app.get("/api/projects/HBR/export", &token).await.status,
        401,
        "the token is dead for requests too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lower_role_takes_the_pen_away_without_closing() {
    let p = pair().await;
    let id = p.app.account("ana", Role::Editor, &["HBR"], None).await;
    let ana = p.app.session("ana").await;
    let (a, may_a) = open(p.ports[0], p.report, &ana).await;
    let (b, may_b) = open(p.ports[1], p.report, &ana).await;
    assert!(may_a && may_b);
    let started = Instant::now();
    change_account(&p, id, "viewer", true, &["HBR"]).await;
    for (i, mut ws) in [a, b].into_iter().enumerate() {
        let told = until(&mut ws, "access").await;
        assert_eq!(told["can_edit"], false, "instance {i}");
        ws.send(Message::Text(
            json!({"type": "update", "update": "AAA=", "ref": 1})
                .to_string()
                .into(),
        ))
        .await
        .expect("sent");
        let refused = until(&mut ws, "error").await;
        assert_eq!(refused["code"], "forbidden", "instance {i}: {refused}");
        ws.send(Message::Text(
            json!({"type": "save", "name": "Mine"}).to_string().into(),
        ))
        .await
        .expect("sent");
        assert_eq!(until(&mut ws, "error").await["code"], "forbidden");
    }
    eprintln!(
        "role downgrade: both sockets told {:?} after the event",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_membership_closes_the_projects_sockets() {
    let p = pair().await;
    let id = p
        .app
        .account("ana", Role::Editor, &["HBR", "CDW"], None)
        .await;
    let ana = p.app.session("ana").await;
    let mut sockets = sockets_of(&p, &ana).await;
    let started = Instant::now();
    change_account(&p, id, "editor", true, &["CDW"]).await;
    both_closed(
        &mut sockets,
        started,
        4403,
        "Your access to this project was removed",
        "membership removal",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_token_closes_its_sockets() {
    let p = pair().await;
    let token = p.app.api_token("sync", Role::Editor, &["HBR"]).await;
    let mut sockets = sockets_of(&p, &token).await;
    let id = p.app.store().api_tokens().await.expect("tokens")[0].id;
    let root = p.app.session("root").await;
    let started = Instant::now();
    let reply = p
        .app
        .send(server_fn_json(
            "revoke_api_token",
            &root,
            &json!({"token_id": id}),
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    both_closed(
        &mut sockets,
        started,
        4401,
        "The API token was revoked",
        "token revocation",
    )
    .await;
}
