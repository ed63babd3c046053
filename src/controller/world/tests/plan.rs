//! `xtsync plan` through the shared evaluation: a closed gate is reported with its reason and
//! reads nothing; an open one is the controller's own cycle in dry run, and does what a cycle
//! would do.

use serde_json::json;

use super::*;
use crate::api::conditions::ConditionReason;
use crate::api::reasons::ReadyReason;
use crate::controller::preview::plan_of;
use crate::controller::world::{CycleStart, GateVerdict};
use crate::cycle::audit::{Collected, Discard};
use crate::cycle::progress::Untracked;

#[tokio::test]
async fn plan_of_a_closed_gate_gives_its_reason_and_reads_no_directory() {
    let mut setting = Setting::new(json!({}));
    setting.policies.clear();
    setting.source.put(person("u1", "alice"));
    let records = Collected::default();
    let plan = plan_of(&setting.world(), &setting.config, &records).await;
    let (reason, message) = plan.closed.expect("no cycle would run");
    assert_eq!(reason, ReadyReason::InboundSyncNotAllowed.as_str(), "{message}");
    assert!(plan.report.is_none() && records.take().is_empty());
    assert!(setting.source.take_log().is_empty() && setting.target.take_log().is_empty());
}

#[tokio::test]
async fn plan_of_an_invalid_spec_names_the_field() {
    let setting = Setting::new(json!({ "interval": "soon" }));
    let plan = plan_of(&setting.world(), &setting.config, &Discard).await;
    let (reason, message) = plan.closed.expect("no cycle would run");
    assert_eq!(reason, ReadyReason::InvalidSpec.as_str());
    assert!(message.contains("spec.interval"), "{message}");
}

#[tokio::test]
async fn plan_of_a_configuration_whose_target_tenant_is_gone_is_closed_by_the_gate() {
    let setting = Setting::new(json!({})).without_tenant("fabrikam");
    let plan = plan_of(&setting.world(), &setting.config, &Discard).await;
    let (reason, _) = plan.closed.expect("no cycle would run");
    assert_eq!(reason, ReadyReason::TenantNotReady.as_str());
}

#[tokio::test]
async fn plan_does_what_the_controllers_cycle_would_do_and_writes_nothing() {
    let setting = Setting::new(json!({}));
    setting.source.put(person("u1", "alice"));
    setting.source.put(person("u2", "bob"));
    let mut guest = person("u3", "carol");
    guest.attributes.insert("userType", "Guest".to_owned());
    setting.source.put(guest);
    let world = setting.world();

    let records = Collected::default();
    let plan = plan_of(&world, &setting.config, &records).await;
    assert_eq!(plan.error, None);
    let planned = plan.report.expect("a dry run ran");
    assert!(setting.target.take_writes().is_empty(), "a plan writes nothing");
    assert!(setting.target.users().is_empty());

    let GateVerdict::Open(runnable) = setting.evaluate(&world).verdict else {
        panic!("the gate is open");
    };
    let Ok(connected) = runnable.connect(&world).await;
    let directories = connected.expect("both Tenants open");
    let log = Collected::default();
    let start = CycleStart {
        approval: None,
        watermark: None,
        groups_watermark: None,
        group_members_digest: None,
        dry_run: false,
        audit: &log,
        progress: &Untracked,
        shared_reads: None,
    };
    let ran = runnable.run_cycle(&directories, start).await.expect("the cycle runs");
    let counters = |r: &crate::cycle::CycleReport| {
        (
            r.created,
            r.updated,
            r.adopted,
            r.skipped,
            r.deprovisioned,
            r.in_scope,
            r.failed,
        )
    };
    assert_eq!(counters(&planned), counters(&ran));
    assert_eq!(ran.created, 2, "{ran:?}");
    assert_eq!(setting.target.users().len(), 2, "the cycle wrote what the plan said");
    let actions = |records: &[crate::cycle::audit::Record]| {
        let mut actions: Vec<(&str, Option<String>)> = records
            .iter()
            .map(|r| (r.action.as_str(), r.source_id.clone()))
            .collect();
        actions.sort();
        actions
    };
    assert_eq!(actions(&records.take()), actions(&log.take()));
}
