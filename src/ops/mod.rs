//! Operating the operator: health, readiness and Prometheus metrics over HTTP (DESIGN.md §5).

pub mod fence;
pub mod http;
pub mod leader;
pub mod metrics;
