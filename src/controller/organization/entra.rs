//! An Organization applied to Entra (README, "Organizations in Entra"): its Microsoft Graph
//! members, from the Tenant cache, as `providers::msgraph::multitenant_org` takes them; the
//! first Graph Owner's organization with the other Graph members, each member's join request,
//! and the two templates from `partnerTemplate` — when Entra is due (`entra_decide::schedule`).
//! Members that are not Graph tenants have no part in Entra's organization.

use std::collections::BTreeSet;

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::runtime::events::EventType;

use super::entra_decide::{self, EntraOutcome, EntraPlan, GraphMember, Refusal, Schedule};
use super::entra_status::EntraStep;
use super::events::{self, OrganizationEventReason};
use crate::api::conditions;
use crate::api::conditions::ConditionReason;
use crate::api::organization::{Organization, OrganizationStatus};
use crate::api::reasons::OrganizationAppliedReason;
use crate::controller::{Context, Error, Vetted, lookup, provider_settings, tenant_directory};
use crate::gate::TenantState;
use crate::providers::msgraph::GraphClient;
use crate::providers::msgraph::multitenant_org::{self, Participant};

/// What the reconcile learnt of Entra, and what the Events say.
pub struct Entra {
    /// The members that are Microsoft Graph tenants.
    pub graph: BTreeSet<String>,
    pub step: EntraStep,
    /// Members whose join failed this time, with Entra's details.
    pub failed_joins: Vec<(String, String)>,
}

impl Entra {
    /// Entra left as last written.
    pub fn kept(ctx: &Context, ns: &str, organization: &Organization) -> Entra {
        let graph = graph_members(ctx, ns, organization);
        Entra {
            step: if graph.is_empty() {
                EntraStep::NotEntra
            } else {
                EntraStep::Kept
            },
            graph: graph.into_iter().map(|m| m.name).collect(),
            failed_joins: Vec::new(),
        }
    }
}

/// Applies the organization to Entra when it is due.
pub async fn check(ctx: &Context, ns: &str, organization: &Organization, now: Timestamp) -> Result<Entra, Error> {
    let previous = organization.status.clone().unwrap_or_default();
    let settings = &ctx.settings;
    let due = entra_decide::schedule(
        &previous,
        organization.metadata.generation,
        now,
        settings.tenant_recheck,
        settings.tenant_retry,
    );
    if matches!(due, Schedule::After(_)) {
        return Ok(Entra::kept(ctx, ns, organization));
    }
    let graph = graph_members(ctx, ns, organization);
    let names = graph.iter().map(|m| m.name.clone()).collect();
    let outcome = match entra_decide::plan(&graph) {
        EntraPlan::NotEntra => {
            return Ok(Entra {
                graph: names,
                step: EntraStep::NotEntra,
                failed_joins: Vec::new(),
            });
        }
        EntraPlan::Refused(refusal) => EntraOutcome::Refused(refusal),
        EntraPlan::Apply { owner, members } => apply(ctx, ns, organization, owner, &members).await?,
    };
    if let EntraOutcome::Applied(applied) = &outcome
        && applied.writes > 0
    {
        tracing::info!(organization = %organization.name_any(), namespace = ns, writes = applied.writes, "multitenant organization applied to Entra");
    }
    Ok(Entra {
        step: EntraStep::Checked {
            applied: entra_decide::applied(&graph, &outcome),
            active: entra_decide::active_members(&graph, &outcome),
        },
        failed_joins: entra_decide::failed_joins(&graph, &outcome),
        graph: names,
    })
}

/// Opens every Graph member's client, then applies.
async fn apply(
    ctx: &Context,
    ns: &str,
    organization: &Organization,
    owner: &GraphMember,
    members: &[&GraphMember],
) -> Result<EntraOutcome, Error> {
    let owner_client = match open(ctx, ns, owner).await? {
        Ok(client) => client,
        Err(outcome) => return Ok(outcome),
    };
    let mut member_clients = Vec::with_capacity(members.len());
    for member in members {
        match open(ctx, ns, member).await? {
            Ok(client) => member_clients.push(client),
            Err(outcome) => return Ok(outcome),
        }
    }
    let participant = |member: &GraphMember, client| Participant {
        tenant_id: member.tenant_id.clone(),
        display_name: member.display_name.clone(),
        role: provider_settings::organization_role(member.role),
        cloud: member.cloud,
        client,
    };
    let owner = participant(owner, &owner_client);
    let members: Vec<Participant<'_>> = members
        .iter()
        .zip(&member_clients)
        .map(|(m, c)| participant(m, c))
        .collect();
    let wanted = multitenant_org::Organization {
        display_name: organization
            .spec
            .display_name
            .clone()
            .unwrap_or_else(|| organization.name_any()),
        description: None,
    };
    let templates = provider_settings::organization_templates(organization.spec.partner_template.as_ref());
    Ok(
        match multitenant_org::apply(&wanted, &owner, &members, &templates).await {
            Ok(applied) => EntraOutcome::Applied(applied),
            Err(error) => EntraOutcome::Failed(error),
        },
    )
}

/// A Graph member's client, or why there is none.
async fn open(ctx: &Context, ns: &str, member: &GraphMember) -> Vetted<GraphClient, EntraOutcome> {
    // Gone from the cache, or no Graph tenant any more, since the plan: the next reconcile sees it.
    let not_ready = || EntraOutcome::Refused(Refusal::TenantNotReady(vec![member.name.clone()]));
    let Some(tenant) = lookup::tenant(&ctx.tenants, ns, &member.name) else {
        return Ok(Err(not_ready()));
    };
    Ok(match tenant_directory::graph_client(ctx, ns, &tenant).await? {
        Ok(Some(client)) => Ok(client),
        Ok(None) => Err(not_ready()),
        Err(problem) => Err(EntraOutcome::Unusable {
            tenant: member.name.clone(),
            problem,
        }),
    })
}

/// The members whose Tenant exists and is a Microsoft Graph tenant, in spec order.
fn graph_members(ctx: &Context, ns: &str, organization: &Organization) -> Vec<GraphMember> {
    organization
        .spec
        .tenants
        .iter()
        .filter_map(|member| {
            let tenant = lookup::tenant(&ctx.tenants, ns, &member.tenant_ref.name)?;
            tenant.spec.directory.msgraph.as_ref()?;
            Some(GraphMember {
                name: member.tenant_ref.name.clone(),
                tenant_id: tenant.spec.tenant_id.to_ascii_lowercase(),
                display_name: tenant
                    .spec
                    .display_name
                    .clone()
                    .unwrap_or_else(|| member.tenant_ref.name.clone()),
                role: member.role,
                cloud: provider_settings::organization_cloud(tenant.spec.cloud),
                ready: matches!(lookup::tenant_state(Some(&tenant)), TenantState::Ready(_)),
            })
        })
        .collect()
}

/// Events for the Graph members whose join Entra completed, and those whose join failed.
pub async fn tell(
    ctx: &Context,
    organization: &Organization,
    previous: &OrganizationStatus,
    next: &OrganizationStatus,
    entra: &Entra,
) {
    for tenant in super::entra_status::joined(previous, next, &entra.graph) {
        let note = format!("Tenant '{tenant}' is active in Entra's multitenant organization: its join is complete");
        events::publish(
            ctx,
            organization,
            &tenant,
            EventType::Normal,
            OrganizationEventReason::EntraJoinCompleted,
            &note,
        )
        .await;
    }
    // A failure Entra still reports is told again only when what `Applied` says changes.
    let applied = |status: &OrganizationStatus| {
        conditions::find(&status.conditions, OrganizationAppliedReason::TYPE)
            .map(|c| (c.reason.clone(), c.message.clone()))
    };
    if applied(previous) == applied(next) {
        return;
    }
    for (tenant, details) in &entra.failed_joins {
        let note = format!("Tenant '{tenant}' could not join Entra's multitenant organization {details}");
        events::publish(
            ctx,
            organization,
            tenant,
            EventType::Warning,
            OrganizationEventReason::EntraJoinFailed,
            &note,
        )
        .await;
    }
}
