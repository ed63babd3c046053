//! The multitenant organization against hostile peers (README, "Safety"): a peer costs bounded
//! memory and time whatever it answers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::{ApplyError, EntraCloud, EntraMemberState, Participant, Role, answers};
use crate::providers::DirectoryError;
use crate::providers::hostile::{self, Answer, graph_client, token};

const OWNER: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const MEMBER: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

fn participant<'a>(client: &'a super::super::GraphClient, tenant_id: &str, cloud: EntraCloud) -> Participant<'a> {
    Participant {
        tenant_id: tenant_id.to_owned(),
        display_name: "Tenant".into(),
        role: Role::Member,
        cloud,
        client,
    }
}

#[tokio::test]
async fn a_member_list_without_end_fails_the_read_past_the_largest_organization() {
    // Pages of 999 tenants, each linking to a next one, without end.
    let own_base: Arc<Mutex<String>> = Arc::default();
    let link_base = own_base.clone();
    let page = AtomicUsize::new(0);
    let (base, log) = hostile::serve(move |_, path| {
        if path.contains("/oauth2/") {
            return token();
        }
        let n = page.fetch_add(1, Ordering::SeqCst);
        let members: Vec<_> = (0..999)
            .map(|i| json!({ "tenantId": format!("{n:08x}-0000-4000-8000-{i:012x}"), "state": "active" }))
            .collect();
        let base = link_base.lock().map(|b| b.clone()).unwrap_or_default();
        let next = format!(
            "{base}/v1.0/tenantRelationships/multiTenantOrganization/tenants?page={}",
            n + 1
        );
        Answer::json(200, json!({ "value": members, "@odata.nextLink": next }))
    })
    .await;
    *own_base.lock().expect("base") = base.clone();
    let client = graph_client(&base);
    let url = format!("{base}/v1.0/tenantRelationships/multiTenantOrganization/tenants");
    let read = answers::members(&client, &url).await;
    let error = read.expect_err("an endless list is not an organization");
    assert!(error.to_string().contains("more than 1000 tenants"), "{error}");
    let pages = log
        .lock()
        .map(|l| l.iter().filter(|r| r.contains("/tenants")).count())
        .unwrap_or(0);
    assert_eq!(
        pages,
        2,
        "stopped by the first page past {} tenants",
        answers::MAX_MEMBERS
    );
}

#[tokio::test]
async fn a_join_request_with_an_endless_body_or_a_novel_for_details_stays_bounded() {
    let (base, _) = hostile::serve(move |_, path| {
        if path.contains("/oauth2/") {
            return token();
        }
        if path.ends_with("/multiTenantOrganization") {
            return Answer::json(200, json!({ "displayName": "Contoso", "state": "active" }));
        }
        if path.contains("/tenants") {
            return Answer::json(200, json!({ "value": [{ "tenantId": OWNER, "role": "owner", "state": "active" }] }));
        }
        if path.contains("joinRequest") {
            let details = "x".repeat(4 * 1024 * 1024);
            return Answer::json(
                200,
                json!({ "addedByTenantId": OWNER, "memberState": "pending",
                        "transitionDetails": { "desiredMemberState": "active", "status": details, "details": details } }),
            );
        }
        Answer::endless("{\"value\": [", 64 * 1024 * 1024)
    })
    .await;
    let client = graph_client(&base);
    let (owner, member) = (
        participant(&client, OWNER, EntraCloud::Global),
        participant(&client, MEMBER, EntraCloud::Global),
    );
    let read = super::read(&owner, std::slice::from_ref(&member)).await.expect("read");
    let details = read[1]
        .transition
        .as_ref()
        .and_then(|t| t.details.clone())
        .expect("details");
    assert!(details.chars().count() <= 513, "{} characters kept", details.len());
    let status = read[1]
        .transition
        .as_ref()
        .and_then(|t| t.status.clone())
        .expect("status");
    assert!(status.chars().count() <= 65, "{} characters kept", status.len());
    assert_eq!(read[1].state, EntraMemberState::NotListed);

    let endless = answers::get::<answers::OrganizationAnswer>(
        &client,
        &format!("{base}/v1.0/tenantRelationships/multiTenantOrganization/endless"),
    )
    .await;
    assert!(
        matches!(endless, Err(DirectoryError::InvalidResponse(_))),
        "{endless:?}"
    );
}

#[tokio::test]
async fn outside_the_global_service_no_request_is_sent() {
    let (base, log) = hostile::serve(|_, _| Answer::json(500, json!({}))).await;
    let client = graph_client(&base);
    for cloud in [EntraCloud::USGovernment, EntraCloud::China21Vianet] {
        let owner = participant(&client, OWNER, cloud);
        let organization = super::Organization {
            display_name: "Contoso".into(),
            description: None,
        };
        let refused = super::apply(&organization, &owner, &[], &super::Templates::default()).await;
        assert!(
            matches!(refused, Err(ApplyError::UnsupportedCloud { cloud: c, .. }) if c == cloud),
            "{refused:?}"
        );
    }
    assert!(log.lock().map(|l| l.is_empty()).unwrap_or(false));
}
