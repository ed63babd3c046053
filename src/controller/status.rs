//! How xtsync writes a status: one server-side-apply patch of `.status` under the field manager
//! `xtsync` (DESIGN.md §1). The spec is never written; the only metadata written is the
//! `xtsync.io/cleanup` finalizer, and only while `onConfigurationDelete: Deprovision` asks for it
//! (`sync_config::finalizer`).

use kube::api::{Patch, PatchParams};
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::FIELD_MANAGER;

pub async fn apply<K, S>(api: &Api<K>, name: &str, status: &S) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default,
    S: Serialize,
{
    let dt = K::DynamicType::default();
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&dt),
        "kind": K::kind(&dt),
        "status": status,
    });
    api.patch_status(name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&patch))
        .await?;
    Ok(())
}
