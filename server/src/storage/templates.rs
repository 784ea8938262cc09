//! Report templates: listed for starting a report, created and changed by admins. A template's
//! sections are stored as one JSON list; reports copy them when they are started
//! ([`Store::create_draft`]), so a change reaches only the reports started after it.

use app::model::TemplateSection;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::reports::insert_template;
use super::{Store, StoreError};

/// A template with its sections.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Template {
    pub id: i64,
    pub name: String,
    pub sections: Vec<TemplateSection>,
}

/// Most templates kept: creating one more is refused, and listing reads at most these.
pub const MAX_TEMPLATES: i64 = 200;

fn template_of(row: &AnyRow) -> Result<Template, StoreError> {
    let json: String = row.try_get("sections")?;
    Ok(Template {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        sections: serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
            table: "report_templates",
            detail: e.to_string(),
        })?,
    })
}

fn sections_json(sections: &[TemplateSection]) -> Result<String, StoreError> {
    serde_json::to_string(sections).map_err(|e| StoreError::Corrupt {
        table: "report_templates",
        detail: e.to_string(),
    })
}

impl Store {
    /// The templates, by name (at most [`MAX_TEMPLATES`]).
    pub async fn templates(&self) -> Result<Vec<Template>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, sections FROM report_templates ORDER BY name, id LIMIT $1",
        )
        .bind(MAX_TEMPLATES)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(template_of).collect()
    }

    /// How many reports each template was used for, by template id (templates without reports are
    /// left out).
    pub async fn template_usage(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT template_id, COUNT(*) AS reports FROM reports GROUP BY template_id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("template_id")?, r.try_get("reports")?)))
            .collect()
    }

    /// Creates a template and answers its id; `None` when [`MAX_TEMPLATES`] are kept already. A name
    /// in use is a [`StoreError::Conflict`].
    pub async fn create_template(
        &self,
        name: &str,
        sections: &[TemplateSection],
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin().await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM report_templates")
            .fetch_one(&mut *tx)
            .await?;
        if count >= MAX_TEMPLATES {
            return Ok(None);
        }
        let id = insert_template(&mut tx, name, sections).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// Changes a template's name and sections; `false` when no template has this id. A name in use
    /// is a [`StoreError::Conflict`]. Reports made from it keep their own sections.
    pub async fn update_template(
        &self,
        id: i64,
        name: &str,
        sections: &[TemplateSection],
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE report_templates SET name = $1, sections = $2 WHERE id = $3")
                .bind(name)
                .bind(sections_json(sections)?)
                .bind(id)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() == 1)
    }
}
