//! The deletion path through the shared evaluation: what blocks a cleanup on delete, in order,
//! and what a cleanup that can run does (docs/architecture.md, "The deletion path").

use serde_json::json;

use super::*;
use crate::controller::world::{Cleanable, CleanupBlocked};
use crate::engine::anchor::Anchor;

/// Three Contoso users provisioned into Fabrikam, and one user of another source.
fn provisioned_three(setting: &Setting) {
    for i in 0..3 {
        let mut user = person(&format!("t{i}"), &format!("user{i}"));
        user.attributes
            .insert("externalId", Anchor::new(CONTOSO, &format!("u{i}")).to_string());
        setting.target.put(user);
    }
    let mut other = person("t-other", "zed");
    other
        .attributes
        .insert("externalId", Anchor::new(FABRIKAM, "x").to_string());
    setting.target.put(other);
    setting.target.take_log();
}

async fn cleanable(setting: &Setting) -> Result<Cleanable, CleanupBlocked> {
    let world = setting.world();
    let Ok(cleanable) = setting.evaluate(&world).cleanable(&world).await;
    cleanable
}

#[tokio::test]
async fn cleanup_deprovisions_the_users_anchored_to_the_source_and_no_other() {
    let setting = Setting::new(json!({}));
    provisioned_three(&setting);
    let done = cleanable(&setting)
        .await
        .expect("nothing blocks it")
        .clean_up(None, &crate::cycle::audit::Discard)
        .await
        .expect("the target answers");
    assert_eq!((done.deprovisioned, done.withheld), (3, None));
    let active: Vec<String> = setting
        .target
        .users()
        .into_iter()
        .filter(|u| u.active())
        .map(|u| u.id)
        .collect();
    assert_eq!(active, ["t-other"], "another source's user stays");
}

#[tokio::test]
async fn cleanup_is_blocked_by_an_invalid_spec_before_anything_else_is_looked_at() {
    let setting = Setting::new(json!({ "interval": "soon" })).without_tenant("contoso");
    provisioned_three(&setting);
    let blocked = cleanable(&setting).await.err().expect("blocked");
    let message = blocked.to_string();
    assert!(matches!(blocked, CleanupBlocked::InvalidSpec(_)), "{message}");
    assert!(message.contains("spec.interval"), "the field is named: {message}");
    assert!(setting.target.take_log().is_empty(), "the target was not even read");
}

#[tokio::test]
async fn cleanup_is_blocked_while_the_source_tenant_that_names_the_users_is_missing() {
    let setting = Setting::new(json!({})).without_tenant("contoso");
    provisioned_three(&setting);
    let blocked = cleanable(&setting).await.err().expect("blocked");
    assert!(
        matches!(&blocked, CleanupBlocked::SourceTenantGone(name) if name == "contoso"),
        "{blocked}"
    );
    assert!(setting.target.take_log().is_empty(), "the target was not even read");
}

#[tokio::test]
async fn cleanup_runs_for_a_pair_whose_gate_has_closed() {
    // No policies: the gate is closed (InboundSyncNotAllowed), yet the users are this
    // configuration's to clean up.
    let mut setting = Setting::new(json!({}));
    setting.policies.clear();
    provisioned_three(&setting);
    let world = setting.world();
    let evaluation = setting.evaluate(&world);
    assert!(matches!(
        evaluation.verdict,
        crate::controller::world::GateVerdict::Closed { .. }
    ));
    let Ok(cleanable) = evaluation.cleanable(&world).await;
    let done = cleanable
        .expect("not blocked")
        .clean_up(None, &crate::cycle::audit::Discard)
        .await
        .expect("runs");
    assert_eq!(done.deprovisioned, 3);
}

#[tokio::test]
async fn cleanup_is_blocked_while_the_target_cannot_be_opened() {
    let setting = Setting::new(json!({})).without_tenant("fabrikam");
    let blocked = cleanable(&setting).await.err().expect("blocked");
    assert!(
        matches!(&blocked, CleanupBlocked::TargetUnusable(Unopenable::TenantNotFound(name)) if name == "fabrikam"),
        "{blocked}"
    );
    assert!(
        blocked.to_string().starts_with("the target cannot be used"),
        "{blocked}"
    );
}

#[tokio::test]
async fn cleanup_of_more_users_than_the_threshold_waits_for_approval_of_that_set() {
    let setting = Setting::new(json!({ "deprovision": { "accidentalDeletionThreshold": 2 } }));
    provisioned_three(&setting);
    let cleanable = cleanable(&setting).await.expect("nothing blocks it");
    let held = cleanable
        .clean_up(None, &crate::cycle::audit::Discard)
        .await
        .expect("runs");
    let withheld = held.withheld.expect("held for approval");
    assert_eq!((held.deprovisioned, withheld.count), (0, 3));
    assert!(
        setting.target.take_writes().is_empty(),
        "nothing deprovisioned before approval"
    );
    let approved = cleanable
        .clean_up(Some(&withheld.token), &crate::cycle::audit::Discard)
        .await
        .expect("runs");
    assert_eq!((approved.deprovisioned, approved.withheld), (3, None));
}
