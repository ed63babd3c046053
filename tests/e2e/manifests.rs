//! Manifests as a user writes them, for `kubectl apply`.

// Shared with the benches, which use only some of them.
#![allow(dead_code)]

use crate::support::{SCIM_TOKEN, TestNs};

pub const CONTOSO: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const FABRIKAM: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
pub const NORTHWIND: &str = "3f0c7d5e-1b2a-4c3d-8e9f-a0b1c2d3e4f5";

pub fn secret(name: &str, token: &str) -> String {
    format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\nstringData:\n  token: {token}\n")
}

/// A SCIM Tenant `name` whose token lives in Secret `<name>-scim`. An empty cloud leaves the
/// field out (the schema default applies).
pub fn scim_tenant(t: &TestNs, name: &str, tenant_id: &str, cloud: &str) -> String {
    let cloud = if cloud.is_empty() {
        String::new()
    } else {
        format!("  cloud: {cloud}\n")
    };
    format!(
        "apiVersion: xtsync.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: {name}\nspec:\n  tenantId: {tenant_id}\n{cloud}  directory:\n    scim:\n      url: {url}\n      auth: {{ bearerTokenSecretRef: {{ name: {name}-scim, key: token }} }}\n",
        url = t.scim_url(name)
    )
}

/// A SCIM Tenant like `scim_tenant`, reached through `base` (e.g. a fault-injecting proxy)
/// instead of the scim2-server itself.
pub fn scim_tenant_via(t: &TestNs, name: &str, tenant_id: &str, base: &str) -> String {
    format!(
        "{}---\n{}",
        secret(&format!("{name}-scim"), SCIM_TOKEN),
        scim_tenant(t, name, tenant_id, "").replace(&t.env.scim_base, base)
    )
}

/// Tenants with their Secrets.
pub fn tenants_with(t: &TestNs, tenants: &[(&str, &str, &str)]) -> String {
    tenants
        .iter()
        .map(|(name, id, cloud)| {
            format!(
                "{}---\n{}",
                secret(&format!("{name}-scim"), SCIM_TOKEN),
                scim_tenant(t, name, id, cloud)
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

pub fn target_policy(allow_sync: bool, redeem: bool) -> String {
    format!(
        "apiVersion: xtsync.io/v1alpha1\nkind: CrossTenantAccessPolicy\nmetadata:\n  name: fabrikam\nspec:\n  tenantRef: {{ name: fabrikam }}\n  partners:\n    - tenantId: {CONTOSO}\n      inbound: {{ allowUsersSync: {allow_sync}, automaticallyRedeemInvitations: {redeem} }}\n"
    )
}

pub fn source_policy() -> String {
    "apiVersion: xtsync.io/v1alpha1\nkind: CrossTenantAccessPolicy\nmetadata:\n  name: contoso\nspec:\n  tenantRef: { name: contoso }\n  default:\n    outbound: { automaticallyRedeemInvitations: true }\n".to_owned()
}

/// The policies that let contoso → fabrikam sync.
pub fn policies() -> String {
    format!("{}---\n{}", target_policy(true, true), source_policy())
}

pub fn sync_config(name: &str, source: &str, target: &str, extra_spec: &str) -> String {
    format!(
        "apiVersion: xtsync.io/v1alpha1\nkind: SyncConfiguration\nmetadata:\n  name: {name}\nspec:\n  sourceRef: {{ name: {source} }}\n  targetRef: {{ name: {target} }}\n{extra_spec}"
    )
}

/// Two Ready tenants, the policies that allow the sync, and the configuration.
pub fn quickstart(t: &TestNs) -> String {
    pair_in_clouds(t, "Global", "Global")
}

/// contoso and fabrikam, Ready, with no policies.
pub fn two_tenants(t: &TestNs) -> String {
    tenants_with(t, &[("contoso", CONTOSO, "Global"), ("fabrikam", FABRIKAM, "Global")])
}

/// contoso → fabrikam with everything allowed, the tenants in the given clouds.
pub fn pair_in_clouds(t: &TestNs, source_cloud: &str, target_cloud: &str) -> String {
    let tenants = tenants_with(
        t,
        &[("contoso", CONTOSO, source_cloud), ("fabrikam", FABRIKAM, target_cloud)],
    );
    let config = sync_config("contoso-to-fabrikam", "contoso", "fabrikam", "");
    format!("{tenants}---\n{}---\n{config}", policies())
}

/// The app registration every fake Graph tenant of the tests has.
pub const GRAPH_APP: &str = "11111111-2222-4333-8444-555555555555";
pub const GRAPH_SECRET: &str = "graph-client-secret";

/// A Graph Tenant `name` with its Secret. `endpoints`: a base URL for both login and Graph
/// (the fake), or `None` for the cloud's own endpoints.
pub fn graph_tenant(name: &str, tenant_id: &str, cloud: &str, endpoints: Option<&str>) -> String {
    let endpoints = endpoints
        .map(|base| format!("      endpoints: {{ login: {base}, graph: {base} }}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}-graph\nstringData:\n  client-secret: {GRAPH_SECRET}\n---\n\
apiVersion: xtsync.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: {name}\nspec:\n  tenantId: {tenant_id}\n  cloud: {cloud}\n  directory:\n    msgraph:\n      clientId: {GRAPH_APP}\n      clientSecretRef: {{ name: {name}-graph, key: client-secret }}\n{endpoints}"
    )
}
