//! The sync engine's pure part: it knows users, scopes and mappings, and nothing of Kubernetes
//! or HTTP, so that every rule is testable as a plain function.
//!
//! rules (the configuration, in the engine's terms; made by `crate::validate`) → scope (who is
//! in) → mapping (what they become) → plan (what to change in the target, and why, including
//! the accidental-deletion threshold).

pub mod address;
pub mod anchor;
pub mod attributes;
pub mod digest;
pub mod evaluate;
pub mod expression;
#[cfg(test)]
mod expression_properties;
pub mod filter;
pub mod groups;
pub mod interval;
pub mod mapping;
pub mod packed;
pub mod pattern;
pub mod plan;
pub mod rules;
pub mod scope;
pub mod threshold;
pub mod user;
pub mod vocabulary;
