//! One module per route: the portfolio home, the report page and the not-found page.

mod home;
mod not_found;
mod report;

pub use home::HomePage;
pub use not_found::NotFoundPage;
pub use report::ReportPage;
