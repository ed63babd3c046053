//! From a Tenant to a live `Directory`: its provider, its credentials, its discovered
//! capabilities.

use kube::ResourceExt;

use super::{Context, Error, lookup, secrets};
use crate::api::tenant::{Directory as DirectorySpec, GraphDirectory as GraphSpec, Tenant};
use crate::providers::msgraph::resource::AnchorAttribute;
use crate::providers::msgraph::{Credentials, Endpoints, GraphClient, GraphDirectory};
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
        DirectorySpec {
            scim: None,
            msgraph: Some(graph),
        } => {
            let client = match graph_client(ctx, ns, &tenant, graph).await? {
                Ok(client) => client,
                Err(problem) => return Ok(Err(DirectoryError::InvalidResponse(problem.to_string()))),
            };
            let anchor = match AnchorAttribute::of(graph.anchor_attribute.as_deref()) {
                Ok(anchor) => anchor,
                Err(message) => return Ok(Err(DirectoryError::InvalidResponse(message))),
            };
            Ok(Ok(Box::new(GraphDirectory::new(client, anchor, true))))
        }
        _ => Ok(Err(DirectoryError::InvalidResponse(format!(
            "Tenant '{}' has no usable directory provider",
            tenant.name_any()
        )))),
    }
}

/// Why a Graph tenant cannot be reached at all. Variant names are `Ready=False` reasons.
#[derive(Debug, thiserror::Error)]
pub enum GraphSetupProblem {
    #[error("Microsoft Graph in the {0} cloud is not supported (no endpoints are known for it)")]
    UnsupportedCloud(crate::api::tenant::Cloud),
    #[error("{0}")]
    SecretNotFound(String),
}

impl GraphSetupProblem {
    pub fn reason(&self) -> &'static str {
        match self {
            GraphSetupProblem::UnsupportedCloud(_) => "UnsupportedCloud",
            GraphSetupProblem::SecretNotFound(_) => "SecretNotFound",
        }
    }
}

/// A Graph client for a Tenant with `directory.msgraph`: its endpoints (from the cloud, or
/// overridden) and its app's client secret.
pub async fn graph_client(
    ctx: &Context,
    ns: &str,
    tenant: &Tenant,
    graph: &GraphSpec,
) -> Result<Result<GraphClient, GraphSetupProblem>, Error> {
    let Some(endpoints) = Endpoints::resolve(tenant.spec.cloud, graph.endpoints.as_ref()) else {
        return Ok(Err(GraphSetupProblem::UnsupportedCloud(tenant.spec.cloud)));
    };
    let secret = match secrets::read_key(&ctx.client, ns, &graph.client_secret_ref).await? {
        Ok(secret) => secret,
        Err(message) => return Ok(Err(GraphSetupProblem::SecretNotFound(message))),
    };
    let credentials = Credentials {
        tenant_id: tenant.spec.tenant_id.clone(),
        client_id: graph.client_id.clone(),
        client_secret: secret,
    };
    Ok(Ok(GraphClient::new(
        ctx.http.clone(),
        endpoints,
        credentials,
        ctx.graph_tokens.clone(),
    )))
}
