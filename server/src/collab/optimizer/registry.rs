//! Who is connected to which session on this instance: joins under the caps (per instance, per
//! session, per user in a session), leaves (the last one out ends the session), each connection's
//! metadata and activity, the idle sweep and the closes the server asks for.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use app::collab::protocol::CloseCode;
use tokio::time::Instant;

use super::delivery::{Outbox, SessionQueue};
use super::stats::{rfc3339, MemberStats, SessionStats};
use crate::collab::WsConfig;

struct Member {
    user_id: String,
    metadata: serde_json::Value,
    outbox: Arc<Outbox>,
    connected: SystemTime,
    last_activity: Instant,
}

struct Session {
    members: HashMap<u64, Member>,
    queue: SessionQueue,
    messages: u64,
    bytes: u64,
    last_activity: SystemTime,
}

/// A connection that has joined: its number, its session's key and its outbound queue.
pub struct Joined {
    pub id: u64,
    pub session: Arc<str>,
    pub outbox: Arc<Outbox>,
}

/// The sessions of this instance.
pub struct Registry {
    sessions: Mutex<HashMap<Arc<str>, Session>>,
    connections: AtomicUsize,
    next_id: AtomicU64,
}

impl Registry {
    pub fn new() -> Registry {
        Registry {
            sessions: Mutex::new(HashMap::new()),
            connections: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
        }
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<Arc<str>, Session>> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Connections on this instance.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Joins a connection to a session, creating the session (and its queue, with `start`) on its
    /// first connection. Refused with the close code of the cap it would pass.
    pub fn join(
        &self,
        caps: &WsConfig,
        session_id: &str,
        user_id: &str,
        metadata: serde_json::Value,
        start: impl FnOnce(Arc<str>) -> SessionQueue,
    ) -> Result<Joined, CloseCode> {
        let mut sessions = self.sessions();
        if self.connections() >= caps.max_connections {
            return Err(CloseCode::INSTANCE_FULL);
        }
        if let Some(session) = sessions.get(session_id) {
            if session.members.len() >= caps.max_per_session {
                return Err(CloseCode::SESSION_FULL);
            }
            let theirs = session
                .members
                .values()
                .filter(|m| m.user_id == user_id)
                .count();
            if theirs >= caps.max_per_user {
                return Err(CloseCode::USER_SHARE_FULL);
            }
        }
        let key: Arc<str> = match sessions.get_key_value(session_id) {
            Some((k, _)) => k.clone(),
            None => {
                let key: Arc<str> = session_id.into();
                let session = Session {
                    members: HashMap::new(),
                    queue: start(key.clone()),
                    messages: 0,
                    bytes: 0,
                    last_activity: SystemTime::now(),
                };
                sessions.insert(key.clone(), session);
                key
            }
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let outbox = Arc::new(Outbox::new());
        let member = Member {
            user_id: user_id.to_string(),
            metadata,
            outbox: outbox.clone(),
            connected: SystemTime::now(),
            last_activity: Instant::now(),
        };
        if let Some(session) = sessions.get_mut(&key) {
            session.members.insert(id, member);
        }
        self.connections.fetch_add(1, Ordering::Relaxed);
        Ok(Joined {
            id,
            session: key,
            outbox,
        })
    }

    /// Leaves a session; the last one out ends it (its task stops with its queue).
    pub fn leave(&self, session_id: &str, id: u64) {
        let mut sessions = self.sessions();
        let Some(session) = sessions.get_mut(session_id) else {
            return;
        };
        if session.members.remove(&id).is_some() {
            self.connections.fetch_sub(1, Ordering::Relaxed);
        }
        if session.members.is_empty() {
            sessions.remove(session_id);
        }
    }

    /// The metadata of every connection of a session, oldest connection first.
    pub fn metadata(&self, session_id: &str) -> Vec<serde_json::Value> {
        let sessions = self.sessions();
        let Some(session) = sessions.get(session_id) else {
            return Vec::new();
        };
        let mut members: Vec<(&u64, &Member)> = session.members.iter().collect();
        members.sort_by_key(|(id, _)| **id);
        members
            .into_iter()
            .map(|(_, m)| m.metadata.clone())
            .collect()
    }

    /// Replaces a connection's metadata.
    pub fn set_metadata(&self, session_id: &str, id: u64, metadata: serde_json::Value) {
        let mut sessions = self.sessions();
        if let Some(member) = sessions
            .get_mut(session_id)
            .and_then(|s| s.members.get_mut(&id))
        {
            member.metadata = metadata;
        }
    }

    /// Counts a message received from a connection as its activity.
    pub fn touch(&self, session_id: &str, id: u64, bytes: usize) {
        let mut sessions = self.sessions();
        if let Some(session) = sessions.get_mut(session_id) {
            session.messages += 1;
            session.bytes += bytes as u64;
            session.last_activity = SystemTime::now();
            if let Some(member) = session.members.get_mut(&id) {
                member.last_activity = Instant::now();
            }
        }
    }

    /// Runs `f` with a session's queue, if the session exists here.
    pub fn with_queue<T>(&self, session_id: &str, f: impl FnOnce(&SessionQueue) -> T) -> Option<T> {
        self.sessions().get(session_id).map(|s| f(&s.queue))
    }

    /// Runs `f` with every session's queue.
    pub fn each_queue(&self, mut f: impl FnMut(&SessionQueue)) {
        for session in self.sessions().values() {
            f(&session.queue);
        }
    }

    /// Runs `f` with the number of a session's connections and each one's user and outbox; nothing
    /// when the session is gone.
    pub fn with_members(
        &self,
        session_id: &str,
        f: impl FnOnce(usize, &mut dyn Iterator<Item = (&str, &Outbox)>),
    ) {
        let sessions = self.sessions();
        if let Some(session) = sessions.get(session_id) {
            let mut members = session
                .members
                .values()
                .map(|m| (m.user_id.as_str(), &*m.outbox));
            f(session.members.len(), &mut members);
        }
    }

    /// Asks every connection idle for `timeout` or longer to close; answers how many.
    pub fn close_idle(&self, timeout: std::time::Duration) -> usize {
        let sessions = self.sessions();
        sessions
            .values()
            .flat_map(|s| s.members.values())
            .filter(|m| m.last_activity.elapsed() >= timeout && m.outbox.ask_close(CloseCode::IDLE))
            .count()
    }

    /// Asks one connection to close with `code`; false if it is gone or already closing.
    pub fn close(&self, session_id: &str, id: u64, code: CloseCode) -> bool {
        let sessions = self.sessions();
        sessions
            .get(session_id)
            .and_then(|s| s.members.get(&id))
            .is_some_and(|m| m.outbox.ask_close(code))
    }

    /// Asks every connection to close with `code` (shutdown), whatever was asked before.
    pub fn close_all(&self, code: CloseCode) {
        let sessions = self.sessions();
        for member in sessions.values().flat_map(|s| s.members.values()) {
            member.outbox.close_now(code);
        }
    }

    /// Every session's figures, by session id.
    pub fn all_stats(&self) -> Vec<SessionStats> {
        let sessions = self.sessions();
        let mut all: Vec<SessionStats> = sessions
            .iter()
            .map(|(id, s)| session_stats(id, s))
            .collect();
        all.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        all
    }

    /// One session's figures, if anyone here is connected to it.
    pub fn stats(&self, session_id: &str) -> Option<SessionStats> {
        let sessions = self.sessions();
        sessions
            .get_key_value(session_id)
            .map(|(id, s)| session_stats(id, s))
    }
}

fn session_stats(id: &str, s: &Session) -> SessionStats {
    let mut users: Vec<String> = s.members.values().map(|m| m.user_id.clone()).collect();
    users.sort();
    users.dedup();
    let mut members: Vec<MemberStats> = s
        .members
        .iter()
        .map(|(id, m)| MemberStats {
            connection_id: *id,
            user_id: m.user_id.clone(),
            metadata: m.metadata.clone(),
            connected_at: rfc3339(m.connected),
            idle_seconds: m.last_activity.elapsed().as_secs(),
        })
        .collect();
    members.sort_by_key(|m| m.connection_id);
    SessionStats {
        session_id: id.to_string(),
        connections: s.members.len() as u64,
        users,
        messages: s.messages,
        bytes: s.bytes,
        last_activity: rfc3339(s.last_activity),
        members,
    }
}
