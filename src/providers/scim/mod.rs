//! SCIM 2.0 (RFC 7643/7644) directories.

#[cfg(test)]
mod anchored_tests;
#[cfg(test)]
mod bulk_tests;
mod client;
mod direct;
mod discovery;
mod filter;
pub mod groups;
#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod incremental_tests;
pub mod listing;
mod members;
#[cfg(test)]
mod on_demand_tests;
mod reads;
pub mod resource;
#[cfg(test)]
mod scope_tests;
#[cfg(test)]
mod segment_tests;
mod source;
mod target;
mod watermark;
pub mod wire;

pub use client::{ScimClient, concurrency};
pub use discovery::probe;
