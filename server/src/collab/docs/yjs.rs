//! The document itself, with yrs: decoding a client's update, vetting it on a scratch copy, reading
//! the texts and fields out, and folding a stored snapshot and log into one snapshot.

use app::editing::{narrative_text, RevisionContent, FIELDS_MAP};
use base64::Engine;
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, Map, Out, ReadTxn, StateVector, Transact, Update};

use super::{DocError, B64, MAX_DOC_BYTES};
use crate::storage::documents::DocLog;

pub(super) fn decode_b64(data: &str) -> Result<Vec<u8>, DocError> {
    B64.decode(data)
        .map_err(|e| DocError::Undecodable(format!("not base64: {e}")))
}

/// Whether `update` can join `doc` safely, tried on a scratch copy first. A damaged update can make
/// yrs panic while decoding or integrating it (overflows, assertions: found by
/// `tests/integration/crdt_properties.rs`); stored in the log, it would then break every later load of the
/// document. So it is refused before it is stored, and the live copy never sees it.
///
/// An update that would make the document larger than [`MAX_DOC_BYTES`] is refused too (one that
/// makes it smaller is always taken): a sync sends the whole document in one frame, which has to fit
/// the connection's outbound queue, and every update is vetted against all of it.
pub(super) fn vet(doc: &Doc, sections: &[String], update: &[u8]) -> Result<(), DocError> {
    let state = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let trial = std::panic::catch_unwind(|| -> Result<usize, String> {
        let scratch = Doc::new();
        {
            let mut txn = scratch.transact_mut();
            let current = Update::decode_v1(&state).map_err(|e| e.to_string())?;
            txn.apply_update(current).map_err(|e| e.to_string())?;
            let candidate = Update::decode_v1(update).map_err(|e| e.to_string())?;
            txn.apply_update(candidate).map_err(|e| e.to_string())?;
        }
        // What later work does with the document must work too: read it, encode it.
        let _ = content_of(&scratch, sections);
        let size = scratch
            .transact()
            .encode_state_as_update_v1(&StateVector::default())
            .len();
        Ok(size)
    });
    match trial {
        Ok(Ok(size)) if size > MAX_DOC_BYTES && size > state.len() => Err(DocError::TooLarge),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(DocError::Undecodable(e)),
        Err(_) => Err(DocError::Undecodable(
            "the update is damaged: it does not apply to this document".into(),
        )),
    }
}

/// The texts and fields a document holds now.
pub(super) fn content_of(doc: &Doc, sections: &[String]) -> RevisionContent {
    let txn = doc.transact();
    let mut content = RevisionContent::default();
    for key in sections {
        if let Some(text) = txn.get_text(narrative_text(key).as_str()) {
            content
                .narratives
                .insert(key.clone(), text.get_string(&txn));
        }
    }
    if let Some(fields) = txn.get_map(FIELDS_MAP) {
        for (key, value) in fields.iter(&txn) {
            if let Out::Any(yrs::Any::String(s)) = value {
                content.fields.insert(key.to_string(), s.to_string());
            }
        }
    }
    content
}

/// Applies one stored update (base64) to a transaction.
pub(super) fn apply_stored(txn: &mut yrs::TransactionMut, data: &str) -> Result<(), String> {
    let bytes = B64.decode(data).map_err(|e| e.to_string())?;
    let update = Update::decode_v1(&bytes).map_err(|e| e.to_string())?;
    txn.apply_update(update).map_err(|e| e.to_string())
}

/// The stored document folded into one update (base64), or why it cannot be folded now. A stored
/// update that waits for one the log does not hold would be left out of the fold (yrs keeps it
/// pending and does not encode it), so such a log is left as it is.
pub(super) fn fold(log: &DocLog) -> Result<String, String> {
    let merged = std::panic::catch_unwind(|| -> Result<Vec<u8>, String> {
        let doc = Doc::new();
        {
            let mut txn = doc.transact_mut();
            for data in log
                .snapshot
                .iter()
                .chain(log.updates.iter().map(|(_, d)| d))
            {
                apply_stored(&mut txn, data)?;
            }
        }
        let txn = doc.transact();
        if txn.has_missing_updates() {
            return Err("an update waits for one the log does not hold".into());
        }
        Ok(txn.encode_state_as_update_v1(&StateVector::default()))
    });
    match merged {
        Ok(Ok(bytes)) => Ok(B64.encode(bytes)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err("a stored update does not apply".into()),
    }
}
