//! SCIM 2.0 (RFC 7643/7644) directories.

mod client;
mod discovery;
#[cfg(test)]
mod hostile_tests;
mod resource;

pub use client::{ScimClient, concurrency};
pub use discovery::probe;
