//! From a Tenant the cluster knows to a live `Directory` or Graph client: the Tenant from the
//! cache, its provider (`providers::Setup`), its Secret, its recorded capabilities.

use super::secrets;
use super::{Context, Error, lookup};
use crate::api::tenant::Tenant;
use crate::providers::msgraph::GraphClient;
use crate::providers::{ConnectError, Directory, Setup};

/// The directory of Tenant `ns/name`. The outer error is the API's (retry); the inner one says
/// why the tenant cannot be used now (it went away, its Secret went away, …).
pub async fn directory(ctx: &Context, ns: &str, name: &str) -> Result<Result<Box<dyn Directory>, ConnectError>, Error> {
    let Some(tenant) = lookup::tenant(&ctx.tenants, ns, name) else {
        return Ok(Err(ConnectError::TenantNotFound(name.to_owned())));
    };
    let capabilities = tenant
        .status
        .as_ref()
        .and_then(|s| s.capabilities.clone())
        .unwrap_or_default();
    Ok(setup_with_secret(ctx, ns, &tenant)
        .await?
        .and_then(|(setup, secret)| setup.directory(&ctx.clients, &secret, capabilities)))
}

/// A Graph client for a Graph Tenant (the policy push); `None` for other providers.
pub async fn graph_client(
    ctx: &Context,
    ns: &str,
    tenant: &Tenant,
) -> Result<Result<Option<GraphClient>, ConnectError>, Error> {
    Ok(setup_with_secret(ctx, ns, tenant)
        .await?
        .map(|(setup, secret)| setup.graph_client(&ctx.clients, &secret)))
}

/// The Tenant's provider, checked, and the credential its Secret holds.
pub async fn setup_with_secret<'a>(
    ctx: &Context,
    ns: &str,
    tenant: &'a Tenant,
) -> Result<Result<(Setup<'a>, String), ConnectError>, Error> {
    let setup = match Setup::of(&tenant.spec) {
        Ok(setup) => setup,
        Err(problem) => return Ok(Err(problem)),
    };
    Ok(secrets::read_key(&ctx.client, ns, &setup)
        .await?
        .map(|secret| (setup, secret))
        .map_err(ConnectError::from))
}
