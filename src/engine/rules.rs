//! What a cycle applies: a SyncConfiguration compiled into the engine's own terms (by
//! `crate::validate`), so that the engine and the cycle runner never see a Kubernetes type.

use super::filter::ScopingFilter;
use super::mapping::Mapping;
use super::vocabulary::{DeprovisionAction, Membership, ScopeMode, TargetAction, UserType};

/// The scope, checked: modes, lists and compiled filters.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub mode: ScopeMode,
    /// `userName`s or ids of assigned users.
    pub users: Vec<String>,
    /// `displayName`s or ids of assigned groups.
    pub groups: Vec<String>,
    pub filter: ScopingFilter,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deprovisioning {
    pub action: DeprovisionAction,
    /// More deprovisionings than this in one cycle are held for approval (rule 8).
    pub threshold: usize,
}

impl Default for Deprovisioning {
    fn default() -> Self {
        Deprovisioning {
            action: DeprovisionAction::default(),
            threshold: 500,
        }
    }
}

/// Which target object actions are taken (`spec.actions`, Entra's target object actions): a
/// switched-off one is still planned and logged, never sent to the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActionSwitches {
    pub create: bool,
    pub update: bool,
    pub deprovision: bool,
}

impl Default for ActionSwitches {
    /// All on, as Entra's default flow types (Add, Update, Delete).
    fn default() -> Self {
        ActionSwitches {
            create: true,
            update: true,
            deprovision: true,
        }
    }
}

impl ActionSwitches {
    pub fn allows(self, action: TargetAction) -> bool {
        match action {
            TargetAction::Create => self.create,
            TargetAction::Update => self.update,
            TargetAction::Deprovision => self.deprovision,
        }
    }
}

/// Everything a cycle needs to know of its configuration.
#[derive(Clone, Debug, Default)]
pub struct SyncRules {
    pub scope: Scope,
    /// The mappings in force (`mapping::effective`): the configured ones or the defaults.
    pub mappings: Vec<Mapping>,
    pub user_type: UserType,
    /// Adopt existing external users of the target that match (rule 5).
    pub adopt_existing: bool,
    pub deprovision: Deprovisioning,
    /// The target object actions switched on (users only; groups are not affected).
    pub actions: ActionSwitches,
    /// Group provisioning, when enabled: the groups of `scope.groups` go to the target too.
    pub groups: Option<GroupRules>,
}

/// How the groups of `scope.groups` are provisioned (README, "Groups").
#[derive(Clone, Debug, Default)]
pub struct GroupRules {
    pub membership: Membership,
    /// Targets `displayName` and `description`; empty copies both.
    pub mappings: Vec<Mapping>,
}
