use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use super::decide::{self, PolicyFacts, PushOutcome};
use super::status::next_status;
use crate::api::conditions::{ConditionReason, Verdict};
use crate::api::policy::{CrossTenantAccessPolicy, EntryOrigin};
use crate::api::reasons::{AppliedReason, PolicyReadyReason};
use crate::controller::Settings;
use crate::providers::msgraph::policy::{PushError, Pushed};
use crate::providers::{ConnectError, DirectoryError};

fn facts() -> PolicyFacts<'static> {
    PolicyFacts {
        namespace: "team-a",
        tenant: "contoso",
        tenant_exists: true,
        repeated_partners: Vec::new(),
        other_policy_in_force: None,
        partners: 2,
    }
}

fn policy() -> CrossTenantAccessPolicy {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "xtsync.io/v1alpha1", "kind": "CrossTenantAccessPolicy",
        "metadata": { "name": "contoso", "namespace": "team-a", "generation": 3 },
        "spec": { "tenantRef": { "name": "contoso" } },
    }))
    .expect("a policy")
}

#[test]
fn a_repeated_partner_is_an_invalid_spec_before_anything_else() {
    let verdict = decide::readiness(&PolicyFacts {
        repeated_partners: vec!["fabrikam-id".into()],
        tenant_exists: false,
        ..facts()
    });
    assert_eq!(verdict.reason, PolicyReadyReason::InvalidSpec.as_str());
    assert!(verdict.message.contains("fabrikam-id"), "{}", verdict.message);
}

#[test]
fn a_missing_tenant_then_an_older_policy_keep_the_policy_from_being_ready() {
    let missing = decide::readiness(&PolicyFacts {
        tenant_exists: false,
        ..facts()
    });
    assert_eq!(missing.reason, PolicyReadyReason::TenantNotFound.as_str());
    let duplicate = decide::readiness(&PolicyFacts {
        other_policy_in_force: Some("older".into()),
        ..facts()
    });
    assert_eq!(duplicate.reason, PolicyReadyReason::DuplicatePolicy.as_str());
    assert!(duplicate.message.contains("'older'"), "{}", duplicate.message);
    let effective = decide::readiness(&facts());
    assert!(effective.status && effective.reason == PolicyReadyReason::Effective.as_str());
}

#[test]
fn applied_says_what_entra_has_and_why_not() {
    assert!(decide::applied(PushOutcome::NothingToPush, "contoso", 2).is_none());
    let pushed = Pushed {
        writes: 1,
        unmanaged_partners: vec!["other-id".into()],
    };
    let (verdict, unmanaged) = decide::applied(PushOutcome::Pushed(pushed), "contoso", 2).expect("applied");
    assert!(verdict.status && verdict.message.contains("1 partner(s) configured in Entra"));
    assert_eq!(unmanaged, ["other-id"]);
    let forbidden = PushError::Directory(DirectoryError::Rejected {
        status: 403,
        code: None,
        detail: None,
    });
    let (verdict, _) = decide::applied(PushOutcome::Failed(forbidden), "contoso", 2).expect("applied");
    assert_eq!(verdict.reason, AppliedReason::Forbidden.as_str());
    let unusable = PushOutcome::Unusable(ConnectError::SecretNotAllowed("not labelled".into()));
    let (verdict, _) = decide::applied(unusable, "contoso", 2).expect("applied");
    assert_eq!(verdict.reason, AppliedReason::SecretNotAllowed.as_str());
}

#[test]
fn a_tenant_whose_settings_certificate_ca_bundle_or_login_endpoint_cannot_be_used_says_which() {
    let cases = [
        (
            ConnectError::InvalidSpec("two credentials".into()),
            AppliedReason::InvalidTenantSpec,
        ),
        (
            ConnectError::InvalidCertificate("expired".into()),
            AppliedReason::InvalidCertificate,
        ),
        (
            ConnectError::InvalidCABundle("no PEM".into()),
            AppliedReason::InvalidCABundle,
        ),
        (
            ConnectError::LoginEndpointNotTrusted("https://login.example".into()),
            AppliedReason::LoginEndpointNotTrusted,
        ),
    ];
    for (problem, reason) in cases {
        let message = problem.to_string();
        let (verdict, _) = decide::applied(PushOutcome::Unusable(problem), "contoso", 2).expect("applied");
        assert_eq!(verdict.reason, reason.as_str(), "{message}");
    }
}

#[test]
fn a_failed_push_is_retried_sooner_and_a_tenant_without_push_has_no_applied_condition() {
    let settings = Settings {
        tenant_recheck: Duration::from_secs(300),
        tenant_retry: Duration::from_secs(30),
        gate_recheck: Duration::from_secs(120),
        ..Settings::default()
    };
    let ready = || Verdict::truth(PolicyReadyReason::Effective, "in force");
    let failed = Some((Verdict::falsity(AppliedReason::Unreachable, "refused"), Vec::new()));
    let effective = crate::access::EffectivePolicy::of_policy(&policy().spec);
    let (status, requeue) = next_status(&policy(), &effective, ready(), failed, &settings, Timestamp::now());
    assert_eq!(requeue, Duration::from_secs(30));
    assert!(
        status
            .conditions
            .iter()
            .any(|c| c.type_ == AppliedReason::TYPE && c.status == "False")
    );
    assert_eq!(status.observed_generation, Some(3));

    let mut applied_before = policy();
    applied_before.status = Some(status);
    let (status, requeue) = next_status(&applied_before, &effective, ready(), None, &settings, Timestamp::now());
    assert_eq!(requeue, Duration::from_secs(120));
    assert!(status.conditions.iter().all(|c| c.type_ != AppliedReason::TYPE));
}

#[test]
fn status_effective_shows_each_entry_with_its_origin_and_leaves_the_spec_as_written() {
    let mut own = policy();
    own.spec = serde_json::from_value(serde_json::json!({
        "tenantRef": { "name": "contoso" },
        "partners": [{ "tenantId": "11111111-2222-3333-4444-555555555555", "inbound": { "allowUsersSync": false } }],
    }))
    .expect("a spec");
    let written = own.spec.clone();
    let template = crate::access::OrganizationTemplate {
        organization: "group".into(),
        template: serde_json::from_value(serde_json::json!({ "inbound": { "allowUsersSync": true } }))
            .expect("a template"),
        partners: vec![
            "11111111-2222-3333-4444-555555555555".into(),
            "22222222-3333-4444-5555-666666666666".into(),
        ],
    };
    let effective = crate::access::overlay(Some(&own.spec), &[template]);
    let ready = Verdict::truth(PolicyReadyReason::Effective, "in force");
    let (status, _) = next_status(&own, &effective, ready, None, &Settings::default(), Timestamp::now());
    let origins: Vec<(bool, EntryOrigin, Option<&str>)> = status
        .effective
        .iter()
        .map(|e| (e.inbound.allow_users_sync, e.origin, e.organization.as_deref()))
        .collect();
    assert_eq!(
        origins,
        [
            (false, EntryOrigin::Policy, None),
            (true, EntryOrigin::Organization, Some("group"))
        ]
    );
    assert_eq!(status.partner_count, Some(1), "the policy's own partners");
    assert_eq!(own.spec, written);
}
