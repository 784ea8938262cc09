//! Accounts, authentication and authorization.
//!
//! - [`password`]: Argon2id hashes; [`token`]: random secrets stored only as SHA-256 hashes.
//! - [`bootstrap`]: the first admin and the demo accounts, with no built-in password.
//! - [`session`]: server-side sessions with idle and absolute expiry; [`cookie`]: the cookie that
//!   carries them.
//! - [`policy`]: the table of every route's minimum role; [`guard`]: the layer that enforces it,
//!   resolves the caller (session or API token), refuses cross-site requests and adds the security
//!   headers.
//! - [`throttle`]: login throttling per account and per client address; [`accounts`]: sign-in,
//!   sign-out and account management behind the server functions.

pub mod accounts;
pub mod args;
pub mod bootstrap;
pub mod caller;
pub mod cookie;
pub mod guard;
pub mod password;
pub mod policy;
pub mod revoke;
pub mod session;
pub mod throttle;
pub mod token;
