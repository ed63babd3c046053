use super::*;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

struct World {
    in_scope: Vec<SourceGroup>,
    nested: HashMap<String, SourceGroup>,
    target: Vec<TargetGroup>,
    provisioned: HashMap<String, String>,
    ours: HashSet<String>,
    membership: Membership,
    action: DeprovisionAction,
}

impl World {
    /// Source users s1…s4 provisioned as t1…t4; no groups yet.
    fn new() -> World {
        let provisioned: HashMap<String, String> = (1..=4).map(|i| (format!("s{i}"), format!("t{i}"))).collect();
        World {
            in_scope: Vec::new(),
            nested: HashMap::new(),
            ours: provisioned.values().cloned().collect(),
            provisioned,
            target: Vec::new(),
            membership: Membership::Direct,
            action: DeprovisionAction::SoftDelete,
        }
    }

    fn plan(&self, complete: bool) -> GroupPlan {
        plan(&GroupPlanInput {
            source_tenant_id: TENANT,
            in_scope: &self.in_scope,
            nested: &self.nested,
            target: &self.target,
            provisioned: &self.provisioned,
            ours: &self.ours,
            membership: self.membership,
            source_complete: complete,
            action: self.action,
        })
    }
}

fn source(id: &str, name: &str, members: &[&str]) -> SourceGroup {
    SourceGroup {
        id: id.into(),
        display_name: name.into(),
        description: None,
        members: members.iter().map(|m| (*m).to_owned()).collect(),
    }
}

fn ours(id: &str, source_id: &str, name: &str, members: &[&str]) -> TargetGroup {
    TargetGroup {
        id: id.into(),
        display_name: name.into(),
        external_id: Some(format!("{TENANT}/{source_id}")),
        members: members.iter().map(|m| (*m).to_owned()).collect(),
        ..TargetGroup::default()
    }
}

fn set(members: &[&str]) -> BTreeSet<String> {
    members.iter().map(|m| (*m).to_owned()).collect()
}

#[test]
fn a_new_group_is_created_with_exactly_the_synced_members() {
    let mut world = World::new();
    // s9 is a member not synced: left out.
    world.in_scope = vec![source("g1", "Sales", &["s1", "s2", "s9"])];
    let plan = world.plan(true);
    assert_eq!(
        plan.changes,
        [GroupChange::Create {
            source: "g1".into(),
            display_name: "Sales".into(),
            description: None,
            anchor: format!("{TENANT}/g1"),
            members: set(&["t1", "t2"]),
        }]
    );
}

#[test]
fn a_member_added_and_one_removed_are_one_write_each_and_others_are_untouched() {
    let mut world = World::new();
    world.in_scope = vec![source("g1", "Sales", &["s1", "s3"])];
    // t2 left the source group; x7 was added in the target by someone else.
    world.target = vec![ours("tg1", "g1", "Sales", &["t1", "t2", "x7"])];
    let plan = world.plan(true);
    assert_eq!(
        plan.changes,
        [
            GroupChange::AddMembers {
                target: "tg1".into(),
                members: set(&["t3"]),
            },
            GroupChange::RemoveMembers {
                target: "tg1".into(),
                members: set(&["t2"]),
            },
        ]
    );
}

#[test]
fn a_rename_is_one_update_and_an_unchanged_group_costs_nothing() {
    let mut world = World::new();
    world.in_scope = vec![source("g1", "Sales EMEA", &["s1"]), source("g2", "Eng", &["s2"])];
    world.target = vec![ours("tg1", "g1", "Sales", &["t1"]), ours("tg2", "g2", "Eng", &["t2"])];
    let plan = world.plan(true);
    let mut changes = GroupChanges::new();
    changes.insert("displayName", Some("Sales EMEA".into()));
    assert_eq!(
        plan.changes,
        [GroupChange::Update {
            target: "tg1".into(),
            changes,
        }]
    );
    assert_eq!(plan.unchanged, 1);
}

#[test]
fn nested_members_count_under_transitive_only() {
    let mut world = World::new();
    world.in_scope = vec![source("g1", "All", &["s1", "g2"])];
    // g2 → g3 → g2: a cycle of nesting ends.
    world.nested.insert("g2".into(), source("g2", "Team", &["s2", "g3"]));
    world
        .nested
        .insert("g3".into(), source("g3", "Sub", &["s3", "g2", "g1"]));
    world.target = vec![ours("tg1", "g1", "All", &["t1"])];
    assert!(world.plan(true).changes.is_empty(), "Direct: g2's members are not g1's");
    world.membership = Membership::Transitive;
    assert_eq!(
        world.plan(true).changes,
        [GroupChange::AddMembers {
            target: "tg1".into(),
            members: set(&["t2", "t3"]),
        }]
    );
}

#[test]
fn a_same_named_group_that_is_not_ours_is_never_adopted_or_changed() {
    let mut world = World::new();
    world.in_scope = vec![source("g1", "Sales", &["s1"])];
    world.target = vec![TargetGroup {
        id: "theirs".into(),
        display_name: "sales".into(),
        members: set(&["x1"]),
        ..TargetGroup::default()
    }];
    let plan = world.plan(true);
    assert!(plan.changes.is_empty());
    assert_eq!(plan.skips.len(), 1);
    assert!(plan.skips[0].message.contains("never adopted"), "{:?}", plan.skips);
}

#[test]
fn a_group_leaving_scope_is_deprovisioned_as_the_action_says_and_restored_on_return() {
    let mut world = World::new();
    world.target = vec![ours("tg1", "g1", "Sales", &["t1", "x7"])];
    let deleted = world.plan(true);
    assert!(deleted.changes.is_empty());
    assert_eq!(deleted.deprovisions, [GroupChange::Delete { target: "tg1".into() }]);
    world.action = DeprovisionAction::Disable;
    assert_eq!(
        world.plan(true).deprovisions,
        [GroupChange::RemoveMembers {
            target: "tg1".into(),
            members: set(&["t1"]),
        }],
        "Disable keeps the group and removes xtsync's members only"
    );
    world.action = DeprovisionAction::None;
    let left = world.plan(true);
    assert!(left.changes.is_empty() && left.deprovisions.is_empty());

    // Back in scope: restored, members as the source says.
    world.action = DeprovisionAction::SoftDelete;
    world.target[0].deleted = true;
    world.in_scope = vec![source("g1", "Sales", &["s1", "s2"])];
    assert_eq!(
        world.plan(true).changes,
        [
            GroupChange::Restore { target: "tg1".into() },
            GroupChange::AddMembers {
                target: "tg1".into(),
                members: set(&["t2"]),
            },
        ]
    );
}

#[test]
fn an_incomplete_read_of_the_source_groups_deprovisions_no_group() {
    let mut world = World::new();
    world.target = vec![ours("tg1", "g1", "Sales", &["t1"])];
    let plan = world.plan(false);
    assert!(plan.changes.is_empty() && plan.deprovisions.is_empty());
}

#[test]
fn groups_of_another_source_are_not_ours() {
    let mut world = World::new();
    let mut other = ours("tg1", "g1", "Sales", &["t1"]);
    other.external_id = Some("9188040d-6c67-4c5b-b112-36a304b66dad/g1".into());
    world.target = vec![other];
    let plan = world.plan(true);
    assert!(
        plan.changes.is_empty() && plan.deprovisions.is_empty(),
        "another source's group is left alone"
    );
}

#[test]
fn mappings_make_the_target_groups_name_and_description() {
    use crate::engine::expression;
    let group = SourceGroup {
        description: Some("Sales people".into()),
        ..source("g1", "Sales", &[])
    };
    assert_eq!(mapped(&group, &[]).expect("copied"), group, "no mappings copy both");
    let mappings = [
        Mapping {
            target: "displayName",
            value: MappingValue::Expression(
                expression::parse("Join(\" \", \"Contoso\", [displayName])").expect("expression"),
            ),
            apply_on: crate::engine::vocabulary::ApplyOn::Always,
        },
        Mapping {
            target: "description",
            value: MappingValue::Constant(String::new()),
            apply_on: crate::engine::vocabulary::ApplyOn::Always,
        },
    ];
    let target = mapped(&group, &mappings).expect("mapped");
    assert_eq!(target.display_name, "Contoso Sales");
    assert_eq!(target.description, None, "an empty value clears it");
}
