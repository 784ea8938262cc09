//! The document behind the editor's texts (`yrs`, offsets in UTF-16 like the browser's caret):
//! local edits become updates for the server, and updates from elsewhere land in the texts without
//! moving the caret of the one being typed in.

use base64::Engine;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlTextAreaElement;
use yrs::updates::decoder::Decode;
use yrs::{
    Assoc, GetString, IndexedSequence, Map, Out, ReadTxn, Text, Transact, Update as YUpdate,
    WriteTxn,
};

use super::{now_ms, Session, B64};
use crate::collab::protocol::ClientMessage;
use crate::collab::text::splice;
use crate::editing::{narrative_text, FIELDS_MAP, FIELD_JUSTIFICATION, FIELD_STATUS};

impl Session {
    /// The textarea being typed in, if it shows one of the document's texts.
    fn focused(&self) -> Option<(String, HtmlTextAreaElement)> {
        let key = self.focus.borrow().clone()?;
        let element = document().get_element_by_id(&format!("edit-{key}"))?;
        let area: HtmlTextAreaElement = element.dyn_into().ok()?;
        (document().active_element()? == **area).then_some((key, area))
    }

    /// Applies an update from elsewhere; the caret of the textarea being typed in stays where
    /// it was in the text around it.
    pub(super) fn apply_remote(&self, update: &str) {
        let Some(update) = B64
            .decode(update)
            .ok()
            .and_then(|bytes| YUpdate::decode_v1(&bytes).ok())
        else {
            return;
        };
        let focused = self.focused();
        let carets = focused.as_ref().and_then(|(key, area)| {
            let txn = self.doc.transact();
            let text = txn.get_text(narrative_text(key).as_str())?;
            let start = area.selection_start().ok().flatten()?;
            let end = area.selection_end().ok().flatten()?;
            Some((
                text.sticky_index(&txn, start, Assoc::Before)?,
                text.sticky_index(&txn, end, Assoc::Before)?,
            ))
        });
        if self.doc.transact_mut().apply_update(update).is_err() {
            return;
        }
        if let (Some((key, area)), Some((start, end))) = (focused, carets) {
            let txn = self.doc.transact();
            if let Some(text) = txn.get_text(narrative_text(&key).as_str()) {
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

    /// Copies the document's texts and fields into the view's signals.
    fn refresh(&self) {
        let txn = self.doc.transact();
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

    /// A textarea's new value becomes one splice of the section's text.
    pub fn edit_text(&self, key: &str, value: &str) {
        let before = self.doc.transact().state_vector();
        {
            let mut txn = self.doc.transact_mut();
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
        let update = self.doc.transact().encode_state_as_update_v1(&before);
        self.send_update(update);
        self.refresh();
        let now = now_ms();
        if now - self.last_typing.get() > 1000.0 {
            self.last_typing.set(now);
            self.send(&ClientMessage::Typing {
                section: key.to_string(),
            });
        }
    }

    /// A structured field's new value.
    pub fn set_field(&self, key: &str, value: &str) {
        let before = self.doc.transact().state_vector();
        {
            let mut txn = self.doc.transact_mut();
            let fields = txn.get_or_insert_map(FIELDS_MAP);
            fields.insert(&mut txn, key, value);
        }
        let update = self.doc.transact().encode_state_as_update_v1(&before);
        self.send_update(update);
        self.refresh();
    }
}
