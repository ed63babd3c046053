//! `kubectl xtsync explain`: why a user is in or out of scope, skipped, or what the next cycle
//! would do with it — the controller's own evaluation, run by the plugin in dry run on the
//! objects it reads from the cluster, writing nothing.

use serde_json::{Value, json};

use super::{Run, synced, xtsync};
use crate::sync::{CONFIG, sales};

const DEPARTMENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";

async fn explained(t: &crate::support::TestNs, user: &str) -> (Run, Value) {
    let run = xtsync(t, &["explain", CONFIG, "--user", user, "-o", "json"]).await;
    assert_eq!(run.code, 0, "{run}");
    let json = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run}"));
    (run, json)
}

#[tokio::test]
async fn explain_says_why_a_user_is_in_or_out_of_scope_and_what_the_next_cycle_does() {
    let users = ["alice@contoso.com", "bob@contoso.com", "dave@contoso.com"];
    let t = synced("plugin-explain", &users, json!({})).await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let id = |name: &'static str| {
        let contoso = &contoso;
        async move {
            contoso.user_named(name).await.expect("a source user")["id"]
                .as_str()
                .expect("id")
                .to_owned()
        }
    };
    contoso
        .replace(&id("bob@contoso.com").await, "title", json!("Lead"))
        .await;
    contoso
        .replace(&id("dave@contoso.com").await, DEPARTMENT, json!("Ops"))
        .await;
    contoso.add_user("carol@contoso.com", sales()).await;
    contoso.add_user("olga@contoso.com", json!({})).await;
    contoso.add_user("erin@contoso.com", sales()).await;
    // An internal target user with carol's name: the next cycle must skip her.
    let cycle_writes = t.scim_writes("fabrikam").len();
    fabrikam.add_user("carol@contoso.com", json!({})).await;
    // scim2-server logs a request once it has answered it: wait for the line.
    t.eventually("the seeding is logged", || async {
        t.scim_writes("fabrikam").len() == cycle_writes + 1
    })
    .await;
    let writes = t.scim_writes("fabrikam");

    let alice = xtsync(&t, &["explain", CONFIG, "--user", "alice@contoso.com"]).await;
    assert_eq!(alice.code, 0, "{alice}");
    assert!(
        alice
            .stdout
            .contains(r#"in scope: scope.mode is AllUsers; scoping filter group 1 matches: department EQUALS "Sales""#),
        "{alice}"
    );
    assert!(
        alice
            .stdout
            .contains("next cycle:   None: target user 'alice@contoso.com' is up to date"),
        "{alice}"
    );

    let (_, bob) = explained(&t, "bob@contoso.com").await;
    assert_eq!(bob["next"]["action"], "Update", "{bob:#}");
    assert_eq!(
        bob["next"]["changes"],
        json!([{ "attribute": "title", "old": null, "new": "Lead" }]),
        "{bob:#}"
    );

    let (_, carol) = explained(&t, "carol@contoso.com").await;
    assert_eq!(carol["next"]["action"], "Skip", "{carol:#}");
    assert_eq!(carol["next"]["reason"], "ConflictsWithInternalUser", "{carol:#}");

    let (_, olga) = explained(&t, "olga@contoso.com").await;
    assert_eq!(olga["scope"]["exclusion"], "FilteredOut", "{olga:#}");
    let why = olga["scope"]["why"].as_str().unwrap_or_default();
    assert!(
        why.contains(r#"group 1: department EQUALS "Sales" (department is null) does not hold"#),
        "{why}"
    );
    assert_eq!(olga["next"]["action"], "None", "{olga:#}");

    let (_, dave) = explained(&t, "dave@contoso.com").await;
    assert_eq!(dave["scope"]["inScope"], false, "{dave:#}");
    assert_eq!(dave["next"]["action"], "Deprovision", "{dave:#}");
    assert_eq!(dave["targetUser"]["userName"], "dave@contoso.com", "{dave:#}");

    // By id as well as by userName.
    let (_, erin) = explained(&t, &id("erin@contoso.com").await).await;
    assert_eq!(erin["next"]["action"], "Create", "{erin:#}");
    assert_eq!(erin["sourceUser"]["userName"], "erin@contoso.com", "{erin:#}");

    let nobody = xtsync(&t, &["explain", CONFIG, "--user", "nobody@contoso.com"]).await;
    assert_eq!(nobody.code, 1, "{nobody}");
    assert!(nobody.stderr.contains("no user 'nobody@contoso.com'"), "{nobody}");

    assert_eq!(t.scim_writes("fabrikam"), writes, "explain wrote nothing to the target");
}
