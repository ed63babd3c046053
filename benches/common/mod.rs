//! What the sync benches share: one cycle with every user in scope, over any two directories.

use serde_json::json;
use xtsync::api::sync_config::SyncConfigurationSpec;
use xtsync::cycle::{self, CycleInput, CycleReport};
use xtsync::providers::{SourceDirectory, TargetDirectory};

/// A cycle of an `AllUsers` configuration with the default mappings: Initial without a
/// watermark, Incremental from one. Every write must succeed.
#[allow(dead_code)] // each bench binary compiles this module; not all of them use every part
pub async fn all_users_cycle(
    source: &dyn SourceDirectory,
    target: &dyn TargetDirectory,
    source_tenant_id: &str,
    watermark: Option<&str>,
) -> CycleReport {
    let spec = json!({ "scope": { "mode": "AllUsers" } });
    cycle_of(source, target, source_tenant_id, spec, [watermark, None, None]).await
}

/// A cycle of the configuration whose spec is `spec` (the refs are added), from
/// `[watermark, groups_watermark, group_members_digest]`. Every write must succeed.
pub async fn cycle_of(
    source: &dyn SourceDirectory,
    target: &dyn TargetDirectory,
    source_tenant_id: &str,
    mut spec: serde_json::Value,
    [watermark, groups_watermark, group_members_digest]: [Option<&str>; 3],
) -> CycleReport {
    spec["sourceRef"] = json!({ "name": "source" });
    spec["targetRef"] = json!({ "name": "target" });
    let spec: SyncConfigurationSpec = serde_json::from_value(spec).expect("spec");
    let valid = xtsync::validate::validate(&spec).expect("valid spec");
    let input = CycleInput {
        source_tenant_id,
        source_domains: &[],
        rules: &valid.rules,
        approval: None,
        watermark,
        groups_watermark,
        group_members_digest,
        dry_run: false,
        audit: &xtsync::cycle::audit::Discard,
        progress: &xtsync::cycle::progress::Untracked,
        deadline: xtsync::cycle::Deadline::after(std::time::Duration::from_secs(24 * 60 * 60)),
        // One configuration: nothing to share.
        shared_source: None,
    };
    let report = cycle::run(source, target, &input).await.expect("cycle runs");
    assert_eq!(report.failed, 0, "{:?}", report.failures.first());
    report
}
