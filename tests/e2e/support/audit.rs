//! The apiserver's own record of the status writes one SyncConfiguration got: its audit log
//! (`tests/env/control-plane.sh` writes it beside the kubeconfig), which logs every write of
//! `syncconfigurations/status` twice — when it arrives (before it is served, so a write whose
//! effect a client has seen is always there) and when it is answered (with its body).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Env;

/// One status write, as the apiserver received it.
#[derive(Clone, Debug)]
pub struct StatusWrite {
    /// The field manager it was applied under (`xtsync`, `xtsync-progress`).
    pub manager: String,
    /// The `.status` it applied.
    pub status: Value,
}

impl StatusWrite {
    /// The `status` of the condition `type_` this write applied, if it names one.
    pub fn condition(&self, type_: &str) -> Option<&str> {
        self.status["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == type_)?["status"]
            .as_str()
    }

    /// `manager: field, field…` for a failure message.
    pub fn summary(&self) -> String {
        let fields: Vec<&str> = self
            .status
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let ready = self.condition("Ready").unwrap_or("-");
        format!("{} (Ready {ready}): {}", self.manager, fields.join(", "))
    }
}

/// The status writes of `namespace/name` so far, in the order the apiserver received them.
/// Waits (up to 30 s) until every one that arrived has its answer, and so its body, logged.
pub async fn status_writes(env: &Env, namespace: &str, name: &str) -> Vec<StatusWrite> {
    let path = env.kubeconfig.with_file_name("audit.log");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if let Some(writes) = answered(&text, namespace, name) {
            return writes;
        }
        assert!(
            Instant::now() < deadline,
            "{namespace}/{name}: a status write received 30 s ago is still not answered in {}",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The writes of the object in `log`, when every one received is also answered.
fn answered(log: &str, namespace: &str, name: &str) -> Option<Vec<StatusWrite>> {
    let mut received = Vec::new();
    let mut bodies = HashMap::new();
    for event in log.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()) {
        let object = &event["objectRef"];
        if object["namespace"] != namespace || object["name"] != name || object["subresource"] != "status" {
            continue;
        }
        let id = event["auditID"].as_str().unwrap_or_default().to_owned();
        match event["stage"].as_str() {
            Some("RequestReceived") => received.push((id, manager(&event))),
            Some("ResponseComplete") => {
                bodies.insert(id, event["requestObject"]["status"].clone());
            }
            _ => {}
        }
    }
    received
        .into_iter()
        .map(|(id, manager)| {
            let status = bodies.remove(&id)?;
            Some(StatusWrite { manager, status })
        })
        .collect()
}

fn manager(event: &Value) -> String {
    let uri = event["requestURI"].as_str().unwrap_or_default();
    uri.split(['?', '&'])
        .find_map(|p| p.strip_prefix("fieldManager="))
        .unwrap_or_default()
        .to_owned()
}
