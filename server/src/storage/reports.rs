//! Report templates, monthly reports and their sections. A template lists sections (key, type, title,
//! priority) in order; a report is created from one for a project and a month, with one section row
//! per template entry.

use app::model::{ReportDocument, SectionDocument};
use app::model::{ReportOutline, ReportStatus, SectionOutline, TemplateSection};
use app::sections::{ReportSection, SectionContent, SectionPayload};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::Row;

use super::parse;
use super::{Store, StoreError};

/// The reports that are their month's current one, as a condition on `reports` (aliased `r`): not
/// superseded, and either a month's first report or a published correction (a correction being
/// drafted is reached from the report it corrects). Lists, neighbours and history read only these.
pub const CURRENT: &str = "r.superseded_by IS NULL AND (r.corrects IS NULL OR r.status = 'final')";

/// What [`Store::start_correction`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrectionStart {
    /// A new draft (its id) correcting the report, with the published sections as they are.
    Started(i64),
    /// A correction of the report is being drafted already (its id).
    Drafting(i64),
    /// The report is a draft: it is edited, not corrected.
    NotPublished,
    /// A published correction replaced the report already (its id): correct that one.
    Superseded(i64),
    Missing,
}

/// A report to insert.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub project_id: i64,
    /// The month reported on, `YYYY-MM`.
    pub period: String,
    pub template_id: i64,
    pub status: ReportStatus,
    pub title: String,
}

/// A section to insert into a report.
#[derive(Debug, Clone)]
pub struct NewSection {
    pub report_id: i64,
    pub position: i64,
    pub template: TemplateSection,
    /// Structured content as JSON text.
    pub content: String,
    pub narrative: String,
}

/// Inserts a template and returns its id.
pub async fn insert_template(
    conn: &mut AnyConnection,
    name: &str,
    sections: &[TemplateSection],
) -> Result<i64, StoreError> {
    let json = serde_json::to_string(sections).map_err(|e| StoreError::Corrupt {
        table: "report_templates",
        detail: e.to_string(),
    })?;
    let id = sqlx::query_scalar(
        "INSERT INTO report_templates (name, sections) VALUES ($1, $2) RETURNING id",
    )
    .bind(name)
    .bind(json)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// What [`Store::publish_report`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publication {
    /// The draft is final now.
    Published,
    /// The report was final already; nothing changed.
    AlreadyFinal,
    /// No report has this id.
    Missing,
}

/// Inserts a report (without sections) and returns its id.
pub async fn insert_report(conn: &mut AnyConnection, r: &NewReport) -> Result<i64, StoreError> {
    let now = chrono::Utc::now().to_rfc3339();
    let finalized = (r.status == ReportStatus::Final).then(|| now.clone());
    let id = sqlx::query_scalar(
        "INSERT INTO reports (project_id, period, template_id, status, title, created_at,
            updated_at, finalized_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING id",
    )
    .bind(r.project_id)
    .bind(&r.period)
    .bind(r.template_id)
    .bind(r.status.as_str())
    .bind(&r.title)
    .bind(&now)
    .bind(finalized)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// Inserts a report section and returns its id.
pub async fn insert_section(conn: &mut AnyConnection, s: &NewSection) -> Result<i64, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO report_sections (report_id, position, section_key, section_type, title,
            priority, content, narrative, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(s.report_id)
    .bind(s.position)
    .bind(&s.template.key)
    .bind(&s.template.section_type)
    .bind(&s.template.title)
    .bind(s.template.priority.as_str())
    .bind(&s.content)
    .bind(&s.narrative)
    .bind(chrono::Utc::now().to_rfc3339())
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// What generation needs to know about a report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportMeta {
    pub id: i64,
    pub project_id: i64,
    pub period: String,
    pub status: ReportStatus,
    pub template_id: i64,
    pub revision: i64,
    /// The published report this one corrects.
    pub corrects: Option<i64>,
}

impl Store {
    /// A report's project, period, status and template; `None` if there is no such report.
    pub async fn report_meta(&self, report_id: i64) -> Result<Option<ReportMeta>, StoreError> {
        let row = sqlx::query(
            "SELECT id, project_id, period, status, template_id, revision, corrects
             FROM reports WHERE id = $1",
        )
        .bind(report_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(ReportMeta {
                id: r.try_get("id")?,
                project_id: r.try_get("project_id")?,
                period: r.try_get("period")?,
                status: parse(&r, "status", "reports")?,
                template_id: r.try_get("template_id")?,
                revision: r.try_get("revision")?,
                corrects: r.try_get("corrects")?,
            })
        })
        .transpose()
    }

    /// Ids of a project's reports.
    pub async fn report_ids(&self, project_id: i64) -> Result<Vec<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM reports WHERE project_id = $1 ORDER BY id")
                .bind(project_id)
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// A whole report: its outline and every section's stored content, in template order. The
    /// section rows are read once, for both.
    pub async fn report_document(
        &self,
        report_id: i64,
    ) -> Result<Option<ReportDocument>, StoreError> {
        let rows = self.section_rows(report_id).await?;
        let Some(outline) = self.outline_with_sections(report_id, &rows).await? else {
            return Ok(None);
        };
        let mut sections = Vec::with_capacity(rows.len());
        for r in &rows {
            let key: String = r.try_get("section_key")?;
            let content: String = r.try_get("content")?;
            let content = serde_json::from_str(&content).map_err(|e| StoreError::Corrupt {
                table: "report_sections",
                detail: format!("content of section {key} of report {report_id}: {e}"),
            })?;
            sections.push(SectionDocument {
                key,
                content,
                narrative: r.try_get("narrative")?,
                version: r.try_get("version")?,
                updated_at: r.try_get("updated_at")?,
            });
        }
        Ok(Some(ReportDocument { outline, sections }))
    }

    /// One section of a report with its content read by type; `None` when the report has no section
    /// with this key.
    pub async fn report_section(
        &self,
        report_id: i64,
        key: &str,
    ) -> Result<Option<ReportSection>, StoreError> {
        let Some(r) = sqlx::query(
            "SELECT section_key, section_type, title, content, narrative, version, updated_at
             FROM report_sections WHERE report_id = $1 AND section_key = $2",
        )
        .bind(report_id)
        .bind(key)
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let section_type: String = r.try_get("section_type")?;
        let content: String = r.try_get("content")?;
        let content =
            SectionPayload::parse(&section_type, &content).map_err(|e| StoreError::Corrupt {
                table: "report_sections",
                detail: format!("content of section {key} of report {report_id}: {e}"),
            })?;
        Ok(Some(ReportSection {
            report_id,
            key: r.try_get("section_key")?,
            section_type,
            title: r.try_get("title")?,
            content,
            narrative: r.try_get("narrative")?,
            version: r.try_get("version")?,
            updated_at: r.try_get("updated_at")?,
        }))
    }

    /// The sections of a template, in order; `None` when no template has this id.
    pub async fn template_sections(
        &self,
        template_id: i64,
    ) -> Result<Option<Vec<TemplateSection>>, StoreError> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT sections FROM report_templates WHERE id = $1")
                .bind(template_id)
                .fetch_optional(self.pool())
                .await?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|e| StoreError::Corrupt {
                table: "report_templates",
                detail: e.to_string(),
            })
        })
        .transpose()
    }

    /// The sections a report was made with (key, type, title, priority), in order: the template as it
    /// was when the report was started, whatever has become of the template since.
    pub async fn report_layout(&self, report_id: i64) -> Result<Vec<TemplateSection>, StoreError> {
        let rows = sqlx::query(
            "SELECT section_key, section_type, title, priority FROM report_sections
             WHERE report_id = $1 ORDER BY position, id",
        )
        .bind(report_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TemplateSection {
                    key: row.try_get("section_key")?,
                    section_type: row.try_get("section_type")?,
                    title: row.try_get("title")?,
                    priority: parse(row, "priority", "report_sections")?,
                })
            })
            .collect()
    }

    /// Makes a draft report final, naming who published it; a correction supersedes the report it
    /// corrects in the same transaction. The report's row is the lock the document log takes too
    /// (`append_doc_update`), so every edit commits before the publication or is refused after it,
    /// on every instance.
    pub async fn publish_report(
        &self,
        report_id: i64,
        by: &str,
    ) -> Result<Publication, StoreError> {
        let stamp = chrono::Utc::now().to_rfc3339();
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE reports SET status = 'final', finalized_at = $2, updated_at = $2,
                published_by = $3
             WHERE id = $1 AND status = 'draft'",
        )
        .bind(report_id)
        .bind(&stamp)
        .bind(by)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            sqlx::query(
                "UPDATE reports SET superseded_by = $1
                 WHERE id = (SELECT corrects FROM reports WHERE id = $1) AND superseded_by IS NULL",
            )
            .bind(report_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(Publication::Published);
        }
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM reports WHERE id = $1")
            .bind(report_id)
            .fetch_optional(&mut *tx)
            .await?;
        Ok(match exists {
            Some(_) => Publication::AlreadyFinal,
            None => Publication::Missing,
        })
    }

    /// Starts a correction of a published report: a draft of the month's next revision, made with
    /// the same sections and holding what was published (content and narratives), to be edited,
    /// regenerated and published like any draft. The published report is not touched.
    pub async fn start_correction(&self, report_id: i64) -> Result<CorrectionStart, StoreError> {
        let mut tx = self.begin().await?;
        let Some(row) = sqlx::query(
            "SELECT project_id, period, template_id, status, title, superseded_by
             FROM reports WHERE id = $1",
        )
        .bind(report_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(CorrectionStart::Missing);
        };
        let status: ReportStatus = parse(&row, "status", "reports")?;
        if status == ReportStatus::Draft {
            return Ok(CorrectionStart::NotPublished);
        }
        if let Some(newer) = row.try_get::<Option<i64>, _>("superseded_by")? {
            return Ok(CorrectionStart::Superseded(newer));
        }
        let drafting: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM reports WHERE corrects = $1 AND status = 'draft' LIMIT 1",
        )
        .bind(report_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(draft) = drafting {
            return Ok(CorrectionStart::Drafting(draft));
        }
        let project_id: i64 = row.try_get("project_id")?;
        let period: String = row.try_get("period")?;
        let revision: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(revision), 0) + 1 FROM reports WHERE project_id = $1 AND period = $2",
        )
        .bind(project_id)
        .bind(&period)
        .fetch_one(&mut *tx)
        .await?;
        let now = chrono::Utc::now().to_rfc3339();
        // Two corrections started at once: the month's revision number is unique, so one fails.
        let correction: i64 = sqlx::query_scalar(
            "INSERT INTO reports (project_id, period, template_id, status, title, created_at,
                updated_at, revision, corrects)
             VALUES ($1, $2, $3, 'draft', $4, $5, $5, $6, $7) RETURNING id",
        )
        .bind(project_id)
        .bind(&period)
        .bind(row.try_get::<i64, _>("template_id")?)
        .bind(row.try_get::<String, _>("title")?)
        .bind(&now)
        .bind(revision)
        .bind(report_id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO report_sections (report_id, position, section_key, section_type, title,
                priority, content, narrative, updated_at)
             SELECT $1, position, section_key, section_type, title, priority, content, narrative, $2
             FROM report_sections WHERE report_id = $3",
        )
        .bind(correction)
        .bind(&now)
        .bind(report_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(CorrectionStart::Started(correction))
    }

    pub async fn report_outline(
        &self,
        report_id: i64,
    ) -> Result<Option<ReportOutline>, StoreError> {
        let rows = self.section_rows(report_id).await?;
        self.outline_with_sections(report_id, &rows).await
    }

    /// The outline of a report whose section rows ([`Self::section_rows`]) are already read.
    async fn outline_with_sections(
        &self,
        report_id: i64,
        sections: &[AnyRow],
    ) -> Result<Option<ReportOutline>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT r.id, r.project_id, p.code, p.name, r.period, r.status, r.title,
                p.declared_overall, r.published_by, r.finalized_at, r.revision, r.corrects,
                r.superseded_by,
                (SELECT MIN(c.id) FROM reports c WHERE c.corrects = r.id AND c.status = 'draft')
                    AS correction_draft
             FROM reports r JOIN projects p ON p.id = r.project_id WHERE r.id = $1",
        )
        .bind(report_id)
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let project_id: i64 = row.try_get("project_id")?;
        let period: String = row.try_get("period")?;
        let (previous_report_id, next_report_id) = self.neighbours(project_id, &period).await?;
        Ok(Some(ReportOutline {
            id: row.try_get("id")?,
            project_id,
            project_code: row.try_get("code")?,
            project_name: row.try_get("name")?,
            period,
            status: parse(&row, "status", "reports")?,
            title: row.try_get("title")?,
            declared_overall: parse(&row, "declared_overall", "projects")?,
            previous_report_id,
            next_report_id,
            summary: summary_narrative(sections)?,
            published_by: row.try_get("published_by")?,
            published_at: row.try_get("finalized_at")?,
            revision: row.try_get("revision")?,
            corrects: row.try_get("corrects")?,
            superseded_by: row.try_get("superseded_by")?,
            correction_draft: row.try_get("correction_draft")?,
            sections: sections
                .iter()
                .map(section_outline)
                .collect::<Result<_, _>>()?,
        }))
    }

    async fn neighbours(
        &self,
        project_id: i64,
        period: &str,
    ) -> Result<(Option<i64>, Option<i64>), StoreError> {
        let previous = sqlx::query_scalar(&format!(
            "SELECT r.id FROM reports r WHERE r.project_id = $1 AND r.period < $2 AND {CURRENT}
             ORDER BY r.period DESC LIMIT 1"
        ))
        .bind(project_id)
        .bind(period)
        .fetch_optional(self.pool())
        .await?;
        let next = sqlx::query_scalar(&format!(
            "SELECT r.id FROM reports r WHERE r.project_id = $1 AND r.period > $2 AND {CURRENT}
             ORDER BY r.period ASC LIMIT 1"
        ))
        .bind(project_id)
        .bind(period)
        .fetch_optional(self.pool())
        .await?;
        Ok((previous, next))
    }

    /// A report's section rows in template order, every column: what its outline and its document
    /// are made from.
    async fn section_rows(&self, report_id: i64) -> Result<Vec<AnyRow>, StoreError> {
        Ok(sqlx::query(
            "SELECT id, section_key, section_type, title, priority, position, content, narrative,
                version, updated_at
             FROM report_sections WHERE report_id = $1 ORDER BY position, id",
        )
        .bind(report_id)
        .fetch_all(self.pool())
        .await?)
    }
}

/// The executive summary's narrative, from a report's section rows, when it has one that is not
/// blank.
fn summary_narrative(sections: &[AnyRow]) -> Result<Option<String>, StoreError> {
    for row in sections {
        let section_type: String = row.try_get("section_type")?;
        if section_type == "executive_summary" {
            let text: String = row.try_get("narrative")?;
            return Ok(Some(text).filter(|t| !t.trim().is_empty()));
        }
    }
    Ok(None)
}

/// A section's outline from its row ([`Store::section_rows`]), with the count of what its content
/// lists.
fn section_outline(row: &AnyRow) -> Result<SectionOutline, StoreError> {
    let section_type: String = row.try_get("section_type")?;
    let content: String = row.try_get("content")?;
    // Content that does not read shows its error, one line, like no content.
    let items = SectionContent::parse(&section_type, &content)
        .ok()
        .and_then(|c| c.items());
    Ok(SectionOutline {
        id: row.try_get("id")?,
        key: row.try_get("section_key")?,
        section_type,
        title: row.try_get("title")?,
        priority: parse(row, "priority", "report_sections")?,
        position: row.try_get("position")?,
        items,
    })
}
