//! `kubectl xtsync restart` and `kubectl xtsync provision`: requests the controller answers
//! (docs/architecture.md, rules 10 and 11), made and waited for by the plugin.

use serde_json::{Value, json};
use xtsync::api::sync_config::CycleType;

use super::{synced, xtsync};
use crate::sync::{CONFIG, sales};

#[tokio::test]
async fn restart_runs_an_initial_cycle_now_and_waits_for_it() {
    let t = synced("plugin-restart", &["alice@contoso.com"], json!({})).await;
    let before = t
        .config(CONFIG)
        .await
        .status
        .and_then(|s| s.last_cycle)
        .expect("a cycle");
    // The interval is an hour: only the restart can provision bob now.
    t.scim("contoso").add_user("bob@contoso.com", sales()).await;
    let restarted = xtsync(&t, &["restart", CONFIG, "--wait", "--timeout", "40s"]).await;
    assert_eq!(restarted.code, 0, "{restarted}");
    assert!(restarted.stdout.contains("xtsync.io/restart="), "{restarted}");
    assert!(restarted.stdout.contains("Initial cycle"), "{restarted}");
    assert!(restarted.stdout.contains("created 1,"), "{restarted}");
    let status = t.config(CONFIG).await.status.expect("status");
    let cycle = status.last_cycle.expect("a cycle");
    assert_ne!(cycle.id, before.id, "a new cycle");
    assert_eq!(cycle.cycle_type, CycleType::Initial);
    let value = t.config(CONFIG).await.metadata.annotations.unwrap_or_default()[xtsync::api::RESTART].clone();
    assert_eq!(status.observed_restart.as_deref(), Some(value.as_str()));
    assert!(t.scim("fabrikam").user_named("bob@contoso.com").await.is_some());
}

#[tokio::test]
async fn provision_answers_each_request_even_for_the_same_user_twice() {
    let t = synced("plugin-provision", &[], json!({})).await;
    let contoso = t.scim("contoso");
    let alice = contoso.add_user("alice@contoso.com", sales()).await;
    contoso.add_user("olga@contoso.com", json!({})).await;

    let created = xtsync(&t, &["provision", CONFIG, "--user", "alice@contoso.com"]).await;
    assert_eq!(created.code, 0, "{created}");
    assert!(created.stdout.contains("alice@contoso.com: Created"), "{created}");
    let fabrikam = t.scim("fabrikam");
    assert_eq!(fabrikam.users().await.len(), 1, "alice only");

    // The same user again, after a change: a new request (a new nonce), a new answer.
    contoso.replace(&alice, "title", json!("Lead")).await;
    let updated = xtsync(&t, &["provision", CONFIG, "--user", "alice@contoso.com", "-o", "json"]).await;
    assert_eq!(updated.code, 0, "{updated}");
    let answer: Value = serde_json::from_str(&updated.stdout).unwrap_or_else(|e| panic!("{e}: {updated}"));
    assert_eq!(answer["result"], "Updated", "{updated}");
    let request = answer["request"].as_str().unwrap_or_default();
    assert!(
        request.starts_with("alice@contoso.com#"),
        "the request carries a nonce: {request}"
    );
    let target = fabrikam.user_named("alice@contoso.com").await.expect("alice");
    assert_eq!(target["title"], "Lead");

    // Answered, but not provisioned: exit code 2, and why.
    let out = xtsync(&t, &["provision", CONFIG, "--user", "olga@contoso.com"]).await;
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stdout.contains("OutOfScope"), "{out}");
    let nobody = xtsync(&t, &["provision", CONFIG, "--user", "nobody@contoso.com"]).await;
    assert_eq!(nobody.code, 2, "{nobody}");
    assert!(nobody.stdout.contains("NotFound"), "{nobody}");
    assert_eq!(fabrikam.users().await.len(), 1);

    // No gate, no request: a suspended configuration is refused at once, and not annotated.
    t.apply(&crate::sync::sales_config("1h", json!({ "suspend": true })))
        .await;
    t.eventually("suspended", || async { t.config(CONFIG).await.spec.suspend })
        .await;
    let refused = xtsync(&t, &["provision", CONFIG, "--user", "alice@contoso.com"]).await;
    assert_eq!(refused.code, 1, "{refused}");
    assert!(refused.stderr.contains("suspend"), "{refused}");
}
