//! Entra's part of an Organization, decided from facts already gathered: pure. Which members
//! form Entra's multitenant organization and who creates it (`plan`), what `Applied` says of
//! the outcome (`applied`, its reason through one exhaustive match), which members Entra
//! reports active (`active_members`), and when Entra is looked at again (`schedule`).

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use strum::IntoEnumIterator;

use crate::api::conditions::{self, ConditionReason, Verdict};
use crate::api::organization::{MemberRole, OrganizationStatus};
use crate::api::reasons::OrganizationAppliedReason;
use crate::providers::msgraph::multitenant_org::{self, ApplyError, EntraCloud, EntraMemberState, Reported};
use crate::providers::{ConnectError, DirectoryError};

/// A member whose Tenant is a Microsoft Graph tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphMember {
    /// The Tenant's name.
    pub name: String,
    /// `spec.tenantId`, in lower case.
    pub tenant_id: String,
    /// The name the owner lists it under: the Tenant's `displayName`, else its name.
    pub display_name: String,
    pub role: MemberRole,
    pub cloud: EntraCloud,
    pub ready: bool,
}

/// Why nothing is sent to Entra.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    NoOwner,
    UnsupportedCloud { tenant: String, cloud: EntraCloud },
    TenantNotReady(Vec<String>),
}

/// What to do in Entra.
#[derive(Debug, PartialEq, Eq)]
pub enum EntraPlan<'a> {
    /// No member is a Graph tenant: no `Applied` condition.
    NotEntra,
    Refused(Refusal),
    /// The first Graph Owner creates the organization; every other Graph member joins it.
    Apply {
        owner: &'a GraphMember,
        members: Vec<&'a GraphMember>,
    },
}

/// The plan for `graph` (in spec order), checks in this order: an Owner among them, their
/// clouds (Microsoft Learn marks the multitenant organization APIs unavailable outside the
/// global service: no request can help), their Tenants Ready.
pub fn plan(graph: &[GraphMember]) -> EntraPlan<'_> {
    if graph.is_empty() {
        return EntraPlan::NotEntra;
    }
    let Some(owner) = graph.iter().find(|m| m.role == MemberRole::Owner) else {
        return EntraPlan::Refused(Refusal::NoOwner);
    };
    if let Some(m) = graph.iter().find(|m| !m.cloud.has_multitenant_organizations()) {
        return EntraPlan::Refused(Refusal::UnsupportedCloud {
            tenant: m.name.clone(),
            cloud: m.cloud,
        });
    }
    let not_ready: Vec<String> = graph.iter().filter(|m| !m.ready).map(|m| m.name.clone()).collect();
    if !not_ready.is_empty() {
        return EntraPlan::Refused(Refusal::TenantNotReady(not_ready));
    }
    EntraPlan::Apply {
        owner,
        members: graph.iter().filter(|m| !std::ptr::eq(*m, owner)).collect(),
    }
}

/// How applying the organization to Entra went.
#[derive(Debug)]
pub enum EntraOutcome {
    Refused(Refusal),
    /// A member's Graph client could not be opened (its Secret, certificate, …).
    Unusable {
        tenant: String,
        problem: ConnectError,
    },
    Applied(multitenant_org::EntraApplied),
    Failed(ApplyError),
}

/// Where a member stands in Entra, named by its Tenant.
#[derive(Debug, PartialEq, Eq)]
struct Standing<'a> {
    name: &'a str,
    report: &'a Reported,
}

fn standings<'a>(graph: &'a [GraphMember], applied: &'a multitenant_org::EntraApplied) -> Vec<Standing<'a>> {
    graph
        .iter()
        .filter_map(|m| {
            let report = applied.tenants.iter().find(|r| r.tenant_id == m.tenant_id)?;
            Some(Standing { name: &m.name, report })
        })
        .collect()
}

fn failed(report: &Reported) -> bool {
    report.member_elsewhere.is_some()
        || report
            .transition
            .as_ref()
            .is_some_and(|t| t.status.as_deref() == Some("failed"))
}

/// The Graph members Entra reports active; `None` when Entra reported nothing this time.
pub fn active_members(graph: &[GraphMember], outcome: &EntraOutcome) -> Option<BTreeSet<String>> {
    match outcome {
        EntraOutcome::Applied(applied) => Some(
            standings(graph, applied)
                .iter()
                .filter(|s| s.report.state == EntraMemberState::Active)
                .map(|s| s.name.to_owned())
                .collect(),
        ),
        EntraOutcome::Refused(_) | EntraOutcome::Unusable { .. } | EntraOutcome::Failed(_) => None,
    }
}

/// `Applied`, with a message naming the tenants concerned.
pub fn applied(graph: &[GraphMember], outcome: &EntraOutcome) -> Verdict {
    let reason = applied_reason(graph, outcome);
    let message = match outcome {
        EntraOutcome::Refused(Refusal::NoOwner) => format!(
            "no Microsoft Graph member ({}) has role Owner: only a Graph tenant can create Entra's multitenant organization",
            quoted(graph.iter().map(|m| m.name.as_str()))
        ),
        EntraOutcome::Refused(Refusal::UnsupportedCloud { tenant, cloud }) => format!(
            "Tenant '{tenant}' is in the {cloud} cloud: Microsoft Graph offers multitenant organizations in the global service only; nothing is sent"
        ),
        EntraOutcome::Refused(Refusal::TenantNotReady(names)) => format!(
            "Tenant {} not Ready; Entra's multitenant organization is applied once every Graph member is",
            quoted(names.iter().map(String::as_str))
        ),
        EntraOutcome::Unusable { tenant, problem } => format!("Tenant '{tenant}': {problem}"),
        EntraOutcome::Applied(applied) => applied_message(graph, applied),
        EntraOutcome::Failed(ApplyError::Directory {
            tenant_id,
            source: DirectoryError::Rejected { status: 403, .. },
        }) => format!(
            "Entra refused a change in tenant {tenant_id}: the app needs the application permissions MultiTenantOrganization.ReadWrite.All and Policy.ReadWrite.CrossTenantAccess"
        ),
        EntraOutcome::Failed(error) => format!("applying the multitenant organization failed: {error}"),
    };
    Verdict::new(
        matches!(
            reason,
            OrganizationAppliedReason::Applied | OrganizationAppliedReason::Joining
        ),
        reason,
        message,
    )
}

fn applied_message(graph: &[GraphMember], applied: &multitenant_org::EntraApplied) -> String {
    let standings = standings(graph, applied);
    let owner = standings.first().map(|s| s.name).unwrap_or_default();
    let mut message = format!(
        "Entra's multitenant organization, created by '{owner}', holds the {} Microsoft Graph member(s) and their templates",
        standings.len()
    );
    let notes: Vec<String> = standings
        .iter()
        .filter(|s| s.report.state != EntraMemberState::Active)
        .map(|s| format!("'{}' {}", s.name, standing_note(s.report)))
        .collect();
    if notes.is_empty() {
        message.push_str(", all active");
    } else {
        message.push_str(&format!("; not active yet: {}", notes.join(", ")));
    }
    message
}

/// A member not active yet: its state and the transition Entra reports.
pub fn standing_note(report: &Reported) -> String {
    if let Some(owner) = &report.member_elsewhere {
        return format!(
            "is active in the multitenant organization of tenant {owner} (a tenant belongs to one at most: it must leave that one first)"
        );
    }
    let state = match &report.state {
        EntraMemberState::Pending => "pending".to_owned(),
        EntraMemberState::Active => "active".to_owned(),
        EntraMemberState::Removed => "removed".to_owned(),
        EntraMemberState::NotListed => "not listed".to_owned(),
        EntraMemberState::Other(other) => other.clone(),
    };
    match &report.transition {
        None => format!("({state})"),
        Some(t) => {
            let field = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
            let details = t.details.as_deref().filter(|d| !d.is_empty());
            format!(
                "({state}; towards {}: {}{})",
                field(&t.desired_state),
                field(&t.status),
                details.map(|d| format!(", {d}")).unwrap_or_default()
            )
        }
    }
}

/// The `Applied` reason of an outcome, each cause its own.
fn applied_reason(graph: &[GraphMember], outcome: &EntraOutcome) -> OrganizationAppliedReason {
    use OrganizationAppliedReason as R;
    match outcome {
        EntraOutcome::Refused(Refusal::NoOwner) => R::NoOwner,
        EntraOutcome::Refused(Refusal::UnsupportedCloud { .. }) => R::UnsupportedCloud,
        EntraOutcome::Refused(Refusal::TenantNotReady(_)) => R::TenantNotReady,
        EntraOutcome::Applied(applied) => {
            let standings = standings(graph, applied);
            if standings.iter().any(|s| failed(s.report)) {
                R::JoinFailed
            } else if standings.iter().all(|s| s.report.state == EntraMemberState::Active) {
                R::Applied
            } else {
                R::Joining
            }
        }
        EntraOutcome::Unusable { problem, .. } => match problem {
            ConnectError::SecretNotFound(_) => R::SecretNotFound,
            ConnectError::SecretNotAllowed(_) => R::SecretNotAllowed,
            ConnectError::UnsupportedCloud(_) => R::UnsupportedCloud,
            ConnectError::AuthenticationFailed(_) => R::AuthenticationFailed,
            ConnectError::InvalidSpec(_) => R::InvalidTenantSpec,
            ConnectError::InvalidCertificate(_) => R::InvalidCertificate,
            ConnectError::InvalidCABundle(_) => R::InvalidCABundle,
            ConnectError::LoginEndpointNotTrusted(_) => R::LoginEndpointNotTrusted,
        },
        EntraOutcome::Failed(ApplyError::UnsupportedCloud { .. }) => R::UnsupportedCloud,
        EntraOutcome::Failed(ApplyError::NotAnOwner { .. }) => R::NotAnOwner,
        EntraOutcome::Failed(ApplyError::Directory { source, .. }) => match source {
            DirectoryError::Rejected { status: 403, .. } => R::Forbidden,
            DirectoryError::AuthenticationFailed { .. } => R::AuthenticationFailed,
            DirectoryError::Throttled { .. } => R::Throttled,
            DirectoryError::Unreachable(_) => R::Unreachable,
            DirectoryError::Rejected { .. }
            | DirectoryError::Refused { .. }
            | DirectoryError::PreconditionFailed
            | DirectoryError::Unsupported(_)
            | DirectoryError::NotFound => R::Rejected,
            DirectoryError::InvalidResponse(_) | DirectoryError::Stopped => R::InvalidResponse,
        },
    }
}

/// Graph members whose join failed this time, with what Entra says: for the Events.
pub fn failed_joins(graph: &[GraphMember], outcome: &EntraOutcome) -> Vec<(String, String)> {
    match outcome {
        EntraOutcome::Applied(applied) => standings(graph, applied)
            .iter()
            .filter(|s| failed(s.report))
            .map(|s| (s.name.to_owned(), standing_note(s.report)))
            .collect(),
        EntraOutcome::Refused(_) | EntraOutcome::Unusable { .. } | EntraOutcome::Failed(_) => Vec::new(),
    }
}

/// When Entra is looked at again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// At this reconcile.
    Now,
    /// Not before this much time has passed.
    After(Duration),
    /// At any reconcile: the last answer cost no request (a refusal decided from the cluster),
    /// so deciding again is free, and waits for a change.
    OnChange,
}

/// The shortest wait after a failure; it then grows with the time the failure has lasted
/// (each retry waits about as long as the failure has lasted: an exponential backoff).
pub const FIRST_RETRY: Duration = Duration::from_secs(5);

/// When Entra is due after `status`: every reconcile brings the Organization here (each
/// generated configuration's status change does), and each look at Entra costs a few
/// requests per member. A new generation is due at once; an organization in place is read
/// again after `recheck`, a join under way after `retry`, a failure after a backoff capped at
/// `recheck`.
pub fn schedule(
    status: &OrganizationStatus,
    generation: Option<i64>,
    now: Timestamp,
    recheck: Duration,
    retry: Duration,
) -> Schedule {
    use OrganizationAppliedReason as R;
    let condition = conditions::find(&status.conditions, R::TYPE);
    let (Some(condition), Some(checked)) = (condition, &status.last_entra_check) else {
        return Schedule::Now;
    };
    if condition.observed_generation != generation {
        return Schedule::Now;
    }
    let Some(reason) = R::iter().find(|r| r.as_str() == condition.reason) else {
        return Schedule::Now;
    };
    let elapsed = |since: Timestamp| Duration::try_from(now.duration_since(since)).unwrap_or_default();
    let interval = match reason {
        R::NoOwner | R::UnsupportedCloud | R::TenantNotReady => return Schedule::OnChange,
        R::Applied => recheck,
        R::Joining | R::JoinFailed => retry,
        R::NotAnOwner
        | R::Forbidden
        | R::SecretNotFound
        | R::SecretNotAllowed
        | R::AuthenticationFailed
        | R::InvalidTenantSpec
        | R::InvalidCertificate
        | R::InvalidCABundle
        | R::LoginEndpointNotTrusted
        | R::Throttled
        | R::Unreachable
        | R::Rejected
        | R::InvalidResponse => {
            let failing_for =
                Duration::try_from(checked.0.duration_since(condition.last_transition_time.0)).unwrap_or_default();
            failing_for.clamp(FIRST_RETRY, recheck)
        }
    };
    match interval.checked_sub(elapsed(checked.0)) {
        Some(left) if !left.is_zero() => Schedule::After(left),
        _ => Schedule::Now,
    }
}

fn quoted<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}
