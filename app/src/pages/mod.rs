//! One module per route: the portfolio home, the project page, the report page, sign-in, administration and the
//! not-found page.

mod admin;
mod home;
mod login;
mod not_found;
mod performance;
mod project;
mod report;

pub use admin::AdminPage;
pub use home::HomePage;
pub use login::LoginPage;
pub use not_found::NotFoundPage;
pub use performance::PerformancePage;
pub use project::ProjectPage;
pub use report::ReportPage;
