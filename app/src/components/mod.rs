//! Reusable components: the site header, status badges, loading and error states, a form's problems. One public
//! component per file.

mod error_notice;
mod form_problems;
#[cfg(feature = "hydrate")]
mod hydration_marker;
#[cfg(feature = "ssr")]
mod page_style;
mod plot;
mod priority_badge;
mod rag_badge;
mod site_header;
mod skeleton;
#[cfg(feature = "ssr")]
mod start_scripts;

pub use error_notice::ErrorNotice;
pub use form_problems::FormProblems;
#[cfg(feature = "hydrate")]
pub use hydration_marker::{hydration_finished, next_task_while_hydrating};
#[cfg(feature = "ssr")]
pub use page_style::PageStyle;
pub use plot::{ticks, Bar, Histogram, Marker, Plot, Series, Swing, Tornado};
pub use priority_badge::PriorityBadge;
pub use rag_badge::RagBadge;
pub use site_header::SiteHeader;
pub use skeleton::Skeleton;
#[cfg(feature = "ssr")]
pub use start_scripts::StartScripts;
