//! Entra's part of an Organization as pure functions: who forms Entra's organization, what
//! `Applied` says, the members' states, when Entra is due, and the templates `partnerTemplate`
//! maps to.

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::entra_decide::{self, EntraOutcome, EntraPlan, GraphMember, Refusal, Schedule};
use super::entra_status::{self, EntraStep};
use crate::api::conditions::{self, ConditionReason, Verdict};
use crate::api::organization::{MemberRole, MemberState, MemberStatus, OrganizationStatus, PartnerTemplate};
use crate::api::reasons::OrganizationAppliedReason as R;
use crate::controller::provider_settings::organization_templates;
use crate::providers::msgraph::multitenant_org::{
    self, ApplyError, EntraApplyTo, EntraCloud, EntraMemberState as EntraState, Reported, Transition,
};
use crate::providers::{ConnectError, DirectoryError};

fn member(name: &str, role: MemberRole) -> GraphMember {
    GraphMember {
        name: name.into(),
        tenant_id: format!("{name}-id"),
        display_name: name.into(),
        role,
        cloud: EntraCloud::Global,
        ready: true,
    }
}

fn three() -> Vec<GraphMember> {
    vec![
        member("fabrikam", MemberRole::Member),
        member("contoso", MemberRole::Owner),
        member("litware", MemberRole::Owner),
    ]
}

fn report(name: &str, state: EntraState) -> Reported {
    Reported {
        tenant_id: format!("{name}-id"),
        role: None,
        state,
        transition: None,
        member_elsewhere: None,
    }
}

fn applied(tenants: Vec<Reported>) -> EntraOutcome {
    EntraOutcome::Applied(multitenant_org::EntraApplied {
        writes: 0,
        tenants,
        removed: Vec::new(),
    })
}

fn all_active() -> EntraOutcome {
    applied(
        ["contoso", "fabrikam", "litware"]
            .iter()
            .map(|n| report(n, EntraState::Active))
            .collect(),
    )
}

#[test]
fn only_graph_members_form_entra_and_the_first_owner_among_them_creates_it() {
    assert_eq!(entra_decide::plan(&[]), EntraPlan::NotEntra);
    let graph = three();
    match entra_decide::plan(&graph) {
        EntraPlan::Apply { owner, members } => {
            assert_eq!(owner.name, "contoso");
            let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
            assert_eq!(names, ["fabrikam", "litware"], "a second Owner joins as one");
        }
        other => panic!("expected Apply, got {other:?}"),
    }
    let no_owner = vec![member("fabrikam", MemberRole::Member)];
    assert_eq!(entra_decide::plan(&no_owner), EntraPlan::Refused(Refusal::NoOwner));
}

#[test]
fn a_us_government_member_is_refused_before_any_request_even_when_not_ready() {
    let mut graph = three();
    graph[0].cloud = EntraCloud::USGovernment;
    graph[2].ready = false;
    assert_eq!(
        entra_decide::plan(&graph),
        EntraPlan::Refused(Refusal::UnsupportedCloud {
            tenant: "fabrikam".into(),
            cloud: EntraCloud::USGovernment
        })
    );
    graph[0].cloud = EntraCloud::Global;
    assert_eq!(
        entra_decide::plan(&graph),
        EntraPlan::Refused(Refusal::TenantNotReady(vec!["litware".into()]))
    );
}

#[test]
fn applied_is_true_when_every_graph_member_is_active_and_joining_while_one_is_pending() {
    let graph = three();
    let verdict = entra_decide::applied(&graph, &all_active());
    assert_eq!((verdict.status, verdict.reason), (true, R::Applied.as_str()));
    assert!(verdict.message.contains("all active"), "{}", verdict.message);

    let mut pending = report("fabrikam", EntraState::Pending);
    pending.transition = Some(Transition {
        desired_state: Some("active".into()),
        status: Some("notStarted".into()),
        ..Transition::default()
    });
    let outcome = applied(vec![report("contoso", EntraState::Active), pending]);
    let verdict = entra_decide::applied(&graph, &outcome);
    assert_eq!((verdict.status, verdict.reason), (true, R::Joining.as_str()));
    assert!(
        verdict
            .message
            .contains("'fabrikam' (pending; towards active: notStarted)"),
        "{}",
        verdict.message
    );
    assert_eq!(
        entra_decide::active_members(&graph, &outcome),
        Some(BTreeSet::from(["contoso".to_owned()]))
    );
}

#[test]
fn a_failed_join_and_a_member_of_another_organization_are_join_failed() {
    let graph = three();
    let mut failed = report("fabrikam", EntraState::Pending);
    failed.transition = Some(Transition {
        status: Some("failed".into()),
        details: Some("not added by the owner".into()),
        ..Transition::default()
    });
    let mut elsewhere = report("litware", EntraState::Pending);
    elsewhere.member_elsewhere = Some("other-owner".into());
    let outcome = applied(vec![report("contoso", EntraState::Active), failed, elsewhere]);
    let verdict = entra_decide::applied(&graph, &outcome);
    assert_eq!((verdict.status, verdict.reason), (false, R::JoinFailed.as_str()));
    let failures = entra_decide::failed_joins(&graph, &outcome);
    assert_eq!(failures.len(), 2);
    assert!(failures[0].1.contains("not added by the owner"), "{failures:?}");
    assert!(failures[1].1.contains("other-owner"), "{failures:?}");
}

#[test]
fn each_cause_of_failure_has_its_own_reason() {
    let graph = three();
    let reason = |outcome: EntraOutcome| entra_decide::applied(&graph, &outcome);
    let directory = |source| {
        EntraOutcome::Failed(ApplyError::Directory {
            tenant_id: "contoso-id".into(),
            source,
        })
    };
    let forbidden = reason(directory(DirectoryError::Rejected {
        status: 403,
        code: None,
        detail: None,
    }));
    assert_eq!((forbidden.status, forbidden.reason), (false, R::Forbidden.as_str()));
    assert!(forbidden.message.contains("MultiTenantOrganization.ReadWrite.All"));
    assert_eq!(
        reason(directory(DirectoryError::Unreachable("refused".into()))).reason,
        R::Unreachable.as_str()
    );
    let not_owner = reason(EntraOutcome::Failed(ApplyError::NotAnOwner {
        tenant_id: "contoso-id".into(),
    }));
    assert_eq!(not_owner.reason, R::NotAnOwner.as_str());
    let unusable = reason(EntraOutcome::Unusable {
        tenant: "litware".into(),
        problem: ConnectError::SecretNotFound("litware-graph".into()),
    });
    assert_eq!(unusable.reason, R::SecretNotFound.as_str());
    assert!(unusable.message.starts_with("Tenant 'litware'"), "{}", unusable.message);
    let no_owner = reason(EntraOutcome::Refused(Refusal::NoOwner));
    assert_eq!((no_owner.status, no_owner.reason), (false, R::NoOwner.as_str()));
    let cloud = reason(EntraOutcome::Refused(Refusal::UnsupportedCloud {
        tenant: "fabrikam".into(),
        cloud: EntraCloud::USGovernment,
    }));
    assert_eq!(cloud.reason, R::UnsupportedCloud.as_str());
    assert!(cloud.message.contains("USGovernment"), "{}", cloud.message);
}

fn status_of(members: &[(&str, MemberState)]) -> OrganizationStatus {
    OrganizationStatus {
        observed_generation: Some(1),
        tenants: members
            .iter()
            .map(|(name, state)| MemberStatus {
                name: (*name).into(),
                state: *state,
                ..MemberStatus::default()
            })
            .collect(),
        ..OrganizationStatus::default()
    }
}

fn states(status: &OrganizationStatus) -> Vec<MemberState> {
    status.tenants.iter().map(|t| t.state).collect()
}

#[test]
fn a_graph_member_is_active_only_once_entra_reports_it_active() {
    use MemberState::{Active, Pending};
    let now = Timestamp::UNIX_EPOCH;
    let graph = BTreeSet::from(["contoso".to_owned(), "fabrikam".to_owned()]);
    // The Tenants are Ready (Active as the fan-out sees them); scim is no Graph tenant.
    let base = status_of(&[("contoso", Active), ("fabrikam", Active), ("scim", Active)]);
    let step = EntraStep::Checked {
        applied: Verdict::truth(R::Joining, "joining"),
        active: Some(BTreeSet::from(["contoso".to_owned()])),
    };
    let mut next = base.clone();
    entra_status::overlay(&mut next, &OrganizationStatus::default(), &graph, &step, now);
    assert_eq!(states(&next), [Active, Pending, Active]);
    assert_eq!(next.last_entra_check, Some(Time(now)));
    let condition = conditions::find(&next.conditions, R::TYPE).expect("the condition");
    assert_eq!(
        (condition.status.as_str(), condition.reason.as_str()),
        ("True", R::Joining.as_str())
    );

    // A failure reports nothing: the states last written stand.
    let failed = EntraStep::Checked {
        applied: Verdict::falsity(R::Unreachable, "down"),
        active: None,
    };
    let mut after = base.clone();
    entra_status::overlay(&mut after, &next, &graph, &failed, now);
    assert_eq!(states(&after), [Active, Pending, Active]);
    assert_eq!(entra_status::joined(&next, &after, &graph), Vec::<String>::new());

    // Entra completes the join: fabrikam becomes Active, and that is an Event.
    let mut done = base.clone();
    let complete = EntraStep::Checked {
        applied: Verdict::truth(R::Applied, "all active"),
        active: Some(graph.clone()),
    };
    entra_status::overlay(&mut done, &after, &graph, &complete, now);
    assert_eq!(states(&done), [Active, Active, Active]);
    assert_eq!(entra_status::joined(&after, &done, &graph), ["fabrikam"]);

    // No Graph member any more: no Applied condition.
    let mut scim_only = done.clone();
    entra_status::overlay(&mut scim_only, &done, &BTreeSet::new(), &EntraStep::NotEntra, now);
    assert!(conditions::find(&scim_only.conditions, R::TYPE).is_none());
    assert_eq!(scim_only.last_entra_check, None);
}

#[test]
fn a_member_whose_tenant_is_not_ready_stays_pending_whatever_entra_says() {
    use MemberState::Pending;
    let graph = BTreeSet::from(["contoso".to_owned()]);
    let mut next = status_of(&[("contoso", Pending)]);
    let step = EntraStep::Checked {
        applied: Verdict::truth(R::Applied, "all active"),
        active: Some(graph.clone()),
    };
    entra_status::overlay(
        &mut next,
        &OrganizationStatus::default(),
        &graph,
        &step,
        Timestamp::UNIX_EPOCH,
    );
    assert_eq!(states(&next), [Pending]);
}

fn checked(reason: R, status: bool, transition: Timestamp, checked: Timestamp) -> OrganizationStatus {
    let mut s = status_of(&[]);
    s.conditions = conditions::record(&[], Verdict::new(status, reason, "m"), Some(1), transition);
    s.last_entra_check = Some(Time(checked));
    s
}

#[test]
fn entra_is_due_at_a_new_generation_and_then_at_its_pace() {
    let t0 = Timestamp::UNIX_EPOCH;
    let at = |secs: i64| t0 + SignedDuration::from_secs(secs);
    let (recheck, retry) = (Duration::from_secs(300), Duration::from_secs(30));
    let schedule = |status: &OrganizationStatus, generation: i64, now: Timestamp| {
        entra_decide::schedule(status, Some(generation), now, recheck, retry)
    };
    assert_eq!(schedule(&status_of(&[]), 1, t0), Schedule::Now, "never checked");
    let applied = checked(R::Applied, true, t0, t0);
    assert_eq!(schedule(&applied, 1, at(60)), Schedule::After(Duration::from_secs(240)));
    assert_eq!(schedule(&applied, 2, at(60)), Schedule::Now, "a new generation");
    assert_eq!(schedule(&applied, 1, at(300)), Schedule::Now);
    let joining = checked(R::Joining, true, t0, t0);
    assert_eq!(schedule(&joining, 1, at(10)), Schedule::After(Duration::from_secs(20)));
    let refused = checked(R::TenantNotReady, false, t0, t0);
    assert_eq!(
        schedule(&refused, 1, at(1)),
        Schedule::OnChange,
        "deciding again is free"
    );
}

#[test]
fn a_failure_is_retried_after_a_backoff_that_grows_with_it() {
    let t0 = Timestamp::UNIX_EPOCH;
    let at = |secs: i64| t0 + SignedDuration::from_secs(secs);
    let (recheck, retry) = (Duration::from_secs(300), Duration::from_secs(30));
    let wait = |failing_since: Timestamp, checked_at: Timestamp| {
        let status = checked(R::Unreachable, false, failing_since, checked_at);
        entra_decide::schedule(&status, Some(1), checked_at, recheck, retry)
    };
    assert_eq!(wait(t0, t0), Schedule::After(entra_decide::FIRST_RETRY));
    assert_eq!(wait(t0, at(40)), Schedule::After(Duration::from_secs(40)));
    assert_eq!(wait(t0, at(4000)), Schedule::After(recheck), "capped");
}

#[test]
fn a_partner_template_maps_to_entras_two_templates() {
    let template: PartnerTemplate = serde_json::from_value(json!({
        "inbound": { "allowUsersSync": true, "automaticallyRedeemInvitations": true },
        "outbound": { "automaticallyRedeemInvitations": false },
        "applyTo": "ExistingPartners",
    }))
    .expect("a template");
    let templates = organization_templates(Some(&template));
    let partner = templates.partner.expect("the partner configuration template");
    assert_eq!(
        (partner.redeem_inbound, partner.redeem_outbound, partner.apply_to),
        (Some(true), Some(false), EntraApplyTo::ExistingPartners)
    );
    assert_eq!(partner.apply_to.as_graph(), "newPartners,existingPartners");
    let sync = templates.identity_sync.expect("the identity synchronization template");
    assert_eq!(
        (sync.allow_users_sync, sync.apply_to),
        (Some(true), EntraApplyTo::ExistingPartners)
    );

    // A field left out changes nothing: a template with none of a template's fields is not sent.
    let only_sync: PartnerTemplate =
        serde_json::from_value(json!({ "inbound": { "allowUsersSync": false } })).expect("a template");
    let templates = organization_templates(Some(&only_sync));
    assert_eq!(templates.partner, None);
    let sync = templates.identity_sync.expect("identity sync");
    assert_eq!(
        (sync.allow_users_sync, sync.apply_to.as_graph()),
        (Some(false), "newPartners")
    );
    assert_eq!(organization_templates(None), multitenant_org::Templates::default());
}
