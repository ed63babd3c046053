//! The sync engine's pure part: it knows users, scopes and mappings, and nothing of Kubernetes
//! or HTTP, so that every rule is testable as a plain function.
//!
//! compile (spec → checked form) → scope (who is in) → mapping (what they become)
//! → plan (what to change in the target, and why).

pub mod anchor;
pub mod attributes;
pub mod compile;
pub mod evaluate;
pub mod expression;
pub mod filter;
pub mod interval;
pub mod mapping;
pub mod plan;
pub mod scope;
pub mod user;
