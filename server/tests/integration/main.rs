//! The server's integration tests, in one test binary: each module below was a file of its own under
//! `tests/`, and each links the whole server, so one binary instead of 23 keeps a cold build's disk
//! use and link time down (CI's disk filled up linking them). The modules share `common` (a seeded
//! app, accounts, requests through the whole router) and, through `test_support`, one throwaway
//! PostgreSQL server for the process. Run one module with a filter: `cargo test -p server --test
//! integration access::`.

mod common;

mod access;
mod auth;
mod cache;
mod collab;
mod crdt_properties;
mod edit_durability;
mod generation;
mod http;
mod injection;
mod input_properties;
mod limits;
mod llm_insights;
mod monte_carlo_reference;
mod monthly_cycle;
mod performance;
mod process_faults;
mod project_page;
mod publish;
mod reader;
mod revocation;
mod schedule_import;
mod storage_conformance;
mod transfer_http;
