//! `EditingService`: the revision server functions (list, show, restore), with the same access
//! rules as the report itself (members of its project and admins; restoring needs an editor).

use app::access::Access;
use app::editing::{Revision, RevisionDetail};
use app::error::AppError;
use app::model::Role;
use app::services::EditingService;
use async_trait::async_trait;

use super::docs::Documents;
use super::optimizer::WebSocketOptimizer;
use crate::storage::Store;
use app::collab::protocol::ServerMessage;

/// What reports ask of the live side after a regeneration or a publication: the documents keep
/// people's edits, and the report's open connections (here and, through the relay, on the other
/// instances) hear that it was published.
pub struct LiveReports {
    pub documents: Documents,
    pub optimizer: WebSocketOptimizer,
}

#[async_trait]
impl crate::reports::KeepEdits for LiveReports {
    async fn after_regeneration(&self, report_id: i64) {
        self.documents.after_regeneration(report_id).await;
    }

    async fn after_publication(&self, report_id: i64, by: &str) {
        self.documents.after_publication(report_id, by).await;
        self.optimizer.queue_message(
            &super::report_session(report_id),
            &ServerMessage::Published { by: by.to_string() },
            true,
        );
    }
}

/// Revisions through the store and the live documents.
pub struct StoreEditing {
    pub store: Store,
    pub documents: Documents,
    pub optimizer: WebSocketOptimizer,
}

impl StoreEditing {
    /// Checks that the report exists and the caller reaches its project (the same 404 otherwise).
    async fn check(&self, who: &Access, report_id: i64) -> Result<(), AppError> {
        let meta = self
            .store
            .report_meta(report_id)
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| Access::report_not_found(report_id))?;
        who.check_report(report_id, meta.project_id)
    }
}

impl StoreEditing {
    /// A revision with its content; 404 when the report has none with this number.
    async fn stored_revision(
        &self,
        report_id: i64,
        number: i64,
    ) -> Result<(Revision, app::editing::RevisionContent), AppError> {
        self.store
            .revision(report_id, number)
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| {
                AppError::NotFound(format!("Report {report_id} has no revision {number}."))
            })
    }
}

#[async_trait]
impl EditingService for StoreEditing {
    async fn revisions(&self, who: &Access, report_id: i64) -> Result<Vec<Revision>, AppError> {
        self.check(who, report_id).await?;
        self.store
            .revisions(report_id)
            .await
            .map_err(AppError::from)
    }

    async fn revision(
        &self,
        who: &Access,
        report_id: i64,
        number: i64,
    ) -> Result<RevisionDetail, AppError> {
        self.check(who, report_id).await?;
        let (revision, content) = self.stored_revision(report_id, number).await?;
        Ok(RevisionDetail { revision, content })
    }

    async fn restore_revision(
        &self,
        who: &Access,
        report_id: i64,
        number: i64,
    ) -> Result<Revision, AppError> {
        self.check(who, report_id).await?;
        if !who.has_role(Role::Editor) {
            return Err(AppError::Forbidden(
                "Restoring needs the editor role.".into(),
            ));
        }
        let update = self
            .documents
            .restore(report_id, number, who.name())
            .await
            .map_err(AppError::from)?;
        let (revision, _) = self.stored_revision(report_id, number).await?;
        let session = super::report_session(report_id);
        self.optimizer.queue_message(
            &session,
            &ServerMessage::Update {
                connection: format!("{}:server", self.optimizer.instance_id()),
                user: who.name().to_string(),
                update,
            },
            false,
        );
        self.optimizer.queue_message(
            &session,
            &ServerMessage::Saved {
                revision: revision.clone(),
                by: who.principal().display_name.clone(),
                restored: true,
            },
            true,
        );
        Ok(revision)
    }
}
