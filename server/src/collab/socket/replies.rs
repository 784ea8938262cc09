//! Frames for this connection alone (the answers to what it sent, and a change of its rights), from
//! the reader and the rights watch to the writer.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::ws::Message;

use crate::collab::optimizer::Wake;

/// Frames for this connection alone (answers to what it sent), from the reader half to the writer
/// half of the same task. Unlike a channel, it allocates nothing until there is something to send
/// (an idle connection's memory is what 10,000 of them cost). It stays small by construction: the
/// reader reads the client's next message only once the replies to the last one are written
/// ([`Replies::drained`]), so a client that does not read its answers stops being read, and is closed
/// as a slow consumer when an answer cannot be written for two ping intervals.
pub struct Replies {
    queue: std::sync::Mutex<std::collections::VecDeque<Message>>,
    /// Frames in `queue`, so that the writer's look at an empty queue (after every frame) takes no
    /// lock.
    queued: AtomicUsize,
    /// The writer waits on one thing only, its connection's wake, for frames, replies and the close.
    wake: Wake,
    written: tokio::sync::Notify,
}

impl Replies {
    pub fn new(wake: Wake) -> Replies {
        Replies {
            queue: Default::default(),
            queued: AtomicUsize::new(0),
            wake,
            written: tokio::sync::Notify::new(),
        }
    }

    /// Queues a frame for the writer.
    pub fn push(&self, message: Message) {
        self.lock().push_back(message);
        self.queued.fetch_add(1, Ordering::Release);
        self.wake.wake();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<Message>> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn take(&self) -> Option<Message> {
        if self.queued.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut queue = self.lock();
        let next = queue.pop_front();
        if next.is_some() {
            self.queued.fetch_sub(1, Ordering::Release);
        }
        if queue.is_empty() && queue.capacity() > 8 {
            queue.shrink_to_fit();
        }
        next
    }

    /// The writer wrote what it took.
    pub fn wrote(&self) {
        self.written.notify_waiters();
    }

    /// Waits until every queued reply is written.
    pub async fn drained(&self) {
        loop {
            let written = self.written.notified();
            if self.lock().is_empty() {
                return;
            }
            written.await;
        }
    }
}
