//! Reading frames: a client's message, checked field by field (the server's side), and a server's
//! frame, one message or a batch (the browser's side).

use serde::Deserialize;

use super::{
    BatchingInfo, ClientMessage, ErrorCode, MemberInfo, Refusal, ServerMessage, BATCH_TYPE,
    CLIENT_TYPES,
};
use crate::editing::Revision;

#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PresenceBody {
    #[serde(rename = "type")]
    _kind: String,
    #[serde(default)]
    section: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypingBody {
    #[serde(rename = "type")]
    _kind: String,
    section: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncBody {
    #[serde(rename = "type")]
    _kind: String,
    state_vector: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    #[serde(rename = "type")]
    _kind: String,
    update: String,
    #[serde(default, rename = "ref")]
    reference: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaveBody {
    #[serde(rename = "type")]
    _kind: String,
    name: String,
}

fn base64_field(name: &str, value: String) -> Result<String, Refusal> {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=');
    if ok {
        Ok(value)
    } else {
        Err(Refusal::new(
            ErrorCode::InvalidMessage,
            format!("{name} must be base64"),
        ))
    }
}

fn section_key(key: String) -> Result<String, Refusal> {
    crate::sections::check_section_key(&key)
        .map_err(|e| Refusal::new(ErrorCode::InvalidMessage, e))?;
    Ok(key)
}

/// Reads a text frame from a client, refusing (with a code and a reason) anything that is not one
/// of the messages with checked fields. `max_bytes` is the message size limit.
pub fn parse_client(text: &str, max_bytes: usize) -> Result<ClientMessage, Refusal> {
    if text.len() > max_bytes {
        return Err(Refusal::new(
            ErrorCode::MessageTooLarge,
            format!(
                "a message may be at most {max_bytes} bytes; this one has {}",
                text.len()
            ),
        ));
    }
    let probe: Probe = serde_json::from_str(text).map_err(|e| {
        Refusal::new(
            ErrorCode::Malformed,
            format!("a message is a JSON object with a \"type\": {e}"),
        )
    })?;
    let Some(kind) = probe.kind else {
        return Err(Refusal::new(
            ErrorCode::Malformed,
            "a message needs a \"type\" field",
        ));
    };
    let invalid =
        |e: serde_json::Error| Refusal::new(ErrorCode::InvalidMessage, format!("{kind}: {e}"));
    match kind.as_str() {
        "presence" => {
            let body: PresenceBody = serde_json::from_str(text).map_err(invalid)?;
            Ok(ClientMessage::Presence {
                section: body.section.map(section_key).transpose()?,
            })
        }
        "typing" => {
            let body: TypingBody = serde_json::from_str(text).map_err(invalid)?;
            Ok(ClientMessage::Typing {
                section: section_key(body.section)?,
            })
        }
        "sync" => {
            let body: SyncBody = serde_json::from_str(text).map_err(invalid)?;
            Ok(ClientMessage::Sync {
                state_vector: base64_field("state_vector", body.state_vector)?,
            })
        }
        "update" => {
            let body: UpdateBody = serde_json::from_str(text).map_err(invalid)?;
            Ok(ClientMessage::Update {
                update: base64_field("update", body.update)?,
                reference: body.reference,
            })
        }
        "save" => {
            let body: SaveBody = serde_json::from_str(text).map_err(invalid)?;
            Ok(ClientMessage::Save { name: body.name })
        }
        other => Err(Refusal::new(
            ErrorCode::UnknownType,
            format!(
                "unknown message type '{}'; expected one of {}",
                other.chars().take(40).collect::<String>(),
                CLIENT_TYPES.join(", ")
            ),
        )),
    }
}

/// A server message as it is read: its type and every field any type has. One flat record decodes
/// with far less code than a tagged enum (which buffers each message to find its tag).
#[derive(Deserialize)]
pub struct Wire {
    #[serde(rename = "type")]
    kind: String,
    session: Option<String>,
    you: Option<MemberInfo>,
    members: Option<Vec<MemberInfo>>,
    batching: Option<BatchingInfo>,
    max_message_bytes: Option<usize>,
    can_edit: Option<bool>,
    member: Option<MemberInfo>,
    connection: Option<String>,
    user: Option<String>,
    name: Option<String>,
    section: Option<String>,
    update: Option<String>,
    state_vector: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<u64>,
    revision: Option<Revision>,
    by: Option<String>,
    restored: Option<bool>,
    code: Option<ErrorCode>,
    message: Option<String>,
}

/// A field the message's type needs.
fn need<T>(field: Option<T>, name: &str) -> Result<T, String> {
    field.ok_or_else(|| format!("missing field `{name}`"))
}

impl TryFrom<Wire> for ServerMessage {
    type Error = String;

    fn try_from(w: Wire) -> Result<ServerMessage, String> {
        Ok(match w.kind.as_str() {
            "welcome" => ServerMessage::Welcome {
                session: need(w.session, "session")?,
                you: need(w.you, "you")?,
                members: need(w.members, "members")?,
                batching: need(w.batching, "batching")?,
                max_message_bytes: need(w.max_message_bytes, "max_message_bytes")?,
                can_edit: need(w.can_edit, "can_edit")?,
            },
            "joined" => ServerMessage::Joined {
                member: need(w.member, "member")?,
            },
            "left" => ServerMessage::Left {
                connection: need(w.connection, "connection")?,
                user: need(w.user, "user")?,
            },
            "presence" => ServerMessage::Presence {
                member: need(w.member, "member")?,
            },
            "typing" => ServerMessage::Typing {
                connection: need(w.connection, "connection")?,
                user: need(w.user, "user")?,
                name: need(w.name, "name")?,
                section: need(w.section, "section")?,
            },
            "sync" => ServerMessage::Sync {
                update: need(w.update, "update")?,
                state_vector: need(w.state_vector, "state_vector")?,
            },
            "update" => ServerMessage::Update {
                connection: need(w.connection, "connection")?,
                user: need(w.user, "user")?,
                update: need(w.update, "update")?,
            },
            "ack" => ServerMessage::Ack {
                reference: w.reference,
            },
            "saved" => ServerMessage::Saved {
                revision: need(w.revision, "revision")?,
                by: need(w.by, "by")?,
                restored: need(w.restored, "restored")?,
            },
            "error" => ServerMessage::Error {
                code: need(w.code, "code")?,
                message: need(w.message, "message")?,
            },
            "resync" => ServerMessage::Resync {},
            "access" => ServerMessage::Access {
                can_edit: need(w.can_edit, "can_edit")?,
            },
            "published" => ServerMessage::Published {
                by: need(w.by, "by")?,
            },
            other => return Err(format!("unknown message type '{other}'")),
        })
    }
}

#[derive(Deserialize)]
struct BatchBody {
    messages: Vec<Wire>,
}

/// Reads a text frame from the server: its messages in order (a batch holds several). A message
/// this client cannot read (a newer server's) is skipped, not the frame around it.
pub fn parse_server_frame(text: &str) -> Vec<ServerMessage> {
    let Ok(probe) = serde_json::from_str::<Probe>(text) else {
        return Vec::new();
    };
    if probe.kind.as_deref() == Some(BATCH_TYPE) {
        serde_json::from_str::<BatchBody>(text)
            .map(|b| {
                b.messages
                    .into_iter()
                    .filter_map(|m| ServerMessage::try_from(m).ok())
                    .collect()
            })
            .unwrap_or_default()
    } else {
        serde_json::from_str(text).into_iter().collect()
    }
}

#[cfg(test)]
mod tests;
