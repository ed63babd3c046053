//! A tenant's join request (Microsoft Learn, "Update multiTenantOrganizationJoinRequestRecord")
//! and the join it leads to: the member turns `active` and both sides' templates are applied
//! to the new pairs' cross-tenant access settings.

use super::*;

impl Organizations {
    /// `addedByTenantId` is required; all zeros resets the request. A request naming an owner
    /// that does not list this tenant, or made while the tenant is active elsewhere, fails —
    /// asynchronously, as Entra's do: 204 now, `failed` in the record.
    pub(super) fn request_join(
        &mut self,
        tenant: &str,
        body: &Value,
        tenants: &mut BTreeMap<String, TenantState>,
    ) -> Reply {
        if let Some(refusal) = unknown_property(body, &["addedByTenantId"]) {
            return refusal;
        }
        let Some(owner) = body["addedByTenantId"]
            .as_str()
            .filter(|t| is_guid(t))
            .map(str::to_ascii_lowercase)
        else {
            return bad_request("addedByTenantId is required.");
        };
        let id = match self.join_requests.get(tenant).and_then(|r| r["id"].as_str()) {
            Some(id) => id.to_owned(),
            None => self.next_id(),
        };
        if owner == NO_TENANT {
            self.join_requests.insert(tenant.to_owned(), unjoined(id));
            return Reply::no_content();
        }
        let listing = self.organization_of(&owner).filter(|key| {
            let organization = &self.organizations[key];
            organization.is_active(&owner, Some("owner")) && organization.members.contains_key(tenant)
        });
        let current = self.organization_of(tenant);
        let failure = match (&listing, &current) {
            (_, Some(current)) if listing.as_ref() != Some(current) => {
                Some("The joining tenant is already part of a different multitenant organization.")
            }
            (None, _) => Some("The joining tenant has not been added to the multitenant organization by its owner."),
            _ => None,
        };
        let (status, details) = match failure {
            Some(details) => ("failed", details),
            None => ("notStarted", ""),
        };
        self.join_requests.insert(
            tenant.to_owned(),
            json!({
                "id": id, "addedByTenantId": owner, "memberState": "pending", "role": null,
                "transitionDetails": { "desiredMemberState": "active", "status": status, "details": details }
            }),
        );
        match listing {
            Some(key) if failure.is_none() && (current.is_some() || !self.hold_joins) => {
                self.complete(tenant, &key, tenants)
            }
            _ => {}
        }
        Reply::no_content()
    }

    /// Completes every join request waiting (`notStarted`).
    pub fn complete_joins(&mut self, tenants: &mut BTreeMap<String, TenantState>) {
        let waiting: Vec<(String, String)> = self
            .join_requests
            .iter()
            .filter(|(_, r)| r["transitionDetails"]["status"] == "notStarted")
            .filter_map(|(t, r)| Some((t.clone(), r["addedByTenantId"].as_str()?.to_owned())))
            .collect();
        for (tenant, owner) in waiting {
            if let Some(key) = self.organization_of(&owner) {
                self.complete(&tenant, &key, tenants);
            }
        }
    }

    /// The join of `tenant` to the organization `key`: active on both sides ("Get
    /// multiTenantOrganizationJoinRequestRecord": `memberState` active, the role, no
    /// `transitionDetails`), and the templates applied to every new pair.
    fn complete(&mut self, tenant: &str, key: &str, tenants: &mut BTreeMap<String, TenantState>) {
        let Some(organization) = self.organizations.get_mut(key) else {
            return;
        };
        let Some(member) = organization.members.get_mut(tenant) else {
            return;
        };
        let newly = member["state"] != "active";
        member["state"] = json!("active");
        if newly {
            member["joinedDateTime"] = json!(NOW);
        }
        let role = member["role"].clone();
        let others: Vec<String> = organization
            .members
            .keys()
            .filter(|t| *t != tenant && organization.is_active(t, None))
            .cloned()
            .collect();
        if let Some(record) = self.join_requests.get_mut(tenant) {
            record["memberState"] = json!("active");
            record["role"] = role;
            record["transitionDetails"] = Value::Null;
        }
        if !newly {
            return;
        }
        for other in others {
            // "If your tenant is joining a multitenant organization, the template is applicable
            // to the partner configuration settings for all multitenant organization tenants";
            // in the others, to the newly joined tenant only.
            if let Some(joiner) = tenants.get_mut(tenant) {
                let templates = self.templates.entry(tenant.to_owned()).or_default();
                templates.apply_at_join(&mut joiner.policies, &other);
            }
            if let Some(partner) = tenants.get_mut(&other) {
                let templates = self.templates.entry(other.clone()).or_default();
                templates.apply_at_join(&mut partner.policies, tenant);
            }
        }
    }
}
