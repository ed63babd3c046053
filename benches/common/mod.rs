//! What the sync benches share: one cycle with every user in scope, over any two directories.

use serde_json::json;
use xtsync::api::sync_config::SyncConfigurationSpec;
use xtsync::cycle::{self, CycleInput, CycleReport};
use xtsync::providers::Directory;

/// A cycle of an `AllUsers` configuration with the default mappings: Initial without a
/// watermark, Incremental from one. Every write must succeed.
pub async fn all_users_cycle(
    source: &dyn Directory,
    target: &dyn Directory,
    source_tenant_id: &str,
    watermark: Option<&str>,
) -> CycleReport {
    let spec: SyncConfigurationSpec = serde_json::from_value(json!({
        "sourceRef": { "name": "source" },
        "targetRef": { "name": "target" },
        "scope": { "mode": "AllUsers" },
    }))
    .expect("spec");
    let valid = xtsync::validate::validate(&spec).expect("valid spec");
    let input = CycleInput {
        source_tenant_id,
        rules: &valid.rules,
        approval: None,
        watermark,
        groups_watermark: None,
        dry_run: false,
        audit: &xtsync::cycle::audit::Discard,
        progress: &xtsync::cycle::progress::Untracked,
    };
    let report = cycle::run(source, target, &input).await.expect("cycle runs");
    assert_eq!(report.failed, 0, "{:?}", report.failures.first());
    report
}
