//! The protocol's reading, against good messages, bad ones and generated near misses.

use super::*;
use crate::collab::protocol::{color_of, CloseCode, MemberInfo};

const MAX: usize = 1024;

fn code(text: &str) -> ErrorCode {
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
    assert_eq!(code("not json"), ErrorCode::Malformed);
    assert_eq!(code("[1,2]"), ErrorCode::Malformed);
    assert_eq!(code(r#"{"section":"x"}"#), ErrorCode::Malformed);
    assert_eq!(
        code(r#"{"type":"delete_everything"}"#),
        ErrorCode::UnknownType
    );
    assert_eq!(code(r#"{"type":"typing"}"#), ErrorCode::InvalidMessage);
    assert_eq!(
        code(r#"{"type":"typing","section":"Bad Key"}"#),
        ErrorCode::InvalidMessage
    );
    assert_eq!(
        code(r#"{"type":"presence","extra":1}"#),
        ErrorCode::InvalidMessage
    );
    let long = format!(r#"{{"type":"presence","pad":"{}"}}"#, "x".repeat(MAX));
    assert_eq!(code(&long), ErrorCode::MessageTooLarge);
    assert_eq!(
        code(r#"{"type":"update","update":"not base64!"}"#),
        ErrorCode::InvalidMessage
    );
    assert_eq!(code(r#"{"type":"sync"}"#), ErrorCode::InvalidMessage);
    assert_eq!(code(r#"{"type":"save"}"#), ErrorCode::InvalidMessage);
}

#[test]
fn server_messages_have_their_documented_shape() {
    let error = ServerMessage::Error {
        code: ErrorCode::UnknownType,
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
fn a_server_frame_reads_as_its_messages_in_order() {
    let member = MemberInfo {
        connection: "a:1".into(),
        user: "ana".into(),
        name: "Ana".into(),
        color: color_of("ana"),
        section: None,
    };
    let one = ServerMessage::Joined {
        member: member.clone(),
    };
    let two = ServerMessage::Ack { reference: Some(3) };
    let single = serde_json::to_string(&one).expect("json");
    assert_eq!(parse_server_frame(&single), vec![one.clone()]);
    let batch = format!(
        r#"{{"type":"batch","messages":[{single},{{"type":"from_the_future"}},{}],"count":3,"timestamp":"2026-12-04T10:00:00.000Z"}}"#,
        serde_json::to_string(&two).expect("json")
    );
    assert_eq!(
        parse_server_frame(&batch),
        vec![one, two],
        "an unknown message is skipped, its neighbours kept"
    );
    assert!(parse_server_frame("not json").is_empty());
    let error: Vec<ServerMessage> =
        parse_server_frame(r#"{"type":"error","code":"new_code","message":"m"}"#);
    assert_eq!(
        error,
        vec![ServerMessage::Error {
            code: ErrorCode::Other,
            message: "m".into()
        }],
        "a code this client does not know still shows its message"
    );
}

/// One of each server message, as the server sends them.
fn every_server_message() -> Vec<ServerMessage> {
    let member = MemberInfo {
        connection: "a:1".into(),
        user: "ana".into(),
        name: "Ana".into(),
        color: 3,
        section: Some("risks".into()),
    };
    vec![
        ServerMessage::Welcome {
            session: "report-1".into(),
            you: member.clone(),
            members: vec![member.clone()],
            batching: crate::collab::protocol::BatchingInfo {
                enabled: true,
                max_size: 10,
                max_wait_ms: 50,
            },
            max_message_bytes: 65536,
            can_edit: true,
        },
        ServerMessage::Joined {
            member: member.clone(),
        },
        ServerMessage::Left {
            connection: "a:1".into(),
            user: "ana".into(),
        },
        ServerMessage::Presence { member },
        ServerMessage::Typing {
            connection: "a:1".into(),
            user: "ana".into(),
            name: "Ana".into(),
            section: "summary".into(),
        },
        ServerMessage::Sync {
            update: "AAA=".into(),
            state_vector: "AA==".into(),
        },
        ServerMessage::Update {
            connection: "b:2".into(),
            user: "ben".into(),
            update: "AQID".into(),
        },
        ServerMessage::Ack { reference: Some(9) },
        ServerMessage::Ack { reference: None },
        ServerMessage::Saved {
            revision: crate::editing::Revision {
                number: 2,
                name: "Before the committee".into(),
                author: "ana".into(),
                created_at: "2026-12-04T10:00:00Z".into(),
            },
            by: "Ana".into(),
            restored: true,
        },
        ServerMessage::Error {
            code: ErrorCode::NotSaved,
            message: "the store failed".into(),
        },
        ServerMessage::Resync {},
        ServerMessage::Access { can_edit: false },
        ServerMessage::Published {
            by: "Eddie Editor".into(),
        },
    ]
}

#[test]
fn what_the_server_encodes_the_browser_reads() {
    let all = every_server_message();
    for message in &all {
        let text = serde_json::to_string(message).expect("json");
        assert_eq!(parse_server_frame(&text), vec![message.clone()], "{text}");
    }
    let jsons: Vec<String> = all
        .iter()
        .map(|m| serde_json::to_string(m).expect("json"))
        .collect();
    let batch = format!(
        r#"{{"type":"batch","messages":[{}],"count":{},"timestamp":"2026-12-04T10:00:00.000Z"}}"#,
        jsons.join(","),
        all.len()
    );
    assert_eq!(parse_server_frame(&batch), all, "a batch, in order");
}

#[test]
fn a_message_missing_a_field_is_skipped() {
    assert!(parse_server_frame(r#"{"type":"typing","connection":"a:1"}"#).is_empty());
    assert!(parse_server_frame(r#"{"type":"welcome"}"#).is_empty());
}

#[test]
fn close_codes_that_end_retrying() {
    for code in [1008, 1009, 4401, 4403] {
        assert!(CloseCode::is_final(code), "{code}");
    }
    for code in [1000, 1001, 1006, 1011, 1013, 4001, 4008] {
        assert!(!CloseCode::is_final(code), "{code}");
    }
}

#[test]
fn an_idle_close_waits_for_the_reader_and_others_retry() {
    use crate::collab::protocol::AfterClose;
    assert_eq!(CloseCode::then(4001), AfterClose::WaitForActivity);
    for code in [1000, 1001, 1006, 1011, 1013, 4008] {
        assert_eq!(CloseCode::then(code), AfterClose::Retry, "{code}");
    }
    for code in [1008, 1009, 4401, 4403] {
        assert_eq!(CloseCode::then(code), AfterClose::StayClosed, "{code}");
    }
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

    const CODES: [ErrorCode; 4] = [
        ErrorCode::Malformed,
        ErrorCode::InvalidMessage,
        ErrorCode::UnknownType,
        ErrorCode::MessageTooLarge,
    ];

    /// Messages a client may send, with valid fields.
    fn client_message() -> impl Strategy<Value = ClientMessage> {
        let key = "[a-z][a-z0-9-]{0,30}[a-z0-9]";
        let b64 = "[A-Za-z0-9+/]{1,40}={0,2}";
        prop_oneof![
            proptest::option::of(key).prop_map(|section| ClientMessage::Presence { section }),
            key.prop_map(|section| ClientMessage::Typing { section }),
            b64.prop_map(|state_vector| ClientMessage::Sync { state_vector }),
            (b64, proptest::option::of(any::<u64>()))
                .prop_map(|(update, reference)| ClientMessage::Update { update, reference }),
            ".{0,60}".prop_map(|name| ClientMessage::Save { name }),
        ]
    }

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
                    prop_assert!(section.is_none_or(|s| crate::sections::check_section_key(&s).is_ok()));
                }
                Ok(ClientMessage::Typing { section }) => {
                    prop_assert!(crate::sections::check_section_key(&section).is_ok());
                }
                Ok(ClientMessage::Sync { state_vector }) => prop_assert!(!state_vector.is_empty()),
                Ok(ClientMessage::Update { update, .. }) => prop_assert!(!update.is_empty()),
                Ok(ClientMessage::Save { .. }) => {}
                Err(refusal) => prop_assert!(CODES.contains(&refusal.code), "{refusal:?}"),
            }
        }

        /// What the browser encodes, the server reads back as the same message: the one set of types
        /// and the checks agree.
        #[test]
        fn what_a_client_encodes_the_server_reads(message in client_message()) {
            let text = serde_json::to_string(&message).expect("json");
            prop_assert_eq!(parse_client(&text, 64 * 1024), Ok(message));
        }

        /// Over the size limit is refused before any parsing, whatever it holds.
        #[test]
        fn oversize_is_refused_first(extra in 1usize..200) {
            let text = format!(r#"{{"type":"presence","section":"{}"}}"#, "a".repeat(MAX + extra));
            prop_assert_eq!(parse_client(&text, MAX).expect_err("refused").code, ErrorCode::MessageTooLarge);
        }
    }
}

#[test]
fn an_edit_refused_for_its_size_restarts_the_copy() {
    let frame = r#"{"type":"error","code":"document_too_large","message":"too large"}"#;
    assert_eq!(
        parse_server_frame(frame),
        vec![ServerMessage::Error {
            code: ErrorCode::DocumentTooLarge,
            message: "too large".into(),
        }]
    );
    for code in [ErrorCode::DocumentTooLarge, ErrorCode::MessageTooLarge] {
        assert!(code.discards_local_edits(), "{code:?}");
        assert!(code.drops_pending_edits(), "{code:?}");
    }
    for code in [
        ErrorCode::NotSaved,
        ErrorCode::RateLimited,
        ErrorCode::InvalidMessage,
    ] {
        assert!(!code.discards_local_edits(), "{code:?}");
    }
}
