//! `xtsync plan` judges the Secrets among the manifests as the controller does.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::api::conditions::ConditionReason;
use crate::api::reasons::{ReadyReason, TenantReadyReason};
use crate::providers::Clients;

use super::output::{PreviewFormat, Printer};
use super::plan;
use crate::controller::world::manifests::Manifests;

/// Two SCIM Tenants at `base`, their Secrets labelled but allowed elsewhere, and a
/// configuration between them.
fn manifests_at(base: &str) -> String {
    let tenant = |name: &str, id: &str| {
        format!(
            "apiVersion: v1
kind: Secret
metadata:
  name: {name}-scim
  labels: {{ xtsync.io/credentials: \"true\" }}
  annotations: {{ xtsync.io/credentials-for: \"{base}/{name}/v20\" }}
stringData: {{ token: t }}
---
apiVersion: xtsync.io/v1alpha1
kind: Tenant
metadata: {{ name: {name} }}
spec:
  tenantId: {id}
  directory:
    scim:
      url: {base}/{name}/v2
      auth: {{ bearerTokenSecretRef: {{ name: {name}-scim, key: token }} }}
---
"
        )
    };
    tenant("contoso", "72f988bf-86f1-41af-91ab-2d7cd011db47")
        + &tenant("fabrikam", "9188040d-6c67-4c5b-b112-36a304b66dad")
        + "apiVersion: xtsync.io/v1alpha1
kind: SyncConfiguration
metadata: { name: contoso-to-fabrikam }
spec:
  sourceRef: { name: contoso }
  targetRef: { name: fabrikam }
"
}

#[tokio::test]
async fn plan_never_sends_a_secret_where_its_annotation_does_not_allow() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    let accepting = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("manifests.yaml");
    std::fs::write(&file, manifests_at(&base)).expect("manifests written");
    let manifests = Manifests::load(&[file]).expect("manifests load");

    let printer = Printer::new(PreviewFormat::Json, Vec::new());
    let plans = plan(&manifests, &Clients::new().expect("clients"), &printer).await;
    accepting.abort();

    let (reason, message) = plans[0].closed.clone().expect("no cycle would run");
    assert_eq!(reason, ReadyReason::TenantNotReady.as_str(), "{message}");
    assert!(
        message.contains(TenantReadyReason::SecretNotAllowed.as_str()),
        "{message}"
    );
    assert!(message.contains("kubectl annotate secret"), "{message}");
    assert_eq!(connections.load(Ordering::SeqCst), 0, "nothing was sent");
}
