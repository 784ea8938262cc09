//! Frames for this connection alone (the answers to what it sent, and a change of its rights), from
//! the reader and the rights watch to the writer.

use axum::extract::ws::Message;

/// Frames for this connection alone (answers to what it sent), from the reader half to the writer
/// half of the same task. Unlike a channel, it allocates nothing until there is something to send
/// (an idle connection's memory is what 10,000 of them cost). It stays small by construction: the
/// reader reads the client's next message only once the replies to the last one are written
/// ([`Replies::drained`]), so a client that does not read its answers stops being read, and is closed
/// as a slow consumer when an answer cannot be written for two ping intervals.
#[derive(Default)]
pub struct Replies {
    queue: std::sync::Mutex<std::collections::VecDeque<Message>>,
    pub ready: tokio::sync::Notify,
    written: tokio::sync::Notify,
}

impl Replies {
    /// Queues a frame for the writer.
    pub fn push(&self, message: Message) {
        self.lock().push_back(message);
        self.ready.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<Message>> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn take(&self) -> Option<Message> {
        let mut queue = self.lock();
        let next = queue.pop_front();
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
