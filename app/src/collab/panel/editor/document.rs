//! The document behind the editor's texts (`yrs`, offsets in UTF-16 like the browser's caret):
//! local edits become updates for the server, and updates from elsewhere land in the texts without
//! moving the caret of the one being typed in. It comes with the editor's chunk; the session knows
//! it as a [`TextDocument`].

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlTextAreaElement;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{
    Assoc, Doc, GetString, IndexedSequence, Map, OffsetKind, Options, Out, ReadTxn, StateVector,
    Text, Transact, Update as YUpdate, WriteTxn,
};

use super::super::session::TextDocument;
use super::super::Shared;
use crate::collab::text::splice;
use crate::editing::{narrative_text, FIELDS_MAP, FIELD_JUSTIFICATION, FIELD_STATUS};

/// The report's shared texts and fields, and the signals the editor shows them in.
pub struct Document {
    /// Replaced by an empty one when the server refuses the copy's edits for good (`reset`).
    doc: std::cell::RefCell<Doc>,
    shared: Shared,
}

/// An empty document, offsets in UTF-16.
fn empty_doc() -> Doc {
    Doc::with_options(Options {
        offset_kind: OffsetKind::Utf16,
        ..Options::default()
    })
}

impl Document {
    pub fn new(shared: Shared) -> Document {
        Document {
            doc: std::cell::RefCell::new(empty_doc()),
            shared,
        }
    }

    /// The document now (a handle: `yrs` documents are shared references).
    fn doc(&self) -> Doc {
        self.doc.borrow().clone()
    }

    /// The textarea of a section, if it is the one being typed in.
    fn focused(key: &str) -> Option<HtmlTextAreaElement> {
        let element = document().get_element_by_id(&format!("edit-{key}"))?;
        let area: HtmlTextAreaElement = element.dyn_into().ok()?;
        (document().active_element()? == **area).then_some(area)
    }

    /// Copies the document's texts and fields into the view's signals.
    fn refresh(&self) {
        let doc = self.doc();
        let txn = doc.transact();
        let mut texts = std::collections::BTreeMap::new();
        for (name, _) in txn.root_refs() {
            if let Some(key) = name.strip_prefix("narrative:") {
                if let Some(text) = txn.get_text(name) {
                    texts.insert(key.to_string(), text.get_string(&txn));
                }
            }
        }
        if self.shared.texts.with_untracked(|t| *t != texts) {
            self.shared.texts.set(texts);
        }
        if let Some(fields) = txn.get_map(FIELDS_MAP) {
            let read = |key: &str| match fields.get(&txn, key) {
                Some(Out::Any(yrs::Any::String(s))) => s.to_string(),
                _ => String::new(),
            };
            let (status, why) = (read(FIELD_STATUS), read(FIELD_JUSTIFICATION));
            if self.shared.status.get_untracked() != status {
                self.shared.status.set(status);
            }
            if self.shared.justification.get_untracked() != why {
                self.shared.justification.set(why);
            }
        }
    }
}

impl TextDocument for Document {
    fn edit_text(&self, key: &str, value: &str) -> Vec<u8> {
        let before = self.doc().transact().state_vector();
        {
            let doc = self.doc();
            let mut txn = doc.transact_mut();
            let text = txn.get_or_insert_text(narrative_text(key).as_str());
            let old = text.get_string(&txn);
            let (at, removed, inserted) = splice(&old, value);
            if removed > 0 {
                text.remove_range(&mut txn, at, removed);
            }
            if !inserted.is_empty() {
                text.insert(&mut txn, at, &inserted);
            }
        }
        let update = self.doc().transact().encode_state_as_update_v1(&before);
        self.refresh();
        update
    }

    fn set_field(&self, key: &str, value: &str) -> Vec<u8> {
        let before = self.doc().transact().state_vector();
        {
            let doc = self.doc();
            let mut txn = doc.transact_mut();
            let fields = txn.get_or_insert_map(FIELDS_MAP);
            fields.insert(&mut txn, key, value);
        }
        let update = self.doc().transact().encode_state_as_update_v1(&before);
        self.refresh();
        update
    }

    fn state_vector(&self) -> Vec<u8> {
        self.doc().transact().state_vector().encode_v1()
    }

    fn apply_remote(&self, update: &[u8], focus: Option<&str>) {
        let Ok(update) = YUpdate::decode_v1(update) else {
            return;
        };
        let focused = focus.and_then(|key| Some((key, Document::focused(key)?)));
        let carets = focused.as_ref().and_then(|(key, area)| {
            let doc = self.doc();
            let txn = doc.transact();
            let text = txn.get_text(narrative_text(key).as_str())?;
            let start = area.selection_start().ok().flatten()?;
            let end = area.selection_end().ok().flatten()?;
            Some((
                text.sticky_index(&txn, start, Assoc::Before)?,
                text.sticky_index(&txn, end, Assoc::Before)?,
            ))
        });
        if self.doc().transact_mut().apply_update(update).is_err() {
            return;
        }
        if let (Some((key, area)), Some((start, end))) = (focused, carets) {
            let doc = self.doc();
            let txn = doc.transact();
            if let Some(text) = txn.get_text(narrative_text(key).as_str()) {
                let value = text.get_string(&txn);
                if area.value() != value {
                    area.set_value(&value);
                    let at = |s: &yrs::StickyIndex| s.get_offset(&txn).map(|o| o.index);
                    if let (Some(a), Some(b)) = (at(&start), at(&end)) {
                        let _ = area.set_selection_range(a, b);
                    }
                }
            }
        }
        self.refresh();
    }

    fn missing_for(&self, state_vector: &[u8]) -> Option<Vec<u8>> {
        let theirs = StateVector::decode_v1(state_vector).ok()?;
        Some(self.doc().transact().encode_state_as_update_v1(&theirs))
    }

    fn is_empty_update(&self, update: &[u8]) -> bool {
        YUpdate::decode_v1(update).is_ok_and(|u| u.is_empty())
    }

    fn reset(&self) {
        *self.doc.borrow_mut() = empty_doc();
    }
}
