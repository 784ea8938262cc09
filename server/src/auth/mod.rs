//! Accounts and authentication: Argon2id passwords ([`password`]), random session and API tokens
//! stored only as hashes ([`token`]), and the first-start bootstrap of the admin and demo accounts
//! ([`bootstrap`]). Sessions, the login pages and the enforcement of roles on every route build on
//! these (issue 4).

pub mod bootstrap;
pub mod password;
pub mod session;
pub mod token;
