//! End-to-end tests against a real kube-apiserver + etcd and a real scim2-server.
//! One test per rule of docs/architecture.md rules 1–2 and per controller behaviour.

mod actions;
mod chart;
mod credentials;
#[path = "../fake_graph/mod.rs"]
mod fake_graph;
#[path = "../fault_rules.rs"]
mod fault_rules;
mod graph;
mod graph_credentials;
mod graph_groups;
mod graph_organization;
mod groups;
mod image;
mod leader;
mod liveness;
mod manifests;
mod organization;
mod organization_templates;
mod plan;
mod plugin;
mod private_ca;
mod status_bounds;
mod status_writes;
mod support;
mod sync;

use std::time::Duration;

use serde_json::json;

use xtsync::api::conditions::ConditionReason;
use xtsync::api::reasons::{
    AppliedReason, OrganizationReadyReason, PolicyReadyReason, ReadyReason, SyncedReason, TenantReadyReason,
};
use xtsync::api::{CrossTenantAccessPolicy, Organization, SyncConfiguration, Tenant};

use manifests::{CONTOSO, FABRIKAM, NORTHWIND};
use support::{TestNs, wait_condition, wait_ready};

#[tokio::test]
async fn valid_pair_becomes_ready() {
    let mut t = TestNs::new("valid-pair").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::quickstart(&t)).await;

    let ready = t
        .config_ready("contoso-to-fabrikam", "True", ReadyReason::GateOpen)
        .await;
    assert!(
        ready.message.contains(CONTOSO) && ready.message.contains(FABRIKAM),
        "{}",
        ready.message
    );
    assert_eq!(ready.observed_generation, Some(1));

    let tenant = t.api::<Tenant>().get("fabrikam").await.expect("tenant");
    let status = tenant.status.expect("tenant status");
    let caps = status.capabilities.expect("capabilities discovered");
    assert!(
        caps.patch && caps.bulk && caps.filter && caps.etag,
        "scim2-server announces them all: {caps:?}"
    );
    assert_eq!(caps.bulk_max_operations, Some(1000));
    assert!(status.last_connection_check.is_some());

    // The policy's status is its own controller's: it may come after the configuration's.
    wait_ready(
        &t.api::<CrossTenantAccessPolicy>(),
        "fabrikam",
        "True",
        PolicyReadyReason::Effective,
    )
    .await;
    let policy = t
        .api::<CrossTenantAccessPolicy>()
        .get("fabrikam")
        .await
        .expect("policy");
    let effective = policy.status.expect("policy status").effective;
    assert_eq!(effective.len(), 1);
    assert!(effective[0].inbound.allow_users_sync && effective[0].inbound.automatically_redeem_invitations);
    assert!(
        !effective[0].outbound.automatically_redeem_invitations,
        "not set anywhere: denied"
    );
}

#[tokio::test]
async fn kubectl_get_xtsync_lists_all_three_kinds() {
    let mut t = TestNs::new("kubectl-get").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::quickstart(&t)).await;
    t.config_ready("contoso-to-fabrikam", "True", ReadyReason::GateOpen)
        .await;

    let out = t.kubectl(&["get", "xtsync"]).await;
    for expected in [
        "tenant.xtsync.io/contoso",
        "crosstenantaccesspolicy.xtsync.io/fabrikam",
        "syncconfiguration.xtsync.io/contoso-to-fabrikam",
    ] {
        assert!(out.contains(expected), "missing {expected} in:\n{out}");
    }
    for column in [
        "SOURCE",
        "TARGET",
        "READY",
        "SYNCED",
        "LAST SYNC",
        "AGE",
        "TENANT ID",
        "CLOUD",
    ] {
        assert!(out.contains(column), "missing column {column} in:\n{out}");
    }
    let short = t
        .kubectl(&["get", "syncconfig", "contoso-to-fabrikam", "--no-headers"])
        .await;
    assert!(
        short.contains("contoso") && short.contains("fabrikam") && short.contains("True"),
        "{short}"
    );
    assert!(
        t.kubectl(&["get", "ctap", "--no-headers"])
            .await
            .contains(PolicyReadyReason::Effective.as_str())
    );
    assert!(
        t.kubectl(&["get", "tenant", "--no-headers"])
            .await
            .contains(TenantReadyReason::Connected.as_str())
    );
}

#[tokio::test]
async fn kubectl_wait_for_ready_works() {
    let mut t = TestNs::new("kubectl-wait").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::quickstart(&t)).await;
    let out = t
        .kubectl(&[
            "wait",
            "--for=condition=Ready",
            "--timeout=30s",
            "syncconfig/contoso-to-fabrikam",
        ])
        .await;
    assert!(out.contains("condition met"), "{out}");
}

#[tokio::test]
async fn schema_rejects_what_a_schema_can() {
    let t = TestNs::new("schema").await;
    let bad_guid = manifests::scim_tenant(&t, "bad", "not-a-guid", "Global");
    let err = t
        .try_apply(&bad_guid)
        .await
        .expect_err("a tenant id that is not a GUID is refused");
    assert!(err.contains("spec.tenantId"), "{err}");
    let bad_cloud = manifests::scim_tenant(&t, "bad", CONTOSO, "Mars");
    assert!(
        t.try_apply(&bad_cloud)
            .await
            .expect_err("unknown cloud refused")
            .contains("spec.cloud")
    );
    let mut two_providers = manifests::scim_tenant(&t, "both", CONTOSO, "Global");
    two_providers["spec"]["directory"]["msgraph"] =
        json!({ "clientId": "x", "clientSecretRef": { "name": "s", "key": "k" } });
    assert!(
        t.try_apply(&two_providers)
            .await
            .expect_err("two providers refused")
            .contains("spec.directory")
    );
}

#[tokio::test]
async fn defaults_are_filled_by_the_apiserver() {
    let t = TestNs::new("defaults").await;
    t.apply(&manifests::sync_config(
        "minimal",
        "contoso",
        "fabrikam",
        manifests::nothing(),
    ))
    .await;
    let config = t.api::<SyncConfiguration>().get("minimal").await.expect("config");
    let json = serde_json::to_value(&config.spec).expect("spec");
    assert_eq!(json["interval"], "40m");
    assert_eq!(json["userType"], "Member");
    assert_eq!(json["deprovision"]["action"], "SoftDelete");
    assert_eq!(json["deprovision"]["accidentalDeletionThreshold"], 500);
    t.apply(&manifests::scim_tenant(&t, "contoso", CONTOSO, "")).await;
    let tenant = t.api::<Tenant>().get("contoso").await.expect("tenant");
    assert_eq!(tenant.spec.cloud, xtsync::api::tenant::Cloud::Global);
}

#[tokio::test]
async fn invalid_spec_unknown_operator() {
    let mut t = TestNs::new("invalid-operator").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::quickstart(&t)).await;
    t.apply(&manifests::sync_config(
        "contoso-to-fabrikam",
        "contoso",
        "fabrikam",
        json!({ "scope": { "filters": [{ "clauses": [
            { "attribute": "department", "operator": "CONTAINS", "value": "Sales" }
        ] }] } }),
    ))
    .await;
    let c = t
        .config_ready("contoso-to-fabrikam", "False", ReadyReason::InvalidSpec)
        .await;
    assert!(c.message.contains("unknown operator 'CONTAINS'"), "{}", c.message);
}

#[tokio::test]
async fn invalid_spec_bad_regex_and_expression() {
    let mut t = TestNs::new("invalid-regex").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::quickstart(&t)).await;
    t.apply(&manifests::sync_config(
        "contoso-to-fabrikam",
        "contoso",
        "fabrikam",
        json!({
            "scope": { "filters": [{ "clauses": [{ "attribute": "email", "operator": "REGEX_MATCH", "value": "([a-z" }] }] },
            "attributeMappings": [{ "target": "title", "expression": "Jion(\" \", [givenName])" }],
        }),
    )).await;
    let c = t
        .config_ready("contoso-to-fabrikam", "False", ReadyReason::InvalidSpec)
        .await;
    assert!(c.message.contains("invalid regex"), "{}", c.message);
    assert!(c.message.contains("unknown function 'Jion'"), "{}", c.message);
}

#[tokio::test]
async fn tenant_not_ready_when_missing_or_unauthenticated() {
    let mut t = TestNs::new("tenant-not-ready").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::policies()).await;
    t.apply(&manifests::scim_tenant(&t, "contoso", CONTOSO, "Global")).await;
    t.apply(&manifests::sync_config(
        "contoso-to-fabrikam",
        "contoso",
        "fabrikam",
        manifests::nothing(),
    ))
    .await;
    let c = t
        .config_ready("contoso-to-fabrikam", "False", ReadyReason::TenantNotReady)
        .await;
    assert!(
        c.message.contains("Tenant 'contoso'") || c.message.contains("Tenant 'fabrikam'"),
        "{}",
        c.message
    );
    t.apply(&manifests::scim_secret("contoso", &t.scim_url("contoso")))
        .await;
    let c = wait_condition(
        &t.api::<SyncConfiguration>(),
        "contoso-to-fabrikam",
        ReadyReason::TYPE,
        Duration::from_secs(30),
        |c| c.message.contains("target Tenant 'fabrikam' does not exist"),
    )
    .await;
    assert_eq!(c.reason, ReadyReason::TenantNotReady.as_str());

    // A wrong token: the Tenant says AuthenticationFailed, the configuration says which tenant.
    t.apply(&manifests::secret(
        "fabrikam-scim",
        "token",
        "wrong-token",
        &[&t.scim_url("fabrikam")],
    ))
    .await;
    t.apply(&manifests::scim_tenant(&t, "fabrikam", FABRIKAM, "Global"))
        .await;
    let tc = wait_ready(
        &t.api::<Tenant>(),
        "fabrikam",
        "False",
        TenantReadyReason::AuthenticationFailed,
    )
    .await;
    assert!(
        !tc.message.contains("wrong-token"),
        "secrets never appear in status: {}",
        tc.message
    );
    let c = wait_condition(
        &t.api::<SyncConfiguration>(),
        "contoso-to-fabrikam",
        ReadyReason::TYPE,
        Duration::from_secs(30),
        |c| {
            c.reason == ReadyReason::TenantNotReady.as_str()
                && c.message.contains(TenantReadyReason::AuthenticationFailed.as_str())
        },
    )
    .await;
    assert!(
        c.message.contains("target Tenant 'fabrikam' is not Ready"),
        "{}",
        c.message
    );
}

#[tokio::test]
async fn tenant_reports_missing_secret_and_unreachable_directory() {
    let mut t = TestNs::new("tenant-reasons").await;
    t.start_controllers(|_| {});
    let mut no_secret = manifests::scim_tenant(&t, "nosecret", CONTOSO, "Global");
    no_secret["spec"]["directory"]["scim"]["auth"]["bearerTokenSecretRef"]["name"] = json!("absent");
    t.apply(&no_secret).await;
    let c = wait_ready(
        &t.api::<Tenant>(),
        "nosecret",
        "False",
        TenantReadyReason::SecretNotFound,
    )
    .await;
    assert!(c.message.contains("Secret 'absent' not found"), "{}", c.message);

    t.apply(&manifests::scim_secret("down", "http://127.0.0.1:9/v2")).await;
    let down = manifests::scim_tenant_at("down", FABRIKAM, "Global", "http://127.0.0.1:9/v2");
    t.apply(&down).await;
    let c = wait_ready(&t.api::<Tenant>(), "down", "False", TenantReadyReason::Unreachable).await;
    assert!(c.message.contains("127.0.0.1:9"), "{}", c.message);
}

#[tokio::test]
async fn fixing_a_secret_makes_the_tenant_ready_at_once() {
    let mut t = TestNs::new("secret-watch").await;
    // Retries are an hour away: only the Secret watch can make the tenant Ready in time.
    t.start_controllers(|s| s.tenant_retry = Duration::from_secs(3600));
    t.apply(&manifests::scim_tenant(&t, "contoso", CONTOSO, "Global")).await;
    wait_ready(
        &t.api::<Tenant>(),
        "contoso",
        "False",
        TenantReadyReason::SecretNotFound,
    )
    .await;
    t.apply(&manifests::scim_secret("contoso", &t.scim_url("contoso")))
        .await;
    wait_ready(&t.api::<Tenant>(), "contoso", "True", TenantReadyReason::Connected).await;
}

#[tokio::test]
async fn same_tenant() {
    let mut t = TestNs::new("same-tenant").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::tenants_with(
        &t,
        &[("contoso", CONTOSO, "Global"), ("contoso-alias", CONTOSO, "Global")],
    ))
    .await;
    t.apply(&manifests::sync_config(
        "loop",
        "contoso",
        "contoso-alias",
        manifests::nothing(),
    ))
    .await;
    let c = t.config_ready("loop", "False", ReadyReason::SameTenant).await;
    assert!(c.message.contains(CONTOSO), "{}", c.message);
}

#[tokio::test]
async fn unsupported_cloud() {
    let mut t = TestNs::new("unsupported-cloud").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::pair_in_clouds(&t, "China21Vianet", "China21Vianet"))
        .await;
    let c = t
        .config_ready("contoso-to-fabrikam", "False", ReadyReason::UnsupportedCloud)
        .await;
    assert!(c.message.contains("China21Vianet"), "{}", c.message);
}

#[tokio::test]
async fn cross_cloud_not_supported() {
    let mut t = TestNs::new("cross-cloud").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::pair_in_clouds(&t, "Global", "USGovernment")).await;
    let c = t
        .config_ready("contoso-to-fabrikam", "False", ReadyReason::CrossCloudNotSupported)
        .await;
    assert!(c.message.contains("USGovernment"), "{}", c.message);
}

#[tokio::test]
async fn duplicate_pair_oldest_wins_and_deletion_frees_the_next() {
    let mut t = TestNs::new("duplicate-pair").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::quickstart(&t)).await;
    t.config_ready("contoso-to-fabrikam", "True", ReadyReason::GateOpen)
        .await;
    // Creation times have one-second resolution: make the second one surely younger.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    t.apply(&manifests::sync_config(
        "again",
        "contoso",
        "fabrikam",
        manifests::nothing(),
    ))
    .await;
    let c = t.config_ready("again", "False", ReadyReason::DuplicatePair).await;
    assert!(c.message.contains("contoso-to-fabrikam"), "{}", c.message);
    // The reverse direction and another source into the same target are other pairs: their
    // gates close for their policies, not as duplicates.
    t.apply(&manifests::tenants_with(&t, &[("northwind", NORTHWIND, "Global")]))
        .await;
    t.apply(&manifests::sync_config(
        "fabrikam-to-contoso",
        "fabrikam",
        "contoso",
        manifests::nothing(),
    ))
    .await;
    t.apply(&manifests::sync_config(
        "northwind-to-fabrikam",
        "northwind",
        "fabrikam",
        manifests::nothing(),
    ))
    .await;
    t.config_ready("fabrikam-to-contoso", "False", ReadyReason::InboundSyncNotAllowed)
        .await;
    t.config_ready("northwind-to-fabrikam", "False", ReadyReason::InboundSyncNotAllowed)
        .await;

    t.kubectl(&["delete", "syncconfig", "contoso-to-fabrikam"]).await;
    t.config_ready("again", "True", ReadyReason::GateOpen).await;
}

/// Rule 2 is about directories and about configurations that could run: a suspended one claims
/// nothing, the holder keeps its pair against an older one that becomes runnable later, and a
/// second Tenant naming the same directory (another tenant id, the URL spelled otherwise) is
/// the same pair.
#[tokio::test]
async fn one_pair_of_directories_one_configuration_claimed_only_by_one_that_could_run() {
    let mut t = TestNs::new("directory-pair").await;
    t.start_controllers(|_| {});
    let suspended = |suspend: bool| {
        manifests::quickstart(&t).with("SyncConfiguration", "contoso-to-fabrikam", |c| {
            c["spec"]["suspend"] = json!(suspend);
        })
    };
    t.apply(&suspended(true)).await;
    t.config_ready("contoso-to-fabrikam", "True", ReadyReason::GateOpen)
        .await;
    // Creation times have one-second resolution: make the second one surely younger.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    t.apply(&manifests::sync_config(
        "holder",
        "contoso",
        "fabrikam",
        manifests::nothing(),
    ))
    .await;
    t.config_ready("holder", "True", ReadyReason::GateOpen).await;

    // The older one can run now: the holder keeps the pair.
    t.apply(&suspended(false)).await;
    let c = t
        .config_ready("contoso-to-fabrikam", "False", ReadyReason::DuplicatePair)
        .await;
    assert!(
        c.message.contains("holder") && c.message.contains("holds"),
        "{}",
        c.message
    );
    let holder = t.config("holder").await;
    assert!(
        holder
            .status
            .and_then(|s| s.claimed_pair)
            .is_some_and(|p| p.contains("scim ")),
        "the holder records its pair of directories"
    );

    // Another Tenant object for fabrikam's directory, under another tenant id.
    let alias_url = format!("{}/", t.scim_url("fabrikam"));
    t.apply(&manifests::Manifests::of([
        manifests::scim_secret("fabrikam-alias", &alias_url),
        manifests::scim_tenant_at("fabrikam-alias", "0a0a0a0a-0b0b-0c0c-0d0d-0e0e0e0e0e0e", "", &alias_url),
    ]))
    .await;
    t.apply(&manifests::sync_config(
        "via-alias",
        "contoso",
        "fabrikam-alias",
        manifests::nothing(),
    ))
    .await;
    let c = t.config_ready("via-alias", "False", ReadyReason::DuplicatePair).await;
    assert!(c.message.contains("holder"), "{}", c.message);
    t.config_ready("holder", "True", ReadyReason::GateOpen).await;
}

#[tokio::test]
async fn inbound_sync_not_allowed_without_a_policy_then_allowed_when_one_appears() {
    let mut t = TestNs::new("inbound").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::two_tenants(&t)).await;
    t.apply(&manifests::sync_config(
        "contoso-to-fabrikam",
        "contoso",
        "fabrikam",
        manifests::nothing(),
    ))
    .await;
    let c = t
        .config_ready("contoso-to-fabrikam", "False", ReadyReason::InboundSyncNotAllowed)
        .await;
    assert!(c.message.contains("no CrossTenantAccessPolicy"), "{}", c.message);
    // The policies arrive: the watch on policies re-evaluates the gate, no polling.
    t.apply(&manifests::policies()).await;
    t.config_ready("contoso-to-fabrikam", "True", ReadyReason::GateOpen)
        .await;
    // A partner override can take it away again.
    t.apply(&manifests::target_policy(true, false)).await;
    t.config_ready(
        "contoso-to-fabrikam",
        "False",
        ReadyReason::AutomaticRedemptionNotConfigured,
    )
    .await;
}

#[tokio::test]
async fn automatic_redemption_not_configured_on_the_source() {
    let mut t = TestNs::new("redemption").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::two_tenants(&t)).await;
    t.apply(&manifests::target_policy(true, true)).await;
    t.apply(&manifests::sync_config(
        "contoso-to-fabrikam",
        "contoso",
        "fabrikam",
        manifests::nothing(),
    ))
    .await;
    let c = t
        .config_ready(
            "contoso-to-fabrikam",
            "False",
            ReadyReason::AutomaticRedemptionNotConfigured,
        )
        .await;
    assert!(
        c.message.contains("outbound.automaticallyRedeemInvitations"),
        "{}",
        c.message
    );
}

#[tokio::test]
async fn deleting_a_tenant_closes_the_gate() {
    let mut t = TestNs::new("tenant-deleted").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::quickstart(&t)).await;
    t.config_ready("contoso-to-fabrikam", "True", ReadyReason::GateOpen)
        .await;
    t.kubectl(&["delete", "tenant", "contoso"]).await;
    let c = t
        .config_ready("contoso-to-fabrikam", "False", ReadyReason::TenantNotReady)
        .await;
    assert!(
        c.message.contains("source Tenant 'contoso' does not exist"),
        "{}",
        c.message
    );
}

#[tokio::test]
async fn second_policy_for_a_tenant_is_a_duplicate() {
    let mut t = TestNs::new("duplicate-policy").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::tenants_with(&t, &[("fabrikam", FABRIKAM, "Global")]))
        .await;
    t.apply(&manifests::target_policy(true, true)).await;
    wait_ready(
        &t.api::<CrossTenantAccessPolicy>(),
        "fabrikam",
        "True",
        PolicyReadyReason::Effective,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = manifests::target_policy(true, true).with("CrossTenantAccessPolicy", "fabrikam", |p| {
        p["metadata"]["name"] = json!("fabrikam-too")
    });
    t.apply(&second).await;
    let c = wait_ready(
        &t.api::<CrossTenantAccessPolicy>(),
        "fabrikam-too",
        "False",
        PolicyReadyReason::DuplicatePolicy,
    )
    .await;
    assert!(c.message.contains("'fabrikam'"), "{}", c.message);
    t.kubectl(&["delete", "ctap", "fabrikam"]).await;
    wait_ready(
        &t.api::<CrossTenantAccessPolicy>(),
        "fabrikam-too",
        "True",
        PolicyReadyReason::Effective,
    )
    .await;
}

#[tokio::test]
async fn status_is_written_only_by_the_xtsync_field_manager() {
    let mut t = TestNs::new("field-manager").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::quickstart(&t)).await;
    t.config_ready("contoso-to-fabrikam", "True", ReadyReason::GateOpen)
        .await;
    let config = t
        .api::<SyncConfiguration>()
        .get("contoso-to-fabrikam")
        .await
        .expect("config");
    let managed = config.metadata.managed_fields.unwrap_or_default();
    let ours: Vec<_> = managed
        .iter()
        .filter(|m| m.manager.as_deref() == Some("xtsync"))
        .collect();
    assert!(!ours.is_empty(), "{managed:?}");
    for entry in ours {
        assert_eq!(entry.operation.as_deref(), Some("Apply"), "{entry:?}");
        // Apiserver 1.20 does not record the subresource; the owned fields tell instead.
        let fields = entry.fields_v1.as_ref().map(|f| f.0.clone()).unwrap_or_default();
        let top: Vec<_> = fields
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(
            top,
            vec!["f:status".to_string()],
            "xtsync owns nothing but status: {fields}"
        );
    }
}

#[tokio::test]
async fn the_binary_serves_health_readiness_metrics_and_json_logs_without_secrets() {
    let t = TestNs::new("binary").await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let log = std::env::temp_dir().join(format!("xtsync-e2e-binary-{port}.log"));
    let mut operator = std::process::Command::new(env!("CARGO_BIN_EXE_xtsync"))
        .args([
            "run",
            "--namespace",
            &t.name,
            "--lease-namespace",
            &t.name,
            "--log-format",
            "json",
        ])
        .args(["--http-addr", &format!("127.0.0.1:{port}")])
        .env("KUBECONFIG", &t.env.kubeconfig)
        .env("RUST_LOG", "debug")
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("operator starts");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let status_of = |path: &'static str| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            http.get(format!("{base}{path}"))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }
    };
    t.eventually("ready", || async { status_of("/readyz").await == 200 })
        .await;
    assert_eq!(status_of("/healthz").await, 200);

    t.scim("contoso")
        .add_users(&["alice@contoso.com".into(), "bob@contoso.com".into()], json!({}))
        .await;
    t.apply(
        &manifests::two_tenants(&t)
            .and(manifests::policies())
            .and(manifests::sync_config(
                "contoso-to-fabrikam",
                "contoso",
                "fabrikam",
                json!({ "scope": { "mode": "AllUsers" } }),
            )),
    )
    .await;
    wait_condition(
        &t.api::<SyncConfiguration>(),
        "contoso-to-fabrikam",
        SyncedReason::TYPE,
        Duration::from_secs(30),
        |c| c.status == "True",
    )
    .await;
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    let _ = operator.kill();
    let _ = operator.wait();
    assert!(
        metrics.contains(r#"xtsync_cycles_total{type="Initial",result="succeeded"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"xtsync_reconciles_total{kind="SyncConfiguration",result="succeeded"}"#),
        "{metrics}"
    );
    assert!(metrics.contains("xtsync_quarantined_configurations 0"), "{metrics}");

    let logs = std::fs::read_to_string(&log).expect("logs");
    assert!(logs.lines().count() > 5, "{logs}");
    for line in logs.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
    assert!(!logs.contains(support::SCIM_TOKEN), "a secret reached the logs");

    // The provisioning log: one record per user created, as the target holds them.
    let records: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["target"] == "xtsync::provisioning")
        .map(|l| l["fields"].clone())
        .collect();
    let mut created: Vec<&str> = records.iter().filter_map(|r| r["userName"].as_str()).collect();
    created.sort_unstable();
    assert_eq!(created, ["alice@contoso.com", "bob@contoso.com"], "{records:#?}");
    let config = t.config("contoso-to-fabrikam").await;
    let cycle_id = config.status.and_then(|s| s.last_cycle).and_then(|c| c.id);
    for record in &records {
        assert_eq!(
            (record["action"].as_str(), record["result"].as_str()),
            (Some("Create"), Some("Success"))
        );
        assert_eq!(
            record["cycleId"].as_str(),
            cycle_id.as_deref(),
            "as in status.lastCycle.id"
        );
        assert_eq!(record["configuration"], format!("{}/contoso-to-fabrikam", t.name));
        assert_eq!(
            (record["sourceTenantId"].as_str(), record["targetTenantId"].as_str()),
            (Some(CONTOSO), Some(FABRIKAM))
        );
        assert_eq!(record["dryRun"], false);
        assert!(
            record["changedAttributes"]
                .as_str()
                .is_some_and(|a| a.contains("userName")),
            "{record}"
        );
    }
}

#[tokio::test]
async fn helm_chart_lints_renders_and_installs_into_the_real_apiserver() {
    let t = TestNs::new("helm").await;
    // The chart ships the same CRDs as crds/ (Helm installs them from the chart's crds/).
    for entry in std::fs::read_dir(support::root().join("crds")).expect("crds/") {
        let path = entry.expect("entry").path();
        let chart_copy = support::root()
            .join("charts/xtsync/crds")
            .join(path.file_name().expect("name"));
        assert_eq!(
            std::fs::read_to_string(&path).expect("crd"),
            std::fs::read_to_string(&chart_copy).unwrap_or_default(),
            "{} differs from the chart's copy: run `make crds`",
            path.display()
        );
    }
    let python = std::path::Path::new(support::scim_server_executable()).with_file_name("python");
    let (kubeconfig, ns) = (t.env.kubeconfig.clone(), t.name.clone());
    // It installs the chart and checks the CRD upgrade path: no other install meanwhile.
    let _crds = support::chart::CRDS.lock().await;
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(support::root().join("tests/chart/check_chart.py"))
            .arg(support::root().join("charts/xtsync"))
            .arg(kubeconfig)
            .arg(ns)
            .output()
            .expect("python runs")
    })
    .await
    .expect("thread");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && text.contains("0 failed"), "{text}");
    println!("{text}");
}

#[tokio::test]
async fn every_example_applies_and_its_configurations_become_ready() {
    let mut examples: Vec<_> = std::fs::read_dir(support::root().join("examples"))
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    examples.sort();
    assert!(examples.len() >= 5, "{examples:?}");
    for example in examples {
        let name = example
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let mut t = TestNs::new(&format!("example-{name}")).await;
        t.start_controllers(|_| {});
        let mut files: Vec<_> = std::fs::read_dir(&example)
            .expect("example folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        // The examples point at `make demo`'s SCIM server; here each gets private tenants.
        // Graph examples point at Entra; here at a fake Graph with their tenants and apps.
        let private = format!("{}/{}-", t.env.scim_base, t.name);
        let graph = graph_example_fake().await;
        let mut configs = Vec::new();
        let mut organizations = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("manifest");
            let mut objects = Vec::new();
            let documents: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).expect("YAML");
            for mut object in documents {
                for_the_tests(&mut object, &private, &graph.base);
                if object["kind"] == "SyncConfiguration" {
                    configs.push(object["metadata"]["name"].as_str().expect("a name").to_owned());
                }
                if object["kind"] == "Organization" {
                    organizations.push(object["metadata"]["name"].as_str().expect("a name").to_owned());
                }
                objects.push(object);
            }
            t.apply(&manifests::Manifests(objects)).await;
        }
        // An Organization's configurations are the ones it generates.
        for organization in &organizations {
            let org = wait_ready(
                &t.api::<Organization>(),
                organization,
                "True",
                OrganizationReadyReason::Established,
            )
            .await;
            assert!(org.message.contains("configurations generated"), "{}", org.message);
            let generated = t
                .api::<SyncConfiguration>()
                .list(&kube::api::ListParams::default().labels(&format!("xtsync.io/organization={organization}")))
                .await
                .expect("list");
            configs.extend(generated.items.iter().filter_map(|c| c.metadata.name.clone()));
        }
        assert!(!configs.is_empty(), "{name} has no SyncConfiguration");
        for config in configs {
            t.config_ready(&config, "True", ReadyReason::GateOpen).await;
        }
        if name.starts_with("graph") {
            let api = t.api::<CrossTenantAccessPolicy>();
            for policy in ["contoso", "fabrikam"] {
                support::wait_condition(&api, policy, AppliedReason::TYPE, Duration::from_secs(30), |c| {
                    c.status == "True"
                })
                .await;
            }
        }
    }
}

/// A fake Graph holding the tenants the examples name, each with the tests' app registration.
async fn graph_example_fake() -> fake_graph::FakeGraph {
    let fake = fake_graph::FakeGraph::start().await;
    for (id, name) in [(CONTOSO, "contoso"), (FABRIKAM, "fabrikam"), (NORTHWIND, "northwind")] {
        fake.add_tenant(id, name, manifests::GRAPH_APP, manifests::GRAPH_SECRET);
    }
    fake
}

/// An example's object, pointed at this test's directories: SCIM URLs at private tenants of
/// the test's scim2-server, Graph endpoints at the fake, the placeholder credentials replaced
/// by the tests' token and app registration.
fn for_the_tests(object: &mut serde_json::Value, private_scim: &str, graph: &str) {
    const DEMO_SCIM: &str = "http://127.0.0.1:18080/";
    if let Some(token) = object.pointer_mut("/stringData/token") {
        *token = json!(support::SCIM_TOKEN);
    }
    if let Some(secret) = object.pointer_mut("/stringData/client-secret") {
        *secret = json!(manifests::GRAPH_SECRET);
        // The cloud's own endpoints need no annotation; the fake's do.
        object["metadata"]["annotations"] = json!({ "xtsync.io/credentials-for": graph });
    }
    if let Some(allowed) = object.pointer_mut("/metadata/annotations/xtsync.io~1credentials-for") {
        let moved = allowed.as_str().map(|a| a.replace(DEMO_SCIM, private_scim));
        *allowed = json!(moved.expect("the annotation is a string"));
    }
    // `pointer_mut`, not indexing: indexing a missing field would add it.
    if let Some(url) = object.pointer_mut("/spec/directory/scim/url") {
        let rest = url.as_str().and_then(|u| u.strip_prefix(DEMO_SCIM));
        *url = json!(format!(
            "{private_scim}{}",
            rest.expect("examples use make demo's SCIM server")
        ));
    }
    if let Some(msgraph) = object.pointer_mut("/spec/directory/msgraph") {
        msgraph["clientId"] = json!(manifests::GRAPH_APP);
        msgraph["endpoints"] = json!({ "login": graph, "graph": graph });
    }
}

#[tokio::test]
async fn the_charts_rbac_is_enough_for_the_operator() {
    let t = TestNs::new("rbac").await;
    // The chart's ServiceAccount and RBAC (as rendered into deploy/), moved into this namespace.
    let plain = std::fs::read_to_string(support::root().join("deploy/xtsync.yaml")).expect("deploy/xtsync.yaml");
    let rbac: Vec<String> = plain
        .split("\n---\n")
        .filter(|d| {
            [
                "ServiceAccount",
                "ClusterRole",
                "ClusterRoleBinding",
                "Role",
                "RoleBinding",
            ]
            .iter()
            .any(|k| d.contains(&format!("\nkind: {k}\n")))
        })
        .map(|d| {
            d.replace("namespace: xtsync", &format!("namespace: {}", t.name))
                .replace("name: xtsync", "name: xtsync-rbac-test")
        })
        .collect();
    assert_eq!(rbac.len(), 5, "{rbac:?}");
    t.apply(&rbac.join("\n---\n")).await;
    // A kubeconfig that authenticates as that ServiceAccount only.
    let kubeconfig = support::accounts::kubeconfig_for(&t, &t.name, "xtsync-rbac-test").await;

    let operator = std::process::Command::new(env!("CARGO_BIN_EXE_xtsync"))
        .args([
            "run",
            "--namespace",
            &t.name,
            "--lease-namespace",
            &t.name,
            "--http-addr",
            "127.0.0.1:0",
        ])
        .env("KUBECONFIG", &kubeconfig)
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("operator starts");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _operator = Kill(operator);

    t.apply(&manifests::quickstart(&t)).await;
    // Reading Secrets, checking tenants, writing every status, an Event and the Lease: all allowed.
    wait_condition(
        &t.api::<SyncConfiguration>(),
        "contoso-to-fabrikam",
        SyncedReason::TYPE,
        Duration::from_secs(40),
        |c| c.status == "True",
    )
    .await;
    wait_ready(
        &t.api::<CrossTenantAccessPolicy>(),
        "fabrikam",
        "True",
        PolicyReadyReason::Effective,
    )
    .await;
    // An Organization: its finalizer, the configuration it generates, its status, its
    // deletion (contoso → fabrikam is the quickstart's, so only fabrikam → contoso is its).
    t.apply(&organization::hub_organization("ToHub", "contoso")).await;
    wait_ready(
        &t.api::<Organization>(),
        organization::ORG,
        "True",
        OrganizationReadyReason::Established,
    )
    .await;
    // The partnerTemplate gives contoso's inbound side to fabrikam, but fabrikam's own entry for
    // contoso stays as written (`applyTo: NewPartners`) and redeems nothing outbound: the
    // generated one is gated.
    t.config_ready(
        "group-fabrikam-to-contoso",
        "False",
        ReadyReason::AutomaticRedemptionNotConfigured,
    )
    .await;
    t.api::<Organization>()
        .delete(organization::ORG, &Default::default())
        .await
        .expect("delete");
    t.eventually("the Organization and its configuration are gone", || async {
        let org = t.api::<Organization>().get_opt(organization::ORG).await;
        let config = t.api::<SyncConfiguration>().get_opt("group-fabrikam-to-contoso").await;
        matches!((org, config), (Ok(None), Ok(None)))
    })
    .await;
}

#[tokio::test]
async fn a_secret_without_the_credentials_label_is_never_sent() {
    // README, "Credentials": whoever may create Tenants could send any Secret of the namespace anywhere.
    let mut t = TestNs::new("secret-label").await;
    t.start_controllers(|_| {});
    let mut unlabelled = manifests::scim_secret("contoso", &t.scim_url("contoso"));
    unlabelled["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("labels");
    t.apply(&unlabelled).await;
    t.apply(&manifests::scim_tenant(&t, "contoso", CONTOSO, "Global")).await;
    let c = wait_ready(
        &t.api::<Tenant>(),
        "contoso",
        "False",
        TenantReadyReason::SecretNotAllowed,
    )
    .await;
    assert!(c.message.contains("xtsync.io/credentials"), "{}", c.message);
    assert!(t.scim_reads("contoso").is_empty(), "nothing was sent to the directory");
    // Labelling it is the opt-in: the Tenant is checked again at once.
    t.apply(&manifests::scim_secret("contoso", &t.scim_url("contoso")))
        .await;
    wait_ready(&t.api::<Tenant>(), "contoso", "True", TenantReadyReason::Connected).await;
}

#[tokio::test]
async fn plain_http_is_refused_for_hosts_other_than_loopback() {
    let mut t = TestNs::new("plain-http").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::scim_secret("remote", "http://scim.example.com/v2"))
        .await;
    t.apply(&manifests::scim_tenant_at(
        "remote",
        CONTOSO,
        "Global",
        "http://scim.example.com/v2",
    ))
    .await;
    let c = wait_ready(&t.api::<Tenant>(), "remote", "False", TenantReadyReason::InvalidSpec).await;
    assert!(c.message.contains("https"), "{}", c.message);
}
