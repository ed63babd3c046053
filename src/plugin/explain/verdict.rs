//! The explanation of one user, from what `explain` found (pure): in or out of scope and why —
//! by the engine's own scope checks — and what the dry-run cycle would do with it.

use crate::engine::vocabulary::{CycleAction, UserAction};
use serde::Serialize;

use crate::api::sync_config::{DeprovisionAction, SyncConfigurationSpec};
use crate::cycle::audit::{ActionResult, Record};
use crate::engine::filter::ScopingFilter;
use crate::engine::scope::{Assignment, Exclusion, FilterVerdict};
use crate::engine::threshold::Held;
use crate::engine::user::User;

/// What `explain` found for the user asked about.
pub struct Found<'a> {
    /// `namespace/name` of the configuration.
    pub configuration: String,
    pub asked: &'a str,
    pub spec: &'a SyncConfigurationSpec,
    /// Why no cycle would run (`Ready=False` reason and message); nothing else is known then.
    pub closed: Option<(String, String)>,
    pub source: Option<&'a User>,
    /// The source user against the scope: its exclusion, assignment and filter verdict.
    pub standing: Option<(Option<Exclusion>, Assignment, FilterVerdict)>,
    /// The compiled scoping filter (the attributes the clauses read).
    pub filter: Option<&'a ScopingFilter>,
    /// The groups of `scope.groups` the user is a member of.
    pub member_of: Vec<String>,
    /// The target user provisioned from it (anchored to this source user), if any.
    pub target: Option<&'a User>,
    /// The dry-run cycle's records for this user.
    pub records: Vec<&'a Record>,
    /// What the dry run held back by the threshold.
    pub withheld: Option<&'a Held>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub configuration: String,
    pub user: String,
    pub gate: Gate,
    pub source_user: Option<UserFacts>,
    pub scope: Option<ScopeFacts>,
    pub target_user: Option<UserFacts>,
    pub next: NextCycleStep,
}

#[derive(Debug, Serialize)]
pub struct Gate {
    pub open: bool,
    pub reason: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserFacts {
    pub id: String,
    pub user_name: String,
    pub active: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeFacts {
    pub in_scope: bool,
    /// `External`, `Disabled`, `NotAssigned` or `FilteredOut` when out of scope.
    pub exclusion: Option<String>,
    pub why: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NextCycleStep {
    /// What the next cycle would do: `Create`, `Adopt`, `Update`, `Restore`, `Deprovision`,
    /// `Skip`, `Held` (a deprovisioning waiting for approval) or `None`.
    pub action: String,
    pub why: String,
    /// A skip's reason (as in `status.failures`).
    pub reason: Option<String>,
    pub changes: Vec<AttributeChange>,
}

#[derive(Debug, Serialize)]
pub struct AttributeChange {
    pub attribute: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl Found<'_> {
    /// Whether there is anything to explain: the user is in the source, or was provisioned
    /// from it.
    pub fn knows_the_user(&self) -> bool {
        self.closed.is_some() || self.source.is_some() || self.target.is_some()
    }
}

pub fn explain(found: &Found<'_>) -> Explanation {
    let facts = |u: &User| UserFacts {
        id: u.id.clone(),
        user_name: u.label().to_owned(),
        active: u.active(),
    };
    Explanation {
        configuration: found.configuration.clone(),
        user: found.asked.to_owned(),
        gate: Gate {
            open: found.closed.is_none(),
            reason: found.closed.as_ref().map(|(r, _)| r.clone()),
            message: found.closed.as_ref().map(|(_, m)| m.clone()),
        },
        source_user: found.source.map(facts),
        scope: scope(found),
        target_user: found.target.map(facts),
        next: next(found),
    }
}

fn scope(found: &Found<'_>) -> Option<ScopeFacts> {
    let (Some(user), Some((exclusion, assignment, verdict))) = (found.source, &found.standing) else {
        return None;
    };
    let scope = &found.spec.scope;
    let why = match exclusion {
        Some(Exclusion::External) => external(user),
        Some(Exclusion::Disabled) => "disabled in the source (active is false)".to_owned(),
        Some(Exclusion::NotAssigned) => format!(
            "not assigned: scope.mode is AssignedUsersAndGroups, and it is neither in scope.users {:?} nor a member of scope.groups {:?}",
            scope.users, scope.groups
        ),
        Some(Exclusion::FilteredOut) => format!("filtered out: {}", filters(found, user, verdict)),
        None => format!(
            "in scope: {}; {}",
            assigned(found, *assignment),
            filters(found, user, verdict)
        ),
    };
    Some(ScopeFacts {
        in_scope: exclusion.is_none(),
        exclusion: exclusion.map(|e| format!("{e:?}")),
        why,
    })
}

/// Rule 3, in words: which mark makes the user external.
fn external(user: &User) -> String {
    if user.get("userType").is_some_and(|t| t.eq_ignore_ascii_case("Guest")) {
        "a guest (userType Guest): guests are never synced".to_owned()
    } else if let Some(anchor) = user.anchor() {
        format!(
            "it carries the anchor of tenant {}: it was provisioned from another tenant, and is never synced on",
            anchor.tenant_id
        )
    } else {
        "the source directory marks it external (created by invitation): never synced".to_owned()
    }
}

fn assigned(found: &Found<'_>, assignment: Assignment) -> String {
    match assignment {
        Assignment::AllUsers => "scope.mode is AllUsers".to_owned(),
        Assignment::Listed => "listed in scope.users".to_owned(),
        Assignment::GroupMember if found.member_of.is_empty() => "a member of scope.groups".to_owned(),
        Assignment::GroupMember => format!("a member of scope.groups {:?}", found.member_of),
        Assignment::NotAssigned => "not assigned".to_owned(),
    }
}

/// The scoping filter's verdict, naming clauses as the spec writes them and the user's values.
fn filters(found: &Found<'_>, user: &User, verdict: &FilterVerdict) -> String {
    let written = &found.spec.scope.filters;
    let clause = |group: usize, index: usize| {
        let Some(c) = written.get(group).and_then(|g| g.clauses.get(index)) else {
            return String::new();
        };
        let operand = c.value.as_deref().map(|v| format!(" {v:?}")).unwrap_or_default();
        let attribute = found
            .filter
            .and_then(|f| f.groups.get(group)?.get(index))
            .map_or(c.attribute.as_str(), |compiled| compiled.attribute);
        let value = user
            .get(attribute)
            .filter(|v| !v.is_empty())
            .map_or("null".to_owned(), |v| format!("{v:?}"));
        format!("{} {}{operand} ({} is {value})", c.attribute, c.operator, c.attribute)
    };
    match verdict {
        FilterVerdict::NoFilter => "no scoping filters".to_owned(),
        FilterVerdict::Matched(group) => {
            let clauses = written.get(*group).map_or(0, |g| g.clauses.len());
            let all: Vec<String> = (0..clauses).map(|i| clause(*group, i)).collect();
            format!("scoping filter group {} matches: {}", group + 1, all.join(" and "))
        }
        FilterVerdict::NoGroupMatched(failing) => {
            let each: Vec<String> = failing
                .iter()
                .enumerate()
                .map(|(group, index)| format!("group {}: {} does not hold", group + 1, clause(group, *index)))
                .collect();
            format!("no scoping filter group matches — {}", each.join("; "))
        }
    }
}

fn next(found: &Found<'_>) -> NextCycleStep {
    let none = |why: String| NextCycleStep {
        action: "None".to_owned(),
        why,
        reason: None,
        changes: Vec::new(),
    };
    if let Some((reason, message)) = &found.closed {
        return none(format!("no cycle runs while Ready is False: {reason}: {message}"));
    }
    if let Some(record) = found.records.first() {
        return from_record(found, record);
    }
    let in_scope = found.standing.as_ref().is_some_and(|(e, _, _)| e.is_none());
    match found.target {
        Some(target) if in_scope => none(format!("target user '{}' is up to date", target.label())),
        Some(target) if !target.active() => none(format!(
            "target user '{}' is deprovisioned already (inactive)",
            target.label()
        )),
        Some(target) if found.spec.deprovision.action == DeprovisionAction::None => none(format!(
            "target user '{}' stays: spec.deprovision.action is None",
            target.label()
        )),
        Some(target) => match found.withheld.filter(|h| h.names.iter().any(|n| n == target.label())) {
            Some(held) => NextCycleStep {
                action: "Held".to_owned(),
                why: format!(
                    "target user '{}' would be deprovisioned, but {} deprovisionings exceed accidentalDeletionThreshold ({}): none is applied until `kubectl xtsync approve` approves token {}",
                    target.label(),
                    held.count,
                    found.spec.deprovision.accidental_deletion_threshold,
                    held.token
                ),
                reason: None,
                changes: Vec::new(),
            },
            None => none(format!("target user '{}' is left as it is", target.label())),
        },
        None if in_scope => none("nothing planned".to_owned()),
        None => none("it is not in the target, and stays out".to_owned()),
    }
}

fn from_record(found: &Found<'_>, record: &Record) -> NextCycleStep {
    let changes: Vec<AttributeChange> = record
        .values
        .iter()
        .map(|(attribute, old, new)| AttributeChange {
            attribute: (*attribute).to_owned(),
            old: old.clone(),
            new: new.clone(),
        })
        .collect();
    let shown = |v: &Option<String>| v.as_deref().map_or("(none)".to_owned(), |v| format!("{v:?}"));
    let listed: Vec<String> = changes
        .iter()
        .map(|c| format!("{}: {} → {}", c.attribute, shown(&c.old), shown(&c.new)))
        .collect();
    let target = found.target.map_or(record.user_name.as_str(), User::label);
    if record.result == ActionResult::Skipped && record.action != CycleAction::Skip {
        // Planned, and held back (`spec.actions` switches it off): a skip, with what it held.
        let why = format!(
            "skip it: the {} is planned and not sent: {}: {}",
            record.action.as_str().to_lowercase(),
            record.reason.unwrap_or_default(),
            record.message.as_deref().unwrap_or_default()
        );
        return NextCycleStep {
            action: CycleAction::Skip.as_str().to_owned(),
            why,
            reason: record.reason.map(str::to_owned),
            changes,
        };
    }
    let why = match record.action {
        CycleAction::User(UserAction::Create) => {
            format!("create it in the target with {}", record.changed_attributes.join(", "))
        }
        CycleAction::User(UserAction::Adopt) => {
            format!("adopt the existing external user '{target}': {}", listed.join(", "))
        }
        CycleAction::User(UserAction::Update) => format!("update target user '{target}': {}", listed.join(", ")),
        CycleAction::User(UserAction::Restore) => format!("restore target user '{target}': {}", listed.join(", ")),
        CycleAction::User(UserAction::Deprovision) => {
            let because = if found.source.is_some() {
                "it is out of scope"
            } else {
                "its source user is gone"
            };
            format!(
                "deprovision target user '{target}' ({:?}): {because}",
                found.spec.deprovision.action
            )
        }
        CycleAction::Skip | CycleAction::Group(_) => format!(
            "skip it: {}: {}",
            record.reason.unwrap_or_default(),
            record.message.as_deref().unwrap_or_default()
        ),
    };
    NextCycleStep {
        action: record.action.as_str().to_owned(),
        why,
        reason: record.reason.map(str::to_owned),
        changes,
    }
}

/// The explanation for people.
pub fn text(e: &Explanation) -> String {
    let mut out = format!("SyncConfiguration {}, user {}\n", e.configuration, e.user);
    let user = |u: &UserFacts| {
        let state = if u.active { "active" } else { "inactive" };
        format!("'{}' (id {}, {state})", u.user_name, u.id)
    };
    if e.gate.open {
        let source = e.source_user.as_ref().map_or("not found".to_owned(), user);
        out.push_str(&format!("  source user:  {source}\n"));
        if let Some(scope) = &e.scope {
            out.push_str(&format!("  scope:        {}\n", scope.why));
        }
        let target = e
            .target_user
            .as_ref()
            .map_or("none provisioned from it".to_owned(), user);
        out.push_str(&format!("  target user:  {target}\n"));
    }
    out.push_str(&format!("  next cycle:   {}: {}\n", e.next.action, e.next.why));
    out
}
