//! The words every floor shares — api, controller, cycle, engine and providers — and that
//! therefore belong to none of them: who may be in scope, what a user becomes, what
//! deprovisioning does, why a user is skipped (docs/architecture.md, "The floors"). Those a
//! SyncConfiguration's spec names are its schema too (`api::sync_config` uses them as they are).

// Who may be in scope (`spec.scope.mode`). Plain comments on these four, not doc comments:
// a doc comment would become the CRD's description of every field of the type.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScopeMode {
    /// Only the listed users and the members of the listed groups (Entra's default).
    #[default]
    AssignedUsersAndGroups,
    AllUsers,
}

// The `userType` written to the target (`spec.userType`).
#[derive(
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    strum::IntoStaticStr,
)]
pub enum UserType {
    #[default]
    Member,
    Guest,
}

// What deprovisioning a target user does (rule 7, `spec.deprovision.action`).
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeprovisionAction {
    #[default]
    SoftDelete,
    Disable,
    None,
}

// When a mapping is written (`spec.attributeMappings[].applyOn`).
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ApplyOn {
    #[default]
    Always,
    CreateOnly,
}

/// Which members of a group are its members in the target (README, "Groups").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Membership {
    /// Direct members only, as Entra.
    #[default]
    Direct,
    /// Members of nested groups too, flattened.
    Transitive,
}

/// Why a user is skipped; the variant name is the reason in `status.failures`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
pub enum SkipReason {
    /// An internal target user has the same userName or email: never adopted or changed.
    ConflictsWithInternalUser,
    /// The matching target user was provisioned from another tenant or another source user.
    ConflictsWithProvisionedUser,
    /// An external target user matches but `matching.adoptExisting` is off.
    AdoptionDisabled,
    /// An external target user matches, but not by an address in one of the source tenant's
    /// domains: it may be a guest from any tenant, so it is never adopted (rule 5).
    ConflictsWithForeignUser,
    /// A mapping expression failed for this user.
    MappingFailed,
    /// Several external target users match by userName or email; which to adopt is unclear.
    AmbiguousMatch,
    /// A provisioned user's source user was missing from a listing, yet a direct read found it.
    NotConfirmedGone,
    /// Group provisioning: a target group has the displayName but not the anchor of a source
    /// group; it is never adopted or changed (as Entra leaves pre-existing groups alone).
    ConflictsWithExistingGroup,
    /// The user's planned action is switched off in `spec.actions` (Entra's target object
    /// actions): it was planned, logged, and not sent.
    ActionDisabled,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A target object action a configuration may take on users: Entra's `flowTypes` of an
/// object mapping — Add, Update, Delete (Microsoft Learn, "objectMapping resource type",
/// https://learn.microsoft.com/en-us/graph/api/resources/synchronization-objectmapping).
/// Adopting an existing user and restoring a soft-deleted one are updates, as Entra counts a
/// matched existing object and a restore as Update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum TargetAction {
    Create,
    Update,
    Deprovision,
}

impl TargetAction {
    /// The switch's name under `spec.actions`: `create`, `update` or `deprovision`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What a cycle does to one target group; the variant name is the action in `status.failures`,
/// the provisioning log and the group-operation metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, strum::IntoStaticStr)]
pub enum GroupAction {
    CreateGroup,
    UpdateGroup,
    RestoreGroup,
    AddMembers,
    RemoveMembers,
    DeprovisionGroup,
}

impl GroupAction {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What a cycle does to one target user (`engine::plan::Change`, one variant each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, strum::IntoStaticStr)]
pub enum UserAction {
    Create,
    Adopt,
    Update,
    /// Bring back a deprovisioned user that is in scope again (rule 7).
    Restore,
    Deprovision,
}

impl UserAction {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One action of a cycle — on a user, on a group — or a skip: its name is the `action` of a
/// provisioning record and of `status.failures`, its `metric_label` that of the operation
/// metrics, so the report, the log and the metrics say the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CycleAction {
    User(UserAction),
    Group(GroupAction),
    /// A user or group the cycle did not write, with its `SkipReason`.
    Skip,
}

impl CycleAction {
    /// The variant name of the user or group action, or `Skip`.
    pub fn as_str(self) -> &'static str {
        match self {
            CycleAction::User(action) => action.into(),
            CycleAction::Group(action) => action.as_str(),
            CycleAction::Skip => "Skip",
        }
    }

    /// The `action` label of `xtsync_users_total` or `xtsync_groups_total`: a restore counts
    /// as an update.
    pub fn metric_label(self) -> &'static str {
        match self {
            CycleAction::User(UserAction::Create) | CycleAction::Group(GroupAction::CreateGroup) => "create",
            CycleAction::User(UserAction::Adopt) => "adopt",
            CycleAction::User(UserAction::Update | UserAction::Restore)
            | CycleAction::Group(GroupAction::UpdateGroup | GroupAction::RestoreGroup) => "update",
            CycleAction::User(UserAction::Deprovision) | CycleAction::Group(GroupAction::DeprovisionGroup) => {
                "deprovision"
            }
            CycleAction::Group(GroupAction::AddMembers) => "member_add",
            CycleAction::Group(GroupAction::RemoveMembers) => "member_remove",
            CycleAction::Skip => "skip",
        }
    }
}

impl std::fmt::Display for CycleAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
