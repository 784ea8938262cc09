//! The Redis relay: with `REDIS_URL` set, every message a session queues is published on one
//! channel, and every instance queues the messages of the other instances for its own members of the
//! session (its own echoes are recognised by the instance id and ignored).
//!
//! The publisher drains what is waiting and publishes it packed: several envelopes go out as one
//! pub/sub message (a JSON array, up to [`PACK_BYTES`]), so Redis, the network and every other
//! instance handle one message where there were many. It first lingers a moment ([`linger`]) for
//! more to pack, unless a forced message is among them: with batching on always (a batched message
//! waits for its batch's window anyway), with batching off only while messages come faster than one
//! a millisecond (under load, where a pub/sub message each cost the relaying instances a third of
//! their CPU per delivery; a message that comes alone goes out at once). Redis pub/sub is
//! at-most-once:
//! a message is lost when the outbox is full, when Redis refuses a pipeline, or while a subscriber
//! is away. So every message carries its number in its instance's stream ([`RelayOutbox`]), and the
//! subscriber follows each instance's numbers ([`StreamGaps`]): a number missing means a message
//! (maybe an edit) never arrived, and every local session gets a forced `resync`, as it does when
//! the subscriber reconnects after Redis was away. A client answers `resync` with a `sync`, which
//! catches it up from the store: the store, not the relay, is what makes an edit reach everyone.
//! So that the last messages before a quiet spell cannot go missing unnoticed, a publisher that
//! has gone [`HEARTBEAT_EVERY`] without anything to send publishes the number it has handled
//! everything up to.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use app::collab::protocol::ServerMessage;

use super::optimizer::{RelayOutbox, Relayed, WeakOptimizer, WebSocketOptimizer};

mod gaps;

pub use gaps::StreamGaps;

/// The channel every instance publishes to and listens on.
pub const CHANNEL: &str = "pmr:ws";
/// Messages waiting for Redis before new ones are dropped.
const OUTBOX: usize = 16_384;
/// Most messages in one pipeline.
const PIPELINE: usize = 256;
/// Largest packed pub/sub message: envelopes are added to one while it stays under this (an
/// envelope larger than this goes alone).
pub const PACK_BYTES: usize = 256 * 1024;
/// Longest the publisher lingers for more to pack, with batching on.
const LINGER_MAX: Duration = Duration::from_millis(5);
/// With batching off, how long the publisher lingers for more to pack when the message came less than
/// this after the one before it (the shortest wait tokio's timer has): a stream that busy loses at
/// most this to the relay, and one message alone loses nothing.
const BUSY_LINGER: Duration = Duration::from_millis(1);
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// How long a publisher waits, idle after sending, before saying how far its stream has got.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
/// How long a subscriber waits for the heartbeat after a stream's last message before it takes the
/// stream for one whose instance died with messages unsent: three heartbeats' time, so a busy
/// publisher is not taken for a dead one.
const HEARTBEAT_GRACE: Duration = Duration::from_secs(3);

/// A relayed message on the channel.
#[derive(Serialize, Deserialize)]
struct Envelope<'a> {
    /// The publishing instance.
    #[serde(borrow)]
    o: &'a str,
    /// The session.
    #[serde(borrow)]
    s: &'a str,
    /// Forced (urgent).
    #[serde(default)]
    f: bool,
    /// The conflation key, for ephemeral messages.
    #[serde(default, borrow)]
    c: Option<&'a str>,
    /// The message's number in the publishing instance's stream (0: not numbered); for a
    /// heartbeat, the number the instance has published or dropped everything up to.
    #[serde(default)]
    n: u64,
    /// A heartbeat: no message, only `n`.
    #[serde(default)]
    h: bool,
    /// The message itself.
    #[serde(borrow)]
    m: &'a RawValue,
}

/// How long the publisher waits for more messages to pack before it publishes, the last message
/// having come `since_last` after the one before it: with batching on a tenth of the batch window, at
/// most [`LINGER_MAX`] (small beside the wait a batched message has anyway); with batching off
/// [`BUSY_LINGER`] while messages come faster than one per [`BUSY_LINGER`], otherwise nothing (a
/// message goes out at once).
pub fn linger(config: &super::WsConfig, since_last: Option<Duration>) -> Duration {
    if config.batching {
        (config.batch_max_wait / 10).min(LINGER_MAX)
    } else if since_last.is_some_and(|d| d < BUSY_LINGER) {
        BUSY_LINGER
    } else {
        Duration::ZERO
    }
}

/// The pub/sub messages that carry `envelopes`, in order: consecutive envelopes packed into one
/// JSON array while it stays within [`PACK_BYTES`]; an envelope alone in its message is sent as it
/// is (as heartbeats always are), so a subscriber reads either form. Each envelope is appended to
/// the message being filled, not collected and joined afterwards.
pub fn pack(envelopes: impl IntoIterator<Item = String>) -> Vec<String> {
    // The message being filled (an array without its closing bracket once it holds two), and how
    // many envelopes it holds.
    fn close((mut message, n): (String, usize)) -> String {
        if n > 1 {
            message.push(']');
        }
        message
    }
    let mut out = Vec::new();
    let mut open: Option<(String, usize)> = None;
    for e in envelopes {
        open = Some(match open.take() {
            None => (e, 1),
            Some((mut message, n)) => {
                // The array's size with `e` in it: brackets and commas included.
                let packed = message.len() + e.len() + if n == 1 { 3 } else { 2 };
                if packed <= PACK_BYTES {
                    if n == 1 {
                        message.insert(0, '[');
                    }
                    message.push(',');
                    message.push_str(&e);
                    (message, n + 1)
                } else {
                    out.push(close((message, n)));
                    (e, 1)
                }
            }
        });
    }
    out.extend(open.map(close));
    out
}

/// Starts relaying `optimizer`'s sessions through the Redis at `client`.
pub fn spawn(optimizer: &WebSocketOptimizer, client: redis::Client) {
    let (tx, rx) = mpsc::channel(OUTBOX);
    let numbered = std::sync::Arc::new(std::sync::Mutex::new(0));
    optimizer.set_relay(RelayOutbox::new(tx, numbered.clone()));
    let outbox = Outbox {
        rx,
        numbered,
        instance: optimizer.instance_id().to_string(),
    };
    tokio::spawn(publisher(
        client.clone(),
        outbox,
        *optimizer.config(),
        optimizer.downgrade(),
    ));
    tokio::spawn(subscriber(client, optimizer.downgrade()));
}

/// The publisher's side of the outbox.
struct Outbox {
    rx: mpsc::Receiver<Relayed>,
    numbered: std::sync::Arc<std::sync::Mutex<u64>>,
    instance: String,
}

impl Outbox {
    /// The number every message up to has been taken from the outbox (published or dropped),
    /// when nothing waits in it. Senders number and queue under the same lock, so none can slip in
    /// between the check and the number.
    fn quiet_number(&self) -> Option<u64> {
        let numbered = self
            .numbered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.rx.is_empty().then_some(*numbered)
    }

    /// An envelope of this instance, as published.
    fn envelope(&self, m: Relayed) -> Option<String> {
        let raw = RawValue::from_string(m.json.into()).ok()?;
        serde_json::to_string(&Envelope {
            o: &self.instance,
            s: &m.session,
            f: m.force,
            c: m.conflate.as_deref(),
            n: m.number,
            h: false,
            m: &raw,
        })
        .ok()
    }

    fn heartbeat(&self, number: u64) -> Option<String> {
        let raw = RawValue::from_string("null".into()).ok()?;
        serde_json::to_string(&Envelope {
            o: &self.instance,
            s: "",
            f: false,
            c: None,
            n: number,
            h: true,
            m: &raw,
        })
        .ok()
    }
}

async fn publisher(
    client: redis::Client,
    mut outbox: Outbox,
    config: super::WsConfig,
    optimizer: WeakOptimizer,
) {
    let dropped = |n: usize| {
        if let Some(o) = optimizer.upgrade() {
            o.count_relay_dropped(n as u64);
        }
    };
    let mut backoff = BACKOFF_MIN;
    let mut conn = loop {
        match redis::aio::ConnectionManager::new(client.clone()).await {
            Ok(conn) => break conn,
            Err(e) => {
                tracing::debug!(error = %e, "collaboration relay cannot reach Redis yet");
                // Nothing waits for Redis: what is queued meanwhile is dropped.
                let mut n = 0;
                while outbox.rx.try_recv().is_ok() {
                    n += 1;
                }
                dropped(n);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    };
    let mut batch = Vec::with_capacity(PIPELINE);
    let mut warned_at: Option<tokio::time::Instant> = None;
    // Whether anything was taken from the outbox since the last heartbeat.
    let mut busy = false;
    // When the last message was taken, for the linger with batching off.
    let mut last_taken: Option<tokio::time::Instant> = None;
    loop {
        let received =
            tokio::time::timeout(HEARTBEAT_EVERY, outbox.rx.recv_many(&mut batch, PIPELINE)).await;
        let mut pipe = redis::pipe();
        let count = match received {
            Ok(0) => return,
            Ok(_) => {
                busy = true;
                let now = tokio::time::Instant::now();
                let linger = linger(&config, last_taken.map(|t| now - t));
                last_taken = Some(now);
                if !linger.is_zero() {
                    let until = tokio::time::Instant::now() + linger;
                    let mut forced = batch.iter().any(|m| m.force);
                    while batch.len() < PIPELINE && !forced {
                        let (before, room) = (batch.len(), PIPELINE - batch.len());
                        match tokio::time::timeout_at(until, outbox.rx.recv_many(&mut batch, room))
                            .await
                        {
                            Ok(n) if n > 0 => forced = batch[before..].iter().any(|m| m.force),
                            _ => break,
                        }
                    }
                }
                let count = batch.len();
                if count > 1 {
                    last_taken = Some(tokio::time::Instant::now());
                }
                for payload in pack(batch.drain(..).filter_map(|m| outbox.envelope(m))) {
                    pipe.publish(CHANNEL, payload).ignore();
                }
                count
            }
            Err(_) if busy => match outbox.quiet_number().and_then(|n| outbox.heartbeat(n)) {
                Some(payload) => {
                    busy = false;
                    pipe.publish(CHANNEL, payload).ignore();
                    0
                }
                None => continue,
            },
            Err(_) => continue,
        };
        if let Err(e) = pipe.query_async::<()>(&mut conn).await {
            dropped(count);
            // A heartbeat that did not go out is sent again at the next quiet moment.
            busy = busy || count == 0;
            if warned_at.is_none_or(|t| t.elapsed() > Duration::from_secs(30)) {
                tracing::warn!(error = %e, "collaboration messages could not be relayed through Redis");
                warned_at = Some(tokio::time::Instant::now());
            }
        }
    }
}

async fn subscriber(client: redis::Client, optimizer: WeakOptimizer) {
    let mut backoff = BACKOFF_MIN;
    let mut first = true;
    loop {
        let connected = tokio::time::timeout(Duration::from_secs(2), async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(CHANNEL).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        let Ok(Ok(pubsub)) = connected else {
            if optimizer.upgrade().is_none() {
                return;
            }
            first = false;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
            continue;
        };
        backoff = BACKOFF_MIN;
        let Some(o) = optimizer.upgrade() else { return };
        let me = o.instance_id().to_string();
        if !first {
            tracing::info!("collaboration relay subscribed again; clients resync");
            o.queue_everywhere_local(&ServerMessage::Resync {}, true);
        }
        first = false;
        drop(o);
        // What was published while away is lost: every stream is followed afresh.
        let mut gaps = StreamGaps::default();
        let mut messages = pubsub.into_on_message();
        let mut check = tokio::time::interval(HEARTBEAT_EVERY);
        loop {
            let msg = tokio::select! {
                msg = messages.next() => match msg {
                    Some(msg) => msg,
                    None => break,
                },
                _ = check.tick() => {
                    if gaps.stopped_unconfirmed(Instant::now(), HEARTBEAT_GRACE) {
                        let Some(o) = optimizer.upgrade() else { return };
                        tracing::warn!("an instance stopped relaying without confirming its last messages; clients resync");
                        o.relay_gap();
                    }
                    continue;
                }
            };
            let Some(o) = optimizer.upgrade() else { return };
            receive(&o, &me, &mut gaps, msg.get_payload_bytes());
        }
        tracing::warn!("collaboration relay lost Redis; reconnecting");
    }
}

/// Delivers one pub/sub message of the relay (an envelope, or several packed in an array) to this
/// instance's sessions.
fn receive(o: &WebSocketOptimizer, me: &str, gaps: &mut StreamGaps, payload: &[u8]) {
    let mut deliver = |e: Envelope<'_>| {
        if e.o != me {
            receive_one(o, gaps, e);
        }
    };
    // A lone envelope (the common case with batching off) is read without a list around it.
    let read = if payload.first() == Some(&b'[') {
        serde_json::from_slice::<Vec<Envelope>>(payload)
            .map(|all| all.into_iter().for_each(&mut deliver))
    } else {
        serde_json::from_slice::<Envelope>(payload).map(deliver)
    };
    if let Err(e) = read {
        tracing::warn!(error = %e, "unreadable collaboration relay message");
    }
}

/// Delivers one relayed message (or heartbeat) of another instance; a gap in its stream resyncs
/// this instance's sessions.
fn receive_one(o: &WebSocketOptimizer, gaps: &mut StreamGaps, e: Envelope<'_>) {
    let known = gaps.knows(e.o);
    let whole = if e.h {
        gaps.heard_up_to(e.o, e.n)
    } else {
        gaps.follows(e.o, e.n, Instant::now())
    };
    if !whole {
        if known {
            tracing::warn!(
                from = e.o,
                number = e.n,
                "relayed collaboration messages were lost; clients resync"
            );
        } else {
            tracing::info!(
                from = e.o,
                number = e.n,
                "first heard from an instance that relayed before; clients resync"
            );
        }
        o.relay_gap();
    }
    if !e.h {
        o.deliver_remote(Relayed {
            session: e.s.into(),
            json: e.m.get().into(),
            force: e.f,
            conflate: e.c.map(Into::into),
            number: e.n,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(n: u64, body: &str) -> String {
        format!(r#"{{"o":"a","s":"report-1","n":{n},"m":{{"text":"{body}"}}}}"#)
    }

    #[test]
    fn packing_keeps_every_envelope_in_order_within_the_size_bound() {
        let big = "x".repeat(PACK_BYTES / 3);
        let huge = "y".repeat(PACK_BYTES + 10);
        let mut envelopes: Vec<String> = (0..40).map(|n| envelope(n, "small")).collect();
        envelopes.extend((40..45).map(|n| envelope(n, &big)));
        envelopes.push(envelope(45, &huge));
        envelopes.extend((46..50).map(|n| envelope(n, "small")));
        let packed = pack(envelopes.clone());
        // Every message reads back as the subscriber reads it: the envelopes, in order, once each.
        let mut read = Vec::new();
        for message in &packed {
            assert!(
                message.len() <= PACK_BYTES || !message.starts_with('['),
                "a packed message over the bound: {} bytes",
                message.len()
            );
            if message.starts_with('[') {
                let list: Vec<Box<RawValue>> = serde_json::from_str(message).expect("an array");
                assert!(list.len() > 1, "one envelope alone goes as it is");
                read.extend(list.iter().map(|e| e.get().to_string()));
            } else {
                serde_json::from_str::<Envelope>(message).expect("an envelope");
                read.push(message.clone());
            }
        }
        assert_eq!(read, envelopes);
        // Fewer messages than envelopes, and each packed one is full: the next envelope would
        // not have fitted.
        assert!(packed.len() < 10, "{} messages", packed.len());
        let mut next = 0;
        for message in &packed {
            let taken = if message.starts_with('[') {
                serde_json::from_str::<Vec<Box<RawValue>>>(message)
                    .expect("an array")
                    .len()
            } else {
                1
            };
            next += taken;
            // What the message counted toward the bound: an array's bytes; an envelope alone
            // counted its brackets-to-be and comma too.
            let counted = if taken == 1 {
                message.len() + 2
            } else {
                message.len()
            };
            if let Some(following) = envelopes.get(next) {
                assert!(
                    counted + following.len() + 1 > PACK_BYTES,
                    "message ending before envelope {next} could have taken it"
                );
            }
        }
    }

    #[test]
    fn one_envelope_goes_as_it_is_and_nothing_packs_to_nothing() {
        assert_eq!(pack(vec![envelope(1, "a")]), vec![envelope(1, "a")]);
        assert!(pack(Vec::new()).is_empty());
    }

    #[test]
    fn batching_lingers_within_its_window_and_a_busy_stream_a_millisecond() {
        let mut config = crate::collab::WsConfig::DEFAULT;
        let ms = Duration::from_millis;
        for since_last in [None, Some(ms(0)), Some(ms(500))] {
            assert_eq!(linger(&config, since_last), ms(5));
        }
        config.batch_max_wait = ms(20);
        assert_eq!(linger(&config, None), ms(2));
        config.batching = false;
        // A message alone, or after a pause, goes out at once.
        assert_eq!(linger(&config, None), Duration::ZERO);
        assert_eq!(linger(&config, Some(ms(1))), Duration::ZERO);
        assert_eq!(linger(&config, Some(ms(40))), Duration::ZERO);
        // One that follows another closely waits a millisecond for more.
        assert_eq!(linger(&config, Some(Duration::from_micros(200))), ms(1));
        assert_eq!(linger(&config, Some(Duration::ZERO)), ms(1));
    }
}
