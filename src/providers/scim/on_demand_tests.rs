//! Provisioning on demand (rule 11) from a SCIM source on the wire: the one user asked for is
//! found by a `userName` filter or a direct read (RFC 7644 §3.4.2.2, §3.4.1), and the source is
//! never listed, however many users it holds.

use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::cycle::audit::Collected;
use crate::cycle::progress::Untracked;
use crate::cycle::{CycleInput, Deadline, OnDemandVerdict, provision_on_demand};
use crate::engine::mapping;
use crate::engine::rules::SyncRules;
use crate::engine::vocabulary::ScopeMode;
use crate::providers::hostile::{self, Answer};
use crate::providers::memory::MemoryDirectory;

const SOURCE_TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

fn alice() -> serde_json::Value {
    json!({ "id": "u1", "userName": "alice@contoso.com", "displayName": "Alice", "active": true })
}

/// A SCIM source holding alice (`u1`) among many: it answers her filter, her direct read,
/// and, were it asked, a listing of every user.
async fn source() -> (super::ScimClient, Arc<Mutex<Vec<String>>>) {
    let (base, log) = hostile::serve(|_, path| {
        if path.starts_with("/Users?") && path.contains("filter=") {
            let found = if path.to_ascii_lowercase().contains("alice") {
                vec![alice()]
            } else {
                Vec::new()
            };
            Answer::json(200, json!({ "totalResults": found.len(), "Resources": found }))
        } else if path.starts_with("/Users?") {
            Answer::json(
                200,
                json!({ "totalResults": 1, "itemsPerPage": 1, "Resources": [alice()] }),
            )
        } else if path == "/Users/u1" {
            Answer::json(200, alice())
        } else {
            Answer::json(404, json!({ "status": "404" }))
        }
    })
    .await;
    (hostile::plain_client(&base), log)
}

fn all_users() -> SyncRules {
    let mut rules = SyncRules {
        mappings: mapping::effective(&[]),
        ..SyncRules::default()
    };
    rules.scope.mode = ScopeMode::AllUsers;
    rules
}

#[tokio::test]
async fn on_demand_finds_one_user_by_user_name_or_id_without_listing_the_source() {
    let rules = all_users();
    let audit = Collected::default();
    let domains = vec!["contoso.com".to_owned()];
    let input = CycleInput {
        source_tenant_id: SOURCE_TENANT,
        source_domains: &domains,
        rules: &rules,
        approval: None,
        watermark: None,
        groups_watermark: None,
        group_members_digest: None,
        dry_run: false,
        audit: &audit,
        progress: &Untracked,
        deadline: Deadline::after(crate::cycle::deadline::SHORTEST),
        shared_source: None,
    };
    for who in ["ALICE@contoso.com", "u1"] {
        let (scim, log) = source().await;
        let target = MemoryDirectory::new();
        let outcome = provision_on_demand(&scim, &target, &input, who).await.expect("answers");
        assert_eq!(outcome.result, OnDemandVerdict::Created, "{who}: {outcome:?}");
        let requests = log.lock().map(|l| l.clone()).unwrap_or_default();
        let listings: Vec<&String> = requests
            .iter()
            .filter(|r| r.starts_with("GET /Users?") && !r.contains("filter="))
            .collect();
        assert!(listings.is_empty(), "{who}: the source was listed: {requests:?}");
    }
}
