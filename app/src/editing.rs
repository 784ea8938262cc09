//! Collaborative editing, as both sides name it: the shape of a report's shared document (one text per
//! section narrative, one map of structured fields), its bounds, and the revisions an explicit Save
//! makes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::Rag;

/// Name of the document text holding a section's narrative.
pub fn narrative_text(section_key: &str) -> String {
    format!("narrative:{section_key}")
}

/// Name of the document map of structured fields.
pub const FIELDS_MAP: &str = "fields";
/// Field: the declared overall status, `green`, `amber` or `red`.
pub const FIELD_STATUS: &str = "status";
/// Field: the one-line justification of the declared status.
pub const FIELD_JUSTIFICATION: &str = "justification";

/// Longest narrative kept when the document is written into the report (characters).
pub const MAX_NARRATIVE_CHARS: usize = 20_000;
/// Longest justification kept (characters).
pub const MAX_JUSTIFICATION_CHARS: usize = 500;
/// Longest revision name (characters).
pub const MAX_REVISION_NAME_CHARS: usize = 80;

/// The declared status a field value names, if any.
pub fn status_of(value: &str) -> Option<Rag> {
    match value {
        "green" => Some(Rag::Green),
        "amber" => Some(Rag::Amber),
        "red" => Some(Rag::Red),
        _ => None,
    }
}

/// The first `max` characters of `text`.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => text[..end].to_string(),
        None => text.to_string(),
    }
}

/// A revision as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub number: i64,
    pub name: String,
    /// User name of whoever saved it.
    pub author: String,
    /// RFC 3339.
    pub created_at: String,
}

/// What a revision holds, readable: each section's narrative and the fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionContent {
    pub narratives: BTreeMap<String, String>,
    pub fields: BTreeMap<String, String>,
}

/// A revision with its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionDetail {
    pub revision: Revision,
    pub content: RevisionContent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_counts_characters() {
        assert_eq!(clip("héllo", 2), "hé");
        assert_eq!(clip("abc", 10), "abc");
        assert_eq!(clip("", 0), "");
    }

    #[test]
    fn statuses_are_the_three_colours() {
        assert_eq!(status_of("amber"), Some(Rag::Amber));
        assert_eq!(status_of("Amber"), None);
        assert_eq!(status_of("blue"), None);
    }
}
