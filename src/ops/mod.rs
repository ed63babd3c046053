//! Operating the operator: health (liveness that tracks the controllers' progress), readiness
//! and Prometheus metrics over HTTP, leader election, and `xtsync probe` for the chart's
//! `helm test` (README, "Operating it").

pub mod fence;
pub mod http;
pub mod leader;
pub mod liveness;
pub mod metrics;
pub mod probe;
