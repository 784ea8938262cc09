//! A collaboration client that types as fast as the socket takes it, for the durability tests: it
//! appends numbered markers (` a0.`, ` a1.`, …) to one text of a report's document and sends each
//! edit at once, without waiting for the `ack` of the one before, while it reads what the server
//! sends (acks, others' updates, `resync`) on the same connection, as the browser's client does.
//! It remembers which markers were acknowledged, so a test can ask the store and other clients for
//! exactly those.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use base64::Engine;
use futures_util::stream::SplitStream;
use futures_util::{FutureExt, SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, Transact, Update, WriteTxn};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// Longest a typist waits for the next frame it expects.
const WAIT: Duration = Duration::from_secs(20);

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The text the typists write into.
pub const TEXT: &str = "narrative:executive-summary";

/// The connection ended (the server closed it or went away).
#[derive(Debug)]
pub struct Gone;

/// Where a typist connects, and as whom.
#[derive(Clone)]
pub struct Door {
    pub port: u16,
    /// A `Cookie` header value (`pmr_session=…`).
    pub cookie: String,
}

/// One connection's client with its own copy of the document.
pub struct Typist {
    tag: String,
    /// Frames for the writer task, which sends them as fast as the socket takes them.
    out: mpsc::UnboundedSender<Message>,
    stream: SplitStream<Ws>,
    /// The copy of the document; it outlives reconnections, as a browser tab's does.
    pub doc: Doc,
    me: String,
    next_ref: u64,
    /// Sent edits waiting for their ack: ref to marker number (`None`: a sync's catch-up).
    waiting: HashMap<u64, Option<usize>>,
    /// Markers the server acknowledged.
    pub acked: BTreeSet<usize>,
    /// Markers typed into this copy (sent or not).
    pub typed: BTreeSet<usize>,
}

/// The marker number `i` of typist `tag`.
pub fn marker(tag: &str, i: usize) -> String {
    format!(" {tag}{i}.")
}

/// The markers of `tag` (from `numbers`) that `text` lacks.
pub fn missing<'a>(
    text: &str,
    tag: &str,
    numbers: impl IntoIterator<Item = &'a usize>,
) -> Vec<usize> {
    numbers
        .into_iter()
        .copied()
        .filter(|i| !text.contains(&marker(tag, *i)))
        .collect()
}

/// Connects; answers the writer task's queue and the reading half.
async fn open(door: &Door, report: i64) -> (mpsc::UnboundedSender<Message>, SplitStream<Ws>) {
    let (mut sink, stream) = connect(door, report).await.split();
    let (out, mut rx) = mpsc::unbounded_channel::<Message>();
    tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if sink.send(frame).await.is_err() {
                return;
            }
        }
    });
    (out, stream)
}

async fn connect(door: &Door, report: i64) -> Ws {
    let mut request = format!("ws://127.0.0.1:{}/ws/reports/{report}", door.port)
        .into_client_request()
        .expect("request");
    let origin = format!("http://127.0.0.1:{}", door.port);
    let headers = request.headers_mut();
    headers.insert("origin", HeaderValue::from_str(&origin).expect("origin"));
    headers.insert(
        "cookie",
        HeaderValue::from_str(&door.cookie).expect("cookie"),
    );
    let (ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connects");
    ws
}

impl Typist {
    /// Connects, reads the welcome and syncs.
    pub async fn join(door: &Door, report: i64, tag: &str) -> Typist {
        let (out, stream) = open(door, report).await;
        let mut typist = Typist {
            tag: tag.to_string(),
            out,
            stream,
            doc: Doc::new(),
            me: String::new(),
            next_ref: 1,
            waiting: HashMap::new(),
            acked: BTreeSet::new(),
            typed: BTreeSet::new(),
        };
        typist.welcome_and_sync().await.expect("joins");
        typist
    }

    /// Connects again (to `door`, maybe another instance) with the same copy of the document, and
    /// syncs both ways, as the browser's client does after losing its connection. Edits that were
    /// sent and not acknowledged are not counted as stored.
    pub async fn rejoin(&mut self, door: &Door, report: i64) {
        let (out, stream) = open(door, report).await;
        self.out = out;
        self.stream = stream;
        self.waiting.clear();
        self.welcome_and_sync().await.expect("rejoins");
    }

    async fn welcome_and_sync(&mut self) -> Result<(), Gone> {
        let welcome = self.frame().await?;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        self.me = welcome["you"]["connection"]
            .as_str()
            .expect("id")
            .to_string();
        self.sync().await
    }

    /// The sync handshake: what the server has that this copy lacks, then the other way round.
    pub async fn sync(&mut self) -> Result<(), Gone> {
        let sv = B64.encode(self.doc.transact().state_vector().encode_v1());
        self.send(json!({"type": "sync", "state_vector": sv}))
            .await?;
        loop {
            for m in self.messages().await? {
                if m["type"] == "sync" {
                    self.apply(m["update"].as_str().expect("update"));
                    let theirs = StateVector::decode_v1(
                        &B64.decode(m["state_vector"].as_str().expect("sv"))
                            .expect("b64"),
                    )
                    .expect("sv");
                    let missing = self.doc.transact().encode_state_as_update_v1(&theirs);
                    if Update::decode_v1(&missing).is_ok_and(|u| !u.is_empty()) {
                        self.send_update(B64.encode(missing), None).await?;
                    }
                    return Ok(());
                }
                self.handle(m).await?;
            }
        }
    }

    /// Types markers `numbers`, each sent at once (acks and others' updates are read as they
    /// come, between keystrokes), then waits until each is acknowledged. Answers `Gone` if the
    /// connection ends first: `acked` says what was stored.
    pub async fn type_markers(&mut self, numbers: std::ops::Range<usize>) -> Result<(), Gone> {
        for i in numbers {
            let before = self.doc.transact().state_vector();
            {
                let mut txn = self.doc.transact_mut();
                let text = txn.get_or_insert_text(TEXT);
                let end = text.len(&txn);
                text.insert(&mut txn, end, &marker(&self.tag, i));
            }
            self.typed.insert(i);
            let update = B64.encode(self.doc.transact().encode_state_as_update_v1(&before));
            self.send_update(update, Some(i)).await?;
            // Whatever has arrived meanwhile, without waiting for more.
            while let Some(frame) = self.stream.next().now_or_never() {
                for m in parse(frame)? {
                    self.handle(m).await?;
                }
            }
            tokio::task::yield_now().await;
        }
        while !self.waiting.is_empty() {
            for m in self.messages().await? {
                self.handle(m).await?;
            }
        }
        Ok(())
    }

    /// Reads and applies what the server sends until `done` holds for this copy's text.
    pub async fn read_until(&mut self, done: impl Fn(&str) -> bool) -> Result<(), Gone> {
        while !done(&self.text()) {
            for m in self.messages().await? {
                self.handle(m).await?;
            }
        }
        Ok(())
    }

    /// Closes the connection.
    pub async fn leave(mut self) -> Typist {
        let _ = self.out.send(Message::Close(None));
        // Read to the end, so the server has seen the close before the test goes on.
        while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, self.stream.next()).await {}
        self
    }

    /// The text the typists write into, as this copy has it.
    pub fn text(&self) -> String {
        let txn = self.doc.transact();
        txn.get_text(TEXT)
            .map(|t| t.get_string(&txn))
            .unwrap_or_default()
    }

    async fn handle(&mut self, m: Value) -> Result<(), Gone> {
        match m["type"].as_str() {
            Some("ack") => {
                let reference = m["ref"].as_u64().expect("ref");
                if let Some(Some(i)) = self.waiting.remove(&reference) {
                    self.acked.insert(i);
                }
            }
            Some("error") => panic!("typist {} was refused: {m}", self.tag),
            Some("update") if m["connection"] != self.me.as_str() => {
                self.apply(m["update"].as_str().expect("update"));
            }
            Some("resync") => Box::pin(self.sync()).await?,
            _ => {}
        }
        Ok(())
    }

    fn apply(&self, update: &str) {
        let bytes = B64.decode(update).expect("b64");
        self.doc
            .transact_mut()
            .apply_update(Update::decode_v1(&bytes).expect("update"))
            .expect("applies");
    }

    async fn send_update(&mut self, update: String, marker: Option<usize>) -> Result<(), Gone> {
        let reference = self.next_ref;
        self.next_ref += 1;
        self.waiting.insert(reference, marker);
        self.send(json!({"type": "update", "update": update, "ref": reference}))
            .await
    }

    async fn send(&mut self, value: Value) -> Result<(), Gone> {
        self.out
            .send(Message::Text(value.to_string().into()))
            .map_err(|_| Gone)
    }

    /// The messages of the next frame (a batch's one by one).
    async fn messages(&mut self) -> Result<Vec<Value>, Gone> {
        let frame = tokio::time::timeout(WAIT, self.stream.next())
            .await
            .unwrap_or_else(|_| panic!("typist {}: no frame within {WAIT:?}", self.tag));
        parse(frame)
    }

    async fn frame(&mut self) -> Result<Value, Gone> {
        loop {
            if let Some(m) = self.messages().await?.into_iter().next() {
                return Ok(m);
            }
        }
    }
}

/// The messages of a frame; pings and pongs have none.
fn parse(
    frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
) -> Result<Vec<Value>, Gone> {
    match frame {
        Some(Ok(Message::Text(text))) => {
            let value: Value = serde_json::from_str(text.as_str()).expect("json");
            if value["type"] == "batch" {
                Ok(value["messages"].as_array().expect("messages").clone())
            } else {
                Ok(vec![value])
            }
        }
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => Err(Gone),
        Some(Ok(_)) => Ok(Vec::new()),
    }
}
