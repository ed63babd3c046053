//! Operating the operator: health, readiness and Prometheus metrics over HTTP (README,
//! "Operating it").

pub mod fence;
pub mod http;
pub mod leader;
pub mod metrics;
