//! The reader half of a connection: what the client sends, checked by the protocol and acted on;
//! the answers go back through [`Replies`], and the next message is read only once they are written.

use app::collab::protocol::{
    parse_client, ClientMessage, CloseCode, ErrorCode, MemberInfo, Refusal, ServerMessage,
};
use axum::extract::ws::Message;
use futures_util::{Stream, StreamExt};
use tokio::time::Instant;

use super::replies::Replies;
use super::{close_frame, text, ReadError};
use crate::collab::docs::{DocError, Documents};
use crate::collab::optimizer::WebSocketOptimizer;
use crate::collab::rights::Rights;

/// One connection's side of the session.
pub struct Peer<'a> {
    pub optimizer: &'a WebSocketOptimizer,
    pub documents: &'a Documents,
    pub report_id: i64,
    pub session: &'a str,
    /// What the connection may do now (kept current by its watch).
    pub rights: &'a Rights,
    pub me: &'a mut MemberInfo,
    pub budgets: Budgets,
}

/// Syncs a connection may ask for at once: a client syncs when it connects, reconnects and is told to
/// resync, so a few in a row are normal.
pub const SYNC_BURST: u32 = 5;
/// After the burst, one more sync per this long. Each sync reads the store and encodes what the
/// client misses, possibly the whole document: a client asking in a loop would cost that each time.
pub const SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Named revisions a connection may save at once, then one per [`SAVE_EVERY`]: each stores a copy
/// of the whole document.
pub const SAVE_BURST: u32 = 10;
pub const SAVE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Presence and typing messages a connection may send at once, each kind, then one per
/// [`EPHEMERAL_EVERY`]: each goes to every member of the session, and through Redis to every
/// instance. A presence past the budget is held (the newest replaces the one held) and sent when the
/// budget allows, so where someone is ends right; a typing signal past it is dropped (clients repeat
/// it while typing).
pub const EPHEMERAL_BURST: u32 = 20;
pub const EPHEMERAL_EVERY: std::time::Duration = std::time::Duration::from_millis(40);

/// A connection's budget of one kind of request (a token bucket): `burst` at once, then one more
/// per `every`.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    burst: u32,
    every: std::time::Duration,
    left: u32,
    refilled: Instant,
}

impl Budget {
    pub fn new(burst: u32, every: std::time::Duration, now: Instant) -> Budget {
        Budget {
            burst,
            every,
            left: burst,
            refilled: now,
        }
    }

    /// The budget of syncs ([`SYNC_BURST`], [`SYNC_EVERY`]).
    pub fn syncs(now: Instant) -> Budget {
        Budget::new(SYNC_BURST, SYNC_EVERY, now)
    }

    /// The budget of saves ([`SAVE_BURST`], [`SAVE_EVERY`]).
    pub fn saves(now: Instant) -> Budget {
        Budget::new(SAVE_BURST, SAVE_EVERY, now)
    }

    /// The budget of presence or typing messages ([`EPHEMERAL_BURST`], [`EPHEMERAL_EVERY`]).
    pub fn ephemeral(now: Instant) -> Budget {
        Budget::new(EPHEMERAL_BURST, EPHEMERAL_EVERY, now)
    }

    fn refill(&mut self, now: Instant) {
        let earned = now.duration_since(self.refilled).as_millis() / self.every.as_millis().max(1);
        if earned > 0 {
            let earned = u32::try_from(earned).unwrap_or(u32::MAX);
            self.left = self.left.saturating_add(earned).min(self.burst);
            self.refilled += self.every * earned.min(self.burst);
            if self.left == self.burst {
                self.refilled = now;
            }
        }
    }

    /// Takes one from the budget; false when there is none left.
    pub fn take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        true
    }

    /// When the next one will be there (now if there is one left).
    pub fn next_at(&mut self, now: Instant) -> Instant {
        self.refill(now);
        if self.left > 0 {
            now
        } else {
            self.refilled + self.every
        }
    }
}

/// A connection's budgets, and the presence held back by its budget.
#[derive(Debug)]
pub struct Budgets {
    pub syncs: Budget,
    pub saves: Budget,
    pub presence: Budget,
    pub typing: Budget,
    /// The newest presence past the budget (its section), sent when the budget allows.
    pub held_presence: Option<Option<String>>,
}

impl Budgets {
    pub fn new(now: Instant) -> Budgets {
        Budgets {
            syncs: Budget::syncs(now),
            saves: Budget::saves(now),
            presence: Budget::ephemeral(now),
            typing: Budget::ephemeral(now),
            held_presence: None,
        }
    }
}

pub async fn read<R, E>(
    stream: &mut R,
    replies: &Replies,
    last_heard: &std::sync::Mutex<Instant>,
    peer: &mut Peer<'_>,
    id: u64,
) where
    R: Stream<Item = Result<Message, E>> + Unpin,
    E: ReadError,
{
    let (optimizer, session) = (peer.optimizer, peer.session);
    let config = *optimizer.config();
    loop {
        // A presence held back by the budget goes out when the budget allows, unless the client
        // sends something first.
        let inbound = match peer.budgets.held_presence.is_some() {
            false => stream.next().await,
            true => {
                let at = peer.budgets.presence.next_at(Instant::now());
                tokio::select! {
                    inbound = stream.next() => inbound,
                    () = tokio::time::sleep_until(at) => {
                        if let Some(section) = peer.budgets.held_presence.take() {
                            if peer.budgets.presence.take(Instant::now()) {
                                announce(peer, id, section);
                            } else {
                                peer.budgets.held_presence = Some(section);
                            }
                        }
                        continue;
                    }
                }
            }
        };
        let Some(inbound) = inbound else { return };
        let message = match inbound {
            Ok(message) => message,
            Err(e) => {
                if e.is_too_big() {
                    replies.push(close_frame(CloseCode::TOO_BIG));
                    // The writer sends it and ends the connection.
                    std::future::pending::<()>().await;
                }
                return;
            }
        };
        *last_heard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Instant::now();
        let answer = match message {
            Message::Text(text) => {
                optimizer.touch(session, id, text.len());
                peer.rights.touch();
                match parse_client(text.as_str(), config.max_message_bytes) {
                    Ok(message) => act(peer, id, message).await,
                    Err(refusal) => Some(refusal.into()),
                }
            }
            Message::Binary(bytes) => {
                optimizer.touch(session, id, bytes.len());
                Some(
                    Refusal::new(
                        ErrorCode::BinaryUnsupported,
                        "messages are JSON text frames",
                    )
                    .into(),
                )
            }
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => None,
        };
        if let Some(frame) = answer.as_ref().and_then(text) {
            replies.push(frame);
        }
        // The next message waits until the answers to this one are written: a client that does not
        // read what it asked for is not read either, and goes when its answers cannot be written.
        let stall = config.ping_interval * 2;
        if tokio::time::timeout(stall, replies.drained())
            .await
            .is_err()
        {
            optimizer.close_slow_consumer(session, id);
            std::future::pending::<()>().await;
        }
    }
}

/// Tells the session where this connection is now.
fn announce(peer: &mut Peer<'_>, id: u64, section: Option<String>) {
    peer.me.section = section;
    peer.optimizer.set_metadata(
        peer.session,
        id,
        serde_json::to_value(&*peer.me).unwrap_or_default(),
    );
    let member = peer.me.clone();
    peer.optimizer
        .queue_message(peer.session, &ServerMessage::Presence { member }, false);
}

fn refused(e: DocError) -> Option<ServerMessage> {
    if let DocError::Store(cause) = &e {
        tracing::warn!(error = %cause, "an editing request failed in the store");
    }
    Some(Refusal::new(e.code(), e.to_string()).into())
}

fn forbidden() -> Option<ServerMessage> {
    Some(Refusal::new(ErrorCode::Forbidden, "editing needs the editor role").into())
}

/// What a checked client message does; answers what goes back to this connection alone. The store
/// work (sync, apply, save) is boxed: inline, its futures would make every connection's task as big
/// as the largest of them for its whole life, idle or not.
async fn act(peer: &mut Peer<'_>, id: u64, message: ClientMessage) -> Option<ServerMessage> {
    let (optimizer, session) = (peer.optimizer, peer.session);
    match message {
        ClientMessage::Presence { section } => {
            if peer.budgets.presence.take(Instant::now()) {
                peer.budgets.held_presence = None;
                announce(peer, id, section);
            } else {
                peer.budgets.held_presence = Some(section);
            }
            None
        }
        ClientMessage::Typing { .. } if !peer.budgets.typing.take(Instant::now()) => None,
        ClientMessage::Typing { section } => {
            let key = format!("typing:{}", peer.me.connection);
            let typing = ServerMessage::Typing {
                connection: peer.me.connection.clone(),
                user: peer.me.user.clone(),
                name: peer.me.name.clone(),
                section,
            };
            optimizer.queue_conflatable(session, &key, &typing);
            None
        }
        ClientMessage::Sync { state_vector } => {
            if !peer.budgets.syncs.take(Instant::now()) {
                let why = format!(
                    "too many sync requests: at most {SYNC_BURST} at once, then one every {} s",
                    SYNC_EVERY.as_secs()
                );
                return Some(Refusal::new(ErrorCode::RateLimited, why).into());
            }
            match Box::pin(peer.documents.sync(peer.report_id, &state_vector)).await {
                Ok((update, state_vector)) => Some(ServerMessage::Sync {
                    update,
                    state_vector,
                }),
                Err(e) => refused(e),
            }
        }
        ClientMessage::Update { update, reference } => {
            if !peer.rights.may_edit() {
                return forbidden();
            }
            match Box::pin(peer.documents.apply(peer.report_id, &update, &peer.me.user)).await {
                Ok(_seq) => {
                    let stored = ServerMessage::Update {
                        connection: peer.me.connection.clone(),
                        user: peer.me.user.clone(),
                        update,
                    };
                    optimizer.queue_message(session, &stored, false);
                    Some(ServerMessage::Ack { reference })
                }
                Err(e) => refused(e),
            }
        }
        ClientMessage::Save { name } => {
            if !peer.rights.may_edit() {
                return forbidden();
            }
            if !peer.budgets.saves.take(Instant::now()) {
                let why = format!(
                    "too many saves: at most {SAVE_BURST} at once, then one every {} s",
                    SAVE_EVERY.as_secs()
                );
                return Some(Refusal::new(ErrorCode::RateLimited, why).into());
            }
            match Box::pin(peer.documents.save(peer.report_id, &name, &peer.me.user)).await {
                Ok(revision) => {
                    let saved = ServerMessage::Saved {
                        revision,
                        by: peer.me.name.clone(),
                        restored: false,
                    };
                    optimizer.queue_message(session, &saved, true);
                    None
                }
                Err(e) => refused(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_presence_have_budgets_of_their_own() {
        let start = Instant::now();
        let mut saves = Budget::saves(start);
        for _ in 0..SAVE_BURST {
            assert!(saves.take(start));
        }
        assert!(!saves.take(start));
        assert!(saves.take(start + SAVE_EVERY));
        let mut presence = Budget::ephemeral(start);
        for _ in 0..EPHEMERAL_BURST {
            assert!(presence.take(start));
        }
        assert!(!presence.take(start));
        // When the next one is there: a period after the last refill, or now with one left.
        assert_eq!(presence.next_at(start), start + EPHEMERAL_EVERY);
        assert_eq!(
            presence.next_at(start + EPHEMERAL_EVERY),
            start + EPHEMERAL_EVERY
        );
        assert!(presence.take(start + EPHEMERAL_EVERY));
        assert!(!presence.take(start + EPHEMERAL_EVERY));
    }

    #[test]
    fn syncs_come_in_a_burst_then_one_per_period() {
        let start = Instant::now();
        let mut budget = Budget::syncs(start);
        for _ in 0..SYNC_BURST {
            assert!(budget.take(start));
        }
        assert!(!budget.take(start), "the burst is spent");
        assert!(!budget.take(start + SYNC_EVERY / 2));
        assert!(budget.take(start + SYNC_EVERY), "one more after a period");
        assert!(!budget.take(start + SYNC_EVERY));
        let later = start + SYNC_EVERY * 100;
        for _ in 0..SYNC_BURST {
            assert!(
                budget.take(later),
                "a long pause refills the burst, no more"
            );
        }
        assert!(!budget.take(later));
    }
}
