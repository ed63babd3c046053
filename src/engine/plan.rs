//! The plan of a cycle: from the source users, the target users and the configuration, what to
//! create, adopt, update, restore, deprovision or skip — and why. Pure: the same inputs always
//! give the same plan, and nothing here talks to a directory.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::anchor::Anchor;
use super::compile::Mapping;
use super::evaluate::EvalError;
use super::filter::ScopingFilter;
use super::mapping;
use super::scope::{self, Assignments};
use super::user::{Attributes, User};
use crate::api::sync_config::{DeprovisionAction, ScopeMode, UserType};

/// Attribute → new value, or `None` to clear it.
pub type Changes = BTreeMap<&'static str, Option<String>>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Create {
        source: String,
        attributes: Attributes,
    },
    /// Take over an existing external user of the target: anchor it and align it (rule 5).
    Adopt {
        source: String,
        target: TargetRef,
        changes: Changes,
    },
    Update {
        source: String,
        target: TargetRef,
        changes: Changes,
    },
    /// Bring back a deprovisioned user that is in scope again (rule 7).
    Restore {
        source: String,
        target: TargetRef,
        changes: Changes,
    },
    Deprovision {
        target: TargetRef,
    },
}

impl Change {
    pub fn action(&self) -> &'static str {
        match self {
            Change::Create { .. } => "Create",
            Change::Adopt { .. } => "Adopt",
            Change::Update { .. } => "Update",
            Change::Restore { .. } => "Restore",
            Change::Deprovision { .. } => "Deprovision",
        }
    }

    /// The user in words, for status, events and logs.
    pub fn label(&self) -> &str {
        match self {
            Change::Create { attributes, .. } => attributes.get("userName").map_or("", String::as_str),
            Change::Adopt { target, .. }
            | Change::Update { target, .. }
            | Change::Restore { target, .. }
            | Change::Deprovision { target } => &target.label,
        }
    }
}

/// A user in the target that a change applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetRef {
    pub id: String,
    pub label: String,
    pub version: Option<String>,
    /// Soft-deleted in the directory: bringing it back is a restore before any update.
    pub deleted: bool,
}

impl From<&User> for TargetRef {
    fn from(user: &User) -> Self {
        TargetRef {
            id: user.id.clone(),
            label: user.label().to_owned(),
            version: user.version.clone(),
            deleted: user.deleted,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// An internal target user has the same userName or email: never adopted or changed.
    ConflictsWithInternalUser,
    /// The matching target user was provisioned from another tenant or another source user.
    ConflictsWithProvisionedUser,
    /// An external target user matches but `matching.adoptExisting` is off.
    AdoptionDisabled,
    /// A mapping expression failed for this user.
    MappingFailed,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::ConflictsWithInternalUser => "ConflictsWithInternalUser",
            SkipReason::ConflictsWithProvisionedUser => "ConflictsWithProvisionedUser",
            SkipReason::AdoptionDisabled => "AdoptionDisabled",
            SkipReason::MappingFailed => "MappingFailed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip {
    pub user: String,
    pub reason: SkipReason,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub skips: Vec<Skip>,
    pub unchanged: u32,
    pub in_scope: u32,
    /// Target users anchored to this source and active before the cycle.
    pub provisioned_before: u32,
}

impl Plan {
    pub fn deprovisions(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| matches!(c, Change::Deprovision { .. }))
            .count()
    }

    /// Drops every deprovisioning (rule 8: nothing is deleted after a partial read or above the
    /// accidental-deletion threshold).
    pub fn without_deprovisions(mut self) -> Plan {
        self.changes.retain(|c| !matches!(c, Change::Deprovision { .. }));
        self
    }
}

/// What a cycle plans from.
pub struct PlanInput<'a> {
    pub source_tenant_id: &'a str,
    pub source: &'a [User],
    /// The source was read completely and without error: users not seen may be deprovisioned.
    pub source_complete: bool,
    pub target: &'a [User],
    pub mode: ScopeMode,
    pub assignments: &'a Assignments,
    pub filter: &'a ScopingFilter,
    /// Effective mappings (`mapping::effective`).
    pub mappings: &'a [Mapping],
    pub user_type: UserType,
    pub adopt_existing: bool,
    pub deprovision: DeprovisionAction,
}

pub fn plan(input: &PlanInput<'_>) -> Plan {
    let source_tenant = input.source_tenant_id.to_ascii_lowercase();
    let index = TargetIndex::new(input.target, &source_tenant);
    let managed = mapping::managed(input.mappings);
    let mut plan = Plan {
        provisioned_before: index
            .ours
            .values()
            .filter(|u| u.active())
            .count()
            .try_into()
            .unwrap_or(u32::MAX),
        ..Plan::default()
    };
    let mut in_scope_ids = HashSet::new();

    let mut excluded_ids = HashSet::new();
    for user in input.source {
        if scope::exclusion(input.mode, input.assignments, input.filter, user).is_some() {
            excluded_ids.insert(user.id.as_str());
            continue;
        }
        plan.in_scope += 1;
        in_scope_ids.insert(user.id.as_str());
        let anchor = Anchor::new(&source_tenant, &user.id);
        match plan_user(input, &index, &managed, user, &anchor) {
            Ok(Some(change)) => plan.changes.push(change),
            Ok(None) => plan.unchanged += 1,
            Err(skip) => plan.skips.push(skip),
        }
    }

    // A user seen out of scope leaves it whatever the read; a user not seen at all counts as
    // gone only after a complete read (rule 8).
    if input.deprovision != DeprovisionAction::None {
        let leaves = |source_id: &str| {
            excluded_ids.contains(source_id) || (input.source_complete && !in_scope_ids.contains(source_id))
        };
        let mut leaving: Vec<&User> = index
            .ours
            .iter()
            .filter(|(source_id, target)| leaves(source_id.as_str()) && target.active())
            .map(|(_, target)| *target)
            .collect();
        leaving.sort_by(|a, b| a.id.cmp(&b.id));
        plan.changes
            .extend(leaving.into_iter().map(|t| Change::Deprovision { target: t.into() }));
    }
    plan
}

fn plan_user(
    input: &PlanInput<'_>,
    index: &TargetIndex<'_>,
    managed: &[&'static str],
    user: &User,
    anchor: &Anchor,
) -> Result<Option<Change>, Skip> {
    let mapping_failed = |e: EvalError| Skip {
        user: user.label().to_owned(),
        reason: SkipReason::MappingFailed,
        message: e.to_string(),
    };
    let source = user.id.clone();
    if let Some(existing) = index.ours.get(&user.id) {
        let mut desired =
            mapping::desired(input.mappings, user, anchor, input.user_type, false).map_err(mapping_failed)?;
        index.resolve_manager(&mut desired, Some(existing));
        let changes = diff(&desired, existing, managed);
        let target = TargetRef::from(*existing);
        return Ok(if !existing.active() {
            Some(Change::Restore {
                source,
                target,
                changes,
            })
        } else if changes.is_empty() {
            None
        } else {
            Some(Change::Update {
                source,
                target,
                changes,
            })
        });
    }

    let mut desired = mapping::desired(input.mappings, user, anchor, input.user_type, true).map_err(mapping_failed)?;
    let candidate = index.matching(&desired);
    index.resolve_manager(&mut desired, candidate);
    let Some(candidate) = candidate else {
        return Ok(Some(Change::Create {
            source,
            attributes: desired,
        }));
    };
    let skip = |reason: SkipReason, message: String| {
        Err(Skip {
            user: user.label().to_owned(),
            reason,
            message,
        })
    };
    if let Some(other) = candidate.anchor() {
        return skip(
            SkipReason::ConflictsWithProvisionedUser,
            format!(
                "target user '{}' is already provisioned from {other}",
                candidate.label()
            ),
        );
    }
    if !candidate.is_external() {
        return skip(
            SkipReason::ConflictsWithInternalUser,
            format!(
                "target user '{}' is an internal user of the target; it is never adopted or changed",
                candidate.label()
            ),
        );
    }
    if !input.adopt_existing {
        return skip(
            SkipReason::AdoptionDisabled,
            format!(
                "external target user '{}' matches, and matching.adoptExisting is off",
                candidate.label()
            ),
        );
    }
    // Adoption manages what an update would, plus what creation would have set.
    let mut keys: Vec<&'static str> = managed.to_vec();
    keys.extend(desired.keys().copied().filter(|k| !managed.contains(k)));
    Ok(Some(Change::Adopt {
        source,
        target: candidate.into(),
        changes: diff(&desired, candidate, &keys),
    }))
}

/// Attribute-level differences on `keys` (rule 6: unchanged users cost nothing, updates send
/// only what changed).
fn diff(desired: &Attributes, current: &User, keys: &[&'static str]) -> Changes {
    keys.iter()
        .filter_map(|k| {
            let want = desired.get(k);
            (want.map(String::as_str) != current.get(k)).then(|| (*k, want.cloned()))
        })
        .collect()
}

/// The target, indexed for the plan: users anchored to this source by source id, and every user
/// by lower-cased userName and work email for matching.
struct TargetIndex<'a> {
    ours: HashMap<String, &'a User>,
    by_name: HashMap<String, &'a User>,
    by_email: HashMap<String, &'a User>,
}

impl<'a> TargetIndex<'a> {
    /// A mapped `manager` names a *source* user; the target needs the target user provisioned
    /// from it. One not provisioned (yet, or not seen by an incremental cycle) leaves the
    /// target's manager as it is, so nothing is cleared by mistake.
    fn resolve_manager(&self, desired: &mut Attributes, current: Option<&User>) {
        let Some(source_manager) = desired.get("manager") else {
            return;
        };
        match self.ours.get(source_manager) {
            Some(target_manager) => {
                desired.insert("manager", target_manager.id.clone());
            }
            None => match current.and_then(|c| c.get("manager")) {
                Some(kept) => {
                    desired.insert("manager", kept.to_owned());
                }
                None => {
                    desired.remove("manager");
                }
            },
        }
    }

    fn new(target: &'a [User], source_tenant: &str) -> Self {
        let mut index = TargetIndex {
            ours: HashMap::new(),
            by_name: HashMap::new(),
            by_email: HashMap::new(),
        };
        for user in target {
            if let Some(anchor) = user.anchor().filter(|a| a.tenant_id == source_tenant) {
                index.ours.entry(anchor.user_id).or_insert(user);
            }
            index.by_name.entry(user.user_name().to_lowercase()).or_insert(user);
            if let Some(email) = user.email() {
                index.by_email.entry(email.to_lowercase()).or_insert(user);
            }
        }
        index
    }

    fn matching(&self, desired: &Attributes) -> Option<&'a User> {
        let by = |map: &HashMap<String, &'a User>, key: &str| {
            desired.get(key).and_then(|v| map.get(&v.to_lowercase()).copied())
        };
        by(&self.by_name, "userName")
            .or_else(|| by(&self.by_email, super::attributes::WORK_EMAIL))
            .or_else(|| {
                desired
                    .get(super::attributes::WORK_EMAIL)
                    .and_then(|e| self.by_name.get(&e.to_lowercase()).copied())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::user::user;

    const SRC: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const OTHER: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

    fn run(source: &[User], target: &[User], complete: bool) -> Plan {
        run_with(&mapping::effective(&[]), source, target, complete)
    }

    fn run_with(mappings: &[Mapping], source: &[User], target: &[User], complete: bool) -> Plan {
        plan(&PlanInput {
            source_tenant_id: SRC,
            source,
            source_complete: complete,
            target,
            mode: ScopeMode::AllUsers,
            assignments: &Assignments::default(),
            filter: &ScopingFilter::default(),
            mappings,
            user_type: UserType::Member,
            adopt_existing: true,
            deprovision: DeprovisionAction::SoftDelete,
        })
    }

    fn alice() -> User {
        user("a1", &[("userName", "alice@contoso.com"), ("displayName", "Alice")])
    }

    fn provisioned(id: &str, source_id: &str, name: &str, display: &str, active: bool) -> User {
        let anchor = format!("{SRC}/{source_id}");
        user(
            id,
            &[
                ("userName", name),
                ("displayName", display),
                ("externalId", anchor.as_str()),
                ("userType", "Member"),
                ("active", if active { "true" } else { "false" }),
            ],
        )
    }

    /// Plans with `manager` mapped from the source's manager.
    fn run_with_manager(source: &[User], target: &[User]) -> Plan {
        let spec: crate::api::sync_config::SyncConfigurationSpec = serde_json::from_value(serde_json::json!({
            "sourceRef": { "name": "s" }, "targetRef": { "name": "t" },
            "attributeMappings": [{ "target": "manager", "source": "manager" }]
        }))
        .expect("spec");
        let compiled = crate::engine::compile::compile(&spec).expect("valid");
        run_with(&mapping::effective(&compiled.mappings), source, target, true)
    }

    #[test]
    fn a_manager_is_the_target_user_provisioned_from_the_source_manager() {
        let boss = user("b1", &[("userName", "boss@contoso.com")]);
        let alice = user("a1", &[("userName", "alice@contoso.com"), ("manager", "b1")]);
        let boss_target = provisioned("t-boss", "b1", "boss@contoso.com", "", true);
        let p = run_with_manager(&[boss, alice.clone()], &[boss_target]);
        let create = p
            .changes
            .iter()
            .find_map(|c| match c {
                Change::Create { attributes, .. } => Some(attributes),
                _ => None,
            })
            .expect("alice created");
        assert_eq!(create.get("manager").map(String::as_str), Some("t-boss"));
        // A manager not provisioned (yet) is left out rather than set to a source id.
        let p = run_with_manager(std::slice::from_ref(&alice), &[]);
        let [Change::Create { attributes, .. }] = p.changes.as_slice() else {
            panic!("{p:?}")
        };
        assert_eq!(attributes.get("manager"), None);
        // …and an existing target manager is kept, not cleared.
        let mut alice_target = provisioned("t-alice", "a1", "alice@contoso.com", "", true);
        alice_target.attributes.insert("manager", "t-old".into());
        alice_target.attributes.remove("displayName");
        let p = run_with_manager(&[alice], &[alice_target]);
        assert!(
            p.changes
                .iter()
                .all(|c| !matches!(c, Change::Update { changes, .. } if changes.contains_key("manager"))),
            "{p:?}"
        );
    }

    #[test]
    fn new_user_is_created_with_its_anchor() {
        let p = run(&[alice()], &[], true);
        let [Change::Create { attributes, .. }] = p.changes.as_slice() else {
            panic!("{p:?}")
        };
        assert_eq!(
            attributes.get("externalId").map(String::as_str),
            Some(format!("{SRC}/a1").as_str())
        );
        assert_eq!(p.in_scope, 1);
    }

    #[test]
    fn unchanged_user_costs_nothing() {
        let p = run(
            &[alice()],
            &[provisioned("t1", "a1", "alice@contoso.com", "Alice", true)],
            true,
        );
        assert!(p.changes.is_empty(), "{p:?}");
        assert_eq!(p.unchanged, 1);
        assert_eq!(p.provisioned_before, 1);
    }

    #[test]
    fn a_rename_is_an_update_of_only_what_changed() {
        let renamed = user("a1", &[("userName", "alice.new@contoso.com"), ("displayName", "Alice")]);
        let p = run(
            &[renamed],
            &[provisioned("t1", "a1", "alice@contoso.com", "Alice", true)],
            true,
        );
        let [Change::Update { changes, target, .. }] = p.changes.as_slice() else {
            panic!("{p:?}")
        };
        assert_eq!(target.id, "t1");
        assert_eq!(changes.len(), 1);
        assert_eq!(
            changes.get("userName"),
            Some(&Some("alice.new@contoso.com".to_string()))
        );
    }

    #[test]
    fn cleared_source_attribute_is_cleared_in_the_target() {
        let bare = user("a1", &[("userName", "alice@contoso.com")]);
        let p = run(
            &[bare],
            &[provisioned("t1", "a1", "alice@contoso.com", "Alice", true)],
            true,
        );
        let [Change::Update { changes, .. }] = p.changes.as_slice() else {
            panic!("{p:?}")
        };
        assert_eq!(changes.get("displayName"), Some(&None));
    }

    #[test]
    fn guests_and_users_from_other_tenants_are_never_synced() {
        let guest = user("g", &[("userName", "guest@x.com"), ("userType", "Guest")]);
        let looped = user("l", &[("userName", "l@x.com"), ("externalId", &format!("{OTHER}/z"))]);
        let p = run(&[guest, looped], &[], true);
        assert!(p.changes.is_empty() && p.in_scope == 0, "{p:?}");
    }

    #[test]
    fn external_target_user_is_adopted_internal_one_never() {
        let b2b = user("t9", &[("userName", "alice@contoso.com"), ("userType", "Guest")]);
        let p = run(&[alice()], &[b2b], true);
        let [Change::Adopt { target, changes, .. }] = p.changes.as_slice() else {
            panic!("{p:?}")
        };
        assert_eq!(target.id, "t9");
        assert_eq!(changes.get("externalId"), Some(&Some(format!("{SRC}/a1"))));
        assert_eq!(changes.get("userType"), Some(&Some("Member".to_string())));

        let internal = user("t8", &[("userName", "ALICE@contoso.com"), ("userType", "Member")]);
        let p = run(&[alice()], &[internal], true);
        assert!(p.changes.is_empty());
        assert_eq!(p.skips[0].reason, SkipReason::ConflictsWithInternalUser);
    }

    #[test]
    fn leaving_scope_deprovisions_and_returning_restores() {
        let target = [provisioned("t1", "a1", "alice@contoso.com", "Alice", true)];
        let p = run(&[], &target, true);
        assert!(
            matches!(p.changes.as_slice(), [Change::Deprovision { target }] if target.id == "t1"),
            "{p:?}"
        );

        let disabled = user("a1", &[("userName", "alice@contoso.com"), ("active", "false")]);
        assert_eq!(
            run(&[disabled], &target, true).deprovisions(),
            1,
            "disabled in the source"
        );

        let gone = [provisioned("t1", "a1", "alice@contoso.com", "Alice", false)];
        let p = run(&[alice()], &gone, true);
        assert!(
            matches!(p.changes.as_slice(), [Change::Restore { target, .. }] if target.id == "t1"),
            "{p:?}"
        );
        assert!(run(&[], &gone, true).changes.is_empty(), "already deprovisioned");
    }

    #[test]
    fn an_incomplete_source_read_deprovisions_nothing_it_did_not_see() {
        let target = [provisioned("t1", "a1", "alice@contoso.com", "Alice", true)];
        assert_eq!(run(&[], &target, false).deprovisions(), 0);
        // An incremental read that *shows* the user disabled is enough.
        let disabled = user("a1", &[("userName", "alice@contoso.com"), ("active", "false")]);
        assert_eq!(run(&[disabled], &target, false).deprovisions(), 1);
    }

    #[test]
    fn users_of_other_sources_are_left_alone() {
        let theirs = user(
            "t5",
            &[("userName", "zed@other.com"), ("externalId", &format!("{OTHER}/z"))],
        );
        assert!(run(&[], &[theirs], true).changes.is_empty());
    }
}
