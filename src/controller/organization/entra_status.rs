//! Entra's part of an Organization's next status, laid over what `status::next_status` made:
//! pure. The `Applied` condition, `status.lastEntraCheck`, and the state of each Microsoft
//! Graph member, which is `Active` only once its Tenant is Ready and Entra reports it active.

use std::collections::BTreeSet;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use crate::api::conditions::{self, ConditionReason, Verdict};
use crate::api::organization::{MemberState, OrganizationStatus};
use crate::api::reasons::OrganizationAppliedReason;

/// What this reconcile learnt of Entra.
#[derive(Clone, Debug, PartialEq)]
pub enum EntraStep {
    /// No member is a Microsoft Graph tenant: no `Applied` condition.
    NotEntra,
    /// Entra was not looked at (not due, or the Organization is being deleted or its spec
    /// unusable): everything as last written.
    Kept,
    /// Entra was looked at (or the cluster alone decided why not).
    Checked {
        applied: Verdict,
        /// The Graph members Entra reports active; `None` when it reported nothing this time
        /// (a refusal, a failure): the states last written stand.
        active: Option<BTreeSet<String>>,
    },
}

/// Lays `step` over `next`. `graph`: the members that are Microsoft Graph tenants.
pub fn overlay(
    next: &mut OrganizationStatus,
    previous: &OrganizationStatus,
    graph: &BTreeSet<String>,
    step: &EntraStep,
    now: Timestamp,
) {
    let active = match step {
        EntraStep::NotEntra => {
            next.conditions.retain(|c| c.type_ != OrganizationAppliedReason::TYPE);
            next.last_entra_check = None;
            return;
        }
        EntraStep::Kept => {
            next.last_entra_check = previous.last_entra_check.clone();
            None
        }
        EntraStep::Checked { applied, active } => {
            next.conditions = conditions::record(&next.conditions, applied.clone(), next.observed_generation, now);
            next.last_entra_check = Some(Time(now));
            active.as_ref()
        }
    };
    let was_active = |name: &str| {
        previous
            .tenants
            .iter()
            .any(|t| t.name == name && t.state == MemberState::Active)
    };
    for member in next.tenants.iter_mut() {
        if member.state != MemberState::Active || !graph.contains(&member.name) {
            continue;
        }
        let in_entra = match active {
            Some(active) => active.contains(&member.name),
            None => was_active(&member.name),
        };
        if !in_entra {
            member.state = MemberState::Pending;
        }
    }
}

/// Graph members that became `Active` since `previous`: Entra completed their join.
pub fn joined(previous: &OrganizationStatus, next: &OrganizationStatus, graph: &BTreeSet<String>) -> Vec<String> {
    next.tenants
        .iter()
        .filter(|t| t.state == MemberState::Active && graph.contains(&t.name))
        .filter(|t| {
            !previous
                .tenants
                .iter()
                .any(|p| p.name == t.name && p.state == MemberState::Active)
        })
        .map(|t| t.name.clone())
        .collect()
}
