//! Reading frames: a client's message, checked field by field (the server's side), and a server's
//! frame, one message or a batch (the browser's side).

use serde::Deserialize;

use super::{ClientMessage, ErrorCode, Refusal, ServerMessage, BATCH_TYPE, CLIENT_TYPES};

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

#[derive(Deserialize)]
struct BatchBody {
    messages: Vec<serde_json::Value>,
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
                    .filter_map(|m| serde_json::from_value(m).ok())
                    .collect()
            })
            .unwrap_or_default()
    } else {
        serde_json::from_str(text).into_iter().collect()
    }
}

#[cfg(test)]
mod tests;
