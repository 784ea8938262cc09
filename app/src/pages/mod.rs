//! One module per route: the portfolio home, the project page with its progress grid, the report
//! page, sign-in, administration (with creating a project and the report templates) and the not-found page.

mod admin;
mod home;
mod login;
mod new_project;
mod not_found;
mod performance;
mod progress;
mod project;
mod project_import;
mod report;
mod templates;

pub use admin::AdminPage;
pub use home::HomePage;
pub use login::LoginPage;
pub use new_project::NewProjectPage;
pub use not_found::NotFoundPage;
pub use performance::PerformancePage;
pub use progress::ProgressPage;
pub use project::ProjectPage;
pub use report::ReportPage;
pub use templates::TemplatesPage;
