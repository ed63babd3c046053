//! The Organization's decisions as pure functions: fan-out, validation, readiness, status.

use std::collections::BTreeMap;

use k8s_openapi::jiff::Timestamp;
use serde_json::json;

use super::decide::{self, MemberFacts, MemberTenant};
use super::fan_out::{self, Existing, Pair};
use super::status::{self, Generated};
use crate::api::conditions::ConditionReason;
use crate::api::organization::{MemberRole, MemberState, Organization, OrganizationSpec};
use crate::api::reasons::OrganizationReadyReason;
use crate::api::sync_config::OnConfigurationDelete;

fn spec(value: serde_json::Value) -> OrganizationSpec {
    serde_json::from_value(value).expect("a spec")
}

fn three(topology: serde_json::Value) -> OrganizationSpec {
    spec(json!({
        "tenants": [
            { "tenantRef": { "name": "contoso" }, "role": "Owner" },
            { "tenantRef": { "name": "fabrikam" } },
            { "tenantRef": { "name": "litware" } },
        ],
        "topology": topology,
        "syncTemplate": { "scope": { "mode": "AllUsers" }, "interval": "10m" },
    }))
}

fn pairs(spec: &OrganizationSpec) -> Vec<String> {
    fan_out::pairs(spec)
        .iter()
        .map(|p| format!("{}>{}", p.source, p.target))
        .collect()
}

#[test]
fn a_mesh_names_every_ordered_pair_of_members_minus_the_excluded() {
    assert_eq!(
        pairs(&three(json!({ "mode": "Mesh" }))),
        [
            "contoso>fabrikam",
            "contoso>litware",
            "fabrikam>contoso",
            "fabrikam>litware",
            "litware>contoso",
            "litware>fabrikam"
        ]
    );
    let excluded = three(json!({ "mode": "Mesh",
        "exclude": [{ "source": { "name": "litware" }, "target": { "name": "contoso" } }] }));
    assert_eq!(pairs(&excluded).len(), 5);
    assert!(!pairs(&excluded).contains(&"litware>contoso".to_owned()));
}

#[test]
fn each_hub_mode_names_the_pairs_through_the_hub() {
    let hub = |mode: &str| three(json!({ "mode": mode, "hub": { "name": "contoso" } }));
    assert_eq!(pairs(&hub("FromHub")), ["contoso>fabrikam", "contoso>litware"]);
    assert_eq!(pairs(&hub("ToHub")), ["fabrikam>contoso", "litware>contoso"]);
    assert_eq!(
        pairs(&hub("HubAndSpoke")),
        [
            "contoso>fabrikam",
            "contoso>litware",
            "fabrikam>contoso",
            "litware>contoso"
        ]
    );
}

#[test]
fn a_generated_spec_is_the_template_with_the_pair_suspend_and_on_leave() {
    let mut org = three(json!({ "mode": "Mesh" }));
    org.suspend = true;
    org.sync_template.0.insert(
        "deprovision".into(),
        json!({ "onConfigurationDelete": "Deprovision", "accidentalDeletionThreshold": 7 }),
    );
    org.sync_template.0.insert("suspend".into(), json!(false));
    let config = fan_out::spec_for(&org, &Pair::new("contoso", "fabrikam")).expect("a spec");
    assert_eq!(
        (config.source_ref.name.as_str(), config.target_ref.name.as_str()),
        ("contoso", "fabrikam")
    );
    assert!(config.suspend, "the Organization's suspend wins");
    assert_eq!(config.interval, "10m");
    assert_eq!(config.deprovision.accidental_deletion_threshold, 7);
    assert_eq!(
        config.deprovision.on_configuration_delete,
        OnConfigurationDelete::Keep,
        "onLeave: Retain overrides the template"
    );
    org.on_leave = crate::api::organization::OnLeave::Deprovision;
    let config = fan_out::spec_for(&org, &Pair::new("contoso", "fabrikam")).expect("a spec");
    assert_eq!(
        config.deprovision.on_configuration_delete,
        OnConfigurationDelete::Deprovision
    );
}

#[test]
fn names_are_plain_unless_too_long_or_taken_and_labels_name_the_pair() {
    let org = three(json!({ "mode": "FromHub", "hub": { "name": "contoso" } }));
    let taken = Existing {
        name: "group-contoso-to-litware".into(),
        refs: Some(Pair::new("fabrikam", "litware")),
        ..Existing::default()
    };
    let out = fan_out::fan_out("group", &org, &[taken], &BTreeMap::new()).expect("fan-out");
    assert_eq!(out.desired[0].name, "group-contoso-to-fabrikam");
    assert_eq!(
        out.desired[0].labels,
        BTreeMap::from([
            ("xtsync.io/organization".to_owned(), "group".to_owned()),
            ("xtsync.io/source".to_owned(), "contoso".to_owned()),
            ("xtsync.io/target".to_owned(), "fabrikam".to_owned()),
        ])
    );
    let suffixed = &out.desired[1].name;
    assert!(
        suffixed.starts_with("group-contoso-to-litware-") && suffixed.len() == "group-contoso-to-litware".len() + 9,
        "{suffixed}"
    );

    let long = Pair::new(&"s".repeat(63), &"t".repeat(200));
    let name = fan_out::suffixed_name(&"o".repeat(63), &long);
    assert!(name.len() <= 253 && !name.contains("--"), "{name}");
    assert_eq!(name, fan_out::suffixed_name(&"o".repeat(63), &long), "stable");
}

#[test]
fn generated_configurations_are_found_by_their_pair_and_the_rest_are_stale() {
    let org = three(json!({ "mode": "FromHub", "hub": { "name": "contoso" } }));
    let ours = |name: &str, source: &str, target: &str| Existing {
        name: name.into(),
        generated: Some(Pair::new(source, target)),
        ..Existing::default()
    };
    let existing = [
        ours("renamed-by-suffix", "contoso", "fabrikam"),
        ours("second-copy", "contoso", "fabrikam"),
        ours("old-pair", "fabrikam", "contoso"),
    ];
    let out = fan_out::fan_out("group", &org, &existing, &BTreeMap::new()).expect("fan-out");
    assert_eq!(out.desired[0].name, "renamed-by-suffix", "an existing name is kept");
    assert_eq!(out.stale, ["second-copy", "old-pair"]);
    assert_eq!(fan_out::leaving(&org, &existing).len(), 0);
    let mut without_litware = org.clone();
    without_litware.tenants.pop();
    let existing = [ours("x", "contoso", "litware")];
    assert_eq!(
        fan_out::leaving(&without_litware, &existing)
            .into_iter()
            .collect::<Vec<_>>(),
        ["litware"]
    );
}

#[test]
fn a_pair_claimed_by_a_configuration_not_generated_is_a_conflict_by_tenants_or_directories() {
    let org = three(json!({ "mode": "FromHub", "hub": { "name": "contoso" } }));
    let by_name = Existing {
        name: "hand-written".into(),
        refs: Some(Pair::new("contoso", "fabrikam")),
        ..Existing::default()
    };
    let by_directory = Existing {
        name: "other-tenant-objects".into(),
        refs: Some(Pair::new("contoso-2", "litware-2")),
        directories: Some(("scim a".into(), "scim c".into())),
        ..Existing::default()
    };
    let directories = BTreeMap::from([
        ("contoso".to_owned(), "scim a".to_owned()),
        ("litware".to_owned(), "scim c".to_owned()),
    ]);
    let out = fan_out::fan_out("group", &org, &[by_name, by_directory], &directories).expect("fan-out");
    assert!(out.desired.is_empty());
    assert_eq!(
        out.conflicts,
        [
            (Pair::new("contoso", "fabrikam"), "hand-written".to_owned()),
            (Pair::new("contoso", "litware"), "other-tenant-objects".to_owned()),
        ]
    );
}

#[test]
fn invalid_specs_name_their_field() {
    let problems = |name: &str, spec: &OrganizationSpec| decide::problems(name, spec).join("\n");
    assert_eq!(problems("group", &three(json!({ "mode": "Mesh" }))), "");
    assert!(problems(&"g".repeat(64), &three(json!({}))).contains("metadata.name"));
    assert!(problems("group", &three(json!({ "mode": "ToHub" }))).contains("spec.topology.hub: required"));
    assert!(
        problems("group", &three(json!({ "mode": "ToHub", "hub": { "name": "x" } })))
            .contains("spec.topology.hub: 'x' is not a member")
    );
    let excluded = three(json!({ "exclude": [{ "source": { "name": "x" }, "target": { "name": "contoso" } }] }));
    assert!(problems("group", &excluded).contains("spec.topology.exclude[0].source"));
    let mut twice = three(json!({}));
    twice.tenants.push(twice.tenants[1].clone());
    assert!(problems("group", &twice).contains("spec.tenants[3].tenantRef.name: 'fabrikam' is listed more than once"));
    let mut long = three(json!({}));
    long.tenants[2].tenant_ref.name = "l".repeat(64);
    assert!(problems("group", &long).contains("spec.tenants[2].tenantRef.name"));
    let mut template = three(json!({}));
    template.sync_template.0.insert("interval".into(), json!("1s"));
    assert!(problems("group", &template).contains("spec.syncTemplate: spec.interval"));
    template.sync_template.0.insert("scope".into(), json!({ "mode": 7 }));
    assert!(problems("group", &template).contains("spec.syncTemplate:"));
}

fn member(name: &str, found: MemberTenant) -> MemberFacts {
    MemberFacts {
        name: name.into(),
        role: MemberRole::Member,
        found,
    }
}

fn ready(id: &str) -> MemberTenant {
    MemberTenant::Ready { tenant_id: id.into() }
}

#[test]
fn readiness_reports_the_first_problem_in_order() {
    let org = three(json!({}));
    let reason =
        |problems: &[String], spec: &OrganizationSpec, members: &[MemberFacts], conflicts: &[(Pair, String)]| {
            decide::readiness(problems, spec, members, conflicts, 0).reason
        };
    let all_ready = [member("contoso", ready("a")), member("fabrikam", ready("b"))];
    assert_eq!(
        reason(&["x".into()], &org, &[], &[]),
        OrganizationReadyReason::InvalidSpec.as_str()
    );
    let mut ownerless = org.clone();
    ownerless.tenants[0].role = MemberRole::Member;
    assert_eq!(
        reason(&[], &ownerless, &all_ready, &[]),
        OrganizationReadyReason::NoOwner.as_str()
    );
    let missing = [
        member("contoso", MemberTenant::Missing),
        member(
            "fabrikam",
            MemberTenant::NotReady {
                tenant_id: "b".into(),
                why: "w".into(),
            },
        ),
    ];
    assert_eq!(
        reason(&[], &org, &missing, &[]),
        OrganizationReadyReason::TenantNotFound.as_str()
    );
    assert_eq!(
        reason(&[], &org, &missing[1..], &[]),
        OrganizationReadyReason::TenantNotReady.as_str()
    );
    let conflict = [(Pair::new("contoso", "fabrikam"), "mine".to_owned())];
    let verdict = decide::readiness(&[], &org, &all_ready, &conflict, 0);
    assert_eq!(verdict.reason, OrganizationReadyReason::Conflict.as_str());
    assert!(verdict.message.contains("'mine'"), "{}", verdict.message);
    let verdict = decide::readiness(&[], &org, &all_ready, &[], 2);
    assert!(verdict.status && verdict.reason == OrganizationReadyReason::Established.as_str());
}

#[test]
fn status_counts_configurations_per_member_and_shows_leaving_tenants() {
    let organization = Organization::new("group", three(json!({})));
    let members = [member("contoso", ready("a")), member("fabrikam", MemberTenant::Missing)];
    let generated = [
        Generated {
            pair: Pair::new("contoso", "fabrikam"),
            ready: true,
        },
        Generated {
            pair: Pair::new("fabrikam", "contoso"),
            ready: false,
        },
        Generated {
            pair: Pair::new("contoso", "litware"),
            ready: true,
        },
    ];
    let verdict = decide::readiness(&[], &organization.spec, &members, &[], 3);
    let next = status::next_status(
        &organization,
        verdict,
        &members,
        &["litware".into()],
        &generated,
        Timestamp::UNIX_EPOCH,
    );
    let row = |name: &str| next.tenants.iter().find(|t| t.name == name).expect("listed").clone();
    assert_eq!(
        (
            row("contoso").state,
            row("contoso").configurations,
            row("contoso").configurations_ready
        ),
        (MemberState::Active, 3, 2)
    );
    assert_eq!(
        (
            row("fabrikam").state,
            row("fabrikam").configurations,
            row("fabrikam").configurations_ready
        ),
        (MemberState::Pending, 2, 1)
    );
    assert_eq!(
        (row("litware").state, row("litware").configurations),
        (MemberState::Leaving, 1)
    );
    assert_eq!(
        (next.configurations, next.configurations_ready, next.tenant_count),
        (Some(3), Some(2), Some(2))
    );
    assert_eq!(row("contoso").tenant_id.as_deref(), Some("a"));

    let (joined, left) = status::changes(&Default::default(), &next);
    assert_eq!(
        (joined, left),
        (
            vec!["contoso".to_owned(), "fabrikam".to_owned()],
            vec!["litware".to_owned()]
        )
    );
    let (joined, left) = status::changes(&next, &next);
    assert!(joined.is_empty() && left.is_empty(), "no news, no Events");
}

#[test]
fn a_hundred_members_fan_out_to_every_ordered_pair_with_distinct_names() {
    let tenants: Vec<serde_json::Value> = (0..100)
        .map(|i| json!({ "tenantRef": { "name": format!("tenant-{i:03}") }, "role": if i == 0 { "Owner" } else { "Member" } }))
        .collect();
    let org = spec(json!({ "tenants": tenants, "syncTemplate": { "scope": { "mode": "AllUsers" } } }));
    assert!(decide::problems("group", &org).is_empty());
    let started = std::time::Instant::now();
    let out = fan_out::fan_out("group", &org, &[], &BTreeMap::new()).expect("fan-out");
    let took = started.elapsed();
    assert_eq!(out.desired.len(), 100 * 99);
    let names: std::collections::BTreeSet<&str> = out.desired.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names.len(), out.desired.len(), "every name distinct");
    eprintln!("fan-out of 100 members: {took:?}");
}

#[test]
fn ready_names_each_members_field_that_wins_over_a_new_partners_template_and_keeps_its_reason() {
    let org = three(json!({}));
    let members = [member("contoso", ready("a")), member("fabrikam", ready("b"))];
    let verdict = decide::readiness(&[], &org, &members, &[], 2);
    let kept = crate::access::KeptField {
        organization: "group".into(),
        partner: "b".into(),
        field: "spec.partners[0].inbound.allowUsersSync".into(),
        own: "false".into(),
        template: "true".into(),
    };
    let noted = decide::with_kept_fields(verdict.clone(), &[("contoso-policy".into(), kept)]);
    assert_eq!((noted.status, noted.reason), (verdict.status, verdict.reason));
    assert!(
        noted.message.starts_with(&verdict.message)
            && noted.message.contains(
                "CrossTenantAccessPolicy 'contoso-policy' spec.partners[0].inbound.allowUsersSync is false for partner b (template: true)"
            )
            && noted.message.contains("the person's value wins"),
        "{}",
        noted.message
    );
    assert_eq!(decide::with_kept_fields(verdict.clone(), &[]), verdict);
}
