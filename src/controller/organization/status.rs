//! An Organization's next status from its verdict, its members and the configurations it
//! generated: pure.

use k8s_openapi::jiff::Timestamp;

use super::decide::{MemberFacts, MemberTenant};
use super::fan_out::Pair;
use crate::api::conditions::{self, Verdict};
use crate::api::organization::{MemberRole, MemberState, MemberStatus, Organization, OrganizationStatus};

/// A generated configuration that exists: its pair and whether it is Ready.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    pub pair: Pair,
    pub ready: bool,
}

/// The status to write. `leaving`: tenants no longer members whose configurations still exist
/// (`fan_out::leaving`); each keeps the tenant id and role the previous status knew.
pub fn next_status(
    organization: &Organization,
    ready: Verdict,
    members: &[MemberFacts],
    leaving: &[String],
    generated: &[Generated],
    now: Timestamp,
) -> OrganizationStatus {
    let previous = organization.status.clone().unwrap_or_default();
    let generation = organization.metadata.generation;
    let count = |tenant: &str| {
        let of: Vec<&Generated> = generated.iter().filter(|g| g.pair.involves(tenant)).collect();
        (count_of(of.len()), count_of(of.iter().filter(|g| g.ready).count()))
    };
    let mut tenants: Vec<MemberStatus> = members
        .iter()
        .map(|m| {
            let (configurations, configurations_ready) = count(&m.name);
            MemberStatus {
                name: m.name.clone(),
                tenant_id: m.found.tenant_id().map(str::to_owned),
                role: m.role,
                state: match m.found {
                    MemberTenant::Ready { .. } => MemberState::Active,
                    _ => MemberState::Pending,
                },
                configurations,
                configurations_ready,
            }
        })
        .collect();
    for name in leaving {
        let known = previous.tenants.iter().find(|t| &t.name == name);
        let (configurations, configurations_ready) = count(name);
        tenants.push(MemberStatus {
            name: name.clone(),
            tenant_id: known.and_then(|t| t.tenant_id.clone()),
            role: known.map_or(MemberRole::Member, |t| t.role),
            state: MemberState::Leaving,
            configurations,
            configurations_ready,
        });
    }
    OrganizationStatus {
        observed_generation: generation,
        conditions: conditions::record(&previous.conditions, ready, generation, now),
        tenants,
        tenant_count: Some(count_of(members.len())),
        configurations: Some(count_of(generated.len())),
        configurations_ready: Some(count_of(generated.iter().filter(|g| g.ready).count())),
        // Entra's part is laid over by `entra_status::overlay`.
        last_entra_check: None,
    }
}

fn count_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Members that joined and tenants that started leaving since `previous`: what the Events say.
pub fn changes(previous: &OrganizationStatus, next: &OrganizationStatus) -> (Vec<String>, Vec<String>) {
    let state_before = |name: &str| previous.tenants.iter().find(|t| t.name == name).map(|t| t.state);
    let joined = next
        .tenants
        .iter()
        .filter(|t| t.state != MemberState::Leaving)
        .filter(|t| matches!(state_before(&t.name), None | Some(MemberState::Leaving)))
        .map(|t| t.name.clone())
        .collect();
    let left = next
        .tenants
        .iter()
        .filter(|t| t.state == MemberState::Leaving)
        .filter(|t| state_before(&t.name) != Some(MemberState::Leaving))
        .map(|t| t.name.clone())
        .collect();
    (joined, left)
}
