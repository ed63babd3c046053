//! `xtsync plan` against real SCIM tenants: it predicts exactly what the controller's next
//! Initial cycle then does, writes nothing, and says by its exit code whether changes are
//! pending (README, "Before and after: plan, dry run and the provisioning log").

use serde_json::{Value, json};
use xtsync::api::conditions::ConditionReason;
use xtsync::api::reasons::{OrganizationReadyReason, SyncedReason};

use crate::manifests::{self, CONTOSO, FABRIKAM, Manifests, NORTHWIND};
use crate::support::{Manifest, TestNs};
use crate::sync::{cycle_done, sales, sales_config};

/// Runs `xtsync plan -o json --detailed-exitcode` on `manifests`; its exit code and output.
pub(crate) async fn plan(t: &TestNs, manifests: &Manifests) -> (i32, Value) {
    let (code, stdout, stderr) = plan_as(t, manifests, "json").await;
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout} {stderr}"));
    (code, json)
}

/// Runs `xtsync plan -o <output> --detailed-exitcode` on `manifests`: exit code, stdout, stderr.
async fn plan_as(t: &TestNs, manifests: &Manifests, output: &str) -> (i32, String, String) {
    let file = std::env::temp_dir().join(format!("xtsync-plan-{}.yaml", t.name));
    std::fs::write(&file, manifests.yaml()).expect("write manifests");
    let output = output.to_owned();
    // On a blocking thread: the controllers may share this test's runtime.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_xtsync"))
            .args(["plan", "-f"])
            .arg(&file)
            .args(["-o", &output, "--detailed-exitcode"])
            .output()
    })
    .await
    .expect("thread")
    .expect("xtsync plan runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

pub(crate) fn actions(plan: &Value) -> Vec<(String, String)> {
    let mut actions: Vec<(String, String)> = plan["configurations"][0]["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["action"].as_str().unwrap_or_default().to_owned(),
                a["userName"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    actions.sort();
    actions
}

#[tokio::test]
async fn plan_predicts_the_next_initial_cycle_writes_nothing_and_says_whether_changes_are_pending() {
    let mut t = TestNs::new("plan").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    contoso
        .add_users(&["alice@contoso.com".into(), "bob@contoso.com".into()], sales())
        .await;
    contoso.add_user("carol@contoso.com", sales()).await;
    // An internal target user with carol's name: the cycle must skip her.
    fabrikam.add_user("carol@contoso.com", json!({})).await;
    // scim2-server logs a request once it has answered it: wait for the line.
    t.eventually("the seeding is logged", || async {
        t.scim_writes("fabrikam").len() == 1
    })
    .await;
    let writes_before = t.scim_writes("fabrikam");
    let manifests = manifests::two_tenants(&t)
        .and(manifests::policies())
        .and(sales_config("10m", manifests::nothing()));

    let (code, planned) = plan(&t, &manifests).await;
    assert_eq!(code, 2, "changes pending: {planned:#}");
    assert_eq!(planned["changesPending"], true);
    let configuration = &planned["configurations"][0];
    assert_eq!(configuration["ready"], true, "{configuration:#}");
    let summary = configuration["summary"].clone();
    assert_eq!(
        (summary["created"].as_u64(), summary["skipped"].as_u64()),
        (Some(2), Some(1)),
        "{summary:#}"
    );
    assert_eq!(
        actions(&planned),
        [
            ("Create".to_owned(), "alice@contoso.com".to_owned()),
            ("Create".to_owned(), "bob@contoso.com".to_owned()),
            ("Skip".to_owned(), "carol@contoso.com".to_owned()),
        ]
    );
    assert_eq!(
        t.scim_writes("fabrikam"),
        writes_before,
        "plan wrote nothing to the target"
    );
    assert!(!t.scim_reads("fabrikam").is_empty(), "it read the target");

    // The controller's next Initial cycle does exactly that.
    t.start_controllers(|_| {});
    t.apply(&manifests).await;
    let status = cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    let cycle = status.last_cycle.expect("cycle");
    let done = json!({
        "created": cycle.created, "updated": cycle.updated, "deprovisioned": cycle.deprovisioned,
        "adopted": cycle.adopted, "skipped": cycle.skipped, "unchanged": cycle.unchanged,
        "withheldDeprovisions": 0,
    });
    assert_eq!(done, summary);
    assert_eq!(status.failures.len(), 1);
    assert_eq!(status.failures[0].user, "carol@contoso.com");

    // Now nothing is pending: exit code 0.
    let (code, again) = plan(&t, &manifests).await;
    assert_eq!(code, 0, "{again:#}");
    assert_eq!(again["configurations"][0]["summary"]["unchanged"], 2);
}

/// An Organization of three SCIM tenants in a mesh, contoso its Owner, every member's policy
/// letting the others in and out.
fn organization_of_three(t: &TestNs) -> Manifests {
    let members = ["contoso", "fabrikam", "northwind"];
    let tenants = manifests::tenants_with(
        t,
        &[
            ("contoso", CONTOSO, "Global"),
            ("fabrikam", FABRIKAM, "Global"),
            ("northwind", NORTHWIND, "Global"),
        ],
    );
    let policies = Manifests::of(members.iter().map(|m| manifests::open_policy(m)));
    let organization = json!({
        "apiVersion": "xtsync.io/v1alpha1", "kind": "Organization",
        "metadata": { "name": "group" },
        "spec": {
            "tenants": [ { "tenantRef": { "name": "contoso" }, "role": "Owner" },
                         { "tenantRef": { "name": "fabrikam" } }, { "tenantRef": { "name": "northwind" } } ],
            "topology": { "mode": "Mesh" },
            "syncTemplate": { "scope": { "mode": "AllUsers" }, "interval": "10m" },
        },
    });
    tenants.and(policies).and(Manifests::of([organization]))
}

#[tokio::test]
async fn plan_of_an_organization_lists_the_configurations_it_would_generate_and_plans_each_writing_nothing() {
    let t = TestNs::new("plan-org").await;
    let members = ["contoso", "fabrikam", "northwind"];
    for m in members {
        t.scim(m).add_user(&format!("alice@{m}.com"), json!({})).await;
    }
    t.eventually("the seeding is logged", || async {
        members.iter().all(|m| t.scim_writes(m).len() == 1)
    })
    .await;
    let manifests = organization_of_three(&t);

    let (code, planned) = plan(&t, &manifests).await;
    assert_eq!(code, 2, "changes pending: {planned:#}");
    let organization = &planned["organizations"][0];
    assert_eq!(organization["name"], "default/group", "{organization:#}");
    assert_eq!(
        organization["reason"],
        OrganizationReadyReason::Established.as_str(),
        "{organization:#}"
    );
    let mut expected = Vec::new();
    for source in members {
        for target in members.iter().filter(|t| **t != source) {
            expected.push(format!("group-{source}-to-{target}"));
        }
    }
    let generated: Vec<&str> = organization["configurations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(generated, expected, "{organization:#}");
    assert_eq!(
        organization["configurations"][0]["labels"],
        json!({ "xtsync.io/organization": "group", "xtsync.io/source": "contoso", "xtsync.io/target": "fabrikam" })
    );
    let partners = organization["partners"].as_array().expect("partner settings");
    assert_eq!(partners.len(), 6, "{organization:#}");
    assert!(
        partners
            .iter()
            .all(|p| p["settings"]["inbound"]["allowUsersSync"] == true),
        "{organization:#}"
    );

    let configurations = planned["configurations"].as_array().expect("configurations");
    let names: Vec<String> = configurations
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    let qualified: Vec<String> = expected.iter().map(|n| format!("default/{n}")).collect();
    assert_eq!(names, qualified);
    for configuration in configurations {
        assert_eq!(configuration["organization"], "group", "{configuration:#}");
        assert_eq!(configuration["ready"], true, "{configuration:#}");
        assert_eq!(configuration["summary"]["created"], 1, "{configuration:#}");
        let source = configuration["name"]
            .as_str()
            .and_then(|n| n.strip_prefix("default/group-"))
            .and_then(|n| n.split("-to-").next())
            .unwrap_or_default();
        assert_eq!(
            configuration["actions"][0]["userName"],
            format!("alice@{source}.com"),
            "{configuration:#}"
        );
    }

    let (code, table, stderr) = plan_as(&t, &manifests, "table").await;
    assert_eq!(code, 2, "{table}{stderr}");
    assert!(table.starts_with("Organization default/group\n"), "{table}");
    assert_eq!(table.matches("(generated by Organization group)").count(), 6, "{table}");
    for m in members {
        assert_eq!(t.scim_writes(m).len(), 1, "plan wrote nothing to {m}");
    }
}
