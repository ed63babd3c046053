//! The operator's release binary against hostile peers (`cargo bench --bench hostile_operator`):
//! the peers of `hostile_peers` (bodies without end, pages built to expand, pages with more
//! than asked for), a token endpoint that streams forever, a target whose listing never ends
//! and a `Retry-After: 0` storm on either side — each behind a Tenant of its own, all synced
//! at once by one operator against the real apiserver (the other side a real scim2-server).
//! Prints how long each configuration took to its verdict and what it was, then the
//! operator's peak RSS (`VmHWM`); fails if a verdict is missing or the peak passes 400 MB.
//!
//! A storm's cycle ends when its throttle budget is spent (5 minutes of waiting), so the
//! whole run takes about six.

#[path = "../tests/fault_rules.rs"]
mod fault_rules;
#[allow(dead_code)] // the tests' peers; not every part of them is used here
#[path = "../src/providers/hostile.rs"]
mod hostile;
#[path = "common/hostile_answers.rs"]
mod hostile_answers;
#[path = "../tests/e2e/manifests.rs"]
mod manifests;
#[path = "common/operator.rs"]
mod operator;
#[path = "common/proc_status.rs"]
mod proc_status;
#[path = "../tests/e2e/support/mod.rs"]
mod support;

/// What `hostile` names as its crate's.
mod providers {
    pub use xtsync::providers::*;
}

use std::time::{Duration, Instant};

use hostile::Answer;
use hostile_answers::Handler;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use manifests::{Manifests, open_policy, tenant_id};
use serde_json::json;
use xtsync::api::{SyncConfiguration, Tenant};

/// Peak RSS allowed, in MiB.
const LIMIT_MIB: u64 = 400;
/// Every verdict within this: a storm's cycle waits out 5 minutes of throttling.
const DEADLINE: Duration = Duration::from_secs(8 * 60);

/// Which side of its configuration a hostile peer is, and whose condition tells the verdict.
#[derive(Clone, Copy)]
enum Side {
    /// The source: the configuration's `Synced`.
    Source,
    /// The target: the configuration's `Synced`.
    Target,
    /// A source whose Tenant never becomes Ready: the Tenant's `Ready`.
    SourceTenant,
}

/// A SCIM peer: discovery answered as a plain server's (RFC 7644 §4, no features), everything
/// else as `hostile` says.
fn scim(hostile: Handler) -> Handler {
    Box::new(move |method, path| {
        if path.ends_with("/ServiceProviderConfig") {
            Answer::json(200, json!({}))
        } else if path.ends_with("/Users?count=1") {
            Answer::json(200, json!({ "totalResults": 0, "Resources": [] }))
        } else {
            hostile(method, path)
        }
    })
}

/// A Graph peer of tenant `id`: `GET /organization` and `GET /domains` answered as Microsoft
/// Learn shows them, everything else as `hostile` says.
fn graph(id: String, hostile: Handler) -> Handler {
    Box::new(move |method, path| {
        if path.starts_with("/v1.0/organization") {
            Answer::json(200, json!({ "value": [{ "id": id, "verifiedDomains": [] }] }))
        } else if path.starts_with("/v1.0/domains") {
            Answer::json(200, json!({ "value": [] }))
        } else {
            hostile(method, path)
        }
    })
}

/// Throttled, forever, asking to be called again at once.
fn storm() -> Handler {
    Box::new(|_, _| Answer::json(429, json!({})).with_header("Retry-After", "0"))
}

/// A listing that announces 2 GB and sends them.
fn endless_listing() -> Handler {
    Box::new(|_, _| Answer::endless(r#"{"totalResults":1,"Resources":"#, 2 << 30))
}

#[tokio::main]
async fn main() {
    let env = support::env();
    let t = support::TestNs::new("hostile-operator").await;
    let source = t.scim("source");
    let names: Vec<String> = (0..20).map(|i| format!("user{i}@source.com")).collect();
    source.add_users(&names, json!({})).await;

    let mut hostile: Vec<(&str, Side, Handler)> = Vec::new();
    for (name, handler) in hostile_answers::peers() {
        match name {
            "scim-announced" | "scim-streamed" | "scim-junk" | "scim-emails" | "scim-overfull" => {
                hostile.push((name, Side::Source, scim(handler)))
            }
            "scim-probe" | "graph-token" => hostile.push((name, Side::SourceTenant, handler)),
            "graph-users" => hostile.push((name, Side::Source, handler)),
            _ => {} // read by a direct or a group read, which a first cycle of AllUsers does not make
        }
    }
    hostile.push(("scim-storm-source", Side::Source, scim(storm())));
    hostile.push(("scim-storm-target", Side::Target, scim(storm())));
    hostile.push(("scim-target-2gb", Side::Target, scim(endless_listing())));

    let mut manifests = Manifests::of([
        manifests::scim_secret("source", &t.scim_url("source")),
        manifests::scim_tenant_at("source", &tenant_id(0), "", &t.scim_url("source")),
        open_policy("source"),
        manifests::scim_secret("target", &t.scim_url("target")),
        manifests::scim_tenant_at("target", &tenant_id(1), "", &t.scim_url("target")),
        open_policy("target"),
    ]);
    let mut scenarios = Vec::new();
    for (i, (name, side, handler)) in hostile.into_iter().enumerate() {
        let id = tenant_id(i + 2);
        let handler = if name.starts_with("graph") {
            graph(id.clone(), handler)
        } else {
            handler
        };
        let (base, _) = hostile::serve(move |method, path| handler(method, path)).await;
        let peer = if name.starts_with("graph") {
            manifests::graph_tenant(name, &id, "Global", Some(&base))
        } else {
            Manifests::of([
                manifests::scim_secret(name, &base),
                manifests::scim_tenant_at(name, &id, "", &base),
            ])
        };
        let (from, to) = match side {
            Side::Target => ("source", name),
            Side::Source | Side::SourceTenant => (name, "target"),
        };
        manifests = manifests
            .and(peer)
            .and(Manifests::of([open_policy(name)]))
            .and(manifests::sync_config(name, from, to, json!({})));
        scenarios.push((name, side));
    }

    let operator = operator::Operator::start(&env.kubeconfig, "hostile", &["--leader-election", "false"]);
    let started = Instant::now();
    t.apply(&manifests).await;
    let (configs, tenants) = (t.api::<SyncConfiguration>(), t.api::<Tenant>());
    let mut verdicts: Vec<Option<(Duration, Condition)>> = vec![None; scenarios.len()];
    while verdicts.iter().any(Option::is_none) && started.elapsed() < DEADLINE {
        for ((name, side), verdict) in scenarios.iter().zip(verdicts.iter_mut()) {
            if verdict.is_some() {
                continue;
            }
            let condition = match side {
                Side::SourceTenant => tenants.get_opt(name).await.ok().flatten().and_then(|o| {
                    let ready = o.status?.conditions.into_iter().find(|c| c.type_ == "Ready")?;
                    (ready.status == "False").then_some(ready)
                }),
                Side::Source | Side::Target => configs.get_opt(name).await.ok().flatten().and_then(|o| {
                    let synced = o.status?.conditions.into_iter().find(|c| c.type_ == "Synced")?;
                    (synced.status != "Unknown").then_some(synced)
                }),
            };
            *verdict = condition.map(|c| (started.elapsed(), c));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let peak = proc_status::status_kib(operator.pid(), "VmHWM:") / 1024;
    drop(operator);

    println!("{:<20} {:>8}  verdict", "hostile peer", "after");
    for ((name, _), verdict) in scenarios.iter().zip(&verdicts) {
        match verdict {
            Some((after, c)) => {
                let message: String = c.message.chars().take(100).collect();
                println!(
                    "{name:<20} {:>7.1}s  {}={} {}: {message}",
                    after.as_secs_f64(),
                    c.type_,
                    c.status,
                    c.reason
                );
            }
            None => println!("{name:<20}     none  within {DEADLINE:?}"),
        }
    }
    println!("operator peak RSS {peak} MiB (limit {LIMIT_MIB} MiB)");
    assert!(verdicts.iter().all(Option::is_some), "a configuration got no verdict");
    assert!(peak < LIMIT_MIB, "peak RSS {peak} MiB");
}
