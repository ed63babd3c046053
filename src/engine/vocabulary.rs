//! The words every floor shares — api, controller, cycle, engine and providers — and that
//! therefore belong to none of them: who may be in scope, what a user becomes, what
//! deprovisioning does, why a user is skipped (docs/architecture.md, "The floors").

/// Who may be in scope (docs/reference.md, `spec.scope.mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScopeMode {
    /// Only the listed users and the members of the listed groups (Entra's default).
    #[default]
    AssignedUsersAndGroups,
    AllUsers,
}

/// The `userType` written to the target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, strum::IntoStaticStr)]
pub enum UserType {
    #[default]
    Member,
    Guest,
}

/// What deprovisioning a target user does (rule 7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeprovisionAction {
    #[default]
    SoftDelete,
    Disable,
    None,
}

/// When a mapping is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
