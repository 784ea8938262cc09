//! What is cached and how it is named. Every key is namespaced (`pmr:`) and versioned (`v1`, bumped
//! when the shape of cached values changes), carries its type, and the project and report it belongs
//! to (so bulk invalidation knows what it covers), e.g. `pmr:v1:report:p3:r17:outline`.
//!
//! Monte Carlo and insight results are addressed by a digest of their inputs ([`input_digest`]): the
//! data they were computed from, the parameters and the seed. A changed input is a different key, so
//! such an entry can be old but never stale.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Prefix and version of every key and channel.
pub const NAMESPACE: &str = "pmr:v1";

/// The kinds of cached data, each with its own default lifetime (the seed's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheType {
    /// Whole reports and their outlines: 1 hour.
    Report,
    /// AI insights: 30 minutes.
    Insights,
    /// Monte Carlo results: 2 hours.
    MonteCarlo,
    /// Real-time metrics (the portfolio's current figures): 5 minutes.
    Metrics,
    /// Report templates: 24 hours.
    Template,
}

impl CacheType {
    pub const ALL: [CacheType; 5] = [
        CacheType::Report,
        CacheType::Insights,
        CacheType::MonteCarlo,
        CacheType::Metrics,
        CacheType::Template,
    ];

    /// The name in keys, stats and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheType::Report => "report",
            CacheType::Insights => "insights",
            CacheType::MonteCarlo => "monte_carlo",
            CacheType::Metrics => "metrics",
            CacheType::Template => "template",
        }
    }

    /// The seed's lifetime for this type.
    pub const fn default_ttl(self) -> Duration {
        Duration::from_secs(match self {
            CacheType::Report => 3600,
            CacheType::Insights => 1800,
            CacheType::MonteCarlo => 7200,
            CacheType::Metrics => 300,
            CacheType::Template => 86_400,
        })
    }

    /// Parses [`CacheType::as_str`] forms.
    pub fn parse(text: &str) -> Option<CacheType> {
        CacheType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// A cache type chosen by name, or everything (`None`) for no name, an empty one or `all`;
    /// `Err` names the choices.
    pub fn parse_choice(text: Option<&str>) -> Result<Option<CacheType>, String> {
        match text {
            None | Some("") | Some("all") => Ok(None),
            Some(name) => CacheType::parse(name).map(Some).ok_or_else(|| {
                format!(
                    "unknown cache_type '{}': use report, insights, monte_carlo, metrics or template",
                    name.chars().take(40).collect::<String>()
                )
            }),
        }
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for CacheType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One cached value's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub kind: CacheType,
    pub project: Option<i64>,
    pub report: Option<i64>,
    /// What it is within its report or project, e.g. `outline` or an input digest.
    pub name: String,
}

impl CacheKey {
    /// A report's outline (header and section list).
    pub fn report_outline(report: i64) -> CacheKey {
        CacheKey::of_report(report, "outline")
    }

    /// A whole report: outline and every section's content, as served by the REST API.
    pub fn report_document(report: i64) -> CacheKey {
        CacheKey::of_report(report, "document")
    }

    /// One section of a report with its content, as the reader loads it.
    pub fn report_section(report: i64, key: &str) -> CacheKey {
        CacheKey::of_report(report, &format!("section:{key}"))
    }

    /// The project a report belongs to (for access checks on cached reads).
    pub fn report_project(report: i64) -> CacheKey {
        CacheKey::of_report(report, "project")
    }

    fn of_report(report: i64, name: &str) -> CacheKey {
        CacheKey {
            kind: CacheType::Report,
            project: None,
            report: Some(report),
            name: name.into(),
        }
    }

    /// A Monte Carlo result, by the digest of its inputs.
    pub fn monte_carlo(project: i64, inputs: &str) -> CacheKey {
        CacheKey {
            kind: CacheType::MonteCarlo,
            project: Some(project),
            report: None,
            name: inputs.into(),
        }
    }

    /// An insight set, by the digest of its inputs.
    pub fn insights(project: i64, inputs: &str) -> CacheKey {
        CacheKey {
            kind: CacheType::Insights,
            project: Some(project),
            report: None,
            name: inputs.into(),
        }
    }

    /// The portfolio's projects and their current figures.
    pub fn portfolio() -> CacheKey {
        CacheKey {
            kind: CacheType::Metrics,
            project: None,
            report: None,
            name: "portfolio".into(),
        }
    }

    /// A report template's sections.
    pub fn template(template: i64) -> CacheKey {
        CacheKey {
            kind: CacheType::Template,
            project: None,
            report: None,
            name: format!("t{template}"),
        }
    }

    /// Every report template (the list a report is started from and admins change).
    pub fn templates() -> CacheKey {
        CacheKey {
            kind: CacheType::Template,
            project: None,
            report: None,
            name: "all".into(),
        }
    }

    /// The key's text, as stored in both tiers.
    pub fn render(&self) -> String {
        let part = |prefix: char, v: Option<i64>| match v {
            Some(v) => format!("{prefix}{v}"),
            None => "-".to_string(),
        };
        format!(
            "{NAMESPACE}:{}:{}:{}:{}",
            self.kind,
            part('p', self.project),
            part('r', self.report),
            self.name
        )
    }
}

/// What an invalidation covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum Scope {
    /// Everything.
    All,
    /// Every entry of one type.
    Type { kind: CacheType },
    /// Everything of one project: entries tagged with it (insights, Monte Carlo results) and entries of
    /// its reports (listed, since report entries are tagged by report only).
    Project { project: i64, reports: Vec<i64> },
    /// Everything of one report.
    Report { report: i64 },
    /// One entry.
    Key { key: String },
}

impl Scope {
    /// Whether an entry with these tags falls under this scope.
    pub fn covers(
        &self,
        key: &str,
        kind: CacheType,
        project: Option<i64>,
        report: Option<i64>,
    ) -> bool {
        match self {
            Scope::All => true,
            Scope::Type { kind: k } => *k == kind,
            Scope::Project {
                project: p,
                reports,
            } => project == Some(*p) || report.is_some_and(|r| reports.contains(&r)),
            Scope::Report { report: r } => report == Some(*r),
            Scope::Key { key: k } => k == key,
        }
    }
}

/// A short, stable digest of a value's JSON form, for input-addressed keys.
pub fn input_digest<T: Serialize + ?Sized>(value: &T) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let hash = Sha256::digest(&bytes);
    hash.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_namespaced_versioned_and_tagged() {
        assert_eq!(
            CacheKey::report_outline(17).render(),
            "pmr:v1:report:-:r17:outline"
        );
        assert_eq!(
            CacheKey::monte_carlo(3, "ab12").render(),
            "pmr:v1:monte_carlo:p3:-:ab12"
        );
        assert_eq!(
            CacheKey::portfolio().render(),
            "pmr:v1:metrics:-:-:portfolio"
        );
        assert_eq!(CacheKey::template(2).render(), "pmr:v1:template:-:-:t2");
    }

    #[test]
    fn ttls_are_the_seeds() {
        let secs: Vec<u64> = CacheType::ALL
            .iter()
            .map(|t| t.default_ttl().as_secs())
            .collect();
        assert_eq!(secs, [3600, 1800, 7200, 300, 86_400]);
        for t in CacheType::ALL {
            assert_eq!(CacheType::parse(t.as_str()), Some(t));
        }
        assert_eq!(CacheType::parse("nope"), None);
    }

    #[test]
    fn scopes_cover_what_they_say() {
        let key = "k";
        assert!(Scope::All.covers(key, CacheType::Report, None, None));
        let project = Scope::Project {
            project: 3,
            reports: vec![9, 10],
        };
        assert!(project.covers(key, CacheType::MonteCarlo, Some(3), None));
        assert!(project.covers(key, CacheType::Report, None, Some(10)));
        assert!(!project.covers(key, CacheType::Report, Some(4), Some(11)));
        assert!(Scope::Report { report: 9 }.covers(key, CacheType::Report, Some(4), Some(9)));
        assert!(Scope::Type {
            kind: CacheType::Template
        }
        .covers(key, CacheType::Template, None, None));
        assert!(Scope::Key { key: "k".into() }.covers("k", CacheType::Metrics, None, None));
    }

    #[test]
    fn digests_follow_inputs() {
        assert_eq!(input_digest(&(1, "a")), input_digest(&(1, "a")));
        assert_ne!(input_digest(&(1, "a")), input_digest(&(2, "a")));
        assert_eq!(input_digest(&[1.5]).len(), 32);
    }
}
