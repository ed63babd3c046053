//! An Organization in a world of objects (`xtsync plan`): the configurations it generates are
//! held as if the controller had created them — name, labels, owner reference, spec — and the
//! shared evaluation runs on them unchanged: the gate, the pair claims, the dry run; each is
//! written out before the next is planned.

use std::io::Write;
use std::sync::Mutex;

use super::*;
use crate::api::Organization;
use crate::api::conditions::ConditionReason;
use crate::api::organization::ORGANIZATION_LABEL;
use crate::api::reasons::{OrganizationReadyReason, ReadyReason};
use crate::controller::preview::output::{PreviewFormat, Printer};
use crate::controller::preview::plan_all;
use crate::controller::world::generated::generate;

fn organization(spec: Value) -> Organization {
    object(json!({
        "apiVersion": "xtsync.io/v1alpha1", "kind": "Organization",
        "metadata": { "name": "group", "namespace": "default", "uid": "group-uid" },
        "spec": spec,
    }))
}

/// Contoso (Owner) and Fabrikam in a mesh, every user of each source in scope.
fn mesh() -> Organization {
    organization(json!({
        "tenants": [ { "tenantRef": { "name": "contoso" }, "role": "Owner" }, { "tenantRef": { "name": "fabrikam" } } ],
        "syncTemplate": { "scope": { "mode": "AllUsers" }, "interval": "5m" },
    }))
}

fn names(configs: &[SyncConfiguration]) -> Vec<String> {
    configs
        .iter()
        .map(|c| c.metadata.name.clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn an_organizations_configurations_are_planned_as_if_the_controller_had_created_them() {
    let setting = Setting::new(json!({}));
    setting.source.put(person("u1", "alice"));
    setting.source.put(person("u2", "bob"));
    let (configs, generations) = generate(&[mesh()], &store(&setting.tenants), Vec::new(), 10);

    assert_eq!(
        names(&configs),
        ["group-contoso-to-fabrikam", "group-fabrikam-to-contoso"]
    );
    let first = &configs[0];
    let labels = first.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get(ORGANIZATION_LABEL).map(String::as_str), Some("group"));
    assert_eq!(labels.get("xtsync.io/source").map(String::as_str), Some("contoso"));
    let owner = &first.metadata.owner_references.as_ref().expect("an owner")[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str(), owner.controller),
        ("Organization", "group-uid", Some(true))
    );
    assert_eq!(first.spec.source_ref.name, "contoso");
    assert_eq!(
        generations[0].ready.reason,
        OrganizationReadyReason::Established.as_str()
    );

    let world = setting.world_of(&configs);
    let printer = Printer::new(PreviewFormat::Json, Vec::new());
    let plans = plan_all(&world, &configs, &printer).await;
    let report = plans[0].report.as_ref().expect("contoso → fabrikam is open");
    assert_eq!(report.created, 2, "{report:?}");
    assert_eq!(plans[0].organization.as_deref(), Some("group"));
    // Only Fabrikam's policy lets Contoso's users in: the gate of the reverse pair is closed.
    let (reason, _) = plans[1].closed.clone().expect("fabrikam → contoso is closed");
    assert_eq!(reason, ReadyReason::InboundSyncNotAllowed.as_str());
    assert!(setting.target.take_writes().is_empty(), "a plan writes nothing");
}

#[test]
fn a_pair_a_hand_written_configuration_already_has_is_left_to_it() {
    let setting = Setting::new(json!({}));
    let hand_written = vec![setting.config.clone()];
    let (configs, generations) = generate(&[mesh()], &store(&setting.tenants), hand_written, 10);

    assert_eq!(names(&configs), ["contoso-to-fabrikam", "group-fabrikam-to-contoso"]);
    let generation = &generations[0];
    assert_eq!(generation.conflicts.len(), 1);
    assert_eq!(generation.conflicts[0].1, "contoso-to-fabrikam");
    assert_eq!(generation.ready.reason, OrganizationReadyReason::Conflict.as_str());
}

#[test]
fn an_organization_without_an_owner_generates_nothing() {
    let setting = Setting::new(json!({}));
    let spec =
        json!({ "tenants": [ { "tenantRef": { "name": "contoso" } }, { "tenantRef": { "name": "fabrikam" } } ] });
    let (configs, generations) = generate(&[organization(spec)], &store(&setting.tenants), Vec::new(), 10);
    assert!(configs.is_empty());
    assert_eq!(generations[0].ready.reason, OrganizationReadyReason::NoOwner.as_str());
}

/// Bytes written so far, readable while the printer writes.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        self.0
            .lock()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

/// A world that notes what had been written when the last configuration's source was opened.
struct Watching<'a> {
    world: &'a MemoryWorld,
    output: Shared,
    when_last_opened: Mutex<Option<String>>,
}

impl World for Watching<'_> {
    type ApiError = Infallible;

    fn caches(&self) -> Caches<'_> {
        self.world.caches()
    }

    async fn open_source(&self, ns: &str, name: &str) -> Vetted<Arc<dyn SourceDirectory>, Unopenable, Infallible> {
        if name == "fabrikam"
            && let Ok(mut seen) = self.when_last_opened.lock()
        {
            *seen = Some(self.output.text());
        }
        self.world.open_source(ns, name).await
    }

    async fn open_target(&self, ns: &str, name: &str) -> Vetted<Arc<dyn TargetDirectory>, Unopenable, Infallible> {
        self.world.open_target(ns, name).await
    }
}

#[tokio::test]
async fn each_configuration_is_written_before_the_next_is_planned() {
    let mut setting = Setting::new(json!({}));
    // Both ways allowed: both generated configurations run a dry run.
    setting.policies = ["contoso", "fabrikam"]
        .iter()
        .map(|tenant| {
            let partner = if *tenant == "contoso" { FABRIKAM } else { CONTOSO };
            object(json!({
                "apiVersion": "xtsync.io/v1alpha1", "kind": "CrossTenantAccessPolicy",
                "metadata": { "name": tenant, "namespace": "default" },
                "spec": { "tenantRef": { "name": tenant }, "partners": [{ "tenantId": partner,
                    "inbound": { "allowUsersSync": true, "automaticallyRedeemInvitations": true },
                    "outbound": { "automaticallyRedeemInvitations": true } }] },
            }))
        })
        .collect();
    setting.source.put(person("u1", "alice"));
    let (configs, _) = generate(&[mesh()], &store(&setting.tenants), Vec::new(), 10);
    let memory = setting.world_of(&configs);
    let output = Shared::default();
    let world = Watching {
        world: &memory,
        output: output.clone(),
        when_last_opened: Mutex::new(None),
    };

    let printer = Printer::new(PreviewFormat::Json, output.clone());
    let plans = plan_all(&world, &configs, &printer).await;
    printer.finish(false).expect("written");

    assert!(plans.iter().all(|p| p.report.is_some()), "both ran");
    let before = world
        .when_last_opened
        .lock()
        .ok()
        .and_then(|s| s.clone())
        .expect("the last one opened");
    assert!(before.contains("\"userName\": \"alice@contoso.com\""), "{before}");
    assert!(
        before.contains("\"name\": \"default/group-contoso-to-fabrikam\""),
        "{before}"
    );
    assert!(!before.contains("group-fabrikam-to-contoso"), "{before}");
    assert!(output.text().contains("group-fabrikam-to-contoso"));
}
