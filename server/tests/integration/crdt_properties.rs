//! Damaged CRDT updates against a report's shared document (the store's log, the live copy): a valid
//! edit with its bytes flipped, cut short or padded, and plain noise. Whatever the update, applying
//! it answers (accepted, or refused with a code) and never panics; a refused update changes nothing;
//! and the document still syncs and still takes the next good edit. (A damaged update that is still
//! a well-formed edit, say a deletion, is accepted: it is an edit like any other.)
//!
//! `PROPTEST_CASES` raises the number of cases (the suite runs 300).

use crate::common;

use base64::Engine;
use proptest::prelude::*;
use yrs::{Doc, GetString, ReadTxn, Transact};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const RISKS: &str = "narrative:risks";

/// How a good update is damaged.
#[derive(Debug, Clone)]
enum Damage {
    Flip(Vec<(usize, u8)>),
    Truncate(usize),
    Pad(Vec<u8>),
    Noise(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        proptest::collection::vec((any::<usize>(), 1u8..=255), 1..4).prop_map(Damage::Flip),
        any::<usize>().prop_map(Damage::Truncate),
        proptest::collection::vec(any::<u8>(), 1..16).prop_map(Damage::Pad),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(Damage::Noise),
    ]
}

fn damaged(good: &[u8], how: &Damage) -> Vec<u8> {
    let mut bytes = good.to_vec();
    match how {
        Damage::Flip(flips) => {
            for (at, mask) in flips {
                let i = at % bytes.len();
                bytes[i] ^= mask;
            }
        }
        Damage::Truncate(at) => bytes.truncate(at % bytes.len()),
        Damage::Pad(extra) => bytes.extend_from_slice(extra),
        Damage::Noise(noise) => bytes = noise.clone(),
    }
    bytes
}

fn risks(doc: &Doc) -> String {
    let txn = doc.transact();
    txn.get_text(RISKS)
        .map(|t| t.get_string(&txn))
        .unwrap_or_default()
}

/// An edit appending `words` to the client copy's risks text, as the update it makes.
fn append(doc: &Doc, words: &str) -> Vec<u8> {
    common::append_to(doc, RISKS, words)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_updates_never_break_the_document() {
    let app = common::seeded().await;
    let report = app.report_id("HBR", false).await;
    let docs = app.state.documents.clone();
    let handle = tokio::runtime::Handle::current();
    let mut runner = common::proptest_runner(300);
    let (accepted, refused) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    let outcome = runner.run(&damage(), |how| {
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                let client = common::client_copy(&docs, report).await;
                let before = risks(&client);
                let good = append(&client, " x");
                let bad = damaged(&good, &how);
                let result = docs.apply(report, &B64.encode(&bad), "fuzz").await;
                // Still whole: it syncs, and takes the next good edit.
                let after = common::client_copy(&docs, report).await;
                match result {
                    Ok(_) => accepted.set(accepted.get() + 1),
                    Err(e) => {
                        refused.set(refused.get() + 1);
                        prop_assert_eq!(
                            e.code(),
                            app::collab::protocol::ErrorCode::UndecodableUpdate,
                            "{}",
                            e
                        );
                        prop_assert_eq!(risks(&after), before, "a refused update changed the text");
                    }
                }
                let next = append(&after, " ok");
                docs.apply(report, &B64.encode(&next), "fuzz")
                    .await
                    .map_err(|e| {
                        TestCaseError::fail(format!("a good edit refused after {how:?}: {e}"))
                    })?;
                prop_assert!(risks(&common::client_copy(&docs, report).await).ends_with(" ok"));
                Ok(())
            })
        })
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    assert!(
        refused.get() > 0,
        "no damaged update was refused ({} accepted)",
        accepted.get()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_state_vector_is_answered_or_refused() {
    let app = common::seeded().await;
    let report = app.report_id("HBR", false).await;
    let docs = app.state.documents.clone();
    let handle = tokio::runtime::Handle::current();
    let mut runner = common::proptest_runner(300);
    let outcome = runner.run(&proptest::collection::vec(any::<u8>(), 0..48), |bytes| {
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                match docs.sync(report, &B64.encode(&bytes)).await {
                    Ok((update, _)) => prop_assert!(B64.decode(update).is_ok()),
                    Err(e) => prop_assert_eq!(
                        e.code(),
                        app::collab::protocol::ErrorCode::UndecodableUpdate,
                        "{}",
                        e
                    ),
                }
                Ok(())
            })
        })
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
}
