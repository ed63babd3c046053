//! Group provisioning into Microsoft Graph targets (README, "Groups"), from a Graph source and from
//! a SCIM source, against the fake Graph (shaped as Microsoft Learn documents `/groups`,
//! `members@odata.bind`, `members/{id}/$ref` and `$batch`): the groups arrive with exactly
//! their synced members and follow the source with one write per change.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use xtsync::api::CrossTenantAccessPolicy;
use xtsync::api::conditions::ConditionReason;
use xtsync::api::reasons::AppliedReason;
use xtsync::api::sync_config::SyncConfigurationStatus;

use crate::fake_graph::FakeGraph;
use crate::groups::{config, cycle};
use crate::manifests::{self, CONTOSO, FABRIKAM, GRAPH_APP, GRAPH_SECRET};
use crate::support::{TestNs, wait_condition};

const ANCHOR: &str = "extensionAttribute15";

/// Where the source's users and groups are.
enum Source {
    Scim(crate::support::scim::Scim),
    Graph(FakeGraph),
}

impl Source {
    async fn user(&self, name: &str) -> String {
        match self {
            Source::Scim(scim) => scim.add_user(name, json!({})).await,
            Source::Graph(fake) => fake.add_member(CONTOSO, name, json!({})),
        }
    }

    async fn group(&self, name: &str, members: &[&str]) -> String {
        match self {
            Source::Scim(scim) => scim.add_group(name, members).await,
            Source::Graph(fake) => {
                let members: Vec<String> = members.iter().map(|m| (*m).to_owned()).collect();
                fake.add_group(CONTOSO, name, &members)
            }
        }
    }

    /// Renames the group, adds `add` and removes `remove`, as an administrator would.
    async fn change(&self, group: &str, rename: &str, add: &str, remove: &str) {
        match self {
            Source::Scim(scim) => {
                scim.patch_group(
                    group,
                    json!([
                        { "op": "add", "path": "members", "value": [{ "value": add }] },
                        { "op": "remove", "path": format!("members[value eq \"{remove}\"]") },
                        { "op": "replace", "path": "displayName", "value": rename },
                    ]),
                )
                .await;
            }
            Source::Graph(fake) => fake.change_group(CONTOSO, group, |value, members| {
                value["displayName"] = json!(rename);
                members.retain(|m| m != remove);
                members.push(add.to_owned());
            }),
        }
    }
}

/// A fake Graph holding contoso and fabrikam, and a test whose fabrikam Tenant is a Graph
/// tenant on it (contoso too when `source_graph`, else a SCIM tenant), with the policies that
/// let users and groups sync.
async fn graph_target(name: &str, source_graph: bool) -> (TestNs, FakeGraph) {
    let fake = FakeGraph::start().await;
    for (id, tenant) in [(CONTOSO, "contoso"), (FABRIKAM, "fabrikam")] {
        fake.add_tenant(id, tenant, GRAPH_APP, GRAPH_SECRET);
    }
    let mut t = TestNs::new(name).await;
    t.start_controllers(|_| {});
    let contoso = if source_graph {
        manifests::graph_tenant("contoso", CONTOSO, "Global", Some(&fake.base))
    } else {
        manifests::tenants_with(&t, &[("contoso", CONTOSO, "Global")])
    };
    let fabrikam = manifests::graph_tenant("fabrikam", FABRIKAM, "Global", Some(&fake.base));
    let policies = manifests::target_policy_with_groups().and(manifests::source_policy());
    t.apply(&contoso.and(fabrikam).and(policies)).await;
    (t, fake)
}

/// The target group named `name`: its properties and members.
fn target_group(fake: &FakeGraph, name: &str) -> Option<(Value, BTreeSet<String>)> {
    fake.groups(FABRIKAM)
        .into_iter()
        .find(|(g, _)| g["displayName"] == name)
        .map(|(g, m)| (g, m.into_iter().collect()))
}

/// The target users provisioned from these source users.
fn provisioned(fake: &FakeGraph, sources: &[&str]) -> BTreeSet<String> {
    let users = fake.users(FABRIKAM);
    sources
        .iter()
        .map(|s| {
            let anchor = format!("{CONTOSO}/{s}");
            users
                .iter()
                .find(|u| u["onPremisesExtensionAttributes"][ANCHOR] == anchor.as_str())
                .and_then(|u| u["id"].as_str())
                .unwrap_or_else(|| panic!("{s} is not provisioned"))
                .to_owned()
        })
        .collect()
}

/// Writes the fake saw to fabrikam's groups since `before` of them.
fn group_writes(fake: &FakeGraph, before: usize) -> Vec<String> {
    fake.requests(FABRIKAM)
        .iter()
        .filter(|l| l.is_write() && l.target.contains("/groups"))
        .skip(before)
        .map(|l| format!("{} {}", l.method, l.target))
        .collect()
}

async fn groups_follow_the_source(name: &str, source_graph: bool) {
    let (t, fake) = graph_target(name, source_graph).await;
    // The target's policy reaches Entra with group sync allowed (beta's groupSyncInbound).
    let policies = t.api::<CrossTenantAccessPolicy>();
    wait_condition(
        &policies,
        "fabrikam",
        AppliedReason::TYPE,
        Duration::from_secs(30),
        |c| c.status == "True",
    )
    .await;
    let sync = fake.with_tenant(FABRIKAM, |t, _| t.policies.identity_sync.get(CONTOSO).cloned());
    assert_eq!(
        sync.as_ref().and_then(|s| s.pointer("/groupSyncInbound/isSyncAllowed")),
        Some(&json!(true)),
        "{sync:?}"
    );
    let source = if source_graph {
        Source::Graph(fake.clone())
    } else {
        Source::Scim(t.scim("contoso"))
    };
    let alice = source.user("alice@contoso.com").await;
    let bob = source.user("bob@contoso.com").await;
    let carol = source.user("carol@contoso.com").await;
    let eve = source.user("eve@contoso.com").await;
    let inner = source.group("Inner", &[&eve]).await;
    let sales = source.group("Sales", &[&alice, &bob, &inner]).await;
    source.group("Marketing", &[&bob, &carol]).await;
    // fabrikam's own Marketing: never adopted or changed.
    let theirs = fake.add_group(FABRIKAM, "Marketing", &[]);

    let users = ["eve@contoso.com"];
    let status = cycle(&t, &config("10s", &users, &[&sales, "Marketing"], "Direct")).await;
    let (group, members) = target_group(&fake, "Sales").expect("Sales in the target");
    let property = format!("extension_{}_xtsyncGroupAnchor", GRAPH_APP.replace('-', ""));
    assert_eq!(group[&property], format!("{CONTOSO}/{sales}"), "{group:#}");
    assert_eq!(group["securityEnabled"], true);
    assert_eq!(members, provisioned(&fake, &[&alice, &bob]), "direct members only");
    assert_eq!(
        status
            .failures
            .iter()
            .find(|f| f.user == "group:Marketing")
            .map(|f| f.reason.as_str()),
        Some("ConflictsWithExistingGroup")
    );
    let (mine, their_members) = target_group(&fake, "Marketing").expect("theirs");
    assert_eq!(
        (mine["id"].as_str(), their_members.len()),
        (Some(theirs.as_str()), 0),
        "untouched"
    );
    let id = group["id"].as_str().expect("id").to_owned();

    // Nothing changed: not one write to a group.
    let before = group_writes(&fake, 0).len();
    let status = cycle(&t, &config("11s", &users, &[&sales, "Marketing"], "Direct")).await;
    assert_eq!(status.last_cycle.and_then(|l| l.groups).map(|g| g.unchanged), Some(1));
    assert_eq!(group_writes(&fake, before), Vec::<String>::new());

    // A rename, a member added and one removed: one write each.
    source.change(&sales, "Sales EMEA", &carol, &bob).await;
    let before = group_writes(&fake, 0).len();
    cycle(&t, &config("12s", &users, &[&sales, "Marketing"], "Direct")).await;
    let mut writes = group_writes(&fake, before);
    writes.sort();
    let bob_there = provisioned(&fake, &[&bob]).into_iter().next().expect("bob");
    assert_eq!(
        writes,
        [
            format!("DELETE /v1.0/groups/{id}/members/{bob_there}/$ref"),
            format!("PATCH /v1.0/groups/{id}"),
            format!("PATCH /v1.0/groups/{id}"),
        ],
        "a rename, an add (members@odata.bind) and a remove (members/{{id}}/$ref)"
    );
    let (renamed, members) = target_group(&fake, "Sales EMEA").expect("renamed");
    assert_eq!(renamed["id"], id.as_str());
    assert_eq!(members, provisioned(&fake, &[&alice, &carol]));

    // Transitive: eve, a member of the nested Inner, joins.
    cycle(&t, &config("13s", &users, &[&sales, "Marketing"], "Transitive")).await;
    let (_, members) = target_group(&fake, "Sales EMEA").expect("Sales EMEA");
    assert_eq!(members, provisioned(&fake, &[&alice, &carol, &eve]));

    // Out of scope: deleted (for good: Graph does not keep security groups); back: created.
    cycle(&t, &config("14s", &users, &["Marketing"], "Transitive")).await;
    assert!(target_group(&fake, "Sales EMEA").is_none());
    let status = cycle(&t, &config("15s", &users, &[&sales, "Marketing"], "Transitive")).await;
    assert_eq!(status.last_cycle.and_then(|l| l.groups).map(|g| g.created), Some(1));
    let (_, members) = target_group(&fake, "Sales EMEA").expect("back");
    assert_eq!(members, provisioned(&fake, &[&alice, &carol, &eve]));
}

#[tokio::test]
async fn graph_to_graph_groups_arrive_with_their_synced_members_and_follow_the_source() {
    groups_follow_the_source("graph-groups", true).await;
}

#[tokio::test]
async fn scim_to_graph_groups_arrive_with_their_synced_members_and_follow_the_source() {
    groups_follow_the_source("scim-graph-groups", false).await;
}

#[tokio::test]
async fn graph_incremental_cycles_take_the_changed_groups_from_the_groups_delta() {
    let (t, fake) = graph_target("graph-groups-delta", true).await;
    let alice = fake.add_member(CONTOSO, "alice@contoso.com", json!({}));
    let bob = fake.add_member(CONTOSO, "bob@contoso.com", json!({}));
    let sales = fake.add_group(CONTOSO, "Sales", std::slice::from_ref(&alice));
    let status = cycle(&t, &config("10s", &["bob@contoso.com"], &["Sales"], "Direct")).await;
    let link = status.groups_watermark.clone().expect("the groups delta link");
    assert!(link.contains("/groups/delta") && link.contains("deltatoken"), "{link}");

    // Nothing changed: the delta names no group, and the target's groups are not read.
    let target_group_reads = || {
        fake.requests(FABRIKAM)
            .iter()
            .filter(|l| l.method == "GET" && l.target.contains("/groups"))
            .count()
    };
    let before = target_group_reads();
    let done = |s: &SyncConfigurationStatus| s.last_cycle.as_ref().expect("a cycle").completion_time.0;
    let status = crate::groups::next_incremental(&t, &done(&status)).await;
    assert_eq!(
        status.last_cycle.clone().and_then(|l| l.groups).map(|g| g.unchanged),
        Some(0)
    );
    assert_eq!(
        target_group_reads(),
        before,
        "no group changed: the target's groups are not read"
    );

    // bob joins Sales in the source: the delta names Sales, and bob is added with one write.
    fake.change_group(CONTOSO, &sales, |_, members| members.push(bob.clone()));
    let status = crate::groups::next_incremental(&t, &done(&status)).await;
    assert_eq!(status.last_cycle.and_then(|l| l.memberships).map(|m| m.added), Some(1));
    let (_, members) = target_group(&fake, "Sales").expect("Sales");
    assert_eq!(members, provisioned(&fake, &[&alice, &bob]));
}
