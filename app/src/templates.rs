//! Report templates as admins manage them: the wire types of the templates page and of
//! `POST`/`PUT /api/templates`, and the one check both ends apply to a template before it is saved.
//!
//! A template is a name and its sections in reading order (key, type, title, loading priority). A
//! report copies its template's sections when it is started and keeps them: changing a template
//! changes the reports started after, never one made before.

use serde::{Deserialize, Serialize};

use crate::model::{Priority, TemplateSection};
use crate::sections::SECTION_TYPES;

/// A template as the templates page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateInfo {
    pub id: i64,
    pub name: String,
    pub sections: Vec<TemplateSection>,
    /// How many reports were started from it (they keep the sections they were made with).
    pub reports: i64,
}

/// A template to create, or what a template becomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateDraft {
    pub name: String,
    pub sections: Vec<TemplateSection>,
}

/// A template save from the page: a new template (`id` none) or a change to one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateSave {
    pub id: Option<i64>,
    pub draft: TemplateDraft,
}

/// Longest template name, in characters.
pub const MAX_NAME_CHARS: usize = 80;
/// Longest section title, in characters.
pub const MAX_TITLE_CHARS: usize = 80;
/// Longest section key, in bytes (lower-case letters, digits and dashes).
pub const MAX_KEY_BYTES: usize = 40;

/// The key a new section of this type gets: its type with dashes (`monte_carlo` → `monte-carlo`),
/// the keys the standard template uses, so anchors stay the same across templates.
pub fn default_key(section_type: &str) -> String {
    section_type.replace('_', "-")
}

/// The words a section type is offered under.
pub fn type_label(section_type: &str) -> &'static str {
    match section_type {
        "executive_summary" => "Executive summary",
        "key_metrics" => "Key metrics (earned value)",
        "ai_insights" => "AI insights",
        "monte_carlo" => "Monte Carlo risk analysis",
        "charts" => "Performance charts",
        "milestones" => "Milestones",
        "risks" => "Risks",
        "appendix" => "Appendix: task table",
        _ => "Unknown section type",
    }
}

/// The words a loading priority is offered under.
pub fn priority_label(priority: Priority) -> &'static str {
    match priority {
        Priority::High => "High: loads with the page",
        Priority::Medium => "Medium: loads when near the screen",
        Priority::Low => "Low: loads when on the screen",
    }
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// Every problem of a template, in words an admin can act on; empty when it can be saved. `names`
/// are the other templates' names (a name is used once).
pub fn check_template(draft: &TemplateDraft, names: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    let name = draft.name.trim();
    if name.is_empty() {
        problems.push("The template needs a name.".to_string());
    } else if name.chars().count() > MAX_NAME_CHARS {
        problems.push(format!(
            "The name is longer than {MAX_NAME_CHARS} characters."
        ));
    } else if has_control(name) {
        problems.push("The name cannot hold line breaks or control characters.".to_string());
    } else if names.iter().any(|n| n.trim().eq_ignore_ascii_case(name)) {
        problems.push(format!("A template named '{name}' exists already."));
    }
    if draft.sections.is_empty() {
        problems.push("A template needs at least one section.".to_string());
    }
    if draft.sections.len() > SECTION_TYPES.len() {
        problems.push(format!(
            "A template has at most {} sections, one of each type.",
            SECTION_TYPES.len()
        ));
        return problems;
    }
    for (i, s) in draft.sections.iter().enumerate() {
        let place = format!("Section {}", i + 1);
        if !SECTION_TYPES.contains(&s.section_type.as_str()) {
            let known = SECTION_TYPES.join(", ");
            problems.push(format!(
                "{place}: '{}' is not a section type (one of {known}).",
                s.section_type.chars().take(40).collect::<String>()
            ));
        } else if draft.sections[..i]
            .iter()
            .any(|o| o.section_type == s.section_type)
        {
            problems.push(format!(
                "{place}: {} appears twice; a template has each type once.",
                type_label(&s.section_type)
            ));
        }
        let title = s.title.trim();
        if title.is_empty() {
            problems.push(format!("{place} needs a title."));
        } else if title.chars().count() > MAX_TITLE_CHARS {
            problems.push(format!(
                "{place}: the title is longer than {MAX_TITLE_CHARS} characters."
            ));
        } else if has_control(title) {
            problems.push(format!(
                "{place}: the title cannot hold line breaks or control characters."
            ));
        }
        let key_ok = !s.key.is_empty()
            && s.key.len() <= MAX_KEY_BYTES
            && s.key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.key.starts_with('-');
        if !key_ok {
            problems.push(format!(
                "{place}: the key must be 1 to {MAX_KEY_BYTES} lower-case letters, digits or dashes, not starting with a dash."
            ));
        } else if draft.sections[..i].iter().any(|o| o.key == s.key) {
            problems.push(format!("{place}: the key '{}' is used twice.", s.key));
        }
    }
    problems
}

/// The draft as it is stored: name and titles trimmed.
pub fn tidy(mut draft: TemplateDraft) -> TemplateDraft {
    draft.name = draft.name.trim().to_string();
    for s in &mut draft.sections {
        s.title = s.title.trim().to_string();
    }
    draft
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(key: &str, section_type: &str, title: &str) -> TemplateSection {
        TemplateSection {
            key: key.into(),
            section_type: section_type.into(),
            title: title.into(),
            priority: Priority::Medium,
        }
    }

    fn draft(sections: Vec<TemplateSection>) -> TemplateDraft {
        TemplateDraft {
            name: "Board pack".into(),
            sections,
        }
    }

    #[test]
    fn a_good_template_passes() {
        let d = draft(
            SECTION_TYPES
                .iter()
                .map(|t| section(&default_key(t), t, type_label(t)))
                .collect(),
        );
        assert_eq!(
            check_template(&d, &["Standard monthly report".into()]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn every_rule_is_said_with_its_place() {
        let d = TemplateDraft {
            name: " standard monthly REPORT ".into(),
            sections: vec![
                section("summary", "executive_summary", "Summary"),
                section("summary", "executive_summary", " "),
                section("-x", "gantt", "Gantt"),
                section("Risks", "risks", "Risks\nand more"),
            ],
        };
        let problems = check_template(&d, &["Standard monthly report".into()]);
        assert_eq!(
            problems,
            vec![
                "A template named 'standard monthly REPORT' exists already.",
                "Section 2: Executive summary appears twice; a template has each type once.",
                "Section 2 needs a title.",
                "Section 2: the key 'summary' is used twice.",
                "Section 3: 'gantt' is not a section type (one of executive_summary, key_metrics, ai_insights, monte_carlo, charts, milestones, risks, appendix).",
                "Section 3: the key must be 1 to 40 lower-case letters, digits or dashes, not starting with a dash.",
                "Section 4: the title cannot hold line breaks or control characters.",
                "Section 4: the key must be 1 to 40 lower-case letters, digits or dashes, not starting with a dash.",
            ]
        );
    }

    #[test]
    fn empty_and_oversized_templates_are_refused() {
        let mut d = draft(vec![]);
        d.name = "x".repeat(81);
        assert_eq!(
            check_template(&d, &[]),
            vec![
                "The name is longer than 80 characters.",
                "A template needs at least one section.",
            ]
        );
        let nine = (0..9)
            .map(|i| section(&format!("s{i}"), "appendix", "A"))
            .collect();
        assert_eq!(
            check_template(&draft(nine), &[]),
            vec!["A template has at most 8 sections, one of each type."]
        );
    }

    #[test]
    fn tidy_trims_what_is_shown() {
        let d = tidy(TemplateDraft {
            name: "  Lean ".into(),
            sections: vec![section("risks", "risks", " Risks ")],
        });
        assert_eq!(d.name, "Lean");
        assert_eq!(d.sections[0].title, "Risks");
    }
}
