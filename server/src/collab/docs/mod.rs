//! The reports' shared documents on the server (yrs, the Rust Yjs): one per report, holding each
//! section's narrative as a text (`narrative:<key>`) and the structured fields as a map (`fields`:
//! `status`, `justification`).
//!
//! The store is the truth and is shared by every instance: a document is its snapshot plus the
//! updates appended since, numbered 1, 2, 3… per report with no gaps (`storage::documents`). An
//! instance's copy is a cache of it: before it answers a sync or applies an update, the copy catches
//! up from the store (applying an update twice is harmless, so it never needs to know which of the
//! new rows are its own). An update is decoded and vetted, then appended to the log, and only then
//! applied and acknowledged: an `ack` means the update is committed in the store. A document is first
//! seeded from the report's current narratives by a transaction with the fixed client id 0, so
//! instances seeding at once produce the same update.
//!
//! Folding (every [`COMPACT_EVERY`] updates, and when the session ends on an instance) is built from
//! the store alone: the stored snapshot and updates, read in one statement, merged, and written back
//! only if no other instance folded meanwhile. No copy in memory is ever written over the store, so an
//! instance that is behind cannot fold away what it has not seen.
//!
//! What the document says is written back into the report (narratives, and the declared status and
//! justification into the executive summary) at most a second after an edit, on Save, on restore and
//! when the session ends; the report's cached copies are dropped then. Each write-back names the
//! last update it holds, and the store refuses one older than the last written.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::collab::protocol::ErrorCode;
use app::editing::{
    narrative_text, FIELDS_MAP, FIELD_JUSTIFICATION, FIELD_STATUS, MAX_REVISION_NAME_CHARS,
};
use app::model::ReportStatus;
use base64::Engine;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, Map, ReadTxn, StateVector, Text, Transact, Update, WriteTxn};

use crate::cache::CacheService;
use crate::storage::documents::MAX_REVISIONS;
use crate::storage::{Store, StoreError};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Why an editing request failed; each has a code for the error frame.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("there is no report with id {0}")]
    NoReport(i64),
    #[error("this report is published (final) and can no longer be edited")]
    ReadOnly,
    #[error("the update does not decode: {0}")]
    Undecodable(String),
    #[error("there is no revision {0} of this report")]
    NoRevision(i64),
    #[error("a revision name is 1 to {MAX_REVISION_NAME_CHARS} characters")]
    BadName,
    #[error("this report already has {MAX_REVISIONS} saved revisions, the most it keeps")]
    TooManyRevisions,
    #[error("the document would be larger than {} KB, the most a report's texts may take", MAX_DOC_BYTES / 1024)]
    TooLarge,
    /// The cause stays in the server's log; the client gets what it can act on.
    #[error("The edit could not be saved. {}", .0.reason())]
    Store(#[from] StoreError),
}

impl DocError {
    /// The code of the error frame.
    pub fn code(&self) -> ErrorCode {
        match self {
            DocError::NoReport(_) | DocError::NoRevision(_) => ErrorCode::NotFound,
            DocError::ReadOnly => ErrorCode::ReadOnly,
            DocError::Undecodable(_) => ErrorCode::UndecodableUpdate,
            DocError::BadName => ErrorCode::InvalidMessage,
            DocError::TooLarge => ErrorCode::DocumentTooLarge,
            DocError::TooManyRevisions => ErrorCode::RateLimited,
            DocError::Store(_) => ErrorCode::NotSaved,
        }
    }
}

/// Largest a report's shared document may grow, encoded (its texts are at most
/// `MAX_NARRATIVE_CHARS` each when written into the report; this leaves room for several sections'
/// worth plus the history yrs keeps). A sync carries it whole, in base64, in one frame: the
/// connection's outbound queue must hold that ([`sync_frame_bytes`]).
pub const MAX_DOC_BYTES: usize = 512 * 1024;

/// The largest frame a sync answer can take: the whole document in base64, its state vector and the
/// message around them.
pub const fn sync_frame_bytes() -> usize {
    MAX_DOC_BYTES.div_ceil(3) * 4 + 16 * 1024
}

/// Updates between folds of a document's log: each fold reads and writes the whole document, so
/// this trades that work against the log a load must replay.
pub const COMPACT_EVERY: i64 = 200;

struct LiveDoc {
    doc: Doc,
    /// This copy holds every update of the log up to this one (-1: nothing yet, not even the seed).
    last_seq: i64,
    /// The last update folded into the store's snapshot, as last seen.
    folded: i64,
    read_only: bool,
    /// Section keys in template order, and the executive summary's key.
    sections: Vec<String>,
    summary_key: Option<String>,
    write_pending: bool,
}

struct Inner {
    store: Store,
    cache: CacheService,
    live: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<LiveDoc>>>>,
    compact_every: i64,
    write_delay: Duration,
}

/// Every report's shared document on this instance. Cheap to clone.
#[derive(Clone)]
pub struct Documents {
    inner: Arc<Inner>,
}

mod revisions;
mod yjs;

use yjs::{apply_stored, decode_b64, fold, vet};

impl Documents {
    pub fn new(store: Store, cache: CacheService) -> Documents {
        Documents::compacting_every(store, cache, COMPACT_EVERY)
    }

    /// As [`Documents::new`], folding every `updates` updates (tests cross many folds quickly).
    pub fn compacting_every(store: Store, cache: CacheService, updates: i64) -> Documents {
        Documents {
            inner: Arc::new(Inner {
                store,
                cache,
                live: Mutex::new(HashMap::new()),
                compact_every: updates.max(1),
                write_delay: Duration::from_secs(1),
            }),
        }
    }

    /// The copy this instance holds for an open session, if any.
    fn held(&self, report_id: i64) -> Option<Arc<tokio::sync::Mutex<LiveDoc>>> {
        self.inner
            .live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&report_id)
            .cloned()
    }

    /// How many copies this instance holds (one per report with a session open here).
    pub fn held_count(&self) -> usize {
        self.inner
            .live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// The held copy, or one loaded for this use alone: work outside a session (a write-back a
    /// moment after the last one left, a publication, a restore from the revisions list) must not
    /// leave a copy behind, since only a session's end lets one go.
    async fn copy(&self, report_id: i64) -> Result<Arc<tokio::sync::Mutex<LiveDoc>>, DocError> {
        match self.held(report_id) {
            Some(doc) => Ok(doc),
            None => Ok(Arc::new(tokio::sync::Mutex::new(
                self.load(report_id).await?,
            ))),
        }
    }

    /// The copy for a session's request (sync, update, save), loaded and held if this instance
    /// has none yet; the session's end lets it go ([`Documents::session_ended`]).
    async fn live(&self, report_id: i64) -> Result<Arc<tokio::sync::Mutex<LiveDoc>>, DocError> {
        if let Some(doc) = self.held(report_id) {
            return Ok(doc);
        }
        let loaded = Arc::new(tokio::sync::Mutex::new(self.load(report_id).await?));
        let mut live = self
            .inner
            .live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(live.entry(report_id).or_insert(loaded).clone())
    }

    async fn load(&self, report_id: i64) -> Result<LiveDoc, DocError> {
        let store = &self.inner.store;
        let report = store
            .report_document(report_id)
            .await?
            .ok_or(DocError::NoReport(report_id))?;
        let sections: Vec<String> = report
            .outline
            .sections
            .iter()
            .map(|s| s.key.clone())
            .collect();
        let summary_key = report
            .outline
            .sections
            .iter()
            .find(|s| s.section_type == "executive_summary")
            .map(|s| s.key.clone());
        if !store.doc_exists(report_id).await? {
            // The first document: the report's narratives and the summary's status, written by the
            // fixed client 0 so that every instance seeding at once writes the same update.
            let seed = Doc::with_client_id(0);
            {
                let mut txn = seed.transact_mut();
                for s in &report.sections {
                    let text = txn.get_or_insert_text(narrative_text(&s.key).as_str());
                    if !s.narrative.is_empty() {
                        text.insert(&mut txn, 0, &s.narrative);
                    }
                }
                let fields = txn.get_or_insert_map(FIELDS_MAP);
                let summary = report
                    .sections
                    .iter()
                    .find(|s| Some(&s.key) == summary_key.as_ref());
                if let Some(summary) = summary {
                    if let Some(status) = summary.content["overall_declared"].as_str() {
                        fields.insert(&mut txn, FIELD_STATUS, status);
                    }
                    if let Some(why) = summary.content["justification"].as_str() {
                        fields.insert(&mut txn, FIELD_JUSTIFICATION, why);
                    }
                }
            }
            let update = seed
                .transact()
                .encode_state_as_update_v1(&StateVector::default());
            store.seed_doc(report_id, &B64.encode(update)).await?;
        }
        let mut live = LiveDoc {
            doc: Doc::new(),
            last_seq: -1,
            folded: 0,
            read_only: report.outline.status == ReportStatus::Final,
            sections,
            summary_key,
            write_pending: false,
        };
        self.catch_up(report_id, &mut live).await?;
        Ok(live)
    }

    /// Applies what the store has beyond this copy.
    async fn catch_up(&self, report_id: i64, live: &mut LiveDoc) -> Result<(), DocError> {
        let log = self.inner.store.doc_since(report_id, live.last_seq).await?;
        let mut expected = match log.snapshot {
            Some(_) => log.folded + 1,
            None => live.last_seq + 1,
        };
        for (seq, _) in &log.updates {
            if *seq != expected {
                // The store numbers updates without gaps; a gap means rows went missing outside
                // this program. What is there is still applied.
                tracing::error!(
                    report_id,
                    expected,
                    found = seq,
                    "the document's log has a gap"
                );
            }
            expected = seq + 1;
        }
        let mut txn = live.doc.transact_mut();
        let parts = log.snapshot.iter().map(|data| (log.folded, data));
        for (seq, data) in parts.chain(log.updates.iter().map(|(seq, data)| (*seq, data))) {
            if let Err(e) = apply_stored(&mut txn, data) {
                tracing::error!(report_id, seq, error = %e, "a stored document update does not apply; skipped");
            }
        }
        live.folded = log.folded;
        live.last_seq = log.head(live.last_seq);
        Ok(())
    }

    /// What a client with state vector `sv` (base64) misses, and the server's state vector: both
    /// base64.
    pub async fn sync(&self, report_id: i64, sv: &str) -> Result<(String, String), DocError> {
        let bytes = decode_b64(sv)?;
        let refused = |why: String| DocError::Undecodable(format!("not a state vector: {why}"));
        // Decoding a crafted state vector can panic inside yrs (found by `tests/integration/crdt_properties.rs`);
        // it is contained here, and the document is only read.
        let sv = std::panic::catch_unwind(|| StateVector::decode_v1(&bytes))
            .map_err(|_| refused("damaged".into()))?
            .map_err(|e| refused(e.to_string()))?;
        let live = self.live(report_id).await?;
        let mut live = live.lock().await;
        self.catch_up(report_id, &mut live).await?;
        let doc = &live.doc;
        let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let txn = doc.transact();
            (
                txn.encode_state_as_update_v1(&sv),
                txn.state_vector().encode_v1(),
            )
        }))
        .map_err(|_| refused("it names states this document cannot answer".into()))?;
        Ok((B64.encode(answer.0), B64.encode(answer.1)))
    }

    /// Stores and applies a client's update (base64). Answers its number in the log once it is
    /// stored.
    pub async fn apply(&self, report_id: i64, update: &str, author: &str) -> Result<i64, DocError> {
        let bytes = decode_b64(update)?;
        // Vetted on a scratch copy (below) before anything is stored; decoded again to apply.
        let live = self.live(report_id).await?;
        let mut guard = live.lock().await;
        if guard.read_only {
            return Err(DocError::ReadOnly);
        }
        self.catch_up(report_id, &mut guard).await?;
        vet(&guard.doc, &guard.sections, &bytes)?;
        let seq = match self
            .inner
            .store
            .append_doc_update(report_id, update, author)
            .await
        {
            Ok(seq) => seq,
            // Published, here or on another instance: no more edits.
            Err(StoreError::Final(_)) => {
                guard.read_only = true;
                return Err(DocError::ReadOnly);
            }
            Err(e) => return Err(e.into()),
        };
        let decoded =
            Update::decode_v1(&bytes).map_err(|e| DocError::Undecodable(e.to_string()))?;
        guard
            .doc
            .transact_mut()
            .apply_update(decoded)
            .map_err(|e| DocError::Undecodable(e.to_string()))?;
        self.stored(report_id, &mut guard, seq).await;
        Ok(seq)
    }

    /// After this copy appended update `seq` and applied it: the copy's position, a fold when the
    /// log has grown long, and the write-back into the report a moment later.
    async fn stored(&self, report_id: i64, live: &mut LiveDoc, seq: i64) {
        if seq == live.last_seq + 1 {
            live.last_seq = seq;
        }
        if seq - live.folded >= self.inner.compact_every {
            // The update is stored: a fold that fails (it is tried again after the next update)
            // must not make the client think otherwise and send it again.
            if let Err(e) = self.compact(report_id, live).await {
                tracing::warn!(report_id, error = %e, "the document's log was not compacted");
            }
        }
        if !live.write_pending {
            live.write_pending = true;
            let (docs, delay) = (self.clone(), self.inner.write_delay);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if let Err(e) = docs.write_back(report_id).await {
                    tracing::warn!(report_id, error = %e, "edits not yet written into the report");
                }
            });
        }
    }

    /// Folds the store's log into its snapshot, from what the store holds (never from this copy).
    async fn compact(&self, report_id: i64, live: &mut LiveDoc) -> Result<(), DocError> {
        let store = &self.inner.store;
        let log = store.doc_since(report_id, -1).await?;
        live.folded = live.folded.max(log.folded);
        let Some(&(to, _)) = log.updates.last() else {
            return Ok(());
        };
        let snapshot = match fold(&log) {
            Ok(snapshot) => snapshot,
            Err(why) => {
                tracing::warn!(report_id, why, "the document's log is kept unfolded");
                return Ok(());
            }
        };
        if store.fold_doc(report_id, &snapshot, log.folded, to).await? {
            live.folded = to;
        }
        Ok(())
    }

    /// The session of the report ended on this instance: write the document back, fold the log
    /// into the snapshot, and let the copy go.
    pub async fn session_ended(&self, report_id: i64) -> Result<(), DocError> {
        let live = {
            let live = self
                .inner
                .live
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            live.get(&report_id).cloned()
        };
        let Some(live) = live else { return Ok(()) };
        self.write_back(report_id).await?;
        {
            let mut guard = live.lock().await;
            if !guard.read_only {
                self.compact(report_id, &mut guard).await?;
            }
        }
        self.inner
            .live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&report_id);
        Ok(())
    }

    /// At shutdown: every document this instance holds is written back and compacted, as if each
    /// session had ended (its connections are closing with the process). Answers how many.
    pub async fn shutdown(&self) -> usize {
        let open: Vec<i64> = self
            .inner
            .live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .keys()
            .copied()
            .collect();
        for &report_id in &open {
            if let Err(e) = self.session_ended(report_id).await {
                tracing::warn!(report_id, error = %e, "a document was not written back at shutdown");
            }
        }
        open.len()
    }
}
