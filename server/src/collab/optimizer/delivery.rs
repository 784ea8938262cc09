//! Delivery: each session's task (its queue in, bounded; the batching policy; frames out) and each
//! connection's outbound queue, bounded in bytes.
//!
//! A frame is encoded once and shared by every connection of the session. A connection whose queue
//! would go past `WS_OUTBOUND_QUEUE_KB` is closed with [`CloseCode::SLOW_CONSUMER`] instead of
//! holding more memory. A session's own queue holds at most [`SESSION_QUEUE`] messages: its task
//! does no I/O, so it only fills if the instance is starved; a message that does not fit is
//! dropped, counted, and the session's clients are told to `resync` (which catches them up from the
//! store) once there is room again.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::SystemTime;

use app::collab::protocol::{CloseCode, ServerMessage};
use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, watch, Notify};
use tokio::time::Instant;

use super::batching::{envelope, BatchPolicy, Batcher, Queued};
use super::stats::{count, frame_header};
use super::Inner;

/// Messages waiting in one session's queue before new ones are dropped (and the session resyncs).
pub const SESSION_QUEUE: usize = 4096;

/// A frame on its way to one connection.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub frame: Utf8Bytes,
    /// When the oldest message in the frame was queued (for `websocket_message_latency`).
    pub queued_at: Instant,
    /// A message sent with `force_send`, alone: its latency is recorded as `delivery=forced`, the
    /// others' as `delivery=queued`.
    pub forced: bool,
}

/// One connection's outbound frames, bounded in bytes. It allocates nothing while empty (an idle
/// connection's memory is what 10,000 of them cost). Bytes count from queueing until the frame is
/// written, so a write stuck on a client that does not read still counts.
pub struct Outbox {
    frames: Mutex<VecDeque<Outgoing>>,
    bytes: AtomicUsize,
    ready: Notify,
    /// The close the server asks for (the first one asked wins).
    pub close: watch::Sender<Option<CloseCode>>,
}

impl Outbox {
    pub fn new() -> Outbox {
        Outbox {
            frames: Mutex::new(VecDeque::new()),
            bytes: AtomicUsize::new(0),
            ready: Notify::new(),
            close: watch::Sender::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Outgoing>> {
        self.frames
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues a frame unless it would take the queue past `cap` bytes; answers the bytes it would
    /// have held when refused.
    pub fn push(&self, out: Outgoing, cap: usize) -> Result<(), usize> {
        let len = out.frame.len();
        let queued = self.bytes.fetch_add(len, Ordering::AcqRel) + len;
        if queued > cap {
            self.bytes.fetch_sub(len, Ordering::Relaxed);
            return Err(queued);
        }
        self.lock().push_back(out);
        self.ready.notify_one();
        Ok(())
    }

    /// Asks the connection to close with `code`; false if a close was already asked for.
    pub fn ask_close(&self, code: CloseCode) -> bool {
        let first = self.close.send_if_modified(|c| {
            let first = c.is_none();
            if first {
                *c = Some(code);
            }
            first
        });
        if first {
            self.wake();
        }
        first
    }

    /// Asks the connection to close with `code`, whatever was asked before (a shutdown).
    pub fn close_now(&self, code: CloseCode) {
        self.close.send_replace(Some(code));
        self.wake();
    }

    /// Wakes the connection's writer: it looks at the close, its replies and its frames.
    pub fn wake(&self) {
        self.ready.notify_one();
    }

    fn pop(&self) -> Option<Outgoing> {
        let mut frames = self.lock();
        let next = frames.pop_front();
        if frames.is_empty() && frames.capacity() > 16 {
            frames.shrink_to_fit();
        }
        next
    }

    /// Waits for a wake (a frame queued, a close asked for, [`wake`](Self::wake)); one that came
    /// while nobody waited returns at once.
    pub async fn ready(&self) {
        self.ready.notified().await;
    }

    /// The next frame if one waits.
    pub fn try_next(&self) -> Option<Outgoing> {
        // Nothing queued or being written: no frame, and no lock taken (the writer asks after every
        // frame). A frame queued after this look wakes the writer.
        if self.bytes.load(Ordering::Acquire) == 0 {
            return None;
        }
        self.pop()
    }

    /// A frame was written (or given up): its bytes leave the queue.
    pub fn written(&self, out: &Outgoing) {
        self.bytes.fetch_sub(out.frame.len(), Ordering::Relaxed);
    }

    /// Bytes queued and not yet written.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// The way into a session's task.
pub struct SessionQueue {
    tx: mpsc::Sender<Queued>,
    /// A message was dropped for lack of room: the task resyncs the session.
    overflowed: Arc<AtomicBool>,
}

impl SessionQueue {
    /// Queues a message; false when the queue is full (the message is dropped, and the session
    /// will resync).
    pub fn send(&self, m: Queued) -> bool {
        match self.tx.try_send(m) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.overflowed.store(true, Ordering::Relaxed);
                false
            }
            // The session's task has ended with its session.
            Err(mpsc::error::TrySendError::Closed(_)) => true,
        }
    }
}

/// Starts a session's task; answers its queue. The task ends when the queue is dropped (the session
/// ended) or the optimizer is gone.
pub fn start_session(inner: Weak<Inner>, session: Arc<str>, policy: BatchPolicy) -> SessionQueue {
    let (tx, rx) = mpsc::channel(SESSION_QUEUE);
    let overflowed = Arc::new(AtomicBool::new(false));
    tokio::spawn(session_task(inner, session, rx, policy, overflowed.clone()));
    SessionQueue { tx, overflowed }
}

/// One session's task: messages in, the batching policy, frames out to every connection.
async fn session_task(
    inner: Weak<Inner>,
    session: Arc<str>,
    mut rx: mpsc::Receiver<Queued>,
    policy: BatchPolicy,
    overflowed: Arc<AtomicBool>,
) {
    let mut batcher = Batcher::new(policy);
    let send = |batch: &[Queued]| {
        if let Some(inner) = inner.upgrade() {
            deliver(&inner, &session, batch);
        }
    };
    loop {
        let next = match batcher.due() {
            Some(due) => tokio::select! {
                biased;
                next = rx.recv() => next,
                () = tokio::time::sleep_until(due) => {
                    batcher.tick(Instant::now(), send);
                    continue;
                }
            },
            None => rx.recv().await,
        };
        let Some(m) = next else {
            batcher.finish(send);
            return;
        };
        if batcher.offer(m, Instant::now(), send) {
            if let Some(inner) = inner.upgrade() {
                count(&inner.counters.conflated, 1);
            }
        }
        // Once the backlog is through: the resync comes after everything that was kept.
        if rx.is_empty() && overflowed.swap(false, Ordering::Relaxed) {
            resync_after_overflow(&inner, &session, &mut batcher);
        }
    }
}

/// After messages were dropped for lack of room: what waits goes out, then a forced `resync`.
fn resync_after_overflow(inner: &Weak<Inner>, session: &str, batcher: &mut Batcher) {
    let Some(inner) = inner.upgrade() else { return };
    count(&inner.counters.queue_overflows, 1);
    tracing::warn!(
        session,
        "a collaboration session's queue overflowed; its clients resync"
    );
    let Ok(json) = serde_json::to_string(&ServerMessage::Resync {}) else {
        return;
    };
    let resync = Queued {
        json: json.into(),
        force: true,
        conflate: None,
        at: Instant::now(),
    };
    batcher.offer(resync, Instant::now(), |batch| {
        deliver(&inner, session, batch)
    });
}

/// Sends a batch as one frame to every connection of a session; closes those whose queue would
/// overflow.
fn deliver(inner: &Inner, session_id: &str, batch: &[Queued]) {
    let Some(first) = batch.first() else { return };
    let c = &inner.counters;
    let frame: Utf8Bytes = if batch.len() == 1 {
        Utf8Bytes::from(String::from(first.json.as_ref()))
    } else {
        count(&c.batches, 1);
        count(&c.batched_messages, batch.len() as u64);
        envelope(batch, SystemTime::now()).into()
    };
    let queued_at = batch.iter().map(|q| q.at).min().unwrap_or(first.at);
    let forced = batch.len() == 1 && first.force;
    let alone: u64 = batch
        .iter()
        .map(|q| q.json.len() as u64 + frame_header(q.json.len()))
        .sum();
    let sent = frame.len() as u64 + frame_header(frame.len());
    let cap = inner.config.outbound_queue_bytes;
    inner.registry.with_members(session_id, |n, members| {
        let n = n as u64;
        count(&c.frames_out, n);
        count(&c.messages_out, n * batch.len() as u64);
        count(&c.bytes_out, n * sent);
        count(&c.bytes_unbatched, n * alone);
        for (user, outbox) in members {
            let out = Outgoing {
                frame: frame.clone(),
                queued_at,
                forced,
            };
            if let Err(queued) = outbox.push(out, cap) {
                if outbox.ask_close(CloseCode::SLOW_CONSUMER) {
                    count(&c.slow_consumers, 1);
                    tracing::info!(
                        session = session_id,
                        user,
                        queued,
                        "closing a collaboration connection that does not read its messages"
                    );
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(len: usize) -> Outgoing {
        Outgoing {
            frame: "x".repeat(len).into(),
            queued_at: Instant::now(),
            forced: false,
        }
    }

    #[tokio::test]
    async fn an_outbox_holds_frames_in_order_up_to_its_bytes() {
        let outbox = Outbox::new();
        assert!(outbox.push(frame(400), 1000).is_ok());
        assert!(outbox.push(frame(500), 1000).is_ok());
        assert_eq!(outbox.push(frame(200), 1000), Err(1100), "past the cap");
        assert_eq!(outbox.bytes(), 900, "the refused frame holds nothing");
        outbox.ready().await;
        let first = outbox.try_next().expect("the first frame");
        assert_eq!(first.frame.len(), 400);
        assert_eq!(outbox.bytes(), 900, "bytes count until written");
        outbox.written(&first);
        assert!(outbox.push(frame(500), 1000).is_ok(), "room again");
        assert_eq!(outbox.try_next().map(|o| o.frame.len()), Some(500));
        assert_eq!(outbox.try_next().map(|o| o.frame.len()), Some(500));
        assert!(outbox.try_next().is_none());
    }

    #[tokio::test]
    async fn a_waiting_reader_wakes_on_a_frame_or_a_close() {
        let outbox = Arc::new(Outbox::new());
        let reader = tokio::spawn({
            let outbox = outbox.clone();
            async move {
                outbox.ready().await;
                outbox.try_next().map(|o| o.frame.len())
            }
        });
        tokio::task::yield_now().await;
        outbox.push(frame(7), 100).expect("room");
        assert_eq!(reader.await.expect("reader"), Some(7));

        let closing = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.ready().await }
        });
        tokio::task::yield_now().await;
        assert!(outbox.ask_close(CloseCode::IDLE));
        tokio::time::timeout(std::time::Duration::from_secs(10), closing)
            .await
            .expect("the close wakes the writer")
            .expect("reader");
    }

    #[tokio::test]
    async fn a_wake_while_nobody_waits_is_kept() {
        let outbox = Outbox::new();
        outbox.wake();
        outbox.wake();
        tokio::time::timeout(std::time::Duration::from_secs(10), outbox.ready())
            .await
            .expect("the wake was kept");
        assert!(
            futures_util::FutureExt::now_or_never(outbox.ready()).is_none(),
            "two wakes while nobody waited are one"
        );
    }

    #[test]
    fn the_first_close_asked_for_wins() {
        let outbox = Outbox::new();
        assert!(outbox.ask_close(CloseCode::IDLE));
        assert!(!outbox.ask_close(CloseCode::SLOW_CONSUMER));
        assert_eq!(*outbox.close.borrow(), Some(CloseCode::IDLE));
    }

    #[tokio::test]
    async fn a_full_session_queue_drops_and_flags() {
        let (tx, _rx) = mpsc::channel(1);
        let queue = SessionQueue {
            tx,
            overflowed: Arc::default(),
        };
        let m = Queued {
            json: "{}".into(),
            force: false,
            conflate: None,
            at: Instant::now(),
        };
        assert!(queue.send(m.clone()));
        assert!(!queue.overflowed.load(Ordering::Relaxed));
        assert!(!queue.send(m), "no room");
        assert!(queue.overflowed.load(Ordering::Relaxed));
    }
}
