//! From a Tenant to a live `Directory`: its provider, its credentials, its discovered
//! capabilities.

use kube::ResourceExt;

use super::{Context, Error, lookup, secrets};
use crate::api::tenant::Directory as DirectorySpec;
use crate::providers::scim::ScimClient;
use crate::providers::{Directory, DirectoryError};

/// The directory of Tenant `ns/name`. The outer error is the API's (retry); the inner one means
/// the tenant cannot be used now (its Secret went away, an unsupported provider).
pub async fn connect(ctx: &Context, ns: &str, name: &str) -> Result<Result<Box<dyn Directory>, DirectoryError>, Error> {
    let Some(tenant) = lookup::tenant(&ctx.tenants, ns, name) else {
        return Ok(Err(DirectoryError::InvalidResponse(format!(
            "Tenant '{name}' disappeared"
        ))));
    };
    let capabilities = tenant
        .status
        .as_ref()
        .and_then(|s| s.capabilities.clone())
        .unwrap_or_default();
    match &tenant.spec.directory {
        DirectorySpec {
            scim: Some(scim),
            msgraph: None,
        } => {
            let token = match secrets::read_key(&ctx.client, ns, &scim.auth.bearer_token_secret_ref).await? {
                Ok(token) => token,
                Err(message) => return Ok(Err(DirectoryError::InvalidResponse(message))),
            };
            Ok(
                ScimClient::new(ctx.http.clone(), &scim.url, &token, capabilities, scim.soft_delete)
                    .map(|c| Box::new(c) as Box<dyn Directory>),
            )
        }
        _ => Ok(Err(DirectoryError::InvalidResponse(format!(
            "Tenant '{}' has no usable directory provider",
            tenant.name_any()
        )))),
    }
}
