//! How xtsync writes a status: one server-side-apply patch of `.status` under the field manager
//! `xtsync` (README, "Conditions and reasons"). The spec is never written; the only metadata
//! written is the `xtsync.io/cleanup` finalizer, and only while
//! `onConfigurationDelete: Deprovision` asks for it (`sync_config::finalizer`).

use kube::api::{Patch, PatchParams};
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::bounds::{Bounded, MAX_STATUS_BYTES};
use crate::api::FIELD_MANAGER;

/// Every status is written within its bounds (`bounds`), whoever built it.
pub async fn apply<K, S>(api: &Api<K>, name: &str, status: &S) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default,
    S: Serialize + Bounded + Clone,
{
    let status = status.clone().bounded();
    let dt = K::DynamicType::default();
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&dt),
        "kind": K::kind(&dt),
        "status": &status,
    });
    let size = serde_json::to_vec(&patch).map_or(0, |bytes| bytes.len());
    if size > MAX_STATUS_BYTES {
        // Every field is bounded, so this is a field added without its bound.
        tracing::warn!(size, bound = MAX_STATUS_BYTES, "a status is larger than its bound");
    }
    api.patch_status(name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&patch))
        .await?;
    Ok(())
}
