//! What `xtsync plan` shows of an Organization before the plans of the configurations it
//! generates: its `Ready` as the controller would write it, the configurations (name, labels,
//! pair), the pairs left to another configuration, and the partner settings in force between
//! its members — the ones the gate of each generated configuration reads.

use serde_json::{Value, json};

use crate::access;
use crate::api::policy::EffectivePartnerPolicy;
use crate::controller::world::generated::Generation;
use crate::controller::world::{ManifestWorld, World};

/// The partner settings `tenant` (a member) gives `partner_tenant_id` (another member's Tenant):
/// its policy in force overlaid with its Organizations' `partnerTemplate` (README,
/// "Organizations"), as the gate reads them; the defaults, which deny, without either. The one
/// place `plan` reads them.
pub fn partner_settings(
    world: &ManifestWorld,
    ns: &str,
    tenant: &str,
    partner_tenant_id: &str,
) -> EffectivePartnerPolicy {
    match world.effective_policy(ns, tenant) {
        Some(effective) => effective.for_partner(partner_tenant_id),
        None => access::no_policy(partner_tenant_id),
    }
}

/// One member's settings towards another.
pub struct Partnership {
    pub tenant: String,
    pub partner: String,
    pub settings: EffectivePartnerPolicy,
}

/// An Organization as `plan` shows it.
pub struct OrganizationPlan<'a> {
    pub generation: &'a Generation,
    /// Every ordered pair of members whose Tenants are among the manifests.
    pub partnerships: Vec<Partnership>,
}

/// Each Organization of the world, with the partner settings between its members.
pub fn plans(world: &ManifestWorld) -> Vec<OrganizationPlan<'_>> {
    world
        .generations()
        .iter()
        .map(|generation| {
            let mut partnerships = Vec::new();
            for (tenant, _) in &generation.members {
                for (partner, partner_id) in &generation.members {
                    let Some(partner_id) = partner_id.as_deref().filter(|_| partner != tenant) else {
                        continue;
                    };
                    let settings = partner_settings(world, &generation.namespace, tenant, partner_id);
                    partnerships.push(Partnership {
                        tenant: tenant.clone(),
                        partner: partner.clone(),
                        settings,
                    });
                }
            }
            OrganizationPlan {
                generation,
                partnerships,
            }
        })
        .collect()
}

impl OrganizationPlan<'_> {
    /// `namespace/name`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.generation.namespace, self.generation.name)
    }

    /// The JSON of the README's "Before and after" (`organizations[]`).
    pub fn json(&self) -> Value {
        let generation = self.generation;
        json!({
            "name": self.name(),
            "ready": generation.ready.status,
            "reason": generation.ready.reason,
            "message": generation.ready.message,
            "configurations": generation.configurations.iter().map(|d| json!({
                "name": d.name,
                "labels": d.labels,
                "source": d.pair.source,
                "target": d.pair.target,
            })).collect::<Vec<_>>(),
            "conflicts": generation.conflicts.iter().map(|(pair, other)| json!({
                "source": pair.source,
                "target": pair.target,
                "configuration": other,
            })).collect::<Vec<_>>(),
            "partners": self.partnerships.iter().map(|p| json!({
                "tenant": p.tenant,
                "partner": p.partner,
                "settings": p.settings,
            })).collect::<Vec<_>>(),
        })
    }

    /// The table's lines for people.
    pub fn table(&self) -> String {
        let generation = self.generation;
        let ready = &generation.ready;
        let status = if ready.status { "True" } else { "False" };
        let mut out = format!(
            "Organization {}\n  Ready={status} {}: {}\n",
            self.name(),
            ready.reason,
            ready.message
        );
        let width = generation
            .configurations
            .iter()
            .map(|d| d.name.len())
            .max()
            .unwrap_or(0)
            .max(13);
        if !generation.configurations.is_empty() {
            out.push_str(&format!(
                "  {:<width$} {:<30} LABELS\n",
                "CONFIGURATION", "SOURCE → TARGET"
            ));
        }
        for desired in &generation.configurations {
            let labels: Vec<String> = desired.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!(
                "  {:<width$} {:<30} {}\n",
                desired.name,
                desired.pair.to_string(),
                labels.join(",")
            ));
        }
        for (pair, other) in &generation.conflicts {
            out.push_str(&format!("  {pair}: left to SyncConfiguration '{other}'\n"));
        }
        if !self.partnerships.is_empty() {
            out.push_str(&format!(
                "  {:<30} {:<16} {:<17} {:<16} {}\n",
                "PARTNER SETTINGS", "allowUsersSync", "allowGroupsSync", "inbound redeem", "outbound redeem"
            ));
        }
        for p in &self.partnerships {
            let (inbound, outbound) = (&p.settings.inbound, &p.settings.outbound);
            out.push_str(&format!(
                "  {:<30} {:<16} {:<17} {:<16} {}\n",
                format!("{} → {}", p.tenant, p.partner),
                inbound.allow_users_sync,
                inbound.allow_groups_sync,
                inbound.automatically_redeem_invitations,
                outbound.automatically_redeem_invitations
            ));
        }
        out.push('\n');
        out
    }
}
