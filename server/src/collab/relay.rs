//! The Redis relay: with `REDIS_URL` set, every message a session queues is published on one
//! channel, and every instance queues the messages of the other instances for its own members of the
//! session (its own echoes are recognised by the instance id and ignored).
//!
//! The publisher drains what is waiting and sends it as one pipeline. Redis pub/sub is at-most-once:
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

use super::optimizer::{RelayOutbox, Relayed, WeakOptimizer, WebSocketOptimizer};
use super::protocol::ServerMessage;

/// The channel every instance publishes to and listens on.
pub const CHANNEL: &str = "pmr:ws";
/// Messages waiting for Redis before new ones are dropped.
const OUTBOX: usize = 16_384;
/// Most messages in one pipeline.
const PIPELINE: usize = 256;
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// How long a publisher waits, idle after sending, before saying how far its stream has got.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
/// How long a subscriber waits for the heartbeat after a stream's last message before it takes the
/// stream for one whose instance died with messages unsent: three heartbeats' time, so a busy
/// publisher is not taken for a dead one.
const HEARTBEAT_GRACE: Duration = Duration::from_secs(3);
/// Instances whose streams a subscriber follows at once. Past it (instances come and go with
/// restarts, each with a new id) the oldest-known are forgotten and start again as new.
const MAX_ORIGINS: usize = 256;

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
    tokio::spawn(publisher(client.clone(), outbox, optimizer.downgrade()));
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

async fn publisher(client: redis::Client, mut outbox: Outbox, optimizer: WeakOptimizer) {
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
    loop {
        let received =
            tokio::time::timeout(HEARTBEAT_EVERY, outbox.rx.recv_many(&mut batch, PIPELINE)).await;
        let mut pipe = redis::pipe();
        let count = match received {
            Ok(0) => return,
            Ok(count) => {
                busy = true;
                for m in batch.drain(..) {
                    if let Some(payload) = outbox.envelope(m) {
                        pipe.publish(CHANNEL, payload).ignore();
                    }
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

/// Delivers one relayed message (or heartbeat) to this instance's sessions; a gap in its stream
/// resyncs them.
fn receive(o: &WebSocketOptimizer, me: &str, gaps: &mut StreamGaps, payload: &[u8]) {
    let e = match serde_json::from_slice::<Envelope>(payload) {
        Ok(e) if e.o == me => return,
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "unreadable collaboration relay message");
            return;
        }
    };
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

/// Where each instance's stream stands, as this subscriber has heard it.
#[derive(Debug)]
struct Stream {
    /// The last number heard.
    last: u64,
    /// Since when the last number heard waits for a heartbeat to confirm that nothing followed
    /// it (`None`: confirmed).
    unconfirmed_since: Option<Instant>,
}

/// Each instance's stream, to find the messages that never arrived: a number skipped, a heartbeat
/// past the last number heard, or a stream that stopped without its heartbeat (its instance died
/// with messages still in its outbox).
#[derive(Debug, Default)]
pub struct StreamGaps {
    streams: std::collections::HashMap<Box<str>, Stream>,
    /// Instances in the order they were first heard, to forget the oldest past [`MAX_ORIGINS`].
    order: std::collections::VecDeque<Box<str>>,
}

impl StreamGaps {
    /// Records message `number` from `origin`; false when it does not follow the last one heard
    /// from there: a message is missing (or the instance restarted its numbering). The first
    /// message heard from an instance follows only if it is its first ever: one numbered later
    /// means this subscriber may have missed the ones before. Unnumbered messages (0) are not
    /// followed.
    pub fn follows(&mut self, origin: &str, number: u64, now: Instant) -> bool {
        if number == 0 {
            return true;
        }
        let follows = match self.streams.get(origin) {
            Some(stream) => number == stream.last + 1,
            None => number == 1,
        };
        self.set(origin, number, Some(now));
        follows
    }

    /// Records a heartbeat: `origin` has sent everything up to `number`. False when this subscriber
    /// has not heard all of it (or first hears of the instance now, with messages before).
    pub fn heard_up_to(&mut self, origin: &str, number: u64) -> bool {
        let all = self
            .streams
            .get(origin)
            .map_or(number == 0, |s| s.last == number);
        self.set(origin, number, None);
        all
    }

    /// Whether `origin`'s stream has been heard before.
    pub fn knows(&self, origin: &str) -> bool {
        self.streams.contains_key(origin)
    }

    /// Whether a stream stopped more than `grace` ago without the heartbeat that confirms its
    /// last message: its instance may have gone with messages unsent. Each such stream is counted
    /// once.
    pub fn stopped_unconfirmed(&mut self, now: Instant, grace: Duration) -> bool {
        let mut any = false;
        for stream in self.streams.values_mut() {
            if stream
                .unconfirmed_since
                .is_some_and(|since| now.duration_since(since) > grace)
            {
                stream.unconfirmed_since = None;
                any = true;
            }
        }
        any
    }

    fn set(&mut self, origin: &str, last: u64, unconfirmed_since: Option<Instant>) {
        if let Some(stream) = self.streams.get_mut(origin) {
            stream.last = last;
            stream.unconfirmed_since = unconfirmed_since;
            return;
        }
        if self.order.len() >= MAX_ORIGINS {
            if let Some(oldest) = self.order.pop_front() {
                self.streams.remove(&oldest);
            }
        }
        self.order.push_back(origin.into());
        self.streams.insert(
            origin.into(),
            Stream {
                last,
                unconfirmed_since,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stream_is_followed_on_its_own() {
        let mut gaps = StreamGaps::default();
        let now = Instant::now();
        assert!(gaps.follows("a", 1, now));
        assert!(gaps.follows("b", 1, now));
        assert!(gaps.follows("a", 2, now));
        assert!(gaps.follows("b", 2, now));
        assert!(!gaps.follows("a", 4, now), "3 never came");
        assert!(gaps.follows("a", 5, now), "followed again from 4");
        assert!(!gaps.follows("b", 1, now), "b restarted its numbering");
        assert!(gaps.follows("b", 2, now));
        assert!(
            gaps.follows("c", 0, now),
            "unnumbered messages are not followed"
        );
    }

    #[test]
    fn a_heartbeat_shows_the_messages_lost_at_the_end_of_a_stream() {
        let mut gaps = StreamGaps::default();
        let now = Instant::now();
        assert!(gaps.follows("a", 1, now));
        assert!(gaps.follows("a", 2, now));
        assert!(gaps.heard_up_to("a", 2), "all heard");
        assert!(
            !gaps.heard_up_to("a", 4),
            "3 and 4 were lost, and nothing came after"
        );
        assert!(gaps.follows("a", 5, now), "followed again from 4");
        assert!(
            !gaps.heard_up_to("new", 9),
            "first heard of, with 9 messages before"
        );
    }

    #[test]
    fn a_stream_that_stops_without_its_heartbeat_is_noticed_once() {
        let mut gaps = StreamGaps::default();
        let start = Instant::now();
        let grace = Duration::from_secs(3);
        assert!(gaps.follows("a", 1, start));
        assert!(gaps.follows("b", 1, start));
        assert!(gaps.heard_up_to("b", 1));
        assert!(!gaps.stopped_unconfirmed(start + Duration::from_secs(2), grace));
        assert!(
            gaps.stopped_unconfirmed(start + Duration::from_secs(4), grace),
            "a went quiet and never confirmed"
        );
        assert!(
            !gaps.stopped_unconfirmed(start + Duration::from_secs(9), grace),
            "once"
        );
    }

    #[test]
    fn a_stream_first_heard_after_its_start_may_have_lost_messages() {
        let mut gaps = StreamGaps::default();
        let now = Instant::now();
        assert!(!gaps.follows("late", 40, now));
        assert!(gaps.follows("late", 41, now));
    }

    #[test]
    fn the_streams_followed_are_bounded() {
        let mut gaps = StreamGaps::default();
        let now = Instant::now();
        for i in 0..MAX_ORIGINS + 10 {
            assert!(gaps.follows(&format!("i{i}"), 1, now));
        }
        assert_eq!(gaps.streams.len(), MAX_ORIGINS);
        assert_eq!(gaps.order.len(), MAX_ORIGINS);
        assert!(!gaps.follows("i0", 2, now), "forgotten, so heard anew");
    }

    proptest::proptest! {
        /// Any pattern of lost messages, interleaved across instances, is found: for every
        /// instance that lost one, a later message or its closing heartbeat says so; with nothing
        /// lost, nothing is reported.
        #[test]
        fn every_lost_message_is_noticed(
            streams in proptest::collection::vec(
                proptest::collection::vec(proptest::bool::weighted(0.8), 1..40), 1..4),
            order in proptest::collection::vec(0usize..4, 0..200),
        ) {
            let mut gaps = StreamGaps::default();
        let now = Instant::now();
            let mut next = vec![0usize; streams.len()];
            let mut noticed = vec![false; streams.len()];
            let mut lost = vec![false; streams.len()];
            let mut deliver = |i: usize, gaps: &mut StreamGaps, next: &mut Vec<usize>| {
                let k = next[i];
                next[i] += 1;
                if streams[i][k] {
                    if !gaps.follows(&format!("o{i}"), k as u64 + 1, now) {
                        noticed[i] = true;
                        proptest::prop_assert!(lost[i], "a false alarm from o{}", i);
                    }
                } else {
                    lost[i] = true;
                }
                Ok(())
            };
            // Interleaved as `order` says, then whatever is left, in turn.
            for pick in order {
                let i = pick % streams.len();
                if next[i] < streams[i].len() {
                    deliver(i, &mut gaps, &mut next)?;
                }
            }
            for i in 0..streams.len() {
                while next[i] < streams[i].len() {
                    deliver(i, &mut gaps, &mut next)?;
                }
            }
            for (i, stream) in streams.iter().enumerate() {
                if !gaps.heard_up_to(&format!("o{i}"), stream.len() as u64) {
                    noticed[i] = true;
                }
                proptest::prop_assert_eq!(noticed[i], lost[i], "o{}", i);
            }
        }
    }
}
