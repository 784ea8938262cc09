//! The product's errors at its edges, in one place: each layer's error (the store's
//! [`StoreError`]; the domain's: report generation and the shared documents) becomes the app's
//! [`AppError`] here, and is logged here, once. Everything that answers a client starts from the
//! `AppError`: server functions send it as it is, REST handlers through `routes::error::ApiError`,
//! the collaboration socket as an error frame. Internal causes stay in the log; the client gets what
//! it can act on.

use app::access::Access;
use app::error::AppError;

use crate::collab::docs::DocError;
use crate::reports::generate::GenerationError;
use crate::reports::regenerate::RegenerateError;
use crate::storage::StoreError;

impl From<&StoreError> for AppError {
    fn from(err: &StoreError) -> AppError {
        match err {
            StoreError::Unwritable(_) => {
                tracing::error!(error = %err, "store cannot write");
                AppError::Unwritable(err.reason().into())
            }
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %err, "store unavailable");
                AppError::Unavailable(err.reason().into())
            }
            StoreError::Conflict(message) => AppError::Conflict(message.clone()),
            StoreError::Final(_) => AppError::Conflict(
                "This report is published: it is a frozen snapshot and can no longer be changed."
                    .into(),
            ),
            StoreError::Stale { .. } => AppError::Conflict(
                "Someone saved this project's progress at the same moment; load it again and repeat your change."
                    .into(),
            ),
            _ => {
                tracing::error!(error = %err, "store query failed");
                AppError::Internal(err.reason().into())
            }
        }
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> AppError {
        AppError::from(&err)
    }
}

impl From<RegenerateError> for AppError {
    fn from(err: RegenerateError) -> AppError {
        match err {
            RegenerateError::NotFound(id) => Access::report_not_found(id),
            RegenerateError::Final(_) => AppError::Conflict(
                "This report is final: a finalized report is a frozen snapshot and is not regenerated."
                    .into(),
            ),
            RegenerateError::Store(e) => AppError::from(e),
            RegenerateError::SharedStore(e) => AppError::from(&*e),
            RegenerateError::Generation(GenerationError::Busy) => {
                AppError::TooManyRequests(format!(
                    "The server is running as many simulations as it can; try again in {} s.",
                    crate::reports::slots::RETRY_AFTER.as_secs()
                ))
            }
            e => {
                tracing::error!(error = %e, "generation failed");
                AppError::BadRequest(format!("The report cannot be generated: {e}."))
            }
        }
    }
}

impl From<DocError> for AppError {
    fn from(err: DocError) -> AppError {
        match err {
            DocError::NoReport(id) => Access::report_not_found(id),
            DocError::NoRevision(_) => AppError::NotFound(err.to_string()),
            DocError::ReadOnly | DocError::TooManyRevisions => AppError::Conflict(err.to_string()),
            DocError::TooLarge => AppError::BadRequest(err.to_string()),
            DocError::Undecodable(_) | DocError::BadName => AppError::BadRequest(err.to_string()),
            DocError::Store(e) => AppError::from(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_failure_tells_the_client_what_it_can_act_on() {
        let io = || sqlx::Error::Io(std::io::Error::other("disk"));
        assert_eq!(
            AppError::from(StoreError::Unavailable(io())),
            AppError::Unavailable(crate::storage::UNAVAILABLE_REASON.into())
        );
        assert_eq!(
            AppError::from(StoreError::Unwritable(io())),
            AppError::Unwritable(crate::storage::UNWRITABLE_REASON.into())
        );
        assert_eq!(
            AppError::from(StoreError::Conflict("taken".into())),
            AppError::Conflict("taken".into())
        );
        let internal = AppError::from(StoreError::Invalid("secret detail".into()));
        assert!(
            !internal.to_string().contains("secret"),
            "causes stay in the log"
        );
    }
}
