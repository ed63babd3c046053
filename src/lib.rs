//! xtsync: declarative cross-tenant user synchronization for Kubernetes.
//!
//! The pipeline, one module per stage:
//! `api` (resources) → `controller` (watches, dereference, status) → `validate` (the spec, in
//! the engine's terms) → `gate` (may this pair sync?) → `cycle` (read → `engine` plan → apply)
//! → `providers` (SCIM, Microsoft Graph, each read as a `SourceDirectory` and written as a
//! `TargetDirectory`).

#![warn(clippy::too_many_lines)]

pub mod access;
pub mod api;
pub mod controller;
pub mod crdgen;
pub mod cycle;
pub mod engine;
pub mod gate;
#[cfg(test)]
mod layout;
pub mod ops;
pub mod plugin;
pub mod providers;
pub mod reference;
pub mod telemetry;
pub mod validate;
