//! The collaboration WebSocket over real TCP: the welcome and the members, presence and typing
//! through the batcher, error frames for bad input (the connection stays), refusals before and after
//! the upgrade, the performance API's WebSocket figures, and two instances sharing a harness-started
//! Redis (messages cross, echoes do not come back, a Redis restart makes clients resync), and faults
//! under load: Redis killed under two instances, PostgreSQL restarted.

use crate::common;

use std::collections::VecDeque;
use std::time::Duration;

use common::{Role, TestApp, Who};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use server::redis_probe::RedisProbe;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Longest a test waits for a message it expects.
const WAIT: Duration = Duration::from_secs(5);

/// The app served on a free loopback port.
struct Served {
    app: TestApp,
    port: u16,
}

async fn serve(app: TestApp) -> Served {
    let port = serve_state(app.state.clone()).await;
    Served { app, port }
}

async fn served_with(flags: &[&str], redis: Option<&str>) -> Served {
    let db = test_support::SqliteDb::new();
    served_on(db.url(), Some(db), flags, redis).await
}

/// As [`served_with`], on the database at `url`.
async fn served_on(
    url: String,
    db: Option<test_support::SqliteDb>,
    flags: &[&str],
    redis: Option<&str>,
) -> Served {
    let probe = redis.map(|url| RedisProbe::new(url).expect("probe"));
    let mut all = flags.to_vec();
    if let Some(url) = redis {
        all.extend(["--redis-url", url]);
    }
    let app = common::seeded_on(url, db, &all, probe).await;
    app.account("ana", Role::Editor, &["HBR"], None).await;
    app.account("ben", Role::Viewer, &["HBR"], None).await;
    app.account("cy", Role::Viewer, &["ERP"], None).await;
    app.account("root", Role::Admin, &[], None).await;
    serve(app).await
}

/// One instance's address, with the test app whose database it serves.
#[derive(Clone, Copy)]
struct Door<'a> {
    app: &'a TestApp,
    port: u16,
}

impl Served {
    /// This instance.
    fn door(&self) -> Door<'_> {
        Door {
            app: &self.app,
            port: self.port,
        }
    }

    /// Another instance on `port` serving the same database.
    fn on(&self, port: u16) -> Door<'_> {
        Door {
            app: &self.app,
            port,
        }
    }

    fn request(
        &self,
        path: &str,
        who: &Who,
    ) -> tokio_tungstenite::tungstenite::handshake::client::Request {
        self.door().request(path, who)
    }

    async fn join(&self, report: i64, user: &str) -> (Client, Value) {
        self.door().join(report, user).await
    }

    async fn refused_status(&self, path: &str, who: &Who) -> u16 {
        self.door().refused_status(path, who).await
    }
}

impl Door<'_> {
    fn request(
        &self,
        path: &str,
        who: &Who,
    ) -> tokio_tungstenite::tungstenite::handshake::client::Request {
        let mut request = format!("ws://127.0.0.1:{}{path}", self.port)
            .into_client_request()
            .expect("request");
        let headers = request.headers_mut();
        let origin = format!("http://127.0.0.1:{}", self.port);
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
        request
    }

    /// Connects as `user` and reads the welcome.
    async fn join(&self, report: i64, user: &str) -> (Client, Value) {
        let who = self.app.session(user).await;
        let (ws, _) =
            tokio_tungstenite::connect_async(self.request(&format!("/ws/reports/{report}"), &who))
                .await
                .expect("connects");
        let mut client = Client {
            ws,
            pending: VecDeque::new(),
            me: String::new(),
        };
        let welcome = client.next().await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        client.me = welcome["you"]["connection"]
            .as_str()
            .expect("id")
            .to_string();
        (client, welcome)
    }

    /// The HTTP status a handshake is refused with.
    async fn refused_status(&self, path: &str, who: &Who) -> u16 {
        match tokio_tungstenite::connect_async(self.request(path, who)).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                response.status().as_u16()
            }
            Err(e) => panic!("refused otherwise: {e}"),
            Ok(_) => panic!("{path} was accepted"),
        }
    }
}

/// A connected client: the socket and the messages of a batch not read yet.
struct Client {
    ws: Ws,
    pending: VecDeque<Value>,
    /// This connection's id, from its welcome.
    me: String,
}

impl Client {
    /// The next application message (a batch's messages one by one), skipping pings.
    async fn next(&mut self) -> Value {
        loop {
            if let Some(m) = self.pending.pop_front() {
                return m;
            }
            let frame = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a message in time")
                .expect("open")
                .expect("readable");
            let Message::Text(text) = frame else { continue };
            let value: Value = serde_json::from_str(text.as_str()).expect("json");
            if value["type"] == "batch" {
                let messages = value["messages"].as_array().expect("messages").clone();
                assert_eq!(value["count"].as_u64(), Some(messages.len() as u64));
                assert!(messages.len() >= 2, "a batch of one is sent as the message");
                self.pending.extend(messages);
            } else {
                self.pending.push_back(value);
            }
        }
    }

    /// Reads until a message of `kind` about someone else arrives; answers it.
    async fn until(&mut self, kind: &str) -> Value {
        loop {
            let m = self.next().await;
            let about = m["member"]["connection"]
                .as_str()
                .or(m["connection"].as_str())
                .unwrap_or_default()
                .to_string();
            if m["type"] == kind && about != self.me {
                return m;
            }
        }
    }

    /// Reads until a message of `kind` about this connection itself arrives.
    async fn until_own(&mut self, kind: &str) -> Value {
        loop {
            let m = self.next().await;
            if m["type"] == kind && m["member"]["connection"] == self.me.as_str() {
                return m;
            }
        }
    }

    async fn send(&mut self, value: &Value) {
        self.ws
            .send(Message::Text(value.to_string().into()))
            .await
            .expect("sent");
    }
}

#[tokio::test]
async fn members_see_each_other_and_presence_and_typing_reach_them() {
    let s = served_with(&[], None).await;
    let report = s.app.report_id("HBR", false).await;
    let (mut ana, welcome) = s.join(report, "ana").await;
    assert_eq!(welcome["session"], format!("report-{report}"));
    assert_eq!(welcome["you"]["user"], "ana");
    assert_eq!(welcome["you"]["name"], "Test ana");
    assert_eq!(welcome["members"], json!([]));
    assert_eq!(welcome["batching"]["max_size"], 10);
    assert_eq!(welcome["batching"]["max_wait_ms"], 50);
    assert_eq!(welcome["can_edit"], true, "ana is an editor");

    let (mut ben, welcome) = s.join(report, "ben").await;
    assert_eq!(welcome["members"][0]["user"], "ana", "{welcome}");
    assert_eq!(welcome["can_edit"], false, "ben is a viewer");
    let joined = ana.until("joined").await;
    assert_eq!(joined["member"]["user"], "ben");

    ana.send(&json!({"type": "presence", "section": "executive-summary"}))
        .await;
    let presence = ben.until("presence").await;
    assert_eq!(presence["member"]["user"], "ana");
    assert_eq!(presence["member"]["section"], "executive-summary");
    let color = presence["member"]["color"].as_u64().expect("colour");
    assert!(color < 8);

    ana.send(&json!({"type": "typing", "section": "executive-summary"}))
        .await;
    let typing = ben.until("typing").await;
    assert_eq!(
        (typing["user"].as_str(), typing["section"].as_str()),
        (Some("ana"), Some("executive-summary"))
    );

    // A third member's welcome carries ana's section.
    let (_ben2, welcome) = s.join(report, "ben").await;
    let ana_entry = welcome["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["user"] == "ana")
        .expect("ana listed")
        .clone();
    assert_eq!(ana_entry["section"], "executive-summary");

    ben.ws.close(None).await.expect("close");
    let left = ana.until("left").await;
    assert_eq!(left["user"], "ben");
}

#[tokio::test]
async fn bad_messages_get_an_error_frame_and_the_connection_stays() {
    let s = served_with(&["--ws-max-message-kb", "1"], None).await;
    let report = s.app.report_id("HBR", false).await;
    let (mut ana, _) = s.join(report, "ana").await;
    let cases = [
        (Message::Text("{not json".into()), "malformed"),
        (
            Message::Text(r#"{"type":"drop_table"}"#.into()),
            "unknown_type",
        ),
        (
            Message::Text(r#"{"type":"typing","section":"../etc"}"#.into()),
            "invalid_message",
        ),
        (
            Message::Text(format!(r#"{{"type":"presence","pad":"{}"}}"#, "x".repeat(2000)).into()),
            "message_too_large",
        ),
        (Message::Binary(vec![1, 2, 3].into()), "binary_unsupported"),
    ];
    for (message, code) in cases {
        ana.ws.send(message).await.expect("sent");
        let error = ana.until("error").await;
        assert_eq!(error["code"], code, "{error}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Still connected and heard.
    let (mut ben, _) = s.join(report, "ben").await;
    ana.send(&json!({"type": "presence", "section": "risks"}))
        .await;
    assert_eq!(ben.until("presence").await["member"]["section"], "risks");

    // Past the hard limit (four times the configured one, at least 64 KiB) the connection closes
    // with 1009.
    ana.ws
        .send(Message::Text("x".repeat(70 * 1024).into()))
        .await
        .expect("sent");
    let close = loop {
        match tokio::time::timeout(WAIT, ana.ws.next())
            .await
            .expect("in time")
        {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("closed without a frame: {other:?}"),
        }
    };
    assert_eq!(close.map(|f| u16::from(f.code)), Some(1009));
}

#[tokio::test]
async fn refusals_say_why() {
    let s = served_with(&["--ws-max-connections-per-session", "1"], None).await;
    let report = s.app.report_id("HBR", false).await;
    let cy = s.app.session("cy").await;
    assert_eq!(
        s.refused_status(&format!("/ws/reports/{report}"), &cy)
            .await,
        404,
        "not a member: the same answer as for a missing report"
    );
    let ana = s.app.session("ana").await;
    assert_eq!(s.refused_status("/ws/reports/99999", &ana).await, 404);
    assert_eq!(s.refused_status("/ws/reports/abc", &ana).await, 400);
    assert_eq!(
        s.refused_status(&format!("/ws/reports/{report}"), &Who::Anonymous)
            .await,
        401
    );

    // A plain GET is not an upgrade: a JSON 400.
    let reply = s.app.get(&format!("/ws/reports/{report}"), &ana).await;
    assert_eq!(reply.status.as_u16(), 400, "{}", reply.body);
    assert!(
        reply.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("WebSocket")),
        "{}",
        reply.body
    );

    // The session holds one: the second is closed with 1013 and a reason.
    let (_first, _) = s.join(report, "ana").await;
    let who = s.app.session("ben").await;
    let (mut second, _) =
        tokio_tungstenite::connect_async(s.request(&format!("/ws/reports/{report}"), &who))
            .await
            .expect("upgrade");
    match tokio::time::timeout(WAIT, second.next())
        .await
        .expect("in time")
    {
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 1013);
            assert!(frame.reason.contains("full"), "{}", frame.reason);
        }
        other => panic!("expected a close frame: {other:?}"),
    }
}

#[tokio::test]
async fn the_performance_api_shows_the_sessions() {
    let s = served_with(&[], None).await;
    let report = s.app.report_id("HBR", false).await;
    let (mut ana, _) = s.join(report, "ana").await;
    let (mut ben, _) = s.join(report, "ben").await;
    for section in ["risks", "milestones", "appendix"] {
        ana.send(&json!({"type": "presence", "section": section}))
            .await;
    }
    for _ in 0..3 {
        ben.until("presence").await;
    }
    let root = s.app.session("root").await;
    let stats = s
        .app
        .get("/api/reports/pmr/performance/websocket/stats", &root)
        .await
        .json();
    assert_eq!(stats["total_connections"], 2, "{stats}");
    assert_eq!(stats["total_sessions"], 1);
    assert_eq!(stats["redis_enabled"], false);
    assert!(stats["messages_in"].as_u64() >= Some(3));
    assert!(stats["messages_out"].as_u64() >= stats["frames_out"].as_u64());
    let session = s
        .app
        .get(
            &format!("/api/reports/pmr/performance/websocket/sessions/report-{report}"),
            &root,
        )
        .await;
    assert_eq!(session.status.as_u16(), 200, "{}", session.body);
    let session = session.json();
    assert_eq!(session["users"], json!(["ana", "ben"]));
    assert_eq!(session["messages"], 3);
    let missing = s
        .app
        .get(
            "/api/reports/pmr/performance/websocket/sessions/report-0",
            &root,
        )
        .await;
    assert_eq!(missing.status.as_u16(), 404);
    let overview = s
        .app
        .get("/api/reports/pmr/performance/stats", &root)
        .await
        .json();
    assert_eq!(overview["websocket"]["total_connections"], 2);
    // The dashboard's WebSocket panel reads the same figures (it read zeros once).
    let dashboard = s
        .app
        .send(common::server_fn("performance_overview", &root, ""))
        .await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    let panel = &dashboard.json()["websocket"];
    assert_eq!(panel["total_connections"], 2, "{panel}");
    assert_eq!(panel["total_sessions"], 1);
    assert!(panel["messages_in"].as_u64() >= Some(3), "{panel}");
    assert!(panel["messages_out"].as_u64() >= Some(3), "{panel}");
    ana.ws.close(None).await.ok();
}

#[tokio::test]
async fn two_instances_share_sessions_through_redis() {
    let mut redis = test_support::RedisServer::start();
    let a = served_with(&[], Some(&redis.url())).await;
    let b = served_with(&[], Some(&redis.url())).await;
    // Both instances hold the same seeded portfolio, so the report has the same id on both.
    let report = a.app.report_id("HBR", false).await;
    assert_eq!(report, b.app.report_id("HBR", false).await);
    let (mut ana, _) = a.join(report, "ana").await;
    // Wait until both subscribers are up: a message from b reaches a.
    let (mut ben, _) = loop {
        let (mut ben, welcome) = b.join(report, "ben").await;
        match tokio::time::timeout(Duration::from_millis(500), ana.until("joined")).await {
            Ok(joined) if joined["member"]["user"] == "ben" => break (ben, welcome),
            _ => {
                ben.ws.close(None).await.ok();
            }
        }
    };
    ana.send(&json!({"type": "presence", "section": "risks"}))
        .await;
    let presence = ben.until("presence").await;
    assert_eq!(presence["member"]["user"], "ana");
    assert!(
        presence["member"]["connection"]
            .as_str()
            .is_some_and(|c| c.starts_with(a.app.state.collab.instance_id())),
        "{presence}"
    );
    // ana hears her own presence once (from her instance), not again from Redis.
    let mine = ana.until_own("presence").await;
    assert_eq!(mine["member"]["section"], "risks");
    ben.send(&json!({"type": "presence", "section": "appendix"}))
        .await;
    let next = ana.next().await;
    assert_eq!(
        (next["type"].as_str(), next["member"]["user"].as_str()),
        (Some("presence"), Some("ben")),
        "no second copy of ana's own: {next}"
    );
    assert!(a.app.state.collab.get_stats().redis_enabled);

    // Redis goes away and comes back: clients are told to resync.
    redis.stop();
    tokio::time::sleep(Duration::from_millis(300)).await;
    redis.resume();
    let resync = tokio::time::timeout(Duration::from_secs(15), ana.until("resync"))
        .await
        .expect("resync after Redis came back");
    assert_eq!(resync, json!({"type": "resync"}));
}

// ---- Collaborative editing ---------------------------------------------------------------------

use base64::Engine;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, Transact, Update, WriteTxn};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const SUMMARY: &str = "narrative:executive-summary";

/// A client with its own copy of the report's document.
struct Editor {
    client: Client,
    doc: Doc,
    next_ref: u64,
}

impl Editor {
    async fn join(door: Door<'_>, report: i64, user: &str) -> Editor {
        let (client, _) = door.join(report, user).await;
        let mut editor = Editor {
            client,
            doc: Doc::new(),
            next_ref: 1,
        };
        editor.sync().await;
        editor
    }

    /// The sync handshake: what the server has that this copy lacks, then the other way round.
    async fn sync(&mut self) {
        let sv = B64.encode(self.doc.transact().state_vector().encode_v1());
        self.client
            .send(&json!({"type": "sync", "state_vector": sv}))
            .await;
        let reply = self.client.until("sync").await;
        self.apply(reply["update"].as_str().expect("update"));
        let theirs = StateVector::decode_v1(
            &B64.decode(reply["state_vector"].as_str().expect("sv"))
                .expect("b64"),
        )
        .expect("sv");
        let missing = self.doc.transact().encode_state_as_update_v1(&theirs);
        if Update::decode_v1(&missing).is_ok_and(|u| !u.is_empty()) {
            self.send_update(B64.encode(missing)).await;
        }
    }

    fn apply(&self, update: &str) {
        let bytes = B64.decode(update).expect("b64");
        self.doc
            .transact_mut()
            .apply_update(Update::decode_v1(&bytes).expect("update"))
            .expect("applies");
    }

    /// Edits the local copy and answers the update it made.
    fn edit(&self, f: impl FnOnce(&mut yrs::TransactionMut)) -> String {
        let before = self.doc.transact().state_vector();
        {
            let mut txn = self.doc.transact_mut();
            f(&mut txn);
        }
        B64.encode(self.doc.transact().encode_state_as_update_v1(&before))
    }

    async fn send_update(&mut self, update: String) -> u64 {
        let reference = self.next_ref;
        self.next_ref += 1;
        self.client
            .send(&json!({"type": "update", "update": update, "ref": reference}))
            .await;
        reference
    }

    /// Inserts at the start (`None`) or the end of the summary's text and sends it.
    async fn type_text(&mut self, at_end: bool, words: &str) -> u64 {
        let update = self.edit(|txn| {
            let text = txn.get_or_insert_text(SUMMARY);
            let at = if at_end { text.len(txn) } else { 0 };
            text.insert(txn, at, words);
        });
        self.send_update(update).await
    }

    fn text(&self) -> String {
        let txn = self.doc.transact();
        txn.get_text(SUMMARY)
            .map(|t| t.get_string(&txn))
            .unwrap_or_default()
    }

    /// Reads messages, applying others' updates, until `done` holds for the text; a `resync` (sent
    /// when the server's relay reconnects) is answered with a sync, as the app's client does.
    async fn until_text(&mut self, done: impl Fn(&str) -> bool) {
        while !done(&self.text()) {
            let m = self.client.next().await;
            if m["type"] == "resync" {
                self.sync().await;
            } else if m["type"] == "update" && m["connection"] != self.client.me.as_str() {
                self.apply(m["update"].as_str().expect("update"));
            }
        }
    }

    /// Waits for the ack of `reference`, or answers the error that came instead.
    async fn acked(&mut self, reference: u64) -> Result<(), Value> {
        loop {
            let m = self.client.next().await;
            if m["type"] == "ack" && m["ref"] == reference {
                return Ok(());
            }
            if m["type"] == "error" {
                return Err(m);
            }
        }
    }
}

#[tokio::test]
async fn two_instances_edit_one_section_at_once_and_converge_and_it_survives_restarts() {
    let redis = test_support::RedisServer::start();
    let a = served_with(&[], Some(&redis.url())).await;
    a.app.account("dee", Role::Editor, &["HBR"], None).await;
    let b_state = b_instance(&a, &redis).await;
    let b = serve_state(b_state).await;
    let report = a.app.report_id("HBR", false).await;
    let original = summary_narrative(&a.app, report).await;
    assert!(!original.is_empty());

    let mut ana = Editor::join(a.door(), report, "ana").await;
    assert_eq!(
        ana.text(),
        original,
        "the document starts from the report's narrative"
    );
    let mut dee = Editor::join(a.on(b), report, "dee").await;
    assert_eq!(dee.text(), original);

    // At the same time, on two instances: one at the start, one at the end.
    let (ra, rd) = tokio::join!(
        ana.type_text(false, "ANA WAS HERE. "),
        dee.type_text(true, " DEE TOO.")
    );
    ana.acked(ra).await.expect("ana's edit stored");
    dee.acked(rd).await.expect("dee's edit stored");
    let both = |t: &str| t.starts_with("ANA WAS HERE. ") && t.ends_with(" DEE TOO.");
    ana.until_text(both).await;
    dee.until_text(both).await;
    assert_eq!(ana.text(), dee.text(), "both copies converge");
    let merged = ana.text();
    assert_eq!(merged, format!("ANA WAS HERE. {original} DEE TOO."));

    // Written into the report within a second or so.
    let mut stored = String::new();
    for _ in 0..50 {
        stored = summary_narrative(&a.app, report).await;
        if stored == merged {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        stored, merged,
        "the report's narrative follows the document"
    );

    // Both instances "restart": fresh ones over the same database have nothing in memory.
    ana.client.ws.close(None).await.ok();
    dee.client.ws.close(None).await.ok();
    let fresh = serve_state(a.app.another_instance(&[], None).await).await;
    let eve = Editor::join(a.on(fresh), report, "ana").await;
    assert_eq!(eve.text(), merged, "the merged text survives");
}

/// Another instance over `a`'s database, sharing `redis` with it.
async fn b_instance(a: &Served, redis: &test_support::RedisServer) -> server::AppState {
    a.app
        .another_instance(
            &["--redis-url", &redis.url()],
            Some(RedisProbe::new(&redis.url()).expect("probe")),
        )
        .await
}

async fn serve_state(state: server::AppState) -> u16 {
    common::listen(state).await
}

#[tokio::test]
async fn only_editors_edit_drafts_and_bad_updates_change_nothing() {
    let s = served_with(&[], None).await;
    let draft = s.app.report_id("HBR", false).await;
    let mut ana = Editor::join(s.door(), draft, "ana").await;
    let before = ana.text();

    // A viewer reads along but may not write.
    let mut ben = Editor::join(s.door(), draft, "ben").await;
    assert_eq!(ben.text(), before);
    let r = ben.type_text(true, " viewer words").await;
    assert_eq!(
        ben.acked(r).await.expect_err("refused")["code"],
        "forbidden"
    );

    // Bytes that are not an update, and a save without a name.
    let r = ana.send_update("////".into()).await;
    assert_eq!(
        ana.acked(r).await.expect_err("refused")["code"],
        "undecodable_update"
    );
    ana.client
        .send(&json!({"type": "save", "name": "  "}))
        .await;
    assert_eq!(ana.client.until("error").await["code"], "invalid_message");

    // Nothing changed, and the session still works.
    let fresh = Editor::join(s.door(), draft, "ana").await;
    assert_eq!(fresh.text(), before);
    let r = ana.type_text(true, " fine").await;
    ana.acked(r).await.expect("stored");

    // A final report is a frozen snapshot.
    let final_ = s.app.report_id("HBR", true).await;
    let mut reader = Editor::join(s.door(), final_, "ana").await;
    let r = reader.type_text(true, " late").await;
    assert_eq!(
        reader.acked(r).await.expect_err("refused")["code"],
        "read_only"
    );
}

#[tokio::test]
async fn a_saved_revision_can_be_shown_and_restored_live() {
    let s = served_with(&[], None).await;
    let report = s.app.report_id("HBR", false).await;
    let mut ana = Editor::join(s.door(), report, "ana").await;
    let mut ben = Editor::join(s.door(), report, "ben").await;
    let r = ana.type_text(false, "Reviewed. ").await;
    ana.acked(r).await.expect("stored");
    let saved_text = ana.text();
    ana.client
        .send(&json!({"type": "save", "name": "Before steering"}))
        .await;
    let saved = ben.client.until("saved").await;
    assert_eq!(saved["revision"]["number"], 1);
    assert_eq!(saved["revision"]["name"], "Before steering");
    assert_eq!(saved["restored"], false);

    let r = ana.type_text(true, " Later changes.").await;
    ana.acked(r).await.expect("stored");
    ben.until_text(|t| t.ends_with(" Later changes.")).await;

    let who = s.app.session("ana").await;
    let list = s
        .app
        .send(common::server_fn(
            "list_revisions",
            &who,
            &format!("report_id={report}"),
        ))
        .await;
    assert_eq!(list.status.as_u16(), 200, "{}", list.body);
    assert_eq!(list.json()[0]["name"], "Before steering");
    let shown = s
        .app
        .send(common::server_fn(
            "get_revision",
            &who,
            &format!("report_id={report}&number=1"),
        ))
        .await
        .json();
    assert_eq!(
        shown["content"]["narratives"]["executive-summary"],
        saved_text.as_str()
    );

    // Restoring is an edit everyone receives.
    let restored = s
        .app
        .send(common::server_fn(
            "restore_revision",
            &who,
            &format!("report_id={report}&number=1"),
        ))
        .await;
    assert_eq!(restored.status.as_u16(), 200, "{}", restored.body);
    ben.until_text(|t| t == saved_text).await;
    ana.until_text(|t| t == saved_text).await;
    assert_eq!(ben.client.until("saved").await["restored"], true);

    // A viewer may not restore.
    let ben_who = s.app.session("ben").await;
    let refused = s
        .app
        .send(common::server_fn(
            "restore_revision",
            &ben_who,
            &format!("report_id={report}&number=1"),
        ))
        .await;
    assert_eq!(refused.status.as_u16(), 403);
}

#[tokio::test]
async fn the_log_is_folded_into_a_snapshot_when_the_session_ends() {
    let s = served_with(&[], None).await;
    let report = s.app.report_id("HBR", false).await;
    let mut ana = Editor::join(s.door(), report, "ana").await;
    for i in 0..5 {
        let r = ana.type_text(true, &format!(" {i}")).await;
        ana.acked(r).await.expect("stored");
    }
    let text = ana.text();
    assert_eq!(
        s.app.store().doc_update_count(report).await.expect("count"),
        5
    );
    ana.client.ws.close(None).await.ok();
    let mut left = 5;
    for _ in 0..50 {
        left = s.app.store().doc_update_count(report).await.expect("count");
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "updates folded into the snapshot");
    let back = Editor::join(s.door(), report, "ana").await;
    assert_eq!(back.text(), text);
}

/// The executive summary's narrative as the report stores it.
async fn summary_narrative(app: &TestApp, report: i64) -> String {
    app.store()
        .report_document(report)
        .await
        .expect("read")
        .expect("report")
        .sections
        .into_iter()
        .find(|s| s.key == "executive-summary")
        .expect("summary")
        .narrative
}

// ---- Faults under load ---------------------------------------------------------------------------

/// Reads the API as `who` in a loop until `stop` is set; each answer's status, body and time.
fn read_load(
    router: axum::Router,
    who: Who,
    reports: Vec<i64>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Vec<(u16, String, Duration)>> {
    tokio::spawn(async move {
        use tower::ServiceExt;
        let mut seen = Vec::new();
        let mut i = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let uri = match i % 3 {
                0 => "/api/projects/HBR/export".to_string(),
                _ => format!("/api/reports/{}", reports[i % reports.len()]),
            };
            i += 1;
            let started = std::time::Instant::now();
            let response = router
                .clone()
                .oneshot(common::request(axum::http::Method::GET, &uri, &who, None))
                .await
                .expect("response");
            let status = response.status().as_u16();
            let body = http_body_util::BodyExt::collect(response.into_body())
                .await
                .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
                .unwrap_or_default();
            seen.push((status, body, started.elapsed()));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        seen
    })
}

/// Every report id of the portfolio.
async fn all_reports(app: &TestApp) -> Vec<i64> {
    let portfolio = app.store().portfolio().await.expect("portfolio");
    portfolio
        .projects
        .iter()
        .flat_map(|p| p.reports.iter().map(|r| r.id))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_under_load_answers_503_then_recovers_and_keeps_acked_edits() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let pg = test_support::PostgresServer::start();
    let a = served_on(pg.fresh_database(), None, &[], None).await;
    let report = a.app.report_id("HBR", false).await;
    let reports = all_reports(&a.app).await;
    let reader = a.app.api_token("reader", Role::Admin, &[]).await;
    let mut ana = Editor::join(a.door(), report, "ana").await;
    let r = ana.type_text(true, " Before the restart.").await;
    ana.acked(r).await.expect("acked before the outage");

    let stop = Arc::new(AtomicBool::new(false));
    let load = read_load(
        a.app.router(),
        reader.clone(),
        reports.clone(),
        stop.clone(),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::task::block_in_place(|| pg.stop());
    // During the outage: reads that need the database fail with 503 and a message; an edit is
    // refused as not saved, and nothing is acknowledged that was not stored.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The health check tells anyone, a load balancer above all: 503, the store down, nothing else.
    let health = a
        .app
        .get("/api/reports/pmr/performance/health", &Who::Anonymous)
        .await;
    assert_eq!(health.status, 503, "{}", health.body);
    let body = health.json();
    assert_eq!(body["status"], "unhealthy", "{body}");
    assert_eq!(body["components"]["store"], "down", "{body}");
    assert!(body.get("store").is_none(), "no details for anyone: {body}");
    let during = ana.type_text(true, " During the outage.").await;
    let refused = ana
        .acked(during)
        .await
        .expect_err("an edit cannot be stored now");
    assert_eq!(refused["code"], "not_saved", "{refused}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    tokio::task::block_in_place(|| pg.resume());
    // After: the same app, not restarted, answers again.
    let mut recovered = false;
    for _ in 0..100 {
        let reply = a.app.get(&format!("/api/reports/{report}"), &reader).await;
        if reply.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "reads succeed again once PostgreSQL is back");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let seen = load.await.expect("load task");

    let statuses: std::collections::BTreeMap<u16, usize> =
        seen.iter().fold(Default::default(), |mut m, (s, _, _)| {
            *m.entry(*s).or_default() += 1;
            m
        });
    assert!(
        statuses.keys().all(|s| *s == 200 || *s == 503),
        "only answers or 503s, never another error: {statuses:?}"
    );
    assert!(statuses.get(&503).is_some_and(|n| *n > 0), "{statuses:?}");
    assert!(statuses.get(&200).is_some_and(|n| *n > 0), "{statuses:?}");
    for (status, body, took) in &seen {
        if *status == 503 {
            assert!(body.contains("The database is unavailable"), "{body}");
        }
        // Not a speed target: a request must not hang while the database is away.
        assert!(*took < Duration::from_secs(10), "a request took {took:?}");
    }
    assert_eq!(
        seen.last().map(|s| s.0),
        Some(200),
        "the last reads succeed"
    );

    // The refused edit is sent again (as the client does) and acknowledged now.
    let missing = {
        let txn = yrs::Transact::transact(&ana.doc);
        B64.encode(txn.encode_state_as_update_v1(&StateVector::default()))
    };
    let again = ana.send_update(missing).await;
    ana.acked(again)
        .await
        .expect("stored once the database is back");
    let r = ana.type_text(true, " After the restart.").await;
    ana.acked(r).await.expect("acked after the outage");
    ana.client.ws.close(None).await.ok();

    // Every acknowledged edit is in the stored document, read by a fresh instance.
    let fresh = serve_state(a.app.another_instance(&[], None).await).await;
    let check = Editor::join(a.on(fresh), report, "ana").await;
    let text = check.text();
    for words in [
        " Before the restart.",
        " During the outage.",
        " After the restart.",
    ] {
        assert!(text.contains(words), "{words:?} is missing from {text:?}");
    }
}

/// Polls `uri` as `who` until `field` of its JSON body is `want`; answers the last body.
async fn until_json(app: &TestApp, uri: &str, who: &Who, field: &[&str], want: &str) -> Value {
    let mut body = Value::Null;
    for _ in 0..200 {
        body = app.get(uri, who).await.json();
        let got = field.iter().fold(&body, |v, k| &v[*k]);
        if got == want {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{uri}: {field:?} never became {want}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_under_load_keeps_serving_and_cross_instance_delivery_resumes() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let mut redis = test_support::RedisServer::start();
    let a = served_with(&[], Some(&redis.url())).await;
    a.app.account("dee", Role::Editor, &["HBR"], None).await;
    let b_state = b_instance(&a, &redis).await;
    let b_router = server::router(b_state.clone());
    let b = serve_state(b_state).await;
    let report = a.app.report_id("HBR", false).await;
    let reports = all_reports(&a.app).await;
    let admin = a.app.api_token("watcher", Role::Admin, &[]).await;

    let mut ana = Editor::join(a.door(), report, "ana").await;
    let mut ana2 = Editor::join(a.door(), report, "ana").await;
    let mut dee = Editor::join(a.on(b), report, "dee").await;
    // Wait until b's subscriber is up: ana's presence reaches dee.
    for attempt in 0.. {
        assert!(attempt < 40, "instance b never heard instance a");
        ana.client
            .send(&json!({"type": "presence", "section": "risks"}))
            .await;
        let heard = tokio::time::timeout(Duration::from_millis(500), dee.client.until("presence"));
        if heard.await.is_ok() {
            break;
        }
    }
    let r = ana.type_text(true, " One.").await;
    ana.acked(r).await.expect("stored");
    dee.until_text(|t| t.ends_with(" One.")).await;
    assert_eq!(
        until_json(&a.app, "/readyz", &Who::Anonymous, &["status"], "ready").await["redis"]
            ["status"],
        "up"
    );

    // HTTP reads on both instances all along.
    let stop = Arc::new(AtomicBool::new(false));
    let loads = [
        read_load(a.app.router(), admin.clone(), reports.clone(), stop.clone()),
        read_load(b_router, admin.clone(), reports.clone(), stop.clone()),
    ];
    tokio::time::sleep(Duration::from_millis(300)).await;

    redis.kill();
    // Both checks say degraded, not down: the instance still serves.
    let ready = until_json(&a.app, "/readyz", &Who::Anonymous, &["status"], "degraded").await;
    assert_eq!(ready["redis"]["status"], "down", "{ready}");
    let health = "/api/reports/pmr/performance/health";
    let degraded = until_json(&a.app, health, &admin, &["cache", "status"], "degraded").await;
    assert_eq!(degraded["status"], "degraded", "{degraded}");
    // Degraded still serves: 200 for a load balancer, with the cache's status.
    let public = a.app.get(health, &Who::Anonymous).await;
    assert_eq!(public.status, 200);
    assert_eq!(
        public.json()["components"]["cache"],
        "degraded",
        "{}",
        public.body
    );
    // Editing within an instance goes on.
    let r = ana.type_text(true, " Two.").await;
    ana.acked(r).await.expect("stored without Redis");
    ana2.until_text(|t| t.ends_with(" One. Two.")).await;
    // What could not be relayed is counted, on the performance API and in `/metrics`.
    let stats = "/api/reports/pmr/performance/websocket/stats";
    for _ in 0..100 {
        if a.app.get(stats, &admin).await.json()["relay_dropped"].as_u64() > Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(a.app.get(stats, &admin).await.json()["relay_dropped"].as_u64() > Some(0));
    let metrics = a.app.get("/metrics", &admin).await.body;
    let dropped = metrics
        .lines()
        .find_map(|l| l.strip_prefix("pmr_ws_relay_dropped_total "))
        .and_then(|v| v.parse::<u64>().ok());
    assert!(dropped > Some(0), "{metrics}");

    redis.resume();
    // The other instance's client is told to resync, and catches up by itself.
    tokio::time::timeout(Duration::from_secs(20), dee.client.until("resync"))
        .await
        .expect("resync after Redis came back");
    dee.sync().await;
    assert!(dee.text().ends_with(" One. Two."), "{}", dee.text());
    // Cross-instance delivery is live again, both ways.
    let r = dee.type_text(true, " Three.").await;
    dee.acked(r).await.expect("stored");
    ana.until_text(|t| t.ends_with(" One. Two. Three.")).await;
    let r = ana.type_text(true, " Four.").await;
    ana.acked(r).await.expect("stored");
    dee.until_text(|t| t.ends_with(" Two. Three. Four.")).await;
    until_json(&a.app, "/readyz", &Who::Anonymous, &["status"], "ready").await;
    until_json(&a.app, health, &admin, &["cache", "status"], "healthy").await;

    stop.store(true, Ordering::Relaxed);
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for load in loads {
        for (status, body, _) in load.await.expect("load") {
            assert!(
                status < 500,
                "a read failed during the Redis outage: {status} {body}"
            );
            *statuses.entry(status).or_default() += 1;
        }
    }
    assert_eq!(statuses.keys().collect::<Vec<_>>(), [&200], "{statuses:?}");
}

/// Another instance, as the relay sees it: envelopes of a stream of its own published straight to
/// Redis, each a `left` whose connection names the stream and the message's number.
struct ForgedInstance {
    conn: redis::aio::MultiplexedConnection,
    session: String,
    origin: String,
}

impl ForgedInstance {
    /// Connects to `redis` and waits until the instance under test listens: the first message of a
    /// new stream (number 1) reaches `member`, in `report`'s session.
    async fn heard_by(
        redis: &test_support::RedisServer,
        report: i64,
        member: &mut Client,
    ) -> ForgedInstance {
        let client = redis::Client::open(redis.url()).expect("client");
        let conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("redis");
        let mut forged = ForgedInstance {
            conn,
            session: format!("report-{report}"),
            origin: String::new(),
        };
        for attempt in 0.. {
            assert!(attempt < 40, "the instance never heard the relay");
            forged.origin = format!("elsewhere-{attempt}");
            forged.publish(forged.envelope(1).to_string()).await;
            if tokio::time::timeout(Duration::from_millis(300), member.until("left"))
                .await
                .is_ok()
            {
                return forged;
            }
        }
        unreachable!("the loop returns or fails")
    }

    /// Message `n` of this instance's stream.
    fn envelope(&self, n: u64) -> Value {
        let origin = &self.origin;
        json!({"o": origin, "s": self.session, "f": false, "n": n, "h": false,
               "m": {"type": "left", "connection": format!("{origin}:{n}"), "user": "x"}})
    }

    async fn publish(&mut self, payload: String) {
        let _: () = redis::cmd("PUBLISH")
            .arg(server::collab::relay::CHANNEL)
            .arg(payload)
            .query_async(&mut self.conn)
            .await
            .expect("publish");
    }
}

/// Another instance's relayed stream skips a number (a message lost between instances): the
/// clients here are told to resync, and the gap is counted on the performance API and in
/// `/metrics`. A stream that stops without the heartbeat confirming its last message (its
/// instance died with messages unsent) resyncs them too, after the grace period.
#[tokio::test]
async fn a_gap_in_another_instances_relayed_stream_resyncs_clients_and_is_counted() {
    let redis = test_support::RedisServer::start();
    let s = served_with(&[], Some(&redis.url())).await;
    let report = s.app.report_id("HBR", false).await;
    let admin = s.app.api_token("watcher", Role::Admin, &[]).await;
    let (mut ben, _) = s.join(report, "ben").await;
    let mut other = ForgedInstance::heard_by(&redis, report, &mut ben).await;
    // Number 2 never comes: 3 does.
    other.publish(other.envelope(3).to_string()).await;
    assert_eq!(
        ben.next().await["type"],
        "resync",
        "the skipped number resyncs"
    );
    assert_eq!(ben.next().await["type"], "left", "then the message comes");
    let stats = s
        .app
        .get("/api/reports/pmr/performance/websocket/stats", &admin)
        .await
        .json();
    assert!(stats["relay_gaps"].as_u64() >= Some(1), "{stats}");
    let metrics = s.app.get("/metrics", &admin).await.body;
    assert!(
        metrics.lines().any(|l| l
            .strip_prefix("pmr_ws_relay_gaps_total ")
            .is_some_and(|v| v != "0")),
        "{metrics}"
    );
    // The stream stops: no heartbeat confirms its last message, so the clients resync again.
    let resync = tokio::time::timeout(Duration::from_secs(10), ben.until("resync")).await;
    assert!(resync.is_ok(), "a stream that stopped unconfirmed resyncs");
}

/// Another instance packs several messages into one pub/sub message (a JSON array): each reaches the
/// clients here, in order, and a number missing inside a packed message still resyncs them.
#[tokio::test]
async fn packed_relay_messages_arrive_in_order_and_their_gaps_are_noticed() {
    let redis = test_support::RedisServer::start();
    let s = served_with(&[], Some(&redis.url())).await;
    let report = s.app.report_id("HBR", false).await;
    let (mut ben, _) = s.join(report, "ben").await;
    let mut other = ForgedInstance::heard_by(&redis, report, &mut ben).await;
    let origin = other.origin.clone();
    // Numbers 2 to 4 in one message: three deliveries, in order, no resync.
    let packed = json!([other.envelope(2), other.envelope(3), other.envelope(4)]);
    other.publish(packed.to_string()).await;
    for n in 2..=4 {
        let m = ben.next().await;
        assert_eq!(m["type"], "left", "{m}");
        assert_eq!(m["connection"], format!("{origin}:{n}"), "in order");
    }
    // 5 and 7 packed together, 6 never sent: the gap inside the packed message resyncs.
    let packed = json!([other.envelope(5), other.envelope(7)]);
    other.publish(packed.to_string()).await;
    assert_eq!(ben.next().await["connection"], format!("{origin}:5"));
    assert_eq!(
        ben.next().await["type"],
        "resync",
        "the skipped number resyncs"
    );
    assert_eq!(ben.next().await["connection"], format!("{origin}:7"));
}

/// A connection may sync a few times in a row (connect, reconnect, resync), then once per period:
/// past that, each sync is refused with `rate_limited` and the connection stays.
#[tokio::test]
async fn syncs_are_rate_limited_per_connection() {
    let s = served_with(&[], None).await;
    let report = s.app.report_id("HBR", false).await;
    let (mut ana, _) = s.join(report, "ana").await;
    for _ in 0..7 {
        ana.send(&json!({"type": "sync", "state_vector": "AA=="}))
            .await;
    }
    let mut answered = 0;
    let mut refused = 0;
    while answered + refused < 7 {
        let m = ana.next().await;
        match m["type"].as_str() {
            Some("sync") => answered += 1,
            Some("error") => {
                assert_eq!(m["code"], "rate_limited", "{m}");
                refused += 1;
            }
            _ => {}
        }
    }
    assert_eq!((answered, refused), (5, 2));
    // Still connected: other messages work.
    ana.send(&json!({"type": "presence", "section": "risks"}))
        .await;
    ana.until_own("presence").await;
}

/// One person holds at most `WS_MAX_CONNECTIONS_PER_USER` connections of a session; the next is
/// closed with 1013 and a reason, and others still get in.
#[tokio::test]
async fn one_user_cannot_fill_a_session() {
    let s = served_with(&["--ws-max-connections-per-user", "2"], None).await;
    let report = s.app.report_id("HBR", false).await;
    let _first = s.join(report, "ana").await;
    let _second = s.join(report, "ana").await;
    let who = s.app.session("ana").await;
    let (mut third, _) =
        tokio_tungstenite::connect_async(s.request(&format!("/ws/reports/{report}"), &who))
            .await
            .expect("upgrade");
    match tokio::time::timeout(WAIT, third.next())
        .await
        .expect("in time")
    {
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 1013);
            assert!(frame.reason.contains("one person"), "{}", frame.reason);
        }
        other => panic!("expected a close frame: {other:?}"),
    }
    let _ben = s.join(report, "ben").await;
}

#[tokio::test]
async fn a_publication_tells_every_open_connection_on_every_instance() {
    let redis = test_support::RedisServer::start();
    let a = served_with(&[], Some(&redis.url())).await;
    let b = serve_state(b_instance(&a, &redis).await).await;
    let report = a.app.report_id("HBR", false).await;
    let (mut reader, _) = a.join(report, "ben").await;
    let (mut editor, _) = a.on(b).join(report, "ana").await;
    let ana = a.app.session("ana").await;
    let reply = a
        .app
        .send(common::request(
            axum::http::Method::POST,
            &format!("/api/reports/{report}/publish"),
            &ana,
            None,
        ))
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
    let by = reply.json()["published_by"].clone();
    assert!(by.as_str().is_some_and(|b| !b.is_empty()));
    for client in [&mut reader, &mut editor] {
        let told = client.until("published").await;
        assert_eq!(told["by"], by, "{told}");
    }
    // And the editor's next edit is refused: the report is final.
    let update = common::append_to(&Doc::new(), SUMMARY, " late");
    editor
        .send(&json!({"type": "update", "update": B64.encode(update), "ref": 1}))
        .await;
    let refused = editor.until("error").await;
    assert_eq!(refused["code"], "read_only", "{refused}");
}
