use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, OwnerReference, Time};
use k8s_openapi::jiff::Timestamp;
use kube::runtime::watcher::Event;

use super::*;
use crate::api::conditions::ConditionReason;
use crate::api::sync_config::{SyncConfigurationSpec, SyncConfigurationStatus};

fn config(ns: &str, name: &str, source: &str, target: &str) -> SyncConfiguration {
    let spec: SyncConfigurationSpec = serde_json::from_value(serde_json::json!({
        "sourceRef": { "name": source }, "targetRef": { "name": target },
    }))
    .expect("spec");
    let mut config = SyncConfiguration::new(name, spec);
    config.metadata.namespace = Some(ns.to_owned());
    config
}

/// A configuration Organization `group` generated for `source` → `target`.
fn generated(name: &str, source: &str, target: &str) -> SyncConfiguration {
    let mut c = config("ns", name, source, target);
    c.metadata.labels = Some(
        [
            (ORGANIZATION_LABEL, "group"),
            (SOURCE_LABEL, source),
            (TARGET_LABEL, target),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    );
    c
}

fn tenants(index: &ConfigIndex) -> Vec<String> {
    index.tenants_generated_by("ns", "group").into_iter().collect()
}

#[test]
fn configurations_are_found_by_the_tenants_they_name_and_follow_their_spec() {
    let index = ConfigIndex::default();
    index.event(&Event::Apply(config("ns", "a", "contoso", "fabrikam")));
    index.event(&Event::Apply(config("ns", "b", "contoso", "fabrikam")));
    index.event(&Event::Apply(config("other", "c", "contoso", "fabrikam")));
    assert_eq!(index.naming("ns", "contoso", "fabrikam"), ["a", "b"]);
    assert_eq!(index.naming("other", "contoso", "fabrikam"), ["c"]);

    index.event(&Event::Apply(config("ns", "b", "contoso", "northwind")));
    assert_eq!(index.naming("ns", "contoso", "fabrikam"), ["a"], "b moved");
    assert_eq!(index.naming("ns", "contoso", "northwind"), ["b"]);
    index.event(&Event::Delete(config("ns", "a", "contoso", "fabrikam")));
    assert!(index.naming("ns", "contoso", "fabrikam").is_empty());
}

#[test]
fn an_organizations_tenants_are_those_its_configurations_name_until_the_last_one_goes() {
    let index = ConfigIndex::default();
    index.event(&Event::Apply(generated("g1", "contoso", "fabrikam")));
    index.event(&Event::Apply(generated("g2", "fabrikam", "northwind")));
    // Owned but its labels edited away: its spec's pair counts.
    let mut owned = config("ns", "g3", "northwind", "woodgrove");
    owned.metadata.owner_references = Some(vec![OwnerReference {
        kind: "Organization".into(),
        name: "group".into(),
        ..OwnerReference::default()
    }]);
    index.event(&Event::Apply(owned.clone()));
    index.event(&Event::Apply(config("ns", "by-hand", "litware", "contoso")));
    assert_eq!(tenants(&index), ["contoso", "fabrikam", "northwind", "woodgrove"]);

    index.event(&Event::Delete(generated("g1", "contoso", "fabrikam")));
    assert_eq!(
        tenants(&index),
        ["fabrikam", "northwind", "woodgrove"],
        "contoso is named no more"
    );
    index.event(&Event::Delete(owned));
    index.event(&Event::Delete(generated("g2", "fabrikam", "northwind")));
    assert!(tenants(&index).is_empty());
}

#[test]
fn a_relist_forgets_what_was_deleted_while_the_watch_was_down() {
    let index = ConfigIndex::default();
    index.event(&Event::Apply(generated("g1", "contoso", "fabrikam")));
    index.event(&Event::Apply(config("ns", "a", "contoso", "fabrikam")));
    index.event(&Event::Init);
    index.event(&Event::InitApply(config("ns", "a", "contoso", "fabrikam")));
    assert_eq!(
        tenants(&index),
        ["contoso", "fabrikam"],
        "the old answer stands until the list is complete"
    );
    index.event(&Event::InitDone);
    assert!(tenants(&index).is_empty(), "g1 went while the watch was down");
    assert_eq!(index.naming("ns", "contoso", "fabrikam"), ["a"]);
}

#[test]
fn configurations_marked_duplicate_pair_are_listed_until_they_are_not() {
    let index = ConfigIndex::default();
    let mut duplicate = config("ns", "d", "contoso", "fabrikam");
    duplicate.status = Some(SyncConfigurationStatus {
        conditions: vec![Condition {
            type_: ReadyReason::TYPE.into(),
            status: "False".into(),
            reason: ReadyReason::DuplicatePair.as_str().into(),
            message: String::new(),
            observed_generation: None,
            last_transition_time: Time(Timestamp::UNIX_EPOCH),
        }],
        ..SyncConfigurationStatus::default()
    });
    index.event(&Event::Apply(duplicate));
    assert_eq!(index.duplicates(), [("ns".to_owned(), "d".to_owned())]);
    index.event(&Event::Apply(config("ns", "d", "contoso", "fabrikam")));
    assert!(index.duplicates().is_empty());
}
