//! End-to-end tests of an Organization's `partnerTemplate` against members' own policies
//! (README, "Organizations"): `applyTo: NewPartners` leaves a person's entry in force and says
//! so, `ExistingPartners` overrides it in effect without writing the policy, and a leaving
//! member's cleanup still passes the gate the template alone opened.

use serde_json::json;
use xtsync::api::CrossTenantAccessPolicy;
use xtsync::api::policy::EntryOrigin;
use xtsync::api::reasons::{OrganizationReadyReason, ReadyReason};

use crate::manifests::{self, CONTOSO, FABRIKAM, Manifests};
use crate::organization::{
    MEMBERS, ORG, northwind_leaves, northwinds_pairs_were_deprovisioned, org_ready, organization,
    three_members_without_policies,
};
use crate::support::TestNs;

/// fabrikam's own policy: contoso's users may not sync in.
fn fabrikams_own_policy() -> serde_json::Value {
    json!({
        "apiVersion": "xtsync.io/v1alpha1", "kind": "CrossTenantAccessPolicy",
        "metadata": { "name": "fabrikam" },
        "spec": {
            "tenantRef": { "name": "fabrikam" },
            "partners": [{ "tenantId": CONTOSO, "inbound": { "allowUsersSync": false } }],
        },
    })
}

/// fabrikam's policy as the cluster has it: its generation, its own entry for contoso, and
/// the effective entry for contoso.
async fn fabrikams_policy(t: &TestNs) -> (Option<i64>, bool, Option<(EntryOrigin, Option<String>, bool)>) {
    let policy = t
        .api::<CrossTenantAccessPolicy>()
        .get("fabrikam")
        .await
        .expect("policy");
    let own = policy.spec.partners[0].inbound.allow_users_sync.unwrap_or(true);
    let effective = policy.status.and_then(|s| {
        s.effective
            .into_iter()
            .find(|e| e.tenant_id == CONTOSO)
            .map(|e| (e.origin, e.organization, e.inbound.allow_users_sync))
    });
    (policy.metadata.generation, own, effective)
}

#[tokio::test]
async fn new_partners_leaves_a_persons_entry_in_force_and_existing_partners_overrides_it_unwritten() {
    let mut t = TestNs::new("org-apply-to").await;
    t.start_controllers(|_| {});
    let tenants = manifests::tenants_with(&t, &[("contoso", CONTOSO, "Global"), ("fabrikam", FABRIKAM, "Global")]);
    t.apply(&tenants.and(Manifests::of([fabrikams_own_policy()]))).await;
    t.apply(&organization(&MEMBERS[..2], json!({}))).await;

    let ready = org_ready(&t, OrganizationReadyReason::Established).await;
    let kept = format!(
        "CrossTenantAccessPolicy 'fabrikam' spec.partners[0].inbound.allowUsersSync is false for partner {CONTOSO} (template: true)"
    );
    assert!(
        ready.message.contains("applies to NewPartners") && ready.message.contains(&kept),
        "{}",
        ready.message
    );
    t.config_ready(
        &format!("{ORG}-contoso-to-fabrikam"),
        "False",
        ReadyReason::InboundSyncNotAllowed,
    )
    .await;
    t.eventually("fabrikam's effective entry for contoso is its own", || async {
        fabrikams_policy(&t).await == (Some(1), false, Some((EntryOrigin::Policy, None, false)))
    })
    .await;

    let existing = json!({ "partnerTemplate": { "applyTo": "ExistingPartners" } });
    t.apply(&organization(&MEMBERS[..2], existing)).await;
    t.config_ready(&format!("{ORG}-contoso-to-fabrikam"), "True", ReadyReason::GateOpen)
        .await;
    t.eventually("the template overrides fabrikam's entry in effect only", || async {
        fabrikams_policy(&t).await
            == (
                Some(1),
                false,
                Some((EntryOrigin::Organization, Some(ORG.to_owned()), true)),
            )
    })
    .await;
    t.eventually("the Organization's Ready names no kept field any more", || async {
        let ready = org_ready(&t, OrganizationReadyReason::Established).await;
        !ready.message.contains("NewPartners")
    })
    .await;
}

#[tokio::test]
async fn a_member_leaving_with_deprovision_on_the_template_alone_is_cleaned_up_before_the_template_goes() {
    // No policy at all: the gate of northwind's pairs, their cleanup included, is open only
    // by the partnerTemplate, which must outlast that cleanup.
    let t = three_members_without_policies("org-leave-template").await;
    let t = northwind_leaves(t, "Deprovision").await;
    northwinds_pairs_were_deprovisioned(&t).await;
}
