//! The provisioning log on the log stream: every record of a cycle as one event of target
//! `xtsync::provisioning` (JSON with `--log-format json`), with what names the cycle and the
//! pair. The schema is documented in the README, "Provisioning log".

use crate::cycle::audit::{Record, Sink};
use crate::engine::digest::fnv1a;

/// The target of provisioning records on the log stream.
pub const TARGET: &str = "xtsync::provisioning";

pub struct LogSink {
    pub cycle_id: String,
    /// `namespace/name`.
    pub configuration: String,
    pub source_tenant_id: String,
    pub target_tenant_id: String,
    pub dry_run: bool,
}

impl Sink for LogSink {
    fn record(&self, record: Record) {
        tracing::info!(
            target: TARGET,
            cycleId = %self.cycle_id,
            configuration = %self.configuration,
            sourceTenantId = %self.source_tenant_id,
            targetTenantId = %self.target_tenant_id,
            action = record.action.as_str(),
            sourceId = record.source_id.as_deref().unwrap_or_default(),
            targetId = record.target_id.as_deref().unwrap_or_default(),
            userName = %record.user_name,
            changedAttributes = %record.changed_attributes.join(","),
            result = <&str>::from(record.result),
            reason = record.reason.unwrap_or_default(),
            message = record.message.as_deref().unwrap_or_default(),
            dryRun = self.dry_run,
            "provisioning"
        );
    }
}

/// A cycle's id: when it started (Unix ms, hex) and which configuration ran it (its uid).
pub fn cycle_id(uid: &str, started_ms: i64) -> String {
    format!("{started_ms:x}-{:08x}", fnv1a([uid]) >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycle_ids_tell_cycles_and_configurations_apart() {
        assert_ne!(cycle_id("a", 1), cycle_id("a", 2));
        assert_ne!(cycle_id("a", 1), cycle_id("b", 1));
        assert_eq!(cycle_id("a", 255).split('-').next(), Some("ff"));
    }
}
