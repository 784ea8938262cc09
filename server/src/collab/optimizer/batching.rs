//! The batching policy, as a plain value with no I/O and no clock of its own: the session's task
//! ([`super::delivery::session_task`]) offers it each message with the time, asks it when the
//! waiting batch is due, and sends what it hands back.
//!
//! The first message of a batch opens a `max_wait` window; the batch goes out when the window ends,
//! when it holds `max_size` messages, or before a message would take it past `max_bytes` (a frame
//! has to fit a connection's outbound queue, whatever the size setting). A forced (urgent) message first sends the batch waiting ahead
//! of it, then goes out alone, so nothing overtakes what was queued before it. An ephemeral message
//! with a conflation key replaces the waiting one with the same key, in its place (a typing
//! indicator: only the latest per user is worth sending). With batching off (or a size of 1) every
//! message goes out alone, at once.
//!
//! A batch of several messages is one frame, [`envelope`]; a batch of one is the message itself,
//! since the envelope would only add bytes.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

/// One message in a session's queue: its JSON, encoded once for every connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub json: Box<str>,
    /// Sent at once (after what waits ahead of it), alone.
    pub force: bool,
    /// Ephemeral: a newer message with the same key replaces it while both wait.
    pub conflate: Option<Box<str>>,
    /// When it was queued (its latency counts from here).
    pub at: Instant,
}

/// The settings of batching (`WS_ENABLE_BATCHING`, `WS_BATCH_MAX_SIZE`, `WS_BATCH_MAX_WAIT_MS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchPolicy {
    pub enabled: bool,
    pub max_size: usize,
    pub max_wait: Duration,
    /// Most bytes of messages in one batch (a message larger than this goes out in a batch of
    /// its own).
    pub max_bytes: usize,
}

/// A session's waiting batch.
#[derive(Debug)]
pub struct Batcher {
    policy: BatchPolicy,
    pending: Vec<Queued>,
    /// Bytes of the waiting messages.
    pending_bytes: usize,
    /// When the waiting batch is due (set by its first message).
    due: Option<Instant>,
}

impl Batcher {
    pub fn new(policy: BatchPolicy) -> Batcher {
        Batcher {
            policy,
            pending: Vec::new(),
            pending_bytes: 0,
            due: None,
        }
    }

    fn alone(&self, m: &Queued) -> bool {
        !self.policy.enabled || self.policy.max_size <= 1 || m.force
    }

    /// Takes a message at `now`. `send` receives the frames to send now, in order (none, one or
    /// two: a waiting batch, then a forced message). Answers whether the message replaced a waiting
    /// one (conflation).
    pub fn offer(&mut self, m: Queued, now: Instant, mut send: impl FnMut(&[Queued])) -> bool {
        if self.alone(&m) {
            self.flush(&mut send);
            send(std::slice::from_ref(&m));
            return false;
        }
        if let Some(key) = &m.conflate {
            if let Some(slot) = self
                .pending
                .iter_mut()
                .find(|p| p.conflate.as_deref() == Some(key))
            {
                // The newer content takes the older one's place and age.
                self.pending_bytes = self.pending_bytes - slot.json.len() + m.json.len();
                slot.json = m.json;
                return true;
            }
        }
        if !self.pending.is_empty() && self.pending_bytes + m.json.len() > self.policy.max_bytes {
            self.flush(&mut send);
        }
        if self.pending.is_empty() {
            self.due = Some(now + self.policy.max_wait);
        }
        self.pending_bytes += m.json.len();
        self.pending.push(m);
        if self.pending.len() >= self.policy.max_size {
            self.flush(&mut send);
        }
        false
    }

    /// When the waiting batch is due, if one waits.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// Sends the waiting batch if its window has ended at `now`.
    pub fn tick(&mut self, now: Instant, mut send: impl FnMut(&[Queued])) {
        if self.due.is_some_and(|due| now >= due) {
            self.flush(&mut send);
        }
    }

    /// Sends whatever waits (the session is ending).
    pub fn finish(&mut self, mut send: impl FnMut(&[Queued])) {
        self.flush(&mut send);
    }

    fn flush(&mut self, send: &mut impl FnMut(&[Queued])) {
        if !self.pending.is_empty() {
            send(&self.pending);
            self.pending.clear();
        }
        self.pending_bytes = 0;
        self.due = None;
    }
}

/// `{"type":"batch","messages":[...],"count":N,"timestamp":"<RFC 3339>"}`, built from the messages'
/// JSON as they are.
pub fn envelope(batch: &[Queued], now: SystemTime) -> String {
    let body: usize = batch.iter().map(|q| q.json.len() + 1).sum();
    let mut out = String::with_capacity(body + 96);
    out.push_str(r#"{"type":""#);
    out.push_str(app::collab::protocol::BATCH_TYPE);
    out.push_str(r#"","messages":["#);
    for (i, q) in batch.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&q.json);
    }
    out.push_str(r#"],"count":"#);
    out.push_str(&batch.len().to_string());
    out.push_str(r#","timestamp":""#);
    out.push_str(&super::stats::rfc3339(now));
    out.push_str(r#""}"#);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: BatchPolicy = BatchPolicy {
        enabled: true,
        max_size: 10,
        max_wait: Duration::from_millis(50),
        max_bytes: 1 << 20,
    };

    fn msg(text: &str, at: Instant) -> Queued {
        Queued {
            json: text.into(),
            force: false,
            conflate: None,
            at,
        }
    }

    fn forced(text: &str, at: Instant) -> Queued {
        Queued {
            force: true,
            ..msg(text, at)
        }
    }

    fn typing(text: &str, key: &str, at: Instant) -> Queued {
        Queued {
            conflate: Some(key.into()),
            ..msg(text, at)
        }
    }

    /// Offers messages at `now`; answers the frames sent, as lists of their JSON.
    fn offer_all(b: &mut Batcher, ms: Vec<Queued>, now: Instant) -> Vec<Vec<String>> {
        let mut frames = Vec::new();
        for m in ms {
            b.offer(m, now, |batch| frames.push(texts(batch)));
        }
        frames
    }

    fn texts(batch: &[Queued]) -> Vec<String> {
        batch.iter().map(|q| q.json.to_string()).collect()
    }

    fn numbered(range: std::ops::Range<u32>, at: Instant) -> Vec<Queued> {
        range.map(|i| msg(&i.to_string(), at)).collect()
    }

    #[test]
    fn a_full_batch_goes_out_at_once_in_queue_order() {
        let now = Instant::now();
        let mut b = Batcher::new(POLICY);
        let frames = offer_all(&mut b, numbered(0..10, now), now);
        assert_eq!(
            frames,
            vec![(0..10).map(|i| i.to_string()).collect::<Vec<_>>()]
        );
        assert_eq!(b.due(), None, "nothing waits");
        let frames = offer_all(&mut b, numbered(10..11, now), now);
        assert!(frames.is_empty(), "the eleventh opens the next batch");
        assert_eq!(b.due(), Some(now + POLICY.max_wait));
    }

    #[test]
    fn a_partial_batch_goes_out_when_its_window_ends() {
        let start = Instant::now();
        let mut b = Batcher::new(POLICY);
        assert!(offer_all(&mut b, numbered(0..1, start), start).is_empty());
        let later = start + Duration::from_millis(30);
        assert!(offer_all(&mut b, numbered(1..3, later), later).is_empty());
        assert_eq!(
            b.due(),
            Some(start + POLICY.max_wait),
            "the window is the first message's"
        );
        let mut frames = Vec::new();
        b.tick(start + Duration::from_millis(49), |f| frames.push(texts(f)));
        assert!(frames.is_empty(), "not before the window ends");
        b.tick(start + POLICY.max_wait, |f| frames.push(texts(f)));
        assert_eq!(frames, vec![vec!["0", "1", "2"]]);
        assert_eq!(b.due(), None);
    }

    #[test]
    fn a_forced_message_goes_at_once_after_what_waits_ahead_of_it() {
        let now = Instant::now();
        let mut b = Batcher::new(POLICY);
        let frames = offer_all(
            &mut b,
            vec![
                msg("1", now),
                msg("2", now),
                forced("urgent", now),
                msg("3", now),
            ],
            now,
        );
        assert_eq!(frames, vec![vec!["1", "2"], vec!["urgent"]]);
        let mut rest = Vec::new();
        b.tick(now + POLICY.max_wait, |f| rest.push(texts(f)));
        assert_eq!(
            rest,
            vec![vec!["3"]],
            "the later one waits for its own batch"
        );
    }

    #[test]
    fn a_forced_message_alone_is_not_delayed() {
        let now = Instant::now();
        let mut b = Batcher::new(POLICY);
        let frames = offer_all(&mut b, vec![forced("urgent", now)], now);
        assert_eq!(frames, vec![vec!["urgent"]]);
    }

    #[test]
    fn typing_indicators_conflate_in_the_place_of_the_first() {
        let now = Instant::now();
        let mut b = Batcher::new(POLICY);
        let mut replaced = 0;
        let mut frames = Vec::new();
        let mut offer = |b: &mut Batcher, m| {
            if b.offer(m, now, |f| frames.push(texts(f))) {
                replaced += 1;
            }
        };
        offer(&mut b, msg("1", now));
        for i in 0..5 {
            offer(&mut b, typing(&format!("ana {i}"), "typing:ana", now));
        }
        offer(&mut b, typing("ben", "typing:ben", now));
        b.finish(|f| frames.push(texts(f)));
        assert_eq!(frames, vec![vec!["1", "ana 4", "ben"]]);
        assert_eq!(replaced, 4);
    }

    #[test]
    fn a_batch_goes_out_before_it_would_pass_its_bytes() {
        let now = Instant::now();
        let mut b = Batcher::new(BatchPolicy {
            max_bytes: 9,
            ..POLICY
        });
        // Four bytes each: two fit, the third would make twelve.
        let frames = offer_all(&mut b, numbered(1000..1003, now), now);
        assert_eq!(frames, vec![vec!["1000", "1001"]]);
        // A conflated replacement counts its own length, not the one it replaced.
        let mut b = Batcher::new(BatchPolicy {
            max_bytes: 9,
            ..POLICY
        });
        let frames = offer_all(
            &mut b,
            vec![typing("abcdefgh", "k", now), typing("ab", "k", now)],
            now,
        );
        assert!(frames.is_empty());
        let frames = offer_all(&mut b, numbered(1000..1002, now), now);
        assert_eq!(frames, vec![vec!["ab", "1000"]], "2 + 4 + 4 > 9");
        // Larger than a batch may be: it goes out alone, after what waited.
        let frames = offer_all(&mut b, vec![msg("a message of many bytes", now)], now);
        assert_eq!(frames, vec![vec!["1001"]]);
        b.tick(now + POLICY.max_wait, |batch| {
            assert_eq!(batch.len(), 1);
        });
    }

    #[test]
    fn conflated_messages_do_not_fill_a_batch() {
        let now = Instant::now();
        let mut b = Batcher::new(BatchPolicy {
            max_size: 2,
            ..POLICY
        });
        let frames = offer_all(
            &mut b,
            vec![
                typing("a", "k", now),
                typing("b", "k", now),
                typing("c", "k", now),
            ],
            now,
        );
        assert!(frames.is_empty(), "one message waits, replaced twice");
    }

    #[test]
    fn without_batching_every_message_goes_alone_at_once() {
        let now = Instant::now();
        for policy in [
            BatchPolicy {
                enabled: false,
                ..POLICY
            },
            BatchPolicy {
                max_size: 1,
                ..POLICY
            },
        ] {
            let mut b = Batcher::new(policy);
            let frames = offer_all(&mut b, numbered(0..3, now), now);
            assert_eq!(frames, vec![vec!["0"], vec!["1"], vec!["2"]], "{policy:?}");
            assert_eq!(b.due(), None);
        }
    }

    #[test]
    fn the_envelope_is_json_with_the_messages_as_they_are() {
        let now = Instant::now();
        let batch = vec![
            msg(r#"{"type":"a"}"#, now),
            msg(r#"{"type":"b","n":2}"#, now),
        ];
        let text = envelope(&batch, SystemTime::UNIX_EPOCH);
        let frame: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(
            frame,
            serde_json::json!({
                "type": "batch",
                "messages": [{"type": "a"}, {"type": "b", "n": 2}],
                "count": 2,
                "timestamp": "1970-01-01T00:00:00.000Z"
            })
        );
    }
}
