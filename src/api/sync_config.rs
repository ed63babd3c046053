//! `SyncConfiguration`: one source tenant → one target tenant.

// `printcolumn(...)` repeats `type_ = ...` by design; clippy mistakes it for a duplicate.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::LocalRef;
// The spec's words that every floor shares are the engine's vocabulary, used as they are.
pub use crate::engine::vocabulary::{ApplyOn, DeprovisionAction, ScopeMode, UserType};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "xtsync.io",
    version = "v1alpha1",
    kind = "SyncConfiguration",
    namespaced,
    status = "SyncConfigurationStatus",
    shortname = "syncconfig",
    category = "xtsync",
    doc = "Provisions the in-scope internal users of one source tenant into one target tenant.",
    printcolumn(name = "Source", type_ = "string", json_path = ".spec.sourceRef.name"),
    printcolumn(name = "Target", type_ = "string", json_path = ".spec.targetRef.name"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Synced",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Synced\")].status"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason",
        priority = 1
    ),
    printcolumn(name = "Users", type_ = "integer", json_path = ".status.usersProvisioned"),
    printcolumn(name = "Last Sync", type_ = "date", json_path = ".status.lastSuccessfulSyncTime"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.progress.phase", priority = 1),
    printcolumn(name = "Done", type_ = "integer", json_path = ".status.progress.done", priority = 1),
    printcolumn(name = "Of", type_ = "integer", json_path = ".status.progress.total", priority = 1),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct SyncConfigurationSpec {
    /// The Tenant users are read from.
    pub source_ref: LocalRef,
    /// The Tenant users are provisioned into.
    pub target_ref: LocalRef,
    /// Stop running cycles; nothing is written while suspended.
    #[serde(default)]
    pub suspend: bool,
    /// Run cycles — gate, reads, plan — but write nothing to the target: `status.lastCycle`
    /// (with `dryRun: true`) and `status.failures` tell what a real cycle would do. Turning
    /// it off runs a real cycle at once.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// Time between cycles: a duration like `30s`, `5m`, `1h30m` (at least 10s).
    #[serde(default = "default_interval")]
    #[schemars(regex(pattern = r"^([0-9]+(ms|s|m|h))+$"))]
    pub interval: String,
    /// Which source users are in scope.
    #[serde(default)]
    pub scope: SyncScope,
    /// The `userType` written to the target.
    #[serde(default)]
    pub user_type: UserType,
    /// Target attribute ← source attribute, constant or expression. Empty: the defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attribute_mappings: Vec<AttributeMapping>,
    #[serde(default)]
    pub matching: Matching,
    #[serde(default)]
    pub deprovision: Deprovision,
    /// Which target object actions are taken on users (Entra's target object actions, the
    /// `flowTypes` Add, Update, Delete). A switched-off action is planned, logged with result
    /// `Skipped` and reason `ActionDisabled`, and never sent. Absent: all on.
    #[serde(default, skip_serializing_if = "Actions::all_on")]
    pub actions: Actions,
    /// Provision the groups of `scope.groups` into the target as groups, with their synced
    /// members (README, "Groups").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_provisioning: Option<GroupProvisioning>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupProvisioning {
    /// The groups in `scope.groups` are provisioned into the target; the target's policy must
    /// set `inbound.allowGroupsSync`.
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub membership: GroupMembership,
    /// Target group attribute (`displayName`, `description`) ← source attribute, constant or
    /// expression, as for users. Empty: both copied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attribute_mappings: Vec<AttributeMapping>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum GroupMembership {
    /// Direct members only, as Entra.
    #[default]
    Direct,
    /// Members of nested groups too, flattened into the target group.
    Transitive,
}

pub const DEFAULT_INTERVAL: &str = "40m";

fn default_interval() -> String {
    DEFAULT_INTERVAL.to_owned()
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct SyncScope {
    #[serde(default)]
    pub mode: ScopeMode,
    /// `userName` or id of assigned users (mode `AssignedUsersAndGroups`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// `displayName` or id of assigned groups; their members are in scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Scoping filter groups: a user is in scope when any group matches; a group matches when
    /// all its clauses do. Applies in both modes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<ScopingFilterGroup>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct ScopingFilterGroup {
    #[schemars(length(min = 1))]
    pub clauses: Vec<ScopingClause>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct ScopingClause {
    /// A provider-neutral attribute as a SCIM path, e.g. `department`, `name.givenName`.
    #[schemars(length(min = 1))]
    pub attribute: String,
    /// One of Entra's operators (`EQUALS`, `NOT EQUALS`, `IS TRUE`, `REGEX MATCH`, …); spaced
    /// and underscore spellings are both accepted.
    #[schemars(length(min = 1))]
    pub operator: String,
    /// The operand; not used by `IS TRUE`, `IS FALSE`, `IS NULL`, `IS NOT NULL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttributeMapping {
    /// The target attribute (provider-neutral SCIM path).
    #[schemars(length(min = 1))]
    pub target: String,
    /// Copy this source attribute. Exactly one of source, constant, expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Write this constant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constant: Option<String>,
    /// Evaluate this expression (Entra's expression syntax, e.g. `Join(" ", [givenName], [familyName])`;
    /// at most 10,000 characters, as in Entra).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 10000))]
    pub expression: Option<String>,
    #[serde(default)]
    pub apply_on: ApplyOn,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Matching {
    /// Adopt existing external (B2B) users of the target whose userName or work email matches.
    #[serde(default = "default_true")]
    pub adopt_existing: bool,
}

impl Default for Matching {
    fn default() -> Self {
        Matching { adopt_existing: true }
    }
}

fn default_true() -> bool {
    true
}

/// Target object actions (Microsoft Learn, "objectMapping resource type": `flowTypes`). Groups
/// are not affected.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub struct Actions {
    /// Create target users for in-scope source users (Entra's Add).
    #[serde(default = "default_true")]
    pub create: bool,
    /// Update provisioned users, adopt matching existing users and restore soft-deleted ones
    /// (Entra's Update).
    #[serde(default = "default_true")]
    pub update: bool,
    /// Deprovision users that leave scope, and on `onConfigurationDelete: Deprovision` (Entra's
    /// Delete). `false` keeps users that leave scope; held-back deprovisionings do not count
    /// toward `accidentalDeletionThreshold`.
    #[serde(default = "default_true")]
    pub deprovision: bool,
}

impl Default for Actions {
    fn default() -> Self {
        Actions {
            create: true,
            update: true,
            deprovision: true,
        }
    }
}

impl Actions {
    fn all_on(&self) -> bool {
        *self == Actions::default()
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Deprovision {
    #[serde(default)]
    pub action: DeprovisionAction,
    /// More deprovisionings than this in one cycle: none are applied until approved.
    #[serde(default = "default_threshold")]
    #[schemars(range(min = 0))]
    pub accidental_deletion_threshold: u32,
    #[serde(default)]
    pub on_configuration_delete: OnConfigurationDelete,
}

impl Default for Deprovision {
    fn default() -> Self {
        Deprovision {
            action: DeprovisionAction::default(),
            accidental_deletion_threshold: default_threshold(),
            on_configuration_delete: OnConfigurationDelete::default(),
        }
    }
}

fn default_threshold() -> u32 {
    500
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum OnConfigurationDelete {
    #[default]
    Keep,
    Deprovision,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncConfigurationStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `Synced`, `Quarantined`, `DeletionThresholdExceeded`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The last completed cycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_cycle: Option<CycleSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_in_scope: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_provisioned: Option<u32>,
    /// Groups of `scope.groups` found in the source (group provisioning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups_in_scope: Option<u32>,
    /// Groups this configuration keeps in the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups_provisioned: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_successful_sync_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_sync_time: Option<Time>,
    /// The most recent per-user failures, newest first (bounded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<UserFailure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<Quarantine>,
    /// Cycles in a row, up to the last, that failed more than half of their writes after
    /// retries; the third quarantines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_cycles: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand: Option<OnDemandResult>,
    /// Deprovisionings the accidental-deletion threshold holds back, waiting for approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_deletions: Option<PendingDeletions>,
    /// The approval token last consumed; the same value never approves again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_approved_deletions: Option<String>,
    /// The `xtsync.io/restart` value last acted on; a new value starts an Initial cycle at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_restart: Option<String>,
    /// Incremental cycles read the source users changed after this (the latest change seen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<String>,
    /// Group provisioning: where the next read of changed source groups starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups_watermark: Option<String>,
    /// The pair of directories this configuration holds (`<source> → <target>`): set when its
    /// gate found it the pair's active configuration, kept until it is suspended, becomes
    /// invalid or another holds the pair. A holder keeps its pair against older configurations
    /// that become runnable later; only a holder that ran cycles cleans up on delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_pair: Option<String>,
    /// A digest of the members of `scope.groups` the last cycle read: an Incremental cycle that
    /// reads other members provisions who joined and deprovisions who left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_members_digest: Option<String>,
    /// When the last Initial (full) cycle completed; full cycles recur to catch deletions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_full_sync_time: Option<Time>,
    /// The cycle running now, once it has run for 2 s (a shorter one shows none), updated at
    /// most every 5 s and removed when it ends. Written under its own field manager
    /// (`xtsync-progress`), apart from the rest of the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<CycleProgress>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CycleProgress {
    /// `Reading`, `Planning` or `Applying`.
    pub phase: String,
    /// Applying: the changes made so far, of `total`; Planning: the source users read.
    pub done: u32,
    pub total: u32,
    pub start_time: Time,
}

/// Deprovisionings held back by `accidentalDeletionThreshold` (docs/architecture.md, rule 8).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct PendingDeletions {
    pub count: u32,
    /// A digest of the held set: annotate `xtsync.io/approve-deletions` with it to apply
    /// exactly this set, once.
    pub token: String,
    /// Who is held: target userNames, and `group:<displayName>` for groups, sorted; the first
    /// 100 (`count` counts them all). What `kubectl xtsync approve` shows before approving.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum CycleType {
    Initial,
    Incremental,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CycleSummary {
    /// The cycle's id, as in its provisioning log records (`cycleId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub cycle_type: CycleType,
    pub start_time: Time,
    pub completion_time: Time,
    pub created: u32,
    pub updated: u32,
    pub deprovisioned: u32,
    pub adopted: u32,
    pub skipped: u32,
    pub failed: u32,
    pub unchanged: u32,
    /// A dry run: the counts are what the cycle would have done; nothing was written.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// Group provisioning: what the cycle did to groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<GroupCounts>,
    /// Group provisioning: members added to and removed from target groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memberships: Option<MembershipCounts>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct GroupCounts {
    pub created: u32,
    pub updated: u32,
    pub deprovisioned: u32,
    pub unchanged: u32,
    pub failed: u32,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct MembershipCounts {
    pub added: u32,
    pub removed: u32,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct UserFailure {
    pub user: String,
    pub action: String,
    pub reason: String,
    pub message: String,
    pub time: Time,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Quarantine {
    pub since: Time,
    pub reason: String,
    pub next_attempt_time: Time,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct OnDemandResult {
    /// The annotation value this answers.
    pub request: String,
    pub result: String,
    pub message: String,
    pub time: Time,
}
