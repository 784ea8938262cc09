//! Report templates: the list (cached for a day, as the seed caches templates), and admins' creations
//! and changes, each checked with `app::templates::check_template` and dropping the cached list on
//! every instance. A report keeps the sections it was started with: regeneration reads the report's
//! own layout, never the template's.

use app::access::Access;
use app::error::AppError;
use app::model::Role;
use app::templates::{check_template, tidy, TemplateInfo, TemplateSave};

use super::{problems_message, StorePortfolio};
use crate::cache::{CacheKey, CacheType, Scope};
use crate::monitor::timed_query;
use crate::storage::templates::{Template, MAX_TEMPLATES};
use crate::storage::StoreError;

impl StorePortfolio {
    /// Every template, through the cache (24 hours, dropped by any change).
    pub(super) async fn cached_templates(&self) -> Result<Vec<Template>, AppError> {
        self.cache
            .get_or_load(&CacheKey::templates(), None, || async {
                timed_query(&self.monitor, "templates", self.store.templates())
                    .await
                    .map_err(AppError::from)
            })
            .await
    }

    /// Every template with its sections and how many reports it made (admins).
    pub(super) async fn template_list(&self, who: &Access) -> Result<Vec<TemplateInfo>, AppError> {
        who.require(Role::Admin)?;
        let templates = self.cached_templates().await?;
        let usage =
            timed_query(&self.monitor, "template_usage", self.store.template_usage()).await?;
        Ok(templates
            .into_iter()
            .map(|t| TemplateInfo {
                reports: usage
                    .iter()
                    .find(|(id, _)| *id == t.id)
                    .map_or(0, |(_, n)| *n),
                id: t.id,
                name: t.name,
                sections: t.sections,
            })
            .collect())
    }

    /// Creates a template (`save.id` none) or changes one (admins); answers it as stored.
    pub(super) async fn store_template(
        &self,
        who: &Access,
        save: TemplateSave,
    ) -> Result<TemplateInfo, AppError> {
        who.require(Role::Admin)?;
        let draft = tidy(save.draft);
        // The freshest list, not the cached one: the name check must see every template.
        let existing = timed_query(&self.monitor, "templates", self.store.templates()).await?;
        if let Some(id) = save.id {
            if !existing.iter().any(|t| t.id == id) {
                return Err(AppError::NotFound(format!(
                    "There is no template with id {id}."
                )));
            }
        }
        let others: Vec<String> = existing
            .iter()
            .filter(|t| Some(t.id) != save.id)
            .map(|t| t.name.clone())
            .collect();
        let problems = check_template(&draft, &others);
        if !problems.is_empty() {
            return Err(AppError::BadRequest(problems_message(
                "The template cannot be saved:",
                &problems
                    .iter()
                    .map(|p| p.trim_end_matches('.').to_string())
                    .collect::<Vec<_>>(),
            )));
        }
        let name_taken =
            || AppError::Conflict(format!("A template named '{}' exists already.", draft.name));
        let id = match save.id {
            None => {
                let create = self.store.create_template(&draft.name, &draft.sections);
                match timed_query(&self.monitor, "create_template", create).await {
                    Ok(Some(id)) => id,
                    Ok(None) => {
                        return Err(AppError::Conflict(format!(
                            "There are {MAX_TEMPLATES} templates, the most PMR keeps: change one instead."
                        )))
                    }
                    Err(StoreError::Conflict(_)) => return Err(name_taken()),
                    Err(e) => return Err(e.into()),
                }
            }
            Some(id) => {
                let update = self.store.update_template(id, &draft.name, &draft.sections);
                match timed_query(&self.monitor, "update_template", update).await {
                    Ok(true) => id,
                    Ok(false) => {
                        return Err(AppError::NotFound(format!(
                            "There is no template with id {id}."
                        )))
                    }
                    Err(StoreError::Conflict(_)) => return Err(name_taken()),
                    Err(e) => return Err(e.into()),
                }
            }
        };
        self.cache
            .invalidate(Scope::Type {
                kind: CacheType::Template,
            })
            .await;
        tracing::info!(template = id, name = %draft.name, by = %who.name(), created = save.id.is_none(), "saved template");
        let reports = timed_query(&self.monitor, "template_usage", self.store.template_usage())
            .await?
            .into_iter()
            .find(|(t, _)| *t == id)
            .map_or(0, |(_, n)| n);
        Ok(TemplateInfo {
            id,
            name: draft.name,
            sections: draft.sections,
            reports,
        })
    }
}
