//! Target object actions (`spec.actions`, Entra's `flowTypes` Add, Update, Delete; Microsoft
//! Learn, "objectMapping resource type"): a change whose action is switched off stays in the
//! plan, apart, so that it is logged and counted as skipped — and never sent.

use super::{Change, Plan};
use crate::engine::rules::ActionSwitches;
use crate::engine::vocabulary::TargetAction;

impl Change {
    /// The target object action this change is. Adopting a matched existing user and restoring
    /// a soft-deleted one are updates, as in Entra.
    pub fn target_action(&self) -> TargetAction {
        match self {
            Change::Create { .. } => TargetAction::Create,
            Change::Adopt { .. } | Change::Update { .. } | Change::Restore { .. } => TargetAction::Update,
            Change::Deprovision { .. } => TargetAction::Deprovision,
        }
    }
}

impl Plan {
    /// Moves the changes whose action `actions` switches off from `changes` to `disabled`.
    /// Runs before the accidental-deletion threshold, so that held-back deprovisionings never
    /// count toward it.
    pub(super) fn hold_disabled(&mut self, actions: ActionSwitches) {
        if actions == ActionSwitches::default() {
            return;
        }
        let (allowed, disabled): (Vec<Change>, Vec<Change>) = std::mem::take(&mut self.changes)
            .into_iter()
            .partition(|c| actions.allows(c.target_action()));
        self.changes = allowed;
        self.disabled.extend(disabled);
    }
}
