//! The two templates as an Organization's `applyTo` maps them: `NewPartners` leaves a partner
//! configuration a person already wrote as it was, `ExistingPartners` overrides it — applied
//! by the fake at the join, as Entra applies them.

use reqwest::Method;
use serde_json::{Value, json};
use xtsync::providers::msgraph::multitenant_org::{EntraApplyTo, Role};

use super::{Org, mapped_templates};
use crate::manifests::{CONTOSO, FABRIKAM, NORTHWIND};

/// A partner configuration a person wrote in fabrikam for contoso before the organization.
async fn persons_partner_settings(org: &Org) {
    let client = org.client(FABRIKAM);
    let partners = client.endpoints.v1("/policies/crossTenantAccessPolicy/partners");
    let sync = client.endpoints.v1(&format!(
        "/policies/crossTenantAccessPolicy/partners/{CONTOSO}/identitySynchronization"
    ));
    let body = json!({ "tenantId": CONTOSO, "automaticUserConsentSettings": { "inboundAllowed": false, "outboundAllowed": false } });
    client
        .send(Method::POST, &partners, Some(&body), false)
        .await
        .expect("partner");
    let body = json!({ "userSyncInbound": { "isSyncAllowed": false } });
    client
        .send(Method::PUT, &sync, Some(&body), false)
        .await
        .expect("identity sync");
}

fn consent_and_sync(org: &Org, tenant: &str, partner: &str) -> (Value, Value) {
    let (configuration, sync) = org.fake.partner(tenant, partner);
    let configuration = configuration.expect("a partner configuration");
    let sync = sync.expect("identity synchronization settings");
    (
        configuration["automaticUserConsentSettings"].clone(),
        sync["userSyncInbound"]["isSyncAllowed"].clone(),
    )
}

#[tokio::test]
async fn new_partners_leaves_a_partner_already_configured_as_it_was() {
    let org = Org::start().await;
    persons_partner_settings(&org).await;
    org.apply(
        &[(FABRIKAM, Role::Member), (NORTHWIND, Role::Member)],
        &mapped_templates(EntraApplyTo::NewPartners),
    )
    .await;

    let (partner, identity_sync) = org.fake.templates(FABRIKAM);
    assert_eq!(partner["templateApplicationLevel"], "newPartners");
    assert_eq!(
        partner["automaticUserConsentSettings"],
        json!({ "inboundAllowed": true, "outboundAllowed": true })
    );
    assert_eq!(identity_sync["templateApplicationLevel"], "newPartners");
    assert_eq!(identity_sync["userSyncInbound"]["isSyncAllowed"], true);
    // The person's settings for contoso stay; the new partner northwind gets the template.
    assert_eq!(
        consent_and_sync(&org, FABRIKAM, CONTOSO),
        (
            json!({ "inboundAllowed": false, "outboundAllowed": false }),
            json!(false)
        )
    );
    assert_eq!(
        consent_and_sync(&org, FABRIKAM, NORTHWIND),
        (json!({ "inboundAllowed": true, "outboundAllowed": true }), json!(true))
    );
    assert_eq!(
        consent_and_sync(&org, CONTOSO, FABRIKAM),
        (json!({ "inboundAllowed": true, "outboundAllowed": true }), json!(true))
    );
}

#[tokio::test]
async fn existing_partners_overrides_a_partner_already_configured() {
    let org = Org::start().await;
    persons_partner_settings(&org).await;
    org.apply(
        &[(FABRIKAM, Role::Member)],
        &mapped_templates(EntraApplyTo::ExistingPartners),
    )
    .await;

    let (partner, identity_sync) = org.fake.templates(FABRIKAM);
    assert_eq!(partner["templateApplicationLevel"], "newPartners,existingPartners");
    assert_eq!(
        identity_sync["templateApplicationLevel"],
        "newPartners,existingPartners"
    );
    assert_eq!(
        consent_and_sync(&org, FABRIKAM, CONTOSO),
        (json!({ "inboundAllowed": true, "outboundAllowed": true }), json!(true))
    );
}
