//! Rule 12 over the in-memory directories, which play both roles with groups too: a group of
//! `scope.groups` is provisioned with exactly the target users this configuration provisioned
//! from its members.

use super::*;
use crate::engine::rules::GroupRules;
use crate::providers::memory::Request;

#[tokio::test]
async fn a_scope_group_is_provisioned_with_the_users_provisioned_from_its_members() {
    let mut pair = CyclePair::assigned(&[], &["Sales"]);
    pair.rules.groups = Some(GroupRules::default());
    pair.source.put(person("a1", "alice"));
    pair.source.put(person("b1", "bob"));
    pair.source.set_group("Sales", &["a1", "b1"]);
    pair.target.set_group("Unrelated", &[]);
    let report = pair.initial().await;
    let groups = report.groups.expect("group provisioning ran");
    assert_eq!((groups.created, groups.failed), (1, 0), "{groups:?}");
    let group_writes = pair
        .target
        .take_writes()
        .into_iter()
        .filter(|w| matches!(w, Request::ChangeGroup { .. }))
        .count();
    assert_eq!(group_writes, 1, "one creation, with its members");
    let members: Vec<String> = ["a1", "b1"]
        .iter()
        .map(|id| pair.provisioned(id).expect("provisioned").id)
        .collect();
    let created = pair.target.group("g-3").expect("the new group");
    assert_eq!(created.display_name, "Sales");
    assert_eq!(created.external_id.as_deref(), Some(anchor("Sales").as_str()));
    assert_eq!(created.members.into_iter().collect::<Vec<_>>(), members);
    assert!(pair.target.group("Unrelated").is_some_and(|g| g.members.is_empty()));
}
