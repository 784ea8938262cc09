//! The PMR domain engine, server side: a project's data as reports are computed from it
//! ([`project`]), earned value and earned schedule ([`evm`]), computed status against declared status
//! ([`rag`]), and Monte Carlo schedule and cost risk ([`monte_carlo`]). Pure computation over plain
//! inputs, no I/O; the report generator feeds it from the store. Result types
//! that the browser renders live in `app::analysis`.

pub mod calendar;
pub mod evm;
pub mod monte_carlo;
pub mod project;
pub mod rag;
