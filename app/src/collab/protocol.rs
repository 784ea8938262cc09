//! The collaboration protocol, both directions, as one set of types: the server encodes
//! [`ServerMessage`] and reads [`ClientMessage`] with [`parse_client`] (which checks every field
//! before anything acts on it); the browser panel encodes [`ClientMessage`] and reads frames with
//! [`parse_server_frame`]. `docs/protocol.md` documents them. Only the panel's lazy chunk uses this
//! module in the browser, so the main WASM does not carry it.

use serde::{Deserialize, Serialize};

use crate::editing::Revision;

/// Message types a client may send.
pub const CLIENT_TYPES: [&str; 5] = ["presence", "typing", "sync", "update", "save"];

/// A message from a client.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Where the user is: the section key they look at or edit, or none.
    Presence { section: Option<String> },
    /// The user is typing in a section (ephemeral: only the latest per connection in a batch).
    Typing { section: String },
    /// The client's document state vector (base64): the server answers with what it misses.
    Sync { state_vector: String },
    /// A document update (base64 of the v1 encoding); `ref` comes back in the `ack`.
    Update {
        update: String,
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<u64>,
    },
    /// Save a named revision of the document.
    Save { name: String },
}

/// Why a message was refused, as the `error` frame's `code` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not a JSON object with a `type`.
    Malformed,
    /// A known type with a missing, extra or bad field.
    InvalidMessage,
    UnknownType,
    /// Over the configured size limit (under the hard one, which closes the connection).
    MessageTooLarge,
    BinaryUnsupported,
    /// Editing needs the editor role.
    Forbidden,
    RateLimited,
    /// The report or revision does not exist.
    NotFound,
    /// The report is final.
    ReadOnly,
    UndecodableUpdate,
    /// The store failed: the edit was not kept.
    NotSaved,
    /// The update would make the report's document larger than the server keeps; it was not kept.
    DocumentTooLarge,
    /// A code this client does not know (a newer server).
    #[serde(other)]
    Other,
}

impl ErrorCode {
    /// Refusals after which the client's pending edits will never be acknowledged.
    pub fn drops_pending_edits(self) -> bool {
        matches!(
            self,
            ErrorCode::NotSaved
                | ErrorCode::ReadOnly
                | ErrorCode::Forbidden
                | ErrorCode::DocumentTooLarge
                | ErrorCode::MessageTooLarge
        )
    }

    /// Refusals of an edit the server will never take (too large): the client's copy, which
    /// already holds it, has to start again from the server's.
    pub fn discards_local_edits(self) -> bool {
        matches!(
            self,
            ErrorCode::DocumentTooLarge | ErrorCode::MessageTooLarge
        )
    }
}

/// Why a client message was refused; sent back as an `error` frame, and the message is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

impl From<Refusal> for ServerMessage {
    fn from(r: Refusal) -> ServerMessage {
        ServerMessage::Error {
            code: r.code,
            message: r.message,
        }
    }
}

/// A connection as the others see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberInfo {
    /// Unique across instances: `<instance>:<number>`.
    pub connection: String,
    pub user: String,
    pub name: String,
    /// Index 0–7 into the page's palette, the same for a user everywhere.
    pub color: u8,
    pub section: Option<String>,
}

/// The batching a client can expect, as the welcome announces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchingInfo {
    pub enabled: bool,
    pub max_size: usize,
    pub max_wait_ms: u64,
}

/// A message from the server. Encoded tagged by `type`; read through a flat record of its fields
/// (`read::Wire`), which keeps the browser's decoder small.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "read::Wire")]
pub enum ServerMessage {
    /// First frame of every connection: who you are and who is here (on this instance; members on
    /// other instances answer the `joined` with their presence).
    Welcome {
        session: String,
        you: MemberInfo,
        members: Vec<MemberInfo>,
        batching: BatchingInfo,
        max_message_bytes: usize,
        /// Whether this connection may send `update` and `save` (editors and admins; a final
        /// report refuses edits all the same).
        can_edit: bool,
    },
    Joined {
        member: MemberInfo,
    },
    Left {
        connection: String,
        user: String,
    },
    Presence {
        member: MemberInfo,
    },
    Typing {
        connection: String,
        user: String,
        name: String,
        section: String,
    },
    /// The answer to a `sync`, to that connection only: what it missed, and the server's state
    /// vector (send back what the server misses as an `update`).
    Sync {
        update: String,
        state_vector: String,
    },
    /// A stored document update, to everyone in the session (its author included).
    Update {
        connection: String,
        user: String,
        update: String,
    },
    /// To the author of an update, once it is stored.
    Ack {
        #[serde(rename = "ref")]
        reference: Option<u64>,
    },
    /// A revision was saved (or restored, with `restored`).
    Saved {
        revision: Revision,
        by: String,
        restored: bool,
    },
    /// Sent to the connection whose message was refused; the message is dropped.
    Error {
        code: ErrorCode,
        message: String,
    },
    /// Messages may have been missed (the instance lost Redis for a while, or a relayed message
    /// went missing): clients send their presence again and sync.
    Resync {},
    /// To one connection whose rights changed (its role): whether it may now send `update` and
    /// `save`.
    Access {
        can_edit: bool,
    },
    /// The report was published: a frozen snapshot from now on, so nobody may edit it. `by` is who
    /// published it.
    Published {
        by: String,
    },
}

/// The `type` of a batch frame: `{"type":"batch","messages":[...],"count":N,"timestamp":"…"}`.
/// The server builds it from the messages' JSON (each encoded once for every connection).
pub const BATCH_TYPE: &str = "batch";

/// A WebSocket close code with its reason, as the server sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseCode {
    pub code: u16,
    pub reason: &'static str,
}

impl CloseCode {
    pub const GOING_AWAY: CloseCode = CloseCode {
        code: 1001,
        reason: "the server is shutting down",
    };
    /// The generic policy refusal (an upgrade refused before the session).
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: CloseCode = CloseCode {
        code: 1009,
        reason: "message over the hard size limit",
    };
    pub const SESSION_FULL: CloseCode = CloseCode {
        code: 1013,
        reason: "this report's collaboration session is full; try again later",
    };
    pub const USER_SHARE_FULL: CloseCode = CloseCode {
        code: 1013,
        reason: "you have as many connections to this report as one person may; close one first",
    };
    pub const INSTANCE_FULL: CloseCode = CloseCode {
        code: 1013,
        reason: "this server has no room for another connection; try again later",
    };
    pub const IDLE: CloseCode = CloseCode {
        code: 4001,
        reason: "closed after a long time without activity",
    };
    pub const SLOW_CONSUMER: CloseCode = CloseCode {
        code: 4008,
        reason: "messages were not read fast enough",
    };
    /// The credential ended (signed out, expired, deactivated, revoked): the reason says which.
    pub const ENDED: u16 = 4401;
    /// The caller no longer reaches the report's project.
    pub const NO_ACCESS: u16 = 4403;

    /// Whether a client closed with `code` should stay closed: retrying would only be refused the
    /// same way (a message too big, a policy refusal, rights that ended).
    pub fn is_final(code: u16) -> bool {
        matches!(
            code,
            CloseCode::POLICY | 1009 | CloseCode::ENDED | CloseCode::NO_ACCESS
        )
    }

    /// What a client closed with `code` does next.
    pub fn then(code: u16) -> AfterClose {
        if CloseCode::is_final(code) {
            AfterClose::StayClosed
        } else if code == CloseCode::IDLE.code {
            AfterClose::WaitForActivity
        } else {
            AfterClose::Retry
        }
    }
}

/// What a client does once its connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterClose {
    /// Open it again, after a backoff.
    Retry,
    /// The server let an idle connection go: open it again only when the reader is back (a key, a
    /// click, a scroll, the tab shown again), or a tab left open would never be let go.
    WaitForActivity,
    /// Retrying would be refused the same way.
    StayClosed,
}

/// The palette index of a user: the same on every instance and every visit.
pub fn color_of(user: &str) -> u8 {
    let hash = user.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    (hash % 8) as u8
}

mod read;

pub use read::{parse_client, parse_server_frame};
