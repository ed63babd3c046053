//! The plan of a cycle: from the source users, the target users and the configuration, what to
//! create, adopt, update, restore, deprovision or skip — and why. Pure: the same inputs always
//! give the same plan, and nothing here talks to a directory.

mod actions;
mod index;
mod matching;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashSet};

use super::anchor::Anchor;
use super::attributes::WORK_EMAIL;
use super::mapping;
use super::rules::{ActionSwitches, SyncRules};
use super::scope::{self, Assignments};
use super::threshold::{self, Held, Judgement};
use super::user::{Attributes, User};
use crate::engine::vocabulary::{DeprovisionAction, SkipReason};
use index::TargetIndex;
use matching::{internal_among, matching_candidate};

/// Attribute → new value, or `None` to clear it.
pub type Changes = BTreeMap<&'static str, Option<String>>;

#[derive(Clone, Debug, PartialEq, Eq, strum::IntoStaticStr)]
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
        /// What the changed attributes held before (for `xtsync plan`; never logged).
        before: Changes,
    },
    Update {
        source: String,
        target: TargetRef,
        changes: Changes,
        before: Changes,
    },
    /// Bring back a deprovisioned user that is in scope again (rule 7).
    Restore {
        source: String,
        target: TargetRef,
        changes: Changes,
        before: Changes,
    },
    Deprovision {
        target: TargetRef,
    },
}

impl Change {
    /// `Create`, `Adopt`, `Update`, `Restore` or `Deprovision`: the variant name.
    pub fn action(&self) -> &'static str {
        self.into()
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
    /// Deprovisionings held back by the accidental-deletion threshold (rule 8), waiting for
    /// approval; none of them is in `changes`.
    pub withheld_deprovisions: Option<Held>,
    /// The approval token these deprovisionings consumed, when they were above the threshold.
    pub approval_used: Option<String>,
    /// Provisioned users whose source user a complete read did not show: deprovisioned only
    /// once a direct read confirms them gone (`settle`).
    pub unseen: Vec<Unseen>,
    /// Changes planned whose action `spec.actions` switches off: logged as skipped, never sent,
    /// and none of them in `changes` (nor counted toward the threshold).
    pub disabled: Vec<Change>,
}

/// A provisioned user whose source user was not seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unseen {
    pub source_id: String,
    pub target: TargetRef,
}

impl Plan {
    pub fn deprovisions(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| matches!(c, Change::Deprovision { .. }))
            .count()
    }

    /// The plan made final (rule 8): of the unseen users, those a direct read found `gone`
    /// are deprovisioned, the others skipped — the listing missed them; deprovisionings that
    /// `actions` switches off are set apart; then more deprovisionings than the threshold are all
    /// held back unless `approval` names them.
    pub fn settle(
        mut self,
        gone: &HashSet<String>,
        actions: ActionSwitches,
        threshold: usize,
        approval: Option<&str>,
    ) -> Plan {
        for unseen in std::mem::take(&mut self.unseen) {
            if gone.contains(&unseen.source_id) {
                self.changes.push(Change::Deprovision { target: unseen.target });
            } else {
                self.skips.push(Skip {
                    user: unseen.target.label.clone(),
                    reason: SkipReason::NotConfirmedGone,
                    message: format!(
                        "source user {} was not listed, but a direct read found it: the listing was incomplete, so it is not deprovisioned",
                        unseen.source_id
                    ),
                });
            }
        }
        self.hold_disabled(actions);
        self.hold_above_threshold(threshold, approval);
        self
    }

    /// Rule 8: more deprovisionings than the threshold are all held back, unless the approval
    /// names exactly this set (`xtsync.io/approve-deletions`).
    fn hold_above_threshold(&mut self, threshold: usize, approval: Option<&str>) {
        let leaving: Vec<threshold::Leaving<'_>> = self
            .changes
            .iter()
            .filter_map(|c| match c {
                Change::Deprovision { target } => Some(threshold::Leaving {
                    id: &target.id,
                    name: &target.label,
                }),
                _ => None,
            })
            .collect();
        match threshold::judge(&leaving, threshold, approval) {
            Judgement::Within => {}
            Judgement::Approved(token) => self.approval_used = Some(token),
            Judgement::Held(held) => {
                self.withheld_deprovisions = Some(held);
                self.changes.retain(|c| !matches!(c, Change::Deprovision { .. }));
            }
        }
    }
}

/// What a cycle plans from.
pub struct PlanInput<'a> {
    pub source_tenant_id: &'a str,
    /// The source tenant's domains (compared form, `engine::address::domains`): only a target
    /// user matched by an address in one of them may be adopted.
    pub source_domains: &'a [String],
    pub source: &'a [User],
    /// The source was read completely and without error: users not seen may be deprovisioned.
    pub source_complete: bool,
    pub target: &'a [User],
    pub assignments: &'a Assignments,
    pub rules: &'a SyncRules,
}

/// The whole plan at once: every source user in one page.
pub fn plan(input: &PlanInput<'_>) -> Plan {
    let mut planner = Planner::new(
        Source {
            tenant_id: input.source_tenant_id,
            domains: input.source_domains,
        },
        input.target,
        input.assignments,
        input.rules,
    );
    let mut plan = planner.page(input.source);
    let ending = planner.finish(input.source_complete);
    plan.changes.extend(ending.deprovisions);
    plan.hold_disabled(input.rules.actions);
    plan.unseen = ending.unseen;
    plan.provisioned_before = ending.provisioned_before;
    plan
}

/// Plans a source read page by page, as it arrives (docs/architecture.md,
/// "One cycle, step by step"): the target is indexed once, each page is planned against it, and
/// what deprovisioning needs — which of the users provisioned from this source were seen, in scope
/// or out of it — is kept as references into the target, so that memory is bounded by the target,
/// not by the source read.
pub struct Planner<'a> {
    source_tenant: String,
    source_domains: &'a [String],
    index: TargetIndex<'a>,
    assignments: &'a Assignments,
    rules: &'a SyncRules,
    managed: Vec<&'static str>,
    /// Source ids of users provisioned from this source (keys of `index.ours`) seen in scope,
    /// and seen out of scope.
    seen_in_scope: HashSet<&'a str>,
    seen_excluded: HashSet<&'a str>,
}

/// What a plan decides once the source read has ended.
pub struct Ending {
    /// Users seen out of scope: deprovisioned whatever the read.
    pub deprovisions: Vec<Change>,
    /// Users not seen by a complete read: deprovisioned once confirmed gone (`Plan::settle`).
    pub unseen: Vec<Unseen>,
    /// Target users anchored to this source and active before the cycle.
    pub provisioned_before: u32,
}

/// The source tenant a plan provisions from: its id (anchors) and its domains (adoption).
#[derive(Clone, Copy)]
pub struct Source<'a> {
    pub tenant_id: &'a str,
    /// Compared form (`engine::address::domains`).
    pub domains: &'a [String],
}

impl<'a> Planner<'a> {
    pub fn new(source: Source<'a>, target: &'a [User], assignments: &'a Assignments, rules: &'a SyncRules) -> Self {
        let source_tenant = source.tenant_id.to_ascii_lowercase();
        Planner {
            index: TargetIndex::new(target, &source_tenant),
            source_tenant,
            source_domains: source.domains,
            assignments,
            rules,
            managed: mapping::managed(&rules.mappings),
            seen_in_scope: HashSet::new(),
            seen_excluded: HashSet::new(),
        }
    }

    /// The changes and skips of one page of source users (no deprovisioning: that waits for
    /// `finish`).
    pub fn page(&mut self, source: &[User]) -> Plan {
        let mut plan = Plan::default();
        for user in source {
            let ours = self.index.ours.get_key_value(user.id.as_str()).map(|(id, _)| *id);
            if scope::exclusion(&self.rules.scope, self.assignments, user).is_some() {
                self.seen_excluded.extend(ours);
                continue;
            }
            plan.in_scope += 1;
            self.seen_in_scope.extend(ours);
            let anchor = Anchor::new(&self.source_tenant, &user.id);
            let context = UserContext {
                rules: self.rules,
                index: &self.index,
                managed: &self.managed,
                source_domains: self.source_domains,
            };
            match plan_user(&context, user, &anchor) {
                Ok(Some(change)) => plan.changes.push(change),
                Ok(None) => plan.unchanged += 1,
                Err(skip) => plan.skips.push(skip),
            }
        }
        plan.hold_disabled(self.rules.actions);
        plan
    }

    /// A user seen out of scope leaves it whatever the read; a user not seen at all may be
    /// gone, but only after a complete read, and only once a direct read confirms it (rule 8).
    pub fn finish(self, source_complete: bool) -> Ending {
        let mut ours: Vec<(&&str, &&User)> = self.index.ours.iter().filter(|(_, t)| t.active()).collect();
        let mut ending = Ending {
            deprovisions: Vec::new(),
            unseen: Vec::new(),
            provisioned_before: ours.len().try_into().unwrap_or(u32::MAX),
        };
        if self.rules.deprovision.action == DeprovisionAction::None {
            return ending;
        }
        ours.sort_by(|a, b| a.1.id.cmp(&b.1.id));
        for (source_id, target) in ours {
            // In scope wins over out of scope: a source user listed twice is not taken away.
            if self.seen_in_scope.contains(*source_id) {
                continue;
            }
            if self.seen_excluded.contains(*source_id) {
                ending.deprovisions.push(Change::Deprovision {
                    target: (*target).into(),
                });
            } else if source_complete {
                ending.unseen.push(Unseen {
                    source_id: (*source_id).to_owned(),
                    target: (*target).into(),
                });
            }
        }
        ending
    }
}

/// What planning one user needs besides the user.
struct UserContext<'p, 'a> {
    rules: &'p SyncRules,
    index: &'p TargetIndex<'a>,
    managed: &'p [&'static str],
    source_domains: &'p [String],
}

fn plan_user(context: &UserContext<'_, '_>, user: &User, anchor: &Anchor) -> Result<Option<Change>, Skip> {
    let UserContext {
        rules,
        index,
        managed,
        source_domains,
    } = *context;
    let skip = |reason: SkipReason, message: String| Skip {
        user: user.label().to_owned(),
        reason,
        message,
    };
    let creating = !index.ours.contains_key(user.id.as_str());
    let mut desired = mapping::desired(&rules.mappings, user, anchor, rules.user_type, creating)
        .map_err(|e| skip(SkipReason::MappingFailed, e.to_string()))?;
    let source = user.id.clone();
    if let Some(existing) = index.ours.get(user.id.as_str()) {
        index.resolve_manager(&mut desired, Some(existing));
        let changes = diff(&desired, existing, managed);
        // Rule 5: an update never gives a user the userName or email of an internal user.
        let renamed = ["userName", WORK_EMAIL]
            .iter()
            .any(|k| changes.get(k).is_some_and(Option::is_some));
        if renamed && let Some(internal) = internal_among(&index.candidates(&desired), existing) {
            let message = format!(
                "the new userName or email belongs to target user '{}', an internal user of the target",
                internal.label()
            );
            return Err(skip(SkipReason::ConflictsWithInternalUser, message));
        }
        let target = TargetRef::from(*existing);
        let before = before(existing, &changes);
        return Ok(if !existing.active() {
            Some(Change::Restore {
                source,
                target,
                changes,
                before,
            })
        } else if changes.is_empty() {
            None
        } else {
            Some(Change::Update {
                source,
                target,
                changes,
                before,
            })
        });
    }
    let candidate = match matching_candidate(&index.candidates(&desired), rules.adopt_existing, source_domains) {
        Ok(candidate) => candidate,
        Err((reason, message)) => return Err(skip(reason, message)),
    };
    index.resolve_manager(&mut desired, candidate);
    let Some(candidate) = candidate else {
        return Ok(Some(Change::Create {
            source,
            attributes: desired,
        }));
    };
    // Adoption manages what an update would, plus what creation would have set.
    let mut keys: Vec<&'static str> = managed.to_vec();
    keys.extend(desired.keys().copied().filter(|k| !managed.contains(k)));
    let changes = diff(&desired, candidate, &keys);
    Ok(Some(Change::Adopt {
        source,
        target: candidate.into(),
        before: before(candidate, &changes),
        changes,
    }))
}

/// Attribute-level differences on `keys` (rule 6: unchanged users cost nothing, updates send
/// only what changed).
/// What `current` holds of the attributes `changes` sets or clears.
fn before(current: &User, changes: &Changes) -> Changes {
    changes
        .keys()
        .map(|k| (*k, current.get(k).map(str::to_owned)))
        .collect()
}

fn diff(desired: &Attributes, current: &User, keys: &[&'static str]) -> Changes {
    keys.iter()
        .filter_map(|k| {
            let want = desired.get(k);
            (want.map(String::as_str) != current.get(k)).then(|| (*k, want.cloned()))
        })
        .collect()
}
