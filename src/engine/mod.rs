//! The sync engine's pure part: it knows users, scopes and mappings, and nothing of Kubernetes
//! or HTTP, so that every rule is testable as a plain function.

pub mod attributes;
pub mod compile;
pub mod expression;
pub mod filter;
pub mod interval;
