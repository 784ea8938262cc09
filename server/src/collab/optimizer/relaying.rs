//! The hub's side of the Redis relay (`collab::relay` is the other side): what it hands over for
//! the other instances, numbered, and what they sent, as it arrives.

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

/// Where messages for other instances go: the Redis relay's outbox. Bounded: while Redis is away
/// the relay drops what does not fit rather than holding it. Every message is numbered (per
/// instance, in the order it is queued, dropped ones included), so another instance that finds a
/// number missing knows it lost a message and has its clients resync from the store.
pub struct RelayOutbox {
    tx: mpsc::Sender<Relayed>,
    /// The last number given; its lock keeps numbers in the outbox's order. The publisher shares
    /// it, to say which number it has handled everything up to when it is idle.
    numbered: Arc<Mutex<u64>>,
}

impl RelayOutbox {
    pub fn new(tx: mpsc::Sender<Relayed>, numbered: Arc<Mutex<u64>>) -> RelayOutbox {
        RelayOutbox { tx, numbered }
    }

    /// Numbers and queues a message; false when the outbox is full (the message is dropped).
    pub fn send(&self, mut m: Relayed) -> bool {
        let mut last = self
            .numbered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *last += 1;
        m.number = *last;
        self.tx.try_send(m).is_ok()
    }
}

/// A message for the same session on the other instances.
#[derive(Debug, Clone)]
pub struct Relayed {
    pub session: Arc<str>,
    pub json: Box<str>,
    pub force: bool,
    pub conflate: Option<Box<str>>,
    /// Its number in its instance's stream (1, 2, 3…; 0: not numbered).
    pub number: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Relayed {
        Relayed {
            session: "report-1".into(),
            json: "{}".into(),
            force: false,
            conflate: None,
            number: 0,
        }
    }

    #[test]
    fn numbers_count_dropped_messages_too() {
        let (tx, mut rx) = mpsc::channel(1);
        let outbox = RelayOutbox::new(tx, Arc::default());
        assert!(outbox.send(message()));
        assert!(!outbox.send(message()), "full");
        assert_eq!(rx.try_recv().expect("first").number, 1);
        assert!(outbox.send(message()));
        assert_eq!(
            rx.try_recv().expect("third").number,
            3,
            "the dropped one kept its number: the gap shows"
        );
    }
}
