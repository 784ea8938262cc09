//! Formatting numbers, money and filters for display. Pure functions with unit tests; components call
//! them and stay free of logic.

use crate::calendar::Date;
use crate::model::ProjectSummary;

/// `n` and its noun, singular or plural: `count(1, "day", "days")` is "1 day".
pub fn count(n: impl Into<i64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 || n == -1 { one } else { many })
}

/// As [`count`] for a count of things (a `usize`).
pub fn count_of(n: usize, one: &str, many: &str) -> String {
    count(i64::try_from(n).unwrap_or(i64::MAX), one, many)
}

/// Money in a compact, readable form: `€12.4M`, `$850k`, `£1,200`.
pub fn compact_money(amount: f64, currency: &str) -> String {
    let symbol = match currency {
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        _ => "",
    };
    let sign = if amount < 0.0 { "-" } else { "" };
    let body = compact_number(amount.abs());
    if symbol.is_empty() {
        format!("{sign}{body} {currency}")
    } else {
        format!("{sign}{symbol}{body}")
    }
}

/// A number in a compact form for axes: `12.4M`, `850k`, `1,200`, `-3.1M`.
pub fn compact_number(value: f64) -> String {
    let abs = value.abs();
    let sign = if value < 0.0 { "-" } else { "" };
    let body = if abs >= 1e9 {
        format!("{:.1}B", abs / 1e9)
    } else if abs >= 1e6 {
        format!("{:.1}M", abs / 1e6)
    } else if abs >= 1e4 {
        format!("{:.0}k", abs / 1e3)
    } else {
        group_thousands(abs.round() as u64)
    };
    format!("{sign}{body}")
}

/// A whole number with thousands separators: `10,000`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// An ISO date (`2027-04-23`) as readers write it (`23 Apr 2027`); other text is returned unchanged.
pub fn readable_date(iso: &str) -> String {
    Date::parse_iso(iso).map_or_else(|| iso.to_string(), Date::readable)
}

/// Whether a project matches the portfolio filter: every word of `query` must appear (ignoring case)
/// in its code, name or manager. An empty query matches everything.
pub fn project_matches(project: &ProjectSummary, query: &str) -> bool {
    let haystack = format!("{} {} {}", project.code, project.name, project.manager).to_lowercase();
    query
        .split_whitespace()
        .all(|word| haystack.contains(&word.to_lowercase()))
}

/// The text with its first letter in upper case (for messages built from lower-case parts).
pub fn sentence_case(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Percent-encodes everything but unreserved characters and `/`, for a path carried in a query
/// parameter (`/login?next=/reports/3%3Ftab%3Drisks`).
pub fn percent_encode_path(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Rag;

    fn project(code: &str, name: &str, manager: &str) -> ProjectSummary {
        ProjectSummary {
            id: 1,
            code: code.into(),
            name: name.into(),
            manager: manager.into(),
            currency: "EUR".into(),
            budget: 1.0,
            start_date: "2026-01-01".into(),
            target_finish: "2027-01-01".into(),
            declared_overall: Rag::Green,
            status_justification: String::new(),
            computed_overall: None,
            performance: None,
            trend: crate::model::Trend::Unknown,
            reports: vec![],
        }
    }

    #[test]
    fn money_is_compact_with_symbols() {
        assert_eq!(compact_money(12_400_000.0, "EUR"), "€12.4M");
        assert_eq!(compact_money(850_000.0, "USD"), "$850k");
        assert_eq!(compact_money(1_200.0, "GBP"), "£1,200");
        assert_eq!(compact_money(-2_500_000_000.0, "USD"), "-$2.5B");
        assert_eq!(compact_money(999.0, "CHF"), "999 CHF");
    }

    #[test]
    fn dates_read_naturally() {
        assert_eq!(readable_date("2027-04-03"), "3 Apr 2027");
        assert_eq!(readable_date("soon"), "soon");
    }

    #[test]
    fn filter_needs_every_word_in_any_field() {
        let p = project("HBR", "Harbor Bridge Rehabilitation", "Ana Lopes");
        assert!(project_matches(&p, ""));
        assert!(project_matches(&p, "bridge"));
        assert!(project_matches(&p, "hbr lopes"));
        assert!(!project_matches(&p, "bridge portal"));
    }
}
