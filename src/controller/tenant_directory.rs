//! From a Tenant the cluster knows to a live directory, in the role a cycle needs, or a Graph client: the Tenant from the
//! cache, its provider (`providers::Setup`), its credential, its CA bundle, its recorded
//! capabilities.

use super::{Context, Vetted, ca_bundle, lookup, provider_settings, secrets};
use crate::api::tenant::Tenant;
use crate::providers::msgraph::GraphClient;
use crate::providers::settings::DirectoryFeatures;
use crate::providers::{Access, ConnectError, OpenedDirectory, Setup, SourceDirectory, TargetDirectory, Unopenable};

/// The directory of Tenant `ns/name`, read as a source.
pub async fn source(ctx: &Context, ns: &str, name: &str) -> Vetted<Box<dyn SourceDirectory>, Unopenable> {
    Ok(directory(ctx, ns, name).await?.map(OpenedDirectory::into_source))
}

/// The directory of Tenant `ns/name`, written as a target.
pub async fn target(ctx: &Context, ns: &str, name: &str) -> Vetted<Box<dyn TargetDirectory>, Unopenable> {
    Ok(directory(ctx, ns, name).await?.map(OpenedDirectory::into_target))
}

/// The directory of Tenant `ns/name`. The outer error is the API's (retry); the inner one says
/// why the tenant cannot be used now (it went away, its Secret went away, …).
async fn directory(ctx: &Context, ns: &str, name: &str) -> Vetted<OpenedDirectory, Unopenable> {
    let Some(tenant) = lookup::tenant(&ctx.tenants, ns, name) else {
        return Ok(Err(Unopenable::TenantNotFound(name.to_owned())));
    };
    let capabilities = tenant
        .status
        .as_ref()
        .and_then(|s| s.capabilities.as_ref())
        .map(DirectoryFeatures::from)
        .unwrap_or_default();
    Ok(setup_with_access(ctx, ns, &tenant)
        .await?
        .and_then(|(setup, access)| setup.directory(&ctx.clients, &access, capabilities))
        .map_err(Unopenable::from))
}

/// A Graph client for a Graph Tenant (the policy push); `None` for other providers.
pub async fn graph_client(ctx: &Context, ns: &str, tenant: &Tenant) -> Vetted<Option<GraphClient>, ConnectError> {
    Ok(setup_with_access(ctx, ns, tenant)
        .await?
        .and_then(|(setup, access)| setup.graph_client(&ctx.clients, &access)))
}

/// The Tenant's provider, checked, with its credential and CA bundle read.
pub async fn setup_with_access(ctx: &Context, ns: &str, tenant: &Tenant) -> Vetted<(Setup, Access), ConnectError> {
    let setup = match provider_settings::setup(&tenant.spec) {
        Ok(setup) => setup,
        Err(problem) => return Ok(Err(problem)),
    };
    let credential = match secrets::read_credential(&ctx.client, ns, &setup, &ctx.clients).await? {
        Ok(credential) => credential,
        Err(problem) => return Ok(Err(problem)),
    };
    let ca_bundle = match ca_bundle::read(&ctx.client, ns, &setup).await? {
        Ok(bundle) => bundle,
        Err(problem) => return Ok(Err(problem)),
    };
    Ok(Ok((setup, Access { credential, ca_bundle })))
}
