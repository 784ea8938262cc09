//! The collaboration messages, both directions (`docs/protocol.md` is their documentation), and the
//! checks every client message passes before anything acts on it.

use serde::{Deserialize, Serialize};

/// Message types a client may send.
pub const CLIENT_TYPES: [&str; 5] = ["presence", "typing", "sync", "update", "save"];

/// A message from a client, checked.
#[derive(Debug, Clone, PartialEq)]
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
        reference: Option<u64>,
    },
    /// Save a named revision of the document.
    Save { name: String },
}

/// Why a client message was refused; sent back as an `error` frame, and the message is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

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
            "invalid_message",
            format!("{name} must be base64"),
        ))
    }
}

fn section_key(key: String) -> Result<String, Refusal> {
    app::sections::check_section_key(&key).map_err(|e| Refusal::new("invalid_message", e))?;
    Ok(key)
}

/// Reads a text frame from a client. `max_bytes` is the message size limit.
pub fn parse_client(text: &str, max_bytes: usize) -> Result<ClientMessage, Refusal> {
    if text.len() > max_bytes {
        return Err(Refusal::new(
            "message_too_large",
            format!(
                "a message may be at most {max_bytes} bytes; this one has {}",
                text.len()
            ),
        ));
    }
    let probe: Probe = serde_json::from_str(text).map_err(|e| {
        Refusal::new(
            "malformed",
            format!("a message is a JSON object with a \"type\": {e}"),
        )
    })?;
    let Some(kind) = probe.kind else {
        return Err(Refusal::new(
            "malformed",
            "a message needs a \"type\" field",
        ));
    };
    let invalid = |e: serde_json::Error| Refusal::new("invalid_message", format!("{kind}: {e}"));
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
            "unknown_type",
            format!(
                "unknown message type '{}'; expected one of {}",
                other.chars().take(40).collect::<String>(),
                CLIENT_TYPES.join(", ")
            ),
        )),
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchingInfo {
    pub enabled: bool,
    pub max_size: usize,
    pub max_wait_ms: u64,
}

/// A message from the server.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
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
        revision: app::editing::Revision,
        by: String,
        restored: bool,
    },
    /// Sent to the connection whose message was refused; the message is dropped.
    Error {
        code: &'static str,
        message: String,
    },
    /// Messages may have been missed (the instance lost Redis for a while): clients send their
    /// presence again.
    Resync {},
    /// To one connection whose rights changed (its role): whether it may now send `update` and
    /// `save`.
    Access {
        can_edit: bool,
    },
}

/// The palette index of a user: the same on every instance and every visit.
pub fn color_of(user: &str) -> u8 {
    let hash = user.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    (hash % 8) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 1024;

    fn code(text: &str) -> &'static str {
        parse_client(text, MAX).expect_err("refused").code
    }

    #[test]
    fn good_messages_read() {
        assert_eq!(
            parse_client(r#"{"type":"presence","section":"key-metrics"}"#, MAX),
            Ok(ClientMessage::Presence {
                section: Some("key-metrics".into())
            })
        );
        assert_eq!(
            parse_client(r#"{"type":"presence"}"#, MAX),
            Ok(ClientMessage::Presence { section: None })
        );
        assert_eq!(
            parse_client(r#"{"type":"typing","section":"summary"}"#, MAX),
            Ok(ClientMessage::Typing {
                section: "summary".into()
            })
        );
    }

    #[test]
    fn editing_messages_read() {
        assert_eq!(
            parse_client(r#"{"type":"update","update":"AQID","ref":7}"#, MAX),
            Ok(ClientMessage::Update {
                update: "AQID".into(),
                reference: Some(7)
            })
        );
        assert_eq!(
            parse_client(r#"{"type":"sync","state_vector":"AA=="}"#, MAX),
            Ok(ClientMessage::Sync {
                state_vector: "AA==".into()
            })
        );
        assert_eq!(
            parse_client(
                r#"{"type":"save","name":"Before the steering committee"}"#,
                MAX
            ),
            Ok(ClientMessage::Save {
                name: "Before the steering committee".into()
            })
        );
    }

    #[test]
    fn bad_messages_are_refused_with_a_reason() {
        assert_eq!(code("not json"), "malformed");
        assert_eq!(code("[1,2]"), "malformed");
        assert_eq!(code(r#"{"section":"x"}"#), "malformed");
        assert_eq!(code(r#"{"type":"delete_everything"}"#), "unknown_type");
        assert_eq!(code(r#"{"type":"typing"}"#), "invalid_message");
        assert_eq!(
            code(r#"{"type":"typing","section":"Bad Key"}"#),
            "invalid_message"
        );
        assert_eq!(code(r#"{"type":"presence","extra":1}"#), "invalid_message");
        let long = format!(r#"{{"type":"presence","pad":"{}"}}"#, "x".repeat(MAX));
        assert_eq!(code(&long), "message_too_large");
        assert_eq!(
            code(r#"{"type":"update","update":"not base64!"}"#),
            "invalid_message"
        );
        assert_eq!(code(r#"{"type":"sync"}"#), "invalid_message");
        assert_eq!(code(r#"{"type":"save"}"#), "invalid_message");
    }

    #[test]
    fn server_messages_have_their_documented_shape() {
        let error = ServerMessage::Error {
            code: "unknown_type",
            message: "no".into(),
        };
        assert_eq!(
            serde_json::to_string(&error).expect("json"),
            r#"{"type":"error","code":"unknown_type","message":"no"}"#
        );
        assert_eq!(
            serde_json::to_string(&ServerMessage::Resync {}).expect("json"),
            r#"{"type":"resync"}"#
        );
    }

    #[test]
    fn colours_are_stable_and_spread() {
        assert_eq!(color_of("ana"), color_of("ana"));
        let used: std::collections::HashSet<u8> =
            (0..40).map(|i| color_of(&format!("user{i}"))).collect();
        assert!(used.len() >= 6, "{used:?}");
        assert!(used.iter().all(|c| *c < 8));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const CODES: [&str; 4] = [
            "malformed",
            "invalid_message",
            "unknown_type",
            "message_too_large",
        ];

        fn message_like() -> impl Strategy<Value = String> {
            let kind = prop_oneof![
                Just("presence".to_string()),
                Just("typing".to_string()),
                Just("sync".to_string()),
                Just("update".to_string()),
                Just("save".to_string()),
                "[a-z]{0,12}",
            ];
            let value = prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                any::<f64>().prop_map(serde_json::Value::from),
                ".{0,80}".prop_map(serde_json::Value::from),
                "[A-Za-z0-9+/=]{0,40}".prop_map(serde_json::Value::from),
                "[a-z0-9_-]{0,70}".prop_map(serde_json::Value::from),
            ];
            let field = prop_oneof![
                Just("section".to_string()),
                Just("state_vector".to_string()),
                Just("update".to_string()),
                Just("ref".to_string()),
                Just("name".to_string()),
                "[a-z]{1,8}",
            ];
            (kind, proptest::collection::vec((field, value), 0..4)).prop_map(|(kind, fields)| {
                let mut object = serde_json::Map::new();
                object.insert("type".into(), kind.into());
                for (k, v) in fields {
                    object.insert(k, v);
                }
                serde_json::Value::Object(object).to_string()
            })
        }

        proptest! {
            // 2,000 cases, or `PROPTEST_CASES` (`with_cases` would ignore the variable).
            #![proptest_config(ProptestConfig {
                cases: std::env::var("PROPTEST_CASES")
                    .ok()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(2000),
                ..ProptestConfig::default()
            })]

            /// Any text at all: an answer, never a panic; a refusal has a known code and says why.
            #[test]
            fn any_text_is_read_or_refused_with_a_reason(text in ".{0,300}") {
                if let Err(refusal) = parse_client(&text, MAX) {
                    prop_assert!(CODES.contains(&refusal.code), "{refusal:?}");
                    prop_assert!(!refusal.message.is_empty());
                }
            }

            /// Messages shaped like the real ones, with wrong, missing and extra fields: what is
            /// accepted is a known type with checked fields.
            #[test]
            fn near_misses_are_refused_or_checked(text in message_like()) {
                match parse_client(&text, MAX) {
                    Ok(ClientMessage::Presence { section }) => {
                        prop_assert!(section.is_none_or(|s| app::sections::check_section_key(&s).is_ok()));
                    }
                    Ok(ClientMessage::Typing { section }) => {
                        prop_assert!(app::sections::check_section_key(&section).is_ok());
                    }
                    Ok(ClientMessage::Sync { state_vector }) => prop_assert!(!state_vector.is_empty()),
                    Ok(ClientMessage::Update { update, .. }) => prop_assert!(!update.is_empty()),
                    Ok(ClientMessage::Save { .. }) => {}
                    Err(refusal) => prop_assert!(CODES.contains(&refusal.code), "{refusal:?}"),
                }
            }

            /// Over the size limit is refused before any parsing, whatever it holds.
            #[test]
            fn oversize_is_refused_first(extra in 1usize..200) {
                let text = format!(r#"{{"type":"presence","section":"{}"}}"#, "a".repeat(MAX + extra));
                prop_assert_eq!(parse_client(&text, MAX).expect_err("refused").code, "message_too_large");
            }
        }
    }
}
