//! An Initial cycle from a complete read of its source that another cycle has just made
//! (`shared_read`). The source is already whole before the target is touched, so when few of
//! its users are in scope (up to `LOOKUPS_UP_TO`, as for an Incremental cycle) the target is not
//! read whole either (docs/architecture.md, "Shared source reads"): the users anchored by this
//! source are listed (the deprovisioning evidence, complete like a full read), and the in-scope
//! users are looked up by anchor, userName and email as an Incremental cycle looks up its
//! changed users (rule 5 and adoption).

use super::read::{self, TargetUsers};
use super::shared_read::CompleteRead;
use super::{CycleInput, LOOKUPS_UP_TO, ReadWhole, pass, pass_over_read};
use crate::cycle::report::{CycleError, CycleReport};
use crate::engine::scope;
use crate::engine::user::User;
use crate::providers::directory::{SourceDirectory, TargetDirectory};

pub async fn initial(
    source: &dyn SourceDirectory,
    target: &dyn TargetDirectory,
    input: &CycleInput<'_>,
    shared: &CompleteRead,
) -> Result<CycleReport, CycleError> {
    let assignments = read::assignments(source, input).await?;
    let in_scope: Vec<User> = shared
        .users
        .iter()
        .filter(|user| scope::exclusion(&input.rules.scope, &assignments, user).is_none())
        .cloned()
        .collect();
    // The group step reads the whole target anyway when it has groups to plan.
    let looked_up = if in_scope.len() <= LOOKUPS_UP_TO && input.rules.groups.is_none() {
        read::anchored_and_matching(target, &in_scope, input).await
    } else {
        Ok(TargetUsers::NotSearchable)
    };
    let (target_users, whole_target) = match looked_up.map_err(CycleError::TargetRead)? {
        TargetUsers::Found(users) => (users, false),
        TargetUsers::NotSearchable => (target.list_users().await.map_err(CycleError::TargetRead)?, true),
    };
    let read = ReadWhole {
        source_users: shared.users.clone(),
        end: pass::ReadEnd {
            watermark: shared.watermark.clone(),
            full: true,
        },
        target_users,
        assignments,
        whole_target,
    };
    let mut report = pass_over_read(source, target, input, read).await?;
    report.target_looked_up = !whole_target;
    Ok(report)
}
