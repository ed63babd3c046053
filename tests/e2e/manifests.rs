//! Manifests as a user writes them — only the fields a user would set, so the apiserver's
//! schema defaults are exercised — built as structured values and changed field by field,
//! then applied as YAML with `kubectl apply`.

// Shared with the benches, which use only some of them.
#![allow(dead_code)]

use serde_json::{Value, json};

use crate::support::{Manifest, SCIM_TOKEN, TestNs};

pub const CONTOSO: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const FABRIKAM: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
pub const NORTHWIND: &str = "3f0c7d5e-1b2a-4c3d-8e9f-a0b1c2d3e4f5";

/// The app registration every fake Graph tenant of the tests has.
pub const GRAPH_APP: &str = "11111111-2222-4333-8444-555555555555";
pub const GRAPH_SECRET: &str = "graph-client-secret";

/// Objects to apply together, in order.
#[derive(Clone, Debug, Default)]
pub struct Manifests(pub Vec<Value>);

impl Manifests {
    pub fn of(objects: impl IntoIterator<Item = Value>) -> Manifests {
        Manifests(objects.into_iter().collect())
    }

    /// These objects, then `other`'s.
    pub fn and(mut self, other: Manifests) -> Manifests {
        self.0.extend(other.0);
        self
    }

    /// Changes the object of `kind` named `name`; panics when there is none (a broken test).
    pub fn with(mut self, kind: &str, name: &str, change: impl FnOnce(&mut Value)) -> Manifests {
        let object = self
            .0
            .iter_mut()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name} among the manifests"));
        change(object);
        self
    }
}

impl Manifest for Manifests {
    fn yaml(&self) -> String {
        self.0
            .iter()
            .map(|o| serde_saphyr::to_string(o).expect("a manifest serializes"))
            .collect::<Vec<_>>()
            .join("---\n")
    }
}

/// As YAML documents, so manifests can stand beside YAML read from a file.
impl std::fmt::Display for Manifests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.yaml())
    }
}

impl Manifest for Value {
    fn yaml(&self) -> String {
        serde_saphyr::to_string(self).expect("a manifest serializes")
    }
}

/// Merges `extra`'s fields into `object` (objects recursively; anything else replaced).
pub fn merge(object: &mut Value, extra: Value) {
    match (object, extra) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                merge(into.entry(key).or_insert(Value::Null), value);
            }
        }
        (slot, value) => *slot = value,
    }
}

/// A directory credential Secret: labelled as directory credentials, and annotated with the
/// URL prefixes it may be sent to (none: no annotation).
pub fn secret(name: &str, key: &str, value: &str, credentials_for: &[&str]) -> Value {
    let mut secret = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": { "name": name, "labels": { "xtsync.io/credentials": "true" } },
        "stringData": { key: value },
    });
    if !credentials_for.is_empty() {
        secret["metadata"]["annotations"] = json!({ "xtsync.io/credentials-for": credentials_for.join(",") });
    }
    secret
}

/// The Secret `<tenant>-scim` holding the test scim2-server's token, as `scim_tenant` names it,
/// allowed to be sent to `url` (the Tenant's).
pub fn scim_secret(tenant: &str, url: &str) -> Value {
    secret(&format!("{tenant}-scim"), "token", SCIM_TOKEN, &[url])
}

/// A SCIM Tenant `name` at `url` whose token lives in Secret `<name>-scim`. An empty cloud
/// leaves the field out (the schema default applies).
pub fn scim_tenant_at(name: &str, tenant_id: &str, cloud: &str, url: &str) -> Value {
    let mut tenant = json!({
        "apiVersion": "xtsync.io/v1alpha1", "kind": "Tenant",
        "metadata": { "name": name },
        "spec": {
            "tenantId": tenant_id,
            "domains": [format!("{name}.com")],
            "directory": { "scim": {
                "url": url,
                "auth": { "bearerTokenSecretRef": { "name": format!("{name}-scim"), "key": "token" } },
            } },
        },
    });
    if !cloud.is_empty() {
        tenant["spec"]["cloud"] = json!(cloud);
    }
    tenant
}

/// A SCIM Tenant on this test's private scim2-server tenant `name`.
pub fn scim_tenant(t: &TestNs, name: &str, tenant_id: &str, cloud: &str) -> Value {
    scim_tenant_at(name, tenant_id, cloud, &t.scim_url(name))
}

/// A SCIM Tenant with its Secret, reached through `base` (e.g. a fault-injecting proxy)
/// instead of the scim2-server itself.
pub fn scim_tenant_via(t: &TestNs, name: &str, tenant_id: &str, base: &str) -> Manifests {
    let url = t.scim_url(name).replacen(&t.env.scim_base, base, 1);
    Manifests::of([scim_secret(name, &url), scim_tenant_at(name, tenant_id, "", &url)])
}

/// Tenants with their Secrets.
pub fn tenants_with(t: &TestNs, tenants: &[(&str, &str, &str)]) -> Manifests {
    Manifests::of(
        tenants
            .iter()
            .flat_map(|(name, id, cloud)| [scim_secret(name, &t.scim_url(name)), scim_tenant(t, name, id, cloud)]),
    )
}

fn policy(name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "xtsync.io/v1alpha1", "kind": "CrossTenantAccessPolicy",
        "metadata": { "name": name },
        "spec": spec,
    })
}

/// A tenant id of this process, the `i`th (a bench's runs use new namespaces, and tenant ids
/// must not meet another run's pairs).
pub fn tenant_id(i: usize) -> String {
    format!("{:08x}-0000-4000-8000-{i:012x}", std::process::id())
}

/// A policy that allows every partner in and out: what a mesh of trusting tenants has.
pub fn open_policy(tenant: &str) -> Value {
    json!({
        "apiVersion": "xtsync.io/v1alpha1", "kind": "CrossTenantAccessPolicy",
        "metadata": { "name": tenant },
        "spec": {
            "tenantRef": { "name": tenant },
            "default": {
                "inbound": { "allowUsersSync": true, "automaticallyRedeemInvitations": true },
                "outbound": { "automaticallyRedeemInvitations": true },
            },
        },
    })
}

/// fabrikam's policy towards contoso, inbound.
pub fn target_policy(allow_sync: bool, redeem: bool) -> Manifests {
    Manifests::of([policy(
        "fabrikam",
        json!({
            "tenantRef": { "name": "fabrikam" },
            "partners": [{ "tenantId": CONTOSO,
                           "inbound": { "allowUsersSync": allow_sync, "automaticallyRedeemInvitations": redeem } }],
        }),
    )])
}

/// fabrikam's policy towards contoso that lets users and groups in.
pub fn target_policy_with_groups() -> Manifests {
    Manifests::of([policy(
        "fabrikam",
        json!({
            "tenantRef": { "name": "fabrikam" },
            "partners": [{ "tenantId": CONTOSO,
                           "inbound": { "allowUsersSync": true, "allowGroupsSync": true,
                                        "automaticallyRedeemInvitations": true } }],
        }),
    )])
}

/// contoso's policy: redeem invitations outbound, towards everyone.
pub fn source_policy() -> Manifests {
    Manifests::of([policy(
        "contoso",
        json!({
            "tenantRef": { "name": "contoso" },
            "default": { "outbound": { "automaticallyRedeemInvitations": true } },
        }),
    )])
}

/// The policies that let contoso → fabrikam sync.
pub fn policies() -> Manifests {
    target_policy(true, true).and(source_policy())
}

/// A SyncConfiguration `name` from `source` to `target`; `extra` is merged into its spec.
pub fn sync_config(name: &str, source: &str, target: &str, extra: Value) -> Manifests {
    let mut config = json!({
        "apiVersion": "xtsync.io/v1alpha1", "kind": "SyncConfiguration",
        "metadata": { "name": name },
        "spec": { "sourceRef": { "name": source }, "targetRef": { "name": target } },
    });
    merge(&mut config["spec"], extra);
    Manifests::of([config])
}

/// No extra spec fields.
pub fn nothing() -> Value {
    json!({})
}

/// Two Ready tenants, the policies that allow the sync, and the configuration.
pub fn quickstart(t: &TestNs) -> Manifests {
    pair_in_clouds(t, "Global", "Global")
}

/// contoso and fabrikam, Ready, with no policies.
pub fn two_tenants(t: &TestNs) -> Manifests {
    tenants_with(t, &[("contoso", CONTOSO, "Global"), ("fabrikam", FABRIKAM, "Global")])
}

/// contoso → fabrikam with everything allowed, the tenants in the given clouds.
pub fn pair_in_clouds(t: &TestNs, source_cloud: &str, target_cloud: &str) -> Manifests {
    tenants_with(
        t,
        &[("contoso", CONTOSO, source_cloud), ("fabrikam", FABRIKAM, target_cloud)],
    )
    .and(policies())
    .and(sync_config("contoso-to-fabrikam", "contoso", "fabrikam", nothing()))
}

/// A Graph Tenant `name` with its Secret. `endpoints`: a base URL for both login and Graph
/// (the fake), or `None` for the cloud's own endpoints.
pub fn graph_tenant(name: &str, tenant_id: &str, cloud: &str, endpoints: Option<&str>) -> Manifests {
    let mut tenant = json!({
        "apiVersion": "xtsync.io/v1alpha1", "kind": "Tenant",
        "metadata": { "name": name },
        "spec": {
            "tenantId": tenant_id,
            "cloud": cloud,
            "domains": [format!("{name}.com")],
            "directory": { "msgraph": {
                "clientId": GRAPH_APP,
                "clientSecretRef": { "name": format!("{name}-graph"), "key": "client-secret" },
            } },
        },
    });
    if let Some(base) = endpoints {
        tenant["spec"]["directory"]["msgraph"]["endpoints"] = json!({ "login": base, "graph": base });
    }
    let allowed: Vec<&str> = endpoints.into_iter().collect();
    Manifests::of([
        secret(&format!("{name}-graph"), "client-secret", GRAPH_SECRET, &allowed),
        tenant,
    ])
}
