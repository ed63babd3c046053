//! `kubectl xtsync approve`: the deprovisionings the accidental-deletion threshold holds
//! (docs/architecture.md, rule 8) are shown, confirmed and approved as exactly that set.

use std::time::{Duration, Instant};

use serde_json::json;
use xtsync::api::APPROVE_DELETIONS;
use xtsync::api::SyncConfiguration;
use xtsync::api::conditions::ConditionReason;
use xtsync::api::reasons::DeletionThresholdReason;
use xtsync::plugin::approve::{self, Asked, Console};
use xtsync::plugin::cluster::Cluster;

use super::{answering, synced, xtsync};
use crate::support::{TestNs, kubectl, wait_condition};
use crate::sync::{CONFIG, sales_config};

const USERS: [&str; 4] = ["a@contoso.com", "b@contoso.com", "c@contoso.com", "d@contoso.com"];

fn threshold() -> serde_json::Value {
    json!({ "deprovision": { "accidentalDeletionThreshold": 1 } })
}

/// Deletes `gone` from the source and runs a cycle (a spec change): more than the threshold of
/// one leave, and are held. Returns the pending token.
async fn held(t: &TestNs, gone: &[&str], interval: &str) -> String {
    let contoso = t.scim("contoso");
    for name in gone {
        let user = contoso.user_named(name).await.expect("a source user");
        contoso.delete(user["id"].as_str().expect("an id")).await;
    }
    t.apply(&sales_config(interval, threshold())).await;
    wait_condition(
        &t.api::<SyncConfiguration>(),
        CONFIG,
        DeletionThresholdReason::TYPE,
        Duration::from_secs(40),
        |c| c.status == "True",
    )
    .await;
    t.config(CONFIG)
        .await
        .status
        .and_then(|s| s.pending_deletions)
        .expect("pending")
        .token
}

async fn active(t: &TestNs, name: &str) -> bool {
    t.scim("fabrikam").user_named(name).await.expect("a target user")["active"] == true
}

fn approval_of(config: &SyncConfiguration) -> Option<String> {
    config
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(APPROVE_DELETIONS).cloned())
}

#[tokio::test]
async fn approve_shows_the_held_set_asks_and_approves_exactly_it() {
    let t = synced("plugin-approve", &USERS, threshold()).await;
    let token = held(&t, &USERS[..2], "2h").await;

    let declined = answering(&t, &["approve", CONFIG], "no\n").await;
    assert_eq!(declined.code, 1, "{declined}");
    for shown in [USERS[0], USERS[1], token.as_str()] {
        assert!(declined.stdout.contains(shown), "{shown}: {declined}");
    }
    assert!(declined.stdout.contains("Type 'yes' to approve"), "{declined}");
    assert!(declined.stderr.contains("not approved"), "{declined}");
    assert_eq!(approval_of(&t.config(CONFIG).await), None, "nothing written");

    let stale = xtsync(&t, &["approve", CONFIG, "--yes", "--token", "000000000000"]).await;
    assert_eq!(stale.code, 1, "{stale}");
    assert!(stale.stderr.contains(&token), "names the set pending now: {stale}");

    let approved = answering(&t, &["approve", CONFIG, "--wait", "--timeout", "40s"], "yes\n").await;
    assert_eq!(approved.code, 0, "{approved}");
    assert!(approved.stdout.contains("deprovisioned 2,"), "{approved}");
    assert_eq!(approval_of(&t.config(CONFIG).await).as_deref(), Some(token.as_str()));
    assert!(!active(&t, USERS[0]).await && !active(&t, USERS[1]).await);
    assert!(active(&t, USERS[2]).await, "only the approved set");

    let nothing = xtsync(&t, &["approve", CONFIG]).await;
    assert_eq!(nothing.code, 0, "{nothing}");
    assert!(nothing.stdout.contains("nothing to approve"), "{nothing}");
}

/// Changes the held set while the question is open: one more user leaves, and a restart runs
/// the cycle that holds the new set; then answers yes.
struct ChangingTheSet<'a> {
    t: &'a TestNs,
    old_token: String,
}

impl Console for ChangingTheSet<'_> {
    fn confirm(&mut self, _question: &str) -> bool {
        let (kubeconfig, ns) = (&self.t.env.kubeconfig, self.t.name.as_str());
        kubectl(
            kubeconfig,
            &[
                "-n",
                ns,
                "annotate",
                "--overwrite",
                "syncconfig",
                CONFIG,
                "xtsync.io/restart=changed",
            ],
        );
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let token = kubectl(
                kubeconfig,
                &[
                    "-n",
                    ns,
                    "get",
                    "syncconfig",
                    CONFIG,
                    "-o",
                    "jsonpath={.status.pendingDeletions.token}",
                ],
            );
            if !token.is_empty() && token != self.old_token {
                return true;
            }
            assert!(Instant::now() < deadline, "the held set did not change");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_never_approves_a_set_that_changed_between_show_and_confirm() {
    let t = synced("plugin-approve-changed", &USERS, threshold()).await;
    let token = held(&t, &USERS[..2], "2h").await;
    // A third user leaves; the set held stays the first two until a cycle runs.
    let contoso = t.scim("contoso");
    let c = contoso.user_named(USERS[2]).await.expect("c");
    contoso.delete(c["id"].as_str().expect("an id")).await;

    let cluster = Cluster {
        client: t.client.clone(),
        namespace: t.name.clone(),
    };
    let asked = Asked {
        yes: false,
        token: None,
        wait: None,
    };
    let mut console = ChangingTheSet {
        t: &t,
        old_token: token.clone(),
    };
    let refused = approve::command(&cluster, CONFIG, &asked, &mut console).await;
    let message = refused.expect_err("a changed set is not approved").to_string();
    assert!(message.contains("changed") && message.contains(&token), "{message}");
    let now = t.config(CONFIG).await;
    let pending = now
        .status
        .as_ref()
        .and_then(|s| s.pending_deletions.clone())
        .expect("pending");
    assert_eq!(pending.count, 3);
    assert!(message.contains(&pending.token), "{message}");
    assert_eq!(approval_of(&now), None, "nothing approved");
    for user in &USERS[..3] {
        assert!(active(&t, user).await, "{user} is not deprovisioned");
    }
}
