//! `onConfigurationDelete: Deprovision`: deprovision what the configuration provisioned before
//! its deletion completes.

use crate::engine::rules::DeprovisionAction;
use crate::providers::{Directory, DirectoryError};

/// Deprovisions every target user anchored to this source. Returns how many; a failure is
/// returned so the finalizer stays and retries.
pub async fn deprovision_all(
    target: &dyn Directory,
    source_tenant_id: &str,
    action: DeprovisionAction,
) -> Result<u32, DirectoryError> {
    let source_tenant = source_tenant_id.to_ascii_lowercase();
    let mut count = 0;
    for user in target.list_users().await? {
        if user.active() && user.anchor().is_some_and(|a| a.tenant_id == source_tenant) {
            target.deprovision_user(&(&user).into(), action).await?;
            count += 1;
        }
    }
    Ok(count)
}
