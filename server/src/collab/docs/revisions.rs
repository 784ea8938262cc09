//! What the document says, put into the report (write-back, also after a regeneration) and kept as
//! named revisions (save, restore).

use app::editing::{
    clip, narrative_text, status_of, Revision, RevisionContent, FIELDS_MAP, FIELD_JUSTIFICATION,
    FIELD_STATUS, MAX_JUSTIFICATION_CHARS, MAX_NARRATIVE_CHARS, MAX_REVISION_NAME_CHARS,
};
use base64::Engine;
use yrs::{GetString, Map, ReadTxn, StateVector, Text, Transact, WriteTxn};

use super::yjs::content_of;
use super::{DocError, Documents, B64};
use crate::storage::StoreError;

#[async_trait::async_trait]
impl crate::reports::KeepEdits for Documents {
    /// A report people have edited keeps their narratives, status and justification: the
    /// document is written back over the regenerated texts.
    async fn after_regeneration(&self, report_id: i64) {
        self.write_back_if_edited(report_id, "after regeneration")
            .await;
    }

    /// The store refuses edits to the report from now on; what was stored before is written into
    /// it (the write-back catches up from the store first), and this copy stops taking edits.
    async fn after_publication(&self, report_id: i64, _by: &str) {
        if self.write_back_if_edited(report_id, "at publication").await {
            if let Some(live) = self.held(report_id) {
                live.lock().await.read_only = true;
            }
        }
    }
}

impl Documents {
    /// Writes the document back into the report if the report has one (someone opened it to
    /// edit); a failure is logged with `when`. Answers whether there is a document.
    async fn write_back_if_edited(&self, report_id: i64, when: &str) -> bool {
        if !self
            .inner
            .store
            .doc_exists(report_id)
            .await
            .unwrap_or(false)
        {
            return false;
        }
        if let Err(e) = self.write_back(report_id).await {
            tracing::warn!(report = report_id, error = %e, "edited texts not written back {when}");
        }
        true
    }
}

impl Documents {
    /// Writes the document into the report now (narratives, summary status and justification), and
    /// drops the report's cached copies when something changed.
    pub async fn write_back(&self, report_id: i64) -> Result<(), DocError> {
        let live = self.copy(report_id).await?;
        let mut guard = live.lock().await;
        guard.write_pending = false;
        self.catch_up(report_id, &mut guard).await?;
        let content = content_of(&guard.doc, &guard.sections);
        let narratives: Vec<(String, String)> = content
            .narratives
            .iter()
            .map(|(k, v)| (k.clone(), clip(v, MAX_NARRATIVE_CHARS)))
            .collect();
        let summary = match &guard.summary_key {
            Some(key) => self.summary_content(report_id, key, &content).await?,
            None => None,
        };
        let changed = self
            .inner
            .store
            .write_document(
                report_id,
                guard.last_seq,
                &narratives,
                summary.as_ref().map(|(k, c)| (k.as_str(), c.clone())),
            )
            .await?;
        drop(guard);
        if changed {
            self.inner.cache.invalidate_report(report_id).await;
        }
        Ok(())
    }

    /// The executive summary's content with the document's status and justification in it.
    async fn summary_content(
        &self,
        report_id: i64,
        key: &str,
        content: &RevisionContent,
    ) -> Result<Option<(String, String)>, DocError> {
        let Some(section) = self.inner.store.report_document(report_id).await? else {
            return Ok(None);
        };
        let Some(mut summary) = section
            .sections
            .into_iter()
            .find(|s| s.key == key)
            .map(|s| s.content)
        else {
            return Ok(None);
        };
        let Ok(mut typed) =
            serde_json::from_value::<app::sections::ExecutiveSummary>(summary.clone())
        else {
            return Ok(None);
        };
        if let Some(status) = content.fields.get(FIELD_STATUS).and_then(|s| status_of(s)) {
            typed.overall_declared = status;
            for check in &mut typed.checks {
                if check.dimension == app::analysis::Dimension::Overall {
                    check.declared = status;
                    check.mismatch = crate::domain::rag::mismatch(status, check.computed);
                }
            }
        }
        if let Some(why) = content.fields.get(FIELD_JUSTIFICATION) {
            typed.justification = clip(why, MAX_JUSTIFICATION_CHARS);
        }
        summary = serde_json::to_value(&typed).unwrap_or(summary);
        Ok(Some((key.to_string(), summary.to_string())))
    }

    /// Saves a named revision of the document as it is now.
    pub async fn save(
        &self,
        report_id: i64,
        name: &str,
        author: &str,
    ) -> Result<Revision, DocError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_REVISION_NAME_CHARS {
            return Err(DocError::BadName);
        }
        // A copy that knows the report is published refuses before writing anything back.
        if let Some(held) = self.held(report_id) {
            if held.lock().await.read_only {
                return Err(DocError::ReadOnly);
            }
        }
        self.write_back(report_id).await?;
        let live = self.copy(report_id).await?;
        let mut guard = live.lock().await;
        if guard.read_only {
            return Err(DocError::ReadOnly);
        }
        let snapshot = guard
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let content = content_of(&guard.doc, &guard.sections);
        match self
            .inner
            .store
            .create_revision(report_id, name, author, &B64.encode(snapshot), &content)
            .await
        {
            Ok(Some(revision)) => Ok(revision),
            Ok(None) => Err(DocError::TooManyRevisions),
            // Published, here or on another instance.
            Err(StoreError::Final(_)) => {
                guard.read_only = true;
                Err(DocError::ReadOnly)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Makes the document say what revision `number` said, as an edit of its own (so it merges
    /// with whatever others type meanwhile); answers that edit's update (base64) for the session.
    pub async fn restore(
        &self,
        report_id: i64,
        number: i64,
        author: &str,
    ) -> Result<String, DocError> {
        let (_, content) = self
            .inner
            .store
            .revision(report_id, number)
            .await?
            .ok_or(DocError::NoRevision(number))?;
        let live = self.copy(report_id).await?;
        let mut guard = live.lock().await;
        if guard.read_only {
            return Err(DocError::ReadOnly);
        }
        self.catch_up(report_id, &mut guard).await?;
        let before = guard.doc.transact().state_vector();
        {
            let mut txn = guard.doc.transact_mut();
            for (key, old) in &content.narratives {
                let text = txn.get_or_insert_text(narrative_text(key).as_str());
                let now = text.get_string(&txn);
                if &now != old {
                    let len = text.len(&txn);
                    text.remove_range(&mut txn, 0, len);
                    text.insert(&mut txn, 0, old);
                }
            }
            let fields = txn.get_or_insert_map(FIELDS_MAP);
            for (key, value) in &content.fields {
                fields.insert(&mut txn, key.as_str(), value.as_str());
            }
        }
        let update = B64.encode(guard.doc.transact().encode_state_as_update_v1(&before));
        let seq = match self
            .inner
            .store
            .append_doc_update(report_id, &update, author)
            .await
        {
            Ok(seq) => seq,
            Err(crate::storage::StoreError::Final(_)) => {
                guard.read_only = true;
                return Err(DocError::ReadOnly);
            }
            Err(e) => return Err(e.into()),
        };
        self.stored(report_id, &mut guard, seq).await;
        drop(guard);
        self.write_back(report_id).await?;
        Ok(update)
    }
}
