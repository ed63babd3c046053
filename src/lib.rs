//! xtsync: declarative cross-tenant user synchronization for Kubernetes.
//!
//! The pipeline, one module per stage:
//! `api` (resources) → `controller` (dereference, status) → `gate` (may this pair sync?)
//! → `engine` (scope, filters, mappings, plan) → `providers` (SCIM, Microsoft Graph).

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
pub mod providers;
pub mod reference;
pub mod telemetry;
pub mod validate;
